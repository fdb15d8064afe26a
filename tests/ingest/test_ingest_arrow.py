"""Inserts through Arrow tables (``chiso766.store.load._insert_arrow``) against list parameters.

Both ways must store exactly the same rows; values whose Python type is not exactly the column's plain type
(aware date-times, bools or floats for integers, dates for time stamps, lone surrogates) must not go through
Arrow at all, so that no value is ever converted differently.
"""

from __future__ import annotations

import copy
import json
import sys
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from ingest_helpers import DATA_TABLES, RECORDS, load, snapshot

from chiso766.store import load as load_mod
from chiso766.store.db import Store
from chiso766.store.ingest import ingest_paths
from chiso766.store.load import ingest_records

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.ingest import dossiers as bench_dossiers  # noqa: E402
from bench.ingest import units as bench_units  # noqa: E402

pytestmark = pytest.mark.skipif(getattr(load_mod, "_pa", None) is None, reason="pyarrow not installed")


def _everything(store: Store) -> dict[str, Any]:
    out: dict[str, Any] = dict(snapshot(store, DATA_TABLES))
    con = store.connection
    out["quarantine"] = sorted(
        con.execute("SELECT kind, source, record_no, record_key, record, problems FROM quarantine").fetchall(),
        key=repr,
    )
    out["receipts"] = sorted(
        con.execute("SELECT kind, source, accepted, updated, unchanged, rejected FROM receipts").fetchall(), key=repr
    )
    return out


def _calls() -> list[tuple[str, list[Any], int]]:
    first = list(bench_dossiers(700, seed=3))
    newer = copy.deepcopy(first[::3])
    for rec in newer:
        rec["TrangThaiHoSo"] = "10"
        rec["NgayCapNhat"] = "20270101080000"
    odd = copy.deepcopy(first[:6])
    odd[0]["MaTTHC"] = 1234  # a number for a code
    odd[1]["HeThongNguon"] = "  padded  "
    odd[2]["NgayTiepNhan"] = "20261332250000"
    odd[3]["QuaTrinhXuLy"] = "not a list"
    odd[4]["MaCoQuanThucHien"] = "H44.01"
    odd[5]["DanhSachLePhi"] = [{"Gia": 1.5}, {"Gia": True}]
    return [
        ("units", load("units.json"), 5_000),
        ("procedures", load("procedures.json"), 5_000),
        ("publications", load("publications.json"), 5_000),
        ("dossiers", load("dossiers.json"), 5_000),
        (
            "progress",
            [json.loads(line) for line in (RECORDS / "progress.jsonl").read_text().splitlines() if line],
            5_000,
        ),
        ("petitions", load("petitions.json"), 5_000),
        ("units", bench_units(), 5_000),
        ("dossiers", first, 250),
        ("dossiers", first + newer, 400),
        ("dossiers", odd + newer, 7),
    ]


