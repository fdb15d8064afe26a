"""The dashboard pages: national ranking, unit page, drill-down, dossier list (login), login, offline /docs.

Every page renders the document of its JSON twin (:mod:`chiso766.api.scores`), so a page never shows a
number the API would not. Pages are Vietnamese first; ``?lang=en`` switches to English and remembers it in a
cookie. A page that fails shows an HTML error page (same code and bilingual message as the JSON error shape);
dossier-level pages redirect to ``/login`` when nobody is logged in. ``setup`` mounts ``/static`` and replaces
FastAPI's CDN-based ``/docs`` and ``/redoc`` with a self-contained page rendering ``/openapi.json``.

Caching: the national and unit pages build their documents through the per-version cache of
:mod:`chiso766.api.scores` (:class:`~chiso766.api.scores.ViewCache`), and for anonymous visitors the rendered
HTML itself is cached there too, keyed by (data version, path, query parameters, language). A logged-in visitor's
page shows their name, so it is always rendered afresh (from the cached public documents) and never stored.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.routing import Route

from chiso766.api import scores
from chiso766.api.app import STATUS_BY_CODE, board_of
from chiso766.errors import Chiso766Error
from chiso766.service.scoreboard import Scoreboard
from chiso766.web import auth
from chiso766.web.charts import bar_chart, line_chart
from chiso766.web.render import STATIC_DIR, templates, url

CachedPage = tuple[int, bytes]  # status, body

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

LANG_COOKIE_DAYS = 365


def _context(request: Request, board: Scoreboard, **extra: Any) -> dict[str, Any]:
    lang = scores.lang_of(request)
    query = dict(request.query_params)
    query.pop("lang", None)
    here = url(request.url.path, **query)
    sep = "&" if "?" in here else "?"
    account = scores.account_of(request)
    return {
        "request": request,
        "lang": lang,
        "other_lang_url": f"{here}{sep}lang={'vi' if lang == 'en' else 'en'}",
        "here": here,
        "account": account,
        "state": scores.state_doc(board),
        "periods": scores.periods_offered(board),
        **extra,
    }


def _render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    response = templates.TemplateResponse(request, name, context, status_code=status)
    asked = request.query_params.get("lang")
    if asked in ("vi", "en"):
        response.set_cookie("lang", asked, max_age=LANG_COOKIE_DAYS * 86400, samesite="lax", path="/")
    return response


def _page(request: Request, name: str, build: Callable[[Scoreboard], dict[str, Any]]) -> Response:
    """Render ``name`` with ``build(board)``; errors become an HTML page with the error's status."""
    board = board_of(request)
    try:
        extra = build(board)
    except Chiso766Error as exc:
        status = getattr(exc, "status", None) or STATUS_BY_CODE.get(exc.code, 400)
        if status == 401:
            return RedirectResponse(url("/login", next=str(request.url.path) + "?" + request.url.query), 303)
        return _render(request, "error.html", _context(request, board, error=exc.as_dict()["error"]), status)
    return _render(request, name, _context(request, board, **extra))


def _public_page(request: Request, name: str, build: Callable[[Scoreboard], dict[str, Any]]) -> Response:
    """:func:`_page`, served from the per-version cache for anonymous visitors (a public page is the same for all
    of them); a logged-in visitor's page carries their name and is rendered afresh."""
    if scores.account_of(request) is not None:
        return _page(request, name, build)
    board = board_of(request)
    version = board.state().version
    key = ("html", request.url.path, tuple(sorted(request.query_params.multi_items())), scores.lang_of(request))
    cache = scores.views_of(request)
    found: CachedPage | None = cache.get(version, key)
    if found is None:
        response = _page(request, name, build)
        if response.status_code == 200 and isinstance(response, HTMLResponse):
            cache.put(version, key, (response.status_code, bytes(response.body)))
        return response
    response = HTMLResponse(found[1], status_code=found[0])
    asked = request.query_params.get("lang")
    if asked in ("vi", "en"):
        response.set_cookie("lang", asked, max_age=LANG_COOKIE_DAYS * 86400, samesite="lax", path="/")
    return response


def _period_q(request: Request) -> str | None:
    """The free-text period id (``period_id``) wins over the selector (``period``)."""
    return _q(request, "period_id") or _q(request, "period")


def _q(request: Request, key: str) -> str | None:
    value = request.query_params.get(key)
    return value.strip() if value and value.strip() else None


