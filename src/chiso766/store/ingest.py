"""Entry points of ingestion — files, folders of record files, HTTP bodies — and the native path's orchestration.

A JSON Lines / JSON-list file, a flat file (CSV/TSV, XLSX, Parquet) or an HTTP body of dossiers or progress
entries goes through :mod:`chiso766.store.native` (DuckDB reads and certifies, Python judges the rest, the
upsert of :mod:`chiso766.store.bulk`); everything else through :func:`chiso766.store.load.ingest_records`, the
per-record reference. Both give the same stored rows, quarantine and counts.
"""

from __future__ import annotations

import json
import logging
import tempfile
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from chiso766.records import kind_spec
from chiso766.store.bulk import _TEMP as BULK_TEMP_TABLES
from chiso766.store.bulk import BULK_KINDS, BulkChunk
from chiso766.store.db import Store
from chiso766.store.files import FLAT_SUFFIXES
from chiso766.store.jsonbody import record_key
from chiso766.store.load import (
    BATCH_SIZE,
    IngestReport,
    ProgressCallback,
    RecordGuard,
    RejectedRecord,
    UnreadableRecord,
    _Loader,
    _now,
    _report_progress,
    bulk_enabled,
    find_record_files,
    ingest_records,
    read_records,
    relaxed_gc,
)
from chiso766.store.native import (
    NATIVE_KINDS,
    FileRecords,
    front_sql,
    native_enabled,
    native_format,
    read_native,
    read_source,
)

log = logging.getLogger(__name__)

__all__ = [
    "NATIVE_CHUNK",
    "StagedBody",
    "drop_staged",
    "ingest_body",
    "ingest_file",
    "ingest_paths",
    "stage_body",
    "stageable",
]

NATIVE_CHUNK = 250_000  # records per transaction of the native file path (a whole number of batches)


def ingest_file(
    store: Store,
    kind: str,
    path: str | Path,
    *,
    source: str | None = None,
    batch_size: int = BATCH_SIZE,
    progress: ProgressCallback | None = None,
    bulk: bool | None = None,
    native: bool | None = None,
) -> IngestReport:
    """Ingest one file of ``kind`` (one report and receipt). JSON Lines and JSON-list files of dossiers and
    progress entries are read by DuckDB itself (:mod:`chiso766.store.native`; ``native`` default on, off with
    ``CHISO766_INGEST_NATIVE=0``) with the same results as the per-record path, which takes every other file
    and any file DuckDB cannot read with the schema. Raises :class:`InputError` when the file cannot be opened."""
    p = Path(path)
    src = source if source is not None else str(p)
    use_native = native_enabled() if native is None else native
    if use_native and kind in NATIVE_KINDS:
        fmt = native_format(p)
        if fmt is not None:
            report = _ingest_native(store, kind, p, fmt, src, batch_size, progress)
        elif p.suffix.lower() in FLAT_SUFFIXES:
            report = _ingest_flat_native(store, kind, p, src, batch_size, progress)
        else:
            report = None
        if report is not None:
            return report
    use_bulk = bulk_enabled() if bulk is None else bulk
    return ingest_records(
        store,
        kind,
        read_records(p, kind, as_text=use_bulk and kind in BULK_KINDS),
        src,
        batch_size=batch_size,
        progress=progress,
        bulk=use_bulk,
    )


@dataclass(frozen=True, slots=True)
class StagedBody:
    """An HTTP body of ``kind`` read by DuckDB and certified (:func:`stage_body`): temporary tables of the writer
    connection, waiting for :func:`ingest_body`."""

    kind: str
    keys: dict[int, str]  # record number → MaHoSo of each certified record


def stageable(kind: str, body: bytes, *, native: bool | None = None) -> bool:
    """Whether :func:`stage_body` would read ``body`` (a JSON list of dossiers or progress entries, native path
    on)."""
    use_native = native_enabled() if native is None else native
    return use_native and kind in NATIVE_KINDS and body.lstrip()[:1] == b"["


