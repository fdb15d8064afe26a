"""``LiveIndex._apply_delta`` moves the stored counters by a delta (one MERGE): every branch of it."""

from __future__ import annotations

from chiso766.engine.live import LiveIndex
from chiso766.methodology import load_methodology
from chiso766.store.db import Store

METHOD = load_methodology("portal-2026")


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
