"""Incremental updates give exactly the tables of a full rebuild (issue "Engine" item 6)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import duckdb
import pytest

from chiso766.domain.periods import VN_TZ, Period, parse_period, periods_of_year
from chiso766.engine import live as live_module
from chiso766.engine.live import LiveIndex
from chiso766.methodology import load_methodology
from chiso766.store.db import Store
from tests.engine.synthetic import batches
from tests.engine.synthetic import ingest_batches as ingest

METHOD = load_methodology("portal-2026")
PERIODS = [
    p
    for p in periods_of_year(2026)
    if p.type.value != "day" or parse_period("2026-07-01").start <= p.start < parse_period("2026-10-01").start
]
TABLES = {
    "mat_counters": "period_id, unit_code, indicator_code",
    "mat_dossier_facts": "period_id, dossier_id",
    "mat_dossier_bounds": "dossier_id",
    "mat_petition_facts": "period_id, petition_id",
    "mat_catalogue_facts": "period_id, indicator_code, unit_code, item_code",
    "mat_dossier_usage": "period_id, unit_code, procedure_code",
    "mat_dossier_arrivals": "dossier_id",
}


def built(
    store: Store, doc: dict[str, list[Any]], periods: Sequence[Period] = PERIODS, as_of: datetime | None = None
) -> LiveIndex:
    """``doc`` ingested into ``store`` and its live tables rebuilt for ``periods`` at ``as_of``."""
    ingest(store, doc)
    live = LiveIndex(store, METHOD)
    live.rebuild(periods, as_of=as_of)
    return live


def snapshot(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    return {t: store.connection.execute(f"SELECT * FROM {t} ORDER BY {key}").fetchall() for t, key in TABLES.items()}


def rebuilt(as_of: datetime, *docs: dict[str, list[Any]]) -> dict[str, list[tuple[Any, ...]]]:
    """The tables of a full rebuild at ``as_of`` over ``docs`` ingested into a fresh store (the reference)."""
    with Store() as full:
        ingest(full, *docs)
        LiveIndex(full, METHOD).rebuild(PERIODS, as_of=as_of)
        return snapshot(full)


@pytest.mark.parametrize("seed", [1, 2])
def test_incremental_equals_rebuild(seed: int) -> None:
    """Batch 1 + rebuild at t1, then batch 2 (new, changed and linked records) + apply_changes at t2 gives the
    same facts and counters as ingesting both batches and rebuilding at t2 — provisional periods included."""
    one, two = batches(seed)
    t1 = datetime(2026, 9, 25, 12, 0, tzinfo=VN_TZ)
    t2 = datetime(2026, 9, 30, 18, 0, tzinfo=VN_TZ)

    with Store() as incremental:
        live = built(incremental, one, as_of=t1)
        before = snapshot(incremental)
        ingest(incremental, two)
        report = live.apply_changes(as_of=t2)
        assert not report.full_rebuild
        assert report.dossiers > 0 and report.petitions > 0
        after = snapshot(incremental)

    expected = rebuilt(t2, one, two)

    assert before["mat_counters"] != expected["mat_counters"]  # the update had something to do
    for table in TABLES:
        assert after[table] == expected[table], table


@pytest.mark.parametrize("seed", [1, 2])
def test_incremental_reads_only_changed_dossiers(seed: int) -> None:
    """Without a clock move, the update reads ``dossiers`` for the changed records only: with every other row
    deleted from ``dossiers`` (and from ``dossier_databases``) before ``apply_changes``, it still gives the full
    rebuild's tables — catalogue facts and counters of the touched periods included — so no history was read."""
    one, two = batches(seed)
    t1 = datetime(2026, 9, 25, 12, 0, tzinfo=VN_TZ)

    with Store() as incremental:
        live = built(incremental, one, as_of=t1)
        before = snapshot(incremental)
        ingest(incremental, two)
        con = incremental.connection
        since = "recorded_at > (SELECT watermark FROM live_state)"
        changed = (
            f"SELECT record_key FROM changes WHERE kind = 'dossier' AND {since} "
            "UNION SELECT p.dossier_id FROM petitions p JOIN changes c ON c.kind = 'petition' "
            f"AND c.record_key = p.petition_id AND c.{since} WHERE p.dossier_id IS NOT NULL"
        )
        kept = con.execute(f"SELECT COUNT(*) FROM ({changed}) x").fetchone()
        total = con.execute("SELECT COUNT(*) FROM dossiers").fetchone()
        assert kept and total and 0 < kept[0] < total[0]
        for table in ("dossiers", "dossier_databases"):
            con.execute(f"DELETE FROM {table} WHERE dossier_id NOT IN ({changed})")
        report = live.apply_changes()
        assert not report.full_rebuild and report.dossiers > 0
        after = snapshot(incremental)

    expected = rebuilt(t1, one, two)

    assert before["mat_catalogue_facts"] != expected["mat_catalogue_facts"]  # the catalogue part had work to do
    for table in TABLES:
        assert after[table] == expected[table], table


def test_clock_alone_moves_open_dossiers() -> None:
    """No new record: moving as_of past due dates turns open dossiers late (DESIGN: time moves scores too)."""
    one, _ = batches(3)
    with Store() as store:
        live = built(store, one, [parse_period("2026Q3")], datetime(2026, 8, 1, 0, 0, tzinfo=VN_TZ))
        report = live.apply_changes(as_of=datetime(2026, 9, 30, 23, 0, tzinfo=VN_TZ))
        assert report.dossiers > 0
        moved = snapshot(store)
    with Store() as store:
        ingest(store, one)
        LiveIndex(store, METHOD).rebuild([parse_period("2026Q3")], as_of=datetime(2026, 9, 30, 23, 0, tzinfo=VN_TZ))
        assert snapshot(store) == moved


