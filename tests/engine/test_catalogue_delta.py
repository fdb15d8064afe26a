"""Catalogue counters moved by changed fact rows equal the difference of two full recounts (LiveIndex path).

Hand-made trees and fact rows; the reference is :func:`catalogue_counts_sql` run on the old and on the new rows.
"""

from __future__ import annotations

import random
from typing import Any

import duckdb
import pytest

from chiso766.engine.catalogue_delta import catalogue_delta_sql
from chiso766.engine.facts_catalogue import CATALOGUE_INDICATORS, catalogue_counts_sql, catalogue_static_sql
from chiso766.engine.structure import rebuild_unit_closure
from chiso766.engine.usage import unit_tree_sql

# P1 ── C1, C2, D1 ; P2 ── C3 ; X ⇄ Y (a parent cycle: no root)
UNITS = [
    ("P1", None),
    ("C1", "P1"),
    ("C2", "P1"),
    ("D1", "P1"),
    ("P2", None),
    ("C3", "P2"),
    ("X", "Y"),
    ("Y", "X"),
]
PERIODS = ("2026-12", "2026")
FACT_COLUMNS = (
    "period_id VARCHAR, indicator_code VARCHAR, unit_code VARCHAR, item_code VARCHAR, hit BOOLEAN, reason VARCHAR"
)
Row = tuple[str, str, str, str, bool, Any]


