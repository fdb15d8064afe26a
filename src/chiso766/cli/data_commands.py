"""``chiso766 ingest`` and ``chiso766 check``: load records into a DuckDB store, report data quality.

Thin edge: parse the options, call :mod:`chiso766.store.ingest` / :mod:`chiso766.store.quality`, shape the output.
Files: JSON, JSON Lines, CSV/TSV, XLSX and Parquet (:mod:`chiso766.store.files`), streamed. Every file loaded
is written to ``audit_log`` (actor ``cli:<login>``). Exit status of ``ingest``: 0 every record was taken (new,
updated or unchanged), 1 some were rejected (the first problems are printed, in Vietnamese and English; all
are in the ``quarantine`` table), 2 bad usage (unknown kind, unreadable path).
"""

from __future__ import annotations

import getpass
import json
import sys
from pathlib import Path
from typing import Annotated

import duckdb
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from chiso766.access import audit
from chiso766.errors import Chiso766Error
from chiso766.records import KIND_ORDER
from chiso766.store.db import Store
from chiso766.store.ingest import ingest_file
from chiso766.store.load import IngestReport, export_quarantine, find_record_files
from chiso766.store.quality import QualityReport, check

__all__ = ["register"]

SHOWN_PROBLEMS = 10

DbOption = Annotated[Path, typer.Option("--db", help="Tệp DuckDB / DuckDB file")]


def _console(stderr: bool = False) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    return Console(file=stream, highlight=False, width=None if stream.isatty() else 130)


def _fail(exc: Chiso766Error) -> typer.Exit:
    sys.stderr.write(f"Lỗi / Error: {exc.line()}\n")
    return typer.Exit(2)


def register(app: typer.Typer) -> None:
    """Add ``ingest`` and ``check`` to ``app``."""

    @app.command("ingest")
    def ingest(
        paths: Annotated[
            list[Path],
            typer.Argument(help="Tệp JSON/JSONL/CSV/XLSX/Parquet hoặc thư mục bản ghi / files or folders"),
        ],
        db: DbOption,
        kind: Annotated[
            str,
            typer.Option("--kind", "-k", help=f"{', '.join(KIND_ORDER)} | auto (thư mục / folder)"),
        ] = "auto",
        quarantine_file: Annotated[
            Path | None,
            typer.Option(
                "--quarantine-file",
                help="Tệp JSON Lines ghi thêm các bản ghi bị từ chối kèm lý do (mặc định: <db>.quarantine.jsonl) / "
                "JSON Lines file the rejected records are appended to, with their reasons",
            ),
        ] = None,
    ) -> None:
        """Nạp bản ghi vào kho DuckDB (DESIGN contract 2) / load records into a DuckDB store."""
        try:
            files = find_record_files(kind, paths)
        except Chiso766Error as exc:
            raise _fail(exc) from None
        reports: list[IngestReport] = []
        err = _console(stderr=True)
        with (
            _open_store(db) as store,
            Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=err,
                transient=True,
            ) as progress,
        ):
            for record_kind, path in files:
                task = progress.add_task(f"{record_kind} · {path.name}", total=None)

                def advance(n: int, task: TaskID = task) -> None:
                    progress.advance(task, n)

                try:
                    report = ingest_file(store, record_kind, path, progress=advance)
                except Chiso766Error as exc:
                    raise _fail(exc) from None
                progress.update(task, total=report.total, completed=report.total)
                reports.append(report)
                audit.record(
                    store.connection,
                    actor=_cli_actor(),
                    action="ingest",
                    kind=report.kind,
                    receipt_id=report.receipt_id,
                    counts=(report.accepted, report.updated, report.unchanged, report.rejected),
                    detail=path.name,
                )
            rejected = [r for r in reports if r.rejected]
            if rejected:
                target = quarantine_file or db.with_suffix(".quarantine.jsonl")
                written = export_quarantine(store, [r.receipt_id for r in rejected], target)
        _summary(_console(), reports)
        if rejected:
            _problems(err, rejected)
            err.print(
                f"{written:,} bản ghi bị từ chối đã ghi vào / rejected records written to: {target}".replace(",", "."),
                soft_wrap=True,
                markup=False,
            )
            raise typer.Exit(1)

    @app.command("check")
    def check_command(
        db: DbOption,
        as_json: Annotated[bool, typer.Option("--json", help="In JSON / print JSON")] = False,
    ) -> None:
        """Kiểm tra chất lượng dữ liệu trong kho / data-quality report of a store."""
        if not db.is_file():
            sys.stderr.write(f"Lỗi / Error: {db}: không có tệp cơ sở dữ liệu / no such database file\n")
            raise typer.Exit(2)
        with _open_store(db, read_only=True) as store:
            report = check(store)
        if as_json:
            sys.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False, indent=2) + "\n")
        else:
            _quality_table(_console(), report)