def test_catalogue_change_falls_back_to_rebuild() -> None:
    one, _ = batches(4)
    with Store() as store:
        live = built(store, one, [parse_period("2026Q3")])
        ingest(store, {"procedures": [dict(one["procedures"][0], TENTTHC="Tên mới")]})
        assert live.apply_changes().full_rebuild


def test_nothing_changed_is_a_no_op() -> None:
    one, _ = batches(5)
    with Store() as store:
        live = built(store, one, [parse_period("2026-08")])
        before = snapshot(store)
        report = live.apply_changes()
        assert (report.dossiers, report.petitions, report.full_rebuild) == (0, 0, False)
        assert snapshot(store) == before


def test_a_store_without_the_compact_dossier_tables_is_rebuilt() -> None:
    """A store materialised by an engine before ``mat_dossier_bounds`` existed is rebuilt by the next update."""
    one, _ = batches(6)
    with Store() as store:
        live = built(store, one, [parse_period("2026-08")])
        expected = snapshot(store)
        store.connection.execute("DROP TABLE mat_dossier_bounds")
        assert live.apply_changes().full_rebuild
        assert snapshot(store) == expected


def test_failed_update_leaves_the_last_state_and_the_next_one_catches_up(monkeypatch: pytest.MonkeyPatch) -> None:
    """An update that fails midway — here after the changed dossiers' fact rows were replaced, when the counters
    are about to move — is rolled back whole: every ``mat_*`` table and the watermark are as before. The next
    update then gives the full rebuild's tables. (Without the transaction the replaced facts would stay, the
    next update would find no difference for them, and the counters would miss it for good.)"""
    one, two = batches(1)
    t1 = datetime(2026, 9, 25, 12, 0, tzinfo=VN_TZ)
    t2 = datetime(2026, 9, 30, 18, 0, tzinfo=VN_TZ)
    with Store() as store:
        live = built(store, one, as_of=t1)
        before = snapshot(store)
        watermark = store.connection.execute("SELECT * FROM live_state").fetchall()
        ingest(store, two)

        def out_of_memory(self: LiveIndex, delta: str) -> None:
            raise duckdb.OutOfMemoryException("simulated: could not allocate block")

        with monkeypatch.context() as m:
            m.setattr(LiveIndex, "_apply_delta", out_of_memory)
            with pytest.raises(duckdb.OutOfMemoryException):
                live.apply_changes(as_of=t2)
        assert snapshot(store) == before
        assert store.connection.execute("SELECT * FROM live_state").fetchall() == watermark

        report = live.apply_changes(as_of=t2)
        assert not report.full_rebuild and report.dossiers > 0
        after = snapshot(store)
    expected = rebuilt(t2, one, two)
    assert before["mat_counters"] != expected["mat_counters"]
    for table in TABLES:
        assert after[table] == expected[table], table


def test_failed_rebuild_keeps_the_previous_tables(monkeypatch: pytest.MonkeyPatch) -> None:
    """A rebuild stopped at its last step (the counters) leaves the previous rebuild's tables, not a mix."""
    one, two = batches(2)
    t1 = datetime(2026, 9, 25, 12, 0, tzinfo=VN_TZ)
    with Store() as store:
        live = built(store, one, as_of=t1)
        before = snapshot(store)
        ingest(store, two)
        real = live_module.counters_parts_sql

        def failing(*args: Any, **kwargs: Any) -> list[str]:
            if kwargs.get("ordered") is False:
                raise duckdb.OutOfMemoryException("simulated: could not allocate block")
            return real(*args, **kwargs)

        with monkeypatch.context() as m:
            m.setattr(live_module, "counters_parts_sql", failing)
            with pytest.raises(duckdb.OutOfMemoryException):
                live.rebuild(PERIODS, as_of=t1)
        assert snapshot(store) == before


def test_rebuild_in_chunks_of_dossiers_equals_one_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    """The dossier facts computed chunk by chunk (a store larger than its memory allows in one pass; here chunks
    of 40 dossiers) give the one-pass tables exactly, and an update after it too."""
    one, two = batches(1)
    t1 = datetime(2026, 9, 25, 12, 0, tzinfo=VN_TZ)
    t2 = datetime(2026, 9, 30, 18, 0, tzinfo=VN_TZ)
    expected = rebuilt(t1, one)
    copies: list[int] = []
    real_copy = LiveIndex._copy_dossier_records

    def counted_copy(self: LiveIndex) -> None:
        row = self.con.execute("SELECT COUNT(*) FROM live_dossiers").fetchone()
        copies.append(int(row[0]) if row else 0)
        real_copy(self)

    with Store() as chunked:
        ingest(chunked, one)
        live = LiveIndex(chunked, METHOD)
        with monkeypatch.context() as m:
            m.setattr(LiveIndex, "_chunk_size", lambda self: 40)
            m.setattr(LiveIndex, "_copy_dossier_records", counted_copy)
            live.rebuild(PERIODS, as_of=t1)
        row = chunked.connection.execute("SELECT COUNT(*) FROM dossiers").fetchone()
        assert row is not None and row[0] > 200
        assert len(copies) >= 4 and sum(copies) == row[0]  # every dossier in exactly one chunk
        assert snapshot(chunked) == expected
        ingest(chunked, two)
        live.apply_changes(as_of=t2)
        after = snapshot(chunked)
    assert after == rebuilt(t2, one, two)
