"""Engine guards: periods must lie inside the working-day calendar (D-gen-5: never guess outside it)."""

from __future__ import annotations

import pytest

from chiso766.domain.periods import parse_period
from chiso766.engine.compute import Engine, within_calendar
from chiso766.errors import InputError
from chiso766.methodology import load_methodology
from chiso766.store.db import Store


def test_period_outside_the_calendar_is_refused() -> None:
    with Store() as store:
        engine = Engine(store, load_methodology())
        with pytest.raises(InputError) as err:
            engine.prepare([parse_period("2027-01")])
        assert err.value.code == "calendar_out_of_range"
        assert "2027-01" in err.value.line()


def test_within_calendar_edges() -> None:
    assert within_calendar(parse_period("2024-01"))
    assert within_calendar(parse_period("2026-12-31"))
    assert not within_calendar(parse_period("2023-12"))
    assert not within_calendar(parse_period("2026W53"))  # ends on Sunday 03/01/2027
