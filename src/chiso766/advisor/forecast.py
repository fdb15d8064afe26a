"""Forecast of every indicator and the total at period end, with a range, and its backtest.

Model (documented assumptions, all from records known at the cut and the previous closed period):

1. Structural projection per indicator, from the records already in:

   - Horizon: ``remaining`` = working days after today up to the period's last day (``calendar`` table).
   - Recent window: the ``window`` working days before today. For each dossier indicator the window's received
     dossiers give a volume per working day (denominator members) and a hit rate; new records until the end =
     volume × remaining, hits = rate × new records.
   - Open dossiers now counted on time whose due date falls before the period end turn late with probability
     1 − q, q = the on-time share of this period's dossiers whose due date fell in the window since the period
     start (carry-overs due last period, mostly late, are left out of q).
   - PAKN (5.2, 5.3): new PAKN arrive at the window's volume but count at last period's final rate (PAKN in
     progress are "on time" at the cut, so the window's rate is optimistic); PAKN in progress whose 15-working-day
     limit falls before the end turn late with the recent share of PAKN closed late.
   - Catalogue indicators (1.x, 3.1, 3.2, 3.5, 3.5b, 4.5a) keep today's counts here.

2. Shrinkage toward the previous closed period of the same type (the prior): each projected rate becomes
   ``s × projected + (1 − s) × prior``, ``s = seen / (seen + κ × prior denominator)`` (:func:`shrink`), seen =
   today's denominator. The prior is the unit's last-period rate shrunk toward the provinces' pooled rate
   (``PRIOR_PSEUDO`` records). κ (``PRIOR_WEIGHT``): 0.5 for dossier rates, 1 for PAKN and 3.5b, 4 for the
   distinct-items-used counts 3.2, 3.5, 4.5a (they grow with arrivals and end near last period's level), 0.3 for
   1.1 / 1.2, 0 for the static 1.3 and 3.1. Projected numerator = round(rate × projected denominator).

3. Range: each rate ± ``RANGE_Z`` × :func:`rate_spread` (binomial spread on the evidence seen + κ × prior
   denominator, times ``RANGE_SCALE`` for the model error, calibrated on backtests of 2026-08/09/10), scored by the
   scoring core; group and total ends add the indicators' score deviations in quadrature.

A closed period is its own forecast (range of zero width). Backtest figures: docs/advisor.md "Forecast model".
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import duckdb

from chiso766.domain.periods import VN_TZ, Period, parse_period
from chiso766.engine.counters import DOSSIER_INDICATORS, PETITION_INDICATORS, online_column
from chiso766.engine.facts_petitions import LIMIT_HANDLING
from chiso766.methodology.model import Methodology
from chiso766.scoring import IndicatorCounts, UnitCounters, UnitScore, score_unit
from chiso766.scoring.core import json_number
from chiso766.service.scoreboard import Scoreboard

RANGE_Z = 1.645  # the range is a ~90 % two-sided interval of the projected total
RANGE_SCALE = 1.8  # model-error multiplier of the sampling spread, calibrated on the backtests (docs/advisor.md)
PRIOR_PSEUDO = 5.0  # the previous period's rate is itself shrunk toward the provinces' pooled rate (m records)
DEFAULT_PRIOR_WEIGHT = 0.5
_LATE_JUDGED = frozenset({"PETITION_PROCESSING_ON_TIME", "PETITION_HANDLING_SATISFACTION"})
# κ per indicator: the prior (previous closed period of the same type) weighs κ × its denominator against the
# denominator counted so far. Catalogue counts of distinct items used (3.2, 3.5, 3.5b, 4.5a) grow as dossiers
# arrive and saturate near last period's level, so they lean on it; static catalogue items (1.3, 3.1) don't move.
PRIOR_WEIGHT: dict[str, float] = {
    "ONLINE_SERVICES_USED": 4.0,
    "PAYMENT_PROCEDURES_INTEGRATED": 4.0,
    "CITIZEN_DATA_CONNECTED_FORMALITY": 4.0,
    "PAYMENT_PROCEDURES_ONLINE": 1.0,
    "PUBLISH_ON_TIME": 0.3,
    "PUBLIC_UPDATE_ON_TIME": 0.3,
    "PETITION_PROCESSING_ON_TIME": 1.0,
    "PETITION_HANDLING_SATISFACTION": 1.0,
    "PUBLIC_CONTENT_FULL": 0.0,
    "ONLINE_PROCEDURES": 0.0,
}


@dataclass(frozen=True)
class Flow:
    """New records expected for one indicator: volume per working day and hit rate, with sample sizes."""

    per_day: float
    rate: float
    sample: int


@dataclass(frozen=True)
class Forecast:
    unit: str
    period: str
    as_of: datetime
    remaining_days: int
    window_days: int
    current: UnitScore
    central: UnitScore
    low: UnitScore
    high: UnitScore
    counters: dict[str, tuple[int, int]]  # central projected numerator, denominator

    def to_json(self) -> dict[str, Any]:
        indicators = {}
        for code, now in self.current.indicators.items():
            c, lo, hi = self.central.indicators.get(code), self.low.indicators.get(code), self.high.indicators.get(code)
            proj = self.counters.get(code)
            indicators[code] = {
                "score": json_number(now.score),
                "forecast": json_number(c.score if c else None),
                "low": json_number(lo.score if lo else None),
                "high": json_number(hi.score if hi else None),
                "max_score": json_number(now.max_score),
                "numerator": now.numerator,
                "denominator": json_number(now.denominator),
                "forecast_numerator": proj[0] if proj else None,
                "forecast_denominator": proj[1] if proj else None,
                "rate": json_number(now.rate),
                "forecast_rate": json_number(c.rate if c else None),
            }
        return {
            "unit": self.unit,
            "period": self.period,
            "as_of": self.as_of.isoformat(),
            "remaining_working_days": self.remaining_days,
            "window_working_days": self.window_days,
            "total": json_number(self.current.total),
            "forecast_total": json_number(self.central.total),
            "low_total": json_number(self.low.total),
            "high_total": json_number(self.high.total),
            "groups": {
                g: {
                    "score": json_number(s.score),
                    "forecast": json_number(self.central.groups[g].score),
                    "low": json_number(self.low.groups[g].score),
                    "high": json_number(self.high.groups[g].score),
                }
                for g, s in self.current.groups.items()
            },
            "indicators": indicators,
        }


def _working_index(con: duckdb.DuckDBPyConnection, day: date) -> int:
    row = con.execute("SELECT working_day_index FROM calendar WHERE day = ?", [day]).fetchone()
    if row is None:
        raise ValueError(f"{day} outside the calendar")
    return int(row[0])


def _day_at_index(con: duckdb.DuckDBPyConnection, index: int) -> date | None:
    row = con.execute(
        "SELECT MIN(day) FROM calendar WHERE is_working_day AND working_day_index = ?", [index]
    ).fetchone()
    return row[0] if row and row[0] is not None else None


def _utc(local_day: date) -> datetime:
    """The naive-UTC instant of local midnight starting ``local_day`` (how the store keeps instants)."""
    return datetime(local_day.year, local_day.month, local_day.day, tzinfo=VN_TZ).astimezone(UTC).replace(tzinfo=None)


def forecast(board: Scoreboard, unit_code: str, period: Period | str, *, window: int = 10) -> Forecast:
    """Forecast ``unit_code``'s scores at the end of ``period`` (see the module doc for the model)."""
    p = parse_period(period) if isinstance(period, str) else period
    m = board.methodology
    result = board.scores(p)
    current = result.scores[unit_code]
    as_of = board.state().as_of
    if not p.is_provisional(as_of):
        counters = board.unit_counters(p, unit_code)
        flat = {c: (i.numerator or 0, int(i.denominator or 0)) for c, i in counters.indicators.items()}
        return Forecast(unit_code, p.id, as_of, 0, window, current, current, current, current, flat)
    priors = _priors(board, p, unit_code)  # before the facts of ``p`` are prepared (one build per data version)
    counters = board.unit_counters(p, unit_code)
    today = as_of.astimezone(VN_TZ).date()
    with board.prepared(p) as engine:
        con = engine.con
        idx_today = _working_index(con, today)
        remaining = max(_working_index(con, p.last_day) - idx_today, 0)
        first = _day_at_index(con, idx_today - window) or p.start
        lo_at, hi_at, end_at = _utc(first), _utc(today), _utc(p.end)
        flows = _dossier_flows(con, m, unit_code, p.id, lo_at, hi_at, window)
        q_lo = _utc(max(first, p.start))
        q, _q_n, at_risk, at_risk_sat = _dossier_risk(con, unit_code, p.id, q_lo, hi_at, end_at)
        pflows, qp, _qp_n, p_risk, p_risk_sat = _petition_flows(
            con, unit_code, p.id, lo_at, hi_at, window, idx_today, _working_index(con, p.last_day)
        )
    flows.update(pflows)

    # 1. structural projection: counts now + new records at the recent rates − open items turning late
    structural: dict[str, tuple[int, int]] = {}
    for code, base in counters.indicators.items():
        n, d = base.numerator or 0, int(base.denominator or 0)
        flow = flows.get(code)
        if flow is not None and base.numerator is not None:
            add_d = round(flow.per_day * remaining)
            rate = flow.rate
            if code in _LATE_JUDGED and code in priors:
                # PAKN received lately are still in progress, hence on time, at the cut: new ones get last period's
                # final rate instead of the window's optimistic one
                rate = priors[code][0]
            add_n = min(add_d, round(add_d * rate))
            lost = 0.0
            if code == "PROGRESS_ON_TIME":
                lost = at_risk * (1 - q)
            elif code == "DOSSIER_RECEIVING_SATISFACTION":
                lost = at_risk_sat * (1 - q)
            elif code == "PETITION_PROCESSING_ON_TIME":
                lost = p_risk * (1 - qp)
            elif code == "PETITION_HANDLING_SATISFACTION":
                lost = p_risk_sat * (1 - qp)
            n = max(0, n + add_n - round(lost))
            d = d + add_d
        structural[code] = (min(n, d), d)

    # 2. shrink each projected rate toward the previous period's (small samples move less on their own)
    projected: dict[str, tuple[int, int]] = {}
    spread: dict[str, float] = {}  # standard deviation of the projected rate
    for code, base in counters.indicators.items():
        n, d = structural[code]
        if base.numerator is None or d <= 0:
            projected[code] = (n, d)
            continue
        kappa = PRIOR_WEIGHT.get(code, DEFAULT_PRIOR_WEIGHT)
        rate, evidence = shrink(n / d, float(base.denominator or 0), priors.get(code), kappa)
        projected[code] = (min(d, max(0, round(rate * d))), d)
        if kappa > 0:
            spread[code] = rate_spread(rate, evidence)

    central = _score(m, counters, projected)
    low, high = _range(m, counters, projected, spread, central)
    return Forecast(unit_code, p.id, as_of, remaining, window, current, central, low, high, projected)


