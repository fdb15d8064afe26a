"""The command line through its real entry point (`chiso766.cli.main.run`): output, exit codes, error lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chiso766.cli.main import run
from chiso766.reference import example_counters_path


def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    monkeypatch.setattr("sys.argv", ["chiso766", *args])
    code = 0
    try:
        run()
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_score_prints_contract_1_json(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(monkeypatch, capsys, "score", "--counters", str(example_counters_path()))
    assert code == 0, err
    doc = json.loads(out)
    assert doc["methodology"] == "portal-2026"
    assert doc["total"] == 61.89
    assert doc["groups"]["TTTT"] == {"score": 6.67, "max_score": 10, "rate": 66.7}
    assert doc["indicators"]["PUBLIC_CONTENT_FULL"] == {
        "numerator": 87,
        "denominator": 89,
        "rate": 97.75,
        "score": 1.96,
        "max_score": 2,
    }


def test_score_with_design_methodology(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Same counts under decision-766-design: 4.2 = 24,27 % → 4·0.2427/0.8 = 1.21 instead of 0.97."""
    code, out, _ = cli(
        monkeypatch, capsys, "score", "--counters", str(example_counters_path()), "-m", "decision-766-design"
    )
    assert code == 0
    doc = json.loads(out)
    assert doc["methodology"] == "decision-766-design"
    assert doc["indicators"]["SO_HOA_GIAY_TO_GIAI_QUYET"]["score"] == 1.21


@pytest.mark.parametrize(
    ("content", "field"),
    [
        ('{"level": "province", "indicators": {', "line 1"),
        ('{"level": "province", "indicators": {"NOT_A_CODE": {"numerator": 1, "denominator": 2}}}', "NOT_A_CODE"),
        (
            '{"level": "province", "indicators": {"PROGRESS_ON_TIME": {"numerator": -5, "denominator": 2}}}',
            "indicators.PROGRESS_ON_TIME.numerator",
        ),
        (
            '{"level": "province", "indicators": {"PROGRESS_ON_TIME": {"numerator": 7, "denominator": 2}}}',
            "indicators.PROGRESS_ON_TIME.numerator",
        ),
        (
            '{"level": "province", "indicators": {"PROGRESS_ON_TIME": {"numerator": 1, "denominator": 2.5}}}',
            "indicators.PROGRESS_ON_TIME.denominator",
        ),
    ],
)
def test_score_bad_input_is_one_line_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path, content: str, field: str
) -> None:
    path = tmp_path / "counters.json"
    path.write_text(content, encoding="utf-8")
    code, out, err = cli(monkeypatch, capsys, "score", "--counters", str(path))
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert field in lines[0]
    assert "Traceback" not in err
    assert lines[0].startswith("Lỗi / Error:")


def test_score_missing_file(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(monkeypatch, capsys, "score", "--counters", "/nonexistent/c.json")
    assert code == 2
    assert "Không tìm thấy tệp / File not found" in err


def test_score_table_of_shipped_example(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """The shipped H44 2026 counters as a table: vi-VN numbers by default, en-US with ``--lang en``."""
    example = str(example_counters_path())
    code, out, _ = cli(monkeypatch, capsys, "score", "--counters", example, "--table")
    assert code == 0
    assert "Tổng điểm" in out and "61,89" in out and "475.053" in out and "Phương pháp: portal-2026" in out
    code, out, _ = cli(monkeypatch, capsys, "score", "--counters", example, "--table", "--lang", "en")
    assert code == 0
    assert "Total" in out and "61.89" in out and "475,053" in out


def test_methodology_show_and_diff(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(monkeypatch, capsys, "methodology", "show")
    assert code == 0
    assert "Tiến độ giải quyết" in out and "PROGRESS_ON_TIME" in out and "20 × tỷ lệ" in out
    code, out, _ = cli(monkeypatch, capsys, "methodology", "show", "decision-766-design", "--json")
    assert code == 0
    assert json.loads(out)["version"] == "decision-766-design"
    code, out, _ = cli(monkeypatch, capsys, "methodology", "diff", "portal-2026", "decision-766-design")
    assert code == 0
    assert "SO_HOA_GIAY_TO_GIAI_QUYET" in out and "redistribute" in out


def test_methodology_errors_list_every_problem(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "v.yaml"
    path.write_text(
        "version: v\nextends: portal-2026\nindicators:\n"
        "  - code: PROGRESS_ON_TIME\n    scoring: {function: logistic}\n"
        "  - code: ONLINE_DOSSIERS\n    scoring: {function: target, threshold: 0}\n",
        encoding="utf-8",
    )
    code, _, err = cli(monkeypatch, capsys, "methodology", "show", str(path))
    assert code == 2
    assert "PROGRESS_ON_TIME" in err and "ONLINE_DOSSIERS" in err
    assert len(err.strip().splitlines()) == 3


def test_period_command(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(monkeypatch, capsys, "period", "2026Q3")
    assert code == 0
    assert json.loads(out)["label_vi"] == "Quý III/2026"
    code, _, err = cli(monkeypatch, capsys, "period", "2026Q5")
    assert code == 2 and "2026Q5" in err


def test_usage_error_exit_code(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(monkeypatch, capsys, "score", "--bogus")
    assert code == 2
    assert "--bogus" in err