def _connection(static: list[Row]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("CREATE TABLE units (unit_code VARCHAR PRIMARY KEY, parent_code VARCHAR)")
    con.executemany("INSERT INTO units VALUES (?, ?)", UNITS)
    con.execute("CREATE TABLE unit_closure (ancestor VARCHAR, descendant VARCHAR, depth INTEGER)")
    rebuild_unit_closure(con)
    con.execute("CREATE TABLE period_structure (period_id VARCHAR)")
    con.executemany("INSERT INTO period_structure VALUES (?)", [(p,) for p in PERIODS])
    con.execute(f"CREATE TABLE static_rows ({FACT_COLUMNS})")
    if static:
        con.executemany("INSERT INTO static_rows VALUES (?, ?, ?, ?, ?, ?)", static)
    items, _pooled = catalogue_static_sql("static_rows")
    con.execute(f"CREATE TABLE static_items AS {items}")
    return con


def _counts(con: duckdb.DuckDBPyConnection, table: str) -> dict[tuple[str, str, str], tuple[int, int]]:
    con.execute("DROP TABLE IF EXISTS counted")
    con.execute(f"CREATE TABLE counted AS SELECT * FROM static_rows UNION ALL SELECT * FROM {table}")
    rows = con.execute(catalogue_counts_sql("counted")).fetchall()
    return {(p, u, i): (int(n), int(d)) for p, u, i, n, d in rows if n or d}


def _delta(
    con: duckdb.DuckDBPyConnection, old: list[Row], new: list[Row]
) -> dict[tuple[str, str, str], tuple[int, int]]:
    for name, rows in (("old_rows", old), ("new_rows", new)):
        con.execute(f"DROP TABLE IF EXISTS {name}")
        con.execute(f"CREATE TABLE {name} ({FACT_COLUMNS})")
        if rows:
            con.executemany(f"INSERT INTO {name} VALUES (?, ?, ?, ?, ?, ?)", rows)
    con.execute("CREATE OR REPLACE TABLE gone AS SELECT * FROM old_rows EXCEPT SELECT * FROM new_rows")
    con.execute("CREATE OR REPLACE TABLE added AS SELECT * FROM new_rows EXCEPT SELECT * FROM old_rows")
    sql = catalogue_delta_sql(("old_rows", "new_rows"), ("gone", "added"), "static_items", CATALOGUE_INDICATORS)
    moved: dict[tuple[str, str, str], tuple[int, int]] = {}
    for p, u, i, n, d in con.execute(sql).fetchall():
        if n or d:
            moved[(p, u, i)] = (int(n), int(d))
    return moved


def _difference(
    before: dict[tuple[str, str, str], tuple[int, int]], after: dict[tuple[str, str, str], tuple[int, int]]
) -> dict[tuple[str, str, str], tuple[int, int]]:
    out = {}
    for key in before.keys() | after.keys():
        n0, d0 = before.get(key, (0, 0))
        n1, d1 = after.get(key, (0, 0))
        if (n1 - n0, d1 - d0) != (0, 0):
            out[key] = (n1 - n0, d1 - d0)
    return out


def test_hand_worked_moves() -> None:
    """A commune's first fee dossier (3.5), a used DVC (3.2) and a connected dossier at a static 4.5a item."""
    static: list[Row] = [
        ("*", "PAYMENT_PROCEDURES_INTEGRATED", "D1", "T1", False, "no_dossier_in_period"),  # catalogue route
        ("*", "ONLINE_SERVICES_USED", "C1", "S1", False, "no_online_dossier"),
        ("*", "CITIZEN_DATA_CONNECTED_FORMALITY", "C2", "T2", False, "no_dossier_in_period"),
    ]
    con = _connection(static)
    old: list[Row] = [("2026", "PAYMENT_PROCEDURES_INTEGRATED", "D1", "T1", False, "no_nonzero_fee_dossier")]
    new: list[Row] = [
        *old,
        ("2026", "PAYMENT_PROCEDURES_INTEGRATED", "C1", "T1", True, None),
        ("2026", "ONLINE_SERVICES_USED", "C1", "S1", True, None),
        ("2026", "CITIZEN_DATA_CONNECTED_FORMALITY", "C2", "T2", True, None),
    ]
    assert _delta(con, old, new) == {
        # T1 at C1 is a new item there (1/1); at P1 it was already an item (from D1): only the hit moves.
        ("2026", "C1", "PAYMENT_PROCEDURES_INTEGRATED"): (1, 1),
        ("2026", "P1", "PAYMENT_PROCEDURES_INTEGRATED"): (1, 0),
        # S1 is a static item of C1: used now, at C1 and every ancestor.
        ("2026", "C1", "ONLINE_SERVICES_USED"): (1, 0),
        ("2026", "P1", "ONLINE_SERVICES_USED"): (1, 0),
        # 4.5a counts at the row's unit only.
        ("2026", "C2", "CITIZEN_DATA_CONNECTED_FORMALITY"): (1, 0),
    }
    assert _delta(con, old, new) == _difference(_counts(con, "old_rows"), _counts(con, "new_rows"))


@pytest.mark.parametrize("seed", range(12))
def test_random_changes_match_two_recounts(seed: int) -> None:
    """Random static and dated rows over the tree; a random change of the dated rows (rows added, removed, hits
    and reasons flipped) moves the counters exactly as recounting before and after does."""
    rng = random.Random(seed)
    units = [u for u, _ in UNITS]
    indicators = (
        "ONLINE_SERVICES_USED",
        "PAYMENT_PROCEDURES_INTEGRATED",
        "PAYMENT_PROCEDURES_ONLINE",
        "CITIZEN_DATA_CONNECTED_FORMALITY",
    )
    items = ("I1", "I2", "I3")
    keys = [(i, u, t) for i in indicators for u in units for t in items]
    static: list[Row] = [("*", i, u, t, rng.random() < 0.3, None) for i, u, t in rng.sample(keys, 15)]
    con = _connection(static)
    dated = [(p, i, u, t) for p in PERIODS for i, u, t in keys]
    old: list[Row] = [(*k, rng.random() < 0.5, rng.choice([None, "a"])) for k in rng.sample(dated, 40)]
    new: list[Row] = []
    for row in old:
        roll = rng.random()
        if roll < 0.15:
            continue  # removed
        if roll < 0.35:
            row = (*row[:4], not row[4], row[5])  # hit flipped
        elif roll < 0.45:
            row = (*row[:5], "b")  # reason changed only
        new.append(row)
    present = {r[:4] for r in old}
    new += [(*k, rng.random() < 0.5, None) for k in rng.sample([k for k in dated if k not in present], 10)]
    assert _delta(con, old, new) == _difference(_counts(con, "old_rows"), _counts(con, "new_rows"))


def test_unit_trees() -> None:
    """Every unit is mapped to its root; units in a parent cycle share the empty tree."""
    con = _connection([])
    trees = dict(con.execute(unit_tree_sql()).fetchall())
    assert trees == {"P1": "P1", "C1": "P1", "C2": "P1", "D1": "P1", "P2": "P2", "C3": "P2", "X": "", "Y": ""}
