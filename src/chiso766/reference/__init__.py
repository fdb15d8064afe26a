"""Reference data shipped with the package: units, calendar overrides and an example unit's counters."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

_DATA = resources.files("chiso766.reference") / "data"


def example_counters_path() -> Path:
    """Counters of UBND tỉnh Phú Thọ (H44), year 2026, as published by the portal on 2026-09-26."""
    return Path(str(_DATA / "example-counters-H44-2026.json"))
