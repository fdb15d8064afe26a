"""Flat files as offices export them — CSV, XLSX and Parquet — read as records of the sync format, streaming.

Column headers may be the sync names (``MaHoSo``), their English aliases (``dossier_id``) or the Vietnamese labels
of office exports (``Mã hồ sơ``, ``Số hồ sơ``, ``Ngày tiếp nhận``, ``Trạng thái``…): a header is compared after
removing accents, case, spaces and punctuation, so ``Mã hồ sơ`` = ``MaHoSo``; :data:`HEADER_SYNONYMS` adds the
labels that do not fold to a field name. Unknown columns (``STT``, ``Tên TTHC``…) are passed on and ignored by
the parsers; personal columns (``Chủ hồ sơ``…) are passed on only to be dropped there.

The header row is the first of the first 30 rows that names the kind's key (title rows above it are skipped).
Cell values become what the sync format sends: every scalar as a string (Excel numbers ``2`` / ``2.0`` → ``"2"``;
so ``1.001234`` stays a TTHC code), date-time cells and ``dd/mm/yyyy[ HH:MM[:SS]]`` / ``yyyy-mm-dd HH:MM:SS``
texts of date fields → ``yyyyMMddHHmmss`` (Vietnam local time; an aware Parquet timestamp is converted), a text
cell holding a JSON list or object (``Quá trình xử lý``) → that value, empty cells → absent. A dossier column
``Lệ phí`` (one amount) becomes ``DanhSachLePhi: [{"Gia": …}]``.

Memory stays constant: CSV is read line by line (UTF-8 with or without BOM, UTF-16 with BOM, else Windows-1258;
``,`` ``;`` tab or ``|`` sniffed), XLSX with openpyxl's read-only mode, Parquet through DuckDB in chunks.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import duckdb

from chiso766.records.dossiers import DOSSIER_ALIASES
from chiso766.records.petitions import PETITION_ALIASES
from chiso766.records.procedures import PROCEDURE_ALIASES
from chiso766.records.publications import PUBLICATION_ALIASES
from chiso766.records.units import UNIT_ALIASES

__all__ = ["FLAT_SUFFIXES", "HEADER_SYNONYMS", "header_map", "read_flat"]

FLAT_SUFFIXES = (".csv", ".tsv", ".xlsx", ".xlsm", ".parquet")
HEADER_SCAN_ROWS = 30
CHUNK = 2_048

_ALIASES: dict[str, dict[str, str]] = {
    "units": UNIT_ALIASES,
    "procedures": PROCEDURE_ALIASES,
    "publications": PUBLICATION_ALIASES,
    "dossiers": DOSSIER_ALIASES,
    "progress": DOSSIER_ALIASES,
    "petitions": PETITION_ALIASES,
}
_KEYS: dict[str, str] = {
    "units": "MaDonVi",
    "procedures": "MATTHC",
    "publications": "SoQuyetDinh",
    "dossiers": "MaHoSo",
    "progress": "MaHoSo",
    "petitions": "MaPAKN",
}
FEE_COLUMN = "\x00fee"  # internal: one fee amount column of a flat dossiers file

# Office-export labels that do not fold to a sync name (folded: no accents, lower case, letters and digits only).
HEADER_SYNONYMS: dict[str, dict[str, str]] = {
    "dossiers": {
        "sohoso": "MaHoSo",
        "mahs": "MaHoSo",
        "trangthai": "TrangThaiHoSo",
        "tinhtrang": "TrangThaiHoSo",
        "coquanthuchien": "MaCoQuanThucHien",
        "macoquan": "MaCoQuanThucHien",
        "donvi": "MaDonVi",
        "mathutuc": "MaTTHC",
        "mathutuchanhchinh": "MaTTHC",
        "kenh": "KenhThucHien",
        "kenhnop": "KenhThucHien",
        "hinhthucnop": "KenhThucHien",
        "ngaynop": "NgayNopHoSo",
        "ngayhentraketqua": "NgayHenTra",
        "ngaytraketqua": "NgayTra",
        "ngayxulyxong": "NgayKetThucXuLy",
        "ngayketthuc": "NgayKetThucXuLy",
        "thanhtoantructuyen": "DuocThanhToanTrucTuyen",
        "quatrinh": "QuaTrinhXuLy",
        "tientrinh": "QuaTrinhXuLy",
        "lephi": FEE_COLUMN,
        "philephi": FEE_COLUMN,
        "sotien": FEE_COLUMN,
        "hethong": "HeThongNguon",
    },
    "progress": {
        "sohoso": "MaHoSo",
        "mahs": "MaHoSo",
        "trangthaihoso": "TrangThai",
        "thoidiem": "ThoiDiemXuLy",
        "ngayxuly": "ThoiDiemXuLy",
        "thoigianxuly": "ThoiDiemXuLy",
    },
    "petitions": {
        "mapa": "MaPAKN",
        "maphananh": "MaPAKN",
        "maphananhkiennghi": "MaPAKN",
        "donvitiepnhan": "MaDonVi",
        "ngaytiepnhan": "NgayGui",
        "tientrinh": "TienTrinh",
    },
    "units": {
        "ma": "MaDonVi",
        "ten": "TenDonVi",
        "madvcha": "MaDonViCha",
        "donvicha": "MaDonViCha",
        "cap": "CapDonVi",
        "capdv": "CapDonVi",
        "madinhdanhdonvi": "MaDinhDanh",
    },
    "publications": {"soqd": "SoQuyetDinh", "ngayqd": "NgayQuyetDinh", "ngaybanhanh": "NgayQuyetDinh"},
    "procedures": {"mathutuc": "MATTHC", "tenthutuc": "TENTTHC"},
}

_DMY = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})(?:[ T,]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?")
_YMD = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?)?")
_VN = timedelta(hours=7)


def _norm(header: str) -> str:
    decomposed = unicodedata.normalize("NFD", header.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in decomposed.lower() if ch.isascii() and ch.isalnum())


def header_map(kind: str) -> dict[str, str]:
    """Folded header → field name for ``kind``: sync names, English aliases, then office synonyms."""
    aliases = _ALIASES[kind]
    out: dict[str, str] = {}
    for en in aliases.values():
        out.setdefault(_norm(en), en)
    for vi in aliases:
        out[_norm(vi)] = vi
    out.update(HEADER_SYNONYMS.get(kind, {}))
    if kind == "progress":
        out["trangthai"] = "TrangThai"
    return out


def _is_date_field(name: str) -> bool:
    return name.startswith(("Ngay", "ThoiDiem", "NGAY")) or name.endswith(("_at", "_on"))


def _stamp(value: datetime) -> str:
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None) + _VN
    return value.strftime("%Y%m%d%H%M%S")


def _date_text(text: str) -> str:
    """``dd/mm/yyyy[ HH:MM[:SS]]`` or ``yyyy-mm-dd[ HH:MM:SS]`` → ``yyyyMMddHHmmss``; anything else unchanged."""
    m = _DMY.fullmatch(text)
    if m:
        d, mo, y, hh, mi, ss = m.groups()
        return f"{y}{int(mo):02d}{int(d):02d}{int(hh or 0):02d}{mi or '00'}{ss or '00'}"
    m = _YMD.fullmatch(text)
    if m:
        y, mo, d, hh, mi, ss = m.groups()
        return f"{y}{mo}{d}{hh or '00'}{mi or '00'}{ss or '00'}"
    return text


def _cell(name: str, value: Any) -> Any:
    """One cell as the sync format sends it (see the module docstring); None for an empty cell."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, datetime):
        return _stamp(value)
    if isinstance(value, date):
        return value.strftime("%Y%m%d") + "000000"
    if isinstance(value, time):
        return value.strftime("%H%M%S")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float | Decimal):
        return str(int(value)) if value == int(value) else str(value)
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return value  # lists/structs of Parquet: as they are
    text = value.strip()
    if not text:
        return None
    if text[0] in "[{":
        try:
            return json.loads(text)
        except ValueError:
            return text
    if _is_date_field(name):
        return _date_text(text)
    return text


