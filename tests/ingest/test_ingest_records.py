"""Record parsers through ingest: the sample sync payload is stored with the derived flags we expect, and every
kind of bad input is rejected with a bilingual problem naming the field while its valid neighbours are stored."""

from __future__ import annotations

import copy
import json
from datetime import date, datetime
from typing import Any

import pytest
from ingest_helpers import load, rows

from chiso766.records import RecordError, parse_record
from chiso766.records.base import fold, parse_local_instant
from chiso766.store.db import Store
from chiso766.store.load import ingest_records

D1 = "000.00.01.H99-260105-0001"
D2 = "000.00.02.H99-260106-0002"
D3 = "000.10.01.H99-260107-0003"
D4 = "000.00.01.H99-260108-0004"

DOSSIER_FLAGS = (
    "dossier_id, unit_code, id_prefix, procedure_code, channel, submitted_at, received_at, due_at, status, "
    "processing_end_at, returned_at, rejected_at, payment_code, fee_state, has_component_file, "
    "has_digitised_component, has_store_component, has_result_file, has_result_code, result_synced_to_store, "
    "vneid, disliked"
)


def utc(text: str) -> datetime:
    return parse_local_instant(text)


def test_local_time_becomes_naive_utc() -> None:
    assert parse_local_instant("20260105083000") == datetime(2026, 1, 5, 1, 30)
    assert parse_local_instant("20260101050000") == datetime(2025, 12, 31, 22, 0)


def test_sample_dossiers_are_stored_with_the_derived_flags(store: Store) -> None:
    """tests/data/records/dossiers.json, worked out by hand:

    D1 (full sync payload, 10 = result handed over): unit from MaCoQuanThucHien H99.01; times Vietnam → UTC (−7 h);
       fee 200000 → nonzero; TaiLieuNop a1 live with a link and DuocLayTuKhoDMQG=1 → component file + store
       component; a2 has DuocSoHoa=1 but IsDeleted=1 → counts for nothing, HoSoCoThanhPhanSoHoa=0 → not digitised
       (D-4.2-2, D-4.3-1); the result has link, code and DongBoKhoDMQG=1; VNeID=1; databases {1, 7}; one
       supplement (request 06/01 09:00, back 07/01 10:00); 5 history entries.
    D2: no unit field → unit_code NULL, id_prefix 000.00.02.H99 (resolves to H99.02, D-gen-3); fees only 0 ("0"
       and 0) → all_zero (D-3.6-2); the live component has DuocSoHoa=1 but an empty link → digitised, no file;
       HoSoCoThanhPhanSoHoa=1; VNeID sent as int 0; flat MaCSDL "1"; disliked; no results.
    D3: unit from the envelope alias MaDonVi; refused at reception (3) with NgayTuChoi, never received; empty
       channel → NULL; empty fee list → none.
    D4: written with English snake_case names; fee 30.000 → nonzero; a live digitised component with a link.
    """
    report = ingest_records(store, "dossiers", load("dossiers.json"), "dossiers.json")
    assert (report.accepted, report.updated, report.unchanged, report.rejected) == (4, 0, 0, 0)
    got = {r[0]: r for r in rows(store, f"SELECT {DOSSIER_FLAGS} FROM dossiers")}
    assert got[D1] == (
        D1, "H99.01", "000.00.01.H99", "1.001234", "2",
        datetime(2026, 1, 5, 1, 0), datetime(2026, 1, 5, 1, 30), datetime(2026, 1, 12, 10, 0), "10",
        datetime(2026, 1, 9, 9, 0), datetime(2026, 1, 10, 2, 0), None, "1",
        "nonzero", True, False, True, True, True, True, True, False,
    )  # fmt: skip
    assert got[D2] == (
        D2, None, "000.00.02.H99", "2.000815", "1",
        utc("20260106100000"), utc("20260106103000"), utc("20260108103000"), "4",
        None, None, None, "0",
        "all_zero", False, True, False, False, False, False, False, True,
    )  # fmt: skip
    assert got[D3] == (
        D3, "H99.10001", "000.10.01.H99", "1.001234", None,
        utc("20260107070000"), None, None, "3",
        None, None, utc("20260107090000"), None,
        "none", False, False, False, False, False, False, False, False,
    )  # fmt: skip
    assert got[D4] == (
        D4, "H99.01", "000.00.01.H99", "1.001234", "2",
        None, utc("20260108090000"), utc("20260122170000"), "2",
        None, None, None, "2",
        "nonzero", True, True, False, False, False, False, True, False,
    )  # fmt: skip
    assert rows(store, "SELECT * FROM dossier_databases ORDER BY 1, 2") == [(D1, "1"), (D1, "7"), (D2, "1")]
    assert rows(store, "SELECT * FROM dossier_supplements") == [(D1, utc("20260106090000"), utc("20260107100000"))]
    events = rows(store, "SELECT dossier_id, status, event_at FROM dossier_events ORDER BY 1, 3")
    assert [(d, s) for d, s, _ in events] == [(D1, "2"), (D1, "5"), (D1, "4"), (D1, "9"), (D1, "10"), (D4, "2")]
    # field-derived terminal events (NgayKetThucXuLy, NgayTra, NgayTuChoi) are the engine's, never stored (D-2.1-1)
    assert not rows(store, "SELECT * FROM dossier_events WHERE dossier_id = ?", D3)