def shrink(rate: float, seen: float, prior: tuple[float, float] | None, kappa: float) -> tuple[float, float]:
    """The projected ``rate`` shrunk toward ``prior`` = (rate, denominator) of the previous period: the prior
    weighs ``kappa`` × its denominator, the projection the ``seen`` records counted so far. Returns the rate and
    the evidence (records) behind it."""
    if prior is None or kappa <= 0 or prior[1] <= 0:
        return rate, seen
    weight = kappa * prior[1]
    share = seen / (seen + weight)
    return share * rate + (1 - share) * prior[0], seen + weight


def rate_spread(rate: float, evidence: float) -> float:
    """Standard deviation of a projected rate: binomial on the evidence, times the calibrated ``RANGE_SCALE``."""
    return RANGE_SCALE * math.sqrt(max(rate * (1 - rate), 0.0) / (evidence + 1))


def _score(m: Methodology, counters: UnitCounters, projected: dict[str, tuple[int, int]]) -> UnitScore:
    counts = {
        code: IndicatorCounts(*projected[code], base.extra) if base.numerator is not None else base
        for code, base in counters.indicators.items()
    }
    return score_unit(m, replace(counters, indicators=counts))


def _priors(board: Scoreboard, p: Period, unit_code: str) -> dict[str, tuple[float, float]]:
    """Per indicator (prior rate, prior denominator) from the previous closed period of the same type: the unit's
    rate shrunk toward the rate pooled over the provinces (``PRIOR_PSEUDO`` records of it)."""
    before = board.previous(p)
    if before is None or unit_code not in before.scores:
        return {}
    roots = [c for c, u in board.units().items() if u.is_root and c in before.scores]
    out: dict[str, tuple[float, float]] = {}
    for code, ind in before.scores[unit_code].indicators.items():
        if ind.numerator is None or ind.denominator is None:
            continue
        pooled_n = pooled_d = 0.0
        for r in roots:
            other = before.scores[r].indicators.get(code)
            if other is not None and other.numerator is not None and other.denominator:
                pooled_n += other.numerator
                pooled_d += float(other.denominator)
        d = float(ind.denominator)
        if pooled_d <= 0 and d <= 0:
            continue
        national = pooled_n / pooled_d if pooled_d > 0 else ind.numerator / d
        out[code] = ((ind.numerator + PRIOR_PSEUDO * national) / (d + PRIOR_PSEUDO), d)
    return out


