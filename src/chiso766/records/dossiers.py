"""dossiers.json (DATA_FORMATS §1.2, INPUT_FORMAT) and progress.json (§1.4) → dossier rows and events.

Derived flags, exactly as the ``dossiers`` table comments say:

- ``fee_state``: ``DanhSachLePhi`` and ``DanhSachPhiLePhi`` entries together; none when there is no entry,
  nonzero when any ``Gia`` is non-zero (a number ≠ 0 or text with a digit 1–9), else all_zero (D-3.6-2).
- ``has_component_file``: a live ``TaiLieuNop`` entry (``IsDeleted`` ≠ 1) with a ``DuongDanTaiTepTin`` (D-4.2-2).
- ``has_digitised_component``: ``HoSoCoThanhPhanSoHoa`` = 1 or a live ``DuocSoHoa`` = 1 (D-4.3-1).
- ``has_store_component``: a live ``DuocLayTuKhoDMQG`` = 1 (D-4.4-1, D-4.5b-1).
- ``has_result_file`` / ``has_result_code`` / ``result_synced_to_store``: a ``DanhSachGiayToKetQua`` entry with
  ``DuongDanTepTinKetQua`` / ``MaGiayToKetQua`` / ``DongBoKhoDMQG`` = 1 (D-4.1-1, D-4.4-1). An entry marked
  ``IsDeleted`` = 1 counts for nothing, as for components.
- ``dossier_databases``: every ``DSKetNoiCSDL[].MaCSDL`` plus a flat ``MaCSDL`` (D-4.5b-1).
- ``dossier_events``: the embedded ``QuaTrinhXuLy[]`` only; the field-derived terminal events (NgayKetThucXuLy,
  NgayTra, NgayTuChoi) are added by the engine in SQL (D-2.1-1), never stored twice.
- ``dossier_supplements``: ``DanhSachHoSoBoSung[]`` (D-2.1-4); two entries with one ``NgayBoSung`` are one request,
  keeping the latest known ``NgayTiepNhanBoSung``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from chiso766.records.base import KindSpec, Parsed, Reader, Row, has_nonzero_digit, start_reader

DOSSIER_STATUSES = tuple(str(i) for i in range(1, 11))

# INPUT_FORMAT name → English snake_case alias (one table for dossiers and their nested entries).
DOSSIER_ALIASES: dict[str, str] = {
    "MaHoSo": "dossier_id",
    "HeThongNguon": "source_system",  # (ext) the sending one-stop system
    "MaCoQuanThucHien": "unit_code",
    "MaDonVi": "envelope_unit_code",
    "MaTTHC": "procedure_code",
    "KenhThucHien": "channel",
    "NgayNopHoSo": "submitted_at",
    "NgayTiepNhan": "received_at",
    "NgayHenTra": "due_at",
    "TrangThaiHoSo": "status",
    "NgayKetThucXuLy": "processing_end_at",
    "NgayTra": "returned_at",
    "NgayTuChoi": "rejected_at",
    "DuocThanhToanTrucTuyen": "payment_code",
    "NgayCapNhat": "updated_at",  # (ext) version time
    "DanhSachLePhi": "fees",
    "DanhSachPhiLePhi": "fee_list",
    "Gia": "amount",
    "TaiLieuNop": "documents",
    "DuongDanTaiTepTin": "file_url",
    "IsDeleted": "is_deleted",
    "DuocSoHoa": "digitised",
    "DuocLayTuKhoDMQG": "from_store",
    "DanhSachGiayToKetQua": "results",
    "DuongDanTepTinKetQua": "result_file_url",
    "MaGiayToKetQua": "result_code",
    "DongBoKhoDMQG": "synced_to_store",
    "HoSoCoThanhPhanSoHoa": "has_digitised_component",
    "TaiKhoanDuocXacThucVoiVNeID": "vneid",
    "DSKetNoiCSDL": "databases",
    "MaCSDL": "db_code",
    "DanhGiaKhongHaiLong": "disliked",
    "DanhSachHoSoBoSung": "supplements",
    "NgayBoSung": "requested_at",
    "NgayTiepNhanBoSung": "completed_at",
    "QuaTrinhXuLy": "events",
    "TrangThai": "status",
    "ThoiDiemXuLy": "event_at",
}

DOSSIER_COLUMNS = (
    "dossier_id",
    "source_system",
    "unit_code",
    "id_prefix",
    "procedure_code",
    "channel",
    "submitted_at",
    "received_at",
    "due_at",
    "status",
    "processing_end_at",
    "returned_at",
    "rejected_at",
    "payment_code",
    "fee_state",
    "has_component_file",
    "has_digitised_component",
    "has_store_component",
    "has_result_file",
    "has_result_code",
    "result_synced_to_store",
    "vneid",
    "disliked",
    "updated_at",
)
EVENT_COLUMNS = ("dossier_id", "status", "event_at")
SUPPLEMENT_COLUMNS = ("dossier_id", "requested_at", "completed_at")
DATABASE_COLUMNS = ("dossier_id", "db_code")


def id_prefix(dossier_id: str) -> str:
    """The part of ``MaHoSo`` before the first ``-``, upper case (as :meth:`UnitTree.by_electronic_id`)."""
    return dossier_id.split("-", 1)[0].strip().upper()


def _event(r: Reader, dossier_id: str | None) -> Row | None:
    """One QuaTrinhXuLy entry → (dossier_id, status, event_at); ``MaHoSo`` in it must match the dossier."""
    own = r.text("MaHoSo", required=dossier_id is None)
    if dossier_id is not None and own is not None and own != dossier_id:
        key, _ = r.get("MaHoSo")
        r.problem(
            key,
            f"MaHoSo '{own}' khác mã hồ sơ '{dossier_id}' của bản ghi",
            f"MaHoSo '{own}' differs from the record's dossier id '{dossier_id}'",
        )
    status = r.code("TrangThai", required=True, allowed=DOSSIER_STATUSES)
    at = r.instant("ThoiDiemXuLy", required=True)
    target = dossier_id or own
    if target is None or status is None or at is None:
        return None
    return (target, status, at)


def _live(r: Reader) -> bool:
    return r.flag("IsDeleted") is not True


def parse_dossier(record: Mapping[str, Any], where: str) -> Parsed:
    """One dossiers.json record → a dossier row, its events, supplements and databases."""
    r, key = start_reader(record, DOSSIER_ALIASES, where, "MaHoSo")
    source_system = r.text("HeThongNguon") or ""
    unit_code = r.text("MaCoQuanThucHien") or r.text("MaDonVi")
    procedure_code = r.text("MaTTHC")
    channel = r.code("KenhThucHien")
    submitted_at = r.instant("NgayNopHoSo")
    received_at = r.instant("NgayTiepNhan")
    due_at = r.instant("NgayHenTra")
    status = r.code("TrangThaiHoSo", allowed=DOSSIER_STATUSES)
    processing_end_at = r.instant("NgayKetThucXuLy")
    returned_at = r.instant("NgayTra")
    rejected_at = r.instant("NgayTuChoi")
    payment_code = r.code("DuocThanhToanTrucTuyen")
    updated_at = r.instant("NgayCapNhat")

    fees = [*r.objects("DanhSachLePhi"), *r.objects("DanhSachPhiLePhi")]
    amounts = []
    for fee in fees:
        fkey, amount = fee.get("Gia")
        if isinstance(amount, bool) or (amount is not None and not isinstance(amount, str | int | float)):
            fee.problem(fkey, "Giá phải là số hoặc chuỗi số", "Gia must be a number or a numeric string")
        amounts.append(amount)
    fee_state = "none" if not fees else ("nonzero" if any(has_nonzero_digit(a) for a in amounts) else "all_zero")

    has_component_file = has_digitised = has_store = False
    for doc in r.objects("TaiLieuNop"):
        live = _live(doc)
        url = doc.text("DuongDanTaiTepTin")
        digitised = doc.flag("DuocSoHoa") is True
        store = doc.flag("DuocLayTuKhoDMQG") is True
        if live:
            has_component_file |= url is not None
            has_digitised |= digitised
            has_store |= store
    has_digitised |= r.flag("HoSoCoThanhPhanSoHoa") is True

    has_result_file = has_result_code = result_synced = False
    for res in r.objects("DanhSachGiayToKetQua"):
        live = _live(res)
        url = res.text("DuongDanTepTinKetQua")
        code = res.code("MaGiayToKetQua")
        synced = res.flag("DongBoKhoDMQG") is True
        if live:
            has_result_file |= url is not None
            has_result_code |= code is not None
            result_synced |= synced

    vneid = r.flag("TaiKhoanDuocXacThucVoiVNeID") is True
    disliked = r.flag("DanhGiaKhongHaiLong") is True

    db_codes: dict[str, None] = {}
    for entry in r.objects("DSKetNoiCSDL"):
        db = entry.code("MaCSDL")
        if db is not None:
            db_codes[db] = None
    flat = r.code("MaCSDL")
    if flat is not None:
        db_codes[flat] = None

    supplements: dict[datetime, datetime | None] = {}
    for sup in r.objects("DanhSachHoSoBoSung"):
        requested = sup.instant("NgayBoSung", required=True)
        completed = sup.instant("NgayTiepNhanBoSung")
        if requested is not None:
            known = supplements.get(requested)
            supplements[requested] = max((d for d in (known, completed) if d is not None), default=None)

    events: dict[Row, None] = {}
    for entry in r.objects("QuaTrinhXuLy"):
        event = _event(entry, key)
        if event is not None:
            events[event] = None

    r.fail_if_problems(key)
    assert key is not None
    row: Row = (
        key,
        source_system,
        unit_code,
        id_prefix(key),
        procedure_code,
        channel,
        submitted_at,
        received_at,
        due_at,
        status,
        processing_end_at,
        returned_at,
        rejected_at,
        payment_code,
        fee_state,
        has_component_file,
        has_digitised,
        has_store,
        has_result_file,
        has_result_code,
        result_synced,
        vneid,
        disliked,
        updated_at,
    )
    times = [t for t in (received_at, submitted_at) if t is not None]
    return Parsed(
        key=key,
        main=row,
        children={
            "dossier_supplements": [(key, req, done) for req, done in supplements.items()],
            "dossier_databases": [(key, db) for db in db_codes],
            "dossier_events": list(events),
        },
        updated_at=updated_at,
        unit_code=unit_code,
        id_prefix=id_prefix(key),
        earliest_at=min(times) if times else None,
    )


def parse_progress(record: Mapping[str, Any], where: str) -> Parsed:
    """One progress.json entry ``{MaHoSo, TrangThai, ThoiDiemXuLy, …}`` → one dossier event."""
    r, key = start_reader(record, DOSSIER_ALIASES, where, "MaHoSo")
    status = r.code("TrangThai", required=True, allowed=DOSSIER_STATUSES)
    at = r.instant("ThoiDiemXuLy", required=True)
    r.fail_if_problems(key)
    assert key is not None and status is not None and at is not None
    return Parsed(
        key=key,
        main=None,
        children={"dossier_events": [(key, status, at)]},
        id_prefix=id_prefix(key),
        earliest_at=at,
    )


DOSSIERS = KindSpec(
    kind="dossiers",
    change_kind="dossier",
    key_fields=("MaHoSo", "dossier_id"),
    main="dossiers",
    main_columns=DOSSIER_COLUMNS,
    replaced={"dossier_supplements": SUPPLEMENT_COLUMNS, "dossier_databases": DATABASE_COLUMNS},
    merged={"dossier_events": EVENT_COLUMNS},
    parse=parse_dossier,
    unit_column="unit_code",
    prefix_column="id_prefix",
    time_columns=("received_at", "submitted_at"),
)

PROGRESS = KindSpec(
    kind="progress",
    change_kind="dossier",
    key_fields=("MaHoSo", "dossier_id"),
    main=None,
    main_columns=(),
    replaced={},
    merged={"dossier_events": EVENT_COLUMNS},
    parse=parse_progress,
)