def test_sample_procedures_are_stored_with_the_derived_flags(store: Store) -> None:
    """1.001234: Đang công khai → public; fees 200.000 → has_fee; KETQUATHUCHIEN non-empty and no
    YEUCAUTRAKETQUAGIAY → requires paper (D-4.1-2); Công dân Việt Nam → citizen applicant; all 7 components;
    "7,5" NGÀY LÀM VIỆC (any case) → 7.5 working_day. 2.000815: Bãi bỏ → abolished; "Miễn phí" and "0" → no fee
    (D-3.6-3); YEUCAUTRAKETQUAGIAY "0" wins over KETQUATHUCHIEN; only Doanh nghiệp → not citizen; no THANHPHANHOSO
    → components incomplete; 48 Giờ → hour; legal basis date given as dd/MM/yyyy."""
    report = ingest_records(store, "procedures", load("procedures.json"), "procedures.json")
    assert (report.accepted, report.rejected) == (2, 0)
    got = {r[0]: r for r in rows(store, "SELECT * FROM procedures")}
    assert got["1.001234"] == (
        "1.001234",
        "Cấp phiếu lý lịch tư pháp cho công dân Việt Nam",
        "public",
        True,
        True,
        True,
        True,
        "1",
        True,
        utc("20250701080000"),
        None,
    )
    assert got["2.000815"][2:9] == ("abolished", False, False, False, False, "1,3", None)
    assert rows(store, "SELECT * FROM procedure_times ORDER BY 1, 2") == [
        ("1.001234", "1", 10.0, "working_day"),
        ("1.001234", "2", 7.5, "working_day"),
        ("2.000815", "1", 48.0, "hour"),
    ]
    assert rows(store, "SELECT * FROM procedure_units ORDER BY 1") == [("1.001234", "H99.01"), ("2.000815", "H99.02")]
    assert rows(store, "SELECT * FROM legal_bases ORDER BY 1") == [
        ("1.001234", "28/2009/QH12", date(2010, 7, 1)),
        ("2.000815", "50/2014/QH13", date(2015, 1, 1)),
    ]
    assert rows(store, "SELECT * FROM services ORDER BY 1") == [
        ("1.001234.000.00.00.H99.01", "1.001234", "H99.01", "full", "public"),
        ("1.001234.000.00.00.H99.02", "1.001234", "H99.10001", "partial", "pending_withdrawal"),
    ]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Đang công khai", "public"),
        ("Đang công khai sửa đổi bổ sung", "public_amended"),
        ("Đã công khai sửa đổi bổ sung", "public_amended"),
        ("Đã công khai", "public"),
        ("BÃI BỎ", "abolished"),
        ("Tạm dừng", "other"),
    ],
)
def test_procedure_status_words(text: str, code: str) -> None:
    assert parse_record("procedures", {"MATTHC": "1.1", "TRANGTHAI": text}, "p", 1).main[2] == code  # type: ignore[index]


