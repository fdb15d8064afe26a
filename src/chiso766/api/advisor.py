"""Advisor JSON API under ``/api/v1/advisor``: advice, early warnings, forecast, what-if, documents, alerts.

Routes only parse, call :mod:`chiso766.advisor` over the shared scoreboard and shape the output; errors leave in
the one JSON error shape.

Access (DESIGN: aggregate scores are public; dossier-level views need a login scoped to a unit subtree; every
dossier-level read is audit-logged), with the people's logins of :mod:`chiso766.web.auth`:

- advice, warnings, forecast, brief and notice: aggregate numbers are public. Dossier and PAKN lists (ids, due
  dates: ``records`` of advice indicators and of the three warning sections, ``resolved_dossiers`` of a
  what-if) are included only for an account whose subtree contains the unit; otherwise they are left out and
  the document carries ``"records_hidden": true`` with the reason and a bilingual note (:func:`record_access`,
  :func:`hide_records`). Every read that includes them writes one ``web_audit`` row.
- what-if with ``resolve`` (dossier ids) needs a scoped login (401 / 403); counter changes and
  ``resolve_overdue`` stay public.
- alert rules, evaluate, digest and events need a login; a rule's unit must be in the account's subtree, lists
  show only the rules and events in it, and evaluate / digest only touch those rules.

``setup`` creates the alert tables (under ``board.lock``) and, when ``settings.extra["advisor_check_seconds"]``
> 0, starts the background alert check (every rule); ``settings.extra["smtp"]`` (``{"host", "port",
"sender"}``) configures e-mail delivery.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, FastAPI, Query, Request
from fastapi.responses import Response

from chiso766.access import audit
from chiso766.advisor import alerts
from chiso766.advisor.advice import advise, parse_changes, whatif
from chiso766.advisor.documents import brief_data, brief_docx, brief_json, notice_docx
from chiso766.advisor.forecast import forecast
from chiso766.advisor.warnings import early_warnings
from chiso766.api.app import board_of
from chiso766.api.scores import account_of
from chiso766.domain.periods import Period, parse_period
from chiso766.errors import Chiso766Error, InputError
from chiso766.service.scoreboard import Scoreboard
from chiso766.web import auth
from chiso766.web.render import url

log = logging.getLogger(__name__)
Board = Annotated[Scoreboard, Depends(board_of)]
router = APIRouter(prefix="/api/v1/advisor", tags=["advisor"])
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def smtp_of(request: Request) -> alerts.SmtpSettings | None:
    conf = request.app.state.settings.extra.get("smtp")
    return alerts.SmtpSettings(**conf) if isinstance(conf, dict) else None


def _period(board: Scoreboard, period: str | None) -> Period:
    return parse_period(period) if period else board.default_period()


# --- access policy ---------------------------------------------------------------------------------------------
HIDDEN_NOTES: dict[str, tuple[str, str]] = {
    "login_required": (
        "Danh sách hồ sơ, PAKN (mã, hạn xử lý) chỉ hiển thị khi đăng nhập bằng tài khoản của đơn vị này hoặc đơn vị "
        "cấp trên; các số liệu tổng hợp vẫn công khai.",
        "Dossier and petition lists (ids, due dates) are shown only to a logged-in account of this unit or of a "
        "unit above it; aggregate figures stay public.",
    ),
    "out_of_scope": (
        "Tài khoản {user} chỉ được xem danh sách hồ sơ của đơn vị {scope} và đơn vị trực thuộc; các số liệu tổng "
        "hợp vẫn công khai.",
        "Account {user} may only see the dossier lists of unit {scope} and the units below it; aggregate figures "
        "stay public.",
    ),
}


@dataclass(frozen=True)
class RecordAccess:
    """Whether the caller may see the dossier / PAKN lists of one unit: ``allowed`` is the in-scope account."""

    unit: str
    account: auth.Account | None  # the logged-in account (in scope or not)
    allowed: auth.Account | None  # the same account when its subtree contains ``unit``, else None

    @property
    def reason(self) -> str | None:
        """None when allowed; ``login_required`` or ``out_of_scope`` otherwise."""
        if self.allowed is not None:
            return None
        return "login_required" if self.account is None else "out_of_scope"

    def note(self) -> tuple[str, str]:
        vi, en = HIDDEN_NOTES[self.reason or "login_required"]
        user, scope = (self.account.username, self.account.unit_code) if self.account else ("", "")
        return vi.format(user=user, scope=scope), en.format(user=user, scope=scope)


def record_access(request: Request, board: Scoreboard, unit: str) -> RecordAccess:
    """The caller's access to ``unit``'s dossier lists (the unit must exist: unknown → 404)."""
    board.unit(unit)
    account = account_of(request)
    allowed = account if account is not None and auth.in_subtree(board.units(), account.unit_code, unit) else None
    return RecordAccess(unit, account, allowed)


def login_url(request: Request) -> str:
    """The login page, coming back to the current page."""
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return url("/login", next=here)


def hide_records(doc: dict[str, Any], access: RecordAccess, request: Request) -> None:
    """Mark ``doc`` as shown with or without its dossier lists (the lists themselves are removed by the caller)."""
    doc["records_hidden"] = access.allowed is None
    if access.allowed is None:
        vi, en = access.note()
        doc["records_hidden_reason"] = access.reason
        doc["records_note_vi"], doc["records_note_en"] = vi, en
        doc["login"] = {"api": "/api/v1/login", "page": login_url(request)}


def audit_read(
    board: Scoreboard, who: auth.Account, request: Request, unit: str, period: str, indicator: str | None, records: int
) -> None:
    """One ``web_audit`` row for a dossier-level read."""
    with board.lock:
        auth.audit(
            board.store.connection,
            who,
            unit_code=unit,
            indicator=indicator,
            period_id=period,
            procedure=None,
            path=request.url.path,
            records=records,
        )


def advice_doc(
    request: Request, board: Scoreboard, unit: str, period: Period, *, top: int = 5, records: int = 10
) -> dict[str, Any]:
    """Advice with the record lists of its top indicators for a scoped account (audited, one row per indicator
    listed), without them for anyone else."""
    access = record_access(request, board, unit)
    doc = advise(board, unit, period, top=top, records=records if access.allowed else 0)
    hide_records(doc, access, request)
    for ind in doc["indicators"]:
        if access.allowed is None:
            ind.pop("records", None)
        elif records > 0 and "records" in ind:
            audit_read(board, access.allowed, request, unit, period.id, ind["code"], len(ind["records"]))
    return doc


WARNING_SECTIONS = ("due_soon", "overdue_open", "petitions_near_limit")


def warnings_doc(
    request: Request, board: Scoreboard, unit: str, period: Period | None, *, days: int = 3, limit: int = 50
) -> dict[str, Any]:
    """Early warnings: counts and groupings for everyone, dossier / PAKN lists for a scoped account (audited)."""
    access = record_access(request, board, unit)
    doc = early_warnings(board, unit, period, days=days, limit=limit if access.allowed else 0)
    hide_records(doc, access, request)
    if access.allowed is None:
        for section in WARNING_SECTIONS:
            doc[section].pop("records", None)
    elif limit > 0:
        listed = sum(len(doc[section]["records"]) for section in WARNING_SECTIONS)
        audit_read(board, access.allowed, request, unit, str(doc["period"]), None, listed)
    return doc


def whatif_doc(
    request: Request,
    board: Scoreboard,
    unit: str,
    period: Period,
    changes: list[Any],
    resolve: list[str],
    resolve_overdue: int,
) -> dict[str, Any]:
    """What-if: ``resolve`` (dossier ids) needs a scoped login (401 / 403); the ids a ``resolve_overdue`` picked
    are listed only for a scoped account (audited)."""
    access = record_access(request, board, unit)
    if resolve:
        auth.require_scope(access.account, board.units(), unit)
    doc = whatif(board, unit, period, changes=changes, resolve=resolve, resolve_overdue=resolve_overdue)
    resolved: list[str] = doc.pop("resolved_dossiers")
    doc["resolved_count"] = len(resolved)
    hide_records(doc, access, request)
    if access.allowed is not None:
        doc["resolved_dossiers"] = resolved
        if resolve or resolve_overdue:
            audit_read(board, access.allowed, request, unit, period.id, "PROGRESS_ON_TIME", len(resolved))
    return doc


def require_login(request: Request) -> auth.Account:
    """The logged-in account, or 401."""
    account = account_of(request)
    if account is None:
        raise Chiso766Error("unauthorized", "Cần đăng nhập để quản lý cảnh báo", "Log in to manage alerts")
    return account


def scope_of(board: Scoreboard, account: auth.Account) -> alerts.Scope:
    """The units ``account`` may see, as a predicate."""
    units = board.units()
    return lambda code: auth.in_subtree(units, account.unit_code, code)


def add_rule_scoped(board: Scoreboard, account: auth.Account, doc: dict[str, Any]) -> dict[str, Any]:
    """Store a rule whose unit is in ``account``'s subtree (unknown unit → 404, outside → 403)."""
    unit = doc.get("unit")
    if isinstance(unit, str) and unit:
        board.unit(unit)
        auth.require_scope(account, board.units(), unit)
    rule = alerts.add_rule(board, doc)
    _audit_rule(board, account, "alert_rule_create", rule)
    return rule


