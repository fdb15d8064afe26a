"""The Jinja2 environment of the pages: templates folder, vi-VN number filters, null as "—".

Filters: ``points`` (89,37), ``rate`` (88,42 %), ``count`` (1.234.567), ``date`` (dd/mm/yyyy); each takes
an optional ``lang`` and renders None as "—". Templates extend ``base.html`` (blocks ``title`` and ``content``).
"""

from __future__ import annotations

from pathlib import Path

from fastapi.templating import Jinja2Templates

from chiso766.presentation.format import NULL, fmt_count, fmt_date, fmt_points, fmt_rate

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"

templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
templates.env.filters["points"] = fmt_points
templates.env.filters["rate"] = fmt_rate
templates.env.filters["count"] = fmt_count
templates.env.filters["date"] = fmt_date
templates.env.globals["NULL"] = NULL
