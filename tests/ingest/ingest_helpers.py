"""Helpers of the ingest tests: the sample records folder (tests/data/records), table snapshots."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from chiso766.store.db import Store

RECORDS = Path(__file__).resolve().parent.parent / "data" / "records"

# Every table that holds ingested data (the receipt log, ``receipts`` and ``quarantine``, grows with each call).
DATA_TABLES = (
    "units",
    "unit_closure",
    "procedures",
    "procedure_times",
    "procedure_units",
    "legal_bases",
    "services",
    "publications",
    "publication_items",
    "dossiers",
    "dossier_events",
    "dossier_supplements",
    "dossier_databases",
    "petitions",
    "petition_events",
    "changes",
)


def load(name: str) -> Any:
    """A fixture file of tests/data/records as JSON (``procedures.json`` is the LayThuTuc ``{result: [...]}``)."""
    doc = json.loads((RECORDS / name).read_text(encoding="utf-8"))
    return doc["result"] if isinstance(doc, dict) else doc


def snapshot(store: Store, tables: tuple[str, ...] = DATA_TABLES) -> dict[str, list[tuple[Any, ...]]]:
    """Sorted contents of ``tables`` (``ingested_at`` / ``recorded_at`` stamps left out)."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    for table in tables:
        cols = [
            c
            for (c,) in store.connection.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position",
                [table],
            ).fetchall()
            if c not in ("ingested_at", "recorded_at")
        ]
        rows = store.connection.execute(f"SELECT {', '.join(cols)} FROM {table}").fetchall()
        out[table] = sorted((tuple(r) for r in rows), key=repr)
    return out


def rows(store: Store, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in store.connection.execute(sql, list(params)).fetchall()]