@router.get("/", response_class=HTMLResponse)
def national_page(request: Request) -> Response:
    def build(board: Scoreboard) -> dict[str, Any]:
        period = scores.period_of(board, _period_q(request))
        doc = scores.national_doc(request, board, period, _q(request, "procedure"), _q(request, "me"))
        lang = scores.lang_of(request)
        chart = bar_chart(
            "Tổng điểm các tỉnh" if lang == "vi" else "Provinces' totals",
            [
                (f"{r['rank'] or '—'}. {r['name'] or r['unit']}", r["total"], doc["national"]["total"], 100)
                for r in doc["rows"]
            ],
            lang,
        )
        return {"doc": doc, "chart": chart, "bands": scores.BANDS}

    return _public_page(request, "national.html", build)


@router.get("/units/{code}", response_class=HTMLResponse)
def unit_page(request: Request, code: str) -> Response:
    def build(board: Scoreboard) -> dict[str, Any]:
        period = scores.period_of(board, _period_q(request))
        full = request.query_params.get("trend") == "full"
        doc = scores.unit_doc(request, board, code, period, _q(request, "procedure"), full)
        lang = scores.lang_of(request)
        labels = [t["label_en"] if lang == "en" else t["label_vi"] for t in doc["trend"]]
        trend_chart = line_chart(
            "Diễn biến tổng điểm" if lang == "vi" else "Total over time",
            labels,
            [
                ("Tổng điểm" if lang == "vi" else "Total", [t["total"] for t in doc["trend"]]),
                ("Bình quân cả nước" if lang == "vi" else "National average", [t["national"] for t in doc["trend"]]),
            ],
            100,
            lang,
        )
        group_chart = bar_chart(
            "Điểm 6 nhóm" if lang == "vi" else "Six groups",
            [
                (f"{g['number']}. {g['name_en'] if lang == 'en' else g['name_vi']}", g["score"], g["compare"], g["max"])
                for g in doc["groups"]
            ],
            lang,
        )
        procedures = scores.procedures_of(request, board)
        return {
            "doc": doc,
            "trend_chart": trend_chart,
            "group_chart": group_chart,
            "procedures": procedures,
            "advisor_unit": code,
        }

    return _public_page(request, "unit.html", build)


@router.get("/units/{code}/indicators/{indicator}", response_class=HTMLResponse)
def drill_page(request: Request, code: str, indicator: str) -> Response:
    def build(board: Scoreboard) -> dict[str, Any]:
        period = scores.period_of(board, _period_q(request))
        doc = scores.drill_view(board, code, indicator, period, _q(request, "procedure"))
        return {"doc": doc, "advisor_unit": code}

    return _page(request, "drill.html", build)


@router.get("/units/{code}/indicators/{indicator}/records", response_class=HTMLResponse)
def records_page(request: Request, code: str, indicator: str) -> Response:
    def build(board: Scoreboard) -> dict[str, Any]:
        period = scores.period_of(board, _period_q(request))
        doc = scores.records_view(
            board, scores.account_of(request), code, indicator, period, _q(request, "procedure"), request.url.path
        )
        return {"doc": doc, "advisor_unit": code}

    return _page(request, "records.html", build)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request) -> Response:
    return _render(request, "login.html", _context(request, board_of(request), next=_q(request, "next") or "/"))


@router.post("/login", response_class=HTMLResponse)
async def login_submit(request: Request) -> Response:
    board = board_of(request)
    username, password = await scores.login_fields(request)
    target = _q(request, "next") or "/"
    if not target.startswith("/") or target.startswith("//"):
        target = "/"
    try:
        account = scores.check_login(board, username, password)
    except Chiso766Error as exc:
        context = _context(request, board, next=target, error=exc.as_dict()["error"], username=username)
        return _render(request, "login.html", context, 401)
    response = RedirectResponse(target, status_code=303)
    scores.start_session(request, response, account)
    return response


@router.post("/logout")
def logout(request: Request) -> Response:
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(auth.COOKIE, path="/")
    return response


@router.get("/docs", response_class=HTMLResponse)
def docs_page(request: Request) -> Response:
    """API reference rendered from ``/openapi.json`` by our own script (no CDN)."""
    return _render(request, "docs.html", _context(request, board_of(request)))


def setup(app: FastAPI) -> None:
    """Mount ``/static`` and drop FastAPI's CDN-loading ``/docs`` and ``/redoc`` pages (ours replaces them)."""
    cdn_pages = {"/docs", "/redoc", "/docs/oauth2-redirect"}
    app.router.routes[:] = [
        r
        for r in app.router.routes
        if not (isinstance(r, Route) and r.path in cdn_pages and r.endpoint.__module__.startswith("fastapi"))
    ]
    app.docs_url = None
    app.redoc_url = None
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
