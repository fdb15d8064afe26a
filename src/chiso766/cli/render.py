"""Rich tables for the terminal: scores, methodology, differences (vi-VN numbers, null as "—")."""

from __future__ import annotations

import json
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

from rich.console import Console
from rich.table import Table

from chiso766.methodology.diff import Difference
from chiso766.methodology.model import Methodology
from chiso766.presentation import NULL, fmt_count, fmt_points, fmt_rate
from chiso766.scoring import UnitScore

_HEAD = {
    "vi": ("Mã", "Chỉ tiêu", "Tử số", "Mẫu số", "Tỷ lệ", "Điểm", "Tối đa", "Điểm mất", "Tổng điểm"),
    "en": ("No.", "Indicator", "Numerator", "Denominator", "Rate", "Points", "Max", "Lost", "Total"),
}


def unit_score(console: Console, method: Methodology, result: UnitScore, lang: str = "vi", title: str = "") -> None:
    """The indicator table grouped by the six groups, then the total."""
    h = _HEAD.get(lang, _HEAD["vi"])
    table = Table(title=title or None, show_lines=False, header_style="bold")
    table.add_column(h[0], no_wrap=True)
    table.add_column(h[1], overflow="fold", max_width=58)
    for name in h[2:8]:
        table.add_column(name, justify="right", no_wrap=True)
    for group in method.groups:
        g = result.groups[group.code]
        name = group.name_vi if lang == "vi" else group.name_en
        table.add_row(
            f"[bold]{group.number}[/]",
            f"[bold]{name} ({group.code})[/]",
            "",
            "",
            fmt_rate(g.rate, lang),
            f"[bold]{fmt_points(g.score, lang)}[/]",
            fmt_points(g.max_score, lang),
            fmt_points(g.max_score - Fraction(g.score), lang),
        )
        for ind in method.indicators_of(group.code):
            r = result.indicators.get(ind.code)
            label = ind.name_vi if lang == "vi" else ind.name_en
            if r is None:
                table.add_row(
                    ind.number,
                    f"[dim]{label}[/]",
                    NULL,
                    NULL,
                    NULL,
                    NULL,
                    fmt_points(ind.max_points, lang),
                    NULL,
                )
                continue
            table.add_row(
                ind.number,
                label,
                fmt_count(r.numerator, lang),
                fmt_count(r.denominator, lang),
                fmt_rate(r.rate, lang),
                fmt_points(r.score, lang),
                fmt_points(r.max_score, lang),
                fmt_points(r.points_lost, lang),
            )
    table.add_row(
        "",
        f"[bold]{h[8]}[/]",
        "",
        "",
        "",
        f"[bold]{fmt_points(result.total, lang)}[/]",
        fmt_points(result.max_total, lang),
        fmt_points(result.max_total - Fraction(result.total), lang),
    )
    console.print(table)
    version = "Phương pháp" if lang == "vi" else "Methodology"
    console.print(f"{version}: {result.methodology}")


def methodology_table(console: Console, method: Methodology, lang: str = "vi") -> None:
    """Every indicator: number, code, name, points, scoring rule, zero-denominator rule, levels."""
    vi = lang == "vi"
    table = Table(title=f"{method.version} — {method.title_vi if vi else method.title_en}", header_style="bold")
    heads = (
        ("Mã số", "Mã chỉ tiêu", "Tên chỉ tiêu", "Điểm", "Cách tính điểm", "Mẫu số = 0", "Cấp dưới")
        if vi
        else ("No.", "Code", "Indicator", "Points", "Scoring", "Denominator = 0", "Children")
    )
    for i, name in enumerate(heads):
        table.add_column(name, justify="right" if i == 3 else "left", overflow="fold")
    zero_words = {
        "null_counts_zero": ("không có điểm (tính 0)", "null (counts 0)"),
        "zero": ("0 điểm", "0 points"),
        "full": ("đủ điểm", "full points"),
        "redistribute": ("chia điểm cho chỉ tiêu khác", "points redistributed"),
    }
    child_words = {
        "own": ("tính riêng", "own records"),
        "inherit": ("lấy của tỉnh", "inherited from province"),
        "zero": ("0 điểm", "0 points"),
    }
    for group in method.groups:
        table.add_row(
            f"[bold]{group.number}[/]",
            f"[bold]{group.code}[/]",
            f"[bold]{group.name_vi if vi else group.name_en}[/]",
            f"[bold]{fmt_points(group.max_points, lang)}[/]",
            "",
            "",
            "",
        )
        for ind in method.indicators_of(group.code):
            table.add_row(
                ind.number,
                ind.code,
                ind.name_vi if vi else ind.name_en,
                fmt_points(ind.max_points, lang),
                ind.formula_vi() if vi else ind.formula_en(),
                zero_words[ind.zero_denominator.value][0 if vi else 1],
                child_words[ind.children.value][0 if vi else 1],
            )
    console.print(table)


def methodology_diff(console: Console, a: Methodology, b: Methodology, diffs: Sequence[Difference]) -> None:
    """One row per differing field; "no differences" when equal."""
    if not diffs:
        console.print(f"Không có khác biệt / no differences: {a.version} = {b.version}")
        return
    table = Table(title=f"{a.version} ↔ {b.version}", header_style="bold")
    for name in ("Loại / kind", "Mã / code", "Trường / field", a.version, b.version):
        table.add_column(name, overflow="fold")
    for d in diffs:
        table.add_row(d.kind, d.code, d.field, _show(d.first), _show(d.second))
    console.print(table)


def _show(value: Any) -> str:
    if value is None:
        return NULL
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)
