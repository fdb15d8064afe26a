"""store.load: idempotent upserts, versions, merged histories, ``changes``, personal data, files and folders."""

from __future__ import annotations

import copy
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from ingest_helpers import DATA_TABLES, load, rows, snapshot

from chiso766.errors import InputError
from chiso766.records.base import parse_local_instant as utc
from chiso766.store.db import Store
from chiso766.store.ingest import ingest_paths
from chiso766.store.load import find_record_files, ingest_records, read_records

D1 = "000.00.01.H99-260105-0001"
D2 = "000.00.02.H99-260106-0002"

PERSONAL_VALUES = (
    "Nguyễn Văn An",
    "001090012345",
    "an.nguyen@example.vn",
    "0912345678",
    "Số 5 ngõ 7",
    "Trần Thị Bình",
    "002190054321",
    "Thôn Đông",
    "Lê Văn Cường",
    "Liên hệ buổi sáng",
)


def all_text(store: Store) -> str:
    """Every value of every table of the store, as one string."""
    tables = [t for (t,) in store.connection.execute("SELECT table_name FROM information_schema.tables").fetchall()]
    return "\n".join(repr(store.connection.execute(f"SELECT * FROM {t}").fetchall()) for t in tables)


def test_folder_mode_loads_every_kind_in_order(store: Store, records_dir: Path) -> None:
    files = find_record_files("auto", [records_dir])
    assert [k for k, _ in files] == ["units", "procedures", "publications", "dossiers", "progress", "petitions"]
    reports = ingest_paths(store, "auto", [records_dir])
    assert [(r.kind, r.accepted, r.rejected) for r in reports] == [
        ("units", 4, 0),
        ("procedures", 2, 0),
        ("publications", 1, 0),
        ("dossiers", 4, 0),
        ("progress", 3, 0),
        ("petitions", 2, 0),
    ]
    assert rows(store, "SELECT count(*) FROM receipts") == [(6,)]
    assert rows(store, "SELECT kind, accepted FROM receipts ORDER BY recorded_at") == [
        (r.kind, r.accepted) for r in reports
    ]
    # D2 had no embedded history: its two progress.jsonl entries are its events, and the unknown dossier's too
    assert rows(store, "SELECT status FROM dossier_events WHERE dossier_id = ? ORDER BY event_at", D2) == [
        ("2",),
        ("4",),
    ]


def test_personal_data_is_never_stored(store: Store, records_dir: Path) -> None:
    ingest_paths(store, "auto", [records_dir])
    # the same records, broken, go to quarantine: still without personal data
    broken = [dict(r, NgayTiepNhan="2026") for r in load("dossiers.json")[:3]]
    petitions = [dict(p, NgayGui="x") for p in load("petitions.json")]
    assert ingest_records(store, "dossiers", broken, "broken.json").rejected == 3
    assert ingest_records(store, "petitions", petitions, "broken-p.json").rejected == 2
    text = all_text(store)
    for value in PERSONAL_VALUES:
        assert value not in text, value
    quarantined = [json.loads(r) for (r,) in rows(store, "SELECT record FROM quarantine")]
    assert len(quarantined) == 5
    for record in quarantined:
        assert not {"ChuHoSo", "SoGiayToChuHoSo", "DinhDanhCHS", "Email", "SoDienThoai", "HoTen"} & set(record)
        assert not any("DiaChi" in k for k in record)
    assert quarantined[0]["MaHoSo"] == D1  # the rest of the record is kept for repair


def test_replaying_a_batch_changes_nothing(store: Store, records_dir: Path) -> None:
    first = ingest_paths(store, "auto", [records_dir])
    before = snapshot(store)
    again = ingest_paths(store, "auto", [records_dir])
    assert snapshot(store) == before
    assert all(r.accepted == r.updated == r.rejected == 0 for r in again)
    assert [r.unchanged for r in again] == [r.accepted for r in first]


