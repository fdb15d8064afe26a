"""How ``LiveIndex`` writes moved counts: the counters (one MERGE) and the usage rows (moved in place, removed
when no dossier is left, new keys appended)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chiso766.domain.periods import VN_TZ
from chiso766.engine.live import LiveIndex
from chiso766.store.db import Store
from tests.engine.synthetic import LEAVES, batches
from tests.engine.test_live import METHOD, PERIODS, TABLES, ingest, snapshot


def test_apply_delta_moves_adds_and_drops_counters() -> None:
    with Store() as store:
        con = store.connection
        con.execute(
            "CREATE TABLE mat_counters (period_id VARCHAR, unit_code VARCHAR, indicator_code VARCHAR, "
            "numerator BIGINT, denominator BIGINT)"
        )
        con.execute(
            "INSERT INTO mat_counters VALUES "
            "('2026-01', 'A', 'X', 3, 5),"  # moved
            "('2026-01', 'B', 'X', 2, 2),"  # falls to 0/0: goes
            "('2026-01', 'C', 'X', 0, 4),"  # falls to 0/1: stays
            "('2026-01', 'D', 'X', 1, 1),"  # zero delta: untouched
            "('2026-02', 'A', 'X', 7, 9),"  # same unit and indicator, another period: untouched
            "('2026-01', 'E', 'X', 0, 0)"  # an existing 0/0 row outside the delta stays as it was
        )
        delta = (
            "SELECT * FROM (VALUES ('2026-01', 'A', 'X', 1, -2), ('2026-01', 'B', 'X', -2, -2), "
            "('2026-01', 'C', 'X', 0, -3), ('2026-01', 'D', 'X', 0, 0), ('2026-01', 'F', 'X', 4, 6), "
            "('2026-01', 'G', 'X', 0, 0)) d(period_id, unit_code, indicator_code, numerator, denominator)"
        )
        LiveIndex(store, METHOD)._apply_delta(delta)
        rows = con.execute("SELECT * FROM mat_counters ORDER BY period_id, unit_code").fetchall()
    assert rows == [
        ("2026-01", "A", "X", 4, 3),
        ("2026-01", "C", "X", 0, 1),
        ("2026-01", "D", "X", 1, 1),
        ("2026-01", "E", "X", 0, 0),
        ("2026-01", "F", "X", 4, 6),  # a new key is added; G (0/0) is not
        ("2026-02", "A", "X", 7, 9),
    ]


def test_dossiers_moved_to_another_procedure_equal_a_rebuild() -> None:
    """Dossiers re-sent with another TTHC and unit: the (period, unit, TTHC) keys they leave lose their last
    dossier there, so their usage rows go (and catalogue rows and counters follow), as in a full rebuild."""
    one, _ = batches(3)
    t1 = datetime(2026, 9, 25, 12, 0, tzinfo=VN_TZ)
    moved = []
    for record in one["dossiers"][:40]:
        updated = dict(record)
        updated.update(MaTTHC="2.000004" if record["MaTTHC"] != "2.000004" else "1.000001")
        updated.update(MaCoQuanThucHien=LEAVES[(LEAVES.index(record["MaCoQuanThucHien"]) + 1) % len(LEAVES)])
        moved.append(updated)
    final = {**one, "dossiers": moved + one["dossiers"][40:]}

    with Store() as incremental:
        ingest(incremental, one)
        live = LiveIndex(incremental, METHOD)
        live.rebuild(PERIODS, as_of=t1)
        before = snapshot(incremental)
        ingest(incremental, {"dossiers": moved})
        report = live.apply_changes()
        assert not report.full_rebuild and report.dossiers == len(moved)
        after = snapshot(incremental)

    with Store() as full:
        ingest(full, final)
        LiveIndex(full, METHOD).rebuild(PERIODS, as_of=t1)
        expected = snapshot(full)

    def usage_keys(rows: list[tuple[Any, ...]]) -> set[tuple[Any, ...]]:
        return {row[:3] for row in rows}

    gone = usage_keys(before["mat_dossier_usage"]) - usage_keys(after["mat_dossier_usage"])
    assert gone  # some keys lost their last dossier: the update removed rows, not only moved counts
    for table in TABLES:
        assert after[table] == expected[table], table
