"""``demo``, ``generate``, ``serve`` and ``stream``: the main job and its data (owner: generator work)."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.console import Console

from chiso766.cli import render
from chiso766.methodology import DEFAULT_VERSION, load_methodology
from chiso766.reference import example_counters_path
from chiso766.scoring import parse_counters_json, score_unit

out = Console(highlight=False, width=None if sys.stdout.isatty() else 130)


def register(app: typer.Typer) -> None:
    """Add ``demo`` to ``app``."""

    @app.command()
    def demo(
        methodology: Annotated[str, typer.Option("--methodology", "-m", help="Phiên bản / version")] = DEFAULT_VERSION,
        lang: Annotated[str, typer.Option("--lang", help="vi | en")] = "vi",
    ) -> None:
        """Chấm điểm đơn vị mẫu đi kèm (Phú Thọ, năm 2026) / score the shipped example unit."""
        path = example_counters_path()
        method = load_methodology(methodology)
        text = path.read_text(encoding="utf-8")
        doc = json.loads(text)
        result = score_unit(method, parse_counters_json(text, method, source=path.name))
        title = f"{doc.get('unit', '')} · {doc.get('period', '')} · {doc.get('source', '')}"
        render.unit_score(out, method, result, lang=lang, title=title)