def test_a_newer_version_replaces_the_row_and_children_but_merges_history(store: Store) -> None:
    v1 = copy.deepcopy(load("dossiers.json")[0])
    v1["NgayCapNhat"] = "20260110090000"
    ingest_records(store, "dossiers", [v1], "v1")
    v2 = copy.deepcopy(v1)
    v2.update(
        NgayCapNhat="20260111090000",
        TrangThaiHoSo="9",
        DanhSachHoSoBoSung=[],
        DSKetNoiCSDL=[{"MaCSDL": "3"}],
        QuaTrinhXuLy=[{"TrangThai": "9", "ThoiDiemXuLy": "20260111080000"}],  # only the newest entry is re-sent
    )
    report = ingest_records(store, "dossiers", [v2], "v2")
    assert (report.accepted, report.updated, report.unchanged) == (0, 1, 0)
    assert rows(store, "SELECT status, updated_at FROM dossiers") == [("9", utc("20260111090000"))]
    assert rows(store, "SELECT count(*) FROM dossier_supplements") == [(0,)]
    assert rows(store, "SELECT db_code FROM dossier_databases") == [("3",)]
    assert rows(store, "SELECT count(*) FROM dossier_events") == [(6,)]  # 5 old + 1 new, none lost


def test_an_older_version_is_ignored(store: Store) -> None:
    new = dict(load("dossiers.json")[0], NgayCapNhat="20260111090000", TrangThaiHoSo="10")
    old = dict(new, NgayCapNhat="20260109090000", TrangThaiHoSo="4")
    ingest_records(store, "dossiers", [new], "new")
    before = snapshot(store)
    report = ingest_records(store, "dossiers", [old], "old")
    assert (report.accepted, report.updated, report.unchanged) == (0, 0, 1)
    assert snapshot(store) == before


def test_the_same_key_twice_in_one_batch_is_two_versions(store: Store) -> None:
    """Decision: a duplicate MaHoSo in one batch is the next version, as if it came in a later call."""
    a = {"MaHoSo": "X-1", "NgayTiepNhan": "20260201080000", "TrangThaiHoSo": "2"}
    b = dict(a, TrangThaiHoSo="4")
    report = ingest_records(store, "dossiers", [a, b, b], "dup")
    assert (report.accepted, report.updated, report.unchanged, report.rejected) == (1, 1, 1, 0)
    assert rows(store, "SELECT status FROM dossiers") == [("4",)]


def test_out_of_order_progress_entries_merge(store: Store) -> None:
    dossier = {"MaHoSo": "X-1", "NgayTiepNhan": "20260201080000", "TrangThaiHoSo": "10"}
    ingest_records(store, "dossiers", [dossier], "d")
    late_first = [
        {"MaHoSo": "X-1", "TrangThai": "10", "ThoiDiemXuLy": "20260210080000"},
        {"MaHoSo": "X-1", "TrangThai": "9", "ThoiDiemXuLy": "20260209080000"},
    ]
    early_later = [
        {"MaHoSo": "X-1", "TrangThai": "2", "ThoiDiemXuLy": "20260201080000"},
        {"MaHoSo": "X-1", "TrangThai": "9", "ThoiDiemXuLy": "20260209080000"},  # already known
        {"MaHoSo": "X-1", "TrangThai": "2", "ThoiDiemXuLy": "20260201080000"},  # repeated in the batch
    ]
    first = ingest_records(store, "progress", late_first, "p1")
    second = ingest_records(store, "progress", early_later, "p2")
    assert (first.accepted, first.unchanged) == (2, 0)
    assert (second.accepted, second.unchanged) == (1, 2)
    assert rows(store, "SELECT status FROM dossier_events ORDER BY event_at") == [("2",), ("9",), ("10",)]
    # a dossier re-sent with part of its history keeps the rest
    ingest_records(store, "dossiers", [dict(dossier, QuaTrinhXuLy=[late_first[0]])], "d2")
    assert rows(store, "SELECT count(*) FROM dossier_events") == [(3,)]


