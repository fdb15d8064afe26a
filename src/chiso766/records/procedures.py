"""procedures.json — the TTHC catalogue in the DATA_FORMATS §1.13 ``LayThuTuc`` shape, plus our (ext) fields.

See ``docs/input-extensions.md`` for the extension fields (TRANGTHAI words, DOITUONGTHUCHIEN, CAPTHUCHIEN,
COQUANTHUCHIEN, CANCUPHAPLY, DUDIEUKIENTOANTRINH, NGAYCONGKHAI, DANHSACHDVC, YEUCAUTRAKETQUAGIAY, NGAYCAPNHAT).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from chiso766.records.base import KindSpec, Parsed, Reader, Row, fold, has_nonzero_digit, start_reader

PROCEDURE_ALIASES: dict[str, str] = {
    "MATTHC": "procedure_code",
    "MaTTHC": "procedure_code",
    "TENTTHC": "name",
    "TRANGTHAI": "status",
    "YEUCAUTRAKETQUAGIAY": "requires_paper_result",
    "KETQUATHUCHIEN": "results",
    "CACHTHUCTHUCHIEN": "channels",
    "KENH": "channel",
    "THOIGIAN": "times",
    "THOIGIANGIAIQUYET": "amount",
    "DONVITINH": "time_unit",
    "PHILEPHI": "fees",
    "SOTIEN": "fee_amount",
    "DOITUONGTHUCHIEN": "applicants",
    "TENDOITUONG": "applicant_name",
    "CAPTHUCHIEN": "levels",
    "COQUANTHUCHIEN": "agencies",
    "MADONVI": "unit_code",
    "CANCUPHAPLY": "legal_bases",
    "SOVANBAN": "document_no",
    "NGAYHIEULUC": "effective_on",
    "TRINHTUTHUCHIEN": "steps",
    "THANHPHANHOSO": "components",
    "DUDIEUKIENTOANTRINH": "full_online_eligible",
    "NGAYCONGKHAI": "published_at",
    "NGAYCAPNHAT": "updated_at",
    "NgayCapNhat": "updated_at",
    "DANHSACHDVC": "services",
    "MADVC": "service_code",
    "MUCDO": "service_level",
}

PROCEDURE_COLUMNS = (
    "procedure_code",
    "name",
    "status",
    "requires_paper_result",
    "has_fee",
    "citizen_applicant",
    "components_complete",
    "levels",
    "full_online_eligible",
    "published_at",
    "updated_at",
)
TIME_COLUMNS = ("procedure_code", "channel", "amount", "time_unit")
UNIT_COLUMNS = ("procedure_code", "unit_code")
LEGAL_COLUMNS = ("procedure_code", "document_no", "effective_on")
# services rows are kept with the procedure code first: the key of a replaced child table comes first.
SERVICE_COLUMNS = ("procedure_code", "service_code", "unit_code", "service_level", "status")

# Folded (lower case, no diacritics) words → codes; our own codes are accepted as well.
TIME_UNITS = {
    "ngay lam viec": "working_day",
    "ngay": "day",
    "gio": "hour",
    "gio lam viec": "working_hour",
    "tuan": "week",
    "thang": "month",
    **{c.replace("_", " "): c for c in ("working_day", "day", "hour", "working_hour", "week", "month")},
}
PROCEDURE_STATUSES = {
    "dang cong khai": "public",
    "da cong khai": "public",
    "dang cong khai sua doi bo sung": "public_amended",
    "da cong khai sua doi bo sung": "public_amended",
    "bai bo": "abolished",
    "public": "public",
    "public amended": "public_amended",
    "abolished": "abolished",
}
SERVICE_LEVELS = {
    "toan trinh": "full",
    "full": "full",
    "mot phan": "partial",
    "partial": "partial",
}
SERVICE_STATUSES = {
    "dang cong khai": "public",
    "cho dung cong khai": "pending_withdrawal",
    "dang kiem thu": "testing",
    "dung cong khai": "withdrawn",
    **{c.replace("_", " "): c for c in ("public", "pending_withdrawal", "testing", "withdrawn")},
}
_TIME_WORDS = "Ngày làm việc, Ngày, Giờ, Giờ làm việc, Tuần, Tháng"
_LEVEL_WORDS = "toàn trình, một phần, toan_trinh, mot_phan, full, partial"
CITIZEN_APPLICANTS = frozenset(
    {"cong dan viet nam", "nguoi viet nam dinh cu o nuoc ngoai", "nguoi nuoc ngoai"}
)  # 4.5a denominator (DATA_FORMATS §1.10)


def _mapped(r: Reader, name: str, table: Mapping[str, str], what_vi: str, what_en: str, words: str) -> str | None:
    """A word read through ``table`` after folding; an unknown word is a problem listing ``words``."""
    text = r.text(name)
    if text is None:
        return None
    value = table.get(fold(text))
    if value is None:
        key, _ = r.get(name)
        r.problem(
            key,
            f"{what_vi} '{text}' không hợp lệ (chấp nhận, không phân biệt hoa thường/dấu: {words})",
            f"Unknown {what_en} '{text}' (accepted, any case or accents: {words})",
        )
    return value


def parse_procedure(record: Mapping[str, Any], where: str) -> Parsed:
    """One TTHC catalogue record → procedure row and its times, units, legal bases and services."""
    r, key = start_reader(record, PROCEDURE_ALIASES, where, "MATTHC", "MaTTHC")
    name = r.text("TENTTHC")
    status_text = r.text("TRANGTHAI")
    status = None if status_text is None else PROCEDURE_STATUSES.get(fold(status_text), "other")
    results = r.objects("KETQUATHUCHIEN")
    paper_flag = r.flag("YEUCAUTRAKETQUAGIAY")
    requires_paper = paper_flag if paper_flag is not None else bool(results)  # D-4.1-2

    has_fee = False
    times: dict[Row, None] = {}
    for way in r.objects("CACHTHUCTHUCHIEN"):
        channel = way.code("KENH")
        for t in way.objects("THOIGIAN"):
            amount = t.number("THOIGIANGIAIQUYET")
            unit = _mapped(t, "DONVITINH", TIME_UNITS, "Đơn vị thời gian", "time unit", _TIME_WORDS)
            if amount is not None and unit is None and not t.has("DONVITINH"):
                ukey, _ = t.get("DONVITINH")
                t.problem(ukey, "Thiếu đơn vị thời gian", "Missing time unit")
            for fee in t.objects("PHILEPHI"):
                _, amount_text = fee.get("SOTIEN")
                has_fee |= has_nonzero_digit(amount_text)  # D-3.6-3
            if amount is not None and unit is not None and key is not None:
                times[(key, channel, amount, unit)] = None
    for fee in r.objects("PHILEPHI"):  # a flat fee list, where a catalogue export has one
        _, amount_text = fee.get("SOTIEN")
        has_fee |= has_nonzero_digit(amount_text)

    applicants = r.objects("DOITUONGTHUCHIEN")
    citizen: bool | None = None
    if r.get("DOITUONGTHUCHIEN")[1] is not None:
        names = [a.text("TENDOITUONG") for a in applicants]
        citizen = any(n is not None and fold(n) in CITIZEN_APPLICANTS for n in names)

    levels: dict[str, None] = {}
    for level in r.objects("CAPTHUCHIEN"):
        code = level.code("CAPTHUCHIEN")
        if code is not None:
            levels[code] = None

    units: dict[Row, None] = {}
    agencies = r.objects("COQUANTHUCHIEN")
    for agency in agencies:
        unit_code = agency.text("MADONVI")
        if unit_code is not None and key is not None:
            units[(key, unit_code)] = None

    legal: dict[Row, None] = {}
    for basis in r.objects("CANCUPHAPLY"):
        number = basis.text("SOVANBAN", required=True)
        effective: date | None = basis.day("NGAYHIEULUC")
        if number is not None and key is not None:
            legal[(key, number, effective)] = None

    # 1.3: the seven components of khoản 2 Điều 8 NĐ 63/2010 — (a) name (b) steps (c) ways (d) dossier
    # components (e) processing time (f) applicants (g) implementing agencies — all present.
    components_complete = all(
        (
            name is not None,
            r.has("TRINHTUTHUCHIEN"),
            r.has("CACHTHUCTHUCHIEN"),
            r.has("THANHPHANHOSO"),
            bool(times),
            bool(applicants),
            bool(agencies),
        )
    )
    full_online = r.flag("DUDIEUKIENTOANTRINH")
    published_at = r.instant("NGAYCONGKHAI")
    updated_at = r.instant("NGAYCAPNHAT", "NgayCapNhat")

    services: dict[str, Row] = {}
    for dvc in r.objects("DANHSACHDVC"):
        service_code = dvc.text("MADVC", required=True)
        unit_code = dvc.text("MADONVI", required=True)
        level_text = dvc.text("MUCDO", required=True)
        service_level = (
            None
            if level_text is None
            else _mapped(dvc, "MUCDO", SERVICE_LEVELS, "Mức độ DVC", "service level", _LEVEL_WORDS)
        )
        state_text = dvc.text("TRANGTHAI")
        state = "other" if state_text is None else SERVICE_STATUSES.get(fold(state_text), "other")
        if service_code is not None and service_code in services:
            skey, _ = dvc.get("MADVC")
            dvc.problem(skey, f"Mã DVC '{service_code}' bị trùng", f"Duplicate service code '{service_code}'")
        elif None not in (service_code, unit_code, service_level, key):
            assert service_code is not None
            services[service_code] = (key, service_code, unit_code, service_level, state)

    r.fail_if_problems(key)
    assert key is not None
    row: Row = (
        key,
        name,
        status,
        requires_paper,
        has_fee,
        citizen,
        components_complete,
        ",".join(levels) if levels else None,
        full_online,
        published_at,
        updated_at,
    )
    return Parsed(
        key=key,
        main=row,
        children={
            "procedure_times": list(times),
            "procedure_units": list(units),
            "legal_bases": list(legal),
            "services": list(services.values()),
        },
        updated_at=updated_at,
    )


PROCEDURES = KindSpec(
    kind="procedures",
    change_kind="procedure",
    key_fields=("MATTHC", "MaTTHC", "procedure_code"),
    main="procedures",
    main_columns=PROCEDURE_COLUMNS,
    replaced={
        "procedure_times": TIME_COLUMNS,
        "procedure_units": UNIT_COLUMNS,
        "legal_bases": LEGAL_COLUMNS,
        "services": SERVICE_COLUMNS,
    },
    merged={},
    parse=parse_procedure,
)
