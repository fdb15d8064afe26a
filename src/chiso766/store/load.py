"""Ingest: records → validated rows → idempotent upserts, quarantine for the rest, a receipt for each call.

Streaming: records are taken in batches (default 5,000) and each batch is written in one transaction with
bulk ``INSERT … SELECT unnest(?)`` statements, so memory stays constant whatever the input size. A batch commits
its valid records even when some of its records are invalid (those go to ``quarantine`` with their problems).

Versions (DESIGN reliability rules, D-gen-4):

- A record equal to the stored one is *unchanged* and writes nothing (replaying a batch changes nothing).
- A record whose ``NgayCapNhat`` (version time) is older than the stored ``updated_at`` is ignored (*unchanged*).
- Otherwise it *updates*: the main row and its replaced child rows (supplements, databases; procedure times,
  units, legal bases, services; publication items) are rewritten, while status histories (``dossier_events``,
  ``petition_events``) merge: rows are added, deduplicated by primary key, never removed.
- The same key twice in one batch is read as two successive versions, exactly as if they came in two calls:
  the second one is an update (or unchanged), never an error.
- Progress entries (progress.json) are events: *new* when not stored yet, else *unchanged*.

Every new or updated record appends to ``changes`` one row per unit it touches (the new and the previous unit,
PAKN transfer receivers), with ``earliest_at`` = the earliest instant whose periods it can affect: the minimum of
the reception/submission (dossier), sending (PAKN) or event time of the new and the previous version; NULL
(everything) for units, procedures and publications, or when a dossier has no time at all.
"""

from __future__ import annotations

import gc
import json
import logging
import operator
import os
import threading
import uuid
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any

import duckdb
import ijson  # type: ignore[import-untyped]

try:
    import pyarrow as _pa  # type: ignore[import-untyped]
except ImportError:  # pragma: no cover - a declared dependency; list parameters then
    _pa = None

from chiso766.engine.structure import rebuild_unit_closure
from chiso766.errors import InputError, Problem
from chiso766.records import (
    KIND_ORDER,
    KindSpec,
    Parsed,
    RecordError,
    kind_spec,
    parse_record,
    record_key,
    strip_personal,
)
from chiso766.store.bulk import BULK_KINDS, BulkChunk, JsonText
from chiso766.store.db import Store
from chiso766.store.files import FLAT_SUFFIXES, read_flat
from chiso766.store.schema import LOGICAL_KEYS

log = logging.getLogger(__name__)

__all__ = [
    "IngestReport",
    "RejectedRecord",
    "UnreadableRecord",
    "export_quarantine",
    "find_record_files",
    "ingest_records",
    "read_records",
    "relaxed_gc",
]

BATCH_SIZE = 5_000
BULK_CHUNK = 50_000  # records per transaction of the bulk path (a whole number of batches)
MAX_REPORTED = 1_000  # records whose problems are kept in the report (all of them are in quarantine)

ProgressCallback = Callable[[int], None]
# Called inside each batch transaction with the parsed records; returns record_no → problems for those refused
# (e.g. outside a token's unit subtree, :class:`chiso766.access.scope.ScopeGuard`).
RecordGuard = Callable[[duckdb.DuckDBPyConnection, str, list[tuple[int, Parsed]], str], dict[int, list[Problem]]]


@dataclass(frozen=True, slots=True)
class UnreadableRecord:
    """A place in a file that could not be read as a JSON value (a broken JSON Lines line, a truncated list)."""

    message_vi: str
    message_en: str
    text: str = ""


@dataclass(frozen=True, slots=True)
class RejectedRecord:
    """A record refused before parsing (e.g. a JSON object with a duplicate key): stored in quarantine with
    ``problems``, personal data removed."""

    record: Any
    problems: tuple[Problem, ...]


@dataclass
class IngestReport:
    """The outcome of one :func:`ingest_records` call (also stored as one ``receipts`` row)."""

    kind: str
    source: str
    receipt_id: str
    accepted: int = 0  # new records
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    problems: list[tuple[int, list[Problem]]] = field(default_factory=list)
    problems_truncated: bool = False
    keys: dict[int, str | None] = field(default_factory=dict)  # record_no → record key, for reported problems

    @property
    def total(self) -> int:
        return self.accepted + self.updated + self.unchanged + self.rejected

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "source": self.source,
            "receipt_id": self.receipt_id,
            "accepted": self.accepted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "problems": [
                {"record_no": no, "record_key": self.keys.get(no), "problems": [p.as_dict() for p in problems]}
                for no, problems in self.problems
            ],
            "problems_truncated": self.problems_truncated,
        }