def test_petition_history_merges(store: Store) -> None:
    p1 = load("petitions.json")[0]
    ingest_records(store, "petitions", [p1], "a")
    later = dict(p1, LuotKhongThich="5", TienTrinh=[{"TrangThai": "DA_CONG_KHAI", "ThoiDiem": "20260113080000"}])
    report = ingest_records(store, "petitions", [later], "b")
    assert report.updated == 1
    assert rows(store, "SELECT dislikes FROM petitions") == [(5,)]
    assert rows(store, "SELECT count(*) FROM petition_events") == [(4,)]


def test_a_procedure_update_replaces_its_child_rows(store: Store) -> None:
    proc = load("procedures.json")[0]
    ingest_records(store, "procedures", [proc], "a")
    changed = copy.deepcopy(proc)
    changed["CACHTHUCTHUCHIEN"] = [{"KENH": "2", "THOIGIAN": [{"THOIGIANGIAIQUYET": "3", "DONVITINH": "Ngày"}]}]
    changed["DANHSACHDVC"] = changed["DANHSACHDVC"][:1]
    assert ingest_records(store, "procedures", [changed], "b").updated == 1
    assert rows(store, "SELECT channel, amount, time_unit FROM procedure_times") == [("2", 3.0, "day")]
    assert rows(store, "SELECT count(*) FROM services") == [(1,)]
    assert rows(store, "SELECT has_fee FROM procedures") == [(False,)]


def test_changes_name_the_units_and_the_earliest_instant(store: Store) -> None:
    ingest_records(store, "units", load("units.json"), "units")
    store.connection.execute("DELETE FROM changes")
    v1 = {"MaHoSo": "000.00.02.H99-260301-0001", "NgayTiepNhan": "20260301080000", "TrangThaiHoSo": "2"}
    ingest_records(store, "dossiers", [v1], "v1")
    # the unit comes from the MaHoSo prefix (D-gen-3)
    assert rows(store, "SELECT kind, unit_code, earliest_at FROM changes") == [
        ("dossier", "H99.02", utc("20260301080000"))
    ]
    store.connection.execute("DELETE FROM changes")
    # reception moved later and the unit changed: both units, from the earlier reception
    v2 = dict(v1, NgayTiepNhan="20260305080000", MaCoQuanThucHien="H99.01")
    ingest_records(store, "dossiers", [v2], "v2")
    assert rows(store, "SELECT unit_code, earliest_at FROM changes ORDER BY unit_code") == [
        ("H99.01", utc("20260301080000")),
        ("H99.02", utc("20260301080000")),
    ]
    store.connection.execute("DELETE FROM changes")
    ingest_records(store, "dossiers", [v2], "replay")
    assert rows(store, "SELECT count(*) FROM changes") == [(0,)]
    ingest_records(
        store,
        "progress",
        [{"MaHoSo": v1["MaHoSo"], "TrangThai": "9", "ThoiDiemXuLy": "20260310080000"}],
        "p",
    )
    assert rows(store, "SELECT kind, record_key, unit_code, earliest_at FROM changes") == [
        ("dossier", v1["MaHoSo"], "H99.01", utc("20260310080000"))
    ]
    store.connection.execute("DELETE FROM changes")
    ingest_records(store, "procedures", load("procedures.json")[:1], "p")
    assert rows(store, "SELECT kind, record_key, unit_code, earliest_at FROM changes") == [
        ("procedure", "1.001234", None, None)
    ]


def test_petition_changes_include_transfer_receivers(store: Store) -> None:
    ingest_records(store, "petitions", load("petitions.json")[1:], "p")
    assert rows(store, "SELECT unit_code, earliest_at FROM changes ORDER BY unit_code") == [
        ("H99.02", utc("20260110100000")),
        ("VPCP", utc("20260110100000")),
    ]


def test_batches_commit_separately_and_a_receipt_sums_them(store: Store) -> None:
    records: list[Any] = [
        {"MaHoSo": f"X-{i}", "NgayTiepNhan": "20260201080000" if i % 4 else "bad"} for i in range(1, 11)
    ]
    seen: list[int] = []
    report = ingest_records(store, "dossiers", records, "many", batch_size=3, progress=seen.append)
    assert seen == [3, 3, 3, 1]
    assert (report.accepted, report.rejected) == (8, 2)
    assert [no for no, _ in report.problems] == [4, 8]
    assert rows(store, "SELECT accepted, updated, unchanged, rejected FROM receipts WHERE receipt_id = ?",
                report.receipt_id) == [(8, 0, 0, 2)]  # fmt: skip
    assert rows(store, "SELECT count(*) FROM dossiers") == [(8,)]


