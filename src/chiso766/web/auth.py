"""People's logins for dossier-level pages, scoped to a unit subtree, and the audit log of those reads.

- Accounts (``web_users``): username, the unit whose subtree the person may see, a stdlib ``hashlib.scrypt``
  hash (n=2^14, r=8, p=1, 16-byte salt). These are people's accounts, distinct from ingest tokens.
- Sessions: a cookie ``chiso766_session`` = base64url(JSON {u, unit, exp}) + "." + HMAC-SHA256 under
  ``AppSettings.session_secret``; valid 12 hours; no server-side state, so logout just clears the cookie.
- Scope: a session for unit U may read dossier-level data of U and every descendant of U, nothing else.
- Audit (``web_audit``): every dossier-level read (who, unit, indicator, period, path, record count, when).
Aggregate pages need no login. All SQL runs on the shared writer connection: callers hold ``board.lock``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import duckdb

from chiso766.engine.compute import UnitInfo
from chiso766.errors import Chiso766Error, InputError

COOKIE = "chiso766_session"
SESSION_HOURS = 12
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}
_MIN_PASSWORD = 8


@dataclass(frozen=True)
class Account:
    username: str
    unit_code: str


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        """
        CREATE TABLE IF NOT EXISTS web_users (
            username VARCHAR PRIMARY KEY, unit_code VARCHAR NOT NULL, password_hash VARCHAR NOT NULL,
            created_at TIMESTAMP NOT NULL
        )
        """
    )
    con.execute(
        """
        CREATE TABLE IF NOT EXISTS web_audit (
            read_at TIMESTAMP NOT NULL, username VARCHAR NOT NULL, scope_unit VARCHAR NOT NULL, unit_code VARCHAR,
            indicator_code VARCHAR, period_id VARCHAR, procedure_code VARCHAR, path VARCHAR, records INTEGER
        )
        """
    )


def hash_password(password: str) -> str:
    """``scrypt$n$r$p$salt$hash`` (hex) of ``password``."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, dklen=32, **_SCRYPT)
    return f"scrypt${_SCRYPT['n']}${_SCRYPT['r']}${_SCRYPT['p']}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    got = hashlib.scrypt(password.encode("utf-8"), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), dklen=32)
    return hmac.compare_digest(got.hex(), digest)


def create_user(
    con: duckdb.DuckDBPyConnection, username: str, unit_code: str, password: str, *, replace: bool = False
) -> Account:
    """Store an account; the unit must exist. Raises :class:`InputError` on a bad name, unit or password."""
    ensure_tables(con)
    name = username.strip()
    if not name or len(name) > 64 or any(ch.isspace() for ch in name):
        raise InputError.single(
            "invalid_username",
            "Tên đăng nhập không hợp lệ (1–64 ký tự, không có khoảng trắng)",
            "Invalid username (1–64 characters, no spaces)",
            field="username",
            where=username,
        )
    if len(password) < _MIN_PASSWORD:
        raise InputError.single(
            "weak_password",
            f"Mật khẩu phải có ít nhất {_MIN_PASSWORD} ký tự",
            f"The password needs at least {_MIN_PASSWORD} characters",
            field="password",
        )
    found = con.execute("SELECT COUNT(*) FROM units WHERE unit_code = ?", [unit_code]).fetchone()
    if not found or found[0] == 0:
        raise InputError.single(
            "unknown_unit", f"Không có đơn vị '{unit_code}'", f"No unit '{unit_code}'", field="unit", where=unit_code
        )
    exists = con.execute("SELECT COUNT(*) FROM web_users WHERE username = ?", [name]).fetchone()
    if exists and exists[0] and not replace:
        raise InputError.single(
            "user_exists",
            f"Tài khoản '{name}' đã tồn tại",
            f"Account '{name}' already exists",
            field="username",
            where=name,
        )
    con.execute("DELETE FROM web_users WHERE username = ?", [name])
    con.execute(
        "INSERT INTO web_users VALUES (?, ?, ?, ?)",
        [name, unit_code, hash_password(password), datetime.now(UTC).replace(tzinfo=None)],
    )
    return Account(name, unit_code)


def authenticate(con: duckdb.DuckDBPyConnection, username: str, password: str) -> Account | None:
    """The account when ``password`` matches, else None (same cost whether or not the user exists)."""
    ensure_tables(con)
    row = con.execute("SELECT unit_code, password_hash FROM web_users WHERE username = ?", [username]).fetchone()
    if row is None:
        verify_password(password, hash_password("timing-equaliser"))
        return None
    return Account(username, str(row[0])) if verify_password(password, str(row[1])) else None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign_session(secret: str, account: Account, now: datetime) -> str:
    expires = int((now + timedelta(hours=SESSION_HOURS)).timestamp())
    payload = _b64(json.dumps({"u": account.username, "unit": account.unit_code, "exp": expires}).encode("utf-8"))
    mac = hmac.new(secret.encode("utf-8"), payload.encode("ascii"), hashlib.sha256).hexdigest()
    return f"{payload}.{mac}"


def read_session(secret: str, cookie: str | None, now: datetime) -> Account | None:
    """The account of a valid, unexpired, correctly signed cookie; None otherwise."""
    if not cookie or "." not in cookie:
        return None
    payload, mac = cookie.rsplit(".", 1)
    want = hmac.new(secret.encode("utf-8"), payload.encode("ascii", "replace"), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(want, mac):
        return None
    try:
        doc = json.loads(_unb64(payload))
        if int(doc["exp"]) < now.timestamp():
            return None
        return Account(str(doc["u"]), str(doc["unit"]))
    except (ValueError, KeyError, TypeError):
        return None


def in_subtree(units: Mapping[str, UnitInfo], ancestor: str, code: str) -> bool:
    """Whether ``code`` is ``ancestor`` or one of its descendants."""
    seen: set[str] = set()
    current: str | None = code
    while current is not None and current not in seen:
        if current == ancestor:
            return True
        seen.add(current)
        info = units.get(current)
        current = info.parent_code if info is not None else None
    return False


def require_scope(account: Account | None, units: Mapping[str, UnitInfo], unit_code: str) -> Account:
    """The account when it may read ``unit_code``'s dossiers; else 401 (no login) or 403 (outside scope)."""
    if account is None:
        raise Chiso766Error(
            "unauthorized",
            "Cần đăng nhập để xem danh sách hồ sơ",
            "Log in to see dossier-level data",
        )
    if not in_subtree(units, account.unit_code, unit_code):
        raise Chiso766Error(
            "forbidden",
            f"Tài khoản {account.username} chỉ được xem đơn vị {account.unit_code} và đơn vị trực thuộc",
            f"Account {account.username} may only see unit {account.unit_code} and the units below it",
        )
    return account


def audit(
    con: duckdb.DuckDBPyConnection,
    account: Account,
    *,
    unit_code: str,
    indicator: str | None,
    period_id: str,
    procedure: str | None,
    path: str,
    records: int,
) -> None:
    """Append one dossier-level read to ``web_audit``."""
    ensure_tables(con)
    con.execute(
        "INSERT INTO web_audit VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            datetime.now(UTC).replace(tzinfo=None),
            account.username,
            account.unit_code,
            unit_code,
            indicator,
            period_id,
            procedure,
            path,
            records,
        ],
    )
