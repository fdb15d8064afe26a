"""units.json (INPUT_FORMAT) → ``units`` rows. Tree-wide checks (unknown parents, cycles, duplicate electronic
ids) need every unit at once; :func:`chiso766.store.quality.check` runs them with ``UnitTree.from_records``."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from chiso766.domain.units import UnitLevel
from chiso766.records.base import KindSpec, Parsed, start_reader

UNIT_ALIASES: dict[str, str] = {
    "MaDonVi": "unit_code",
    "TenDonVi": "name",
    "MaDonViCha": "parent_code",
    "CapDonVi": "level",
    "MaDinhDanh": "electronic_id",
}
UNIT_COLUMNS = ("unit_code", "name", "parent_code", "level", "electronic_id")
_ELECTRONIC_ID = re.compile(r"[0-9A-Z.]{1,35}")  # as chiso766.domain.units


def parse_unit(record: Mapping[str, Any], where: str) -> Parsed:
    """One unit record. A missing level is inferred only for a root (→ province), as ``UnitTree`` does."""
    r, key = start_reader(record, UNIT_ALIASES, where, "MaDonVi", "code")
    name = r.text("TenDonVi", "name")
    parent = r.text("MaDonViCha", "parent_code")
    level_text = r.text("CapDonVi", "level")
    eid = r.text("MaDinhDanh", "electronic_id")
    level: UnitLevel | None = None
    level_key, _ = r.get("CapDonVi", "level")
    if level_text is None:
        if parent is None:
            level = UnitLevel.PROVINCE
        else:
            r.problem(
                level_key,
                "Thiếu cấp đơn vị (chỉ suy ra được cho đơn vị gốc: tỉnh)",
                "Missing unit level (it can only be inferred for a root unit: province)",
            )
    else:
        try:
            level = UnitLevel.parse(level_text)
        except ValueError:
            words = ", ".join(UnitLevel.accepted_words())
            r.problem(
                level_key,
                f"Cấp đơn vị '{level_text}' không hợp lệ (chấp nhận, không phân biệt hoa thường: {words})",
                f"Unknown unit level '{level_text}' (accepted, any case: {words})",
            )
    if eid is not None:
        eid = eid.upper()
        if not _ELECTRONIC_ID.fullmatch(eid):
            eid_key, _ = r.get("MaDinhDanh", "electronic_id")
            r.problem(
                eid_key,
                f"Mã định danh '{eid}' không hợp lệ (tối đa 35 ký tự: chữ số, A–Z, dấu chấm)",
                f"Invalid electronic id '{eid}' (up to 35 characters: digits, A–Z, dots)",
            )
    if key is not None and parent == key:
        parent_key, _ = r.get("MaDonViCha", "parent_code")
        r.problem(parent_key, "Đơn vị là cha của chính nó", "Unit is its own parent")
    r.fail_if_problems(key)
    assert key is not None and level is not None
    return Parsed(key=key, main=(key, name or key, parent, level.value, eid), unit_code=key)


UNITS = KindSpec(
    kind="units",
    change_kind="unit",
    key_fields=("MaDonVi", "unit_code", "code"),
    main="units",
    main_columns=UNIT_COLUMNS,
    replaced={},
    merged={},
    parse=parse_unit,
)