def test_unit_closure_is_rebuilt(store: Store) -> None:
    ingest_records(store, "units", load("units.json"), "u")
    ingest_records(store, "units", [{"MaDonVi": "H99.10002", "MaDonViCha": "H99", "CapDonVi": "commune"}], "u2")
    assert rows(store, "SELECT count(*) FROM unit_closure WHERE ancestor = 'H99'") == [(5,)]


# ----------------------------------------------------------------------------------------- files


def test_jsonl_with_a_broken_line(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "dossiers.jsonl"
    path.write_text(
        '{"MaHoSo": "A-1", "NgayTiepNhan": "20260201080000"}\n'
        '{"MaHoSo": "A-2", "NgayTiepNhan": \n'
        "\n"
        '{"MaHoSo": "A-3", "NgayTiepNhan": "20260201090000"}\n',
        encoding="utf-8",
    )
    [report] = ingest_paths(store, "dossiers", [path])
    assert (report.accepted, report.rejected) == (2, 1)
    [(no, [problem])] = report.problems
    assert no == 2
    assert "Dòng 2" in problem.message_vi and "Line 2" in problem.message_en
    assert rows(store, "SELECT dossier_id FROM dossiers ORDER BY 1") == [("A-1",), ("A-3",)]
    [(record,)] = rows(store, "SELECT record FROM quarantine")
    assert "A-2" in record


def test_truncated_json_list_keeps_the_records_before_the_break(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "dossiers.json"
    path.write_text('[{"MaHoSo": "A-1"}, {"MaHoSo": "A-2"}, {"MaHoSo": "A-', encoding="utf-8")
    [report] = ingest_paths(store, "dossiers", [path])
    assert (report.accepted, report.rejected) == (2, 1)
    assert "sau bản ghi thứ 2" in report.problems[0][1][0].message_vi


def test_read_records_accepts_envelopes_and_single_objects(tmp_path: Path) -> None:
    env = tmp_path / "procedures.json"
    env.write_text('\ufeff{"result": [{"MATTHC": "1.1"}, {"MATTHC": "1.2"}]}', encoding="utf-8")
    assert [r["MATTHC"] for r in read_records(env)] == ["1.1", "1.2"]
    one = tmp_path / "one.json"
    one.write_text('{"MaHoSo": "A-1"}', encoding="utf-8")
    assert list(read_records(one)) == [{"MaHoSo": "A-1"}]
    floats = tmp_path / "list.json"
    floats.write_text('  [{"x": 1.5}]', encoding="utf-8")
    assert list(read_records(floats)) == [{"x": 1.5}]


def test_unreadable_paths_are_usage_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        find_record_files("dossiers", [tmp_path / "missing.json"])
    assert info.value.code == "unreadable_path"
    with pytest.raises(InputError) as info:
        find_record_files("auto", [tmp_path])  # empty folder
    assert info.value.code == "no_records"
    (tmp_path / "whatever.json").write_text("[]", encoding="utf-8")
    with pytest.raises(InputError) as info:
        find_record_files("auto", [tmp_path / "whatever.json"])
    assert info.value.code == "unknown_kind"
    with pytest.raises(InputError):
        find_record_files("hoso", [tmp_path / "whatever.json"])


def test_data_tables_exist_in_the_schema(store: Store) -> None:
    """Guard for the snapshot helper: every table it compares is a real store table."""
    tables = {t for (t,) in store.connection.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    assert set(DATA_TABLES) <= tables


def test_timestamps_are_naive_utc(store: Store) -> None:
    ingest_records(store, "dossiers", [{"MaHoSo": "A-1", "NgayTiepNhan": "20260101000000"}], "d")
    assert rows(store, "SELECT received_at FROM dossiers") == [(datetime(2025, 12, 31, 17, 0),)]