# ------------------------------------------------------------------------------------------ table metadata


@dataclass(frozen=True, slots=True)
class _Table:
    name: str
    types: Mapping[str, str]  # column → SQL type
    primary_key: tuple[str, ...]  # the PRIMARY KEY constraint, if any
    key: tuple[str, ...]  # the unique key: the constraint's, else schema.LOGICAL_KEYS


# per store: the catalogue queries cost ~1 ms each, and an HTTP batch opens a loader per request
_META: weakref.WeakKeyDictionary[Store, dict[str, _Table]] = weakref.WeakKeyDictionary()


def _store_meta(store: Store, table: str) -> _Table:
    """:func:`_table_meta` of ``store``'s writer connection, cached for the life of the store object."""
    tables = _META.setdefault(store, {})
    meta = tables.get(table)
    if meta is None:
        meta = tables[table] = _table_meta(store.connection, table)
    return meta


def _table_meta(con: duckdb.DuckDBPyConnection, table: str) -> _Table:
    cols = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position",
        [table],
    ).fetchall()
    pk_rows = con.execute(
        "SELECT constraint_column_names FROM duckdb_constraints() "
        "WHERE table_name = ? AND constraint_type = 'PRIMARY KEY'",
        [table],
    ).fetchall()
    pk = tuple(pk_rows[0][0]) if pk_rows else ()
    return _Table(table, {c: t for c, t in cols}, pk, pk or LOGICAL_KEYS.get(table, ()))


def _insert(
    con: duckdb.DuckDBPyConnection,
    table: _Table,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    mode: str = "",
) -> None:
    """Bulk insert ``rows`` (tuples in ``columns`` order) in one statement.

    With a key (constraint or :data:`~chiso766.store.schema.LOGICAL_KEYS`), rows are first deduplicated on it (the
    last one wins) so that ``mode`` ``OR REPLACE`` / ``OR IGNORE`` never sees one key twice in a statement. On a
    table without the constraint, ``OR IGNORE`` inserts only the rows whose key is not stored yet, and ``OR
    REPLACE`` is a plain insert: callers delete the rows they replace first. The rows go in as an Arrow table when
    every value has exactly its column's Python type (about 4× cheaper than DuckDB's per-value conversion of list
    parameters), else as ``INSERT … SELECT unnest(?)`` list parameters; both store the same values.
    """
    if not rows:
        return
    anti = ""
    if table.key:
        idx = [columns.index(c) for c in table.key]
        unique: dict[tuple[Any, ...], Sequence[Any]] = {}
        for row in rows:
            unique[tuple(row[i] for i in idx)] = row
        rows = list(unique.values())
    if not table.primary_key:
        if mode == "OR IGNORE" and table.key:
            same = " AND ".join(f"t.{c} = s.{c}" for c in table.key)
            anti = f" WHERE NOT EXISTS (SELECT 1 FROM {table.name} t WHERE {same})"
        mode = ""  # nothing to conflict on
    lists = [list(col) for col in zip(*rows, strict=True)]
    if _insert_arrow(con, table, columns, lists, mode, anti):
        return
    select = ", ".join(f"unnest(?::{table.types[c]}[]) AS {c}" for c in columns)
    cols = ", ".join(columns)
    con.execute(f"INSERT {mode} INTO {table.name} ({cols}) SELECT {cols} FROM (SELECT {select}) s{anti}", lists)


# SQL type → (Arrow type name, the exact Python types DuckDB would store unchanged through it)
_ARROW_TYPES: dict[str, tuple[str, frozenset[type]]] = {
    "VARCHAR": ("string", frozenset({str, type(None)})),
    "TIMESTAMP": ("timestamp", frozenset({datetime, type(None)})),
    "BOOLEAN": ("bool_", frozenset({bool, type(None)})),
    "BIGINT": ("int64", frozenset({int, type(None)})),
    "INTEGER": ("int32", frozenset({int, type(None)})),
    "DOUBLE": ("float64", frozenset({float, type(None)})),
    "DATE": ("date32", frozenset({date, type(None)})),
}


_TZINFO = operator.attrgetter("tzinfo")


def arrow_enabled() -> bool:
    """Whether inserts go through Arrow tables (default on; ``CHISO766_INGEST_ARROW=0`` turns it off)."""
    return _pa is not None and os.environ.get("CHISO766_INGEST_ARROW", "1") not in ("0", "false", "no")


