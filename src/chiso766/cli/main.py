"""The ``chiso766`` command line: parse arguments, call the library, shape the output. Nothing else.

Bad input exits with status 2 and one line on stderr naming the field, in Vietnamese and English; work stopped
by the memory limit exits with status 3 and one such line.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated, Any

import duckdb
import typer
from rich.console import Console

from chiso766.cli import (
    access_commands,
    account_commands,
    advisor_commands,
    data_commands,
    demo_commands,
    engine_commands,
    render,
)
from chiso766.errors import Chiso766Error, InputError, MethodologyError, ResourceError
from chiso766.methodology import DEFAULT_VERSION, load_methodology
from chiso766.scoring import parse_counters_json, score_unit
from chiso766.store.db import is_out_of_memory

app = typer.Typer(
    name="chiso766",
    help="Tính Bộ chỉ số 766 (QĐ 766/QĐ-TTg) từ dữ liệu một cửa / Compute the Decision 766 index.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
methodology_app = typer.Typer(help="Phương pháp tính (dữ liệu có phiên bản) / Methodology versions.")
app.add_typer(methodology_app, name="methodology")
data_commands.register(app)
engine_commands.register(app)
access_commands.register(app)
account_commands.register(app)
demo_commands.register(app)
advisor_commands.register(app)

out = Console(highlight=False, width=None if sys.stdout.isatty() else 130)
log = logging.getLogger("chiso766")

MethodologyOption = Annotated[
    str,
    typer.Option("--methodology", "-m", help="Phiên bản hoặc đường dẫn YAML / version name or YAML path"),
]
LangOption = Annotated[str, typer.Option("--lang", help="vi | en")]


@app.command()
def score(
    counters: Annotated[Path, typer.Option("--counters", help="Tệp JSON tử số/mẫu số / counters JSON file")],
    methodology: MethodologyOption = DEFAULT_VERSION,
    table: Annotated[bool, typer.Option("--table", help="In bảng thay vì JSON / print a table")] = False,
    lang: LangOption = "vi",
) -> None:
    """Chấm điểm một đơn vị × kỳ từ tử số, mẫu số (DESIGN contract 1) / score one unit × period."""
    method = load_methodology(methodology)
    result = score_unit(method, parse_counters_json(_read_text(counters), method, source=str(counters)))
    if table:
        render.unit_score(out, method, result, lang=lang, title=str(counters))
    else:
        _print_json(result.to_json())


@methodology_app.command("show")
def methodology_show(
    version: Annotated[str, typer.Argument(help="Phiên bản / version")] = DEFAULT_VERSION,
    lang: LangOption = "vi",
    as_json: Annotated[bool, typer.Option("--json", help="In JSON / print JSON")] = False,
) -> None:
    """Bảng chỉ tiêu của một phiên bản phương pháp / the indicator table of a version."""
    method = load_methodology(version)
    if as_json:
        _print_json(json.loads(method.model_dump_json(by_alias=True)))
        return
    render.methodology_table(out, method, lang=lang)


@methodology_app.command("diff")
def methodology_diff(
    first: Annotated[str, typer.Argument(help="Phiên bản A / version A")],
    second: Annotated[str, typer.Argument(help="Phiên bản B / version B")],
) -> None:
    """Khác biệt giữa hai phiên bản / differences between two versions."""
    from chiso766.methodology.diff import diff_methodologies

    a, b = load_methodology(first), load_methodology(second)
    render.methodology_diff(out, a, b, diff_methodologies(a, b))


@methodology_app.command("list")
def methodology_list() -> None:
    """Các phiên bản đi kèm / shipped versions."""
    from chiso766.methodology import available_versions

    for name in available_versions():
        method = load_methodology(name)
        out.print(f"{name}\t{method.title_vi}")


@app.command()
def period(
    period_id: Annotated[str, typer.Argument(help="2026, 2026Q3, 2026-08, 2026W33, 2026H1, 2026M9, …")],
) -> None:
    """Giải nghĩa mã kỳ / explain a period id."""
    from chiso766.domain.periods import parse_period

    p = parse_period(period_id)
    _print_json(
        {
            "id": p.id,
            "type": p.type.value,
            "label_vi": p.label_vi,
            "label_en": p.label_en,
            "start": p.start.isoformat(),
            "end_exclusive": p.end.isoformat(),
            "previous": p.previous().id,
        }
    )


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise InputError.single("file_not_found", "Không tìm thấy tệp", "File not found", where=str(path)) from exc
    except (UnicodeDecodeError, IsADirectoryError, PermissionError) as exc:
        raise InputError.single(
            "unreadable_file",
            f"Không đọc được tệp (cần UTF-8): {exc.__class__.__name__}",
            f"Cannot read the file (UTF-8 expected): {exc.__class__.__name__}",
            where=str(path),
        ) from exc


def _print_json(doc: Any) -> None:
    sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")


def run() -> None:
    """Console entry point: library errors become one line on stderr and exit status 2."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        code = app(standalone_mode=False)
        # With standalone_mode=False, typer returns a command's typer.Exit code instead of raising it.
        if isinstance(code, int) and code:
            raise SystemExit(code)
    except MethodologyError as exc:  # every problem of a methodology file, one per line
        sys.stderr.write(f"Lỗi / Error: {exc.message_vi} / {exc.message_en}\n")
        sys.stderr.write("".join(f"  - {p.line()}\n" for p in exc.problems))
        raise SystemExit(2) from None
    except ResourceError as exc:
        sys.stderr.write(f"Lỗi / Error: {exc.line()}\n")
        raise SystemExit(3) from None
    except Chiso766Error as exc:
        sys.stderr.write(f"Lỗi / Error: {exc.line()}\n")
        raise SystemExit(2) from None
    except duckdb.Error as exc:
        if not is_out_of_memory(exc):
            raise
        sys.stderr.write(f"Lỗi / Error: {ResourceError.out_of_memory().line()}\n")
        raise SystemExit(3) from None
    except typer.Exit as exc:
        raise SystemExit(exc.exit_code) from None
    except typer.Abort:
        sys.stderr.write("Đã hủy / Aborted\n")
        raise SystemExit(1) from None
    except Exception as exc:
        # Usage errors (click's, vendored or not, depending on the typer version) show themselves.
        show, exit_code = getattr(exc, "show", None), getattr(exc, "exit_code", None)
        if callable(show) and isinstance(exit_code, int):
            show()
            raise SystemExit(exit_code) from None
        raise


if __name__ == "__main__":
    run()
