"""The FastAPI application factory: settings, the shared scoreboard, error shape, background refresh.

Every error leaves as ``{"error": {"code", "message_vi", "message_en", "problems": [...]}}`` (see
:mod:`chiso766.errors`) whatever raised it: our own errors, request validation, unknown routes, or a bug (500,
with no internals). The routers of each feature live in their own modules and only parse, call the service
layer and shape the output.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from chiso766.api.decoder import DECODER
from chiso766.errors import Chiso766Error, Problem, ResourceError
from chiso766.methodology import DEFAULT_VERSION, load_methodology
from chiso766.service.scoreboard import Clock, Scoreboard, system_clock
from chiso766.store.db import Store, is_out_of_memory

log = logging.getLogger(__name__)

STATUS_BY_CODE: dict[str, int] = {
    "unknown_unit": 404,
    "unknown_indicator": 404,
    "not_found": 404,
    "unauthorized": 401,
    "forbidden": 403,
    "payload_too_large": 413,
    "out_of_memory": 503,
}


@dataclass
class AppSettings:
    """Server settings; ``from_env`` reads ``CHISO766_*`` variables."""

    db_path: str = "chiso766.duckdb"
    methodology: str = DEFAULT_VERSION
    clock: Clock = system_clock
    refresh_seconds: float = 5.0  # background tick: new records and passing deadlines (0 = no thread)
    session_secret: str = ""  # signs login cookies; empty: a random secret kept in the store (see create_app)
    max_batch: int = 10_000  # records per ingest request
    max_body_bytes: int = 64 * 1024 * 1024
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_env(cls, **overrides: Any) -> AppSettings:
        env = os.environ
        values: dict[str, Any] = {}
        if "CHISO766_DB" in env:
            values["db_path"] = env["CHISO766_DB"]
        if "CHISO766_METHODOLOGY" in env:
            values["methodology"] = env["CHISO766_METHODOLOGY"]
        if "CHISO766_SESSION_SECRET" in env:
            values["session_secret"] = env["CHISO766_SESSION_SECRET"]
        if "CHISO766_REFRESH_SECONDS" in env:
            values["refresh_seconds"] = float(env["CHISO766_REFRESH_SECONDS"])
        values.update(overrides)
        return cls(**values)


def error_response(status: int, code: str, vi: str, en: str, problems: list[Problem] | None = None) -> JSONResponse:
    listed = [p.as_dict() for p in problems or []]
    doc = {"error": {"code": code, "message_vi": vi, "message_en": en, "problems": listed}}
    return JSONResponse(doc, status_code=status)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(Chiso766Error)
    async def _ours(request: Request, exc: Chiso766Error) -> JSONResponse:
        status = getattr(exc, "status", None) or STATUS_BY_CODE.get(exc.code, 400)
        return JSONResponse(exc.as_dict(), status_code=status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            Problem(
                message_vi=f"Giá trị không hợp lệ: {e.get('msg', '')}",
                message_en=f"Invalid value: {e.get('msg', '')}",
                where=".".join(str(x) for x in e.get("loc", ())[:1]) or None,
                field=".".join(str(x) for x in e.get("loc", ())[1:]) or None,
            )
            for e in exc.errors()
        ]
        return error_response(422, "invalid_request", "Yêu cầu không hợp lệ", "Invalid request", problems)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 404:
            return error_response(404, "not_found", "Không tìm thấy", "Not found")
        if exc.status_code == 405:
            return error_response(405, "method_not_allowed", "Phương thức không được hỗ trợ", "Method not allowed")
        detail = str(exc.detail)
        return error_response(exc.status_code, "http_error", detail, detail)

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> JSONResponse:
        if is_out_of_memory(exc):  # the store's memory limit (Store): the request may succeed with more memory
            log.error("out of memory on %s %s: %s", request.method, request.url.path, str(exc).splitlines()[0])
            return JSONResponse(ResourceError.out_of_memory().as_dict(), status_code=503)
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(500, "internal_error", "Lỗi hệ thống", "Internal server error")


class _Refresher:
    """Background tick: applies new records and the clock to the live periods every ``interval`` seconds."""

    def __init__(self, board: Scoreboard, interval: float) -> None:
        self.board = board
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="chiso766-refresh", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                before = self.board.state().version
                self.board.refresh()
                if self.board.state().version != before:
                    self.board.warm()
            except Exception:  # keep ticking; the next tick retries
                log.exception("background refresh failed")


def create_app(settings: AppSettings | None = None, *, store: Store | None = None) -> FastAPI:
    """The application over ``settings.db_path`` (or an already open ``store``, e.g. in-memory for tests)."""
    settings = settings or AppSettings.from_env()
    own_store = store is None
    the_store = store if store is not None else Store(Path(settings.db_path))
    if not settings.session_secret:
        with the_store.transaction() as con:
            settings.session_secret = _stored_secret(con)
    methodology = load_methodology(settings.methodology)
    board = Scoreboard(the_store, methodology, clock=settings.clock)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        board.start()
        board.warm()
        DECODER.warm()
        refresher = _Refresher(board, settings.refresh_seconds) if settings.refresh_seconds > 0 else None
        if refresher is not None:
            refresher.start()
        try:
            yield
        finally:
            if refresher is not None:
                refresher.stop()
            if own_store:  # the server's own resources (an app over a given store leaves them to its owner)
                DECODER.close()
                with board.lock:
                    the_store.close()

    app = FastAPI(
        title="chiso766",
        description=(
            "Bộ chỉ số 766 (QĐ 766/QĐ-TTg) tính công khai từ dữ liệu một cửa / "
            "Open computation of Vietnam's Decision 766 index. Errors: one JSON shape "
            '`{"error": {"code", "message_vi", "message_en", "problems"}}`.'
        ),
        version="1",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.store = the_store
    app.state.board = board
    _install_error_handlers(app)

    from chiso766.api import advisor, ingest, scores
    from chiso766.web import advisor_pages, pages

    app.include_router(ingest.router)
    app.include_router(scores.router)
    app.include_router(advisor.router)
    app.include_router(advisor_pages.router)
    app.include_router(pages.router)
    for setup in (ingest.setup, scores.setup, advisor.setup, advisor_pages.setup, pages.setup):
        setup(app)
    return app


def _stored_secret(con: duckdb.DuckDBPyConnection) -> str:
    """The store's own random session-signing secret, created on first use (never a shipped default, so a
    cookie signed for one installation is worthless on another; it survives restarts)."""
    con.execute("CREATE TABLE IF NOT EXISTS app_secrets (name VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)")
    row = con.execute("SELECT value FROM app_secrets WHERE name = 'session'").fetchone()
    if row is not None:
        return str(row[0])
    value = secrets.token_urlsafe(32)
    con.execute("INSERT INTO app_secrets VALUES ('session', ?)", [value])
    return value


def board_of(request: Request) -> Scoreboard:
    """The scoreboard of the application handling ``request`` (a FastAPI dependency)."""
    board: Scoreboard = request.app.state.board
    return board


def store_of(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def settings_of(request: Request) -> AppSettings:
    settings: AppSettings = request.app.state.settings
    return settings
