"""Set-based ingest of dossiers and progress entries: JSON texts → DuckDB → the same rows as the Python path.

The reference is the per-record Python path of :mod:`chiso766.store.load` (:func:`chiso766.records.parse_record`
then ``_Loader._apply`` / ``_apply_events``). This module gives **identical** results for those two kinds, faster,
by *certifying* records in SQL rather than judging them:

1. A chunk of records (JSON texts, numbered as in the reference; a whole number of reference batches) goes into a
   temporary table. One SQL pass extracts every field the parser reads and checks that the record is of the plain
   shape the Python fast parser (``records.dossiers.fast_dossier``) takes: a JSON object without repeated keys or
   English aliases, every value a well-formed string (dates ``yyyyMMddHHmmss`` in 1975–2100, flags ``0/1/true/
   false``, codes of at most 200 characters, texts of at most 2,000, no leading or trailing white space), nested
   lists of such objects. Certified records become rows with exactly the values the parser gives.
2. **Every record SQL does not certify goes through the Python parser** (and so gets its bilingual per-field
   problems from the one place that writes them): invalid records, English aliases, numbers for codes, odd white
   space, ``\\u0000`` or surrogate escapes. Nothing is judged by SQL alone except what it certifies as valid.
3. Versions: a dossier key seen once among the valid records of the chunk is compared and upserted set-based
   (newer ``NgayCapNhat`` wins, unchanged detection on the main row and child sets, events merged); a key with
   several valid versions in the chunk, or parsed by Python, is applied by the reference code batch by batch
   (``_Loader._apply``), so in-batch version chains behave exactly as before. Progress entries are set-based: an
   entry is new when it is neither stored nor seen earlier in the file, and ``changes`` gets one row per dossier
   and reference batch, as before.

Only ``dossiers`` and ``progress`` take this path (they are nearly all records); the other kinds stay on the
Python path. ``tests/ingest/test_ingest_bulk.py`` checks table contents, quarantine problems, ``changes`` and
report counts against the reference on generated, hypothesis-made and hand-broken records.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import duckdb

from chiso766.records import Parsed
from chiso766.records.dossiers import DOSSIER_ALIASES, DOSSIER_COLUMNS, DOSSIER_STATUSES, id_prefix

if TYPE_CHECKING:
    from chiso766.errors import Problem
    from chiso766.store.load import _Loader

__all__ = ["BULK_KINDS", "BulkChunk", "JsonText"]

BULK_KINDS = frozenset({"dossiers", "progress"})


@dataclass(slots=True)
class JsonText:
    """One record as JSON text. ``record`` is its Python value when already known (HTTP, flat files); else the
    text is decoded by ``load._jsonl_value`` (a JSON Lines line, numbered ``line_no``) when Python must judge it."""

    text: str
    record: Any = None
    line_no: int = 0
    known: bool = False


# Python's str.strip() white space (str.isspace), as an RE2 class: values starting or ending with it fall back.
_WS = "".join(
    f"\\x{{{c:04x}}}"
    for c in (
        *range(0x9, 0xE),
        *range(0x1C, 0x21),
        0x85,
        0xA0,
        0x1680,
        *range(0x2000, 0x200B),
        0x2028,
        0x2029,
        0x202F,
        0x205F,
        0x3000,
    )
)
_EDGE = f"^[{_WS}]|[{_WS}]$"
# A record holding an English alias as a string anywhere (a key, or rarely a value) is left to Python; so is one
# with a \u0000 or surrogate escape (DuckDB and Python could read those differently).
_ALIAS_RE = '"(' + "|".join(sorted(set(DOSSIER_ALIASES.values()))) + ')"'
_RAW_OK = (
    f"CASE WHEN json_valid(t) AND NOT regexp_matches(t, '{_ALIAS_RE}') "
    "AND NOT (contains(t, '\\u') AND regexp_matches(t, '\\\\u(0000|[dD][89a-fA-F])')) "
    "THEN json_type(t) = 'OBJECT' ELSE false END"
)
_TRUE = "('1', 'true', 'True', 'TRUE')"
_FLAGS = "('', '0', '1', 'true', 'false', 'True', 'False', 'TRUE', 'FALSE')"
_STATUSES = "(" + ", ".join(f"'{s}'" for s in DOSSIER_STATUSES) + ")"
_FMT = "'%Y%m%d%H%M%S'"
MAX_TEXT = 2_000
MAX_CODE = 200


# ------------------------------------------------------------------------------------------- SQL pieces
# ``j`` is a field as JSON text (NULL when null or absent), ``v`` the same field as VARCHAR (strings unescaped).


def _is_str(j: str) -> str:
    return f"starts_with({j}::VARCHAR, '\"')"


def _text_ok(j: str, v: str, limit: int = MAX_TEXT) -> str:
    edge = f"regexp_matches({v}, '{_EDGE}')"
    return f"({j} IS NULL OR ({_is_str(j)} AND ({v} = '' OR (length({v}) <= {limit} AND NOT {edge}))))"


def _code_ok(j: str, v: str, allowed: str | None = None) -> str:
    ok = _text_ok(j, v, MAX_CODE)
    return f"({ok} AND ({v} IS NULL OR {v} = '' OR {v} IN {allowed}))" if allowed else ok


def _flag_ok(j: str, v: str) -> str:
    return f"({j} IS NULL OR ({_is_str(j)} AND {v} IN {_FLAGS}))"


def _flag(v: str) -> str:
    """True only for a true flag (the parser's ``flag(...) is True``)."""
    return f"coalesce({v} IN {_TRUE}, false)"


def _inst_ok(j: str, v: str) -> str:
    return (
        f"({j} IS NULL OR ({_is_str(j)} AND ({v} = '' OR (regexp_full_match({v}, '[0-9]{{14}}') "
        f"AND {v}[1:4] BETWEEN '1975' AND '2100' AND try_strptime({v}, {_FMT}) IS NOT NULL))))"
    )


def _inst(v: str) -> str:
    return f"(CASE WHEN {v} <> '' THEN try_strptime({v}, {_FMT}) - INTERVAL 7 HOUR END)"


def _val(v: str) -> str:
    return f"NULLIF({v}, '')"


def _obj_ok(raw: str, keys: str) -> str:
    """An object without repeated keys (English aliases are refused on the raw text, :data:`_RAW_OK`)."""
    return f"(starts_with({raw}::VARCHAR, '{{') AND len({keys}) = list_unique({keys}))"


def _list_ok(j: str) -> str:
    return f"({j} IS NULL OR {j}::VARCHAR = '\"\"' OR starts_with({j}::VARCHAR, '['))"


def _struct(fields: Sequence[str], typ: str) -> str:
    return "'" + json.dumps({f: typ for f in fields}) + "'"


_TOP = (
    "MaHoSo",
    "HeThongNguon",
    "MaCoQuanThucHien",
    "MaDonVi",
    "MaTTHC",
    "KenhThucHien",
    "NgayNopHoSo",
    "NgayTiepNhan",
    "NgayHenTra",
    "TrangThaiHoSo",
    "NgayKetThucXuLy",
    "NgayTra",
    "NgayTuChoi",
    "DuocThanhToanTrucTuyen",
    "NgayCapNhat",
    "HoSoCoThanhPhanSoHoa",
    "TaiKhoanDuocXacThucVoiVNeID",
    "DanhGiaKhongHaiLong",
    "MaCSDL",
)
_LISTS: dict[str, tuple[str, ...]] = {
    "DanhSachLePhi": ("Gia",),
    "DanhSachPhiLePhi": ("Gia",),
    "TaiLieuNop": ("IsDeleted", "DuongDanTaiTepTin", "DuocSoHoa", "DuocLayTuKhoDMQG"),
    "DanhSachGiayToKetQua": ("IsDeleted", "DuongDanTepTinKetQua", "MaGiayToKetQua", "DongBoKhoDMQG"),
    "DSKetNoiCSDL": ("MaCSDL",),
    "DanhSachHoSoBoSung": ("NgayBoSung", "NgayTiepNhanBoSung"),
    "QuaTrinhXuLy": ("MaHoSo", "TrangThai", "ThoiDiemXuLy"),
}
_INSTANTS = ("NgayNopHoSo", "NgayTiepNhan", "NgayHenTra", "NgayKetThucXuLy", "NgayTra", "NgayTuChoi", "NgayCapNhat")


def _j(f: str) -> str:
    return f'r."{f}"'


def _v(f: str) -> str:
    return f's."{f}"'


def _records_sql() -> str:
    """``_b_rec``: JSON objects of the chunk with every field the parser reads (as JSON and as text)."""
    fields = [*_TOP, *_LISTS]
    return f"""
        CREATE OR REPLACE TEMP TABLE _b_rec AS
        SELECT no, json_keys(t) AS k, json_transform(t, {_struct(fields, "JSON")}) AS r,
               json_transform(t, {_struct(_TOP, "VARCHAR")}) AS s
        FROM (SELECT no, t FROM _b_raw WHERE {_RAW_OK})
    """


def _items_sql(name: str) -> str:
    """``_b_i_<name>``: the items of one nested list, with their checks (``ok``)."""
    fields = _LISTS[name]
    checks: list[str] = []
    cols: list[str] = []
    for f in fields:
        j, v = f'ir."{f}"', f'iv."{f}"'
        if f == "Gia":
            checks.append(f"({j} IS NULL OR {_is_str(j)} OR json_type({j}) IN ('UBIGINT', 'BIGINT'))")
            cols.append(f"coalesce(regexp_matches({v}, '[1-9]'), false) AS nonzero")
        elif f in ("IsDeleted", "DuocSoHoa", "DuocLayTuKhoDMQG", "DongBoKhoDMQG"):
            checks.append(_flag_ok(j, v))
            cols.append(f'{_flag(v)} AS "{f}"')
        elif f in ("NgayBoSung", "NgayTiepNhanBoSung", "ThoiDiemXuLy"):
            checks.append(_inst_ok(j, v))
            if f != "NgayTiepNhanBoSung":
                checks.append(f"coalesce({v}, '') <> ''")  # required
            cols.append(f'{_inst(v)} AS "{f}"')
        elif f == "TrangThai":
            checks.append(_code_ok(j, v, _STATUSES))
            checks.append(f"coalesce({v}, '') <> ''")
            cols.append(f'{v} AS "{f}"')
        elif f in ("MaGiayToKetQua", "MaCSDL"):
            checks.append(_code_ok(j, v))
            cols.append(f'{_val(v)} AS "{f}"')
        elif f == "MaHoSo":  # an event's own MaHoSo: absent, empty or the dossier's
            checks.append(f"({_text_ok(j, v)} AND ({_val(v)} IS NULL OR {v} = key))")
        else:
            checks.append(_text_ok(j, v))
            cols.append(f'{_val(v)} AS "{f}"')
    ok = " AND ".join([_obj_ok("x", "json_keys(x)"), *checks])
    return f"""
        CREATE OR REPLACE TEMP TABLE "_b_i_{name}" AS
        SELECT no, key, coalesce({ok}, false) AS ok, {", ".join(cols) if cols else "NULL AS none"}
        FROM (SELECT no, key, x, json_transform(x, {_struct(fields, "JSON")}) AS ir,
                     json_transform(x, {_struct(fields, "VARCHAR")}) AS iv
              FROM (SELECT no, s."MaHoSo" AS key, unnest(json_transform(r."{name}", '["JSON"]')) AS x
                    FROM _b_rec WHERE starts_with(r."{name}"::VARCHAR, '[')))
    """


def _dossier_sql() -> list[str]:
    """Statements that fill ``_b_main`` / ``_b_sup`` / ``_b_db`` / ``_b_ev`` with the certified dossiers."""
    top_checks = [
        _obj_ok("'{'", "k"),
        f"{_text_ok(_j('MaHoSo'), _v('MaHoSo'))} AND coalesce({_v('MaHoSo')}, '') <> ''",
        f"regexp_full_match(split_part({_v('MaHoSo')}, '-', 1), '[\\x21-\\x7e]*')",
        *(_text_ok(_j(f), _v(f)) for f in ("HeThongNguon", "MaCoQuanThucHien", "MaDonVi", "MaTTHC")),
        _code_ok(_j("KenhThucHien"), _v("KenhThucHien")),
        _code_ok(_j("TrangThaiHoSo"), _v("TrangThaiHoSo"), _STATUSES),
        _code_ok(_j("DuocThanhToanTrucTuyen"), _v("DuocThanhToanTrucTuyen")),
        _code_ok(_j("MaCSDL"), _v("MaCSDL")),
        *(_inst_ok(_j(f), _v(f)) for f in _INSTANTS),
        *(
            _flag_ok(_j(f), _v(f))
            for f in ("HoSoCoThanhPhanSoHoa", "TaiKhoanDuocXacThucVoiVNeID", "DanhGiaKhongHaiLong")
        ),
        *(_list_ok(_j(name)) for name in _LISTS),
    ]
    items = [_items_sql(name) for name in _LISTS]
    aggs = """
        CREATE OR REPLACE TEMP TABLE _b_agg AS
        SELECT no, bool_and(ok) AS ok,
               count(*) FILTER (WHERE lst IN ('DanhSachLePhi', 'DanhSachPhiLePhi')) AS fees,
               coalesce(bool_or(nonzero), false) AS nonzero,
               coalesce(bool_or(comp_file), false) AS comp_file, coalesce(bool_or(digitised), false) AS digitised,
               coalesce(bool_or(store), false) AS store, coalesce(bool_or(res_file), false) AS res_file,
               coalesce(bool_or(res_code), false) AS res_code, coalesce(bool_or(synced), false) AS synced
        FROM (
            SELECT no, 'DanhSachLePhi' AS lst, ok, nonzero, NULL::BOOLEAN AS comp_file, NULL::BOOLEAN AS digitised,
                   NULL::BOOLEAN AS store, NULL::BOOLEAN AS res_file, NULL::BOOLEAN AS res_code,
                   NULL::BOOLEAN AS synced FROM "_b_i_DanhSachLePhi"
            UNION ALL SELECT no, 'DanhSachPhiLePhi', ok, nonzero, NULL, NULL, NULL, NULL, NULL, NULL
                FROM "_b_i_DanhSachPhiLePhi"
            UNION ALL SELECT no, 'TaiLieuNop', ok, NULL, NOT "IsDeleted" AND "DuongDanTaiTepTin" IS NOT NULL,
                NOT "IsDeleted" AND "DuocSoHoa", NOT "IsDeleted" AND "DuocLayTuKhoDMQG", NULL, NULL, NULL
                FROM "_b_i_TaiLieuNop"
            UNION ALL SELECT no, 'DanhSachGiayToKetQua', ok, NULL, NULL, NULL, NULL,
                NOT "IsDeleted" AND "DuongDanTepTinKetQua" IS NOT NULL,
                NOT "IsDeleted" AND "MaGiayToKetQua" IS NOT NULL,
                NOT "IsDeleted" AND "DongBoKhoDMQG"
                FROM "_b_i_DanhSachGiayToKetQua"
            UNION ALL SELECT no, 'DSKetNoiCSDL', ok, NULL, NULL, NULL, NULL, NULL, NULL, NULL FROM "_b_i_DSKetNoiCSDL"
            UNION ALL SELECT no, 'DanhSachHoSoBoSung', ok, NULL, NULL, NULL, NULL, NULL, NULL, NULL
                FROM "_b_i_DanhSachHoSoBoSung"
            UNION ALL SELECT no, 'QuaTrinhXuLy', ok, NULL, NULL, NULL, NULL, NULL, NULL, NULL FROM "_b_i_QuaTrinhXuLy"
        ) GROUP BY no
    """
    main = f"""
        CREATE OR REPLACE TEMP TABLE _b_main AS
        SELECT rec.no,
            {_v("MaHoSo")} AS dossier_id,
            coalesce({_val(_v("HeThongNguon"))}, '') AS source_system,
            coalesce({_val(_v("MaCoQuanThucHien"))}, {_val(_v("MaDonVi"))}) AS unit_code,
            upper(split_part({_v("MaHoSo")}, '-', 1)) AS id_prefix,
            {_val(_v("MaTTHC"))} AS procedure_code,
            {_val(_v("KenhThucHien"))} AS channel,
            {_inst(_v("NgayNopHoSo"))} AS submitted_at,
            {_inst(_v("NgayTiepNhan"))} AS received_at,
            {_inst(_v("NgayHenTra"))} AS due_at,
            {_val(_v("TrangThaiHoSo"))} AS status,
            {_inst(_v("NgayKetThucXuLy"))} AS processing_end_at,
            {_inst(_v("NgayTra"))} AS returned_at,
            {_inst(_v("NgayTuChoi"))} AS rejected_at,
            {_val(_v("DuocThanhToanTrucTuyen"))} AS payment_code,
            CASE WHEN coalesce(a.fees, 0) = 0 THEN 'none' WHEN a.nonzero THEN 'nonzero' ELSE 'all_zero' END
                AS fee_state,
            coalesce(a.comp_file, false) AS has_component_file,
            coalesce(a.digitised, false) OR {_flag(_v("HoSoCoThanhPhanSoHoa"))} AS has_digitised_component,
            coalesce(a.store, false) AS has_store_component,
            coalesce(a.res_file, false) AS has_result_file,
            coalesce(a.res_code, false) AS has_result_code,
            coalesce(a.synced, false) AS result_synced_to_store,
            {_flag(_v("TaiKhoanDuocXacThucVoiVNeID"))} AS vneid,
            {_flag(_v("DanhGiaKhongHaiLong"))} AS disliked,
            {_inst(_v("NgayCapNhat"))} AS updated_at
        FROM _b_rec rec LEFT JOIN _b_agg a USING (no)
        WHERE coalesce(a.ok, true) AND {" AND ".join(f"coalesce({c}, false)" for c in top_checks)}
    """
    children = [
        """CREATE OR REPLACE TEMP TABLE _b_sup AS
           SELECT no, key AS dossier_id, "NgayBoSung" AS requested_at, max("NgayTiepNhanBoSung") AS completed_at
           FROM "_b_i_DanhSachHoSoBoSung" WHERE no IN (SELECT no FROM _b_main) GROUP BY ALL""",
        """CREATE OR REPLACE TEMP TABLE _b_db AS
           SELECT DISTINCT no, dossier_id, db_code FROM (
               SELECT no, key AS dossier_id, "MaCSDL" AS db_code FROM "_b_i_DSKetNoiCSDL"
               UNION ALL SELECT no, s."MaHoSo", NULLIF(s."MaCSDL", '') FROM _b_rec)
           WHERE db_code IS NOT NULL AND no IN (SELECT no FROM _b_main)""",
        """CREATE OR REPLACE TEMP TABLE _b_ev AS
           SELECT DISTINCT no, key AS dossier_id, "TrangThai" AS status, "ThoiDiemXuLy" AS event_at
           FROM "_b_i_QuaTrinhXuLy" WHERE no IN (SELECT no FROM _b_main)""",
    ]
    return [_records_sql(), *items, aggs, main, *children]


def _progress_sql() -> list[str]:
    fields = ("MaHoSo", "TrangThai", "ThoiDiemXuLy")
    checks = [
        _obj_ok("'{'", "k"),
        f"{_text_ok(_j('MaHoSo'), _v('MaHoSo'))} AND coalesce({_v('MaHoSo')}, '') <> ''",
        f"{_code_ok(_j('TrangThai'), _v('TrangThai'), _STATUSES)} AND coalesce({_v('TrangThai')}, '') <> ''",
        f"{_inst_ok(_j('ThoiDiemXuLy'), _v('ThoiDiemXuLy'))} AND coalesce({_v('ThoiDiemXuLy')}, '') <> ''",
    ]
    return [
        f"""
        CREATE OR REPLACE TEMP TABLE _b_rec AS
        SELECT no, json_keys(t) AS k, json_transform(t, {_struct(fields, "JSON")}) AS r,
               json_transform(t, {_struct(fields, "VARCHAR")}) AS s
        FROM (SELECT no, t FROM _b_raw WHERE {_RAW_OK})
        """,
        f"""
        CREATE OR REPLACE TEMP TABLE _b_ev AS
        SELECT no, s."MaHoSo" AS dossier_id, s."TrangThai" AS status, {_inst(_v("ThoiDiemXuLy"))} AS event_at
        FROM _b_rec WHERE {" AND ".join(f"coalesce({c}, false)" for c in checks)}
        """,
    ]


_DOSSIER_SQL = _dossier_sql()
_PROGRESS_SQL = _progress_sql()
_TEMP = (
    "_b_raw",
    "_b_rec",
    "_b_agg",
    "_b_main",
    "_b_sup",
    "_b_db",
    "_b_ev",
    "_b_old",
    *(f"_b_i_{n}" for n in _LISTS),
)


# ------------------------------------------------------------------------------------------------- loader


Rejected = tuple[int, Any, list["Problem"], str | None]


class BulkChunk:
    """One chunk of records of ``dossiers`` or ``progress`` (see the module docstring), applied in one transaction
    through ``loader``'s tables, receipt and report."""

    def __init__(self, loader: _Loader, batch_size: int) -> None:
        self.loader = loader
        self.batch_size = batch_size
        self.kind = loader.spec.kind

    # -- Python side of a record

    @staticmethod
    def python_value(item: Any) -> Any:
        if isinstance(item, JsonText):
            if item.known:
                return item.record
            from chiso766.store.load import _jsonl_value

            return _jsonl_value(item.line_no, item.text)
        return item

    def _parse(self, no: int, item: Any) -> tuple[Parsed | None, Rejected | None]:
        return self.loader.parse_one(no, self.python_value(item))

    # -- entry point

    def flush(self, batch: list[tuple[int, Any]]) -> None:
        loader = self.loader
        con = loader.con
        texts = [(no, item.text) for no, item in batch if isinstance(item, JsonText)]
        with loader.store.transaction():
            con.execute(
                "CREATE OR REPLACE TEMP TABLE _b_raw AS SELECT unnest(?::BIGINT[]) AS no, unnest(?::VARCHAR[]) AS t",
                [[no for no, _ in texts], [t for _, t in texts]],
            )
            for sql in _DOSSIER_SQL if self.kind == "dossiers" else _PROGRESS_SQL:
                con.execute(sql)
            certified = self._certified(con)
            self._finish(con, [(no, item) for no, item in batch if no not in certified], dict(batch))

    def flush_native(self, lo: int, hi: int, statements: Sequence[str], records: Any) -> None:
        """Records ``lo``…``hi`` of a file read by :mod:`chiso766.store.native`: ``statements`` fill the certified
        rows; ``records[no]`` gives any other record as the reference reader sees it (``records.prefetch``)."""
        con = self.loader.con
        with self.loader.store.transaction():
            for sql in statements:
                con.execute(sql)
            certified = self._certified(con)
            others = [no for no in range(lo, hi + 1) if no not in certified]
            records.prefetch(others)
            self._finish(con, [(no, records[no]) for no in others], records)

    def _certified(self, con: duckdb.DuckDBPyConnection) -> set[int]:
        table = "_b_main" if self.kind == "dossiers" else "_b_ev"
        return {row[0] for row in con.execute(f"SELECT DISTINCT no FROM {table}").fetchall()}

    def _finish(self, con: duckdb.DuckDBPyConnection, others: list[tuple[int, Any]], raw: Any) -> None:
        """Parse the records SQL did not certify, then guard, upsert, quarantine and count the chunk (inside its
        transaction). ``raw[no]`` is any record of the chunk (for versions chains and refusals)."""
        loader = self.loader
        now = _now()
        outcomes = {"new": 0, "updated": 0, "unchanged": 0}
        rejected: list[Rejected] = []
        python: list[tuple[int, Parsed]] = []
        for no, item in others:
            parsed, bad = self._parse(no, item)
            if bad is not None:
                rejected.append(bad)
            elif parsed is not None:
                python.append((no, parsed))
        if self.kind == "dossiers" or loader.guard is not None:
            # the stored rows of the chunk's certified keys, read once: the dossier table is scanned (no index
            # helps a join in DuckDB), and the guard and the upsert both need them
            certified = "_b_main" if self.kind == "dossiers" else "_b_ev"
            con.execute(
                "CREATE OR REPLACE TEMP TABLE _b_old AS SELECT * FROM dossiers "
                f"WHERE dossier_id IN (SELECT dossier_id FROM {certified})"
            )
        if loader.guard is not None:
            self._guard(con, python, raw, rejected)
        if self.kind == "dossiers":
            self._dossiers(con, python, raw, outcomes, now)
        else:
            self._progress(con, python, outcomes, now)
        rejected.sort(key=lambda item: item[0])
        loader._quarantine(con, rejected, now)
        loader.finish_batch(con, outcomes, rejected)
        for table in _TEMP:
            con.execute(f'DROP TABLE IF EXISTS "{table}"')

    # -- token scope (HTTP): the same guard, called with stand-ins of the certified records

    def _guard(
        self,
        con: duckdb.DuckDBPyConnection,
        python: list[tuple[int, Parsed]],
        raw: Any,
        rejected: list[Rejected],
    ) -> None:
        guard = self.loader.guard
        assert guard is not None
        # the records the guard's SQL shortcut clears need no stand-in (most of them, usually)
        shortcut = getattr(guard, "sql_clear", None)
        clear = shortcut(self.kind, stored="_b_old") if shortcut is not None else None
        where, params = (f"WHERE NOT coalesce({clear[0]}, false)", clear[1]) if clear is not None else ("", [])
        if self.kind == "dossiers":
            rows = con.execute(f"SELECT no, dossier_id, unit_code, id_prefix FROM _b_main m {where}", params).fetchall()
            stand_ins = [(no, Parsed(key=key, main=(), unit_code=u, id_prefix=p)) for no, key, u, p in rows]
        else:
            rows = con.execute(f"SELECT DISTINCT no, dossier_id FROM _b_ev m {where}", params).fetchall()
            stand_ins = [(no, Parsed(key=key, main=None, id_prefix=id_prefix(key))) for no, key in rows]
        everything = sorted([*stand_ins, *python], key=lambda item: item[0])
        if not everything:
            return
        refused = guard(con, self.kind, everything, self.loader.source)
        if not refused:
            return
        keys = {no: p.key for no, p in everything}
        _prefetch(raw, refused)
        for no in refused:
            rejected.append((no, self.python_value(raw[no]), refused[no], keys[no]))
        python[:] = [(no, p) for no, p in python if no not in refused]
        gone = [no for no in refused]
        for table in ("_b_main", "_b_sup", "_b_db", "_b_ev"):
            if self.kind == "dossiers" or table == "_b_ev":
                con.execute(f"DELETE FROM {table} WHERE no IN (SELECT unnest(?::BIGINT[]))", [gone])

    # -- dossiers

    def _dossiers(
        self,
        con: duckdb.DuckDBPyConnection,
        python: list[tuple[int, Parsed]],
        raw: Any,
        outcomes: dict[str, int],
        now: datetime,
    ) -> None:
        loader = self.loader
        # keys with more than one valid version in the chunk, or parsed by Python: the reference code, per batch
        python_keys = sorted({p.key for _, p in python})
        slow_rows = con.execute(
            """
            SELECT no, dossier_id FROM _b_main
            WHERE dossier_id IN (SELECT dossier_id FROM _b_main GROUP BY dossier_id HAVING count(*) > 1)
               OR dossier_id IN (SELECT unnest(?::VARCHAR[]))
            """,
            [python_keys],
        ).fetchall()
        slow: list[tuple[int, Parsed]] = list(python)
        _prefetch(raw, [no for no, _ in slow_rows])
        for no, _ in slow_rows:
            parsed, bad = self._parse(no, raw[no])
            assert parsed is not None and bad is None, f"record {no} certified in SQL but refused by the parser"
            slow.append((no, parsed))
        if slow_rows:
            gone = [no for no, _ in slow_rows]
            for table in ("_b_main", "_b_sup", "_b_db", "_b_ev"):
                con.execute(f"DELETE FROM {table} WHERE no IN (SELECT unnest(?::BIGINT[]))", [gone])
        slow.sort(key=lambda item: item[0])
        batches: dict[int, list[tuple[int, Parsed]]] = {}
        for no, p in slow:
            batches.setdefault((no - 1) // self.batch_size, []).append((no, p))
        for part in batches.values():
            loader._apply(con, part, outcomes, now)
        self._dossiers_set(con, outcomes, now)

    def _dossiers_set(self, con: duckdb.DuckDBPyConnection, outcomes: dict[str, int], now: datetime) -> None:
        cols = ", ".join(DOSSIER_COLUMNS)
        same_main = " AND ".join(f"n.{c} IS NOT DISTINCT FROM o.{c}" for c in DOSSIER_COLUMNS)
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE _b_cmp AS
            SELECT n.no, n.dossier_id, n.unit_code, n.id_prefix, o.dossier_id IS NOT NULL AS has_old,
                   o.unit_code AS o_unit, o.id_prefix AS o_prefix,
                   least(n.received_at, n.submitted_at, o.received_at, o.submitted_at) AS earliest_at,
                   CASE WHEN o.dossier_id IS NULL THEN 'new'
                        WHEN n.updated_at < o.updated_at THEN 'unchanged'
                        WHEN NOT ({same_main}) THEN 'updated'
                        ELSE 'check' END AS outcome
            FROM _b_main n LEFT JOIN _b_old o USING (dossier_id)
            """
        )
        # same main row: the child sets decide (supplements and databases equal, events a subset of the stored)
        if con.execute("SELECT count(*) FROM _b_cmp WHERE outcome = 'check'").fetchone()[0]:  # type: ignore[index]
            con.execute(
                """
                UPDATE _b_cmp SET outcome = CASE WHEN dossier_id IN (
                    SELECT dossier_id FROM (
                        (SELECT dossier_id, requested_at, completed_at FROM _b_sup
                         WHERE dossier_id IN (SELECT dossier_id FROM _b_cmp WHERE outcome = 'check')
                         EXCEPT SELECT dossier_id, requested_at, completed_at FROM dossier_supplements
                         WHERE dossier_id IN (SELECT dossier_id FROM _b_cmp WHERE outcome = 'check'))
                        UNION ALL
                        (SELECT dossier_id, requested_at, completed_at FROM dossier_supplements
                         WHERE dossier_id IN (SELECT dossier_id FROM _b_cmp WHERE outcome = 'check')
                         EXCEPT SELECT dossier_id, requested_at, completed_at FROM _b_sup
                         WHERE dossier_id IN (SELECT dossier_id FROM _b_cmp WHERE outcome = 'check'))
                    )
                    UNION ALL SELECT dossier_id FROM (
                        (SELECT dossier_id, db_code FROM _b_db
                         WHERE dossier_id IN (SELECT dossier_id FROM _b_cmp WHERE outcome = 'check')
                         EXCEPT SELECT dossier_id, db_code FROM dossier_databases
                         WHERE dossier_id IN (SELECT dossier_id FROM _b_cmp WHERE outcome = 'check'))
                        UNION ALL
                        (SELECT dossier_id, db_code FROM dossier_databases
                         WHERE dossier_id IN (SELECT dossier_id FROM _b_cmp WHERE outcome = 'check')
                         EXCEPT SELECT dossier_id, db_code FROM _b_db
                         WHERE dossier_id IN (SELECT dossier_id FROM _b_cmp WHERE outcome = 'check'))
                    )
                    UNION ALL SELECT dossier_id FROM (
                        SELECT dossier_id, status, event_at FROM _b_ev
                        WHERE dossier_id IN (SELECT dossier_id FROM _b_cmp WHERE outcome = 'check')
                        EXCEPT SELECT dossier_id, status, event_at FROM dossier_events
                        WHERE dossier_id IN (SELECT dossier_id FROM _b_cmp WHERE outcome = 'check')
                    )
                ) THEN 'updated' ELSE 'unchanged' END
                WHERE outcome = 'check'
                """
            )
        for outcome, n in con.execute("SELECT outcome, count(*) FROM _b_cmp GROUP BY outcome").fetchall():
            outcomes[outcome] += n
        written = "(SELECT dossier_id FROM _b_cmp WHERE outcome <> 'unchanged')"
        if not con.execute(f"SELECT count(*) FROM {written}").fetchone()[0]:  # type: ignore[index]
            return
        # only keys stored before have rows to replace (supplements and databases come with their dossier row)
        replaced = "(SELECT dossier_id FROM _b_cmp WHERE outcome <> 'unchanged' AND has_old)"
        if con.execute(f"SELECT count(*) FROM {replaced}").fetchone()[0]:  # type: ignore[index]
            for table in ("dossiers", "dossier_supplements", "dossier_databases"):
                con.execute(f"DELETE FROM {table} WHERE dossier_id IN {replaced}")
        con.execute(f"INSERT INTO dossiers ({cols}, ingested_at) SELECT {cols}, ? FROM _b_main "
                    f"WHERE dossier_id IN {written}", [now])  # fmt: skip
        # one certified version per key in _b_* (several go the reference way), so the child rows are unique;
        # the written keys' supplements and databases were deleted above, their events merge
        con.execute(
            "INSERT INTO dossier_supplements (dossier_id, requested_at, completed_at) "
            f"SELECT dossier_id, requested_at, completed_at FROM _b_sup WHERE dossier_id IN {written}"
        )
        con.execute(
            "INSERT INTO dossier_databases (dossier_id, db_code) "
            f"SELECT dossier_id, db_code FROM _b_db WHERE dossier_id IN {written}"
        )
        con.execute(
            # an anti join (not NOT EXISTS) lets DuckDB prune the stored events by the new ones' time range
            "INSERT INTO dossier_events (dossier_id, status, event_at) "
            f"SELECT dossier_id, status, event_at FROM (SELECT * FROM _b_ev WHERE dossier_id IN {written}) n "
            "ANTI JOIN dossier_events e USING (dossier_id, status, event_at)"
        )
        con.execute(
            f"""
            INSERT INTO changes (kind, record_key, unit_code, earliest_at, recorded_at)
            SELECT 'dossier', c.dossier_id, COALESCE(c.unit_code, u.unit_code), c.earliest_at, ?
            FROM (SELECT DISTINCT dossier_id, unit_code, id_prefix, earliest_at FROM (
                      SELECT dossier_id, unit_code, id_prefix, earliest_at FROM _b_cmp WHERE outcome <> 'unchanged'
                      UNION ALL
                      SELECT dossier_id, o_unit, o_prefix, earliest_at FROM _b_cmp
                      WHERE outcome <> 'unchanged' AND has_old)
                  WHERE unit_code IS NOT NULL OR id_prefix IS NOT NULL) c
            {_UNIT_BY_PREFIX}
            """,
            [now],
        )
        con.execute("DROP TABLE IF EXISTS _b_cmp")

    # -- progress entries

    def _progress(
        self, con: duckdb.DuckDBPyConnection, python: list[tuple[int, Parsed]], outcomes: dict[str, int], now: datetime
    ) -> None:
        rows = [(no, *row) for no, p in python for row in p.children.get("dossier_events", ())]
        if rows:
            nos, keys, statuses, times = (list(c) for c in zip(*rows, strict=True))
            con.execute(
                "INSERT INTO _b_ev SELECT unnest(?::BIGINT[]), unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), "
                "unnest(?::TIMESTAMP[])",
                [nos, keys, statuses, times],
            )
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE _b_new AS
            SELECT f.* FROM (SELECT dossier_id, status, event_at, min(no) AS no FROM _b_ev GROUP BY ALL) f
            ANTI JOIN dossier_events e USING (dossier_id, status, event_at)
            """
        )
        total, new = con.execute("SELECT (SELECT count(*) FROM _b_ev), (SELECT count(*) FROM _b_new)").fetchone()  # type: ignore[misc]
        outcomes["new"] += new
        outcomes["unchanged"] += total - new
        if new:
            con.execute(  # _b_new: distinct entries not stored yet
                "INSERT INTO dossier_events (dossier_id, status, event_at) "
                "SELECT dossier_id, status, event_at FROM _b_new"
            )
            con.execute(
                f"""
                INSERT INTO changes (kind, record_key, unit_code, earliest_at, recorded_at)
                SELECT 'dossier', c.dossier_id, COALESCE(c.unit_code, u.unit_code), c.earliest_at, ?
                FROM (SELECT e.dossier_id, d.unit_code, d.id_prefix, e.earliest_at
                      FROM (SELECT dossier_id, (no - 1) // ? AS batch_no, min(event_at) AS earliest_at
                            FROM _b_new GROUP BY ALL) e
                      LEFT JOIN dossiers d USING (dossier_id)) c
                {_UNIT_BY_PREFIX}
                """,
                [now, self.batch_size],
            )
        con.execute("DROP TABLE IF EXISTS _b_new")


def _prefetch(raw: Any, nos: Iterable[int]) -> None:
    """Let a lazy record source (:class:`chiso766.store.native.FileRecords`) read ``nos`` in one pass."""
    prefetch = getattr(raw, "prefetch", None)
    if prefetch is not None:
        prefetch(nos)


_UNIT_BY_PREFIX = """
    LEFT JOIN (SELECT electronic_id, min(unit_code) AS unit_code FROM units
               WHERE electronic_id IS NOT NULL GROUP BY electronic_id) u
           ON c.unit_code IS NULL AND u.electronic_id = c.id_prefix
"""


def _now() -> datetime:
    from chiso766.store.load import _now as now

    return now()