class _Rows:
    """Turns header + value rows into records for one kind."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.names = header_map(kind)
        self.key_names = {_norm(_KEYS[kind]), _norm(_ALIASES[kind].get(_KEYS[kind], _KEYS[kind]))} | {
            h for h, f in HEADER_SYNONYMS.get(kind, {}).items() if f == _KEYS[kind]
        }
        self.fields: list[str] | None = None

    def is_header(self, row: Sequence[Any]) -> bool:
        return any(isinstance(c, str) and _norm(c) in self.key_names for c in row)

    def set_header(self, row: Sequence[Any]) -> None:
        self.fields = [self.names.get(_norm(str(c)), str(c).strip()) if c is not None else "" for c in row]

    def record(self, row: Sequence[Any]) -> dict[str, Any] | None:
        assert self.fields is not None
        out: dict[str, Any] = {}
        for name, raw in zip(self.fields, row, strict=False):
            if not name:
                continue
            value = _cell(name, raw)
            if value is None:
                continue
            if name == FEE_COLUMN:
                out.setdefault("DanhSachLePhi", []).append({"Gia": value})
            else:
                out[name] = value
        return out or None


def _rows_to_records(kind: str, rows: Iterable[Sequence[Any]]) -> Iterator[dict[str, Any]]:
    """Skip title rows, take the header, then yield one record per non-empty row."""
    shaper = _Rows(kind)
    pending: list[Sequence[Any]] = []
    it = iter(rows)
    for row in it:
        if shaper.is_header(row):
            shaper.set_header(row)
            break
        pending.append(row)
        if len(pending) >= HEADER_SCAN_ROWS:
            break
    if shaper.fields is None:  # no row names the key: the first non-empty row is the header
        non_empty = [r for r in pending if any(c not in (None, "") for c in r)]
        if not non_empty:
            return
        shaper.set_header(non_empty[0])
        rest: Iterable[Sequence[Any]] = non_empty[1:]
        for row in rest:
            record = shaper.record(row)
            if record is not None:
                yield record
    for row in it:
        record = shaper.record(row)
        if record is not None:
            yield record


# ------------------------------------------------------------------------------------------------- readers


def _text_stream(f: IO[bytes]) -> IO[str]:
    head = f.read(1 << 20)
    f.seek(0)
    if head.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    else:
        try:
            head.decode("utf-8")
            encoding = "utf-8"
        except UnicodeDecodeError as exc:
            # a cut multi-byte character at the end of the probe is still UTF-8
            encoding = "utf-8" if exc.start >= len(head) - 3 else "cp1258"
    return io.TextIOWrapper(f, encoding=encoding, newline="")


def _delimiter(sample: str, suffix: str, kind: str) -> str:
    """The delimiter that makes one of the first lines the kind's header; else csv.Sniffer's guess; else ``,``."""
    if suffix == ".tsv":
        return "\t"
    shaper = _Rows(kind)
    lines = sample.splitlines()[:HEADER_SCAN_ROWS]
    for delimiter in (",", ";", "\t", "|"):
        if any(shaper.is_header(row) for row in csv.reader(lines, delimiter=delimiter)):
            return delimiter
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def _csv_rows(path: Path, kind: str) -> Iterator[list[str]]:
    with path.open("rb") as raw:
        text = _text_stream(raw)
        sample = text.read(64 * 1024)
        text.seek(0)
        yield from csv.reader(text, delimiter=_delimiter(sample, path.suffix.lower(), kind))


def _xlsx_rows(path: Path, kind: str) -> Iterator[tuple[Any, ...]]:
    import openpyxl  # type: ignore[import-untyped]

    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        shaper = _Rows(kind)
        chosen = wb.worksheets[0]
        for ws in wb.worksheets:  # the first sheet whose first rows name the key
            if any(shaper.is_header(r) for r in ws.iter_rows(max_row=HEADER_SCAN_ROWS, values_only=True)):
                chosen = ws
                break
        yield from chosen.iter_rows(values_only=True)
    finally:
        wb.close()


def _parquet_rows(path: Path) -> Iterator[tuple[Any, ...]]:
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'Asia/Ho_Chi_Minh'")
        result = con.execute("SELECT * FROM read_parquet(?)", [str(path)])
        yield tuple(d[0] for d in result.description or ())
        while True:
            chunk = result.fetchmany(CHUNK)
            if not chunk:
                break
            yield from chunk
    finally:
        con.close()


def read_flat(path: Path, kind: str) -> Iterator[dict[str, Any]]:
    """The records of a CSV/TSV, XLSX or Parquet file of ``kind`` (see the module docstring)."""
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv"):
        return _rows_to_records(kind, _csv_rows(path, kind))
    if suffix in (".xlsx", ".xlsm"):
        return _rows_to_records(kind, _xlsx_rows(path, kind))
    if suffix == ".parquet":
        return _rows_to_records(kind, _parquet_rows(path))
    raise ValueError(f"not a flat file: {path}")
