"""Native ingest of JSON files: DuckDB reads the whole file, SQL certifies the records, rows go in set-based.

The reference is still the per-record Python path (:func:`chiso766.records.parse_record`, ``load._Loader``); this
module gives **identical** stored rows, quarantine and counts for ``dossiers`` and ``progress`` files (JSON Lines
or a JSON list), much faster, by the same "certify, else ask Python" rule as :mod:`chiso766.store.bulk`:

1. ``read_json`` reads the file once with an explicit schema — every field the parser reads as ``JSON`` (so a
   number sent for a code is still seen as a number), the English aliases as columns that must be absent, the
   nested lists as lists of such objects — numbering records from 1 as the reference does (blank lines skipped).
   When DuckDB cannot read the file that way (a broken line, a list sent as ``""``, a repeated key, a lone
   surrogate, an object envelope…), nothing is written and the caller uses the reference path for the file.
2. One SQL pass per chunk certifies each record as the plain shape :func:`~chiso766.records.dossiers.fast_dossier`
   accepts (the checks of :mod:`chiso766.store.bulk`, on the typed columns) and computes its rows. A record SQL
   does not certify is read again from the file by Python, exactly as the reference reads it, and parsed by the
   parser (so its bilingual problems come from the one place that writes them).
3. Versions, the token guard, quarantine, receipts and ``changes`` are :class:`~chiso766.store.bulk.BulkChunk`'s,
   shared with the bulk path.

One reading differs from Python's ``json`` module and is documented (docs/ingestion.md): DuckDB's reader accepts a
trailing comma before ``}`` or ``]``; such a record is stored, whereas the reference path quarantines the line.
``tests/ingest/test_ingest_native.py`` checks tables, quarantine and reports against the reference.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import duckdb

from chiso766.records.dossiers import DOSSIER_ALIASES
from chiso766.store.bulk import (
    _EDGE,
    _FLAGS,
    _LISTS,
    _STATUSES,
    _TOP,
    MAX_CODE,
    MAX_TEXT,
    _flag,
    _inst,
    _val,
)

log = logging.getLogger(__name__)

__all__ = [
    "NATIVE_KINDS",
    "FileRecords",
    "front_sql",
    "native_enabled",
    "native_format",
    "read_native",
    "read_source",
]

NATIVE_KINDS = frozenset({"dossiers", "progress"})
NATIVE_TABLE = "_n_in"
_PROGRESS_FIELDS = ("MaHoSo", "TrangThai", "ThoiDiemXuLy")


def native_enabled() -> bool:
    """Whether files of dossiers and progress entries are read natively (default on; ``CHISO766_INGEST_NATIVE=0``
    uses the per-record path for every file)."""
    return os.environ.get("CHISO766_INGEST_NATIVE", "1") not in ("0", "false", "no")


def native_format(path: Path) -> str | None:
    """``newline_delimited`` for JSON Lines, ``array`` for a file holding one JSON list, else None."""
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        return "newline_delimited"
    if suffix != ".json":
        return None
    try:
        with path.open("rb") as f:
            head = f.read(4096).removeprefix(b"\xef\xbb\xbf").lstrip()
    except OSError:
        return None
    return "array" if head.startswith(b"[") else None


# ---------------------------------------------------------------------------------------------- schema


def _alias(name: str) -> str | None:
    return DOSSIER_ALIASES.get(name)


def _columns(kind: str) -> dict[str, str]:
    """The ``read_json`` schema: read fields as JSON, aliases (which must be absent) as JSON, lists of objects."""
    cols: dict[str, str] = {}
    top = _TOP if kind == "dossiers" else _PROGRESS_FIELDS
    for name in top:
        cols[name] = "JSON"
    if kind == "dossiers":
        for name, fields in _LISTS.items():
            item: dict[str, str] = {}
            for f in fields:
                item[f] = "JSON"
                alias = _alias(f)
                if alias is not None:
                    item[alias] = "JSON"
            cols[name] = "STRUCT(" + ", ".join(f'"{k}" {t}' for k, t in item.items()) + ")[]"
    for name in [*top, *(_LISTS if kind == "dossiers" else ())]:
        alias = _alias(name)
        if alias is not None and alias not in cols:
            cols[alias] = "JSON"
    return cols


def _aliases(kind: str) -> list[str]:
    top = _TOP if kind == "dossiers" else _PROGRESS_FIELDS
    names = [*top, *(_LISTS if kind == "dossiers" else ())]
    return sorted({a for n in names if (a := _alias(n)) is not None})


def _reader(kind: str, path: Path, fmt: str) -> str:
    """``read_json`` of ``path`` with the schema of ``kind`` (every value an object's fields: ``records = true``)."""
    schema = "{" + ", ".join(f"'{k}': '{t}'" for k, t in _columns(kind).items()) + "}"
    literal = str(path).replace("'", "''")
    return (
        f"read_json('{literal}', format = '{fmt}', records = true, columns = {schema}, auto_detect = false, "
        "maximum_object_size = 67108864)"
    )


def read_source(kind: str, path: Path, fmt: str) -> str:
    """A subquery reading ``path`` straight into :func:`front_sql` (``no`` = position from 1; one small file, such
    as an HTTP body, without the ``_n_in`` table)."""
    return f"(SELECT ordinality AS no, * FROM {_reader(kind, path, fmt)} WITH ORDINALITY)"


def read_native(con: duckdb.DuckDBPyConnection, kind: str, path: Path, fmt: str) -> int | None:
    """Read ``path`` into the temporary table ``_n_in`` (the schema's columns, in file order); the number of
    records, or None (and no table) when DuckDB cannot read the file with the schema."""
    con.execute("SET preserve_insertion_order = true")
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {NATIVE_TABLE} AS SELECT * FROM {_reader(kind, path, fmt)}")
    except (duckdb.Error, UnicodeDecodeError) as exc:  # DuckDB's message may quote a broken UTF-8 sequence
        log.info("native read of %s declined (%s): per-record path", path.name, str(exc).splitlines()[0][:200])
        con.execute(f"DROP TABLE IF EXISTS {NATIVE_TABLE}")
        return None
    row = con.execute(f"SELECT count(*), coalesce(max(rowid) + 1, 0) FROM {NATIVE_TABLE}").fetchone()
    assert row is not None and row[0] == row[1]
    return int(row[0])


def _rows(lo: int, hi: int) -> str:
    """Records ``lo``…``hi`` of ``_n_in`` with their number ``no`` (file order: the table is created in insertion
    order, ``preserve_insertion_order`` being on, so ``rowid`` + 1 is the record's position)."""
    where = f"rowid BETWEEN {int(lo) - 1} AND {int(hi) - 1}"
    return f"(SELECT rowid + 1 AS no, * FROM {NATIVE_TABLE} WHERE {where})"


# ------------------------------------------------------------------------------------------- SQL pieces
# ``j``: a field as JSON (NULL when null or absent); ``v``: its text (strings unescaped).


def _v_of(j: str) -> str:
    return f"({j} ->> '$')"


def _edge(v: str) -> str:
    return f"regexp_matches({v}, '{_EDGE}')"


def _str(j: str) -> str:
    """A JSON string (its JSON text starts with a quote; no other JSON value does)."""
    return f"starts_with({j}::VARCHAR, '\"')"


def _text(j: str, v: str, limit: int = MAX_TEXT) -> str:
    return (
        f"({j} IS NULL OR ({_str(j)} AND ({v} = '' OR (length({v}) <= {limit} AND NOT {_edge(v)} "
        f"AND NOT contains({v}, chr(0))))))"
    )


def _code(j: str, v: str, allowed: str | None = None) -> str:
    if allowed:  # a listed code is a plain short text: the text checks hold
        return f"({j} IS NULL OR ({_str(j)} AND ({v} = '' OR {v} IN {allowed})))"
    return _text(j, v, MAX_CODE)


def _required_code(j: str, v: str, allowed: str) -> str:
    return f"({_str(j)} AND {v} IN {allowed})"


def _required_inst(j: str, v: str) -> str:
    return (
        f"({_str(j)} AND regexp_full_match({v}, '[0-9]{{14}}') AND {v}[1:4] BETWEEN '1975' AND '2100' "
        f"AND try_strptime({v}, '%Y%m%d%H%M%S') IS NOT NULL)"
    )


def _flag_ok(j: str, v: str) -> str:
    return f"({j} IS NULL OR ({_str(j)} AND {v} IN {_FLAGS}))"


def _inst_ok(j: str, v: str) -> str:
    """Absent, ``""`` (only a JSON string unescapes to it) or a valid instant."""
    return f"({j} IS NULL OR {v} = '' OR {_required_inst(j, v)})"


def _required(v: str) -> str:
    return f"coalesce({v}, '') <> ''"


def _all(checks: Iterable[str]) -> str:
    return " AND ".join(f"coalesce({c}, false)" for c in checks)


def _item_checks(name: str) -> list[str]:
    """Checks of one item ``x`` of list ``name`` (as :func:`chiso766.store.bulk._items_sql`), aliases absent."""
    checks = ["x IS NOT NULL"]
    for f in _LISTS[name]:
        j = f'x."{f}"'
        v = _v_of(j)
        alias = _alias(f)
        if alias is not None:
            checks.append(f'x."{alias}" IS NULL')
        if f == "Gia":
            checks.append(f"({j} IS NULL OR json_type({j}) IN ('VARCHAR', 'UBIGINT', 'BIGINT'))")
            checks.append(f"({j} IS NULL OR json_type({j}) <> 'VARCHAR' OR NOT contains({v}, chr(0)))")
        elif f in ("IsDeleted", "DuocSoHoa", "DuocLayTuKhoDMQG", "DongBoKhoDMQG"):
            checks.append(_flag_ok(j, v))
        elif f == "NgayTiepNhanBoSung":
            checks.append(_inst_ok(j, v))
        elif f in ("NgayBoSung", "ThoiDiemXuLy"):
            checks.append(_required_inst(j, v))
        elif f == "TrangThai":
            checks.append(_required_code(j, v, _STATUSES))
        elif f in ("MaGiayToKetQua", "MaCSDL"):
            checks.append(_code(j, v))
        elif f == "MaHoSo":  # an event's own MaHoSo: absent, empty or the dossier's (see _event_keys_ok)
            checks.append(f"({j} IS NULL OR {_str(j)})")
        else:
            checks.append(_text(j, v))
    return checks


def _event_keys_ok() -> str:
    """Every event's own ``MaHoSo`` is absent, empty or the dossier's (compared outside the lambda: a lambda that
    reads an outer column is many times slower in DuckDB)."""
    own = _v_of('x."MaHoSo"')
    keys = f"list_filter(list_transform(\"QuaTrinhXuLy\", lambda x: {own}), lambda m: m <> '')"
    return f'coalesce(list_has_all(["v_MaHoSo"], {keys}), true)'


def _list_all(name: str, expr: str) -> str:
    """``expr`` (over item ``x``) true for every item of list ``name`` (true for no list or an empty one)."""
    return f'coalesce(list_bool_and(list_transform("{name}", lambda x: coalesce({expr}, false))), true)'


def _list_any(name: str, expr: str) -> str:
    return f'coalesce(list_bool_or(list_transform("{name}", lambda x: coalesce({expr}, false))), false)'


def _live_any(name: str, expr: str) -> str:
    """Some item not deleted (``IsDeleted`` not true) with ``expr``."""
    deleted = _flag(_v_of('x."IsDeleted"'))
    return _list_any(name, f"NOT {deleted} AND ({expr})")


def _dossier_sql(source: str) -> list[str]:
    vs = ", ".join(f'"{f}" ->> \'$\' AS "v_{f}"' for f in _TOP)
    top_checks = [
        f"{_text(_j('MaHoSo'), _vv('MaHoSo'))} AND {_required(_vv('MaHoSo'))}",
        f"regexp_full_match(split_part({_vv('MaHoSo')}, '-', 1), '[\\x21-\\x7e]*')",
        *(_text(_j(f), _vv(f)) for f in ("HeThongNguon", "MaCoQuanThucHien", "MaDonVi", "MaTTHC")),
        _code(_j("KenhThucHien"), _vv("KenhThucHien")),
        _code(_j("TrangThaiHoSo"), _vv("TrangThaiHoSo"), _STATUSES),
        _code(_j("DuocThanhToanTrucTuyen"), _vv("DuocThanhToanTrucTuyen")),
        _code(_j("MaCSDL"), _vv("MaCSDL")),
        *(
            _inst_ok(_j(f), _vv(f))
            for f in ("NgayNopHoSo", "NgayTiepNhan", "NgayHenTra", "NgayKetThucXuLy", "NgayTra", "NgayTuChoi")
        ),
        _inst_ok(_j("NgayCapNhat"), _vv("NgayCapNhat")),
        *(
            _flag_ok(_j(f), _vv(f))
            for f in ("HoSoCoThanhPhanSoHoa", "TaiKhoanDuocXacThucVoiVNeID", "DanhGiaKhongHaiLong")
        ),
        *(f'"{a}" IS NULL' for a in _aliases("dossiers")),
        *(_list_all(name, " AND ".join(f"coalesce({c}, false)" for c in _item_checks(name))) for name in _LISTS),
        _event_keys_ok(),
    ]
    gia = _v_of('x."Gia"')
    gia_nonzero = f"regexp_matches({gia}, '[1-9]')"
    fees = 'coalesce(len("DanhSachLePhi"), 0) + coalesce(len("DanhSachPhiLePhi"), 0)'
    nonzero = f"{_list_any('DanhSachLePhi', gia_nonzero)} OR {_list_any('DanhSachPhiLePhi', gia_nonzero)}"

    def nonempty(f: str) -> str:
        return f"{_val(_v_of(f'x.{_j(f)}'))} IS NOT NULL"

    def flag(f: str) -> str:
        return _flag(_v_of(f"x.{_j(f)}"))

    main = f"""
        CREATE OR REPLACE TEMP TABLE _b_main AS
        SELECT no,
            {_vv("MaHoSo")} AS dossier_id,
            coalesce({_val(_vv("HeThongNguon"))}, '') AS source_system,
            coalesce({_val(_vv("MaCoQuanThucHien"))}, {_val(_vv("MaDonVi"))}) AS unit_code,
            upper(split_part({_vv("MaHoSo")}, '-', 1)) AS id_prefix,
            {_val(_vv("MaTTHC"))} AS procedure_code,
            {_val(_vv("KenhThucHien"))} AS channel,
            {_inst(_vv("NgayNopHoSo"))} AS submitted_at,
            {_inst(_vv("NgayTiepNhan"))} AS received_at,
            {_inst(_vv("NgayHenTra"))} AS due_at,
            {_val(_vv("TrangThaiHoSo"))} AS status,
            {_inst(_vv("NgayKetThucXuLy"))} AS processing_end_at,
            {_inst(_vv("NgayTra"))} AS returned_at,
            {_inst(_vv("NgayTuChoi"))} AS rejected_at,
            {_val(_vv("DuocThanhToanTrucTuyen"))} AS payment_code,
            CASE WHEN {fees} = 0 THEN 'none' WHEN {nonzero} THEN 'nonzero' ELSE 'all_zero' END AS fee_state,
            {_live_any("TaiLieuNop", nonempty("DuongDanTaiTepTin"))} AS has_component_file,
            {_live_any("TaiLieuNop", flag("DuocSoHoa"))} OR {_flag(_vv("HoSoCoThanhPhanSoHoa"))}
                AS has_digitised_component,
            {_live_any("TaiLieuNop", flag("DuocLayTuKhoDMQG"))} AS has_store_component,
            {_live_any("DanhSachGiayToKetQua", nonempty("DuongDanTepTinKetQua"))} AS has_result_file,
            {_live_any("DanhSachGiayToKetQua", nonempty("MaGiayToKetQua"))} AS has_result_code,
            {_live_any("DanhSachGiayToKetQua", flag("DongBoKhoDMQG"))} AS result_synced_to_store,
            {_flag(_vv("TaiKhoanDuocXacThucVoiVNeID"))} AS vneid,
            {_flag(_vv("DanhGiaKhongHaiLong"))} AS disliked,
            {_inst(_vv("NgayCapNhat"))} AS updated_at,
            {_val(_vv("MaCSDL"))} AS top_db_code,
            "DanhSachHoSoBoSung", "DSKetNoiCSDL", "QuaTrinhXuLy"
        FROM (SELECT *, {vs} FROM {source})
        WHERE {_all(top_checks)}
    """
    v = _v_of
    children = [
        f"""CREATE OR REPLACE TEMP TABLE _b_sup AS
           SELECT no, dossier_id, {_inst(v('s."NgayBoSung"'))} AS requested_at,
                  max({_inst(v('s."NgayTiepNhanBoSung"'))}) AS completed_at
           FROM (SELECT no, dossier_id, unnest("DanhSachHoSoBoSung") AS s FROM _b_main) GROUP BY ALL""",
        f"""CREATE OR REPLACE TEMP TABLE _b_db AS
           SELECT DISTINCT no, dossier_id, db_code FROM (
               SELECT no, dossier_id, {_val(v('d."MaCSDL"'))} AS db_code
               FROM (SELECT no, dossier_id, unnest("DSKetNoiCSDL") AS d FROM _b_main)
               UNION ALL SELECT no, dossier_id, top_db_code FROM _b_main)
           WHERE db_code IS NOT NULL""",
        f"""CREATE OR REPLACE TEMP TABLE _b_ev AS
           SELECT DISTINCT no, dossier_id, {v('e."TrangThai"')} AS status, {_inst(v('e."ThoiDiemXuLy"'))} AS event_at
           FROM (SELECT no, dossier_id, unnest("QuaTrinhXuLy") AS e FROM _b_main)""",
        'ALTER TABLE _b_main DROP COLUMN "DanhSachHoSoBoSung"',
        'ALTER TABLE _b_main DROP COLUMN "DSKetNoiCSDL"',
        'ALTER TABLE _b_main DROP COLUMN "QuaTrinhXuLy"',
        "ALTER TABLE _b_main DROP COLUMN top_db_code",
    ]
    return [main, *children]


def _j(f: str) -> str:
    return f'"{f}"'


def _vv(f: str) -> str:
    return f'"v_{f}"'


def _progress_sql(source: str) -> list[str]:
    vs = ", ".join(f'"{f}" ->> \'$\' AS "v_{f}"' for f in _PROGRESS_FIELDS)
    checks = [
        f"{_text(_j('MaHoSo'), _vv('MaHoSo'))} AND {_required(_vv('MaHoSo'))}",
        _required_code(_j("TrangThai"), _vv("TrangThai"), _STATUSES),
        _required_inst(_j("ThoiDiemXuLy"), _vv("ThoiDiemXuLy")),
        *(f'"{a}" IS NULL' for a in _aliases("progress")),
    ]
    return [
        f"""
        CREATE OR REPLACE TEMP TABLE _b_ev AS
        SELECT no, {_vv("MaHoSo")} AS dossier_id, {_vv("TrangThai")} AS status,
               {_inst(_vv("ThoiDiemXuLy"))} AS event_at
        FROM (SELECT *, {vs} FROM {source})
        WHERE {_all(checks)}
        """
    ]


def front_sql(kind: str, lo: int, hi: int, source: str | None = None) -> list[str]:
    """Statements filling the certified rows of records ``lo``…``hi`` of ``_n_in`` — or of ``source``
    (:func:`read_source`) — as ``_b_main``/``_b_sup``/``_b_db``/``_b_ev`` for dossiers, ``_b_ev`` for progress
    entries."""
    src = source if source is not None else _rows(lo, hi)
    return _dossier_sql(src) if kind == "dossiers" else _progress_sql(src)


# ------------------------------------------------------------------------------------- records for Python


class FileRecords:
    """The records of a natively read file that Python must judge, read again by the reference readers
    (``load._read_jsonl`` / ``load._read_json``) so that they are exactly what the per-record path would see."""

    def __init__(self, path: Path, fmt: str) -> None:
        self.path = path
        self.fmt = fmt
        self.values: dict[int, Any] = {}

    def prefetch(self, nos: Iterable[int]) -> None:
        wanted = {no for no in nos if no not in self.values}
        if not wanted:
            return
        last = max(wanted)
        for no, record in enumerate(self._records(), start=1):
            if no in wanted:
                self.values[no] = record
            if no >= last:
                break

    def __getitem__(self, no: int) -> Any:
        if no not in self.values:
            self.prefetch([no])
        return self.values[no]

    def _records(self) -> Iterator[Any]:
        from chiso766.store.load import _read_json, _read_jsonl

        with self.path.open("rb") as f:
            yield from (_read_jsonl(f) if self.fmt == "newline_delimited" else _read_json(f))