def _insert_arrow(
    con: duckdb.DuckDBPyConnection,
    table: _Table,
    columns: Sequence[str],
    lists: list[list[Any]],
    mode: str,
    anti: str = "",
) -> bool:
    """Insert column ``lists`` through an Arrow table; False (nothing done) when a value is not exactly of its
    column's plain Python type (aware or subclassed date-times, bools as numbers, lone surrogates…): the caller
    then uses list parameters, so values are never converted differently."""
    if not arrow_enabled():
        return False
    arrays = []
    for name, values in zip(columns, lists, strict=True):
        entry = _ARROW_TYPES.get(table.types[name])
        if entry is None or not set(map(type, values)) <= entry[1]:
            return False
        if entry[0] == "timestamp" and any(map(_TZINFO, filter(None, values))):  # aware: DuckDB's own conversion
            return False
        try:
            arrays.append(_pa.array(values, type=_arrow_type(entry[0])))
        except (ValueError, TypeError, OverflowError, UnicodeError, _pa.ArrowException):
            return False
    _chiso766_arrow_rows = _pa.Table.from_arrays(arrays, names=list(columns))  # read by the SQL below
    cols = ", ".join(columns)  # DuckDB's replacement scan finds the local Arrow table by its name
    con.execute(f"INSERT {mode} INTO {table.name} ({cols}) SELECT {cols} FROM _chiso766_arrow_rows s{anti}")
    return True


def _arrow_type(name: str) -> Any:
    return _pa.timestamp("us") if name == "timestamp" else getattr(_pa, name)()


def _keys_param(keys: Iterable[str]) -> list[list[str]]:
    return [list(keys)]


# ----------------------------------------------------------------------------------------------- state


@dataclass(slots=True)
class _State:
    """A version of one record as comparable sets: main row, and rows per child table."""

    main: tuple[Any, ...] | None
    children: dict[str, set[tuple[Any, ...]]]
    updated_at: datetime | None


def _state_of(spec: KindSpec, p: Parsed) -> _State:
    tables = [*spec.replaced, *spec.merged]
    return _State(p.main, {t: set(p.children.get(t, ())) for t in tables}, p.updated_at)


def _compare(spec: KindSpec, new: Parsed, old: _State | None) -> str:
    """``new`` / ``updated`` / ``unchanged`` of ``new`` against a stored (or earlier in-batch) version."""
    if old is None:
        return "new"
    if new.updated_at is not None and old.updated_at is not None and new.updated_at < old.updated_at:
        return "unchanged"  # an older version: ignored
    if new.main != old.main:
        return "updated"
    for t in spec.replaced:
        if set(new.children.get(t, ())) != old.children.get(t, set()):
            return "updated"
    for t in spec.merged:
        if not set(new.children.get(t, ())) <= old.children.get(t, set()):
            return "updated"
    return "unchanged"


@dataclass(slots=True)
class _Group:
    first_no: int
    first: Parsed
    final: Parsed
    earliest: list[datetime | None]
    units: list[tuple[str | None, str | None]]


# ------------------------------------------------------------------------------------------------ ingest