def _run(monkeypatch: pytest.MonkeyPatch, arrow: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    monkeypatch.setenv("CHISO766_INGEST_ARROW", arrow)
    reports = []
    with Store(":memory:") as store:
        for i, (kind, records, batch) in enumerate(_calls()):
            report = ingest_records(store, kind, records, f"call{i}", batch_size=batch, bulk=False).as_dict()
            report.pop("receipt_id")
            reports.append(report)
        for file_report in ingest_paths(store, "auto", [RECORDS], bulk=False):
            reports.append({**file_report.as_dict(), "receipt_id": None})
        return _everything(store), reports


def test_arrow_inserts_store_the_same_as_list_parameters(monkeypatch: pytest.MonkeyPatch) -> None:
    used: list[str] = []
    real = load_mod._insert_arrow

    def spy(*args: Any, **kwargs: Any) -> bool:
        ok = real(*args, **kwargs)
        if ok:
            used.append(args[1].name)
        return ok

    monkeypatch.setattr(load_mod, "_insert_arrow", spy)
    with_arrow = _run(monkeypatch, "1")
    assert {"dossiers", "dossier_events", "quarantine", "units", "procedures"} <= set(used)
    used.clear()
    without = _run(monkeypatch, "0")
    assert not used
    assert with_arrow[1] == without[1]
    for table in without[0]:
        assert with_arrow[0][table] == without[0][table], table


@pytest.mark.parametrize(
    ("sql_type", "values", "arrow"),
    [
        ("VARCHAR", ["a", None, "ă ơ đ", ""], True),
        ("VARCHAR", ["a", 1], False),
        ("TIMESTAMP", [datetime(2026, 1, 5, 8, 0, 1, 7), None], True),
        ("TIMESTAMP", [datetime(2026, 1, 5, 8, tzinfo=UTC)], False),
        ("TIMESTAMP", [datetime(2026, 1, 5, 8, tzinfo=timezone(timedelta(hours=7)))], False),
        ("TIMESTAMP", [date(2026, 1, 5)], False),
        ("DATE", [date(2026, 1, 5), None], True),
        ("DATE", [datetime(2026, 1, 5, 23, 59)], False),
        ("BOOLEAN", [True, False, None], True),
        ("BOOLEAN", [1, 0], False),
        ("BIGINT", [0, -(2**63), 2**63 - 1, None], True),
        ("BIGINT", [True], False),
        ("BIGINT", [1.5], False),
        ("INTEGER", [1, None], True),
        ("DOUBLE", [0.1, 1e300, None], True),
        ("DOUBLE", [1], False),
    ],
)
def test_only_plain_values_go_through_arrow(
    monkeypatch: pytest.MonkeyPatch, sql_type: str, values: list[Any], arrow: bool
) -> None:
    stored = []
    for env in ("1", "0"):
        monkeypatch.setenv("CHISO766_INGEST_ARROW", env)
        with Store(":memory:") as store:
            con = store.connection
            con.execute(f"CREATE TABLE t (i INTEGER PRIMARY KEY, v {sql_type})")
            table = load_mod._table_meta(con, "t")
            rows = [(i, v) for i, v in enumerate(values)]
            lists = [list(c) for c in zip(*rows, strict=True)]
            if env == "1":
                assert load_mod._insert_arrow(con, table, ("i", "v"), lists, "") is arrow
                if not arrow:
                    load_mod._insert(con, table, ("i", "v"), rows)
            else:
                load_mod._insert(con, table, ("i", "v"), rows, mode="OR REPLACE")
            stored.append(con.execute("SELECT i, v FROM t ORDER BY i").fetchall())
    assert stored[0] == stored[1]


def test_a_lone_surrogate_is_refused_by_both_ways(monkeypatch: pytest.MonkeyPatch) -> None:
    """Neither way can store a string that is not UTF-8: Arrow declines it, list parameters raise as before."""
    with Store(":memory:") as store:
        con = store.connection
        con.execute("CREATE TABLE t (v VARCHAR)")
        table = load_mod._table_meta(con, "t")
        assert load_mod._insert_arrow(con, table, ("v",), [["lone \ud800"]], "") is False
        with pytest.raises(Exception, match="surrogate"):
            load_mod._insert(con, table, ("v",), [("lone \ud800",)])


def test_relaxed_gc_raises_the_threshold_only_inside_and_restores_it() -> None:
    import gc

    before = gc.get_threshold()
    with load_mod.relaxed_gc:
        assert gc.get_threshold()[0] >= load_mod.relaxed_gc.GEN0
        with load_mod.relaxed_gc:  # re-entrant (two requests at once)
            assert gc.get_threshold()[0] >= load_mod.relaxed_gc.GEN0
        assert gc.get_threshold()[0] >= load_mod.relaxed_gc.GEN0
    assert gc.get_threshold() == before
    with Store(":memory:") as store:
        ingest_records(store, "units", bench_units(), "units")
    assert gc.get_threshold() == before
