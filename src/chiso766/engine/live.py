"""Materialised facts and counters kept current incrementally (DESIGN: real time; issue "Engine" item 6).

``rebuild(periods, as_of)`` computes every unit × period from scratch into ``mat_*`` tables.
``apply_changes(as_of)`` then brings them up to date from the ``changes`` log written by ingestion:

- a dossier's (or PAKN's) facts depend only on its own records, the catalogue and the calendar, so only the
  changed records' fact rows are recomputed (``scope_table``); the counters move by the difference between
  their new and old rows, summed over ``unit_closure`` ancestors — cost grows with the changed records.
  Dossier facts are kept compact (:mod:`chiso766.engine.dossier_counts`): ``mat_dossier_facts`` holds only the
  rows judged at a horizon and one final-facts row per dossier (``period_id = '*'``), ``mat_dossier_bounds``
  each dossier's judging instants; the settled and open (period, dossier) rows they stand for are counted,
  never written, and an update counts a changed dossier's old rows at the old as-of, its new ones at the new;
- catalogue indicators count DISTINCT procedures, which a difference cannot express. Their dossier-driven rows
  (3.2, 3.5, 3.5b, 4.5a) depend only on per-(period, unit, TTHC) dossier counts (``mat_dossier_usage``), which
  do move by differences: each dossier's arrival facts are kept (``mat_dossier_arrivals``), its old row gives
  its old contribution and the recomputed one its new one. Only the (period, TTHC, unit tree) whose counts
  crossed zero get their catalogue rows recomputed, from those counts, so ``dossiers`` is read for the changed
  ids only; only the rows that differ are written, and the catalogue counters move by those rows' old and new
  contributions per item (:mod:`chiso766.engine.catalogue_delta`) instead of being recounted;
- the changed dossiers' records are copied once per update (``live_scope_*``) and every lookup by dossier id
  also carries the ids' range as constants, so a store kept in id order is not scanned for a day's dossiers;
- time moves scores too (DESIGN): for provisional periods the new ``as_of`` re-judges every item whose facts
  can change with the clock (still open or pending, or with an event between the old and the new as-of);
- unit or catalogue changes (rare) fall back to a full rebuild.

A full rebuild and any sequence of incremental updates give identical tables (tested on generated data). Each
rebuild and each update is one transaction: one that fails (out of memory, an error) leaves the previous state,
watermark included, so the next update starts from a consistent state (tested by failing an update midway).
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

import duckdb

from chiso766.domain.periods import Period
from chiso766.engine.catalogue_delta import catalogue_delta_sql
from chiso766.engine.counters import (
    DOSSIER_INDICATORS,
    PETITION_INDICATORS,
    FactsOptions,
    counters_parts_sql,
    fact_sums_sql,
    online_column,
    pooled_sums_sql,
)
from chiso766.engine.dossier_counts import dossier_delta_sql
from chiso766.engine.facts_catalogue import (
    CATALOGUE_INDICATORS,
    DOSSIER_DRIVEN,
    USAGE_COUNTS,
    catalogue_counts_sql,
    catalogue_facts_sql,
    catalogue_static_sql,
    dossier_arrivals_sql,
    dossier_usage_sql,
)
from chiso766.engine.facts_dossiers import SCOPED_TABLES, dossier_bounds_sql, dossier_facts_sql
from chiso766.engine.facts_petitions import petition_facts_sql
from chiso766.engine.structure import STRUCTURE_DDL, load_calendar_table, period_rows, rebuild_unit_closure
from chiso766.engine.usage import unit_tree_sql
from chiso766.methodology.model import Methodology
from chiso766.store.db import Store, memory_limit_bytes

log = logging.getLogger(__name__)

MAT_PERIODS = "mat_periods"
SCOPE_PREFIX = "live_scope_"
"""Prefix of the per-update copies of the changed dossiers' records (see ``LiveIndex._copy_dossier_records``)."""
STATIC_TABLES = ("mat_catalogue_static_items", "mat_catalogue_static_pooled")


@dataclass(frozen=True)
class UpdateReport:
    """What one incremental update touched."""

    dossiers: int
    petitions: int
    periods: int
    full_rebuild: bool
    seconds: float


