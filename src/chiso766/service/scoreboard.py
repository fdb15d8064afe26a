"""One store, kept current and scored: the single entry point of the edges (API, pages, demo, advisor).

The scoreboard tracks the standard periods of the current year live (year, 6 and 9 months, quarters, months,
the current ISO week and today) with :class:`~chiso766.engine.live.LiveIndex`, so new records and the passing
clock move their counters incrementally (:meth:`Scoreboard.refresh`). Any other period (another year, a
range, a past day or week, a procedure filter) is computed on demand by :class:`~chiso766.engine.compute.Engine`
and cached until the data changes. Scores are cached per (period, procedure) and data version.

One DuckDB writer connection is shared, so every engine step runs under one re-entrant lock; callers on
threads (the web server's worker pool) simply call the methods. "Now" comes from ``clock`` so tests and the
demo can fix it; periods are provisional while ``now`` is before their end (D-gen-2).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from chiso766.domain.periods import VN_TZ, Period, PeriodType, parse_period
from chiso766.engine.compute import Engine, PeriodScores, UnitInfo, within_calendar
from chiso766.engine.counters import FactsOptions, unit_counts
from chiso766.engine.explain import explain as explain_indicator
from chiso766.engine.live import LiveIndex, UpdateReport
from chiso766.errors import InputError
from chiso766.methodology.model import Methodology
from chiso766.scoring import UnitCounters
from chiso766.store.db import Store

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """The current instant in Asia/Ho_Chi_Minh."""
    return datetime.now(UTC).astimezone(VN_TZ)


@dataclass(frozen=True)
class DataState:
    """What the scores currently reflect: a version bumped by every change, and when it last moved."""

    version: int
    updated_at: datetime | None  # last refresh that changed something (aware, VN time)
    as_of: datetime  # the instant open dossiers were judged at
    records_through: datetime | None  # latest change recorded by ingestion (aware, VN time)


def tracked_periods(now: datetime) -> list[Period]:
    """The periods of ``now``'s year kept live: year, H1/H2, M9, quarters, months started by ``now``, this
    ISO week and today; only those inside the working-day calendar."""
    local = now.astimezone(VN_TZ)
    y = local.year
    ids = [f"{y}", f"{y}H1", f"{y}M9"]
    if local.month > 6:
        ids.append(f"{y}H2")
    ids += [f"{y}Q{q}" for q in range(1, (local.month - 1) // 3 + 2)]
    ids += [f"{y}-{m:02d}" for m in range(1, local.month + 1)]
    iso = local.isocalendar()
    ids += [f"{iso.year}W{iso.week:02d}", local.date().isoformat()]
    periods = [parse_period(i) for i in ids]
    return [p for p in periods if within_calendar(p)]


class Scoreboard:
    """Scores of one store under one methodology, live for the tracked periods and on demand for the rest."""

    def __init__(
        self,
        store: Store,
        methodology: Methodology,
        *,
        clock: Clock = system_clock,
        options: FactsOptions | None = None,
    ) -> None:
        self.store = store
        self.methodology = methodology
        self.clock = clock
        self.lock = threading.RLock()
        self._engine = Engine(store, methodology, options)
        self._live = LiveIndex(store, methodology, options)
        self._tracked: dict[str, Period] = {}
        self._version = 0  # any visible change (records, units, or counters moved by the clock)
        self._records_version = 0  # records or structure changed (on-demand periods may change)
        self._updated_at: datetime | None = None
        self._as_of = clock()
        self._records_through: datetime | None = None  # latest change-log entry the scores reflect
        self._fingerprints: dict[str, tuple[int, int]] = {}
        # live periods: keyed by their counters' fingerprint; on-demand: by records version and as-of
        self._live_cache: dict[str, tuple[tuple[int, int], PeriodScores]] = {}
        self._cache: dict[tuple[str, str | None], tuple[int, datetime | None, PeriodScores]] = {}
        self._prepared: tuple[int, tuple[str, ...], str | None, datetime | None] | None = None
        self._units: tuple[int, dict[str, UnitInfo]] | None = None

    # --- keeping current ---------------------------------------------------------------------------------
    def start(self) -> None:
        """Materialise the tracked periods from scratch (at startup, or when the year turns)."""
        with self.lock:
            started = time.perf_counter()
            now = self.clock()
            periods = tracked_periods(now)
            self._live.rebuild(periods, as_of=now)
            self._tracked = {p.id: p for p in periods}
            self._as_of = now
            self._live_cache.clear()
            self._bump(records=True)
            log.info("scoreboard: %d live periods ready in %.2f s", len(periods), time.perf_counter() - started)

    def refresh(self) -> UpdateReport | None:
        """Apply new records and the clock to the live periods; returns what moved (None if not started)."""
        with self.lock:
            if not self._tracked:
                return None
            now = self.clock()
            if [p.id for p in tracked_periods(now)] != list(self._tracked):
                self.start()  # a new month, week or day begins: the live set changes
                return UpdateReport(0, 0, len(self._tracked), True, 0.0)
            report = self._live.apply_changes(as_of=now)
            self._as_of = now
            if report.full_rebuild:
                self._live_cache.clear()
                self._bump(records=True)
            elif self._latest_change() != self._records_through:
                self._bump(records=True)
            elif report.periods and self._read_fingerprints() != self._fingerprints:
                self._bump(records=False)  # the clock moved some counters (a deadline passed)
            return report

    def _latest_change(self) -> datetime | None:
        row = self.store.connection.execute("SELECT MAX(recorded_at) FROM changes").fetchone()
        return row[0] if row else None

    def _bump(self, *, records: bool) -> None:
        """A new data version: caches keyed by it expire; live periods whose counters did not move stay."""
        self._version += 1
        if records:
            self._records_version += 1
            self._records_through = self._latest_change()
            self._units = None
        self._updated_at = self.clock().astimezone(VN_TZ)
        self._fingerprints = self._read_fingerprints()
        self._prepared = None

    def _read_fingerprints(self) -> dict[str, tuple[int, int]]:
        """Per live period: (row count, sum of row hashes) of its counters — equal iff unchanged (w.h.p.)."""
        rows = self.store.connection.execute(
            "SELECT period_id, COUNT(*), CAST(SUM(hash(unit_code, indicator_code, numerator, denominator)) "
            "% 18446744073709551557 AS UBIGINT) FROM mat_counters GROUP BY period_id"
        ).fetchall()
        return {str(pid): (int(n), int(h)) for pid, n, h in rows}

    def warm(self) -> None:
        """Compute the scores pages open first (the default period and its previous) ahead of requests."""
        period = self.default_period()
        self.scores(period)
        self.previous(period)

    def state(self) -> DataState:
        with self.lock:
            row = self.store.connection.execute("SELECT MAX(recorded_at) FROM changes").fetchone()
            latest = row[0].replace(tzinfo=UTC).astimezone(VN_TZ) if row and row[0] is not None else None
            return DataState(self._version, self._updated_at, self._as_of.astimezone(VN_TZ), latest)

    # --- reading -----------------------------------------------------------------------------------------
    def now(self) -> datetime:
        return self.clock().astimezone(VN_TZ)

    def tracked(self) -> list[Period]:
        with self.lock:
            return list(self._tracked.values())

    def default_period(self) -> Period:
        """The period an official opens by default: the current quarter (provisional) or, before any data, the
        current month."""
        now = self.now()
        return parse_period(f"{now.year}Q{(now.month - 1) // 3 + 1}")

    def units(self) -> dict[str, UnitInfo]:
        with self.lock:
            if self._units is None or self._units[0] != self._records_version:
                self._units = (self._records_version, self._engine.units())
            return self._units[1]

    def unit(self, code: str) -> UnitInfo:
        found = self.units().get(code)
        if found is None:
            raise InputError.single(
                "unknown_unit", f"Không có đơn vị '{code}'", f"No unit '{code}'", field="unit", where=code
            )
        return found

    def scores(self, period: Period | str, procedure: str | None = None) -> PeriodScores:
        """Every unit's scores for ``period`` (optionally one TTHC), ranked within cohorts."""
        p = parse_period(period) if isinstance(period, str) else period
        self._check_period(p)
        with self.lock:
            as_of = self._as_of if p.is_provisional(self._as_of) else None
            if procedure is None and p.id in self._tracked:
                fingerprint = self._fingerprints.get(p.id, (0, 0))
                live = self._live_cache.get(p.id)
                if live is not None and live[0] == fingerprint:
                    return live[1]
                result = self._engine.period_scores(p, as_of, counters_table="mat_counters")
                self._live_cache[p.id] = (fingerprint, result)
                return result
            key = (p.id, procedure)
            hit = self._cache.get(key)
            if hit is not None and hit[0] == self._records_version and hit[1] == as_of:
                return hit[2]
            self._prepare([p], as_of, procedure)
            result = self._engine.period_scores(p, as_of)
            self._cache[key] = (self._records_version, as_of, result)
            return result

    def scores_many(self, periods: Sequence[Period | str], procedure: str | None = None) -> list[PeriodScores]:
        """Scores of several periods; the ones not live nor cached are computed in ONE engine pass (the
        catalogue's static facts are built once), e.g. a trend of twelve months."""
        wanted = [parse_period(p) if isinstance(p, str) else p for p in periods]
        for p in wanted:
            self._check_period(p)
        with self.lock:
            missing: list[Period] = []
            for p in wanted:
                if procedure is None and p.id in self._tracked:
                    continue
                as_of = self._as_of if p.is_provisional(self._as_of) else None
                hit = self._cache.get((p.id, procedure))
                if hit is None or hit[0] != self._records_version or hit[1] != as_of:
                    missing.append(p)
            unique = list({p.id: p for p in missing}.values())
            if len(unique) > 1:
                # One as-of for all: a closed period judged at a later instant is judged at its own end.
                self._prepare(unique, self._as_of, procedure)
                for p in unique:
                    as_of = self._as_of if p.is_provisional(self._as_of) else None
                    self._cache[(p.id, procedure)] = (
                        self._records_version,
                        as_of,
                        self._engine.period_scores(p, as_of),
                    )
            return [self.scores(p, procedure) for p in wanted]

    def previous(self, period: Period | str, procedure: str | None = None) -> PeriodScores | None:
        """Scores of the previous period of the same type, or None when it is outside the calendar."""
        p = parse_period(period) if isinstance(period, str) else period
        before = p.previous()
        return self.scores(before, procedure) if within_calendar(before) else None

    def unit_counters(self, period: Period | str, unit_code: str, procedure: str | None = None) -> UnitCounters:
        """One unit's counters for ``period`` (0/0 where nothing counted; 1.1–1.3 from its province)."""
        p = parse_period(period) if isinstance(period, str) else period
        self._check_period(p)
        unit = self.unit(unit_code)
        with self.lock:
            if procedure is None and p.id in self._tracked:
                table = "mat_counters"
            else:
                as_of = self._as_of if p.is_provisional(self._as_of) else None
                self._prepare([p], as_of, procedure)
                table = "counters"
            rows = self.store.connection.execute(
                f"SELECT unit_code, indicator_code, numerator, denominator FROM {table} "
                "WHERE period_id = ? AND unit_code IN (?, ?)",
                [p.id, unit.code, unit.root_code],
            ).fetchall()
            counts = unit_counts(rows, {unit.code: unit.root_code}, self.methodology, procedure is not None)
            return UnitCounters(level=unit.level, indicators=counts[unit.code], period_type=p.type.value)

    def explain(
        self,
        unit_code: str,
        indicator_code: str,
        period: Period | str,
        *,
        limit: int = 100,
        hits: bool = False,
        procedure: str | None = None,
    ) -> dict[str, Any]:
        """The records behind one indicator of one unit × period (misses by default), with points lost."""
        p = parse_period(period) if isinstance(period, str) else period
        counters = self.unit_counters(p, unit_code, procedure)
        unit = self.unit(unit_code)
        with self.lock:
            as_of = self._as_of if p.is_provisional(self._as_of) else None
            self._prepare([p], as_of, procedure)
            return explain_indicator(
                self.store.connection,
                self.methodology,
                unit_code,
                unit.level,
                indicator_code,
                p.id,
                counters.indicators,
                limit=limit,
                hits=hits,
            )

    @contextmanager
    def prepared(self, period: Period | str, procedure: str | None = None) -> Iterator[Engine]:
        """Hold the lock with the facts tables (``dossier_facts``, ``petition_facts``, ``catalogue_facts``,
        ``counters``) built for ``period``, for record-level queries (advisor, drill-down)."""
        p = parse_period(period) if isinstance(period, str) else period
        self._check_period(p)
        with self.lock:
            as_of = self._as_of if p.is_provisional(self._as_of) else None
            self._prepare([p], as_of, procedure)
            yield self._engine

    # --- helpers -----------------------------------------------------------------------------------------
    def _prepare(self, periods: list[Period], as_of: datetime | None, procedure: str | None) -> None:
        key = (self._records_version, tuple(p.id for p in periods), procedure, as_of)
        if self._prepared == key:
            return
        self._engine.prepare(periods, as_of=as_of, procedure=procedure)
        self._prepared = key

    def _check_period(self, p: Period) -> None:
        if not within_calendar(p):
            raise InputError.single(
                "calendar_out_of_range",
                f"Kỳ {p.id} nằm ngoài lịch ngày làm việc đã công bố; không thể tính chính xác",
                f"Period {p.id} is outside the published working-day calendar; it cannot be computed exactly",
                field="period",
                where=p.id,
            )
        if p.start_instant > self.now():
            raise InputError.single(
                "period_in_future",
                f"Kỳ {p.id} chưa bắt đầu",
                f"Period {p.id} has not started yet",
                field="period",
                where=p.id,
            )


def period_types_offered() -> list[PeriodType]:
    """Period types the pages offer in their selector (official ones first)."""
    return [PeriodType.MONTH, PeriodType.QUARTER, PeriodType.YEAR, PeriodType.WEEK, PeriodType.DAY]
