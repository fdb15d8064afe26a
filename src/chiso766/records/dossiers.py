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

from chiso766.records.base import (
    _FALSE,
    _TRUE,
    MAX_CODE,
    MAX_TEXT,
    KindSpec,
    Parsed,
    Reader,
    Row,
    has_nonzero_digit,
    is_utf8_text,
    parse_local_instant,
    start_reader,
)

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
    """One dossiers.json record → a dossier row, its events, supplements and databases.

    The common case (sync names only, every value well-formed) takes :func:`fast_dossier`; anything else — an
    English alias, a problem — the full reader path, which names every problem.
    """
    fast = fast_dossier(record) if type(record) is dict else None
    return fast if fast is not None else parse_dossier_full(record, where)


def parse_dossier_full(record: Mapping[str, Any], where: str) -> Parsed:
    """:func:`parse_dossier` through :class:`Reader` (every field looked up by name or alias, problems kept)."""
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


# ------------------------------------------------------------------------------------------------ fast path
# The same result as parse_dossier_full for records that use only sync names and hold only well-formed values;
# None as soon as anything differs (the full path then names the problems). Checked against the full path by
# tests/ingest/test_ingest_fast_path.py.


class _Bad(Exception):
    pass


_ALIAS_NAMES = frozenset(DOSSIER_ALIASES.values())
_STATUS_SET = frozenset(DOSSIER_STATUSES)


def _text(v: Any) -> str | None:
    if v is None:
        return None
    if type(v) is not str:
        raise _Bad
    s = v.strip()
    if not s:
        return None
    if len(s) > MAX_TEXT or not is_utf8_text(s):
        raise _Bad
    return s


def _code(v: Any, allowed: frozenset[str] | None = None) -> str | None:
    if type(v) is int:
        v = str(v)
    if v is None:
        return None
    if type(v) is not str:
        raise _Bad
    s = v.strip()
    if not s:
        return None
    if len(s) > MAX_CODE or (allowed is not None and s not in allowed) or not is_utf8_text(s):
        raise _Bad
    return s


def _flag(v: Any) -> bool | None:
    if v is None:
        return None
    if v is True or v is False:
        return bool(v)
    if type(v) is int:
        if v in (0, 1):
            return v == 1
        raise _Bad
    if type(v) is str:
        s = v.strip().lower()
        if not s:
            return None
        if s in _TRUE:
            return True
        if s in _FALSE:
            return False
    raise _Bad


# Text → instant of the well-formed date-times seen lately: a dossier repeats its times (submission = reception,
# the first event = reception, the last = end of processing), and so do neighbouring records. Bounded; cleared
# when full. Values are immutable, so sharing them between records is safe.
_INSTANTS: dict[str, datetime] = {}
_INSTANTS_MAX = 1 << 16


def _instant(v: Any) -> datetime | None:
    if v is None:
        return None
    if type(v) is not str:
        raise _Bad
    known = _INSTANTS.get(v)
    if known is not None:
        return known
    s = v.strip()
    if not s:
        return None
    try:
        at = parse_local_instant(s)
    except ValueError:
        raise _Bad from None
    if len(_INSTANTS) >= _INSTANTS_MAX:
        _INSTANTS.clear()
    _INSTANTS[v] = at
    return at


def _objects(v: Any) -> list[dict[str, Any]]:
    if v is None or v == "":
        return []
    if type(v) is not list:
        raise _Bad
    for item in v:
        if type(item) is not dict or not _ALIAS_NAMES.isdisjoint(item):
            raise _Bad
    return v


