"""People's accounts for the dashboard's dossier-level pages: ``chiso766 user create``.

The password is read from standard input when it is not a terminal (``echo … | chiso766 user create …``),
otherwise prompted twice without echo. It is stored as a ``hashlib.scrypt`` hash (see
:mod:`chiso766.web.auth`); the account may read its unit and every unit below it.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from chiso766.errors import InputError
from chiso766.store.db import Store
from chiso766.web import auth

err = Console(stderr=True, highlight=False)
out = Console(highlight=False)


def _read_password() -> str:
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = typer.prompt("Mật khẩu / password", hide_input=True)
    second = typer.prompt("Nhập lại / repeat", hide_input=True)
    if first != second:
        raise InputError.single(
            "password_mismatch", "Hai lần nhập mật khẩu khác nhau", "The two passwords differ", field="password"
        )
    return str(first)


def register(app: typer.Typer) -> None:
    """Add ``user create`` to ``app``."""
    user_app = typer.Typer(help="Tài khoản người dùng trang web / dashboard accounts.", no_args_is_help=True)
    app.add_typer(user_app, name="user")

    @user_app.command("create")
    def create(
        db: Annotated[Path, typer.Option("--db", help="Tệp DuckDB / DuckDB file")],
        unit: Annotated[str, typer.Option("--unit", help="Mã đơn vị (phạm vi xem) / unit code (scope)")],
        username: Annotated[str, typer.Option("--username", help="Tên đăng nhập / username")],
        replace: Annotated[bool, typer.Option("--replace", help="Ghi đè tài khoản đã có / replace")] = False,
    ) -> None:
        """Tạo tài khoản xem hồ sơ của một đơn vị và các đơn vị trực thuộc / create an account scoped to a unit."""
        try:
            password = _read_password()
            with Store(db) as store:
                account = auth.create_user(store.connection, username, unit, password, replace=replace)
        except InputError as exc:
            err.print(exc.line(), markup=False)
            raise typer.Exit(2) from None
        out.print(
            f"Đã tạo tài khoản {account.username} (đơn vị {account.unit_code}) / "
            f"account {account.username} created (unit {account.unit_code})",
            markup=False,
        )
