"""``ingest`` and ``check`` commands (cli.data_commands.register) through typer's CliRunner: output and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from chiso766.cli.data_commands import register
from chiso766.store.db import Store


def make_app() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


runner = CliRunner()


def test_ingest_a_folder_exits_0_and_prints_a_summary(tmp_path: Path, records_dir: Path) -> None:
    db = tmp_path / "store.duckdb"
    result = runner.invoke(make_app(), ["ingest", "--db", str(db), "--kind", "auto", str(records_dir)])
    assert result.exit_code == 0, result.output
    assert "Ingest summary" in result.stdout
    for kind in ("units", "procedures", "publications", "dossiers", "progress", "petitions"):
        assert kind in result.stdout
    with Store(db, read_only=True) as store:
        assert store.connection.execute("SELECT count(*) FROM dossiers").fetchone() == (4,)
        assert store.connection.execute("SELECT count(*) FROM receipts").fetchone() == (6,)
    again = runner.invoke(make_app(), ["ingest", "--db", str(db), str(records_dir)])
    assert again.exit_code == 0


def test_ingest_with_rejected_records_exits_1_and_prints_bilingual_problems(tmp_path: Path) -> None:
    path = tmp_path / "batch.json"
    path.write_text(
        json.dumps(
            [
                {"MaHoSo": "A-1", "NgayTiepNhan": "20260201080000"},
                {"MaHoSo": "A-2", "NgayTiepNhan": "20261332250000"},
            ]
        ),
        encoding="utf-8",
    )
    db = tmp_path / "s.duckdb"
    result = runner.invoke(make_app(), ["ingest", "--db", str(db), "--kind", "dossiers", str(path)])
    assert result.exit_code == 1
    assert "NgayTiepNhan" in result.stderr
    assert "Ngày giờ không hợp lệ" in result.stderr and "Malformed date-time" in result.stderr
    assert "quarantine" in result.stderr
    with Store(db, read_only=True) as store:
        assert store.connection.execute("SELECT dossier_id FROM dossiers").fetchall() == [("A-1",)]


def test_ingest_bad_usage_exits_2(tmp_path: Path) -> None:
    db = str(tmp_path / "s.duckdb")
    missing = runner.invoke(make_app(), ["ingest", "--db", db, "--kind", "dossiers", str(tmp_path / "nope.json")])
    assert missing.exit_code == 2
    assert "Cannot read" in missing.stderr and "Không đọc được" in missing.stderr
    (tmp_path / "x.json").write_text("[]", encoding="utf-8")
    bad_kind = runner.invoke(make_app(), ["ingest", "--db", db, "--kind", "hoso", str(tmp_path / "x.json")])
    assert bad_kind.exit_code == 2
    assert "Unknown record kind" in bad_kind.stderr


def test_check_prints_json_and_a_table(tmp_path: Path, records_dir: Path) -> None:
    db = tmp_path / "store.duckdb"
    assert runner.invoke(make_app(), ["ingest", "--db", str(db), str(records_dir)]).exit_code == 0
    result = runner.invoke(make_app(), ["check", "--db", str(db), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["ok"] is False
    assert [f["code"] for f in doc["findings"]] == ["petition_unknown_unit", "progress_unknown_dossier"]
    table = runner.invoke(make_app(), ["check", "--db", str(db)])
    assert table.exit_code == 0
    assert "petition_unknown_unit" in table.stdout
    missing = runner.invoke(make_app(), ["check", "--db", str(tmp_path / "none.duckdb")])
    assert missing.exit_code == 2


def test_an_unopenable_database_exits_2(tmp_path: Path, records_dir: Path) -> None:
    db = tmp_path / "no-such-dir" / "store.duckdb"
    result = runner.invoke(make_app(), ["ingest", "--db", str(db), str(records_dir)])
    assert result.exit_code == 2
    assert "cannot open the database" in result.stderr