@pytest.mark.parametrize(
    ("word", "unit"),
    [
        ("Ngày làm việc", "working_day"),
        ("ngay lam viec", "working_day"),
        ("Ngày", "day"),
        ("GIỜ", "hour"),
        ("Giờ làm việc", "working_hour"),
        ("Tuần", "week"),
        ("tháng", "month"),
    ],
)
def test_time_units_any_case_or_accents(word: str, unit: str) -> None:
    rec = {
        "MATTHC": "1.1",
        "CACHTHUCTHUCHIEN": [{"KENH": "1", "THOIGIAN": [{"THOIGIANGIAIQUYET": "3", "DONVITINH": word}]}],
    }
    assert parse_record("procedures", rec, "p", 1).children["procedure_times"] == [("1.1", "1", 3.0, unit)]


def test_service_levels_and_states() -> None:
    rec = {
        "MATTHC": "1.1",
        "DANHSACHDVC": [
            {"MADVC": "a", "MADONVI": "U", "MUCDO": "toan_trinh", "TRANGTHAI": "Đang kiểm thử"},
            {"MADVC": "b", "MADONVI": "U", "MUCDO": "Một phần", "TRANGTHAI": "Dừng công khai"},
            {"MADVC": "c", "MADONVI": "U", "MUCDO": "full", "TRANGTHAI": "Khác"},
        ],
    }
    services = parse_record("procedures", rec, "p", 1).children["services"]
    assert [(s[1], s[3], s[4]) for s in services] == [
        ("a", "full", "testing"),
        ("b", "partial", "withdrawn"),
        ("c", "full", "other"),
    ]


def test_fold_removes_case_and_accents() -> None:
    assert fold("  Người Việt Nam  định cư ở nước ngoài") == "nguoi viet nam dinh cu o nuoc ngoai"
    assert fold("Đang_công khai") == "dang cong khai"


def test_units_publications_petitions_are_stored(store: Store) -> None:
    assert ingest_records(store, "units", load("units.json"), "units.json").accepted == 4
    assert rows(store, "SELECT unit_code, level, electronic_id FROM units ORDER BY 1") == [
        ("H99", "province", "000.00.00.H99"),
        ("H99.01", "provincial_department", "000.00.01.H99"),
        ("H99.02", "provincial_department", "000.00.02.H99"),
        ("H99.10001", "commune", "000.10.01.H99"),
    ]
    assert rows(store, "SELECT count(*) FROM unit_closure WHERE ancestor = 'H99'") == [(4,)]
    assert ingest_records(store, "publications", load("publications.json"), "publications.json").accepted == 1
    assert rows(store, "SELECT * FROM publications") == [("123/QĐ-UBND", "H99", date(2025, 6, 20))]
    assert rows(store, "SELECT * FROM publication_items ORDER BY 2") == [
        ("123/QĐ-UBND", "1.001234", "amended"),
        ("123/QĐ-UBND", "2.000815", "abolished"),
    ]
    assert ingest_records(store, "petitions", load("petitions.json"), "petitions.json").accepted == 2
    petition_cols = "petition_id, unit_code, sent_at, dossier_id, likes, dislikes, raised_again"
    assert rows(store, f"SELECT {petition_cols} FROM petitions ORDER BY 1") == [
        ("PAKN-0001", "H99.01", utc("20260105090000"), "000.00.01.H99-260105-0001", 3, 1, False),
        ("PAKN-0002", "VPCP", utc("20260110100000"), None, 0, 4, False),
    ]  # fmt: skip
    assert rows(store, "SELECT * FROM petition_events WHERE status = 'CHUYEN_XU_LY'") == [
        ("PAKN-0002", "CHUYEN_XU_LY", utc("20260111080000"), "VPCP", "H99.02")
    ]
    assert rows(store, "SELECT count(*) FROM petition_events") == [(6,)]


# ------------------------------------------------------------------------------------------- bad input

GOOD_DOSSIER = {"MaHoSo": "000.00.01.H99-260201-0001", "NgayTiepNhan": "20260201080000", "TrangThaiHoSo": "2"}


def _dossier(**fields: Any) -> dict[str, Any]:
    """A dossier with ``fields`` changed; a field given as ``...`` is left out."""
    rec: dict[str, Any] = dict(GOOD_DOSSIER, MaHoSo="000.00.01.H99-260201-0099")
    rec.update(fields)
    return {k: v for k, v in rec.items() if v is not Ellipsis}


