"""A fresh, empty store (a province that has just installed chiso766): pages render, nulls show "—", errors
keep the one JSON shape."""

from __future__ import annotations

from datetime import datetime

from fastapi.testclient import TestClient

from chiso766.api.app import AppSettings, create_app
from chiso766.domain.periods import VN_TZ
from chiso766.store.db import Store

NOW = datetime(2026, 3, 25, 10, tzinfo=VN_TZ)


def test_empty_store_pages_and_api() -> None:
    app = create_app(AppSettings(clock=lambda: NOW, refresh_seconds=0), store=Store())
    with TestClient(app, raise_server_exceptions=False) as client:
        page = client.get("/")
        assert page.status_code == 200
        assert "—" in page.text  # no national average yet: null, never 0
        national = client.get("/api/v1/national").json()
        assert national["rows"] == [] and national["national"]["total"] is None
        missing = client.get("/api/v1/units/H44")
        assert missing.status_code == 404
        assert missing.json()["error"]["code"] == "unknown_unit"
        assert client.get("/advisor").status_code == 200
        assert client.get("/api/v1/state").json()["records_through"] is None


def test_session_secret_is_random_per_store_and_survives_restart() -> None:
    """Without a configured secret each store gets its own random one (kept across restarts), so a cookie
    signed with any shipped default is worthless."""
    store = Store()
    first = create_app(AppSettings(clock=lambda: NOW, refresh_seconds=0), store=store).state.settings.session_secret
    again = create_app(AppSettings(clock=lambda: NOW, refresh_seconds=0), store=store).state.settings.session_secret
    other = create_app(AppSettings(clock=lambda: NOW, refresh_seconds=0), store=Store()).state.settings.session_secret
    assert len(first) >= 32 and first == again and first != other
    assert first not in ("change-me", "change-me-too")
