"""Advisor pages under ``/advisor``: a unit's advice, warnings and forecast; what-if; the A4 leader brief; alert
rules. Server-rendered (Jinja2, ``templates/advisor/``), numbers in vi-VN, null as "—"; the same service calls
as the JSON API (:mod:`chiso766.api.advisor`)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from chiso766.advisor import alerts
from chiso766.advisor.advice import advise, parse_changes, whatif
from chiso766.advisor.documents import brief_data
from chiso766.advisor.forecast import forecast
from chiso766.advisor.warnings import early_warnings
from chiso766.api.app import board_of
from chiso766.domain.periods import Period, parse_period
from chiso766.errors import Chiso766Error
from chiso766.service.scoreboard import Scoreboard
from chiso766.web.render import templates

Board = Annotated[Scoreboard, Depends(board_of)]
router = APIRouter(prefix="/advisor", include_in_schema=False)

KIND_LABELS = {
    "total_below": "Tổng điểm dưới ngưỡng",
    "rank_drop": "Xếp hạng giảm ≥ k bậc",
    "group_drop": "Nhóm chỉ số giảm ≥ x điểm",
    "overdue_spike": "Hồ sơ quá hạn tăng đột biến",
    "stale_data": "Dữ liệu không cập nhật (giờ)",
}


def decimals(obj: Any) -> Any:
    """JSON floats → exact Decimals (their 2-decimal value) so the vi-VN filters never see binary noise."""
    if isinstance(obj, float):
        return Decimal(repr(obj))
    if isinstance(obj, dict):
        return {k: decimals(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [decimals(v) for v in obj]
    return obj


async def _form(request: Request) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` body (python-multipart is not a dependency)."""
    body = (await request.body()).decode("utf-8", errors="replace")
    return {k: v[-1] for k, v in parse_qs(body, keep_blank_values=True).items()}


def _period(board: Scoreboard, period: str | None) -> Period:
    return parse_period(period) if period else board.default_period()


@router.get("/alerts", response_class=HTMLResponse)
def alerts_page(board: Board, request: Request, error: str | None = None) -> Response:
    return templates.TemplateResponse(
        request,
        "advisor/alerts.html",
        {
            "rules": alerts.list_rules(board),
            "events": alerts.list_events(board, 50),
            "kinds": KIND_LABELS,
            "groups": board.methodology.groups,
            "error": error,
        },
    )


@router.post("/alerts")
async def alerts_add(board: Board, request: Request) -> Response:
    form = await _form(request)
    doc: dict[str, Any] = {k: str(v) for k, v in form.items() if str(v).strip()}
    try:
        doc["threshold"] = float(doc.get("threshold", "x"))
    except ValueError:
        doc["threshold"] = None
    try:
        alerts.add_rule(board, doc)
    except Chiso766Error as exc:
        response = alerts_page(board, request, error=f"{exc.message_vi} / {exc.message_en}")
        response.status_code = 400
        return response
    return RedirectResponse("/advisor/alerts", status_code=303)


@router.post("/alerts/{rule_id}/delete")
def alerts_delete(board: Board, rule_id: str) -> Response:
    alerts.delete_rule(board, rule_id)
    return RedirectResponse("/advisor/alerts", status_code=303)


@router.post("/alerts/evaluate")
def alerts_evaluate(board: Board, request: Request) -> Response:
    conf = request.app.state.settings.extra.get("smtp")
    alerts.evaluate(board, smtp=alerts.SmtpSettings(**conf) if isinstance(conf, dict) else None)
    return RedirectResponse("/advisor/alerts", status_code=303)


@router.get("/{unit}", response_class=HTMLResponse)
def unit_page(board: Board, request: Request, unit: str, period: str | None = None) -> Response:
    p = _period(board, period)
    a = advise(board, unit, p, top=5, records=10)
    w = early_warnings(board, unit, p if p.is_provisional(board.now()) else None, days=3, limit=20)
    f = forecast(board, unit, p).to_json()
    return templates.TemplateResponse(
        request, "advisor/unit.html", {"a": decimals(a), "w": decimals(w), "f": decimals(f)}
    )


@router.get("/{unit}/brief", response_class=HTMLResponse)
def brief_page(board: Board, request: Request, unit: str, period: str | None = None) -> Response:
    data = brief_data(board, unit, _period(board, period))
    return templates.TemplateResponse(request, "advisor/brief.html", {"b": decimals(data)})


def _whatif_context(board: Scoreboard, unit: str, p: Period) -> dict[str, Any]:
    counters = board.unit_counters(p, unit)
    rows = []
    for ind in board.methodology.indicators:
        if ind.is_constant:
            continue
        c = counters.indicators.get(ind.code)
        rows.append(
            {
                "code": ind.code,
                "number": ind.number,
                "name_vi": ind.name_vi,
                "numerator": c.numerator if c else None,
                "denominator": c.denominator if c else None,
                "dn": 0,
                "dd": 0,
            }
        )
    return {
        "unit": unit,
        "unit_name": board.unit(unit).name,
        "period": p.id,
        "indicators": rows,
        "resolve_overdue": 0,
        "resolve": "",
        "result": None,
        "error": None,
    }


@router.get("/{unit}/whatif", response_class=HTMLResponse)
def whatif_page(board: Board, request: Request, unit: str, period: str | None = None) -> Response:
    return templates.TemplateResponse(
        request, "advisor/whatif.html", _whatif_context(board, unit, _period(board, period))
    )


@router.post("/{unit}/whatif", response_class=HTMLResponse)
async def whatif_post(board: Board, request: Request, unit: str) -> Response:
    form = await _form(request)
    p = _period(board, str(form.get("period") or "") or None)
    ctx = _whatif_context(board, unit, p)
    try:
        changes = []
        for row in ctx["indicators"]:
            dn, dd = int(str(form.get(f"n_{row['code']}") or 0)), int(str(form.get(f"d_{row['code']}") or 0))
            row["dn"], row["dd"] = dn, dd
            if dn or dd:
                changes.append({"indicator": row["code"], "numerator": dn, "denominator": dd})
        overdue = int(str(form.get("resolve_overdue") or 0))
        resolve = [x.strip() for x in str(form.get("resolve") or "").split() if x.strip()]
        ctx.update(resolve_overdue=overdue, resolve="\n".join(resolve))
        result = whatif(
            board, unit, p, changes=parse_changes(changes), resolve=resolve, resolve_overdue=max(overdue, 0)
        )
        ctx["result"] = decimals(result)
    except ValueError:
        ctx["error"] = "Giá trị phải là số nguyên / Values must be integers"
    except Chiso766Error as exc:
        ctx["error"] = f"{exc.message_vi} / {exc.message_en}"
    status = 400 if ctx["error"] else 200
    return templates.TemplateResponse(request, "advisor/whatif.html", ctx, status_code=status)


def setup(app: FastAPI) -> None:
    """Nothing to create: the alert tables are made by :func:`chiso766.api.advisor.setup`."""