BAD_CASES: list[tuple[str, dict[str, Any], dict[str, Any], str]] = [
    ("dossiers", GOOD_DOSSIER, _dossier(MaHoSo=...), "MaHoSo"),
    ("dossiers", GOOD_DOSSIER, _dossier(MaHoSo=""), "MaHoSo"),
    ("dossiers", GOOD_DOSSIER, _dossier(NgayTiepNhan="20261332250000"), "NgayTiepNhan"),
    ("dossiers", GOOD_DOSSIER, _dossier(NgayHenTra="202602010800"), "NgayHenTra"),
    ("dossiers", GOOD_DOSSIER, _dossier(NgayTra=20260201080000), "NgayTra"),
    ("dossiers", GOOD_DOSSIER, _dossier(TrangThaiHoSo="11"), "TrangThaiHoSo"),
    ("dossiers", GOOD_DOSSIER, _dossier(MaTTHC=1.5), "MaTTHC"),
    ("dossiers", GOOD_DOSSIER, _dossier(TaiLieuNop="a.pdf"), "TaiLieuNop"),
    ("dossiers", GOOD_DOSSIER, _dossier(TaiLieuNop=[{"IsDeleted": "có"}]), "TaiLieuNop[0].IsDeleted"),
    ("dossiers", GOOD_DOSSIER, _dossier(DanhSachLePhi=[{"Gia": [1]}]), "DanhSachLePhi[0].Gia"),
    ("dossiers", GOOD_DOSSIER, _dossier(DanhSachHoSoBoSung=[{"NgayTiepNhanBoSung": "20260202080000"}]),
     "DanhSachHoSoBoSung[0].NgayBoSung"),
    ("dossiers", GOOD_DOSSIER, _dossier(QuaTrinhXuLy=[{"TrangThai": "12", "ThoiDiemXuLy": "20260201080000"}]),
     "QuaTrinhXuLy[0].TrangThai"),
    ("dossiers", GOOD_DOSSIER, _dossier(QuaTrinhXuLy=[{"TrangThai": "4"}]), "QuaTrinhXuLy[0].ThoiDiemXuLy"),
    ("dossiers", GOOD_DOSSIER, _dossier(DuocThanhToanTrucTuyen=["1"]), "DuocThanhToanTrucTuyen"),
    ("progress", {"MaHoSo": "X-1", "TrangThai": "4", "ThoiDiemXuLy": "20260201080000"},
     {"MaHoSo": "X-2", "TrangThai": "ABC", "ThoiDiemXuLy": "20260201080000"}, "TrangThai"),
    ("progress", {"MaHoSo": "X-1", "TrangThai": "4", "ThoiDiemXuLy": "20260201080000"},
     {"MaHoSo": "X-2", "TrangThai": "4", "ThoiDiemXuLy": ""}, "ThoiDiemXuLy"),
    ("procedures", {"MATTHC": "1.1"},
     {"MATTHC": "1.2", "CACHTHUCTHUCHIEN": [{"THOIGIAN": [{"THOIGIANGIAIQUYET": "5", "DONVITINH": "Năm"}]}]},
     "CACHTHUCTHUCHIEN[0].THOIGIAN[0].DONVITINH"),
    ("procedures", {"MATTHC": "1.1"},
     {"MATTHC": "1.2", "CACHTHUCTHUCHIEN": [{"THOIGIAN": [{"THOIGIANGIAIQUYET": "năm", "DONVITINH": "Ngày"}]}]},
     "CACHTHUCTHUCHIEN[0].THOIGIAN[0].THOIGIANGIAIQUYET"),
    ("procedures", {"MATTHC": "1.1"},
     {"MATTHC": "1.2", "DANHSACHDVC": [{"MADVC": "s", "MADONVI": "U", "MUCDO": "mức 3"}]}, "DANHSACHDVC[0].MUCDO"),
    ("procedures", {"MATTHC": "1.1"}, {"MATTHC": "1.2", "NGAYCONGKHAI": "2025-07-01"}, "NGAYCONGKHAI"),
    ("procedures", {"MATTHC": "1.1"}, {"TENTTHC": "no code"}, "MATTHC"),
    ("petitions", {"MaPAKN": "P1", "MaDonVi": "U", "NgayGui": "20260201080000"},
     {"MaPAKN": "P2", "MaDonVi": "U", "NgayGui": "20260201080000",
      "TienTrinh": [{"TrangThai": "DA_XU_LY", "ThoiDiem": "20260202080000"}]}, "TienTrinh[0].TrangThai"),
    ("petitions", {"MaPAKN": "P1", "MaDonVi": "U", "NgayGui": "20260201080000"},
     {"MaPAKN": "P2", "MaDonVi": "U", "NgayGui": "20260201080000",
      "TienTrinh": [{"TrangThai": "CHUYEN_XU_LY", "ThoiDiem": "20260202080000"}]}, "TienTrinh[0].MaDonViNhan"),
    ("petitions", {"MaPAKN": "P1", "MaDonVi": "U", "NgayGui": "20260201080000"},
     {"MaPAKN": "P2", "MaDonVi": "U", "NgayGui": "20260201080000", "LuotThich": "nhiều"}, "LuotThich"),
    ("petitions", {"MaPAKN": "P1", "MaDonVi": "U", "NgayGui": "20260201080000"},
     {"MaPAKN": "P2", "MaDonVi": "U"}, "NgayGui"),
    ("units", {"MaDonVi": "H1"}, {"MaDonVi": "H1.1", "MaDonViCha": "H1", "CapDonVi": "huyen"}, "CapDonVi"),
    ("units", {"MaDonVi": "H1"}, {"MaDonVi": "H1.2", "MaDonViCha": "H1"}, "CapDonVi"),
    ("publications", {"SoQuyetDinh": "1/QĐ", "MaDonVi": "H1", "NgayQuyetDinh": "20250101"},
     {"SoQuyetDinh": "2/QĐ", "MaDonVi": "H1", "NgayQuyetDinh": "20250101",
      "DanhSachTTHC": [{"MaTTHC": "1.1", "LoaiThayDoi": "thay_the"}]}, "DanhSachTTHC[0].LoaiThayDoi"),
    ("publications", {"SoQuyetDinh": "1/QĐ", "MaDonVi": "H1", "NgayQuyetDinh": "20250101"},
     {"SoQuyetDinh": "2/QĐ", "MaDonVi": "H1", "NgayQuyetDinh": "202501"}, "NgayQuyetDinh"),
]  # fmt: skip


