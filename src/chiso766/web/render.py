"""The Jinja2 environment of the pages: templates folder, vi-VN number filters, null as "—", bilingual text.

Filters: ``points`` (89,37), ``rate`` (88,42 %), ``count`` (1.234.567), ``date`` (dd/mm/yyyy), ``signed``
(+2,10 / −1,05), ``dt`` (dd/mm/yyyy HH:MM from an ISO string); each takes an optional ``lang`` and renders None
as "—". JSON numbers (floats of 2-decimal values) are read back exactly through ``repr`` so 12.225 stays 12,23.
The global ``t(lang, vi, en)`` picks the text of the page language. Templates extend ``base.html`` (blocks
``title`` and ``content``; optional ``nav_extra`` and ``head``).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi.templating import Jinja2Templates
from jinja2 import Undefined

from chiso766.presentation.format import NULL, fmt_count, fmt_date, fmt_points, fmt_rate

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"

Number = Decimal | Fraction | int | float | None


def exact(value: Number) -> Decimal | Fraction | int | None:
    """A float from JSON (already 2 decimals) as the exact decimal it stands for; a missing value (Jinja's
    ``Undefined``, e.g. no national average before any data) is null and shows as "—"."""
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, Undefined):
        return None
    return value


def points(value: Number, lang: str = "vi") -> str:
    return fmt_points(exact(value), lang)


def rate(value: Number, lang: str = "vi") -> str:
    v = exact(value)
    return fmt_rate(Decimal(v) if isinstance(v, int) else v if not isinstance(v, Fraction) else None, lang)


def count(value: Number, lang: str = "vi") -> str:
    v = exact(value)
    if isinstance(v, Decimal):
        return fmt_count(int(v), lang) if v == v.to_integral_value() else fmt_points(v, lang)
    return fmt_count(v, lang)


def signed(value: Number, lang: str = "vi") -> str:
    """A change with its sign: +2,10, −1,05, ±0,00; null → "—"."""
    v = exact(value)
    if v is None:
        return NULL
    text = fmt_points(-v if v < 0 else v, lang)
    return f"+{text}" if v > 0 else f"−{text}" if v < 0 else f"±{text}"


def signed_int(value: int | None) -> str:
    if value is None:
        return NULL
    return f"+{value}" if value > 0 else f"−{-value}" if value < 0 else "±0"


def when(value: str | datetime | None) -> str:
    """dd/mm/yyyy HH:MM of an ISO instant (shown in the time zone it carries, Asia/Ho_Chi_Minh)."""
    if value is None:
        return NULL
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.strftime("%d/%m/%Y %H:%M")


def day(value: str | date | None) -> str:
    if isinstance(value, str):
        return fmt_date(date.fromisoformat(value[:10]))
    return fmt_date(value)


def url(path: str, **params: Any) -> str:
    """``path?k=v&…`` keeping only the parameters that have a value."""
    kept = {k: v for k, v in params.items() if v not in (None, "")}
    return f"{path}?{urlencode(kept)}" if kept else path


def t(lang: str, vi: str, en: str) -> str:
    return en if lang == "en" else vi


def pick(doc: Any, lang: str, key: str) -> Any:
    """``doc[key + '_en']`` in English (when present), else ``doc[key + '_vi']`` or ``doc[key]``."""
    if lang == "en" and doc.get(f"{key}_en") is not None:
        return doc[f"{key}_en"]
    return doc.get(f"{key}_vi", doc.get(key))


templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
templates.env.filters["points"] = points
templates.env.filters["rate"] = rate
templates.env.filters["count"] = count
templates.env.filters["date"] = day
templates.env.filters["signed"] = signed
templates.env.filters["signed_int"] = signed_int
templates.env.filters["when"] = when


def period_label(period_id: str | None, lang: str = "vi") -> str:
    """The label of a period id ("2026-02" → "Tháng 2/2026" / "February 2026"); the id itself if unparsable."""
    if not period_id:
        return NULL
    from chiso766.domain.periods import parse_period
    from chiso766.errors import InputError

    try:
        p = parse_period(period_id)
    except InputError:
        return period_id
    return p.label_en if lang == "en" else p.label_vi


templates.env.globals["NULL"] = NULL
templates.env.globals["period_label"] = period_label
templates.env.globals["t"] = t
templates.env.globals["url"] = url
templates.env.globals["pick"] = pick
