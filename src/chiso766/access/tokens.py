"""Bearer tokens: ``c766_<token_id>_<secret>``, stored as a SHA-256 hash, scoped to a unit subtree and a scope.

A token is shown once, when it is created; the store keeps only ``sha256(token)`` (the secret has 256 bits of
randomness, so a fast hash is enough: there is nothing to brute-force). ``token_id`` is the public part, used to
list, audit and revoke a token.

Scopes:

- ``ingest``: write units, publications, dossiers, progress entries and petitions of the token unit's subtree.
- ``catalogue``: everything ``ingest`` allows, plus the national TTHC catalogue (``procedures``), which no single
  unit owns.

The unit ``*`` means every unit (a national token, e.g. for VPCP).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from chiso766.errors import InputError
from chiso766.store.db import Store

__all__ = [
    "ALL_UNITS",
    "SCOPES",
    "Token",
    "authenticate",
    "create_token",
    "hash_token",
    "list_tokens",
    "revoke_token",
]

SCOPES = ("ingest", "catalogue")
ALL_UNITS = "*"
PREFIX = "c766_"
_UNIT = re.compile(r"[A-Za-z0-9.]{1,40}")
_TOKEN = re.compile(r"c766_([0-9a-f]{12})_[A-Za-z0-9_-]{20,100}")


@dataclass(frozen=True, slots=True)
class Token:
    """A stored token (never its secret)."""

    token_id: str
    name: str | None
    unit_code: str
    scope: str
    created_at: datetime
    revoked_at: datetime | None

    @property
    def actor(self) -> str:
        """How the audit log names the holder: ``token:<token_id>``."""
        return f"token:{self.token_id}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "token_id": self.token_id,
            "name": self.name,
            "unit_code": self.unit_code,
            "scope": self.scope,
            "created_at": self.created_at.isoformat(),
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
        }


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def create_token(store: Store, unit_code: str, scope: str = "ingest", name: str | None = None) -> str:
    """Create a token for ``unit_code``'s subtree (``*`` = every unit) and return its plaintext, once.

    Raises :class:`InputError` for an unknown scope or a malformed unit code. The unit need not be loaded yet
    (tokens are often made before the first units.json).
    """
    unit = unit_code.strip()
    if unit != ALL_UNITS and not _UNIT.fullmatch(unit):
        raise InputError.single(
            "invalid_unit",
            f"Mã đơn vị '{unit_code}' không hợp lệ (chữ, số, dấu chấm; hoặc * cho mọi đơn vị)",
            f"Invalid unit code '{unit_code}' (letters, digits, dots; or * for every unit)",
            field="unit",
        )
    if scope not in SCOPES:
        listed = ", ".join(SCOPES)
        raise InputError.single(
            "invalid_scope",
            f"Phạm vi '{scope}' không hợp lệ (chấp nhận: {listed})",
            f"Unknown scope '{scope}' (accepted: {listed})",
            field="scope",
        )
    token_id = secrets.token_hex(6)
    token = f"{PREFIX}{token_id}_{secrets.token_urlsafe(32)}"
    store.connection.execute(
        "INSERT INTO access_tokens (token_id, token_hash, name, unit_code, scope, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [token_id, hash_token(token), name, unit, scope, _now()],
    )
    return token


def _token(row: tuple[Any, ...]) -> Token:
    return Token(row[0], row[1], row[2], row[3], row[4], row[5])


_COLUMNS = "token_id, name, unit_code, scope, created_at, revoked_at"


def authenticate(store: Store, token: str) -> Token | None:
    """The live (not revoked) token matching ``token``, else None. The caller holds the store lock."""
    if not _TOKEN.fullmatch(token):
        return None
    row = store.connection.execute(
        f"SELECT {_COLUMNS} FROM access_tokens WHERE token_hash = ? AND revoked_at IS NULL", [hash_token(token)]
    ).fetchone()
    return None if row is None else _token(tuple(row))


def list_tokens(store: Store) -> list[Token]:
    """Every token, oldest first (revoked ones included)."""
    rows = store.connection.execute(f"SELECT {_COLUMNS} FROM access_tokens ORDER BY created_at, token_id").fetchall()
    return [_token(tuple(r)) for r in rows]


def revoke_token(store: Store, token_id: str) -> bool:
    """Revoke a token by its id; False when no live token has that id."""
    row = store.connection.execute(
        "UPDATE access_tokens SET revoked_at = ? WHERE token_id = ? AND revoked_at IS NULL RETURNING token_id",
        [_now(), token_id],
    ).fetchone()
    return row is not None