def delete_rule_scoped(board: Scoreboard, account: auth.Account, rule_id: str) -> None:
    rule = alerts.get_rule(board, rule_id)
    auth.require_scope(account, board.units(), rule["unit"])
    alerts.delete_rule(board, rule_id)
    _audit_rule(board, account, "alert_rule_delete", rule)


def _audit_rule(board: Scoreboard, account: auth.Account, action: str, rule: dict[str, Any]) -> None:
    """Alert rules are writes (they send data to webhooks and e-mail): logged in the write audit log."""
    with board.lock:
        audit.record(
            board.store.connection,
            actor=f"user:{account.username}",
            action=action,
            kind="alert_rule",
            unit_code=str(rule.get("unit")),
            detail=str(rule.get("rule_id")),
        )


# --- alerts (declared first: fixed paths before /{unit}) -----------------------------------------------------
@router.get("/alerts/rules")
def get_rules(board: Board, request: Request, unit: str | None = None) -> dict[str, Any]:
    """The rules of the units in the account's subtree (login)."""
    account = require_login(request)
    if unit:
        board.unit(unit)
        auth.require_scope(account, board.units(), unit)
    return {"rules": alerts.list_rules(board, unit, scope=scope_of(board, account))}


@router.post("/alerts/rules", status_code=201)
def post_rule(board: Board, request: Request, doc: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
    """Add a rule for a unit in the account's subtree (login)."""
    return add_rule_scoped(board, require_login(request), doc)


@router.delete("/alerts/rules/{rule_id}", status_code=204)
def remove_rule(board: Board, request: Request, rule_id: str) -> Response:
    delete_rule_scoped(board, require_login(request), rule_id)
    return Response(status_code=204)


@router.post("/alerts/evaluate")
def post_evaluate(board: Board, request: Request) -> dict[str, Any]:
    """Check the rules in the account's subtree now (login)."""
    scope = scope_of(board, require_login(request))
    return {"fired": alerts.evaluate(board, smtp=smtp_of(request), scope=scope)}


@router.get("/alerts/events")
def get_events(board: Board, request: Request, limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> dict[str, Any]:
    scope = scope_of(board, require_login(request))
    return {"events": alerts.list_events(board, limit, scope=scope)}


@router.post("/alerts/digest")
def post_digest(board: Board, request: Request) -> dict[str, Any]:
    scope = scope_of(board, require_login(request))
    return {"sent": alerts.send_digests(board, smtp=smtp_of(request), scope=scope)}


# --- per unit ------------------------------------------------------------------------------------------------
@router.get("/{unit}/advice")
def get_advice(
    board: Board,
    request: Request,
    unit: str,
    period: str | None = None,
    top: Annotated[int, Query(ge=1, le=20)] = 5,
    records: Annotated[int, Query(ge=0, le=500)] = 10,
) -> dict[str, Any]:
    """Advice (public); the dossier lists of the top indicators only with a login scoped to the unit."""
    return advice_doc(request, board, unit, _period(board, period), top=top, records=records)


@router.get("/{unit}/warnings")
def get_warnings(
    board: Board,
    request: Request,
    unit: str,
    period: str | None = None,
    days: Annotated[int, Query(ge=0, le=30)] = 3,
    limit: Annotated[int, Query(ge=0, le=1000)] = 50,
) -> dict[str, Any]:
    """Early warnings (public counts); dossier / PAKN lists only with a login scoped to the unit."""
    return warnings_doc(request, board, unit, parse_period(period) if period else None, days=days, limit=limit)


@router.get("/{unit}/forecast")
def get_forecast(
    board: Board, unit: str, period: str | None = None, window: Annotated[int, Query(ge=1, le=60)] = 10
) -> dict[str, Any]:
    board.unit(unit)
    return forecast(board, unit, _period(board, period), window=window).to_json()


@router.post("/{unit}/whatif")
def post_whatif(board: Board, request: Request, unit: str, doc: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
    """What-if (public for counter changes and ``resolve_overdue``; ``resolve`` by dossier ids needs a login)."""
    resolve = doc.get("resolve") or []
    overdue = doc.get("resolve_overdue") or 0
    if not isinstance(resolve, list) or not all(isinstance(x, str) for x in resolve):
        raise InputError.single(
            "invalid_whatif",
            "'resolve' phải là danh sách mã hồ sơ",
            "'resolve' must be a list of dossier ids",
            where="whatif",
            field="resolve",
        )
    if not isinstance(overdue, int) or isinstance(overdue, bool) or overdue < 0:
        raise InputError.single(
            "invalid_whatif",
            "'resolve_overdue' phải là số nguyên không âm",
            "'resolve_overdue' must be a non-negative integer",
            where="whatif",
            field="resolve_overdue",
        )
    period = doc.get("period")
    return whatif_doc(
        request,
        board,
        unit,
        _period(board, period if isinstance(period, str) else None),
        parse_changes(doc.get("changes")),
        resolve,
        overdue,
    )


def brief_public(board: Scoreboard, unit: str, period: Period) -> dict[str, Any]:
    """The brief data with no record list (it only ever carries counts, plan and totals)."""
    data = brief_data(board, unit, period)
    for section in WARNING_SECTIONS:
        data["warnings"][section].pop("records", None)
    return data


@router.get("/{unit}/brief")
def get_brief(board: Board, unit: str, period: str | None = None) -> dict[str, Any]:
    """The leader brief (public: aggregate numbers only)."""
    return brief_json(brief_public(board, unit, _period(board, period)))


@router.get("/{unit}/brief.docx")
def get_brief_docx(board: Board, unit: str, period: str | None = None) -> Response:
    p = _period(board, period)
    body = brief_docx(board, unit, p)
    name = f"ban-tin-766-{unit}-{p.id}.docx"
    return Response(body, media_type=DOCX, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/{unit}/notice.docx")
def get_notice_docx(board: Board, unit: str, period: str) -> Response:
    p = parse_period(period)
    body = notice_docx(board, unit, p)
    name = f"thong-bao-766-{unit}-{p.id}.docx"
    return Response(body, media_type=DOCX, headers={"Content-Disposition": f'attachment; filename="{name}"'})


class _AlertChecker:
    """Background evaluation of the alert rules every ``interval`` seconds (daemon thread)."""

    def __init__(self, app: FastAPI, interval: float) -> None:
        self.app, self.interval = app, interval
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="chiso766-alerts", daemon=True)

    def _run(self) -> None:
        while not self.stop.wait(self.interval):
            try:
                conf = self.app.state.settings.extra.get("smtp")
                alerts.evaluate(self.app.state.board, smtp=alerts.SmtpSettings(**conf) if conf else None)
            except Exception:  # keep checking; the next round retries
                log.exception("alert check failed")


def setup(app: FastAPI) -> None:
    """Create the alert tables and start the optional background check."""
    board: Scoreboard = app.state.board
    with board.lock:
        alerts.ensure_tables(board.store.connection)
    seconds = float(app.state.settings.extra.get("advisor_check_seconds", 0) or 0)
    if seconds > 0:
        checker = _AlertChecker(app, seconds)
        app.state.advisor_checker = checker
        checker.thread.start()