def _range(
    m: Methodology,
    counters: UnitCounters,
    projected: dict[str, tuple[int, int]],
    spread: dict[str, float],
    central: UnitScore,
) -> tuple[UnitScore, UnitScore]:
    """Low and high ends: each indicator scored at its rate ∓ ``RANGE_Z`` spreads; group and total ends add the
    indicators' score deviations in quadrature (independent errors), so the total range is not the sum of
    every indicator's worst case."""

    def shifted(sign: int) -> UnitScore:
        moved = dict(projected)
        for code, sd in spread.items():
            n, d = projected[code]
            moved[code] = (min(d, max(0, round(n + sign * RANGE_Z * sd * d))), d)
        return _score(m, counters, moved)

    def combine(end: UnitScore, sign: int) -> UnitScore:
        def dev(code: str) -> float:
            a, b = central.indicators[code].score, end.indicators[code].score
            return float((a or Decimal(0)) - (b or Decimal(0)))

        groups = {}
        for g, gs in central.groups.items():
            half = math.sqrt(sum(dev(c) ** 2 for c, i in central.indicators.items() if i.group == g))
            value = min(max(float(gs.score) + sign * half, 0.0), float(gs.max_score))
            groups[g] = replace(gs, score=Decimal(str(round(value, 2))))
        half_total = math.sqrt(sum(dev(c) ** 2 for c in central.indicators))
        total = min(max(float(central.total) + sign * half_total, 0.0), float(central.max_total))
        return replace(end, groups=groups, total=Decimal(str(round(total, 2))))

    return combine(shifted(-1), -1), combine(shifted(1), 1)