class _Loader:
    """One ingest call: a receipt, then batches, each in one transaction."""

    def __init__(
        self, store: Store, spec: KindSpec, source: str, report: IngestReport, guard: RecordGuard | None = None
    ) -> None:
        self.guard = guard
        self.store = store
        self.con = store.connection
        self.spec = spec
        self.source = source
        self.report = report
        names = {spec.main, *spec.replaced, *spec.merged, "changes", "quarantine"} - {None}
        self.tables = {n: _store_meta(store, n) for n in names if n is not None}

    # -- batch entry point

    def parse_one(
        self, no: int, record: Any
    ) -> tuple[Parsed | None, tuple[int, Any, list[Problem], str | None] | None]:
        """Record ``no`` parsed, or its quarantine entry ``(no, record, problems, key)``."""
        if isinstance(record, UnreadableRecord):
            problem = Problem(record.message_vi, record.message_en, where=f"{self.source}[{no}]")
            return None, (no, {"_text": record.text}, [problem], None)
        if isinstance(record, RejectedRecord):
            key = record_key(record.record, self.spec.key_fields)
            return None, (no, record.record, list(record.problems), key)
        try:
            return parse_record(self.spec.kind, record, self.source, no), None
        except RecordError as exc:
            key = exc.key or record_key(record, self.spec.key_fields)
            return None, (no, record, exc.problems, key)

    def flush(self, batch: list[tuple[int, Any]]) -> None:
        parsed: list[tuple[int, Parsed]] = []
        rejected: list[tuple[int, Any, list[Problem], str | None]] = []
        for no, record in batch:
            ok, bad = self.parse_one(no, record)
            if bad is not None:
                rejected.append(bad)
            elif ok is not None:
                parsed.append((no, ok))
        now = _now()
        outcomes: dict[str, int] = {"new": 0, "updated": 0, "unchanged": 0}
        with self.store.transaction() as con:
            if self.guard is not None and parsed:
                refused = self.guard(con, self.spec.kind, parsed, self.source)
                if refused:
                    raw = dict(batch)
                    rejected.extend((no, raw[no], refused[no], p.key) for no, p in parsed if no in refused)
                    rejected.sort(key=lambda item: item[0])
                    parsed = [(no, p) for no, p in parsed if no not in refused]
            if self.spec.main is None:
                self._apply_events(con, parsed, outcomes, now)
            else:
                self._apply(con, parsed, outcomes, now)
            self._quarantine(con, rejected, now)
            self.finish_batch(con, outcomes, rejected)

    def finish_batch(
        self,
        con: duckdb.DuckDBPyConnection,
        outcomes: dict[str, int],
        rejected: list[tuple[int, Any, list[Problem], str | None]],
    ) -> None:
        """Count a batch in the receipt (inside its transaction) and in the report."""
        con.execute(
            "UPDATE receipts SET accepted = accepted + ?, updated = updated + ?, unchanged = unchanged + ?, "
            "rejected = rejected + ? WHERE receipt_id = ?",
            [outcomes["new"], outcomes["updated"], outcomes["unchanged"], len(rejected), self.report.receipt_id],
        )
        r = self.report
        r.accepted += outcomes["new"]
        r.updated += outcomes["updated"]
        r.unchanged += outcomes["unchanged"]
        r.rejected += len(rejected)
        for no, _, problems, key in rejected:
            if len(r.problems) < MAX_REPORTED:
                r.problems.append((no, problems))
                r.keys[no] = key
            else:
                r.problems_truncated = True

    # -- records with a main table

    def _fetch(self, con: duckdb.DuckDBPyConnection, keys: list[str]) -> dict[str, _State]:
        spec = self.spec
        assert spec.main is not None
        key_col = spec.main_columns[0]
        upd = spec.main_columns.index("updated_at") if "updated_at" in spec.main_columns else None
        rows = con.execute(
            f"SELECT {', '.join(spec.main_columns)} FROM {spec.main} WHERE {key_col} IN (SELECT unnest(?::VARCHAR[]))",
            _keys_param(keys),
        ).fetchall()
        states = {
            row[0]: _State(tuple(row), {t: set() for t in [*spec.replaced, *spec.merged]}, row[upd] if upd else None)
            for row in rows
        }
        if not states:
            return states
        found = list(states)
        for table, columns in [*spec.replaced.items(), *spec.merged.items()]:
            for row in con.execute(
                f"SELECT {', '.join(columns)} FROM {table} WHERE {columns[0]} IN (SELECT unnest(?::VARCHAR[]))",
                _keys_param(found),
            ).fetchall():
                states[row[0]].children[table].add(tuple(row))
        return states

    def _apply(
        self, con: duckdb.DuckDBPyConnection, parsed: list[tuple[int, Parsed]], outcomes: dict[str, int], now: datetime
    ) -> None:
        spec = self.spec
        assert spec.main is not None
        groups: dict[str, _Group] = {}
        for no, p in parsed:
            g = groups.get(p.key)
            if g is None:
                groups[p.key] = _Group(no, p, p, [p.earliest_at], [(p.unit_code, p.id_prefix)])
                continue
            outcome = _compare(spec, p, _state_of(spec, g.final))
            outcomes["unchanged" if outcome == "unchanged" else "updated"] += 1
            if outcome == "updated":
                for t in spec.merged:  # histories merge across versions
                    p.children[t] = list(dict.fromkeys([*g.final.children.get(t, ()), *p.children.get(t, ())]))
                g.final = p
                g.earliest.append(p.earliest_at)
                g.units.append((p.unit_code, p.id_prefix))
        if not groups:
            return
        stored = self._fetch(con, list(groups))
        writes: list[_Group] = []
        change_rows: list[tuple[Any, ...]] = []
        main_cols = spec.main_columns
        for key, g in groups.items():
            old = stored.get(key)
            outcomes[_compare(spec, g.first, old)] += 1
            if _compare(spec, g.final, old) == "unchanged":
                continue
            writes.append(g)
            earliest = list(g.earliest)
            units = list(g.units)
            if old is not None and old.main is not None:
                for col in spec.time_columns:
                    earliest.append(old.main[main_cols.index(col)])
                units.append(
                    (
                        old.main[main_cols.index(spec.unit_column)] if spec.unit_column else None,
                        old.main[main_cols.index(spec.prefix_column)] if spec.prefix_column else None,
                    )
                )
            times = [t for t in earliest if t is not None]
            first_at = min(times) if times else None
            unit_refs = list(dict.fromkeys([*units, *((u, None) for u in g.final.extra_units)]))
            if all(u is None and pfx is None for u, pfx in unit_refs):
                unit_refs = [(None, None)]
            else:
                unit_refs = [(u, pfx) for u, pfx in unit_refs if u is not None or pfx is not None]
            for unit, prefix in unit_refs:
                change_rows.append((spec.change_kind, key, unit, prefix, first_at))
        if not writes:
            return
        keys = [g.final.key for g in writes]
        for table in (spec.main, *spec.replaced):
            key_col = main_cols[0] if table == spec.main else spec.replaced[table][0]
            con.execute(f"DELETE FROM {table} WHERE {key_col} IN (SELECT unnest(?::VARCHAR[]))", _keys_param(keys))
        main_table = self.tables[spec.main]
        stamped = "ingested_at" in main_table.types
        cols = [*main_cols, "ingested_at"] if stamped else list(main_cols)
        main_rows = [(*g.final.main, now) if stamped else g.final.main for g in writes if g.final.main is not None]
        _insert(con, main_table, cols, main_rows)
        for table, columns in spec.replaced.items():
            rows = [row for g in writes for row in g.final.children.get(table, ())]
            _insert(con, self.tables[table], columns, rows, mode="OR REPLACE")
        for table, columns in spec.merged.items():
            rows = [row for g in writes for row in g.final.children.get(table, ())]
            meta = self.tables[table]
            # without the constraint (dossier_events: every column is in the key) "ignore" is "replace"
            _insert(con, meta, columns, rows, mode="OR REPLACE" if meta.primary_key else "OR IGNORE")
        if spec.kind == "units":
            rebuild_unit_closure(con)
        self._changes(con, change_rows, now)

    # -- progress entries (events only)

    def _apply_events(
        self, con: duckdb.DuckDBPyConnection, parsed: list[tuple[int, Parsed]], outcomes: dict[str, int], now: datetime
    ) -> None:
        table, columns = next(iter(self.spec.merged.items()))
        keys = list(dict.fromkeys(p.key for _, p in parsed))
        if not keys:
            return
        existing = {
            tuple(row)
            for row in con.execute(
                f"SELECT {', '.join(columns)} FROM {table} WHERE {columns[0]} IN (SELECT unnest(?::VARCHAR[]))",
                _keys_param(keys),
            ).fetchall()
        }
        new_rows: dict[tuple[Any, ...], None] = {}
        for _, p in parsed:
            for row in p.children.get(table, ()):
                if row in existing or row in new_rows:
                    outcomes["unchanged"] += 1
                else:
                    outcomes["new"] += 1
                    new_rows[row] = None
        if not new_rows:
            return
        _insert(con, self.tables[table], columns, list(new_rows), mode="OR IGNORE")
        earliest: dict[str, datetime] = {}
        for dossier_id, _, at in new_rows:
            earliest[dossier_id] = min(at, earliest.get(dossier_id, at))
        found = con.execute(
            "SELECT dossier_id, unit_code, id_prefix FROM dossiers WHERE dossier_id IN (SELECT unnest(?::VARCHAR[]))",
            _keys_param(earliest),
        ).fetchall()
        units = {row[0]: (row[1], row[2]) for row in found}
        rows = [(self.spec.change_kind, key, *units.get(key, (None, None)), at) for key, at in earliest.items()]
        self._changes(con, rows, now)

    # -- bookkeeping

    def _changes(self, con: duckdb.DuckDBPyConnection, rows: list[tuple[Any, ...]], now: datetime) -> None:
        """Append ``changes``; a missing unit code is resolved from the MaHoSo prefix (D-gen-3)."""
        if not rows:
            return
        kinds, keys, units, prefixes, times = (list(c) for c in zip(*rows, strict=True))
        con.execute(
            """
            INSERT INTO changes (kind, record_key, unit_code, earliest_at, recorded_at)
            SELECT c.kind, c.record_key, COALESCE(c.unit_code, u.unit_code), c.earliest_at, ?
            FROM (SELECT unnest(?::VARCHAR[]) AS kind, unnest(?::VARCHAR[]) AS record_key,
                         unnest(?::VARCHAR[]) AS unit_code, unnest(?::VARCHAR[]) AS id_prefix,
                         unnest(?::TIMESTAMP[]) AS earliest_at) c
            LEFT JOIN (SELECT electronic_id, min(unit_code) AS unit_code FROM units
                       WHERE electronic_id IS NOT NULL GROUP BY electronic_id) u
                   ON c.unit_code IS NULL AND u.electronic_id = c.id_prefix
            """,
            [now, kinds, keys, units, prefixes, times],
        )

    def _quarantine(
        self,
        con: duckdb.DuckDBPyConnection,
        rejected: list[tuple[int, Any, list[Problem], str | None]],
        now: datetime,
    ) -> None:
        rows = [
            (
                self.report.receipt_id,
                self.spec.kind,
                self.source,
                no,
                key,
                _json_text(strip_personal(record)),
                _json_text([p.as_dict() for p in problems]),
                now,
            )
            for no, record, problems, key in rejected
        ]
        cols = ("receipt_id", "kind", "source", "record_no", "record_key", "record", "problems", "recorded_at")
        _insert(con, self.tables["quarantine"], cols, rows)