class LiveIndex:
    """Materialised facts and counters for a fixed set of periods, updated from the ``changes`` log."""

    def __init__(self, store: Store, methodology: Methodology, options: FactsOptions | None = None) -> None:
        self.store = store
        self.con: duckdb.DuckDBPyConnection = store.connection
        self.methodology = methodology
        self.options = options or FactsOptions()
        self._online = online_column(methodology)
        self._id_range = "FALSE"  # the changed dossier ids' range, as SQL (set per update)
        self._atomic_depth = 0

    @contextmanager
    def _atomic(self) -> Iterator[None]:
        """One transaction around a rebuild or an update (re-entrant: an update may rebuild). On any error the
        ``mat_*`` tables and the watermark stay as they were; without it, a failure after some fact rows were
        replaced but before the counters moved would make the next update miss that difference for good."""
        if self._atomic_depth:
            self._atomic_depth += 1
            try:
                yield
            finally:
                self._atomic_depth -= 1
            return
        self.con.execute("BEGIN TRANSACTION")
        self._atomic_depth = 1
        try:
            yield
        except BaseException:
            self._atomic_depth = 0
            self.con.execute("ROLLBACK")
            raise
        self._atomic_depth = 0
        self.con.execute("COMMIT")

    # --- full rebuild ------------------------------------------------------------------------------------
    def rebuild(self, periods: Sequence[Period], as_of: datetime | None = None) -> None:
        """Compute facts and counters of ``periods`` from scratch; the change log watermark moves to now."""
        with self._atomic():
            self._rebuild(periods, as_of)

    def _rebuild(self, periods: Sequence[Period], as_of: datetime | None) -> None:
        started = time.perf_counter()
        con = self.con
        watermark = self._latest_change()
        load_calendar_table(con)
        rebuild_unit_closure(con)
        con.execute(f"DROP TABLE IF EXISTS {MAT_PERIODS}")
        con.execute(STRUCTURE_DDL["period_structure"].replace("period_structure", MAT_PERIODS))
        con.executemany(f"INSERT INTO {MAT_PERIODS} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", period_rows(periods, as_of))
        self._use_periods(f"SELECT * FROM {MAT_PERIODS}")
        d = self.options.dialect
        codes = tuple(self.options.population_db_codes)
        # The facts and counters are written once, straight into their mat_* tables (the same SQL as
        # Engine.prepare). Counters and catalogue facts are stored ordered by period, so an update touching a
        # few periods reads only their row groups (min/max pruning); the large facts tables are updated by
        # record id instead.
        # Dossiers: the compact facts (judged rows and final facts) and each dossier's bounds; the settled and
        # unknown (period, dossier) rows they stand for are counted without being written (dossier_counts).
        self._rebuild_dossier_facts()
        con.execute("DROP TABLE IF EXISTS mat_petition_facts")
        con.execute(f"CREATE TABLE mat_petition_facts AS {petition_facts_sql(d)}")
        # The dossier-driven catalogue rows read dossiers only through these (see _update_usage); the catalogue
        # facts are built from the same materialised counts (catalogue_facts_sql's usage_table: identical rows).
        con.execute("DROP TABLE IF EXISTS mat_dossier_procedures")  # replaced by mat_dossier_arrivals
        con.execute("DROP TABLE IF EXISTS mat_dossier_arrivals")
        con.execute(f"CREATE TABLE mat_dossier_arrivals AS {dossier_arrivals_sql(codes)}")
        con.execute("DROP TABLE IF EXISTS mat_dossier_usage")
        usage = dossier_usage_sql("mat_dossier_arrivals", MAT_PERIODS)
        con.execute(f"CREATE TABLE mat_dossier_usage AS SELECT * FROM ({usage}) u ORDER BY period_id")
        catalogue = catalogue_facts_sql(d, population_db_codes=codes, usage_table="mat_dossier_usage")
        con.execute("DROP TABLE IF EXISTS mat_catalogue_facts")
        # Computed first, sorted after: the sort holding memory while the query's joins and aggregates do exceeds a
        # memory limit that each of the two steps stays within (both spill to disk; see Store's memory_limit).
        con.execute("DROP TABLE IF EXISTS live_catalogue_unsorted")
        con.execute(f"CREATE TEMP TABLE live_catalogue_unsorted AS {catalogue}")
        con.execute("CREATE TABLE mat_catalogue_facts AS SELECT * FROM live_catalogue_unsorted ORDER BY period_id")
        con.execute("DROP TABLE live_catalogue_unsorted")
        # The static halves of the catalogue counts, kept for the updates (see _refresh_catalogue).
        static_items, static_pooled = catalogue_static_sql("mat_catalogue_facts")
        for table, sql in (
            ("mat_catalogue_static_items", static_items),
            ("mat_catalogue_static_pooled", static_pooled),
        ):
            con.execute(f"DROP TABLE IF EXISTS {table}")
            con.execute(
                f"CREATE TABLE {table} AS {sql.replace('FROM static_items', 'FROM mat_catalogue_static_items')}"
            )
        # Each part is inserted clustered by period, one after the other. The first (dossiers: the largest) comes
        # out ordered without sorting its long rows (its small wide table is sorted); the others are computed,
        # then sorted (as the catalogue facts above: two steps that each fit a memory limit the single one exceeds).
        parts = functools.partial(
            counters_parts_sql,
            self.methodology,
            dossier_facts="mat_dossier_facts",
            petition_facts="mat_petition_facts",
            catalogue_facts="mat_catalogue_facts",
            catalogue_static=STATIC_TABLES,
            dossier_bounds="mat_dossier_bounds",
            dialect=d,
        )
        first, others = parts(ordered=True)[0], parts(ordered=False)[1:]
        con.execute("DROP TABLE IF EXISTS mat_counters")
        con.execute(f"CREATE TABLE mat_counters AS {first}")
        for part in others:
            con.execute("DROP TABLE IF EXISTS live_counters_unsorted")
            con.execute(f"CREATE TEMP TABLE live_counters_unsorted AS {part}")
            con.execute("INSERT INTO mat_counters SELECT * FROM live_counters_unsorted ORDER BY period_id")
            con.execute("DROP TABLE live_counters_unsorted")
        for table in ("dossier_facts", "petition_facts", "catalogue_facts", "counters"):
            con.execute(f"DROP TABLE IF EXISTS {table}")  # as before: no stale plain facts next to the mat_ ones
        con.execute("CREATE TABLE IF NOT EXISTS live_state (watermark TIMESTAMP, as_of TIMESTAMP)")
        con.execute("DELETE FROM live_state")
        con.execute("INSERT INTO live_state VALUES (?, ?)", [watermark, None])
        log.info("live rebuild: %d periods in %.2f s", len(periods), time.perf_counter() - started)

    def _rebuild_dossier_facts(self) -> None:
        """``mat_dossier_facts`` and ``mat_dossier_bounds`` from scratch, in chunks of dossier ids when the store
        holds more dossiers than :meth:`_chunk_size`. A dossier's facts depend only on its own records, the
        catalogue and the calendar (what an update relies on too), so each chunk is computed as an update's
        changed dossiers are — records copied once, the scoped SQL — and the memory a chunk needs follows the
        chunk, not the store (the facts' joins and windows do not all spill to disk)."""
        con = self.con
        d = self.options.dialect
        codes = tuple(self.options.population_db_codes)
        for table in ("mat_dossier_facts", "mat_dossier_bounds"):
            con.execute(f"DROP TABLE IF EXISTS {table}")
        bounds = self._chunk_bounds(self._chunk_size())
        if len(bounds) < 2:
            con.execute(
                f"CREATE TABLE mat_dossier_facts AS {dossier_facts_sql(d, population_db_codes=codes, output='compact')}"
            )
            con.execute(f"CREATE TABLE mat_dossier_bounds AS {dossier_bounds_sql(d, population_db_codes=codes)}")
            return
        scoped = {"scope_table": "live_dossiers", "scope_prefix": SCOPE_PREFIX}
        facts = dossier_facts_sql(d, population_db_codes=codes, output="compact", **scoped)
        bounds_sql = dossier_bounds_sql(d, population_db_codes=codes, **scoped)
        for i, low in enumerate([None, *bounds]):
            high = bounds[i] if i < len(bounds) else None
            where = " AND ".join(
                [
                    *([f"dossier_id >= {_literal(low)}"] if low is not None else []),
                    *([f"dossier_id < {_literal(high)}"] if high is not None else []),
                ]
            )
            con.execute("DROP TABLE IF EXISTS live_dossiers")
            con.execute(f"CREATE TEMP TABLE live_dossiers AS SELECT dossier_id FROM dossiers WHERE {where}")
            self._copy_dossier_records()
            for table, sql in (("mat_dossier_facts", facts), ("mat_dossier_bounds", bounds_sql)):
                if i == 0:
                    con.execute(f"CREATE TABLE {table} AS {sql}")
                else:
                    con.execute(f"INSERT INTO {table} {sql}")
        for table in ("live_dossiers", *(f"{SCOPE_PREFIX}{t}" for t in SCOPED_TABLES)):
            con.execute(f"DROP TABLE IF EXISTS {table}")  # the last chunk's copies: memory, until the next update
        log.info("live rebuild: dossier facts in %d chunks", len(bounds) + 1)

    def _chunk_size(self) -> int:
        """Dossiers per facts chunk: about one per kilobyte of the store's memory limit (the facts of 1 M
        dossiers needed 200–400 MB in DuckDB, measured), at least 100,000."""
        return max(100_000, memory_limit_bytes(self.store.memory_limit) // 1_000)

    def _chunk_bounds(self, size: int) -> list[str]:
        """Ascending dossier ids splitting ``dossiers`` into chunks of about ``size`` (none when it fits in one),
        from a fixed sample (the same chunks for the same store)."""
        row = self.con.execute("SELECT COUNT(*) FROM dossiers").fetchone()
        total = int(row[0]) if row else 0
        chunks = -(-total // size)
        if chunks < 2:
            return []
        sample = [
            str(r[0])
            for r in self.con.execute(
                "SELECT dossier_id FROM dossiers USING SAMPLE reservoir(100000 ROWS) REPEATABLE (766) ORDER BY 1"
            ).fetchall()
        ]
        picked = {sample[len(sample) * k // chunks] for k in range(1, chunks)}
        return sorted(picked)

    # --- incremental update ------------------------------------------------------------------------------
    def apply_changes(self, as_of: datetime | None = None) -> UpdateReport:
        """Bring the materialised tables up to date with the change log (and the clock, for ``as_of``)."""
        with self._atomic():
            return self._apply_changes(as_of)

    def _apply_changes(self, as_of: datetime | None) -> UpdateReport:
        started = time.perf_counter()
        con = self.con
        state = con.execute("SELECT watermark FROM live_state").fetchone()
        watermark = state[0] if state else None
        latest = self._latest_change()
        since = "recorded_at > $w" if watermark is not None else "TRUE"
        params = {"w": watermark} if watermark is not None else {}
        kinds = {row[0] for row in con.execute(f"SELECT DISTINCT kind FROM changes WHERE {since}", params).fetchall()}
        # A store materialised before the compact dossier facts has no bounds table: rebuild it once.
        compact = con.execute(
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_name = 'mat_dossier_bounds'"
        ).fetchone()
        if kinds & {"unit", "procedure", "publication"} or not (compact and compact[0]):
            periods = self._periods()
            self.rebuild(periods, as_of)
            return UpdateReport(0, 0, len(periods), True, time.perf_counter() - started)

        con.execute("DROP TABLE IF EXISTS live_dossiers")
        con.execute(
            f"CREATE TEMP TABLE live_dossiers AS SELECT DISTINCT record_key AS dossier_id FROM changes "
            f"WHERE kind = 'dossier' AND {since}",
            params,
        )
        con.execute("DROP TABLE IF EXISTS live_petitions")
        con.execute(
            f"CREATE TEMP TABLE live_petitions AS SELECT DISTINCT record_key AS petition_id FROM changes "
            f"WHERE kind = 'petition' AND {since}",
            params,
        )
        # A PAKN linked to a dossier changes that dossier's 5.4 fact (D-5.4-1).
        con.execute(
            "INSERT INTO live_dossiers SELECT DISTINCT p.dossier_id FROM petitions p "
            "JOIN live_petitions l ON l.petition_id = p.petition_id WHERE p.dossier_id IS NOT NULL "
            "AND p.dossier_id NOT IN (SELECT dossier_id FROM live_dossiers)"
        )
        # The periods as the stored rows were judged (the old contributions are counted at the old as-of).
        con.execute("DROP TABLE IF EXISTS live_old_periods")
        con.execute(f"CREATE TEMP TABLE live_old_periods AS SELECT * FROM {MAT_PERIODS}")
        moved = self._advance_clock(as_of) if as_of is not None else []
        dossiers = con.execute("SELECT COUNT(*) FROM live_dossiers").fetchone()
        petitions = con.execute("SELECT COUNT(*) FROM live_petitions").fetchone()
        n_dossiers = int(dossiers[0]) if dossiers else 0
        n_petitions = int(petitions[0]) if petitions else 0

        touched: set[str] = set()
        if n_dossiers or moved:
            self._copy_dossier_records()
        if n_dossiers:
            touched |= self._refresh_dossiers()
        if n_petitions:
            touched |= self._refresh(
                "mat_petition_facts",
                "petition_id",
                "live_petitions",
                "holder_unit",
                "f.in_tree",
                PETITION_INDICATORS,
                f"SELECT * FROM ({petition_facts_sql(self.options.dialect)}) pf "
                f"WHERE petition_id IN (SELECT petition_id FROM live_petitions)",
            )
        # Dossier-driven catalogue rows follow the per-(period, unit, TTHC) dossier counts, moved by the changed
        # dossiers' old and new arrival facts. Clock-moved periods: every dated catalogue row may change
        # (deadlines, as-of). Other periods: only the dossier-driven rows of the (period, TTHC) whose counts
        # crossed zero.
        scoped = self._update_usage(moved) if n_dossiers or moved else []
        if moved:
            self._refresh_catalogue(sorted(moved), scoped=False)
        if scoped:
            self._refresh_catalogue(scoped, scoped=True)
        con.execute("UPDATE live_state SET watermark = ?", [latest])
        periods_touched = touched | set(moved) | set(scoped)
        return UpdateReport(n_dossiers, n_petitions, len(periods_touched), False, time.perf_counter() - started)

    # --- steps -------------------------------------------------------------------------------------------
    def _copy_dossier_records(self) -> None:
        """Copy the records of ``live_dossiers`` (every table of ``SCOPED_TABLES``) to ``live_scope_*`` once, so
        the facts, bounds and arrivals of an update read them without scanning the history tables again.

        The ids' range is also given as constants (``self._id_range``, used by every lookup by dossier id): a
        table stored in id order — dossiers appended as they arrive — then skips the other row groups (min/max
        pruning), so finding a day's new dossiers does not read the history."""
        con = self.con
        row = con.execute("SELECT MIN(dossier_id), MAX(dossier_id) FROM live_dossiers").fetchone()
        if row is None or row[0] is None:
            self._id_range = "FALSE"
        else:
            self._id_range = f"dossier_id BETWEEN {_literal(str(row[0]))} AND {_literal(str(row[1]))}"
        for table in SCOPED_TABLES:
            con.execute(f"DROP TABLE IF EXISTS {SCOPE_PREFIX}{table}")
            con.execute(
                f"CREATE TEMP TABLE {SCOPE_PREFIX}{table} AS SELECT * FROM {table} "
                f"WHERE {self._id_range} AND dossier_id IN (SELECT dossier_id FROM live_dossiers)"
            )

    def _refresh_dossiers(self) -> set[str]:
        """Replace the compact facts and bounds of ``live_dossiers`` and move the counters by (new − old) of the
        (period, dossier) rows they stand for; return the periods where one of those dossiers has a row."""
        con = self.con
        d = self.options.dialect
        codes = tuple(self.options.population_db_codes)
        specs = [s for s in DOSSIER_INDICATORS if s[0] in {i.code for i in self.methodology.indicators}]
        self._use_periods(f"SELECT * FROM {MAT_PERIODS}")
        scoped = f"WHERE {self._id_range} AND dossier_id IN (SELECT dossier_id FROM live_dossiers)"
        copies = {"scope_table": "live_dossiers", "scope_prefix": SCOPE_PREFIX}
        for kind, table, new_sql in (
            ("facts", "mat_dossier_facts", dossier_facts_sql(d, codes, output="compact", **copies)),
            ("bounds", "mat_dossier_bounds", dossier_bounds_sql(d, codes, **copies)),
        ):
            con.execute(f"DROP TABLE IF EXISTS live_old_{kind}")
            con.execute(f"CREATE TEMP TABLE live_old_{kind} AS SELECT * FROM {table} {scoped}")
            con.execute(f"DROP TABLE IF EXISTS live_new_{kind}")
            con.execute(f"CREATE TEMP TABLE live_new_{kind} AS {new_sql}")
            con.execute(f"DELETE FROM {table} {scoped}")
            con.execute(f"INSERT INTO {table} SELECT * FROM live_new_{kind}")
        con.execute("DROP TABLE IF EXISTS live_dossier_delta")
        delta = dossier_delta_sql(
            ("live_new_facts", "live_new_bounds"),
            ("live_old_facts", "live_old_bounds"),
            specs,
            self._online,
            d,
            periods=("period_structure", "live_old_periods"),
        )
        con.execute(f"CREATE TEMP TABLE live_dossier_delta AS {delta}")
        pooled = pooled_sums_sql("SELECT * FROM live_dossier_delta", [code for code, _num, _den in specs])
        self._apply_delta(pooled)
        periods = con.execute("SELECT DISTINCT period_id FROM live_dossier_delta").fetchall()
        return {str(p[0]) for p in periods}

    def _apply_delta(self, delta: str) -> None:
        """Add the long (period, unit, indicator, Δnumerator, Δdenominator) rows of ``delta`` to the counters."""
        con = self.con
        con.execute("DROP TABLE IF EXISTS live_delta")
        con.execute(
            f"CREATE TEMP TABLE live_delta AS SELECT * FROM ({delta}) d WHERE numerator <> 0 OR denominator <> 0"
        )
        touched = [str(r[0]) for r in con.execute("SELECT DISTINCT period_id FROM live_delta").fetchall()]
        ids = _id_list(touched)  # bounds the stored rows read to the touched periods' row groups
        con.execute("DROP TABLE IF EXISTS live_merged")
        con.execute(
            "CREATE TEMP TABLE live_merged AS SELECT d.period_id, d.unit_code, d.indicator_code, "
            "CAST(COALESCE(m.numerator, 0) + d.numerator AS BIGINT) AS numerator, "
            "CAST(COALESCE(m.denominator, 0) + d.denominator AS BIGINT) AS denominator, "
            "m.period_id IS NOT NULL AS stored "
            f"FROM live_delta d LEFT JOIN (SELECT * FROM mat_counters WHERE period_id IN ({ids})) m "
            "ON m.period_id = d.period_id AND m.unit_code = d.unit_code AND m.indicator_code = d.indicator_code"
        )
        # Stored keys are moved in place (or go at 0/0), new keys appended: only the moved keys are written.
        key = "k.period_id = c.period_id AND k.unit_code = c.unit_code AND k.indicator_code = c.indicator_code"
        zero = "k.numerator = 0 AND k.denominator = 0"
        con.execute(
            "UPDATE mat_counters c SET numerator = k.numerator, denominator = k.denominator FROM live_merged k "
            f"WHERE c.period_id IN ({ids}) AND k.stored AND NOT ({zero}) AND {key}"
        )
        con.execute(
            f"DELETE FROM mat_counters c WHERE c.period_id IN ({ids}) "
            f"AND EXISTS (SELECT 1 FROM live_merged k WHERE k.stored AND {zero} AND {key})"
        )
        con.execute(
            "INSERT INTO mat_counters SELECT period_id, unit_code, indicator_code, numerator, denominator "
            f"FROM live_merged k WHERE NOT k.stored AND NOT ({zero})"
        )

    def _refresh(
        self,
        facts_table: str,
        key: str,
        scope_table: str,
        unit_column: str,
        where: str,
        specs: Sequence[tuple[str, str, str]],
        new_sql: str,
    ) -> set[str]:
        """Replace the scoped records' fact rows and move the counters by (new − old); return periods touched."""
        con = self.con
        specs = [s for s in specs if s[0] in {i.code for i in self.methodology.indicators}]
        self._use_periods(f"SELECT * FROM {MAT_PERIODS}")
        con.execute("DROP TABLE IF EXISTS live_old")
        con.execute(
            f"CREATE TEMP TABLE live_old AS SELECT * FROM {facts_table} "
            f"WHERE {key} IN (SELECT {key} FROM {scope_table})"
        )
        con.execute("DROP TABLE IF EXISTS live_new")
        con.execute(f"CREATE TEMP TABLE live_new AS {new_sql}")
        con.execute(f"DELETE FROM {facts_table} WHERE {key} IN (SELECT {key} FROM {scope_table})")
        con.execute(f"INSERT INTO {facts_table} SELECT * FROM live_new")
        con.execute("DROP TABLE IF EXISTS live_diff")
        con.execute(
            "CREATE TEMP TABLE live_diff AS SELECT *, 1 AS w FROM live_new UNION ALL SELECT *, -1 AS w FROM live_old"
        )
        self._apply_delta(fact_sums_sql("live_diff", unit_column, where, specs, self._online, weight="f.w"))
        periods = con.execute("SELECT DISTINCT period_id FROM live_diff").fetchall()
        return {str(p[0]) for p in periods}

    def _update_usage(self, moved: Sequence[str]) -> list[str]:
        """Bring ``mat_dossier_arrivals`` and ``mat_dossier_usage`` up to date with ``live_dossiers``.

        A dossier adds 1 to each count of every (period, unit, TTHC) it arrives in, so the counts of the periods
        whose row did not move move by (new − old) arrival facts of the changed dossiers only: ``dossiers`` is
        read for those ids and nothing else. Clock-moved periods (their ``as_of_at`` bounds arrival) are counted
        again from ``mat_dossier_arrivals``. Fills ``live_usage_keys`` with the (period, TTHC, tree) of unmoved
        periods where some count at a unit of that tree crossed zero (the only ones whose catalogue rows can
        change: rows depend on the counts only through ``> 0``) and returns their periods.
        """
        con = self.con
        codes = tuple(self.options.population_db_codes)
        moved_ids = _id_list(moved)
        con.execute("DROP TABLE IF EXISTS live_arrivals_new")
        con.execute(
            "CREATE TEMP TABLE live_arrivals_new AS "
            f"{dossier_arrivals_sql(codes, scope_table='live_dossiers', scope_prefix=SCOPE_PREFIX)}"
        )
        con.execute("DROP TABLE IF EXISTS live_arrivals")
        con.execute(
            "CREATE TEMP TABLE live_arrivals AS SELECT *, -1 AS w FROM mat_dossier_arrivals "
            f"WHERE {self._id_range} AND dossier_id IN (SELECT dossier_id FROM live_dossiers) "
            "UNION ALL SELECT *, 1 AS w FROM live_arrivals_new"
        )
        con.execute(
            f"DELETE FROM mat_dossier_arrivals WHERE {self._id_range} "
            "AND dossier_id IN (SELECT dossier_id FROM live_dossiers)"
        )
        con.execute("INSERT INTO mat_dossier_arrivals SELECT * FROM live_arrivals_new")

        con.execute("DROP TABLE IF EXISTS live_usage_periods")
        con.execute(
            f"CREATE TEMP TABLE live_usage_periods AS SELECT * FROM {MAT_PERIODS} WHERE period_id NOT IN ({moved_ids})"
        )
        counts = list(USAGE_COUNTS)
        any_delta = " OR ".join(f"{c} <> 0" for c in counts)
        con.execute("DROP TABLE IF EXISTS live_usage_delta")
        con.execute(
            f"CREATE TEMP TABLE live_usage_delta AS SELECT * FROM "
            f"({dossier_usage_sql('live_arrivals', 'live_usage_periods', weight='w')}) d WHERE {any_delta}"
        )
        delta_periods = [str(r[0]) for r in con.execute("SELECT DISTINCT period_id FROM live_usage_delta").fetchall()]
        ids = _id_list(delta_periods)
        merged = ", ".join(f"COALESCE(m.{c}, 0) + d.{c} AS {c}" for c in counts)
        flips = " OR ".join(f"(COALESCE(m.{c}, 0) > 0) <> (COALESCE(m.{c}, 0) + d.{c} > 0)" for c in counts)
        con.execute("DROP TABLE IF EXISTS live_usage_merged")
        con.execute(
            f"CREATE TEMP TABLE live_usage_merged AS SELECT d.period_id, d.unit_code, d.procedure_code, {merged}, "
            f"({flips}) AS flips, m.period_id IS NOT NULL AS stored "
            f"FROM live_usage_delta d LEFT JOIN (SELECT * FROM mat_dossier_usage WHERE period_id IN ({ids})) m "
            "ON m.period_id = d.period_id AND m.unit_code = d.unit_code AND m.procedure_code = d.procedure_code"
        )
        # The stored keys are moved in place (or go when no dossier is left), the new ones appended: only the
        # changed keys are written, and the stored rows are read through the keys already found above.
        key = "k.period_id = u.period_id AND k.unit_code = u.unit_code AND k.procedure_code = u.procedure_code"
        con.execute(
            f"UPDATE mat_dossier_usage u SET {', '.join(f'{c} = k.{c}' for c in counts)} FROM live_usage_merged k "
            f"WHERE u.period_id IN ({ids}) AND k.stored AND k.n_arrived <> 0 AND {key}"
        )
        con.execute(
            f"DELETE FROM mat_dossier_usage u WHERE u.period_id IN ({ids}) "
            f"AND EXISTS (SELECT 1 FROM live_usage_merged k WHERE k.stored AND k.n_arrived = 0 AND {key})"
        )
        con.execute(
            f"INSERT INTO mat_dossier_usage SELECT period_id, unit_code, procedure_code, {', '.join(counts)} "
            "FROM live_usage_merged WHERE NOT stored AND n_arrived <> 0"
        )
        if moved:
            con.execute("DROP TABLE IF EXISTS live_usage_periods")
            con.execute(
                f"CREATE TEMP TABLE live_usage_periods AS SELECT * FROM {MAT_PERIODS} WHERE period_id IN ({moved_ids})"
            )
            con.execute(f"DELETE FROM mat_dossier_usage WHERE period_id IN ({moved_ids})")
            con.execute(
                f"INSERT INTO mat_dossier_usage {dossier_usage_sql('mat_dossier_arrivals', 'live_usage_periods')}"
            )
        # The (period, TTHC, tree) of the flipped counts: a dossier-driven row reads its own tree's counts only.
        con.execute("DROP TABLE IF EXISTS live_unit_trees")
        con.execute(f"CREATE TEMP TABLE live_unit_trees AS {unit_tree_sql()}")
        con.execute("DROP TABLE IF EXISTS live_usage_keys")
        con.execute(
            "CREATE TEMP TABLE live_usage_keys AS SELECT DISTINCT m.period_id, m.procedure_code, t.tree_code "
            "FROM live_usage_merged m JOIN live_unit_trees t ON t.unit_code = m.unit_code WHERE m.flips"
        )
        return sorted(str(r[0]) for r in con.execute("SELECT DISTINCT period_id FROM live_usage_keys").fetchall())

    def _refresh_catalogue(self, period_ids: Sequence[str], scoped: bool) -> None:
        """Recompute the dated catalogue facts of the touched periods and their counters (DISTINCT counts).

        Static catalogue rows (``period_id = '*'``) depend only on the catalogue and the units, whose changes
        trigger a full rebuild: they stay, and the touched periods' counts read them next to the new dated rows.
        Dossiers are read only through ``mat_dossier_usage``.

        ``scoped``: only the dossier-driven rows of the (period, TTHC, tree) in ``live_usage_keys`` are
        recomputed (each depends on its own pair's counts only); only the rows that differ are written, and the
        counters move by those rows' old and new contributions (:mod:`chiso766.engine.catalogue_delta`), so the
        cost follows the changed pairs, not the periods' catalogue rows. Otherwise (clock-moved periods) every
        dated row of the periods is recomputed and their catalogue counters recounted.
        """
        con = self.con
        ids = _id_list(period_ids)
        self._use_periods(f"SELECT * FROM {MAT_PERIODS} WHERE period_id IN ({ids})")
        counted = {i.code for i in self.methodology.indicators} & set(CATALOGUE_INDICATORS)
        if scoped:
            self._refresh_driven_rows(ids, sorted(counted & set(DOSSIER_DRIVEN)))
            return
        d = self.options.dialect
        codes_db = tuple(self.options.population_db_codes)
        con.execute(f"DELETE FROM mat_catalogue_facts WHERE period_id IN ({ids})")  # never the '*' rows
        sql = catalogue_facts_sql(d, population_db_codes=codes_db, part="dynamic", usage_table="mat_dossier_usage")
        con.execute(f"INSERT INTO mat_catalogue_facts {sql}")
        code_list = ", ".join(f"'{c}'" for c in sorted(counted)) or "''"
        counts = catalogue_counts_sql("mat_catalogue_facts", static_tables=STATIC_TABLES, indicators=sorted(counted))
        con.execute("DROP TABLE IF EXISTS live_catalogue")
        con.execute(
            f"CREATE TEMP TABLE live_catalogue AS SELECT period_id, unit_code, indicator_code, "
            f"CAST(numerator AS BIGINT) AS numerator, CAST(denominator AS BIGINT) AS denominator "
            f"FROM ({counts}) cc WHERE indicator_code IN ({code_list}) AND (numerator <> 0 OR denominator <> 0)"
        )
        # Replace every catalogue counter of the touched periods (rows that became 0/0 disappear).
        con.execute(f"DELETE FROM mat_counters WHERE period_id IN ({ids}) AND indicator_code IN ({code_list})")
        con.execute("INSERT INTO mat_counters SELECT * FROM live_catalogue")

    def _refresh_driven_rows(self, ids: str, indicators: Sequence[str]) -> None:
        """The scoped half of :meth:`_refresh_catalogue`: recompute the dossier-driven rows of the pairs in
        ``live_usage_keys`` (periods ``ids``, already in ``period_structure``), write the rows that differ and
        move the counters of ``indicators`` by the changed rows (new − old contributions)."""
        con = self.con
        by_procedure = ", ".join(f"('{c}')" for c in DOSSIER_DRIVEN if c != "ONLINE_SERVICES_USED")
        con.execute("DROP TABLE IF EXISTS live_driven_items")
        con.execute(
            "CREATE TEMP TABLE live_driven_items AS "
            "SELECT k.period_id, i.indicator_code, k.procedure_code AS item_code, k.tree_code "
            f"FROM live_usage_keys k CROSS JOIN (VALUES {by_procedure}) i(indicator_code) "
            "UNION ALL SELECT k.period_id, 'ONLINE_SERVICES_USED' AS indicator_code, s.service_code AS item_code, "
            "k.tree_code FROM live_usage_keys k JOIN services s ON s.procedure_code = k.procedure_code"
        )
        # Every stored dated row of the recomputed (period, indicator, item) in the scoped trees, and the same
        # rows recomputed (catalogue_facts_sql's usage_trees).
        con.execute("DROP TABLE IF EXISTS live_cat_old")
        con.execute(
            "CREATE TEMP TABLE live_cat_old AS SELECT f.* FROM mat_catalogue_facts f "
            f"JOIN live_unit_trees t ON t.unit_code = f.unit_code WHERE f.period_id IN ({ids}) "
            "AND EXISTS (SELECT 1 FROM live_driven_items x WHERE x.period_id = f.period_id "
            "AND x.indicator_code = f.indicator_code AND x.item_code = f.item_code AND x.tree_code = t.tree_code)"
        )
        sql = catalogue_facts_sql(
            self.options.dialect,
            population_db_codes=tuple(self.options.population_db_codes),
            part="dossier",
            usage_table="mat_dossier_usage",
            usage_trees="live_usage_keys",
        )
        con.execute("DROP TABLE IF EXISTS live_cat_new")
        con.execute(f"CREATE TEMP TABLE live_cat_new AS {sql}")
        # Write only the difference (a key is unique; a row whose hit or reason changed is in both tables): the
        # rows of one side only (old EXCEPT new, new EXCEPT old), found by one grouping of both sides.
        columns = "period_id, indicator_code, unit_code, item_code, hit, reason"
        con.execute("DROP TABLE IF EXISTS live_cat_diff")
        con.execute(
            f"CREATE TEMP TABLE live_cat_diff AS SELECT {columns}, MIN(w) AS side FROM ("
            f"SELECT {columns}, -1 AS w FROM live_cat_old UNION ALL SELECT {columns}, 1 AS w FROM live_cat_new) x "
            f"GROUP BY {columns} HAVING MIN(w) = MAX(w)"
        )
        for table, side in (("live_cat_gone", -1), ("live_cat_added", 1)):
            con.execute(f"DROP TABLE IF EXISTS {table}")
            con.execute(f"CREATE TEMP TABLE {table} AS SELECT {columns} FROM live_cat_diff WHERE side = {side}")
        con.execute(
            f"DELETE FROM mat_catalogue_facts WHERE period_id IN ({ids}) AND EXISTS (SELECT 1 FROM live_cat_gone g "
            "WHERE g.period_id = mat_catalogue_facts.period_id "
            "AND g.indicator_code = mat_catalogue_facts.indicator_code "
            "AND g.unit_code = mat_catalogue_facts.unit_code AND g.item_code = mat_catalogue_facts.item_code)"
        )
        con.execute("INSERT INTO mat_catalogue_facts SELECT * FROM live_cat_added")
        if indicators:
            delta = catalogue_delta_sql(
                ("live_cat_old", "live_cat_new"), ("live_cat_gone", "live_cat_added"), STATIC_TABLES[0], indicators
            )
            self._apply_delta(delta)

    def _advance_clock(self, as_of: datetime) -> list[str]:
        """Move provisional periods to ``as_of`` and queue every item whose facts can change with the clock."""
        con = self.con
        periods = self._periods()
        new_rows = {str(row[0]): row for row in period_rows(periods, as_of)}
        old = {row[0]: row for row in con.execute(f"SELECT period_id, as_of_at FROM {MAT_PERIODS}").fetchall()}
        moved = [pid for pid, row in new_rows.items() if old.get(pid) and old[pid][1] != row[4]]
        if not moved:
            return []
        earliest = min(old[pid][1] for pid in moved)
        ids = _id_list(moved)
        con.execute(f"DELETE FROM {MAT_PERIODS} WHERE period_id IN ({ids})")
        con.executemany(
            f"INSERT INTO {MAT_PERIODS} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [new_rows[p] for p in moved]
        )
        # Items judged by the clock: open or pending in a moved period, or with a record dated after the old
        # as-of (it becomes known now), or received after it.
        con.execute(
            f"""
            INSERT INTO live_dossiers
            SELECT DISTINCT dossier_id FROM (
                SELECT dossier_id FROM mat_dossier_facts WHERE period_id IN ({ids}) AND NOT finished
                -- the unknown rows (open, not stored): nothing known at the old horizon, received before it
                UNION ALL SELECT dossier_id FROM mat_dossier_bounds
                    WHERE due_at IS NOT NULL AND received_at <= $latest
                      AND (first_known_at IS NULL OR first_known_at > $t)
                UNION ALL SELECT dossier_id FROM dossiers
                    WHERE received_at > $t OR processing_end_at > $t OR returned_at > $t OR rejected_at > $t
                UNION ALL SELECT dossier_id FROM dossier_events WHERE event_at > $t
                UNION ALL SELECT dossier_id FROM dossier_supplements WHERE requested_at > $t OR completed_at > $t
                UNION ALL SELECT dossier_id FROM petitions WHERE dossier_id IS NOT NULL AND sent_at > $t
            ) x WHERE dossier_id NOT IN (SELECT dossier_id FROM live_dossiers)
            """,
            {"t": earliest, "latest": max(old[pid][1] for pid in moved)},
        )
        con.execute(
            f"""
            INSERT INTO live_petitions
            SELECT DISTINCT petition_id FROM (
                SELECT petition_id FROM mat_petition_facts WHERE period_id IN ({ids}) AND closing_status IS NULL
                UNION ALL SELECT petition_id FROM mat_petition_facts
                    WHERE period_id IN ({ids}) AND closing_status = 'CHO_CONG_KHAI' AND published_at IS NULL
                UNION ALL SELECT petition_id FROM petitions WHERE sent_at > $t
                UNION ALL SELECT petition_id FROM petition_events WHERE event_at > $t
            ) x WHERE petition_id NOT IN (SELECT petition_id FROM live_petitions)
            """,
            {"t": earliest},
        )
        return moved

    def _use_periods(self, select: str) -> None:
        """Point the facts SQL's ``period_structure`` at a subset of the materialised periods."""
        self.con.execute("DROP TABLE IF EXISTS period_structure")
        self.con.execute(f"CREATE TABLE period_structure AS {select}")

    def _periods(self) -> list[Period]:
        from chiso766.domain.periods import parse_period

        return [parse_period(r[0]) for r in self.con.execute(f"SELECT period_id FROM {MAT_PERIODS}").fetchall()]

    def _latest_change(self) -> datetime | None:
        row = self.con.execute("SELECT MAX(recorded_at) FROM changes").fetchone()
        return row[0] if row else None


def _literal(value: str) -> str:
    """A SQL string literal (quotes doubled)."""
    return "'" + value.replace("'", "''") + "'"


def _id_list(period_ids: Sequence[str]) -> str:
    """A SQL list of period ids (quotes doubled); ``''`` when empty so ``IN (...)`` stays valid."""
    return ", ".join("'" + p.replace("'", "''") + "'" for p in period_ids) or "''"
