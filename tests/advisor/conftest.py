"""Shared fixtures: the hand-made province H90 (+H91) of tests/data/engine_fixture under a fixed clock.

Expected scores of the fixture are worked out in tests/engine/test_end_to_end.py. The clock is 25/03/2026 10:00
(Vietnam), so March 2026 and Q1 are provisional and February is closed.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from chiso766.domain.periods import VN_TZ
from chiso766.methodology import load_methodology
from chiso766.service.scoreboard import Scoreboard
from chiso766.store.db import Store
from chiso766.store.ingest import ingest_paths

FIXTURE = Path(__file__).parent.parent / "data" / "engine_fixture"
NOW = datetime(2026, 3, 25, 10, tzinfo=VN_TZ)


def load_fixture(store: Store) -> None:
    ingest_paths(store, "auto", [FIXTURE])


@pytest.fixture
def board() -> Iterator[Scoreboard]:
    store = Store()
    load_fixture(store)
    b = Scoreboard(store, load_methodology("portal-2026"), clock=lambda: NOW)
    b.start()
    yield b
    store.close()
