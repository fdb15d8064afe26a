"""The set-based ingest path (chiso766.store.bulk) against the reference per-record Python path.

Equivalence is the acceptance test: for the same calls, both paths must leave the same table contents (every
data table, ``changes`` without its ``recorded_at``), the same quarantine rows (record number, key, record and
bilingual problems) and report the same counts and problems.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ingest_helpers import DATA_TABLES

from chiso766.store.db import Store
from chiso766.store.ingest import ingest_paths
from chiso766.store.load import ingest_records

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.ingest import dossiers as bench_dossiers  # noqa: E402
from bench.ingest import units as bench_units  # noqa: E402

Call = tuple[str, list[Any], int]  # kind, records, batch size


def _snapshot(store: Store) -> dict[str, Any]:
    con = store.connection
    out: dict[str, Any] = {}
    for table in DATA_TABLES:
        cols = [
            c
            for (c,) in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position",
                [table],
            ).fetchall()
            if c not in ("ingested_at", "recorded_at")
        ]
        rows = con.execute(f"SELECT {', '.join(cols)} FROM {table}").fetchall()
        out[table] = sorted(rows, key=repr)
    out["quarantine"] = sorted(
        con.execute("SELECT kind, source, record_no, record_key, record, problems FROM quarantine").fetchall(),
        key=repr,
    )
    out["receipts"] = sorted(
        con.execute("SELECT kind, source, accepted, updated, unchanged, rejected FROM receipts").fetchall(), key=repr
    )
    return out


def _run(calls: list[Call], *, bulk: bool) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    with Store(":memory:") as store:
        ingest_records(store, "units", bench_units(), "units")
        reports = []
        for i, (kind, records, batch) in enumerate(calls):
            report = ingest_records(
                store, kind, copy.deepcopy(records), f"call{i}", batch_size=batch, bulk=bulk
            ).as_dict()
            report.pop("receipt_id")
            reports.append(report)
        return _snapshot(store), reports


def assert_same(calls: list[Call]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    fast = _run(calls, bulk=True)
    slow = _run(calls, bulk=False)
    assert fast[1] == slow[1]
    for table in slow[0]:
        assert fast[0][table] == slow[0][table], table
    return fast


def _progress_of(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[Any] = []
    for r in records:
        events = r.get("QuaTrinhXuLy") if isinstance(r, dict) else None
        if isinstance(events, list):
            out.extend(copy.deepcopy(e) for e in events)
    return out


# ------------------------------------------------------------------------------------------------ versions


def version_calls() -> list[Call]:
    """Replays, newer and older versions, moved units, changed child sets, duplicates in and across batches."""
    base = list(bench_dossiers(120, seed=3))
    newer = copy.deepcopy(base[:40])
    for i, d in enumerate(newer):
        d["NgayCapNhat"] = "20270101000000"
        d["TrangThaiHoSo"] = "10"
        d["QuaTrinhXuLy"].append({"MaHoSo": d["MaHoSo"], "TrangThai": "10", "ThoiDiemXuLy": "20261231235959"})
        if i % 3 == 0:
            d["MaCoQuanThucHien"] = "H44.07"  # moved: changes rows for the new and the old unit
        if i % 4 == 0:
            d["DanhSachHoSoBoSung"] = [
                {"NgayBoSung": "20260301080000"},
                {"NgayBoSung": "20260301080000", "NgayTiepNhanBoSung": "20260302080000"},
            ]
    older = copy.deepcopy(newer[:20])
    for d in older:
        d["NgayCapNhat"] = "20250101000000"
        d["KenhThucHien"] = "1"
    same_main_new_events = copy.deepcopy(base[40:60])
    for d in same_main_new_events:
        added = {"MaHoSo": d["MaHoSo"], "TrangThai": "5", "ThoiDiemXuLy": "20260601000000"}
        d["QuaTrinhXuLy"] = [*d["QuaTrinhXuLy"][:1], added]
    fewer_events = copy.deepcopy(base[60:70])
    for d in fewer_events:
        d["QuaTrinhXuLy"] = d["QuaTrinhXuLy"][:1]  # a subset: unchanged
    in_batch = [*copy.deepcopy(base[70:75]), *copy.deepcopy(newer[:5]), *copy.deepcopy(base[70:75])]
    return [
        ("dossiers", base, 5_000),
        ("dossiers", base, 5_000),  # replay: all unchanged
        ("dossiers", newer, 7),
        ("dossiers", older, 5_000),  # out of order: ignored
        ("dossiers", same_main_new_events, 5_000),
        ("dossiers", fewer_events, 5_000),
        ("dossiers", in_batch, 4),  # duplicates inside and across batches
        ("dossiers", [*older[:3], *newer[:3], *base[:3]], 5_000),
    ]


def test_generated_dossiers_replays_and_versions() -> None:
    calls = version_calls()
    snap, reports = assert_same(calls)
    assert reports[1]["unchanged"] == 120 and reports[2]["updated"] == 40
    assert len(snap["changes"]) > 120


def test_progress_entries() -> None:
    base = list(bench_dossiers(60, seed=5))
    progress = _progress_of(base)
    extra = [
        {"MaHoSo": base[0]["MaHoSo"], "TrangThai": "6", "ThoiDiemXuLy": "20260701080000"},
        {"MaHoSo": "000.00.99.H44-260101-0000001", "TrangThai": "2", "ThoiDiemXuLy": "20260701080000"},  # unknown
        {"MaHoSo": "X-1", "TrangThai": "11", "ThoiDiemXuLy": "20260701080000"},
        {"MaHoSo": "X-2", "TrangThai": "2", "ThoiDiemXuLy": "2026070108000"},
        {"MaHoSo": "X-3", "TrangThai": 2, "ThoiDiemXuLy": "20260701080000"},  # an integer code: Python path
        {"dossier_id": "X-4", "status": "2", "event_at": "20260701080000"},  # English names: Python path
        {"MaHoSo": " X-5 ", "TrangThai": "2", "ThoiDiemXuLy": "20260701080000"},
        {"TrangThai": "2"},
        ["not", "an", "object"],
    ]
    calls: list[Call] = [
        ("progress", progress[:100], 5_000),
        ("dossiers", base, 5_000),
        ("progress", [*progress, *extra, *progress[:10]], 13),
        ("progress", progress, 5_000),
    ]
    _, reports = assert_same(calls)
    assert reports[3]["unchanged"] == len(progress)


BAD_VALUES: list[tuple[str, Any]] = [
    ("NgayTiepNhan", "20261332250000"),
    ("NgayTiepNhan", "19000101000000"),
    ("NgayTiepNhan", " 20260105083000"),
    ("NgayTiepNhan", 20260105083000),
    ("NgayHenTra", "2026-01-05"),
    ("TrangThaiHoSo", "11"),
    ("TrangThaiHoSo", 4),
    ("TrangThaiHoSo", " 4"),
    ("KenhThucHien", "x" * 201),
    ("MaTTHC", "y" * 2_001),
    ("MaTTHC", "\u00a01.000001"),
    ("MaTTHC", 1.5),
    ("HoSoCoThanhPhanSoHoa", "2"),
    ("HoSoCoThanhPhanSoHoa", True),
    ("HoSoCoThanhPhanSoHoa", " TRUE "),
    ("TaiKhoanDuocXacThucVoiVNeID", "tRuE"),
    ("TaiLieuNop", "abc"),
    ("TaiLieuNop", ""),
    ("TaiLieuNop", [1, 2]),
    ("TaiLieuNop", [{"IsDeleted": "1", "DuongDanTaiTepTin": "u", "DuocSoHoa": "1"}]),
    ("TaiLieuNop", [{"IsDeleted": "x"}]),
    ("DanhSachLePhi", [{"Gia": True}]),
    ("DanhSachLePhi", [{"Gia": 0}, {"Gia": "0"}]),
    ("DanhSachLePhi", [{"Gia": 1.5e300}]),
    ("DanhSachLePhi", [{"Gia": -3}]),
    ("DanhSachPhiLePhi", [{"Gia": "0đ"}, {"amount": "5"}]),
    ("DanhSachHoSoBoSung", [{"NgayTiepNhanBoSung": "20260101000000"}]),
    ("DSKetNoiCSDL", [{"MaCSDL": ""}, {"MaCSDL": "1"}, {"MaCSDL": 2}]),
    ("MaCSDL", "7"),
    ("QuaTrinhXuLy", [{"MaHoSo": "other", "TrangThai": "2", "ThoiDiemXuLy": "20260101000000"}]),
    ("QuaTrinhXuLy", [{"TrangThai": "2"}]),
    ("QuaTrinhXuLy", [{"MaHoSo": "", "TrangThai": "2", "ThoiDiemXuLy": "20260101000000"}]),
    ("MaHoSo", ""),
    ("MaHoSo", "ß-1"),
    ("MaHoSo", None),
    ("MaCoQuanThucHien", ""),
    ("status", "2"),
    ("HeThongNguon", "hệ thống \u0000"),
    ("ChuHoSo", "Nguyễn Văn A"),
]


def test_bad_records_are_judged_by_the_parser() -> None:
    base = list(bench_dossiers(len(BAD_VALUES), seed=7))
    records: list[Any] = []
    for d, (name, value) in zip(base, BAD_VALUES, strict=True):
        d = copy.deepcopy(d)
        if value is None:
            d.pop(name, None)
        else:
            d[name] = value
        records.append(d)
    records += ["a string", 5, None, {}]
    _, reports = assert_same([("dossiers", records, 5_000), ("dossiers", records, 9)])
    assert reports[0]["rejected"] > 10 and reports[0]["accepted"] > 5


def test_jsonl_files_with_broken_lines(tmp_path: Path) -> None:
    base = list(bench_dossiers(30, seed=11))
    lines = [json.dumps(d, ensure_ascii=False) for d in base]
    lines[3] = lines[3][:-10]  # truncated
    lines[5] = "   "  # blank: not a record
    lines[7] = lines[7].replace('"TrangThaiHoSo"', '"TrangThaiHoSo": "3", "TrangThaiHoSo"', 1)  # a repeated key
    lines[8] = json.dumps(base[8], ensure_ascii=True)  # \u escapes
    lines[9] = lines[9].replace('"NgayTiepNhan": "', '"NgayTiepNhan": "\\ud800', 1)  # a lone surrogate
    lines[10] = '{"MaHoSo": NaN}'
    path = tmp_path / "dossiers.jsonl"
    path.write_bytes(("\ufeff" + "\n".join(lines) + "\n").encode() + b'{"MaHoSo": "\xff"}\n')
    progress = tmp_path / "progress.jsonl"
    progress.write_text("\n".join(json.dumps(e, ensure_ascii=False) for e in _progress_of(base)) + "\n{broken\n")
    results = []
    for bulk in (True, False):
        with Store(":memory:") as store:
            ingest_records(store, "units", bench_units(), "units")
            paths = [path, progress]
            reports = [r.as_dict() for r in ingest_paths(store, "auto", paths, bulk=bulk, native=False)]
            again = ingest_paths(store, "auto", paths[::-1], batch_size=7, bulk=bulk, native=False)
            reports += [r.as_dict() for r in again]
            for r in reports:
                r.pop("receipt_id")
            results.append((reports, _snapshot(store)))
    assert results[0][0] == results[1][0]
    assert results[0][1] == results[1][1]


# ------------------------------------------------------------------------------------------------ hypothesis

_VALUES = st.one_of(
    st.sampled_from(
        [
            "",
            " ",
            "1",
            "0",
            "true",
            "TRUE",
            "2",
            "10",
            "11",
            "20260105083000",
            "20260230083000",
            "19741231235959",
            "2026010508300",
            "H44.01",
            "a-b",
            "Ｈ",
            "\u2003x",
            "x\t",
        ]
    ),
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=6),
    st.lists(
        st.dictionaries(
            st.sampled_from(
                ["Gia", "IsDeleted", "MaCSDL", "NgayBoSung", "TrangThai", "ThoiDiemXuLy", "DuongDanTaiTepTin", "MaHoSo"]
            ),
            st.sampled_from(["1", "0", "", "20260105083000", "2", 0, 7, None]),
        ),
        max_size=3,
    ),
)
_FIELDS = st.sampled_from(
    ["MaHoSo", "MaCoQuanThucHien", "MaDonVi", "MaTTHC", "KenhThucHien", "NgayNopHoSo", "NgayTiepNhan", "NgayHenTra",
     "TrangThaiHoSo", "NgayKetThucXuLy", "NgayTra", "DuocThanhToanTrucTuyen", "NgayCapNhat", "DanhSachLePhi",
     "TaiLieuNop", "DanhSachGiayToKetQua", "HoSoCoThanhPhanSoHoa", "DSKetNoiCSDL", "MaCSDL", "DanhSachHoSoBoSung",
     "QuaTrinhXuLy", "DanhGiaKhongHaiLong", "HeThongNguon"]
)  # fmt: skip
_BASE = list(bench_dossiers(8, seed=13))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, len(_BASE) - 1), st.dictionaries(_FIELDS, _VALUES, max_size=3)), max_size=12))
def test_hypothesis_mutations(mutations: list[tuple[int, dict[str, Any]]]) -> None:
    records = []
    for i, changes in mutations:
        d = copy.deepcopy(_BASE[i])
        d.update(changes)
        records.append(d)
    assert_same([("dossiers", _BASE[:4], 5_000), ("dossiers", records, 5), ("progress", _progress_of(records), 3)])


# ------------------------------------------------------------------------------------------------ demo data


@pytest.mark.parametrize("kind", ["dossiers", "progress"])
def test_generated_province(tmp_path: Path, kind: str) -> None:
    out = tmp_path / "g"
    subprocess.run(
        [str(Path(sys.executable).parent / "chiso766"), "generate", "--scale", "province",
         "--dossiers", "400", "--seed", "4", "--out", str(out)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    results = []
    for bulk in (True, False):
        with Store(":memory:") as store:
            ingest_paths(store, "auto", [out / "units.jsonl"], bulk=bulk, native=False)
            if kind == "progress":  # progress before and after its dossiers
                ingest_paths(store, "progress", [out / "progress.jsonl"], batch_size=100, bulk=bulk, native=False)
            got = ingest_paths(store, "dossiers", [out / "dossiers.jsonl"], bulk=bulk, native=False)
            got += ingest_paths(store, "progress", [out / "progress.jsonl"], bulk=bulk, native=False)
            reports = [r.as_dict() for r in got]
            for r in reports:
                r.pop("receipt_id")
            results.append((reports, _snapshot(store)))
    assert results[0][0] == results[1][0]
    assert results[0][1] == results[1][1]
    assert results[0][0][0]["accepted"] == 400
