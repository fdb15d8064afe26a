"""publications.json (our format, ``docs/input-extensions.md``): publication decisions (QĐCB) and their TTHC.

``{SoQuyetDinh, MaDonVi, NgayQuyetDinh, DanhSachTTHC: [{MaTTHC, LoaiThayDoi}]}`` → ``publications`` +
``publication_items``. ``NgayQuyetDinh`` is a local calendar date (``yyyyMMdd`` or ``yyyyMMddHHmmss``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chiso766.records.base import KindSpec, Parsed, Row, fold, start_reader

PUBLICATION_ALIASES: dict[str, str] = {
    "SoQuyetDinh": "decision_id",
    "MaDonVi": "unit_code",
    "NgayQuyetDinh": "decided_on",
    "DanhSachTTHC": "items",
    "MaTTHC": "procedure_code",
    "LoaiThayDoi": "change_type",
}
PUBLICATION_COLUMNS = ("decision_id", "unit_code", "decided_on")
ITEM_COLUMNS = ("decision_id", "procedure_code", "change_type")
CHANGE_TYPES = {
    "them moi": "new",
    "sua doi": "amended",
    "bai bo": "abolished",
    "new": "new",
    "amended": "amended",
    "abolished": "abolished",
}
_CHANGE_WORDS = "them_moi, sua_doi, bai_bo, new, amended, abolished"


def parse_publication(record: Mapping[str, Any], where: str) -> Parsed:
    r, key = start_reader(record, PUBLICATION_ALIASES, where, "SoQuyetDinh")
    unit_code = r.text("MaDonVi", required=True)
    decided_key, decided_raw = r.get("NgayQuyetDinh")
    decided_on = None
    if isinstance(decided_raw, str) and len(decided_raw.strip()) not in (8, 14):
        r.problem(
            decided_key,
            f"Ngày quyết định không hợp lệ {decided_raw!r}: cần yyyyMMdd hoặc yyyyMMddHHmmss",
            f"Malformed decision date {decided_raw!r}: expected yyyyMMdd or yyyyMMddHHmmss",
        )
    else:
        decided_on = r.day("NgayQuyetDinh", required=True)
    items: dict[str, Row] = {}
    for item in r.objects("DanhSachTTHC"):
        code = item.text("MaTTHC", required=True)
        change_text = item.text("LoaiThayDoi", required=True)
        change = None if change_text is None else CHANGE_TYPES.get(fold(change_text))
        if change_text is not None and change is None:
            ckey, _ = item.get("LoaiThayDoi")
            item.problem(
                ckey,
                f"Loại thay đổi '{change_text}' không hợp lệ (chấp nhận: {_CHANGE_WORDS})",
                f"Unknown change type '{change_text}' (accepted: {_CHANGE_WORDS})",
            )
        if code is not None and code in items:
            mkey, _ = item.get("MaTTHC")
            item.problem(mkey, f"TTHC '{code}' bị trùng trong quyết định", f"Procedure '{code}' listed twice")
        elif code is not None and change is not None and key is not None:
            items[code] = (key, code, change)
    r.fail_if_problems(key)
    assert key is not None
    return Parsed(
        key=key,
        main=(key, unit_code, decided_on),
        children={"publication_items": list(items.values())},
        unit_code=unit_code,
    )


PUBLICATIONS = KindSpec(
    kind="publications",
    change_kind="publication",
    key_fields=("SoQuyetDinh", "decision_id"),
    main="publications",
    main_columns=PUBLICATION_COLUMNS,
    replaced={"publication_items": ITEM_COLUMNS},
    merged={},
    parse=parse_publication,
    unit_column="unit_code",
)
