"""Exports of any table as CSV or Excel, and the multi-sheet workbook of one unit × period."""

from chiso766.exports.tables import Column, ColumnKind, Table
from chiso766.exports.writers import table_csv, table_xlsx, workbook_xlsx

__all__ = ["Column", "ColumnKind", "Table", "table_csv", "table_xlsx", "workbook_xlsx"]
