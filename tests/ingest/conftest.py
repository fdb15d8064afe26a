"""Fixtures for the ingest tests: an in-memory store and the sample records folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from ingest_helpers import RECORDS

from chiso766.store.db import Store


@pytest.fixture
def store() -> Iterator[Store]:
    s = Store(":memory:")
    yield s
    s.close()


@pytest.fixture
def records_dir() -> Path:
    return RECORDS