class _RelaxedGC:
    """Fewer cyclic garbage collections while records are decoded and parsed (``with relaxed_gc:``).

    Parsing allocates millions of small dicts, lists and tuples that are all alive until their batch is written;
    with the default threshold (700 allocations) the collector walks them again and again for nothing — about a
    fifth of the ingest time. Inside the block the first-generation threshold is at least 50,000; nothing else
    changes and collection still happens. Re-entrant and thread-safe: the threshold is restored when the last
    block ends.
    """

    GEN0 = 50_000

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._users = 0
        self._saved: tuple[int, int, int] = gc.get_threshold()

    def __enter__(self) -> None:
        with self._lock:
            if self._users == 0:
                self._saved = gc.get_threshold()
                gc.set_threshold(max(self._saved[0], self.GEN0), self._saved[1], self._saved[2])
            self._users += 1

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._users -= 1
            if self._users == 0:
                gc.set_threshold(*self._saved)


relaxed_gc = _RelaxedGC()


def _report_progress(progress: ProgressCallback | None, done: int, batch_size: int) -> None:
    """``progress`` once per reference batch (a bulk chunk holds several)."""
    if progress is None:
        return
    while done > 0:
        progress(min(done, batch_size))
        done -= batch_size


def _json_text(value: Any) -> str:
    """JSON for a quarantine column; ``\\u`` escapes when the value holds a lone surrogate (not UTF-8)."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(value, ensure_ascii=True, default=str)
    return text


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def ingest_records(
    store: Store,
    kind: str,
    records: Iterable[Any],
    source: str,
    *,
    batch_size: int = BATCH_SIZE,
    progress: ProgressCallback | None = None,
    guard: RecordGuard | None = None,
    bulk: bool | None = None,
) -> IngestReport:
    """Validate and upsert ``records`` of ``kind`` (see INPUT_FORMAT) into ``store``; never raises for bad records.

    ``records`` are dicts (anything else, e.g. an :class:`UnreadableRecord`, is rejected with a reason); they are
    numbered from 1 in problems and quarantine rows. ``progress`` is called with the number of records of each
    committed batch. ``guard`` may refuse parsed records (they are rejected and quarantined with its reasons).
    ``bulk`` chooses the set-based path of :mod:`chiso766.store.bulk` for dossiers and progress (default: off,
    unless ``CHISO766_INGEST_BULK=1``); it gives the same results as the per-record path. Records may be
    :class:`~chiso766.store.bulk.JsonText` (JSON Lines lines, read without decoding them in Python).
    Raises :class:`InputError` only for an unknown ``kind``.
    """
    spec = kind_spec(kind)
    report = IngestReport(kind=kind, source=source, receipt_id=uuid.uuid4().hex)
    store.connection.execute(
        "INSERT INTO receipts VALUES (?, ?, ?, 0, 0, 0, 0, ?)", [report.receipt_id, kind, source, _now()]
    )
    loader = _Loader(store, spec, source, report, guard)
    use_bulk = bulk_enabled() if bulk is None else bulk
    if use_bulk and kind in BULK_KINDS:
        # set-based path (chiso766.store.bulk): chunks of whole reference batches, identical results
        chunk = BulkChunk(loader, batch_size)
        size = batch_size * max(1, BULK_CHUNK // batch_size)
        items: Iterable[Any] = (_as_text(r) for r in records)
        flush: Callable[[list[tuple[int, Any]]], None] = chunk.flush
    else:
        size, items, flush = batch_size, records, loader.flush
    batch: list[tuple[int, Any]] = []
    with relaxed_gc:
        for no, record in enumerate(items, start=1):
            batch.append((no, record))
            if len(batch) >= size:
                flush(batch)
                _report_progress(progress, len(batch), batch_size)
                batch = []
        if batch:
            flush(batch)
            _report_progress(progress, len(batch), batch_size)
    log.info(
        "ingest %s %s: %d new, %d updated, %d unchanged, %d rejected (receipt %s)",
        kind,
        source,
        report.accepted,
        report.updated,
        report.unchanged,
        report.rejected,
        report.receipt_id,
    )
    return report


# ---------------------------------------------------------------------------------------------- reading


def _broken(vi: str, en: str, text: str = "") -> UnreadableRecord:
    return UnreadableRecord(vi, en, text[:200])


def _jsonl_value(line_no: int, text: str) -> Any:
    """The record of one JSON Lines line, or an :class:`UnreadableRecord` saying why not."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        return _broken(
            f"Dòng {line_no}: JSON không hợp lệ ({exc.msg}, cột {exc.colno})",
            f"Line {line_no}: invalid JSON ({exc.msg}, column {exc.colno})",
            text,
        )