def _subtree(alias: str, column: str) -> str:
    return f"JOIN unit_closure c ON c.descendant = {alias}.{column} AND c.ancestor = $unit"


def _dossier_flows(
    con: duckdb.DuckDBPyConnection, m: Methodology, unit: str, period_id: str, lo: datetime, hi: datetime, days: int
) -> dict[str, Flow]:
    online = online_column(m)
    sums = ", ".join(
        f"SUM(CASE WHEN ({num.format(online=online)}) THEN 1 ELSE 0 END), SUM(CASE WHEN ({den}) THEN 1 ELSE 0 END)"
        for _code, num, den in DOSSIER_INDICATORS
    )
    row = con.execute(
        f"SELECT {sums} FROM dossier_facts f {_subtree('f', 'unit_code')} "
        "WHERE f.period_id = $period AND f.received_at >= $lo AND f.received_at < $hi",
        {"unit": unit, "period": period_id, "lo": lo, "hi": hi},
    ).fetchone()
    out: dict[str, Flow] = {}
    for i, (code, _n, _d) in enumerate(DOSSIER_INDICATORS):
        num = int(row[2 * i] or 0) if row else 0
        den = int(row[2 * i + 1] or 0) if row else 0
        out[code] = Flow(den / max(days, 1), num / den if den else 0.0, den)
    return out


def _dossier_risk(
    con: duckdb.DuckDBPyConnection, unit: str, period_id: str, lo: datetime, hi: datetime, end_at: datetime
) -> tuple[float, int, int, int]:
    """(q, sample, at-risk open dossiers, of which otherwise satisfied)."""
    recent = con.execute(
        f"SELECT COUNT(*), SUM(CASE WHEN f.on_time THEN 1 ELSE 0 END) FROM dossier_facts f "
        f"{_subtree('f', 'unit_code')} WHERE f.period_id = $period AND f.in_proc "
        "AND f.due_at >= $lo AND f.due_at < $hi",
        {"unit": unit, "period": period_id, "lo": lo, "hi": hi},
    ).fetchone()
    n = int(recent[0] or 0) if recent else 0
    q = (int(recent[1] or 0) / n) if recent and n else 1.0
    risk = con.execute(
        f"SELECT COUNT(*), SUM(CASE WHEN f.satisfied THEN 1 ELSE 0 END) FROM dossier_facts f "
        f"{_subtree('f', 'unit_code')} WHERE f.period_id = $period AND f.in_proc AND NOT f.finished "
        "AND f.on_time AND f.due_at >= $hi AND f.due_at < $end",
        {"unit": unit, "period": period_id, "hi": hi, "end": end_at},
    ).fetchone()
    return q, n, int(risk[0] or 0) if risk else 0, int(risk[1] or 0) if risk else 0


