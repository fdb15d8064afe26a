"""Deterministic random records in the INPUT_FORMAT shape, for tests that compare two computation paths.

Not realistic (the data generator is a separate feature); varied enough to exercise every fact: finished,
open, withdrawn and rejected dossiers, supplements, missing due dates, channels, fees, payments, PAKN.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

import duckdb

from chiso766.store.db import Store
from chiso766.store.load import ingest_records

KINDS = ("units", "procedures", "publications", "dossiers", "progress", "petitions")

UNITS: list[dict[str, Any]] = [
    {"MaDonVi": "H90", "TenDonVi": "Tỉnh Thử Nghiệm", "MaDonViCha": "", "CapDonVi": "province"},
    {"MaDonVi": "H90.01", "TenDonVi": "Sở Tư pháp", "MaDonViCha": "H90", "CapDonVi": "provincial_department"},
    {"MaDonVi": "H90.02", "TenDonVi": "Sở Xây dựng", "MaDonViCha": "H90", "CapDonVi": "provincial_department"},
    {"MaDonVi": "H90.10", "TenDonVi": "Xã Một", "MaDonViCha": "H90", "CapDonVi": "commune"},
    {"MaDonVi": "H90.11", "TenDonVi": "Xã Hai", "MaDonViCha": "H90", "CapDonVi": "commune"},
    {"MaDonVi": "H91", "TenDonVi": "Tỉnh Đối Chứng", "MaDonViCha": "", "CapDonVi": "province"},
    {"MaDonVi": "H91.10", "TenDonVi": "Xã Ba", "MaDonViCha": "H91", "CapDonVi": "commune"},
]
LEAVES = ["H90.01", "H90.02", "H90.10", "H90.11", "H91.10"]


def procedures() -> list[dict[str, Any]]:
    def entry(code: str, amount: str, unit: str, fee: str, paper: str) -> dict[str, Any]:
        return {
            "MATTHC": code,
            "TENTTHC": f"Thủ tục {code}",
            "TRANGTHAI": "Đang công khai",
            "YEUCAUTRAKETQUAGIAY": paper,
            "CACHTHUCTHUCHIEN": [
                {
                    "KENH": "1",
                    "THOIGIAN": [{"THOIGIANGIAIQUYET": amount, "DONVITINH": unit, "PHILEPHI": [{"SOTIEN": fee}]}],
                },
                {
                    "KENH": "2",
                    "THOIGIAN": [{"THOIGIANGIAIQUYET": amount, "DONVITINH": unit, "PHILEPHI": [{"SOTIEN": fee}]}],
                },
            ],
            "DOITUONGTHUCHIEN": [{"TENDOITUONG": "Công dân Việt Nam"}],
            "CAPTHUCHIEN": [{"CAPTHUCHIEN": "1"}, {"CAPTHUCHIEN": "3"}],
            "COQUANTHUCHIEN": [{"MADONVI": "H90.01"}, {"MADONVI": "H90.02"}],
            "DANHSACHDVC": [
                {"MADVC": f"{code}.H90.01", "MADONVI": "H90.01", "MUCDO": "toàn trình", "TRANGTHAI": "Đang công khai"}
            ],
        }

    return [
        entry("1.000001", "3", "Ngày làm việc", "50.000 đồng", "1"),
        entry("1.000002", "10", "Ngày", "0", "0"),
        entry("1.000003", "16", "Giờ làm việc", "Miễn phí", "1"),
        entry("2.000004", "24", "Giờ", "100000", "0"),
    ]


def _ts(moment: datetime) -> str:
    return moment.strftime("%Y%m%d%H%M%S")


def dossier(rng: random.Random, number: int, received: datetime) -> dict[str, Any]:
    """One dossier with a random but consistent history (local times)."""
    unit = rng.choice(LEAVES)
    due = received + timedelta(days=rng.choice([1, 2, 3, 5, 7]), hours=rng.randint(0, 8))
    record: dict[str, Any] = {
        "MaHoSo": f"HS-{number:06d}",
        "MaCoQuanThucHien": unit,
        "MaTTHC": rng.choice(["1.000001", "1.000002", "1.000003", "2.000004", "9.999999"]),
        "KenhThucHien": rng.choice(["1", "2", "2", "3", "", "4"]),
        "NgayNopHoSo": _ts(received - timedelta(hours=1)),
        "NgayTiepNhan": _ts(received),
        "NgayHenTra": "" if rng.random() < 0.2 else _ts(due),
        "DuocThanhToanTrucTuyen": rng.choice(["0", "1", "2", "3"]),
        "HoSoCoThanhPhanSoHoa": rng.choice(["0", "1"]),
        "TaiKhoanDuocXacThucVoiVNeID": rng.choice(["0", "1"]),
        "DanhGiaKhongHaiLong": "1" if rng.random() < 0.05 else "0",
        "DanhSachLePhi": rng.choice([[], [{"Gia": "0"}], [{"Gia": "50000"}]]),
        "TaiLieuNop": [{"DuongDanTaiTepTin": "f.pdf", "DuocLayTuKhoDMQG": rng.choice(["0", "1"])}]
        if rng.random() < 0.7
        else [],
        "DanhSachGiayToKetQua": [{"DuongDanTepTinKetQua": "kq.pdf", "MaGiayToKetQua": "KQ1"}]
        if rng.random() < 0.6
        else [],
        "QuaTrinhXuLy": [{"TrangThai": "2", "ThoiDiemXuLy": _ts(received)}],
    }
    if rng.random() < 0.15:
        asked = received + timedelta(hours=rng.randint(2, 30))
        back = asked + timedelta(hours=rng.randint(4, 72))
        record["DanhSachHoSoBoSung"] = [{"NgayBoSung": _ts(asked), "NgayTiepNhanBoSung": _ts(back)}]
    outcome = rng.random()
    if outcome < 0.6:
        end = received + timedelta(hours=rng.randint(3, 24 * 9))
        record.update(TrangThaiHoSo="10", NgayKetThucXuLy=_ts(end), NgayTra=_ts(end + timedelta(hours=2)))
        record["QuaTrinhXuLy"].append({"TrangThai": "9", "ThoiDiemXuLy": _ts(end)})
    elif outcome < 0.65:
        end = received + timedelta(hours=rng.randint(1, 48))
        record.update(TrangThaiHoSo="7", NgayKetThucXuLy=_ts(end))
    elif outcome < 0.7:
        end = received + timedelta(hours=rng.randint(1, 48))
        record.update(TrangThaiHoSo="3", NgayTuChoi=_ts(end))
    else:
        record.update(TrangThaiHoSo="4")
        record["QuaTrinhXuLy"].append({"TrangThai": "4", "ThoiDiemXuLy": _ts(received + timedelta(hours=1))})
    return record


def petition(rng: random.Random, number: int, sent: datetime, dossier_id: str | None) -> dict[str, Any]:
    unit = rng.choice(["H90", "H90.01", "H90.10", "H91", "VPCP"])
    events: list[dict[str, Any]] = [{"TrangThai": "CHO_TIEP_NHAN", "ThoiDiem": _ts(sent)}]
    if unit == "VPCP":
        events.append({"TrangThai": "CHUYEN_XU_LY", "ThoiDiem": _ts(sent + timedelta(days=1)), "MaDonViNhan": "H90.02"})
    closing = rng.choice(["TU_CHOI", "YEU_CAU_BO_SUNG", "CHO_CONG_KHAI", "DA_CONG_KHAI", None])
    if closing is not None:
        events.append({"TrangThai": closing, "ThoiDiem": _ts(sent + timedelta(days=rng.randint(1, 25)))})
    return {
        "MaPAKN": f"PA-{number:05d}",
        "MaDonVi": unit,
        "NgayGui": _ts(sent),
        "MaHoSo": dossier_id or "",
        "LuotThich": rng.randint(0, 3),
        "LuotKhongThich": rng.randint(0, 3),
        "TienTrinh": events,
    }


def batches(seed: int, first: int = 300, second: int = 60) -> tuple[dict[str, list[Any]], dict[str, list[Any]]]:
    """Two batches: the first ~Jul–Sep 2026; the second adds new dossiers and PAKN, changes some old dossiers
    (finishing open ones late, new progress entries) and links a PAKN to an old dossier."""
    rng = random.Random(seed)
    start = datetime(2026, 7, 1, 8, 0)
    old = [dossier(rng, i, start + timedelta(hours=rng.randint(0, 24 * 85))) for i in range(first)]
    pakn = [petition(rng, i, start + timedelta(hours=rng.randint(0, 24 * 80)), None) for i in range(first // 20)]
    one = {"units": UNITS, "procedures": procedures(), "dossiers": old, "petitions": pakn}

    later = datetime(2026, 9, 20, 8, 0)
    new = [dossier(rng, first + i, later + timedelta(hours=rng.randint(0, 24 * 9))) for i in range(second)]
    changed: list[dict[str, Any]] = []
    progress: list[dict[str, Any]] = []
    for record in rng.sample(old, k=second // 2):
        if record["TrangThaiHoSo"] == "4":
            updated = dict(record)
            end = datetime.strptime(record["NgayTiepNhan"], "%Y%m%d%H%M%S") + timedelta(days=rng.randint(1, 20))
            updated.update(TrangThaiHoSo="9", NgayKetThucXuLy=_ts(end))
            changed.append(updated)
        else:
            at = datetime.strptime(record["NgayTiepNhan"], "%Y%m%d%H%M%S") + timedelta(hours=5)
            progress.append({"MaHoSo": record["MaHoSo"], "TrangThai": "5", "ThoiDiemXuLy": _ts(at)})
    linked = [petition(rng, 900 + i, later + timedelta(days=i), rng.choice(old)["MaHoSo"]) for i in range(second // 10)]
    two = {"dossiers": new + changed, "progress": progress, "petitions": linked}
    return one, two


def ingest_batches(store: Store, *docs: dict[str, list[Any]]) -> None:
    """Ingest the records of :func:`batches` documents kind by kind (load order); none may be rejected."""
    for kind in KINDS:
        for doc in docs:
            if doc.get(kind):
                report = ingest_records(store, kind, doc[kind], source=f"{kind}.json")
                assert report.rejected == 0, report.problems[:3]


def differences(con: duckdb.DuckDBPyConnection, new_sql: str, old_sql: str) -> tuple[int, int, int]:
    """(rows of new, rows of old, rows in one and not the other, as multisets with NULL = NULL): how the
    equivalence tests compare a rewritten query with the copy of the previous one."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE eq_new AS {new_sql}")
    con.execute(f"CREATE OR REPLACE TEMP TABLE eq_old AS {old_sql}")
    row = con.execute(
        "SELECT (SELECT COUNT(*) FROM eq_new), (SELECT COUNT(*) FROM eq_old), "
        "(SELECT COUNT(*) FROM ((SELECT * FROM eq_new EXCEPT ALL SELECT * FROM eq_old) "
        "UNION ALL (SELECT * FROM eq_old EXCEPT ALL SELECT * FROM eq_new)) x)"
    ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2])