def fast_dossier(rec: dict[str, Any]) -> Parsed | None:
    """:func:`parse_dossier_full`'s result for a plain well-formed sync record, else None."""
    if not _ALIAS_NAMES.isdisjoint(rec):
        return None
    g = rec.get
    try:
        key = _text(g("MaHoSo"))
        if key is None:
            return None
        source_system = _text(g("HeThongNguon")) or ""
        unit_code = _text(g("MaCoQuanThucHien")) or _text(g("MaDonVi"))
        procedure_code = _text(g("MaTTHC"))
        channel = _code(g("KenhThucHien"))
        submitted_at = _instant(g("NgayNopHoSo"))
        received_at = _instant(g("NgayTiepNhan"))
        due_at = _instant(g("NgayHenTra"))
        status = _code(g("TrangThaiHoSo"), _STATUS_SET)
        processing_end_at = _instant(g("NgayKetThucXuLy"))
        returned_at = _instant(g("NgayTra"))
        rejected_at = _instant(g("NgayTuChoi"))
        payment_code = _code(g("DuocThanhToanTrucTuyen"))
        updated_at = _instant(g("NgayCapNhat"))

        fees = [*_objects(g("DanhSachLePhi")), *_objects(g("DanhSachPhiLePhi"))]
        amounts = []
        for fee in fees:
            amount = fee.get("Gia")
            if isinstance(amount, bool) or (amount is not None and not isinstance(amount, str | int | float)):
                raise _Bad
            amounts.append(amount)
        fee_state = "none" if not fees else ("nonzero" if any(has_nonzero_digit(a) for a in amounts) else "all_zero")

        has_component_file = has_digitised = has_store = False
        for doc in _objects(g("TaiLieuNop")):
            live = _flag(doc.get("IsDeleted")) is not True
            url = _text(doc.get("DuongDanTaiTepTin"))
            digitised = _flag(doc.get("DuocSoHoa")) is True
            store = _flag(doc.get("DuocLayTuKhoDMQG")) is True
            if live:
                has_component_file |= url is not None
                has_digitised |= digitised
                has_store |= store
        has_digitised |= _flag(g("HoSoCoThanhPhanSoHoa")) is True

        has_result_file = has_result_code = result_synced = False
        for res in _objects(g("DanhSachGiayToKetQua")):
            live = _flag(res.get("IsDeleted")) is not True
            url = _text(res.get("DuongDanTepTinKetQua"))
            code = _code(res.get("MaGiayToKetQua"))
            synced = _flag(res.get("DongBoKhoDMQG")) is True
            if live:
                has_result_file |= url is not None
                has_result_code |= code is not None
                result_synced |= synced

        vneid = _flag(g("TaiKhoanDuocXacThucVoiVNeID")) is True
        disliked = _flag(g("DanhGiaKhongHaiLong")) is True

        db_codes: dict[str, None] = {}
        for entry in _objects(g("DSKetNoiCSDL")):
            db = _code(entry.get("MaCSDL"))
            if db is not None:
                db_codes[db] = None
        flat = _code(g("MaCSDL"))
        if flat is not None:
            db_codes[flat] = None

        supplements: dict[datetime, datetime | None] = {}
        for sup in _objects(g("DanhSachHoSoBoSung")):
            requested = _instant(sup.get("NgayBoSung"))
            if requested is None:
                raise _Bad
            completed = _instant(sup.get("NgayTiepNhanBoSung"))
            known = supplements.get(requested)
            supplements[requested] = max((d for d in (known, completed) if d is not None), default=None)

        events: dict[Row, None] = {}
        for entry in _objects(g("QuaTrinhXuLy")):
            own = _text(entry.get("MaHoSo"))
            if own is not None and own != key:
                raise _Bad
            ev_status = _code(entry.get("TrangThai"), _STATUS_SET)
            at = _instant(entry.get("ThoiDiemXuLy"))
            if ev_status is None or at is None:
                raise _Bad
            events[(key, ev_status, at)] = None
    except _Bad:
        return None
    prefix = id_prefix(key)
    row: Row = (
        key,
        source_system,
        unit_code,
        prefix,
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
        id_prefix=prefix,
        earliest_at=min(times) if times else None,
    )
