"""The scoreboard: live periods and on-demand ones give the engine's hand-checked numbers; the clock and new
records move them. Expected totals are those worked out in ``tests/engine/test_end_to_end.py`` (fixture H90)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from chiso766.domain.periods import VN_TZ
from chiso766.errors import InputError
from chiso766.methodology import load_methodology
from chiso766.service import Scoreboard, tracked_periods
from chiso766.store.db import Store
from chiso766.store.ingest import ingest_paths
from chiso766.store.load import ingest_records

FIXTURE = Path(__file__).parents[1] / "data" / "engine_fixture"
KINDS = ("units", "procedures", "publications", "dossiers", "progress", "petitions")
METHOD = load_methodology("portal-2026")


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture()
def store() -> Iterator[Store]:
    with Store() as s:
        for kind in KINDS:
            ingest_paths(s, kind, sorted(FIXTURE.glob(f"{kind}.*")))
        yield s


def test_tracked_periods_of_a_day() -> None:
    ids = [p.id for p in tracked_periods(datetime(2026, 8, 15, 9, tzinfo=VN_TZ))]
    assert ids == [
        "2026", "2026H1", "2026M9", "2026H2", "2026Q1", "2026Q2", "2026Q3",
        "2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06", "2026-07", "2026-08",
        "2026W33", "2026-08-15",
    ]  # fmt: skip


def test_provisional_month_at_as_of_and_closed_previous(store: Store) -> None:
    """At Fri 13/03/2026 12:00 March is provisional: H90 68.45, rank 2 of 2, national 69.24; February (closed)
    60.43 — the figures of test_as_of_inside_the_month_is_provisional_and_judges_open_dossiers_at_as_of."""
    board = Scoreboard(store, METHOD, clock=Clock(datetime(2026, 3, 13, 12, tzinfo=VN_TZ)))
    board.start()
    march = board.scores("2026-03")
    assert march.provisional is True
    assert float(march.scores["H90"].total) == 68.45
    assert (march.ranks["H90"], march.cohort_sizes["H90"]) == (2, 2)
    assert march.national is not None and float(march.national.total) == 69.24
    before = board.previous("2026-03")
    assert before is not None and before.provisional is False
    assert float(before.scores["H90"].total) == 60.43
    counters = board.unit_counters("2026-03", "H90")
    on_time = counters.indicators["PROGRESS_ON_TIME"]
    assert (on_time.numerator, on_time.denominator) == (13, 17)


def test_clock_closes_the_month_and_on_demand_periods_agree(store: Store) -> None:
    """When the clock passes 31/03 the month closes (63.53, as in test_closed_month_previous_block) and the live
    set moves to April; a range and a day outside the live set are computed on demand."""
    clock = Clock(datetime(2026, 3, 13, 12, tzinfo=VN_TZ))
    board = Scoreboard(store, METHOD, clock=clock)
    board.start()
    version = board.state().version
    clock.now = datetime(2026, 4, 2, 9, tzinfo=VN_TZ)
    report = board.refresh()
    assert report is not None and report.full_rebuild
    assert "2026-04" in {p.id for p in board.tracked()}
    assert board.state().version > version
    march = board.scores("2026-03")
    assert march.provisional is False
    assert float(march.scores["H90"].total) == 63.53
    whole = board.scores("2026-03-01..2026-03-31")
    assert whole.scores["H90"].total == march.scores["H90"].total


def test_new_records_move_live_scores_like_a_fresh_start(store: Store) -> None:
    """A dossier ingested after start, then refresh(): the live month equals a scoreboard started afresh."""
    clock = Clock(datetime(2026, 3, 25, 10, tzinfo=VN_TZ))
    board = Scoreboard(store, METHOD, clock=clock)
    board.start()
    before = board.scores("2026-03").scores["H90.01"]
    dossier = json.loads((FIXTURE / "dossiers.json").read_text(encoding="utf-8"))[0]
    late = dict(dossier, MaHoSo="H90.01-NEW", NgayTiepNhan="20260316080000", NgayHenTra="20260318170000")
    late.update(TrangThaiHoSo="4", NgayKetThucXuLy="", NgayTra="", QuaTrinhXuLy=[])
    report = ingest_records(store, "dossiers", [late], source="late.json")
    assert report.rejected == 0, report.problems
    board.refresh()
    after = board.scores("2026-03").scores["H90.01"]
    assert after.indicators["PROGRESS_ON_TIME"].denominator == before.indicators["PROGRESS_ON_TIME"].denominator + 1
    fresh = Scoreboard(store, METHOD, clock=clock)
    fresh.start()
    assert fresh.scores("2026-03").scores["H90.01"] == after


def test_periods_outside_the_calendar_or_in_the_future_are_refused(store: Store) -> None:
    board = Scoreboard(store, METHOD, clock=Clock(datetime(2026, 3, 25, 10, tzinfo=VN_TZ)))
    board.start()
    with pytest.raises(InputError) as future:
        board.scores("2026-05")
    assert future.value.code == "period_in_future"
    with pytest.raises(InputError) as outside:
        board.scores("2023")
    assert outside.value.code == "calendar_out_of_range"
    with pytest.raises(InputError) as unknown:
        board.unit("H99")
    assert unknown.value.code == "unknown_unit"


def test_clock_ticks_bump_the_version_only_when_a_deadline_passes(store: Store) -> None:
    """Open dossier A4 (H90.01) is due Fri 20/03/2026 17:00. A tick from 16:00 to 16:30 changes no counter, so
    the data version (which page caches follow) stays; the tick to 17:30 makes A4 late: version moves and the
    live month's 2.1 numerator for H90.01 drops by one."""
    clock = Clock(datetime(2026, 3, 20, 16, 0, tzinfo=VN_TZ))
    board = Scoreboard(store, METHOD, clock=clock)
    board.start()
    before = board.scores("2026-03").scores["H90.01"].indicators["PROGRESS_ON_TIME"]
    version = board.state().version
    clock.now = datetime(2026, 3, 20, 16, 30, tzinfo=VN_TZ)
    board.refresh()
    assert board.state().version == version
    assert board.state().as_of == clock.now
    clock.now = datetime(2026, 3, 20, 17, 30, tzinfo=VN_TZ)
    board.refresh()
    assert board.state().version == version + 1
    after = board.scores("2026-03").scores["H90.01"].indicators["PROGRESS_ON_TIME"]
    assert after.denominator == before.denominator
    assert after.numerator is not None and before.numerator is not None
    assert after.numerator == before.numerator - 1