def _read_jsonl(f: IO[bytes], *, as_text: bool = False) -> Iterator[Any]:
    for line_no, raw in enumerate(f, start=1):
        line = raw.removeprefix(b"\xef\xbb\xbf") if line_no == 1 else raw
        if not line.strip():
            continue
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            yield _broken(
                f"Dòng {line_no}: không phải UTF-8", f"Line {line_no}: not UTF-8", line.decode("utf-8", "replace")
            )
            continue
        yield JsonText(text, line_no=line_no) if as_text else _jsonl_value(line_no, text)


def _as_text(record: Any) -> Any:
    """A record for the bulk path: JSON text (a dict is encoded once; its value is kept for the Python path)."""
    if type(record) is dict:
        try:
            return JsonText(json.dumps(record, ensure_ascii=False, allow_nan=False), record, known=True)
        except (TypeError, ValueError):  # not plain JSON (a Parquet value, NaN): the Python path judges it
            return record
    return record


def bulk_enabled() -> bool:
    """Whether the set-based path is on by default: opt-in with ``CHISO766_INGEST_BULK=1`` (it gives the same
    results, but is not yet faster on the 2-core machines; see docs/ingestion.md)."""
    return os.environ.get("CHISO766_INGEST_BULK", "0") in ("1", "true", "yes")


