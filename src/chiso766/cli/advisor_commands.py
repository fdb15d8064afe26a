"""Advisor commands: ``advise``, ``warn``, ``forecast``, ``whatif``, ``brief``, ``notice``, ``alerts``.

Each opens the DuckDB file, builds a :class:`~chiso766.service.scoreboard.Scoreboard` whose clock is ``--as-of``
(default: now) and prints a Rich summary, or the JSON document with ``--json`` (same shape as the API).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from chiso766.advisor import alerts
from chiso766.advisor.advice import advise, parse_changes, whatif
from chiso766.advisor.documents import brief_docx, notice_docx
from chiso766.advisor.forecast import forecast
from chiso766.advisor.warnings import early_warnings
from chiso766.cli.engine_commands import _open, parse_as_of
from chiso766.domain.periods import parse_period
from chiso766.methodology import DEFAULT_VERSION, load_methodology
from chiso766.service.scoreboard import Scoreboard, system_clock
from chiso766.store.db import Store

Db = Annotated[Path, typer.Option("--db", help="Tệp DuckDB / DuckDB file")]
Unit = Annotated[str, typer.Option("--unit", help="Mã đơn vị / unit code")]
PeriodOpt = Annotated[str | None, typer.Option("--period", help="Kỳ, vd 2026Q3 / period id")]
AsOf = Annotated[str | None, typer.Option("--as-of", help="Thời điểm 'hiện tại' / the instant judged at")]
Json = Annotated[bool, typer.Option("--json", help="In JSON / print JSON")]
Method = Annotated[str, typer.Option("--methodology", help="Phiên bản phương pháp / methodology version")]


def _board(store: Store, methodology: str, as_of: str | None) -> Scoreboard:
    instant = parse_as_of(as_of)
    clock = (lambda: instant) if instant is not None else system_clock
    return Scoreboard(store, load_methodology(methodology), clock=clock)


def _console() -> Console:
    return Console(highlight=False, width=None if sys.stdout.isatty() else 130)


def _dump(doc: Any) -> None:
    sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=2, default=str) + "\n")


def register(app: typer.Typer) -> None:
    """Add the advisor commands to ``app``."""

    @app.command("advise")
    def advise_command(
        db: Db,
        unit: Unit,
        period: PeriodOpt = None,
        as_of: AsOf = None,
        top: int = 5,
        as_json: Json = False,
        methodology: Method = DEFAULT_VERSION,
    ) -> None:
        """Việc cần làm trước, số lượng chính xác / what to fix first, exact quantities."""
        with _open(db) as store:
            board = _board(store, methodology, as_of)
            doc = advise(board, unit, parse_period(period) if period else board.default_period(), top=top)
        if as_json:
            _dump(doc)
            return
        c = _console()
        c.print(
            f"[bold]{doc['unit_name'] or unit}[/] · {doc['period_label']} · tổng điểm {doc['total']} · "
            f"xếp hạng {doc['rank']}/{doc['cohort_size']}"
        )
        for i, step in enumerate(doc["plan"], start=1):
            c.print(f"{i}. {step['text_vi']}")
        c.print(f"Nếu thực hiện đủ: {doc['plan_total']} điểm, xếp hạng {doc['plan_rank']}/{doc['cohort_size']}")

    @app.command("warn")
    def warn_command(
        db: Db,
        unit: Unit,
        period: PeriodOpt = None,
        as_of: AsOf = None,
        days: int = 3,
        as_json: Json = False,
        methodology: Method = DEFAULT_VERSION,
    ) -> None:
        """Cảnh báo sớm / early warnings."""
        with _open(db) as store:
            board = _board(store, methodology, as_of)
            doc = early_warnings(board, unit, parse_period(period) if period else None, days=days)
        if as_json:
            _dump(doc)
            return
        c = _console()
        c.print(doc["due_soon"]["text_vi"])
        c.print(
            f"Hồ sơ đang mở đã quá hạn: {doc['overdue_open']['count']}; "
            f"PAKN sắp hết hạn: {doc['petitions_near_limit']['count']}"
        )
        for b in doc["band_crossings"]:
            c.print(f"- {b['text_vi']}")

    @app.command("forecast")
    def forecast_command(
        db: Db,
        unit: Unit,
        period: PeriodOpt = None,
        as_of: AsOf = None,
        window: int = 10,
        as_json: Json = False,
        methodology: Method = DEFAULT_VERSION,
    ) -> None:
        """Dự báo cuối kỳ / forecast at period end."""
        with _open(db) as store:
            board = _board(store, methodology, as_of)
            doc = forecast(board, unit, parse_period(period) if period else board.default_period(), window=window)
            out = doc.to_json()
        if as_json:
            _dump(out)
            return
        _console().print(
            f"Dự báo tổng điểm {out['forecast_total']} (khoảng {out['low_total']}–{out['high_total']}), "
            f"hiện {out['total']}, còn {out['remaining_working_days']} ngày làm việc"
        )

    @app.command("whatif")
    def whatif_command(
        db: Db,
        unit: Unit,
        period: PeriodOpt = None,
        as_of: AsOf = None,
        change: Annotated[
            list[str] | None, typer.Option("--change", help="CODE:+n[:+d], vd ONLINE_DOSSIERS:+50:+50")
        ] = None,
        resolve_overdue: int = 0,
        resolve: Annotated[list[str] | None, typer.Option("--resolve", help="Mã hồ sơ / dossier id")] = None,
        as_json: Json = False,
        methodology: Method = DEFAULT_VERSION,
    ) -> None:
        """Giả định: đổi bộ đếm hoặc xử lý đúng hạn hồ sơ / what-if."""
        changes = []
        for text in change or []:
            parts = text.split(":")
            try:
                changes.append(
                    {
                        "indicator": parts[0],
                        "numerator": int(parts[1]),
                        "denominator": int(parts[2]) if len(parts) > 2 else 0,
                    }
                )
            except (IndexError, ValueError):
                raise typer.BadParameter(f"--change {text!r}: CODE:+n[:+d]") from None
        with _open(db) as store:
            board = _board(store, methodology, as_of)
            doc = whatif(
                board,
                unit,
                parse_period(period) if period else board.default_period(),
                changes=parse_changes(changes),
                resolve=resolve or [],
                resolve_overdue=resolve_overdue,
            )
        if as_json:
            _dump({k: v for k, v in doc.items() if k not in ("before", "after")})
            return
        _console().print(doc["summary_vi"])

    @app.command("brief")
    def brief_command(
        db: Db,
        unit: Unit,
        out: Annotated[Path, typer.Option("--out", help="Tệp .docx")],
        period: PeriodOpt = None,
        as_of: AsOf = None,
        methodology: Method = DEFAULT_VERSION,
    ) -> None:
        """Bản tin lãnh đạo một trang (.docx) / one-page leader brief."""
        with _open(db) as store:
            board = _board(store, methodology, as_of)
            out.write_bytes(brief_docx(board, unit, parse_period(period) if period else board.default_period()))
        _console().print(f"Đã ghi {out}")

    @app.command("notice")
    def notice_command(
        db: Db,
        unit: Unit,
        period: Annotated[str, typer.Option("--period", help="Tháng, vd 2026-03")],
        out: Annotated[Path, typer.Option("--out", help="Tệp .docx")],
        as_of: AsOf = None,
        methodology: Method = DEFAULT_VERSION,
    ) -> None:
        """Dự thảo thông báo kết quả tháng (.docx) / draft monthly notice."""
        with _open(db) as store:
            board = _board(store, methodology, as_of)
            out.write_bytes(notice_docx(board, unit, parse_period(period)))
        _console().print(f"Đã ghi {out}")

    @app.command("alerts")
    def alerts_command(
        db: Db,
        action: Annotated[str, typer.Argument(help="list | add | delete | evaluate | digest | events")] = "list",
        rule: Annotated[str | None, typer.Option("--rule", help="JSON quy tắc (add) hoặc mã (delete)")] = None,
        smtp_host: str = "127.0.0.1",
        smtp_port: int = 0,
        sender: str = "chiso766@localhost",
        as_of: AsOf = None,
        methodology: Method = DEFAULT_VERSION,
    ) -> None:
        """Quản lý và chạy cảnh báo / manage and run alert rules."""
        smtp = alerts.SmtpSettings(smtp_host, smtp_port, sender) if smtp_port else None
        with _open(db) as store:
            board = _board(store, methodology, as_of)
            if action == "add":
                doc: Any = alerts.add_rule(board, json.loads(rule or "{}"))
            elif action == "delete":
                alerts.delete_rule(board, rule or "")
                doc = {"deleted": rule}
            elif action == "evaluate":
                board.start()
                doc = alerts.evaluate(board, smtp=smtp)
            elif action == "digest":
                board.start()
                doc = alerts.send_digests(board, smtp=smtp)
            elif action == "events":
                doc = alerts.list_events(board)
            else:
                doc = alerts.list_rules(board)
        _dump(doc)
