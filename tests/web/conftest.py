"""Shared fixtures of the web tests: the engine fixture province (H90, H91) in an in-memory store behind the app.

The clock is fixed at 02/04/2026 10:00 (Asia/Ho_Chi_Minh), so March 2026 and Q1 are closed (official) and April /
Q2 are open (provisional). Expected scores of the closed month 2026-03 come from
``tests/engine/test_end_to_end.py`` (worked out by hand there): H90 63.53, H91 61.78.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from chiso766.api.app import AppSettings, create_app
from chiso766.domain.periods import VN_TZ
from chiso766.store.db import Store
from chiso766.store.ingest import ingest_paths
from chiso766.web import auth

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "engine_fixture"
KINDS = (
    ("units", "units.json"),
    ("procedures", "procedures.json"),
    ("publications", "publications.json"),
    ("dossiers", "dossiers.json"),
    ("progress", "progress.jsonl"),
    ("petitions", "petitions.json"),
)
NOW = datetime(2026, 4, 2, 10, tzinfo=VN_TZ)
SECRET = "test-session-secret"
PASSWORD = "mat-khau-dung-1"


def fixed_clock() -> datetime:
    return NOW


def build_store(path: str = ":memory:") -> Store:
    """The engine fixture ingested, with two accounts: ``so_tu_phap`` (H90.01) and ``tinh_h90`` (H90)."""
    store = Store(path)
    for kind, name in KINDS:
        ingest_paths(store, kind, [FIXTURE / name])
    auth.create_user(store.connection, "so_tu_phap", "H90.01", PASSWORD)
    auth.create_user(store.connection, "tinh_h90", "H90", PASSWORD)
    return store


def settings() -> AppSettings:
    return AppSettings(clock=fixed_clock, refresh_seconds=0, session_secret=SECRET)


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    app = create_app(settings(), store=build_store())
    with TestClient(app) as c:
        yield c