def test_scores_many_computes_missing_periods_in_one_engine_pass(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """Three weeks outside the live set: one ``Engine.prepare`` for all, and each equals its own computation
    (a closed week judged in a pass whose as-of is later is still judged at its own end)."""
    board = Scoreboard(store, METHOD, clock=Clock(datetime(2026, 3, 25, 10, tzinfo=VN_TZ)))
    board.start()
    calls: list[list[str]] = []
    original = board._engine.prepare

    def counting(periods: Any, *args: Any, **kwargs: Any) -> None:
        calls.append([p.id for p in periods])
        original(periods, *args, **kwargs)

    monkeypatch.setattr(board._engine, "prepare", counting)
    weeks = ["2026W09", "2026W10", "2026W11"]
    together = board.scores_many(weeks)
    assert calls == [weeks]
    alone = Scoreboard(store, METHOD, clock=Clock(datetime(2026, 3, 25, 10, tzinfo=VN_TZ)))
    alone.start()
    for week, result in zip(weeks, together, strict=True):
        single = alone.scores(week)
        assert result.provisional is False
        assert {c: s.total for c, s in result.scores.items()} == {c: s.total for c, s in single.scores.items()}
    assert board.scores_many(weeks) == together and len(calls) == 1  # cached


def test_a_procedure_filtered_request_does_not_leak_into_live_periods(store: Store) -> None:
    """After an on-demand, TTHC-filtered computation, a live period read from the materialised counters is
    still scored unfiltered (the same as on a scoreboard that never saw the filter)."""
    clock = Clock(datetime(2026, 3, 25, 10, tzinfo=VN_TZ))
    board = Scoreboard(store, METHOD, clock=clock)
    board.start()
    filtered = board.scores("2026Q1", procedure="1.000001")
    live = board.scores("2026-03")
    fresh = Scoreboard(store, METHOD, clock=clock)
    fresh.start()
    assert {c: s.total for c, s in live.scores.items()} == {
        c: s.total for c, s in fresh.scores("2026-03").scores.items()
    }
    assert filtered.scores["H90"].total != board.scores("2026Q1").scores["H90"].total
