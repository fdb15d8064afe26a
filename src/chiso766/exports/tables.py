"""A plain table (typed columns, rows of values) shared by the pages, the JSON API and the exports.

Values stay exact and machine-readable (``Decimal``/``int``/``None``/``str``); each consumer formats them:
pages in vi-VN (89,37, "—" for null), CSV as plain numbers with a dot, Excel as real numeric cells.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from typing import Any

from chiso766.scoring.core import json_number


class ColumnKind(StrEnum):
    TEXT = "text"
    INT = "int"  # counts and ranks: 1.234.567
    POINTS = "points"  # 2 decimals: 89,37
    RATE = "rate"  # percent with 2 decimals: 88,42 %


@dataclass(frozen=True)
class Column:
    key: str
    label_vi: str
    label_en: str
    kind: ColumnKind = ColumnKind.TEXT

    def label(self, lang: str) -> str:
        return self.label_en if lang == "en" else self.label_vi


@dataclass
class Table:
    """A named table: ``name`` is stable (used in export URLs and sheet names), titles are bilingual."""

    name: str
    title_vi: str
    title_en: str
    columns: Sequence[Column]
    rows: list[dict[str, Any]] = field(default_factory=list)

    def title(self, lang: str) -> str:
        return self.title_en if lang == "en" else self.title_vi

    def to_json(self) -> dict[str, Any]:
        """JSON shape: columns with kinds and labels, rows as objects with JSON numbers (null stays null)."""
        return {
            "name": self.name,
            "title_vi": self.title_vi,
            "title_en": self.title_en,
            "columns": [
                {"key": c.key, "label_vi": c.label_vi, "label_en": c.label_en, "kind": c.kind.value}
                for c in self.columns
            ],
            "rows": [{c.key: plain(row.get(c.key)) for c in self.columns} for row in self.rows],
        }


def plain(value: Any) -> Any:
    """A JSON-ready value: exact numbers become JSON numbers (2 decimals), others unchanged."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, Decimal | Fraction | int):
        return json_number(value)
    return value
