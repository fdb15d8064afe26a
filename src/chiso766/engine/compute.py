"""From stored records to scores, ranks and the national average for chosen periods.

Steps (DESIGN data flow): structure tables → facts (SQL) → counters (SQL, pooled over subtrees) → scores
(the scoring core, per unit) → ranks within cohorts and the national average. Scores are computed exactly
in Python from the counters (a few thousand units per period), never from floats in SQL.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import duckdb

from chiso766.domain.calendar import load_calendar
from chiso766.domain.periods import Period
from chiso766.engine.counters import FactsOptions, build_counters, build_facts, unit_counts
from chiso766.engine.structure import load_calendar_table, load_period_structure, rebuild_unit_closure
from chiso766.errors import InputError
from chiso766.methodology.model import Methodology
from chiso766.scoring import UnitCounters, UnitScore, competition_ranks, score_unit
from chiso766.scoring.national import NationalScore, national_average
from chiso766.store.db import Store

log = logging.getLogger(__name__)

COHORTS = ("province", "provincial_department", "district", "commune")
MEMO_LIMIT = 200_000  # memoised unit scores (≈ 50 periods × 3,865 units)


@dataclass(frozen=True)
class UnitInfo:
    code: str
    name: str | None
    level: str  # the scoring level: a root unit is scored as a province (D-gen-6)
    parent_code: str | None
    is_root: bool
    root_code: str


@dataclass(frozen=True)
class PeriodScores:
    """Every unit's score for one period, with ranks per cohort and the national average of the roots."""

    period: Period
    provisional: bool
    scores: Mapping[str, UnitScore]
    units: Mapping[str, UnitInfo]
    national: NationalScore | None
    ranks: Mapping[str, int | None] = field(default_factory=dict)
    cohort_sizes: Mapping[str, int] = field(default_factory=dict)


class Engine:
    """Computes a store's indicators under one methodology (one writer connection; not thread-safe)."""

    def __init__(self, store: Store, methodology: Methodology, options: FactsOptions | None = None) -> None:
        self.store = store
        self.methodology = methodology
        self.options = options or FactsOptions()
        self.con: duckdb.DuckDBPyConnection = store.connection
        self._procedure: str | None = None
        self._memo: dict[tuple[object, ...], UnitScore] = {}

    # --- preparation -------------------------------------------------------------------------------------
    def prepare(self, periods: Sequence[Period], as_of: datetime | None = None, procedure: str | None = None) -> None:
        """Build structure, facts and counters for ``periods`` judged at ``as_of`` (default: closed)."""
        if not periods:
            raise InputError.single("no_period", "Chưa chọn kỳ", "No period selected", field="period")
        calendar = load_calendar()
        for p in periods:
            if not within_calendar(p):
                raise InputError.single(
                    "calendar_out_of_range",
                    f"Kỳ {p.id} nằm ngoài lịch ngày làm việc đã công bố "
                    f"({calendar.first_day:%d/%m/%Y}–{calendar.last_day:%d/%m/%Y}); không thể tính chính xác",
                    f"Period {p.id} is outside the published working-day calendar "
                    f"({calendar.first_day:%d/%m/%Y}–{calendar.last_day:%d/%m/%Y}); it cannot be computed exactly",
                    field="period",
                )
        self._ensure_structure()
        load_period_structure(self.con, periods, as_of)
        build_facts(self.con, self.options)
        build_counters(self.con, self.methodology, procedure)
        self._procedure = procedure

    def _ensure_structure(self) -> None:
        has_calendar = self.con.execute(
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_name = 'calendar'"
        ).fetchone()
        if not has_calendar or has_calendar[0] == 0:
            load_calendar_table(self.con)
        closure = self.con.execute("SELECT COUNT(*) FROM unit_closure").fetchone()
        units = self.con.execute("SELECT COUNT(*) FROM units").fetchone()
        if closure is not None and units is not None and (closure[0] == 0) != (units[0] == 0):
            rebuild_unit_closure(self.con)

    # --- reading -----------------------------------------------------------------------------------------
    def units(self) -> dict[str, UnitInfo]:
        rows = self.con.execute(
            """
            WITH roots AS (
                SELECT u.unit_code FROM units u LEFT JOIN units p ON p.unit_code = u.parent_code
                WHERE p.unit_code IS NULL
            )
            SELECT u.unit_code, u.name, u.level, u.parent_code, r.unit_code = u.unit_code AS is_root,
                   r.unit_code AS root_code
            FROM units u
            JOIN unit_closure c ON c.descendant = u.unit_code
            JOIN roots r ON r.unit_code = c.ancestor
            """
        ).fetchall()
        return {
            code: UnitInfo(code, name, "province" if is_root else level, parent, bool(is_root), root)
            for code, name, level, parent, is_root, root in rows
        }

    def unit_counters(self, period_id: str, unit: UnitInfo) -> UnitCounters:
        """One unit's counters (0/0 where nothing was counted; 1.1–1.3 from its province)."""
        rows = self.con.execute(
            "SELECT unit_code, indicator_code, numerator, denominator FROM counters "
            "WHERE period_id = ? AND unit_code IN (?, ?)",
            [period_id, unit.code, unit.root_code],
        ).fetchall()
        counts = unit_counts(rows, {unit.code: unit.root_code}, self.methodology, self._procedure is not None)
        return UnitCounters(level=unit.level, indicators=counts[unit.code], period_type=None)

    def _score(self, counters: UnitCounters) -> UnitScore:
        """``score_unit``, memoised on the exact counters: between two data versions most units' counters are
        unchanged, so a live period is rescored only where records moved (a pure function, so reuse is exact)."""
        key = (
            counters.level,
            counters.period_type,
            tuple(
                (code, c.numerator, c.denominator, tuple(sorted(c.extra.items())))
                for code, c in sorted(counters.indicators.items())
            ),
        )
        found = self._memo.get(key)
        if found is None:
            if len(self._memo) >= MEMO_LIMIT:
                self._memo.clear()
            found = self._memo[key] = score_unit(self.methodology, counters)
        return found

    def period_scores(
        self, period: Period, as_of: datetime | None = None, counters_table: str = "counters"
    ) -> PeriodScores:
        """Scores of every unit for a prepared period, ranked within cohorts (ties share a rank).

        ``counters_table`` is ``counters`` (after :meth:`prepare`) or ``mat_counters`` (kept by ``LiveIndex``)."""
        if counters_table not in ("counters", "mat_counters"):
            raise ValueError(counters_table)
        units = self.units()
        rows = self.con.execute(
            f"SELECT unit_code, indicator_code, numerator, denominator FROM {counters_table} WHERE period_id = ?",
            [period.id],
        ).fetchall()
        # mat_counters (LiveIndex) are never procedure-filtered, whatever the last prepare() was asked for.
        filtered = counters_table == "counters" and self._procedure is not None
        by_unit = unit_counts(rows, {c: u.root_code for c, u in units.items()}, self.methodology, filtered)
        scores = {
            code: self._score(UnitCounters(level=units[code].level, indicators=counts, period_type=period.type.value))
            for code, counts in by_unit.items()
            if code in units
        }
        ranks: dict[str, int | None] = {}
        sizes: dict[str, int] = {}
        for cohort in COHORTS:
            members = {c: s.total for c, s in scores.items() if units[c].level == cohort}
            ranks.update(competition_ranks(members))
            sizes.update(dict.fromkeys(members, len(members)))
        roots = [s for c, s in scores.items() if units[c].is_root]
        national = (
            national_average(self.methodology, [{g: r.score for g, r in s.groups.items()} for s in roots])
            if roots
            else None
        )
        provisional = as_of is not None and period.is_provisional(as_of)
        return PeriodScores(period, provisional, scores, units, national, ranks, sizes)


