"""Early warning: what is about to cost points in the unit's subtree, before it does.

- Open dossiers now counted on time (2.1) whose due date falls within ``days`` working days of today, grouped by
  unit and procedure, with the points lost if all of them turned late (scored by the scoring core). The
  handling officer is not part of the records chiso766 reads (INPUT_FORMAT), so ``officer`` is always null.
- Open dossiers already overdue (they count late; finishing them stops nothing, but they are the queue).
- PAKN in progress within ``days`` working days of the 15-working-day handling limit, and PAKN waiting for
  publication within ``days`` of the 2-working-day publication limit (limits of D-5.2-3, engine constants).
- Indicators and the total projected (:mod:`chiso766.advisor.forecast`) to cross a band downward: below a
  target function's threshold, or into a lower ``band``-point step (total: ``total_band``).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from chiso766.advisor.forecast import _day_at_index, _utc, _working_index, forecast
from chiso766.advisor.solve import Change, apply_changes, total_of
from chiso766.domain.periods import VN_TZ, Period, PeriodType, parse_period, period_containing
from chiso766.engine.facts_petitions import LIMIT_HANDLING, LIMIT_PUBLISH
from chiso766.methodology.model import ScoringFunction
from chiso766.presentation.format import fmt_count, fmt_points
from chiso766.scoring.core import json_number
from chiso766.service.scoreboard import Scoreboard


def current_month(board: Scoreboard) -> Period:
    return period_containing(PeriodType.MONTH, board.now().date())


def early_warnings(
    board: Scoreboard,
    unit_code: str,
    period: Period | str | None = None,
    *,
    days: int = 3,
    limit: int = 50,
    band: Decimal = Decimal("1"),
    total_band: Decimal = Decimal("5"),
) -> dict[str, Any]:
    """The warning document of ``unit_code`` for ``period`` (default: the current month)."""
    p = current_month(board) if period is None else parse_period(period) if isinstance(period, str) else period
    board.unit(unit_code)
    now = board.state().as_of
    today = now.astimezone(VN_TZ).date()
    counters = board.unit_counters(p, unit_code)
    with board.prepared(p) as engine:
        con = engine.con
        idx = _working_index(con, today)
        last = _day_at_index(con, idx + days) or today
        params = {"unit": unit_code, "period": p.id, "now": _naive_utc(now), "until": _utc(last + timedelta(days=1))}
        base = """
            FROM dossier_facts f
            JOIN unit_closure c ON c.descendant = f.unit_code AND c.ancestor = $unit
            LEFT JOIN calendar k ON k.day = CAST(f.due_at + INTERVAL 7 HOUR AS DATE)
            LEFT JOIN units u ON u.unit_code = f.unit_code
            LEFT JOIN procedures pr ON pr.procedure_code = f.procedure_code
            WHERE f.period_id = $period AND f.in_proc AND NOT f.finished"""
        due_rows = con.execute(
            f"""SELECT f.dossier_id, f.unit_code, u.name, f.procedure_code, pr.name, f.due_at,
                       k.working_day_index - {idx} AS days_left, f.satisfied
                {base} AND f.on_time AND f.due_at > $now AND f.due_at < $until
                ORDER BY f.due_at, f.dossier_id""",
            params,
        ).fetchall()
        overdue = con.execute(
            f"""SELECT f.dossier_id, f.unit_code, u.name, f.procedure_code, pr.name, f.due_at,
                       {idx} - k.working_day_index AS days_over
                {base} AND NOT f.on_time ORDER BY f.due_at NULLS LAST, f.dossier_id""",
            {"unit": unit_code, "period": p.id},
        ).fetchall()
        pet_params = {"unit": unit_code, "period": p.id}
        petitions = con.execute(
            f"""SELECT p.petition_id, p.holder_unit, u.name, p.clock_start_at,
                       CASE WHEN p.closing_status = 'CHO_CONG_KHAI' THEN 'publish' ELSE 'handling' END AS stage,
                       CASE WHEN p.closing_status = 'CHO_CONG_KHAI' THEN {LIMIT_PUBLISH} - p.publish_working_days
                            ELSE {LIMIT_HANDLING} - p.working_days END AS days_left
                FROM petition_facts p
                JOIN unit_closure c ON c.descendant = p.holder_unit AND c.ancestor = $unit
                LEFT JOIN units u ON u.unit_code = p.holder_unit
                WHERE p.period_id = $period AND p.in_tree AND p.on_time AND (
                      (p.closing_status IS NULL AND p.working_days >= {LIMIT_HANDLING - days})
                   OR (p.closing_status = 'CHO_CONG_KHAI' AND p.published_at IS NULL
                       AND p.publish_working_days >= {LIMIT_PUBLISH - days}))
                ORDER BY days_left, p.petition_id""",
            pet_params,
        ).fetchall()

    def group(rows: list[Any], key: int, name: int) -> list[dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for r in rows:
            g = out.setdefault(r[key] or "—", {"key": r[key], "name": r[name], "count": 0})
            g["count"] += 1
        return sorted(out.values(), key=lambda g: (-g["count"], g["key"] or ""))

    at_risk = len(due_rows)
    at_risk_sat = sum(1 for r in due_rows if r[7])
    points_at_risk = Decimal("0.00")
    known = set(board.methodology.indicator_codes())
    if at_risk:
        changes = [Change("PROGRESS_ON_TIME", -at_risk), Change("DOSSIER_RECEIVING_SATISFACTION", -at_risk_sat)]
        changes = [ch for ch in changes if ch.indicator in known and ch.indicator in counters.indicators]
        m = board.methodology
        points_at_risk = total_of(m, counters) - total_of(m, apply_changes(m, counters, changes))
    bands = _band_crossings(board, unit_code, p, band, total_band)
    return {
        "unit": unit_code,
        "period": p.id,
        "as_of": now.isoformat(),
        "working_days": days,
        "due_soon": {
            "count": at_risk,
            "points_at_risk": json_number(points_at_risk),
            "text_vi": (
                f"{fmt_count(at_risk)} hồ sơ đang mở đến hạn trong {days} ngày làm việc; "
                f"nếu trễ hạn sẽ mất {fmt_points(points_at_risk)} điểm"
            ),
            "text_en": (
                f"{fmt_count(at_risk, 'en')} open dossiers fall due within {days} working days; "
                f"if late they cost {fmt_points(points_at_risk, 'en')} points"
            ),
            "by_unit": group(due_rows, 1, 2),
            "by_procedure": group(due_rows, 3, 4),
            "by_officer": [],
            "records": [
                {
                    "id": r[0],
                    "unit": r[1],
                    "unit_name": r[2],
                    "procedure": r[3],
                    "due_at": _iso(r[5]),
                    "working_days_left": r[6],
                    "officer": None,
                }
                for r in due_rows[:limit]
            ],
        },
        "overdue_open": {
            "count": len(overdue),
            "by_unit": group(overdue, 1, 2),
            "by_procedure": group(overdue, 3, 4),
            "records": [
                {"id": r[0], "unit": r[1], "procedure": r[3], "due_at": _iso(r[5]), "working_days_over": r[6]}
                for r in overdue[:limit]
            ],
        },
        "petitions_near_limit": {
            "count": len(petitions),
            "records": [
                {
                    "id": r[0],
                    "unit": r[1],
                    "unit_name": r[2],
                    "clock_start_at": _iso(r[3]),
                    "stage": r[4],
                    "working_days_left": r[5],
                }
                for r in petitions[:limit]
            ],
        },
        "band_crossings": bands,
    }


def _band_crossings(
    board: Scoreboard, unit_code: str, p: Period, band: Decimal, total_band: Decimal
) -> list[dict[str, Any]]:
    if not p.is_provisional(board.state().as_of):
        return []
    f = forecast(board, unit_code, p)
    out: list[dict[str, Any]] = []
    for code, now in f.current.indicators.items():
        ahead = f.central.indicators.get(code)
        if ahead is None or now.score is None or ahead.score is None or ahead.score >= now.score:
            continue
        ind = board.methodology.indicator(code)
        t = ind.scoring.threshold
        kind = None
        if (
            ind.scoring.function is ScoringFunction.TARGET
            and t is not None
            and now.rate is not None
            and ahead.rate is not None
            and now.rate >= t * 100 > ahead.rate
        ):
            kind = "threshold"
        elif math.floor(ahead.score / band) < math.floor(now.score / band):
            kind = "band"
        if kind:
            out.append(
                {
                    "indicator": code,
                    "kind": kind,
                    "score": json_number(now.score),
                    "forecast": json_number(ahead.score),
                    "low": json_number(f.low.indicators[code].score),
                    "text_vi": f"{ind.number} {ind.name_vi}: dự báo giảm từ {fmt_points(now.score)} "
                    f"xuống {fmt_points(ahead.score)} điểm",
                    "text_en": f"{ind.number} {ind.name_en}: projected to fall from {fmt_points(now.score, 'en')} "
                    f"to {fmt_points(ahead.score, 'en')} points",
                }
            )
    if math.floor(f.central.total / total_band) < math.floor(f.current.total / total_band):
        out.append(
            {
                "indicator": "TOTAL",
                "kind": "band",
                "score": json_number(f.current.total),
                "forecast": json_number(f.central.total),
                "low": json_number(f.low.total),
                "text_vi": f"Tổng điểm dự báo giảm từ {fmt_points(f.current.total)} "
                f"xuống {fmt_points(f.central.total)}",
                "text_en": f"Total projected to fall from {fmt_points(f.current.total, 'en')} "
                f"to {fmt_points(f.central.total, 'en')}",
            }
        )
    return out


def _naive_utc(now: datetime) -> datetime:
    return now.astimezone(UTC).replace(tzinfo=None)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() + "Z" if value is not None else None
