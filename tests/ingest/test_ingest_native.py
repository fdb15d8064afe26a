"""The native file path (chiso766.store.native: DuckDB reads the file) against the per-record Python path.

Equivalence is the acceptance test, as for the bulk path: for the same files, both paths must leave the same table
contents (``changes`` without ``recorded_at``), the same quarantine rows and the same reports. Each test also
checks that DuckDB really read the file natively (else the comparison would be the reference against itself).
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_ingest_bulk import (
    _BASE,
    _FIELDS,
    _VALUES,
    BAD_VALUES,
    _progress_of,
    _snapshot,
    bench_dossiers,
    bench_units,
    version_calls,
)

from chiso766.store.db import Store
from chiso766.store.ingest import ingest_file
from chiso766.store.load import ingest_records
from chiso766.store.native import native_format, read_native

Call = tuple[str, list[Any], int]


def _write(path: Path, records: list[Any], fmt: str) -> Path:
    if fmt == "jsonl":
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    else:
        path.write_text(json.dumps(records, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def _native_readable(kind: str, path: Path) -> bool:
    fmt = native_format(path)
    return fmt is not None and read_native(duckdb.connect(), kind, path, fmt) is not None


def _run(calls: list[Call], folder: Path, fmt: str, *, native: bool) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    folder.mkdir(parents=True, exist_ok=True)
    with Store(":memory:") as store:
        ingest_records(store, "units", bench_units(), "units")
        reports = []
        for i, (kind, records, batch) in enumerate(calls):
            path = _write(folder / f"{kind}{i}.{fmt}", records, fmt)
            report = ingest_file(store, kind, path, source=f"call{i}", batch_size=batch, native=native, bulk=False)
            doc = report.as_dict()
            doc.pop("receipt_id")
            reports.append(doc)
        return _snapshot(store), reports


def assert_same(calls: list[Call], tmp_path: Path, fmt: str = "jsonl") -> tuple[dict[str, Any], list[dict[str, Any]]]:
    fast = _run(calls, tmp_path / "native", fmt, native=True)
    slow = _run(calls, tmp_path / "python", fmt, native=False)
    assert fast[1] == slow[1]
    for table in slow[0]:
        assert fast[0][table] == slow[0][table], table
    return fast


# ------------------------------------------------------------------------------------------------ versions


def _version_calls() -> list[Call]:
    base = list(bench_dossiers(120, seed=3))
    late_entry = {"MaHoSo": base[0]["MaHoSo"], "TrangThai": "6", "ThoiDiemXuLy": "20260701080000"}
    return [*version_calls(), ("progress", [*_progress_of(base), late_entry], 50)]


@pytest.mark.parametrize("fmt", ["jsonl", "json"])
def test_versions_replays_and_progress(tmp_path: Path, fmt: str) -> None:
    calls = _version_calls()
    for kind, records, _ in calls:
        assert _native_readable(kind, _write(tmp_path / f"probe.{fmt}", records, fmt))
    snap, reports = assert_same(calls, tmp_path, fmt)
    assert reports[0]["accepted"] == 120 and reports[1]["unchanged"] == 120 and reports[2]["updated"] == 40
    assert reports[3]["unchanged"] == 20 and reports[8]["accepted"] == 1
    assert len(snap["dossiers"]) == 120


# ------------------------------------------------------------------------------------------------ bad values


def _bad_records() -> list[dict[str, Any]]:
    out = []
    for d, (name, value) in zip(bench_dossiers(len(BAD_VALUES), seed=7), BAD_VALUES, strict=True):
        if value is None:
            d.pop(name, None)
        else:
            d[name] = value
        out.append(d)
    return out


def _readable_bad_records(tmp_path: Path) -> list[dict[str, Any]]:
    """The bad records DuckDB reads with the schema (each alone in a file)."""
    return [
        r
        for i, r in enumerate(_bad_records())
        if _native_readable("dossiers", _write(tmp_path / f"one{i}.jsonl", [r], "jsonl"))
    ]


def test_bad_values_are_judged_by_the_parser(tmp_path: Path) -> None:
    """Each bad value alone in a file: DuckDB reads most such files (SQL then refuses to certify the record and the
    parser judges it); the others (a list sent as a string, a list of numbers…) go to the reference path whole."""
    readable = _readable_bad_records(tmp_path)
    assert len(readable) >= 30
    plain = list(bench_dossiers(20, seed=8, start=1_000))  # other keys than the bad records'
    records = [x for pair in zip(plain, readable, strict=False) for x in pair] + readable[len(plain) :]
    assert _native_readable("dossiers", _write(tmp_path / "all.jsonl", records, "jsonl"))
    _, reports = assert_same([("dossiers", records, 5_000), ("dossiers", records, 9)], tmp_path)
    assert reports[0]["rejected"] >= 10 and reports[0]["accepted"] >= 25
    assert reports[1]["rejected"] == reports[0]["rejected"] and reports[1]["accepted"] == 0


def test_unreadable_files_take_the_reference_path(tmp_path: Path) -> None:
    records: list[Any] = [*bench_dossiers(5, seed=9), "a string", 5]
    records[1]["TaiLieuNop"] = ""  # an empty string for a list: DuckDB's reader refuses the file
    lines = [json.dumps(r, ensure_ascii=False) for r in records]
    lines[2] = lines[2][:-5]  # truncated line
    path = tmp_path / "broken.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert not _native_readable("dossiers", path)
    with Store(":memory:") as store:
        ingest_records(store, "units", bench_units(), "units")
        report = ingest_file(store, "dossiers", path, native=True)
    assert (report.accepted, report.rejected) == (4, 3)


# ------------------------------------------------------------------------------------------------ hypothesis


@settings(
    max_examples=int(os.environ.get("CHISO766_FUZZ_EXAMPLES", "20")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(st.lists(st.tuples(st.integers(0, len(_BASE) - 1), st.dictionaries(_FIELDS, _VALUES, max_size=3)), max_size=12))
def test_hypothesis_mutations(tmp_path: Path, mutations: list[tuple[int, dict[str, Any]]]) -> None:
    records = []
    for i, changes in mutations:
        d = copy.deepcopy(_BASE[i])
        d.update(changes)
        records.append(d)
    folder = tmp_path / str(abs(hash(json.dumps(mutations, sort_keys=True, default=str))))
    assert_same(
        [("dossiers", _BASE[:4], 5_000), ("dossiers", records, 5), ("progress", _progress_of(records), 3)], folder
    )


# ------------------------------------------------------------------------------------------------ old stores

_OLD_DDL = (
    "CREATE TABLE dossier_events (dossier_id VARCHAR NOT NULL, status VARCHAR NOT NULL, "
    "event_at TIMESTAMP NOT NULL, PRIMARY KEY (dossier_id, status, event_at))",
    "CREATE TABLE dossier_supplements (dossier_id VARCHAR NOT NULL, requested_at TIMESTAMP NOT NULL, "
    "completed_at TIMESTAMP, PRIMARY KEY (dossier_id, requested_at))",
    "CREATE TABLE dossier_databases (dossier_id VARCHAR NOT NULL, db_code VARCHAR NOT NULL, "
    "PRIMARY KEY (dossier_id, db_code))",
)


@pytest.mark.parametrize("native", [True, False])
def test_stores_with_the_old_primary_keys_get_the_same_rows(tmp_path: Path, native: bool) -> None:
    """Stores created before the dossier tables lost their PRIMARY KEY constraints (schema.LOGICAL_KEYS) are
    written through the constraints; the rows are the same as in a new store."""
    calls = _version_calls()
    snaps = []
    for old in (True, False):
        path = tmp_path / f"{old}-{native}.duckdb"
        if old:
            con = duckdb.connect(str(path))
            for ddl in _OLD_DDL:
                con.execute(ddl)
            con.close()
        with Store(str(path)) as store:
            pks = store.connection.execute(
                "SELECT count(*) FROM duckdb_constraints() WHERE constraint_type = 'PRIMARY KEY' "
                "AND table_name LIKE 'dossier_%'"
            ).fetchone()
            assert pks is not None and pks[0] == (3 if old else 0)
            ingest_records(store, "units", bench_units(), "units")
            for i, (kind, records, batch) in enumerate(calls):
                f = _write(tmp_path / f"c{i}.jsonl", records, "jsonl")
                ingest_file(store, kind, f, source=f"call{i}", batch_size=batch, native=native)
            snaps.append(_snapshot(store))
    assert snaps[0] == snaps[1]
    events = snaps[1]["dossier_events"]
    assert len(events) == len(set(events)) > 0


# ------------------------------------------------------------------------------------------------ flat files


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "parquet"])
def test_flat_files_native_equals_per_record(tmp_path: Path, fmt: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """CSV/XLSX/Parquet rows become records as before, then take the native path: same rows and reports."""
    from bench.ingest import write_file

    from chiso766.store import ingest as load

    native_reads: list[bool] = []
    original = load._ingest_native

    def spy(*args: Any, **kwargs: Any) -> Any:
        report = original(*args, **kwargs)
        native_reads.append(report is not None)
        return report

    monkeypatch.setattr(load, "_ingest_native", spy)

    path = tmp_path / f"dossiers.{fmt}"
    write_file(path, fmt, 60, 17)
    if fmt == "csv":  # a few bad cells: judged by the parser on both paths
        lines = path.read_text(encoding="utf-8").splitlines()
        lines[3] = lines[3].replace("2026", "2O26", 1)
        lines[5] = lines[5].replace(",", ", ", 2)
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    results = []
    for native in (True, False):
        with Store(":memory:") as store:
            ingest_records(store, "units", bench_units(), "units")
            reports = []
            for _ in range(2):  # then a replay
                doc = ingest_file(store, "dossiers", path, batch_size=25, native=native, bulk=False).as_dict()
                doc.pop("receipt_id")
                reports.append(doc)
            results.append((reports, _snapshot(store)))
    assert native_reads == [True, True]  # both calls of the native run
    assert results[0] == results[1]
    reports = results[0][0]
    assert reports[0]["accepted"] + reports[0]["rejected"] == 60 and reports[0]["accepted"] >= 55
    assert reports[1]["unchanged"] == reports[0]["accepted"]


def test_files_in_several_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file longer than a chunk (``NATIVE_CHUNK``) goes in several transactions: same result as one chunk."""
    from chiso766.store import ingest as load

    records = [*_readable_bad_records(tmp_path), *bench_dossiers(50, seed=31, start=2_000)]
    records[60]["MaHoSo"] = records[3]["MaHoSo"]  # a second version of a key in another chunk
    assert _native_readable("dossiers", _write(tmp_path / "all.jsonl", records, "jsonl"))
    single = assert_same([("dossiers", records, 5)], tmp_path / "one")
    monkeypatch.setattr(load, "NATIVE_CHUNK", 10)  # chunks of 10 records: 2 batches of 5
    several = assert_same([("dossiers", records, 5)], tmp_path / "many")
    assert several == single