def stage_body(store: Store, kind: str, body: bytes, *, native: bool | None = None) -> StagedBody | None:
    """Read and certify a JSON-list ``body`` of dossiers or progress entries in DuckDB (no stored data changes), so
    that the API can do it while Python decodes the same body; None when the native path does not apply."""
    if not stageable(kind, body, native=native):
        return None
    con = store.connection
    with tempfile.NamedTemporaryFile(prefix="chiso766-body-", suffix=".json") as f:
        f.write(body)
        f.flush()
        try:  # read and certify in one pass (no _n_in table)
            for sql in front_sql(kind, 0, 0, source=read_source(kind, Path(f.name), "array")):
                con.execute(sql)
        except (duckdb.Error, UnicodeDecodeError) as exc:  # DuckDB's message may quote broken UTF-8
            log.info("native read of an HTTP body declined (%s): per-record path", str(exc).splitlines()[0][:200])
            drop_staged(store)
            return None
    certified = "_b_main" if kind == "dossiers" else "_b_ev"
    keys = con.execute(f"SELECT DISTINCT no, dossier_id FROM {certified}").fetchall()
    return StagedBody(kind, {int(no): key for no, key in keys})


def drop_staged(store: Store) -> None:
    """Forget a staged body (its temporary tables)."""
    for table in ("_n_in", *BULK_TEMP_TABLES):
        store.connection.execute(f'DROP TABLE IF EXISTS "{table}"')


_STAGE = object()


def ingest_body(
    store: Store,
    kind: str,
    body: bytes,
    records: list[Any] | Callable[[], list[Any]],
    source: str,
    *,
    keys: Sequence[str | None] | None = None,
    guard: RecordGuard | None = None,
    native: bool | None = None,
    staged: Any = _STAGE,
) -> IngestReport:
    """One HTTP batch in one transaction: ``records`` as Python decoded them from ``body`` (a JSON list, strictly
    valid: the API refuses NaN, repeated keys and broken JSON before this). Dossiers and progress entries are read
    from the same bytes by DuckDB (:mod:`chiso766.store.native`; ``staged`` by :func:`stage_body` beforehand, else
    here), the records SQL does not certify are judged from ``records``; every other case takes
    :func:`ingest_records`. Same results either way.

    ``records`` may be a function decoding them on demand; ``keys`` then gives each record's ``MaHoSo`` as the
    decoder saw it (None for a record that is not an object or whose ``MaHoSo`` is not a string), and no record
    may be a :class:`RejectedRecord`. They are decoded only if some record needs Python: not certified by SQL,
    refused by the guard, or taking the per-record path."""
    if staged is _STAGE:
        staged = stage_body(store, kind, body, native=native)
    if callable(records) and keys is not None:
        values = _LazyRecords(records, len(keys))
        plain = True
    else:
        decoded = records() if callable(records) else records
        keys = [record_key(r) for r in decoded]
        values = _LazyRecords.of(decoded)
        plain = not any(isinstance(r, RejectedRecord | UnreadableRecord) for r in decoded)
    if isinstance(staged, StagedBody) and plain and staged.kind == kind and _aligned(staged, keys):
        report = _ingest_native(
            store, kind, None, "array", source, max(len(values), 1), None, guard=guard, values=values,
            staged=len(values),
        )  # fmt: skip
        assert report is not None
        return report
    drop_staged(store)
    everything = values.all()
    return ingest_records(store, kind, everything, source, batch_size=max(len(everything), 1), guard=guard)


def _aligned(staged: StagedBody, keys: Sequence[str | None]) -> bool:
    """Whether DuckDB numbered the body's records as Python did: each certified record's ``MaHoSo`` is the one of
    the Python record at that position (a cheap guard against any reading difference)."""
    n = len(keys)
    return all(1 <= no <= n and keys[no - 1] == key for no, key in staged.keys.items())


class _LazyRecords:
    """The records of a body, numbered from 1, decoded on first use (for :meth:`BulkChunk.flush_native`)."""

    def __init__(self, decode: Callable[[], list[Any]], n: int) -> None:
        self._decode = decode
        self._values: list[Any] | None = None
        self._n = n

    @classmethod
    def of(cls, values: list[Any]) -> _LazyRecords:
        """Records decoded already."""
        lazy = cls(lambda: values, len(values))
        lazy._values = values
        return lazy

    def __len__(self) -> int:
        return self._n

    def all(self) -> list[Any]:
        if self._values is None:
            self._values = self._decode()
            assert len(self._values) == self._n, "the body decoded to another number of records"
        return self._values

    def prefetch(self, nos: Iterable[int]) -> None:
        if any(True for _ in nos):
            self.all()

    def __getitem__(self, no: int) -> Any:
        return self.all()[no - 1]


