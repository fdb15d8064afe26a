"""``chiso766 stream`` end to end: events posted through the real HTTP ingest API of a served app move the
live scores (issue 5 item 5)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI

from chiso766.access.tokens import create_token
from chiso766.api.app import AppSettings, create_app
from chiso766.domain.periods import VN_TZ
from chiso766.generate import KINDS, GenerateConfig, generate
from chiso766.generate.live import EventSource, run_stream
from chiso766.service.scoreboard import Scoreboard
from chiso766.store.db import Store
from chiso766.store.ingest import ingest_paths

NOW = datetime(2026, 3, 25, 10, 0, tzinfo=VN_TZ)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FastAPI, str]]:
    folder = tmp_path_factory.mktemp("records")
    generate(GenerateConfig(out=folder, now=NOW, dossiers=1500, seed=5, scale="nation"))
    db = folder / "live.duckdb"
    with Store(db) as store:
        for kind in KINDS:
            ingest_paths(store, kind, [folder / f"{kind}.jsonl"])
    app = create_app(AppSettings(db_path=str(db), clock=lambda: NOW, refresh_seconds=0))
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    yield app, f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(30)


def test_streamed_events_are_accepted_and_move_todays_counters(served: tuple[FastAPI, str], tmp_path: Path) -> None:
    """Every streamed event is accepted (none rejected); after the refresh tick today's P_recv at the national
    level grows by exactly the new dossiers the stream sent, and later versions of them count as updates."""
    app, url = served
    board: Scoreboard = app.state.board
    today = NOW.date().isoformat()

    def received_today() -> int:
        scores = board.scores(today)
        return sum(
            scores.scores[code].indicators["DOSSIER_SYNC"].denominator or 0
            for code, unit in scores.units.items()
            if unit.is_root
        )

    before = received_today()
    version = board.state().version
    with board.lock:
        token = create_token(app.state.store, "*", scope="ingest", name="test stream")
    source = EventSource(5, lambda: NOW)
    stats = run_stream(source, url, token, rate=200.0, duration=2.5, tick=0.5)
    assert stats.rejected == 0
    assert stats.sent["dossiers"] > 0
    assert stats.accepted + stats.updated == stats.sent["dossiers"] + stats.sent.get("petitions", 0)
    board.refresh()
    assert board.state().version > version
    new = stats.sent["dossiers"] - stats.updated
    assert received_today() == before + new