def within_calendar(period: Period) -> bool:
    """Whether every day of ``period`` is in the working-day calendar (D-gen-5: never guess outside it)."""
    calendar = load_calendar()
    return calendar.first_day <= period.start and period.end - timedelta(days=1) <= calendar.last_day


def rank_within(
    result: PeriodScores, cohort: str, within: str | None, descendants: Iterable[str] | None
) -> list[tuple[int | None, str, UnitScore]]:
    """Ranking rows (rank, unit, score) of one cohort, optionally restricted to a subtree (ranks recomputed)."""
    allowed = set(descendants) if descendants is not None else None
    members = {
        code: s.total
        for code, s in result.scores.items()
        if result.units[code].level == cohort and (allowed is None or code in allowed)
    }
    ranks = competition_ranks(members)
    rows = [(ranks[c], c, result.scores[c]) for c in members]
    return sorted(rows, key=lambda r: (r[0] if r[0] is not None else 10**9, r[1]))


def compute_json(result: PeriodScores, unit_code: str, previous: PeriodScores | None = None) -> dict[str, Any]:
    """DESIGN contract 2 output for one unit: contract 1 plus unit, period, provisional, rank, cohort_size."""
    if unit_code not in result.scores:
        raise InputError.single(
            "unknown_unit",
            f"Không có đơn vị '{unit_code}' trong dữ liệu",
            f"No unit '{unit_code}' in the data",
            field="unit",
        )
    score = result.scores[unit_code]
    unit = result.units[unit_code]
    doc = score.to_json()
    doc.update(
        {
            "unit": unit_code,
            "unit_name": unit.name,
            "period": result.period.id,
            "period_label": result.period.label_vi,
            "provisional": result.provisional,
            "rank": result.ranks.get(unit_code),
            "cohort_size": result.cohort_sizes.get(unit_code, 0),
        }
    )
    if result.national is not None:
        doc["national_average"] = float(result.national.total)
    if previous is not None and unit_code in previous.scores:
        before = previous.scores[unit_code]
        doc["previous"] = {
            "period": previous.period.id,
            "total": float(before.total),
            "rank": previous.ranks.get(unit_code),
            "change": float(score.total - before.total),
        }
    return doc