@pytest.mark.parametrize(("kind", "good", "bad", "field"), BAD_CASES, ids=[f"{c[0]}-{c[3]}" for c in BAD_CASES])
def test_bad_record_is_rejected_naming_the_field_and_neighbours_are_kept(
    store: Store, kind: str, good: dict[str, Any], bad: dict[str, Any], field: str
) -> None:
    second = copy.deepcopy(good)
    key = next(iter(good))
    second[key] = f"{good[key]}-b"  # another valid record after the bad one
    report = ingest_records(store, kind, [good, bad, second], f"{kind}.json", batch_size=2)
    assert (report.accepted, report.rejected) == (2, 1)
    [(record_no, problems)] = report.problems
    assert record_no == 2
    assert field in [p.field for p in problems], [p.line() for p in problems]
    problem = next(p for p in problems if p.field == field)
    assert problem.where is not None and problem.where.startswith(f"{kind}.json[2]")
    assert problem.message_vi and problem.message_en and problem.message_vi != problem.message_en
    table = {"progress": "dossier_events", "dossiers": "dossiers", "procedures": "procedures"}.get(kind, kind)
    assert rows(store, f"SELECT count(*) FROM {table}") == [(2,)]
    [(q_no, q_problems)] = rows(store, "SELECT record_no, problems FROM quarantine")
    assert q_no == 2
    assert field in [p["field"] for p in json.loads(q_problems)]


def test_all_problems_of_a_record_are_reported_together() -> None:
    bad = {"MaHoSo": "A-1", "NgayTiepNhan": "x", "TrangThaiHoSo": "0", "TaiLieuNop": [{"DuocSoHoa": "2"}]}
    with pytest.raises(RecordError) as info:
        parse_record("dossiers", bad, "dossiers.json", 7)
    assert [p.field for p in info.value.problems] == ["NgayTiepNhan", "TrangThaiHoSo", "TaiLieuNop[0].DuocSoHoa"]
    assert all(p.where == "dossiers.json[7] A-1" for p in info.value.problems)


def test_a_non_object_record_is_rejected(store: Store) -> None:
    report = ingest_records(store, "dossiers", [GOOD_DOSSIER, ["not", "an", "object"], 42], "d.json")
    assert (report.accepted, report.rejected) == (1, 2)
    assert "JSON" in report.problems[0][1][0].message_vi
