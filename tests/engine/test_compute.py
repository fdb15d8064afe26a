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


def test_explain_lists_numerator_records_and_misses() -> None:
    """On the hand-made fixture (tests/engine/test_end_to_end.py): H90, March 2026, 2.1 = 11/18. The numerator's
    records are the 11 on-time dossiers, the misses the other 7, and the two listings do not overlap."""
    from pathlib import Path

    from chiso766.engine.explain import explain
    from chiso766.store.ingest import ingest_paths

    fixture = Path(__file__).parent.parent / "data" / "engine_fixture"
    with Store() as store:
        ingest_paths(store, "auto", [fixture])
        engine = Engine(store, load_methodology())
        period = parse_period("2026-03")
        engine.prepare([period])
        unit = engine.units()["H90"]
        counts = engine.unit_counters(period.id, unit).indicators
        args = (store.connection, engine.methodology, "H90", unit.level, "PROGRESS_ON_TIME", period.id, counts)
        hits = explain(*args, limit=100, hits=True)
        misses = explain(*args, limit=100)
    assert (hits["numerator"], hits["denominator"]) == (11, 18)
    assert hits["listing"] == "hits" and hits["records_total"] == 11
    assert misses["listing"] == "misses" and misses["records_total"] == 7
    assert {r["id"] for r in hits["records"]}.isdisjoint({r["id"] for r in misses["records"]})
    assert all(group["points"] is None for group in hits["by_subunit"])
    assert sum(group["misses"] for group in misses["by_reason"]) == 7


def test_rank_reports_the_change_against_the_previous_period(tmp_path: object) -> None:
    """Fixture provinces in March 2026: H90 63.53 (rank 1), February 60.43 (rank 1) → change +3.10."""
    import json
    from pathlib import Path

    from typer.testing import CliRunner

    from chiso766.cli.main import app

    assert isinstance(tmp_path, Path)
    db = str(tmp_path / "store.duckdb")
    fixture = str(Path(__file__).parent.parent / "data" / "engine_fixture")
    runner = CliRunner()
    assert runner.invoke(app, ["ingest", "--db", db, fixture]).exit_code == 0
    result = runner.invoke(app, ["rank", "--db", db, "--period", "2026-03", "--json"])
    assert result.exit_code == 0, result.output
    units = {row["unit"]: row for row in json.loads(result.stdout)["units"]}
    assert units["H90"]["rank"] == 1 and units["H90"]["total"] == 63.53
    assert units["H90"]["previous"] == {"period": "2026-02", "rank": 1, "total": 60.43, "change": 3.1}
