"""Tables of the dashboard documents (the JSON views of :mod:`chiso766.api.scores`), for CSV and Excel.

Every table on a page has one builder here, fed by the same document the page renders, so an export always
matches what the page shows. Column labels are bilingual; values stay numbers (null stays null).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from chiso766.errors import InputError
from chiso766.exports.tables import Column, ColumnKind, Table

__all__ = ["Table", "drill_tables", "national_table", "pick", "records_table", "unit_tables"]

K = ColumnKind


def _group_columns(doc: Mapping[str, Any]) -> list[Column]:
    meta = doc.get("groups_meta") or [
        {"code": g["code"], "number": g["number"], "name_vi": g["name_vi"], "name_en": g["name_en"]}
        for g in doc.get("groups", [])
    ]
    return [
        Column(f"g_{g['code']}", f"{g['number']}. {g['name_vi']}", f"{g['number']}. {g['name_en']}", K.POINTS)
        for g in meta
    ]


def _flatten_groups(row: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(row)
    for code, value in (row.get("groups") or {}).items():
        out[f"g_{code}"] = value
    return out


def national_table(doc: Mapping[str, Any]) -> Table:
    columns = [
        Column("rank", "Hạng", "Rank", K.INT),
        Column("unit", "Mã đơn vị", "Unit code"),
        Column("name", "Tỉnh, thành phố", "Province"),
        Column("total", "Tổng điểm", "Total", K.POINTS),
        *_group_columns(doc),
        Column("previous_total", "Điểm kỳ trước", "Previous total", K.POINTS),
        Column("change", "Thay đổi điểm", "Score change", K.POINTS),
        Column("previous_rank", "Hạng kỳ trước", "Previous rank", K.INT),
        Column("rank_change", "Thay đổi hạng", "Rank change", K.INT),
    ]
    rows = [_flatten_groups(r) for r in doc["rows"]]
    national = doc["national"]
    rows.append(
        _flatten_groups({"name": "Bình quân cả nước", "total": national["total"], "groups": national["groups"]})
    )
    return Table("national", "Xếp hạng tỉnh, thành phố", "Provinces ranked", columns, rows)


def unit_tables(doc: Mapping[str, Any]) -> list[Table]:
    """overview, indicators, departments, communes, trend."""
    unit = doc["unit"]
    overview_rows: list[dict[str, Any]] = [
        {"item": "Đơn vị / Unit", "value": f"{unit['name'] or ''} ({unit['code']})", "max": None},
        {"item": "Kỳ / Period", "value": doc["period"]["label_vi"], "max": None},
        {"item": "Phương pháp / Methodology", "value": doc["methodology"], "max": None},
        {"item": "Tổng điểm / Total", "number": doc["total"], "max": doc["max_total"]},
        {"item": "Hạng / Rank", "value": f"{doc['rank'] or '—'}/{doc['cohort_size']}", "max": None},
    ]
    for g in doc["groups"]:
        overview_rows.append(
            {
                "item": f"{g['number']}. {g['name_vi']}",
                "number": g["score"],
                "max": g["max"],
                "compare": g["compare"],
                "diff": g["diff"],
            }
        )
    overview = Table(
        "overview",
        "Tổng quan",
        "Overview",
        [
            Column("item", "Mục", "Item"),
            Column("value", "Giá trị", "Value"),
            Column("number", "Điểm", "Points", K.POINTS),
            Column("max", "Điểm tối đa", "Max", K.POINTS),
            Column("compare", f"Điểm {doc['compare_vi']}", doc["compare_en"].capitalize(), K.POINTS),
            Column("diff", "Chênh lệch", "Difference", K.POINTS),
        ],
        overview_rows,
    )
    indicators = Table(
        "indicators",
        "Chỉ tiêu",
        "Indicators",
        [
            Column("number", "STT", "No."),
            Column("name_vi", "Chỉ tiêu", "Indicator (vi)"),
            Column("numerator", "Tử số", "Numerator", K.INT),
            Column("denominator", "Mẫu số", "Denominator", K.INT),
            Column("rate", "Tỷ lệ (%)", "Rate (%)", K.RATE),
            Column("score", "Điểm", "Points", K.POINTS),
            Column("max", "Điểm tối đa", "Max", K.POINTS),
            Column("lost", "Điểm bị mất", "Points lost", K.POINTS),
            Column("formula_vi", "Cách tính", "Formula (vi)"),
            Column("code", "Mã chỉ tiêu", "Code"),
        ],
        [dict(r) for r in doc["indicators"]],
    )
    ranked_columns = [
        Column("rank", "Hạng", "Rank", K.INT),
        Column("unit", "Mã đơn vị", "Unit code"),
        Column("name", "Đơn vị", "Unit"),
        Column("total", "Tổng điểm", "Total", K.POINTS),
        *_group_columns(doc),
    ]
    departments = Table(
        "departments",
        "Sở, ban, ngành",
        "Departments",
        ranked_columns,
        [_flatten_groups(r) for r in doc["departments"]],
    )
    communes = Table(
        "communes", "Xã, phường", "Communes", ranked_columns, [_flatten_groups(r) for r in doc["communes"]]
    )
    trend = Table(
        "trend",
        "Diễn biến",
        "Trend",
        [
            Column("label_vi", "Kỳ", "Period"),
            Column("total", "Tổng điểm", "Total", K.POINTS),
            *_group_columns(doc),
            Column("rank", "Hạng", "Rank", K.INT),
            Column("cohort_size", "Số đơn vị cùng cấp", "Cohort size", K.INT),
            Column("national", "Bình quân cả nước", "National average", K.POINTS),
        ],
        [_flatten_groups(r) for r in doc["trend"]],
    )
    return [overview, indicators, departments, communes, trend]


def drill_tables(doc: Mapping[str, Any]) -> list[Table]:
    """subunits, procedures, reasons of one indicator's misses."""
    cols = [
        Column("key", "Mã", "Code"),
        Column("name", "Tên", "Name"),
        Column("misses", "Số bản ghi không đạt", "Records missing", K.INT),
        Column("points", "Điểm có thể lấy lại", "Points recoverable", K.POINTS),
    ]
    return [
        Table("subunits", "Theo đơn vị trực thuộc", "By sub-unit", cols, [dict(r) for r in doc["by_subunit"]]),
        Table("procedures", "Theo thủ tục hành chính", "By procedure", cols, [dict(r) for r in doc["by_procedure"]]),
        Table("reasons", "Theo nguyên nhân", "By reason", cols, [dict(r) for r in doc["by_reason"]]),
    ]


def records_table(doc: Mapping[str, Any]) -> Table:
    return Table(
        "records",
        "Hồ sơ / PAKN làm mất điểm",
        "Records that cost points",
        [
            Column("id", "Mã hồ sơ", "Record id"),
            Column("unit", "Mã đơn vị", "Unit code"),
            Column("unit_name", "Đơn vị", "Unit"),
            Column("procedure", "Mã TTHC", "Procedure"),
            Column("reason_vi", "Nguyên nhân", "Reason (vi)"),
            Column("reason", "Mã nguyên nhân", "Reason code"),
            Column("at_local", "Hạn / thời điểm (giờ Việt Nam)", "Due / time (Vietnam time)"),
        ],
        [dict(r) for r in doc["records"]],
    )


def pick(tables: Sequence[Table], name: str) -> Table:
    for t in tables:
        if t.name == name:
            return t
    raise InputError.single(
        "not_found",
        f"Không có bảng '{name}' ({', '.join(t.name for t in tables)})",
        f"No table '{name}' ({', '.join(t.name for t in tables)})",
        field="table",
        where=name,
    )
