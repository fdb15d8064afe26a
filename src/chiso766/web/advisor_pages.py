"""Advisor pages under ``/advisor``: a unit's advice, warnings and forecast; what-if; the A4 leader brief; alert
rules. Server-rendered (Jinja2, ``templates/advisor/``), numbers in vi-VN, null as "—"; like the dashboard,
``?lang=en`` (or the ``lang`` cookie it sets) switches to English with en-US numbers; the same service calls
and the same access policy as the JSON API (:mod:`chiso766.api.advisor`): dossier lists only for a login scoped
to the unit (otherwise "Đăng nhập để xem danh sách hồ sơ" with a link to ``/login?next=…``), what-if by dossier
ids likewise, and the alert pages need a login (anonymous visitors are sent to the login page)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from chiso766.advisor import alerts
from chiso766.advisor.advice import parse_changes
from chiso766.advisor.forecast import forecast
from chiso766.api.advisor import (
    add_rule_scoped,
    advice_doc,
    brief_public,
    delete_rule_scoped,
    login_url,
    record_access,
    scope_of,
    warnings_doc,
    whatif_doc,
)
from chiso766.api.app import STATUS_BY_CODE, board_of
from chiso766.api.scores import account_of, lang_of
from chiso766.domain.periods import Period, parse_period
from chiso766.errors import Chiso766Error
from chiso766.service.scoreboard import Scoreboard
from chiso766.web.render import templates, url

Board = Annotated[Scoreboard, Depends(board_of)]
router = APIRouter(prefix="/advisor", include_in_schema=False)

LANG_COOKIE_DAYS = 365

KIND_LABELS = {
    "total_below": "Tổng điểm dưới ngưỡng",
    "rank_drop": "Xếp hạng giảm ≥ k bậc",
    "group_drop": "Nhóm chỉ số giảm ≥ x điểm",
    "overdue_spike": "Hồ sơ quá hạn tăng đột biến",
    "stale_data": "Dữ liệu không cập nhật (giờ)",
}
KIND_LABELS_EN = {
    "total_below": "Total score below threshold",
    "rank_drop": "Rank drops by ≥ k places",
    "group_drop": "Indicator group drops by ≥ x points",
    "overdue_spike": "Spike in overdue dossiers",
    "stale_data": "Data not updated (hours)",
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


def _render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    """The template with the page language in its context; ``?lang=vi|en`` is remembered in a cookie, as on the
    dashboard (:mod:`chiso766.web.pages`)."""
    response = templates.TemplateResponse(request, name, {"lang": lang_of(request), **context}, status_code=status)
    asked = request.query_params.get("lang")
    if asked in ("vi", "en"):
        response.set_cookie("lang", asked, max_age=LANG_COOKIE_DAYS * 86400, samesite="lax", path="/")
    return response


def _message(request: Request, exc: Chiso766Error) -> str:
    """An error for the page: both languages on a Vietnamese page, English alone on an English one."""
    return exc.message_en if lang_of(request) == "en" else f"{exc.message_vi} / {exc.message_en}"


def _period(board: Scoreboard, period: str | None) -> Period:
    return parse_period(period) if period else board.default_period()


def _to_login(request: Request, back: str) -> Response:
    return RedirectResponse(url("/login", next=back), status_code=303)


def _status(exc: Chiso766Error) -> int:
    return getattr(exc, "status", None) or STATUS_BY_CODE.get(exc.code, 400)


@router.get("/alerts", response_class=HTMLResponse)
def alerts_page(board: Board, request: Request, error: str | None = None) -> Response:
    """The rules and events of the account's subtree (login; anonymous → the login page)."""
    account = account_of(request)
    if account is None:
        return _to_login(request, "/advisor/alerts")
    scope = scope_of(board, account)
    return _render(
        request,
        "advisor/alerts.html",
        {
            "rules": alerts.list_rules(board, scope=scope),
            "events": alerts.list_events(board, 50, scope=scope),
            "kinds": KIND_LABELS_EN if lang_of(request) == "en" else KIND_LABELS,
            "groups": board.methodology.groups,
            "error": error,
            "account": account,
        },
    )


