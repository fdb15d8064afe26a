"""The store's DuckDB memory limit (DESIGN: peak memory ≤ 6 GB at 50 M dossiers): default, setting, errors, spill."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from fastapi.testclient import TestClient

from chiso766.api import scores
from chiso766.api.app import AppSettings, create_app
from chiso766.cli.main import run
from chiso766.errors import InputError, ResourceError
from chiso766.store.db import DEFAULT_MEMORY_LIMIT, MEMORY_LIMIT_ENV, Store, memory_limit

GIB = 1024**3
FIXTURE = Path(__file__).resolve().parents[1] / "data" / "engine_fixture"


def limit_bytes(store: Store) -> int:
    """DuckDB's own reading of its memory limit, in bytes."""
    row = store.connection.execute("SELECT value FROM duckdb_settings() WHERE name = 'memory_limit'").fetchone()
    assert row is not None
    text = str(row[0])  # e.g. '3.7 GiB'
    number, unit = text.split()
    return round(float(number) * {"KiB": 1024, "MiB": 1024**2, "GiB": GIB}[unit])


def test_default_limit_applies_to_every_store(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(MEMORY_LIMIT_ENV, raising=False)
    assert DEFAULT_MEMORY_LIMIT == "4GB"
    with Store() as store:  # 4 GB (decimal) = 3.73 GiB; DuckDB shows one decimal
        assert store.memory_limit == "4GB"
        assert abs(limit_bytes(store) - 4 * 10**9) < 0.06 * GIB
    with Store(tmp_path / "s.duckdb") as store:
        assert abs(limit_bytes(store) - 4 * 10**9) < 0.06 * GIB


def test_environment_then_argument(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "512MB")
    with Store() as store:
        assert store.memory_limit == "512MB"
        assert abs(limit_bytes(store) - 512 * 10**6) < 2**20
    with Store(memory_limit="2GiB") as store:  # the argument wins over the environment
        assert limit_bytes(store) == 2 * GIB


@pytest.mark.parametrize("bad", ["lots", "4 gigabytes", "-1GB", "", "4GB; DROP TABLE dossiers"])
def test_bad_setting_is_named_in_both_languages(monkeypatch: pytest.MonkeyPatch, bad: str) -> None:
    monkeypatch.setenv(MEMORY_LIMIT_ENV, bad)
    with pytest.raises(InputError) as caught:
        memory_limit()
    error = caught.value
    assert error.code == "invalid_memory_limit"
    assert error.problems[0].where == MEMORY_LIMIT_ENV
    assert "Giới hạn bộ nhớ không hợp lệ" in error.line() and "Invalid memory limit" in error.line()
    with pytest.raises(InputError):
        memory_limit(bad)  # the same rule for the argument, which is then named as such
    with pytest.raises(InputError) as caught:
        memory_limit(bad)
    assert caught.value.problems[0].where == "memory_limit"


def test_cli_reports_a_bad_setting_as_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    Store(tmp_path / "s.duckdb").close()  # an existing store
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "huge")
    monkeypatch.setattr("sys.argv", ["chiso766", "check", "--db", str(tmp_path / "s.duckdb")])
    with pytest.raises(SystemExit) as caught:
        run()
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("Lỗi / Error: ")
    assert MEMORY_LIMIT_ENV in err and "Invalid memory limit" in err and "Traceback" not in err


SORT_BEYOND_32MB = (
    "SELECT COUNT(*), SUM(i), MIN(pad), MAX(pad) FROM ("
    "SELECT * FROM (SELECT i, md5(CAST(i AS VARCHAR)) AS pad FROM range(1000000) t(i)) ORDER BY pad DESC) s"
)


def test_the_limit_holds_and_work_beyond_it_spills_to_disk(tmp_path: Path) -> None:
    """Sorting 1 M rows of 32-character texts needs more than 32 MB: with nowhere to spill DuckDB refuses at the
    limit (so the limit is really applied); a file store spills to ``<db>.tmp`` and the answer is exact."""
    with Store(tmp_path / "capped.duckdb", memory_limit="32MB") as store:
        store.connection.execute("SET threads = 1")
        store.connection.execute("SET temp_directory = ''")
        with pytest.raises(duckdb.OutOfMemoryException):
            store.connection.execute(SORT_BEYOND_32MB).fetchone()
    with Store(tmp_path / "spilling.duckdb", memory_limit="32MB") as store:
        store.connection.execute("SET threads = 1")
        got = store.connection.execute(SORT_BEYOND_32MB).fetchone()
    assert got is not None
    assert got[:2] == (1_000_000, 1_000_000 * 999_999 // 2)
    assert len(got[2]) == len(got[3]) == 32 and got[2] < got[3]


def test_cli_out_of_memory_is_one_bilingual_line_exit_3(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The engine fixture stored normally, then computed under a 2 MB limit: DuckDB stops, the CLI says how to go on."""
    db = tmp_path / "s.duckdb"
    monkeypatch.setattr("sys.argv", ["chiso766", "ingest", "--db", str(db), str(FIXTURE)])
    run()  # exit status 0: returns
    capsys.readouterr()
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "2MB")
    monkeypatch.setattr("sys.argv", ["chiso766", "compute", "--db", str(db), "--unit", "H90", "--period", "2026-03"])
    with pytest.raises(SystemExit) as caught:
        run()
    assert caught.value.code == 3
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert lines == [f"Lỗi / Error: {ResourceError.out_of_memory().line()}"]
    assert "CHISO766_MEMORY_LIMIT" in lines[0] and "Không đủ bộ nhớ" in lines[0] and "Out of memory" in lines[0]


def test_api_out_of_memory_is_503_in_the_error_shape(monkeypatch: pytest.MonkeyPatch) -> None:
    """A real DuckDB out-of-memory error raised while answering becomes the one JSON error shape, status 503."""

    def starved(*args: object, **kwargs: object) -> dict[str, object]:
        con = duckdb.connect(config={"memory_limit": "1MB", "temp_directory": ""})
        con.execute("SELECT COUNT(DISTINCT i) FROM range(1000000) t(i)").fetchone()
        raise AssertionError("DuckDB answered within 1 MB")

    with Store() as store:
        app = create_app(AppSettings(refresh_seconds=0, session_secret="s"), store=store)
        monkeypatch.setattr(scores, "national_doc", starved)
        with TestClient(app, raise_server_exceptions=False) as client:
            response = client.get("/api/v1/national")
    assert response.status_code == 503
    assert response.json() == ResourceError.out_of_memory().as_dict()
