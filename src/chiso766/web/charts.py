"""Server-side SVG charts (no JavaScript, no CDN): a line chart for trends and a bar chart for groups.

Charts are decoration over data: every page that shows one also shows the table behind it. Null values leave
a gap (never drawn as 0). Output is an ``<svg>`` string with ``role="img"``, a ``<title>`` and an
``aria-label``; text is escaped. Colours come from CSS classes (``series-0`` …) in ``static/app.css``.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

from chiso766.web.render import points

WIDTH, HEIGHT = 640, 240
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 44, 16, 14, 40


def _y(value: float, top: float) -> float:
    plot = HEIGHT - PAD_TOP - PAD_BOTTOM
    return PAD_TOP + plot * (1 - (value / top if top else 0))


def line_chart(
    title: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    top: float = 100,
    lang: str = "vi",
) -> Markup:
    """A line per series over the x labels (0..top on y); a null point breaks the line."""
    count = max(len(labels), 1)
    step = (WIDTH - PAD_LEFT - PAD_RIGHT) / max(count - 1, 1)

    def x(i: int) -> float:
        return PAD_LEFT + (step * i if count > 1 else (WIDTH - PAD_LEFT - PAD_RIGHT) / 2)

    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}" '
        f'preserveAspectRatio="xMidYMid meet"><title>{escape(title)}</title>'
    ]
    for tick in range(0, 5):
        value = top * tick / 4
        y = _y(value, top)
        parts.append(
            f'<line class="grid" x1="{PAD_LEFT}" x2="{WIDTH - PAD_RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="axis" x="{PAD_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{escape(points(value, lang))}</text>"
        )
    for i, label in enumerate(labels):
        parts.append(
            f'<text class="axis" x="{x(i):.1f}" y="{HEIGHT - PAD_BOTTOM + 16}" text-anchor="middle">'
            f"{escape(label)}</text>"
        )
    for k, (name, values) in enumerate(series):
        segment: list[str] = []
        segments: list[list[str]] = []
        for i, v in enumerate(values):
            if v is None:
                if segment:
                    segments.append(segment)
                segment = []
                continue
            segment.append(f"{x(i):.1f},{_y(v, top):.1f}")
            parts.append(
                f'<circle class="dot series-{k}" cx="{x(i):.1f}" cy="{_y(v, top):.1f}" r="3">'
                f"<title>{escape(name)} · {escape(labels[i])}: {escape(points(v, lang))}</title></circle>"
            )
        if segment:
            segments.append(segment)
        for seg in segments:
            if len(seg) > 1:
                parts.append(f'<polyline class="line series-{k}" points="{" ".join(seg)}"/>')
    legend_x = PAD_LEFT
    for k, (name, _) in enumerate(series):
        parts.append(
            f'<rect class="swatch series-{k}" x="{legend_x}" y="{HEIGHT - 14}" width="10" height="10"/>'
            f'<text class="legend" x="{legend_x + 14}" y="{HEIGHT - 5}">{escape(name)}</text>'
        )
        legend_x += 14 + 7 * len(name) + 18
    parts.append("</svg>")
    return Markup("".join(parts))


def bar_chart(
    title: str,
    rows: Sequence[tuple[str, float | None, float | None, float]],
    lang: str = "vi",
) -> Markup:
    """Horizontal bars: (label, value, comparison, max) per row, each scaled to its own max (score / max)."""
    row_h = 30
    height = PAD_TOP + row_h * len(rows) + 8
    label_w = 220
    bar_w = WIDTH - label_w - 80
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>"
    ]
    for i, (label, value, compare, top) in enumerate(rows):
        y = PAD_TOP + i * row_h
        parts.append(f'<text class="legend" x="0" y="{y + 14}">{escape(label[:34])}</text>')
        parts.append(f'<rect class="track" x="{label_w}" y="{y + 3}" width="{bar_w}" height="14"/>')
        if value is not None and top:
            w = bar_w * max(0.0, min(value / top, 1.0))
            parts.append(f'<rect class="bar series-0" x="{label_w}" y="{y + 3}" width="{w:.1f}" height="14"/>')
        if compare is not None and top:
            cx = label_w + bar_w * max(0.0, min(compare / top, 1.0))
            parts.append(f'<line class="marker" x1="{cx:.1f}" x2="{cx:.1f}" y1="{y}" y2="{y + 20}"/>')
        text = f"{points(value, lang)}/{points(top, lang)}"
        parts.append(f'<text class="axis" x="{label_w + bar_w + 6}" y="{y + 14}">{escape(text)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