def _ingest_flat_native(
    store: Store, kind: str, path: Path, source: str, batch_size: int, progress: ProgressCallback | None
) -> IngestReport | None:
    """A flat file (CSV/TSV, XLSX, Parquet) on the native path: its records, exactly as the flat readers give them,
    are written once as JSON Lines (a JSON round trip keeps them equal) and read by DuckDB. None (nothing stored)
    when a record cannot make that round trip (an unreadable row, NaN, a lone surrogate): the caller then uses the
    per-record path."""
    with tempfile.TemporaryDirectory(prefix="chiso766-flat-") as tmp:
        jsonl = Path(tmp) / "records.jsonl"
        try:
            with jsonl.open("w", encoding="utf-8") as out:
                for record in read_records(path, kind):
                    if type(record) is not dict:
                        return None
                    out.write(json.dumps(record, ensure_ascii=False, allow_nan=False))
                    out.write("\n")
        except (TypeError, ValueError):  # UnicodeEncodeError is a ValueError
            return None
        return _ingest_native(store, kind, jsonl, "newline_delimited", source, batch_size, progress)


def _ingest_native(
    store: Store,
    kind: str,
    path: Path | None,
    fmt: str,
    source: str,
    batch_size: int,
    progress: ProgressCallback | None,
    *,
    guard: RecordGuard | None = None,
    values: _LazyRecords | None = None,
    staged: int | None = None,
) -> IngestReport | None:
    """The native path of :func:`ingest_file` / :func:`ingest_body`; None (nothing written) when DuckDB cannot read
    the file, or reads another number of records than ``values`` holds. ``staged``: the file was read and its
    ``staged`` records certified already (:func:`stage_body`; one chunk)."""
    con = store.connection
    n = staged if staged is not None else read_native(con, kind, path, fmt) if path is not None else None
    if n is None:
        return None
    if values is not None and n != len(values):
        con.execute("DROP TABLE IF EXISTS _n_in")
        return None
    try:
        report = IngestReport(kind=kind, source=source, receipt_id=uuid.uuid4().hex)
        con.execute("INSERT INTO receipts VALUES (?, ?, ?, 0, 0, 0, 0, ?)", [report.receipt_id, kind, source, _now()])
        chunk = BulkChunk(_Loader(store, kind_spec(kind), source, report, guard), batch_size)
        size = batch_size * max(1, NATIVE_CHUNK // batch_size)
        records: Any = values if values is not None else FileRecords(path, fmt)  # type: ignore[arg-type]
        assert staged is None or n <= size
        with relaxed_gc:
            for lo in range(1, n + 1, size):
                hi = min(n, lo + size - 1)
                chunk.flush_native(lo, hi, [] if staged is not None else front_sql(kind, lo, hi), records)
                _report_progress(progress, hi - lo + 1, batch_size)
    finally:
        con.execute("DROP TABLE IF EXISTS _n_in")
    log.info(
        "ingest %s %s (native): %d new, %d updated, %d unchanged, %d rejected (receipt %s)",
        kind,
        source,
        report.accepted,
        report.updated,
        report.unchanged,
        report.rejected,
        report.receipt_id,
    )
    return report


def ingest_paths(
    store: Store,
    kind: str,
    paths: Sequence[str | Path],
    *,
    batch_size: int = BATCH_SIZE,
    progress: ProgressCallback | None = None,
    bulk: bool | None = None,
    native: bool | None = None,
) -> list[IngestReport]:
    """Ingest files and records folders (see :func:`find_record_files`); one report (and receipt) per file."""
    return [
        ingest_file(store, k, f, batch_size=batch_size, progress=progress, bulk=bulk, native=native)
        for k, f in find_record_files(kind, paths)
    ]
