"""The audit log: one ``audit_log`` row per write (who, when, kind, counts, receipt id) and per refused attempt.

Rows never hold personal data: the actor is a token id or a login, ``detail`` is a short reason. Other features
log their dossier-level reads here too (``action`` = what was done).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import duckdb

__all__ = ["AuditEntry", "as_dict", "recent", "record"]


@dataclass(frozen=True, slots=True)
class AuditEntry:
    logged_at: datetime
    actor: str
    action: str
    kind: str | None = None
    unit_code: str | None = None
    receipt_id: str | None = None
    accepted: int | None = None
    updated: int | None = None
    unchanged: int | None = None
    rejected: int | None = None
    status: int | None = None
    remote: str | None = None
    detail: str | None = None


_COLUMNS = (
    "logged_at, actor, action, kind, unit_code, receipt_id, accepted, updated, unchanged, rejected, status, remote, "
    "detail"
)


def record(
    con: duckdb.DuckDBPyConnection,
    *,
    actor: str,
    action: str,
    kind: str | None = None,
    unit_code: str | None = None,
    receipt_id: str | None = None,
    counts: tuple[int, int, int, int] | None = None,
    status: int | None = None,
    remote: str | None = None,
    detail: str | None = None,
) -> None:
    """Append one row (``counts`` = accepted, updated, unchanged, rejected). The caller holds the store lock."""
    a, u, c, r = counts if counts is not None else (None, None, None, None)
    con.execute(
        f"INSERT INTO audit_log ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            datetime.now(UTC).replace(tzinfo=None),
            actor,
            action,
            kind,
            unit_code,
            receipt_id,
            a,
            u,
            c,
            r,
            status,
            remote,
            None if detail is None else detail[:500],
        ],
    )


def recent(con: duckdb.DuckDBPyConnection, limit: int = 100, actor: str | None = None) -> list[AuditEntry]:
    """The latest rows, newest first (optionally of one actor)."""
    where, params = ("WHERE actor = ?", [actor]) if actor is not None else ("", [])
    rows = con.execute(
        f"SELECT {_COLUMNS} FROM audit_log {where} ORDER BY logged_at DESC LIMIT ?", [*params, limit]
    ).fetchall()
    return [AuditEntry(*row) for row in rows]


def as_dict(entry: AuditEntry) -> dict[str, Any]:
    return {
        "logged_at": entry.logged_at.isoformat(),
        "actor": entry.actor,
        "action": entry.action,
        "kind": entry.kind,
        "unit_code": entry.unit_code,
        "receipt_id": entry.receipt_id,
        "accepted": entry.accepted,
        "updated": entry.updated,
        "unchanged": entry.unchanged,
        "rejected": entry.rejected,
        "status": entry.status,
        "remote": entry.remote,
        "detail": entry.detail,
    }