def _cli_actor() -> str:
    """``cli:<login>`` for the audit log (the operating-system user running the command)."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _open_store(db: Path, read_only: bool = False) -> Store:
    """The store, or exit status 2 with a bilingual line when the file cannot be opened."""
    try:
        return Store(db, read_only=read_only)
    except duckdb.Error as exc:
        sys.stderr.write(f"Lỗi / Error: {db}: không mở được cơ sở dữ liệu / cannot open the database ({exc})\n")
        raise typer.Exit(2) from None


def _summary(console: Console, reports: list[IngestReport]) -> None:
    table = Table(title="Kết quả nạp / Ingest summary", header_style="bold")
    table.add_column("Loại / Kind")
    table.add_column("Nguồn / Source", overflow="fold")
    for name in ("Mới / New", "Cập nhật / Updated", "Không đổi / Unchanged", "Từ chối / Rejected"):
        table.add_column(name, justify="right")
    table.add_column("Biên nhận / Receipt", no_wrap=True)
    for r in reports:
        table.add_row(
            r.kind,
            Path(r.source).name,
            f"{r.accepted:,}".replace(",", "."),
            f"{r.updated:,}".replace(",", "."),
            f"{r.unchanged:,}".replace(",", "."),
            f"[red]{r.rejected:,}[/]".replace(",", ".") if r.rejected else "0",
            r.receipt_id,
        )
    console.print(table)


def _problems(console: Console, reports: list[IngestReport]) -> None:
    shown = 0
    for r in reports:
        console.print(
            f"[red]{r.rejected} bản ghi bị từ chối / records rejected[/] ({r.source}); xem bảng quarantine / see the "
            f"quarantine table: SELECT * FROM quarantine WHERE receipt_id = '{r.receipt_id}'",
            soft_wrap=True,
        )
        for _, problems in r.problems:
            for p in problems:
                if shown < SHOWN_PROBLEMS:
                    console.print(f"  - {p.line()}", soft_wrap=True, markup=False)
                shown += 1
    if shown > SHOWN_PROBLEMS:
        console.print(f"  … (+{shown - SHOWN_PROBLEMS})", markup=False)


def _quality_table(console: Console, report: QualityReport) -> None:
    totals = ", ".join(f"{k}: {v:,}".replace(",", ".") for k, v in report.totals.items())
    console.print(f"Kho / Store — {totals}", soft_wrap=True)
    if report.ok:
        console.print("[green]Không phát hiện vấn đề / No findings[/]")
        return
    table = Table(title="Chất lượng dữ liệu / Data quality", header_style="bold", show_lines=True)
    table.add_column("Mã / Code", no_wrap=True)
    table.add_column("Vấn đề / Finding", overflow="fold")
    table.add_column("Số lượng / Count", justify="right")
    table.add_column("Ví dụ / Examples", overflow="fold")
    for f in report.findings:
        table.add_row(
            f.code, f"{f.title_vi}\n{f.title_en}", f"{f.count:,}".replace(",", "."), ", ".join(f.examples[:5])
        )
    console.print(table)
