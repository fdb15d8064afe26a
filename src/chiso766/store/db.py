"""Opening the DuckDB store: one writer connection, schema created on open, read cursors per request."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from chiso766.store.schema import create_all

log = logging.getLogger(__name__)

CHECKPOINT_THRESHOLD = "256MB"


class Store:
    """One DuckDB database (a file, or ``:memory:`` for tests) with the chiso766 schema."""

    def __init__(self, path: str | Path = ":memory:", *, read_only: bool = False) -> None:
        self.path = str(path)
        self.read_only = read_only
        self.connection = duckdb.connect(self.path, read_only=read_only)
        self.connection.execute("SET TimeZone = 'UTC'")
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