def _petition_flows(
    con: duckdb.DuckDBPyConnection,
    unit: str,
    period_id: str,
    lo: datetime,
    hi: datetime,
    days: int,
    idx_today: int,
    idx_last: int,
) -> tuple[dict[str, Flow], float, int, int, int]:
    where = f"FROM petition_facts p {_subtree('p', 'holder_unit')} WHERE p.period_id = $period AND p.in_tree"
    params = {"unit": unit, "period": period_id, "lo": lo, "hi": hi}
    specs = ", ".join(
        f"SUM(CASE WHEN ({num}) THEN 1 ELSE 0 END), SUM(CASE WHEN ({den}) THEN 1 ELSE 0 END)"
        for _c, num, den in PETITION_INDICATORS
    )
    row = con.execute(f"SELECT {specs} {where} AND p.reception_at >= $lo AND p.reception_at < $hi", params).fetchone()
    flows: dict[str, Flow] = {}
    for i, (code, _n, _d) in enumerate(PETITION_INDICATORS):
        num = int(row[2 * i] or 0) if row else 0
        den = int(row[2 * i + 1] or 0) if row else 0
        flows[code] = Flow(den / max(days, 1), num / den if den else 1.0, den)
    closed = con.execute(
        f"SELECT COUNT(*), SUM(CASE WHEN p.on_time THEN 1 ELSE 0 END) {where} AND p.closing_status IS NOT NULL "
        "AND p.closing_at >= $lo AND p.closing_at < $hi",
        params,
    ).fetchone()
    n = int(closed[0] or 0) if closed else 0
    qp = int(closed[1] or 0) / n if closed and n else 1.0
    # in progress and still on time, whose limit falls before the period's last working day
    remaining = idx_last - idx_today
    risk = con.execute(
        f"SELECT COUNT(*), SUM(CASE WHEN p.satisfied THEN 1 ELSE 0 END) {where} AND p.closing_status IS NULL "
        f"AND p.on_time AND p.working_days + {int(remaining)} > {LIMIT_HANDLING}",
        {"unit": unit, "period": period_id},
    ).fetchone()
    return flows, qp, n, int(risk[0] or 0) if risk else 0, int(risk[1] or 0) if risk else 0


def backtest(
    board_at: Scoreboard, board_end: Scoreboard, units: list[str], period: Period | str, *, window: int = 10
) -> dict[str, Any]:
    """Forecast with ``board_at`` (clock at the cut) against the actual closed scores of ``board_end`` (clock
    after the period): per unit forecast, actual, error and whether the actual fell in the range; summary MAE,
    max error and coverage of the total (points)."""
    p = parse_period(period) if isinstance(period, str) else period
    actual = board_end.scores(p)
    rows = []
    errors: list[Decimal] = []
    naive_errors: list[Decimal] = []
    covered = 0
    for code in units:
        f = forecast(board_at, code, p, window=window)
        real = actual.scores[code].total
        err, naive = f.central.total - real, f.current.total - real
        errors.append(abs(err))
        naive_errors.append(abs(naive))
        inside = f.low.total <= real <= f.high.total
        covered += inside
        rows.append(
            {
                "unit": code,
                "at_cut": json_number(f.current.total),
                "forecast": json_number(f.central.total),
                "low": json_number(f.low.total),
                "high": json_number(f.high.total),
                "actual": json_number(real),
                "error": json_number(err),
                "naive_error": json_number(naive),
                "covered": inside,
            }
        )
    n = max(len(rows), 1)
    return {
        "period": p.id,
        "cut": board_at.now().isoformat(),
        "units": rows,
        "mae": round(float(sum(errors, Decimal(0))) / n, 4),
        "naive_mae": round(float(sum(naive_errors, Decimal(0))) / n, 4),
        "max_error": float(max(errors, default=Decimal(0))),
        "coverage": round(covered / n, 4),
    }
