"""CSV and Excel writers for :class:`~chiso766.exports.tables.Table` and the unit workbook.

CSV: UTF-8 with BOM (Excel opens Vietnamese correctly), header in the chosen language, numbers with a dot and
2 decimals, null as an empty field. Excel (XlsxWriter): real numeric cells with number formats
(``#,##0.00`` points, ``0.00"%"`` rates, ``#,##0`` counts), null as the text "—", Times New Roman 12, a title
row citing "Quyết định số 766/QĐ-TTg ngày 23/6/2022" and the period label.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

import xlsxwriter  # type: ignore[import-untyped]
from xlsxwriter.workbook import Workbook  # type: ignore[import-untyped]
from xlsxwriter.worksheet import Worksheet  # type: ignore[import-untyped]

from chiso766.exports.tables import ColumnKind, Table

DECISION_VI = "Bộ chỉ số 766 theo Quyết định số 766/QĐ-TTg ngày 23/6/2022 của Thủ tướng Chính phủ"
DECISION_EN = "Decision 766 index (Quyết định số 766/QĐ-TTg ngày 23/6/2022 of the Prime Minister)"
NULL_TEXT = "—"
FONT = "Times New Roman"


def _number(value: Any) -> float | int | None:
    if value is None or isinstance(value, bool | str):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, Fraction):
        return float(Decimal(value.numerator) / Decimal(value.denominator))
    if isinstance(value, Decimal | float):
        return float(value)
    return None


def _csv_cell(value: Any, kind: ColumnKind) -> str:
    if value is None:
        return ""
    if kind is not ColumnKind.TEXT and not isinstance(value, str):
        number = _number(value)
        if number is None:
            return ""
        if kind is ColumnKind.INT and float(number).is_integer():
            return str(int(number))
        return f"{number:.2f}"
    return str(value)


def table_csv(table: Table, lang: str = "vi") -> bytes:
    """The table as CSV bytes (UTF-8 with BOM)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([c.label(lang) for c in table.columns])
    for row in table.rows:
        writer.writerow([_csv_cell(row.get(c.key), c.kind) for c in table.columns])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


class _Formats:
    def __init__(self, book: Workbook) -> None:
        base = {"font_name": FONT, "font_size": 12}
        self.title = book.add_format({**base, "bold": True, "font_size": 14})
        self.subtitle = book.add_format({**base, "italic": True})
        self.header = book.add_format({**base, "bold": True, "bg_color": "#DDE7F0", "border": 1, "text_wrap": True})
        self.text = book.add_format({**base, "border": 1})
        self.null = book.add_format({**base, "border": 1, "align": "center"})
        self.by_kind = {
            ColumnKind.TEXT: self.text,
            ColumnKind.INT: book.add_format({**base, "border": 1, "num_format": "#,##0"}),
            ColumnKind.POINTS: book.add_format({**base, "border": 1, "num_format": "#,##0.00"}),
            ColumnKind.RATE: book.add_format({**base, "border": 1, "num_format": '0.00" %"'}),
        }


def _write_table(sheet: Worksheet, fmt: _Formats, table: Table, lang: str, first_row: int) -> int:
    """Write header and rows from ``first_row``; returns the next free row."""
    for col, column in enumerate(table.columns):
        sheet.write_string(first_row, col, column.label(lang), fmt.header)
        width = 36 if column.kind is ColumnKind.TEXT and col > 0 else 14
        sheet.set_column(col, col, width)
    row_index = first_row + 1
    for row in table.rows:
        for col, column in enumerate(table.columns):
            value = row.get(column.key)
            number = _number(value) if column.kind is not ColumnKind.TEXT else None
            if value is None:
                sheet.write_string(row_index, col, NULL_TEXT, fmt.null)
            elif number is not None:
                kind = column.kind
                if kind is ColumnKind.INT and not float(number).is_integer():
                    kind = ColumnKind.POINTS  # a fractional denominator (1.4 fallback) keeps its decimals
                sheet.write_number(row_index, col, number, fmt.by_kind[kind])
            else:
                sheet.write_string(row_index, col, str(value), fmt.text)
        row_index += 1
    if table.rows:
        sheet.autofilter(first_row, 0, row_index - 1, len(table.columns) - 1)
    sheet.freeze_panes(first_row + 1, 0)
    return row_index


def _heading(sheet: Worksheet, fmt: _Formats, title: str, period_label: str, lang: str, made: datetime | None) -> int:
    sheet.write_string(0, 0, DECISION_EN if lang == "en" else DECISION_VI, fmt.title)
    sheet.write_string(1, 0, title, fmt.title)
    sub = (f"Period: {period_label}" if lang == "en" else f"Kỳ đánh giá: {period_label}") + (
        f" · {made:%d/%m/%Y %H:%M}" if made is not None else ""
    )
    sheet.write_string(2, 0, sub, fmt.subtitle)
    return 4


def _sheet_name(title: str, used: set[str]) -> str:
    clean = "".join(ch for ch in title if ch not in "[]:*?/\\")[:31] or "Sheet"
    name, n = clean, 2
    while name.lower() in used:
        suffix = f" ({n})"
        name, n = clean[: 31 - len(suffix)] + suffix, n + 1
    used.add(name.lower())
    return name


def workbook_xlsx(
    tables: Sequence[Table],
    *,
    title: str,
    period_label: str,
    lang: str = "vi",
    made: datetime | None = None,
) -> bytes:
    """One sheet per table (sheet name = table title), each headed by the decision citation and period."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    book.set_properties({"title": title, "subject": DECISION_VI, "comments": period_label})
    fmt = _Formats(book)
    used: set[str] = set()
    for table in tables:
        sheet = book.add_worksheet(_sheet_name(table.title(lang), used))
        first = _heading(sheet, fmt, f"{title} — {table.title(lang)}", period_label, lang, made)
        _write_table(sheet, fmt, table, lang, first)
    book.close()
    return buffer.getvalue()


def table_xlsx(table: Table, *, period_label: str, lang: str = "vi", made: datetime | None = None) -> bytes:
    """A single table as a one-sheet workbook."""
    return workbook_xlsx([table], title=table.title(lang), period_label=period_label, lang=lang, made=made)
