"""Fixtures of the HTTP ingest tests: a two-province store (H44, H45), tokens, a test client, sync payloads."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from chiso766.access.tokens import create_token
from chiso766.api.app import AppSettings, create_app
from chiso766.domain.periods import VN_TZ
from chiso766.store.db import Store
from chiso766.store.load import ingest_records

UNITS: list[dict[str, Any]] = [
    {"MaDonVi": "H44", "TenDonVi": "Tỉnh Bốn Bốn", "CapDonVi": "province", "MaDinhDanh": "000.00.00.H44"},
    {"MaDonVi": "H44.01", "TenDonVi": "Sở Tư pháp", "MaDonViCha": "H44", "CapDonVi": "provincial_department",
     "MaDinhDanh": "000.00.01.H44"},
    {"MaDonVi": "H44.10001", "TenDonVi": "UBND xã Hòa Bình", "MaDonViCha": "H44", "CapDonVi": "commune",
     "MaDinhDanh": "000.10.01.H44"},
    {"MaDonVi": "H45", "TenDonVi": "Tỉnh Bốn Lăm", "CapDonVi": "province", "MaDinhDanh": "000.00.00.H45"},
    {"MaDonVi": "H45.01", "TenDonVi": "Sở Tư pháp", "MaDonViCha": "H45", "CapDonVi": "provincial_department",
     "MaDinhDanh": "000.00.01.H45"},
]  # fmt: skip

D1 = "000.00.01.H44-260105-0001"
D2 = "000.10.01.H44-260106-0002"

PERSONAL = ("Nguyễn Văn An", "001090012345", "an.nguyen@example.vn", "0912345678", "Số 5 ngõ 7", "Trần Thị Bình")

# Two dossiers as a provincial one-stop system syncs them (DATA_FORMATS §1.2, TD's current schema).
SYNC_DOSSIERS: list[dict[str, Any]] = [
    {
        "MaHoSo": D1,
        "MaCoQuanThucHien": "H44.01",
        "MaTTHC": "1.001234",
        "TenTTHC": "Cấp phiếu lý lịch tư pháp",
        "MaLinhVuc": "G03-TP09",
        "KenhThucHien": "2",
        "ChuHoSo": "Nguyễn Văn An",
        "SoGiayToChuHoSo": "001090012345",
        "LoaiDoiTuong": "1",
        "Email": "an.nguyen@example.vn",
        "SoDienThoai": "0912345678",
        "DiaChiThuongTru": "Số 5 ngõ 7",
        "DinhDanhCHS": [{"LoaiDinhDanh": "1", "SoDinhDanh": "001090012345"}],
        "NgayNopHoSo": "20260105080000",
        "NgayTiepNhan": "20260105083000",
        "NgayHenTra": "20260112170000",
        "TrangThaiHoSo": "10",
        "NgayKetThucXuLy": "20260109160000",
        "NgayTra": "20260110090000",
        "NgayTuChoi": "",
        "HoSoCoThanhPhanSoHoa": "0",
        "TaiKhoanDuocXacThucVoiVNeID": "1",
        "DuocThanhToanTrucTuyen": "1",
        "DSKetNoiCSDL": [{"MaCSDL": "1"}, {"MaCSDL": "7"}],
        "TaiLieuNop": [
            {"TepDinhKemId": "a1", "IsDeleted": "0", "DuongDanTaiTepTin": "https://files.example.vn/a1.pdf",
             "DuocSoHoa": "0", "DuocLayTuKhoDMQG": "1"},
        ],
        "DanhSachLePhi": [{"TenPhiLePhi": "Phí", "Gia": "200000"}],
        "DanhSachHoSoBoSung": [{"NgayBoSung": "20260106090000", "NgayTiepNhanBoSung": "20260107100000"}],
        "DanhSachGiayToKetQua": [
            {"DuongDanTepTinKetQua": "https://files.example.vn/k1.pdf", "MaGiayToKetQua": "KQ001", "DongBoKhoDMQG": "1"}
        ],
        "QuaTrinhXuLy": [
            {"MaHoSo": D1, "NguoiXuLy": "Chuyên viên", "ThoiDiemXuLy": "20260105083000", "TrangThai": "2"},
            {"MaHoSo": D1, "ThoiDiemXuLy": "20260106090000", "TrangThai": "5"},
            {"MaHoSo": D1, "ThoiDiemXuLy": "20260109160000", "TrangThai": "9"},
            {"MaHoSo": D1, "ThoiDiemXuLy": "20260110090000", "TrangThai": "10"},
        ],
    },
    {
        "MaHoSo": D2,  # no unit code: the prefix 000.10.01.H44 is the commune's electronic id
        "MaTTHC": "2.000815",
        "KenhThucHien": "1",
        "ChuHoSo": "Trần Thị Bình",
        "NgayTiepNhan": "20260106103000",
        "NgayHenTra": "20260108103000",
        "TrangThaiHoSo": "4",
        "TaiKhoanDuocXacThucVoiVNeID": 0,
        "DanhSachLePhi": [{"Gia": "0"}],
    },
]  # fmt: skip

CLOCK = datetime(2026, 3, 25, 10, tzinfo=VN_TZ)


def dossiers() -> list[dict[str, Any]]:
    return copy.deepcopy(SYNC_DOSSIERS)


@pytest.fixture
def store() -> Iterator[Store]:
    s = Store(":memory:")
    ingest_records(s, "units", UNITS, "units")
    yield s
    s.close()


@pytest.fixture
def token(store: Store) -> str:
    return create_token(store, "H44", "ingest", name="một cửa H44")


@pytest.fixture
def other_token(store: Store) -> str:
    return create_token(store, "H45", "ingest")


@pytest.fixture
def client(store: Store) -> Iterator[TestClient]:
    settings = AppSettings(refresh_seconds=0, clock=lambda: CLOCK, max_batch=50, max_body_bytes=200_000)
    with TestClient(create_app(settings, store=store)) as c:
        yield c


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def rows(store: Store, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in store.connection.execute(sql, list(params)).fetchall()]


def all_text(store: Store) -> str:
    tables = [t for (t,) in store.connection.execute("SELECT table_name FROM information_schema.tables").fetchall()]
    return "\n".join(repr(store.connection.execute(f"SELECT * FROM {t}").fetchall()) for t in tables)