def _read_json(f: IO[bytes]) -> Iterator[Any]:
    head = f.read(3)
    if head != b"\xef\xbb\xbf":
        f.seek(0)
    first = b""
    while True:
        ch = f.read(1)
        if not ch or not ch.isspace():
            first = ch
            break
    f.seek(f.tell() - len(first))
    if first == b"[":  # a JSON list: stream its items
        count = 0
        try:
            for item in ijson.items(f, "item", use_float=True):
                count += 1
                yield item
        except ijson.JSONError as exc:
            yield _broken(
                f"JSON không hợp lệ sau bản ghi thứ {count}: {exc}",
                f"Invalid JSON after record {count}: {exc}",
            )
        return
    try:
        doc = json.loads(f.read().decode("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        yield _broken(f"Tệp JSON không hợp lệ: {exc}", f"Invalid JSON file: {exc}")
        return
    if isinstance(doc, dict):
        for envelope in ("result", "data"):  # LayThuTuc {result: [...]}, sync envelope {data: [...]}
            inner = doc.get(envelope)
            if isinstance(inner, list):
                yield from inner
                return
    yield doc


RECORD_SUFFIXES = (".json", ".jsonl", ".ndjson", *FLAT_SUFFIXES)


def read_records(path: str | Path, kind: str | None = None, *, as_text: bool = False) -> Iterator[Any]:
    """The records of one file, streamed: a JSON list (``ijson``), JSON Lines (``.jsonl``/``.ndjson``), or a
    flat file — CSV/TSV, XLSX, Parquet — with sync or Vietnamese office column headers (:mod:`.files`; ``kind``
    names the headers, default: the file name's stem).

    A JSON object with a ``result`` or ``data`` list (the LayThuTuc and sync envelopes) gives that list; any
    other object is one record. Unreadable places (a broken line, a truncated list, a corrupt workbook) are
    yielded as :class:`UnreadableRecord` so that they are rejected with a reason; the valid records are kept.
    Raises :class:`InputError` when the file cannot be opened. With ``as_text``, JSON Lines records come as
    :class:`~chiso766.store.bulk.JsonText` (not decoded; for the bulk path).
    """
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix in FLAT_SUFFIXES:
        flat_kind = kind or p.name.split(".", 1)[0]
        kind_spec(flat_kind)
        if not os.access(p, os.R_OK):
            raise _unreadable(p, PermissionError(13, "Permission denied / Không có quyền đọc"))
        try:
            yield from read_flat(p, flat_kind)
        except Exception as exc:  # a corrupt workbook / Parquet file / encoding: keep what was read, say why
            log.warning("cannot read the rest of %s: %s", p, type(exc).__name__)
            yield _broken(
                f"Không đọc được phần còn lại của tệp ({type(exc).__name__}: {str(exc)[:200]})",
                f"Cannot read the rest of the file ({type(exc).__name__}: {str(exc)[:200]})",
            )
        return
    try:
        f = p.open("rb")
    except OSError as exc:
        raise _unreadable(p, exc) from exc
    with f:
        if suffix in (".jsonl", ".ndjson"):
            yield from _read_jsonl(f, as_text=as_text)
        else:
            yield from _read_json(f)


def export_quarantine(store: Store, receipt_ids: Sequence[str], path: str | Path) -> int:
    """Append the quarantined records of ``receipt_ids`` to a JSON Lines file (one object per record:
    ``receipt_id, kind, source, record_no, record_key, record, problems``; personal data already removed).
    Returns the number of lines written."""
    rows = store.connection.execute(
        "SELECT receipt_id, kind, source, record_no, record_key, record, problems FROM quarantine "
        "WHERE receipt_id IN (SELECT unnest(?::VARCHAR[])) ORDER BY recorded_at, receipt_id, record_no",
        [list(receipt_ids)],
    ).fetchall()
    with Path(path).open("a", encoding="utf-8") as f:
        for receipt_id, kind, source, no, key, record, problems in rows:
            doc = {
                "receipt_id": receipt_id,
                "kind": kind,
                "source": source,
                "record_no": no,
                "record_key": key,
                "record": json.loads(record) if record else None,
                "problems": json.loads(problems),
            }
            f.write(json.dumps(doc, ensure_ascii=False) + "\n")
    return len(rows)


def _unreadable(path: Path, exc: OSError) -> InputError:
    return InputError.single(
        "unreadable_path",
        f"Không đọc được '{path}': {exc.strerror or exc.__class__.__name__}",
        f"Cannot read '{path}': {exc.strerror or exc.__class__.__name__}",
        where=str(path),
    )


def find_record_files(kind: str, paths: Sequence[str | Path]) -> list[tuple[str, Path]]:
    """``(kind, file)`` pairs to ingest, in load order (units, procedures, publications, dossiers, progress,
    petitions). A folder gives its ``KIND.<suffix>`` files for every suffix of :data:`RECORD_SUFFIXES` (only
    ``kind``'s unless ``kind`` is ``auto``); a file with ``auto`` takes its kind from its name. Raises
    :class:`InputError` for a missing or unreadable path, or a file whose kind cannot be told."""
    if kind != "auto":
        kind_spec(kind)
    found: list[tuple[str, Path]] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            wanted = KIND_ORDER if kind == "auto" else (kind,)
            hits = [
                (k, path / f"{k}{ext}") for k in wanted for ext in RECORD_SUFFIXES if (path / f"{k}{ext}").is_file()
            ]
            if not hits:
                names = ", ".join(f"{k}.json" for k in wanted)
                raise InputError.single(
                    "no_records",
                    f"Thư mục '{path}' không có tệp bản ghi nào ({names})",
                    f"Folder '{path}' holds no record file ({names})",
                    where=str(path),
                )
            found.extend(hits)
            continue
        if not path.exists():
            raise _unreadable(path, FileNotFoundError(2, "No such file or directory / Không có tệp"))
        if not os.access(path, os.R_OK):
            raise _unreadable(path, PermissionError(13, "Permission denied / Không có quyền đọc"))
        if kind == "auto":
            stem = path.name.split(".", 1)[0]
            if stem not in KIND_ORDER:
                listed = ", ".join(KIND_ORDER)
                raise InputError.single(
                    "unknown_kind",
                    f"Không suy ra được loại bản ghi từ tên tệp '{path.name}' (cần {listed}); dùng --kind",
                    f"Cannot tell the record kind from the file name '{path.name}' (expected {listed}); use --kind",
                    where=str(path),
                )
            found.append((stem, path))
        else:
            found.append((kind, path))
    if kind == "auto":
        found.sort(key=lambda item: KIND_ORDER.index(item[0]))
    return found
