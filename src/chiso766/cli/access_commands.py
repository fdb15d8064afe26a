"""``chiso766 token create|list|revoke`` (bearer tokens for the ingest API) and ``chiso766 audit`` (the write log).

``token create`` prints the plaintext token once on stdout (nothing else there, so it can be captured by a
script); the store keeps only its hash. Exit status 2 for bad usage (unknown scope, malformed unit, missing file).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import duckdb
import typer
from rich.console import Console
from rich.table import Table

from chiso766.access import audit
from chiso766.access.tokens import SCOPES, create_token, list_tokens, revoke_token
from chiso766.errors import Chiso766Error
from chiso766.store.db import Store

__all__ = ["register"]

DbOption = Annotated[Path, typer.Option("--db", help="Tệp DuckDB / DuckDB file")]


def _open(db: Path, read_only: bool = False) -> Store:
    if read_only and not db.is_file():
        sys.stderr.write(f"Lỗi / Error: {db}: không có tệp cơ sở dữ liệu / no such database file\n")
        raise typer.Exit(2)
    try:
        return Store(db, read_only=read_only)
    except duckdb.Error as exc:
        sys.stderr.write(f"Lỗi / Error: {db}: không mở được cơ sở dữ liệu / cannot open the database ({exc})\n")
        raise typer.Exit(2) from None


def _console() -> Console:
    return Console(file=sys.stdout, highlight=False, width=None if sys.stdout.isatty() else 130)


def register(app: typer.Typer) -> None:
    """Add ``token`` (create, list, revoke) and ``audit`` to ``app``."""
    token_app = typer.Typer(help="Token ghi dữ liệu (API nạp) / write tokens for the ingest API.", no_args_is_help=True)
    app.add_typer(token_app, name="token")

    @token_app.command("create")
    def create(
        db: DbOption,
        unit: Annotated[str, typer.Option("--unit", help="Mã đơn vị gốc của phạm vi, vd. H44; * = mọi đơn vị")],
        scope: Annotated[str, typer.Option("--scope", help=" | ".join(SCOPES))] = "ingest",
        name: Annotated[str | None, typer.Option("--name", help="Tên gợi nhớ / label")] = None,
    ) -> None:
        """Tạo token (in ra một lần duy nhất) / create a token (printed once)."""
        with _open(db) as store:
            try:
                token = create_token(store, unit, scope, name)
            except Chiso766Error as exc:
                sys.stderr.write(f"Lỗi / Error: {exc.line()}\n")
                raise typer.Exit(2) from None
        sys.stdout.write(token + "\n")
        sys.stderr.write(
            "Lưu token này ngay: kho chỉ giữ mã băm / keep this token now: the store keeps only its hash\n"
        )

    @token_app.command("list")
    def list_command(
        db: DbOption, as_json: Annotated[bool, typer.Option("--json", help="In JSON / print JSON")] = False
    ) -> None:
        """Liệt kê token (không có bí mật) / list tokens (no secrets)."""
        with _open(db, read_only=True) as store:
            tokens = list_tokens(store)
        if as_json:
            sys.stdout.write(json.dumps([t.as_dict() for t in tokens], ensure_ascii=False, indent=2) + "\n")
            return
        table = Table(title="Token / Tokens", header_style="bold")
        for col in (
            "ID",
            "Tên / Name",
            "Đơn vị / Unit",
            "Phạm vi / Scope",
            "Tạo lúc / Created (UTC)",
            "Thu hồi / Revoked",
        ):
            table.add_column(col)
        for t in tokens:
            table.add_row(
                t.token_id,
                t.name or "—",
                t.unit_code,
                t.scope,
                t.created_at.strftime("%d/%m/%Y %H:%M"),
                t.revoked_at.strftime("%d/%m/%Y %H:%M") if t.revoked_at else "—",
            )
        _console().print(table)

    @token_app.command("revoke")
    def revoke(db: DbOption, token_id: Annotated[str, typer.Argument(help="ID của token / token id")]) -> None:
        """Thu hồi token / revoke a token."""
        with _open(db) as store:
            done = revoke_token(store, token_id)
        if not done:
            sys.stderr.write(f"Lỗi / Error: không có token đang hiệu lực '{token_id}' / no live token '{token_id}'\n")
            raise typer.Exit(2)
        sys.stdout.write(f"Đã thu hồi / revoked: {token_id}\n")

    @app.command("audit")
    def audit_command(
        db: DbOption,
        limit: Annotated[int, typer.Option("--limit", help="Số dòng / rows")] = 50,
        as_json: Annotated[bool, typer.Option("--json", help="In JSON / print JSON")] = False,
    ) -> None:
        """Nhật ký ghi dữ liệu (mới nhất trước) / the write audit log, newest first."""
        with _open(db, read_only=True) as store:
            entries = audit.recent(store.connection, limit)
        if as_json:
            sys.stdout.write(json.dumps([audit.as_dict(e) for e in entries], ensure_ascii=False, indent=2) + "\n")
            return
        table = Table(title="Nhật ký / Audit log", header_style="bold")
        for col in ("Lúc / At (UTC)", "Ai / Who", "Việc / Action", "Loại / Kind", "Mới", "Cập nhật", "Không đổi",
                    "Từ chối", "HTTP", "Biên nhận / Receipt"):  # fmt: skip
            table.add_column(col)
        for e in entries:
            counts = [
                ("—" if v is None else f"{v:,}".replace(",", "."))
                for v in (e.accepted, e.updated, e.unchanged, e.rejected)
            ]
            table.add_row(
                e.logged_at.strftime("%d/%m/%Y %H:%M:%S"),
                e.actor,
                e.action,
                e.kind or "—",
                *counts,
                "—" if e.status is None else str(e.status),
                e.receipt_id or "—",
            )
        _console().print(table)
