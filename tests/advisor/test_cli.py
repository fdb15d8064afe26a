"""The advisor commands through the real CLI app on a DuckDB file of the fixture (clock fixed by --as-of)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from chiso766.cli.main import app
from chiso766.store.db import Store
from tests.advisor.conftest import load_fixture

AS_OF = "2026-03-25T10:00"


def test_advise_whatif_notice(tmp_path: Path) -> None:
    db = tmp_path / "f.duckdb"
    with Store(db) as store:
        load_fixture(store)
    runner = CliRunner()
    base = ["--db", str(db), "--as-of", AS_OF, "--period", "2026-03"]
    r = runner.invoke(app, ["advise", "--unit", "H90", *base, "--json"])
    assert r.exit_code == 0, r.output
    advice = json.loads(r.stdout)
    assert advice["total"] == 65.01
    r = runner.invoke(app, ["whatif", "--unit", "H90.13", *base, "--resolve-overdue", "2", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["gain"] == 12.67
    r = runner.invoke(app, ["whatif", "--unit", "H90.13", *base, "--change", "PROGRESS_ON_TIME:+1", "--json"])
    assert json.loads(r.stdout)["total_after"] == 68.83  # 2.1: 3/4 → 15 (+5) on 63,83
    out = tmp_path / "tb.docx"
    r = runner.invoke(app, ["notice", "--unit", "H90", *base, "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert out.read_bytes()[:2] == b"PK"
