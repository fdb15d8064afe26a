"""Forecast of every indicator and the total at period end, with a range, and its backtest.

Model (documented assumptions, all from records already in and recent rates):

- Horizon: ``remaining`` = working days after today up to the period's last day (``calendar`` table).
- Recent window: the ``window`` working days before today. For each dossier indicator the window's received
  dossiers give a volume per working day (denominator members) and a hit rate (numerator / denominator, as
  counted now); new records until the end = volume × remaining, hits = rate × new records.
- Open dossiers now counted on time whose due date falls before the period end are "at risk" for 2.1 (and 5.4
  when otherwise satisfied): a share 1 − q of them turns late, q = the on-time share of the unit's dossiers
  whose due date fell in the window (finished on time or not).
- PAKN (5.2, 5.3): new PAKN at the window's rate with its on-time / satisfied shares; PAKN in progress whose
  15-working-day limit falls before the end turn late with the same 1 − q_p.
- Catalogue indicators (1.x, 3.1, 3.2, 3.5, 3.5b, 4.5a) are held at their current counts.
- Range: volumes ± 1.96 √V (Poisson), rates ± 1.96 √(p(1 − p)/m) (binomial, m = window sample); the low and
  high ends are the worst and best scores over those combinations, scored by the scoring core.
A closed period is its own forecast (range of zero width).
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
from chiso766.scoring import IndicatorCounts, UnitScore, score_unit
from chiso766.scoring.core import json_number
from chiso766.service.scoreboard import Scoreboard

Z = 1.96


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


def _bounds(p: float, m: int, sign: int) -> float:
    if m <= 0:
        return p
    return min(1.0, max(0.0, p + sign * Z * math.sqrt(max(p * (1 - p), 0.0) / m)))


def forecast(board: Scoreboard, unit_code: str, period: Period | str, *, window: int = 10) -> Forecast:
    """Forecast ``unit_code``'s scores at the end of ``period`` (see the module doc for the model)."""
    p = parse_period(period) if isinstance(period, str) else period
    m = board.methodology
    result = board.scores(p)
    current = result.scores[unit_code]
    counters = board.unit_counters(p, unit_code)
    as_of = board.state().as_of
    if not p.is_provisional(as_of):
        flat = {c: (i.numerator or 0, int(i.denominator or 0)) for c, i in counters.indicators.items()}
        return Forecast(unit_code, p.id, as_of, 0, window, current, current, current, current, flat)
    today = as_of.astimezone(VN_TZ).date()
    with board.prepared(p) as engine:
        con = engine.con
        idx_today = _working_index(con, today)
        remaining = max(_working_index(con, p.last_day) - idx_today, 0)
        first = _day_at_index(con, idx_today - window) or p.start
        lo_at, hi_at, end_at = _utc(first), _utc(today), _utc(p.end)
        flows = _dossier_flows(con, m, unit_code, p.id, lo_at, hi_at, window)
        q, q_n, at_risk, at_risk_sat = _dossier_risk(con, unit_code, p.id, lo_at, hi_at, end_at)
        pflows, qp, qp_n, p_risk, p_risk_sat = _petition_flows(
            con, unit_code, p.id, lo_at, hi_at, window, idx_today, _working_index(con, p.last_day)
        )
    flows.update(pflows)

    def scenario(vol_sign: int, rate_sign: int) -> tuple[UnitScore, dict[str, tuple[int, int]]]:
        counts = dict(counters.indicators)
        projected: dict[str, tuple[int, int]] = {}
        for code, base in counters.indicators.items():
            n, d = base.numerator or 0, int(base.denominator or 0)
            flow = flows.get(code)
            if flow is not None and base.numerator is not None:
                volume = flow.per_day * remaining
                volume = max(0.0, volume + vol_sign * Z * math.sqrt(volume))
                rate = _bounds(flow.rate, flow.sample, rate_sign)
                add_d = round(volume)
                add_n = min(add_d, round(volume * rate))
                lost = 0.0
                if code == "PROGRESS_ON_TIME":
                    lost = at_risk * (1 - _bounds(q, q_n, rate_sign))
                elif code == "DOSSIER_RECEIVING_SATISFACTION":
                    lost = at_risk_sat * (1 - _bounds(q, q_n, rate_sign))
                elif code == "PETITION_PROCESSING_ON_TIME":
                    lost = p_risk * (1 - _bounds(qp, qp_n, rate_sign))
                elif code == "PETITION_HANDLING_SATISFACTION":
                    lost = p_risk_sat * (1 - _bounds(qp, qp_n, rate_sign))
                n = max(0, n + add_n - round(lost))
                d = d + add_d
                counts[code] = IndicatorCounts(min(n, d), d, base.extra)
            projected[code] = (min(n, d), d)
        return score_unit(m, replace(counters, indicators=counts)), projected

    central, projected = scenario(0, 0)
    options = [scenario(v, r)[0] for v in (-1, 1) for r in (-1, 1)] + [central]
    low = min(options, key=lambda s: s.total)
    high = max(options, key=lambda s: s.total)
    low, high = _per_indicator_bounds(m, options, low, high)
    return Forecast(unit_code, p.id, as_of, remaining, window, current, central, low, high, projected)


def _per_indicator_bounds(
    m: Methodology, options: list[UnitScore], low: UnitScore, high: UnitScore
) -> tuple[UnitScore, UnitScore]:
    """Low/high totals from the worst/best scenario; per-indicator and group ends are the min/max over all."""

    def pick(best: bool, base: UnitScore) -> UnitScore:
        ind = {}
        for code in base.indicators:
            values = [o.indicators[code] for o in options if code in o.indicators]
            chosen = sorted(values, key=lambda x: Decimal(x.score) if x.score is not None else Decimal(-1))
            ind[code] = chosen[-1] if best else chosen[0]
        groups = {}
        for g in base.groups:
            values_g = sorted((o.groups[g] for o in options), key=lambda x: x.score)
            groups[g] = values_g[-1] if best else values_g[0]
        return replace(base, indicators=ind, groups=groups)

    return pick(False, low), pick(True, high)


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
