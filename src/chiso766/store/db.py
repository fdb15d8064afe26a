"""Opening the DuckDB store: one writer connection, schema created on open, read cursors per request."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from chiso766.errors import InputError
from chiso766.store.schema import create_all

log = logging.getLogger(__name__)

CHECKPOINT_THRESHOLD = "256MB"
MEMORY_LIMIT_ENV = "CHISO766_MEMORY_LIMIT"
DEFAULT_MEMORY_LIMIT = "4GB"
"""DuckDB's own memory (buffer pool: tables, hash tables, sorts) is capped here; beyond it DuckDB spills to its
temporary directory (``<db>.tmp`` next to a file store). DESIGN: peak memory ≤ 6 GB at 50 M dossiers, and the
Python process itself needs a few hundred MB besides (``bench/README.md``, memory)."""
_SIZE = re.compile(r"\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KIB|MIB|GIB|TIB)", re.IGNORECASE)


def memory_limit(value: str | None = None) -> str:
    """The DuckDB memory limit to use: ``value``, else ``$CHISO766_MEMORY_LIMIT``, else :data:`DEFAULT_MEMORY_LIMIT`.

    Raises :class:`InputError` naming the setting when it is not a size such as ``4GB`` or ``512MB``."""
    chosen = value if value is not None else os.environ.get(MEMORY_LIMIT_ENV, DEFAULT_MEMORY_LIMIT)
    text = chosen.strip()
    if not _SIZE.fullmatch(text):
        raise InputError.single(
            "invalid_memory_limit",
            f"Giới hạn bộ nhớ không hợp lệ: {chosen!r} (ví dụ hợp lệ: 4GB, 512MB)",
            f"Invalid memory limit: {chosen!r} (valid examples: 4GB, 512MB)",
            where=MEMORY_LIMIT_ENV if value is None else "memory_limit",
        )
    return text


_memory_limit = memory_limit  # the Store argument shadows the function's name
_UNITS = {
    "B": 1,
    "KB": 10**3,
    "MB": 10**6,
    "GB": 10**9,
    "TB": 10**12,
    "KIB": 2**10,
    "MIB": 2**20,
    "GIB": 2**30,
    "TIB": 2**40,
}


def memory_limit_bytes(limit: str) -> int:
    """Bytes of a limit accepted by :func:`memory_limit` (``4GB`` = 4·10⁹, ``2GiB`` = 2·2³⁰)."""
    text = memory_limit(limit).upper().replace(" ", "")
    number = text.rstrip("KMGTIB")
    return int(float(number) * _UNITS[text[len(number) :]])


def is_out_of_memory(exc: BaseException) -> bool:
    """Whether ``exc`` is DuckDB stopping at its memory limit: raised as such, or at COMMIT as a transaction error."""
    if isinstance(exc, duckdb.OutOfMemoryException):
        return True
    text = str(exc)
    return isinstance(exc, duckdb.TransactionException) and ("could not allocate" in text or "Out of Memory" in text)


class Store:
    """One DuckDB database (a file, or ``:memory:`` for tests) with the chiso766 schema.

    ``memory_limit`` caps DuckDB's memory (see :func:`memory_limit`; default from the environment)."""

    def __init__(
        self, path: str | Path = ":memory:", *, read_only: bool = False, memory_limit: str | None = None
    ) -> None:
        self.path = str(path)
        self.read_only = read_only
        self.memory_limit = _memory_limit(memory_limit)
        self.connection = duckdb.connect(self.path, read_only=read_only)
        self.connection.execute("SET TimeZone = 'UTC'")
        self.connection.execute(f"SET memory_limit = '{self.memory_limit}'")
        if not read_only:
            # fewer automatic checkpoints under a stream of ingest batches (each commit is durable in the WAL
            # already; a checkpoint rewrites the tables' last row groups, so a larger threshold means less work)
            self.connection.execute(f"SET checkpoint_threshold = '{CHECKPOINT_THRESHOLD}'")
            create_all(self.connection)
        log.debug("store opened: %s", self.path)

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A read cursor sharing the database (one per request or thread)."""
        return self.connection.cursor()

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """BEGIN … COMMIT on the writer connection; ROLLBACK on error."""
        con = self.connection
        con.execute("BEGIN TRANSACTION")
        try:
            yield con
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