@router.post("/alerts")
async def alerts_add(board: Board, request: Request) -> Response:
    account = account_of(request)
    if account is None:
        return _to_login(request, "/advisor/alerts")
    form = await _form(request)
    doc: dict[str, Any] = {k: str(v) for k, v in form.items() if str(v).strip()}
    try:
        doc["threshold"] = float(doc.get("threshold", "x"))
    except ValueError:
        doc["threshold"] = None
    try:
        add_rule_scoped(board, account, doc)
    except Chiso766Error as exc:
        response = alerts_page(board, request, error=_message(request, exc))
        response.status_code = _status(exc)
        return response
    return RedirectResponse("/advisor/alerts", status_code=303)


@router.post("/alerts/{rule_id}/delete")
def alerts_delete(board: Board, request: Request, rule_id: str) -> Response:
    account = account_of(request)
    if account is None:
        return _to_login(request, "/advisor/alerts")
    try:
        delete_rule_scoped(board, account, rule_id)
    except Chiso766Error as exc:
        response = alerts_page(board, request, error=_message(request, exc))
        response.status_code = _status(exc)
        return response
    return RedirectResponse("/advisor/alerts", status_code=303)


@router.post("/alerts/evaluate")
def alerts_evaluate(board: Board, request: Request) -> Response:
    account = account_of(request)
    if account is None:
        return _to_login(request, "/advisor/alerts")
    conf = request.app.state.settings.extra.get("smtp")
    smtp = alerts.SmtpSettings(**conf) if isinstance(conf, dict) else None
    alerts.evaluate(board, smtp=smtp, scope=scope_of(board, account))
    return RedirectResponse("/advisor/alerts", status_code=303)


@router.get("", response_class=HTMLResponse)
def advisor_index(board: Board, request: Request) -> Response:
    """Pick a unit: a logged-in official goes straight to their own unit; others choose a province."""
    account = account_of(request)
    if account is not None:
        asked = request.query_params.get("lang")
        return RedirectResponse(url(f"/advisor/{account.unit_code}", lang=asked), status_code=303)
    provinces = sorted(((u.code, u.name or u.code) for u in board.units().values() if u.is_root), key=lambda x: x[1])
    return _render(request, "advisor/index.html", {"provinces": provinces})


@router.get("/{unit}", response_class=HTMLResponse)
def unit_page(board: Board, request: Request, unit: str, period: str | None = None) -> Response:
    """Advice, warnings and forecast; dossier lists only for a login scoped to the unit (audited)."""
    p = _period(board, period)
    a = advice_doc(request, board, unit, p, top=5, records=10)
    w = warnings_doc(request, board, unit, p if p.is_provisional(board.now()) else None, days=3, limit=20)
    f = forecast(board, unit, p).to_json()
    context = {"a": decimals(a), "w": decimals(w), "f": decimals(f), "account": account_of(request)}
    return _render(request, "advisor/unit.html", context)


@router.get("/{unit}/brief", response_class=HTMLResponse)
def brief_page(board: Board, request: Request, unit: str, period: str | None = None) -> Response:
    data = brief_public(board, unit, _period(board, period))
    return _render(request, "advisor/brief.html", {"b": decimals(data)})


def _whatif_context(board: Scoreboard, request: Request, unit: str, p: Period) -> dict[str, Any]:
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
                "name_en": ind.name_en,
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
        "access": record_access(request, board, unit),
        "login_url": login_url(request),
        "account": account_of(request),
    }


@router.get("/{unit}/whatif", response_class=HTMLResponse)
def whatif_page(board: Board, request: Request, unit: str, period: str | None = None) -> Response:
    return _render(request, "advisor/whatif.html", _whatif_context(board, request, unit, _period(board, period)))


@router.post("/{unit}/whatif", response_class=HTMLResponse)
async def whatif_post(board: Board, request: Request, unit: str) -> Response:
    form = await _form(request)
    p = _period(board, str(form.get("period") or "") or None)
    ctx = _whatif_context(board, request, unit, p)
    status = 200
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
        result = whatif_doc(request, board, unit, p, parse_changes(changes), resolve, max(overdue, 0))
        ctx["result"] = decimals(result)
    except ValueError:
        en = lang_of(request) == "en"
        ctx["error"] = "Values must be integers" if en else "Giá trị phải là số nguyên / Values must be integers"
        status = 400
    except Chiso766Error as exc:
        ctx["error"], status = _message(request, exc), _status(exc)
    return _render(request, "advisor/whatif.html", ctx, status)


def setup(app: FastAPI) -> None:
    """Nothing to create: the alert tables are made by :func:`chiso766.api.advisor.setup`."""
