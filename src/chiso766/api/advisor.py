"""Advisor JSON API under ``/api/v1/advisor``: advice, early warnings, forecast, what-if, documents, alerts.

Routes only parse, call :mod:`chiso766.advisor` over the shared scoreboard and shape the output; errors leave in
the one JSON error shape. ``setup`` creates the alert tables (under ``board.lock``) and, when
``settings.extra["advisor_check_seconds"]`` > 0, starts the background alert check; ``settings.extra["smtp"]``
(``{"host", "port", "sender"}``) configures e-mail delivery.
"""

from __future__ import annotations

import logging
import threading
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, FastAPI, Query, Request
from fastapi.responses import Response

from chiso766.advisor import alerts
from chiso766.advisor.advice import advise, parse_changes, whatif
from chiso766.advisor.documents import brief_data, brief_docx, brief_json, notice_docx
from chiso766.advisor.forecast import forecast
from chiso766.advisor.warnings import early_warnings
from chiso766.api.app import board_of
from chiso766.domain.periods import Period, parse_period
from chiso766.errors import InputError
from chiso766.service.scoreboard import Scoreboard

log = logging.getLogger(__name__)
Board = Annotated[Scoreboard, Depends(board_of)]
router = APIRouter(prefix="/api/v1/advisor", tags=["advisor"])
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def smtp_of(request: Request) -> alerts.SmtpSettings | None:
    conf = request.app.state.settings.extra.get("smtp")
    return alerts.SmtpSettings(**conf) if isinstance(conf, dict) else None


def _period(board: Scoreboard, period: str | None) -> Period:
    return parse_period(period) if period else board.default_period()


# --- alerts (declared first: fixed paths before /{unit}) -----------------------------------------------------
@router.get("/alerts/rules")
def get_rules(board: Board, unit: str | None = None) -> dict[str, Any]:
    return {"rules": alerts.list_rules(board, unit)}


@router.post("/alerts/rules", status_code=201)
def post_rule(board: Board, doc: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
    return alerts.add_rule(board, doc)


@router.delete("/alerts/rules/{rule_id}", status_code=204)
def remove_rule(board: Board, rule_id: str) -> Response:
    alerts.delete_rule(board, rule_id)
    return Response(status_code=204)


@router.post("/alerts/evaluate")
def post_evaluate(board: Board, request: Request) -> dict[str, Any]:
    return {"fired": alerts.evaluate(board, smtp=smtp_of(request))}


@router.get("/alerts/events")
def get_events(board: Board, limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> dict[str, Any]:
    return {"events": alerts.list_events(board, limit)}


@router.post("/alerts/digest")
def post_digest(board: Board, request: Request) -> dict[str, Any]:
    return {"sent": alerts.send_digests(board, smtp=smtp_of(request))}


# --- per unit ------------------------------------------------------------------------------------------------
@router.get("/{unit}/advice")
def get_advice(
    board: Board,
    unit: str,
    period: str | None = None,
    top: Annotated[int, Query(ge=1, le=20)] = 5,
    records: Annotated[int, Query(ge=0, le=500)] = 10,
) -> dict[str, Any]:
    return advise(board, unit, _period(board, period), top=top, records=records)


@router.get("/{unit}/warnings")
def get_warnings(
    board: Board,
    unit: str,
    period: str | None = None,
    days: Annotated[int, Query(ge=0, le=30)] = 3,
    limit: Annotated[int, Query(ge=0, le=1000)] = 50,
) -> dict[str, Any]:
    return early_warnings(board, unit, parse_period(period) if period else None, days=days, limit=limit)


@router.get("/{unit}/forecast")
def get_forecast(
    board: Board, unit: str, period: str | None = None, window: Annotated[int, Query(ge=1, le=60)] = 10
) -> dict[str, Any]:
    board.unit(unit)
    return forecast(board, unit, _period(board, period), window=window).to_json()


@router.post("/{unit}/whatif")
def post_whatif(board: Board, unit: str, doc: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
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
    return whatif(
        board,
        unit,
        _period(board, period if isinstance(period, str) else None),
        changes=parse_changes(doc.get("changes")),
        resolve=resolve,
        resolve_overdue=overdue,
    )


@router.get("/{unit}/brief")
def get_brief(board: Board, unit: str, period: str | None = None) -> dict[str, Any]:
    return brief_json(brief_data(board, unit, _period(board, period)))


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
