"""vi-VN number and date formatting: 89,37; 1.234.567; dd/mm/yyyy; null as "—" (never 0)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction

from babel.numbers import format_decimal

NULL = "—"
_LOCALES = {"vi": "vi_VN", "en": "en_US"}


def _locale(lang: str) -> str:
    return _LOCALES.get(lang, "vi_VN")


def fmt_points(value: Decimal | Fraction | int | None, lang: str = "vi") -> str:
    """Points or a score with 2 decimals: ``89,37`` (vi) / ``89.37`` (en); null → "—"."""
    if value is None:
        return NULL
    number = Decimal(value) if not isinstance(value, Fraction) else Decimal(value.numerator) / value.denominator
    return str(format_decimal(number, format="#,##0.00", locale=_locale(lang)))


def fmt_rate(value: Decimal | None, lang: str = "vi") -> str:
    """A percentage with 2 decimals and a % sign: ``88,42 %``; null → "—"."""
    return NULL if value is None else f"{fmt_points(value, lang)} %"


def fmt_count(value: int | Fraction | None, lang: str = "vi") -> str:
    """A count with thousands separators: ``1.234.567`` (vi); null → "—"."""
    if value is None:
        return NULL
    if isinstance(value, Fraction) and value.denominator != 1:
        return fmt_points(value, lang)
    return str(format_decimal(int(value), format="#,##0", locale=_locale(lang)))


def fmt_date(value: date | datetime | None) -> str:
    """dd/mm/yyyy; null → "—"."""
    return NULL if value is None else value.strftime("%d/%m/%Y")
