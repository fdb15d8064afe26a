"""Shared machinery of the record parsers: a field reader that collects every problem, dates, flags, PII removal.

A parser reads one input record (a dict from JSON) through a :class:`Reader`, which looks a field up by its
INPUT_FORMAT name first and then by the kind's snake_case English alias, converts it, and records a bilingual
:class:`~chiso766.errors.Problem` (``where`` = ``"{source}[{record_no}] {key}"``, ``field`` = the input field name
actually present, with ``Parent[i].`` for nested entries) instead of stopping at the first error. The parser then
raises :class:`RecordError` with all problems of the record, or returns a :class:`Parsed` with the rows.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from chiso766.errors import InputError, Problem

Row = tuple[Any, ...]

__all__ = [
    "KindSpec",
    "Parsed",
    "Reader",
    "RecordError",
    "Row",
    "fold",
    "has_nonzero_digit",
    "parse_local_instant",
    "strip_personal",
]


class RecordError(InputError):
    """One input record is invalid; ``problems`` lists every problem found in it (bilingual, field named)."""

    key: str | None = None

    @classmethod
    def of_record(cls, problems: Iterable[Problem], key: str | None) -> RecordError:
        err = cls(
            code="invalid_record",
            message_vi="Bản ghi không hợp lệ",
            message_en="Invalid record",
            problems=list(problems),
        )
        err.key = key
        return err


@dataclass(slots=True)
class Parsed:
    """The store rows of one valid record.

    ``main`` is the row of the kind's main table (``None`` for progress entries); ``children`` maps a child table
    to its rows (first column = the record key). ``unit_code``/``id_prefix`` name the unit the record belongs to
    (the prefix is resolved through ``units.electronic_id`` when the code is missing, D-gen-3); ``extra_units``
    are other units it touches (PAKN transfer receivers). ``earliest_at`` is the earliest instant from which this
    version can change an indicator (``None`` = it may change every period).
    """

    key: str
    main: Row | None
    children: dict[str, list[Row]] = field(default_factory=dict)
    updated_at: datetime | None = None
    unit_code: str | None = None
    id_prefix: str | None = None
    extra_units: tuple[str, ...] = ()
    earliest_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class KindSpec:
    """How one record kind maps onto the store (used by :mod:`chiso766.store.load`).

    ``replaced`` child tables are rewritten with each new version of a record; ``merged`` child tables (status
    histories) only ever gain rows, deduplicated by their primary key.
    """

    kind: str  # records kind: units, procedures, publications, dossiers, progress, petitions
    change_kind: str  # changes.kind: unit, procedure, publication, dossier, petition
    key_fields: tuple[str, ...]  # input names of the key (for quarantine rows of unreadable records)
    main: str | None
    main_columns: tuple[str, ...]
    replaced: Mapping[str, tuple[str, ...]]
    merged: Mapping[str, tuple[str, ...]]
    parse: Callable[[Mapping[str, Any], str], Parsed]
    unit_column: str | None = None  # main column holding the unit (old version's unit for ``changes``)
    prefix_column: str | None = None
    time_columns: tuple[str, ...] = ()  # main columns whose minimum is the version's earliest instant


# ------------------------------------------------------------------------------------------- text helpers


def fold(text: str) -> str:
    """Lower case, no diacritics (đ → d), single spaces: ``"Ngày  làm việc"`` → ``"ngay lam viec"``."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.lower().replace("_", " ").split())


_NONZERO = re.compile(r"[1-9]")


def has_nonzero_digit(value: Any) -> bool:
    """An amount that is not zero: a number ≠ 0, or text containing a digit 1–9 (D-3.6-3)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return value != 0
    return isinstance(value, str) and _NONZERO.search(value) is not None


# Vietnam has kept UTC+7 all year since 1975 (DATA_FORMATS §1.1): a fixed offset is exact in the accepted range.
_VN_OFFSET = timedelta(hours=7)
MIN_YEAR = 1975
MAX_YEAR = 2100


def parse_local_instant(text: str) -> datetime:
    """``yyyyMMddHHmmss`` in Vietnam local time → naive UTC. Raises :class:`ValueError` when malformed.

    Years outside 1975–2100 are refused: no one-stop record is dated there, and such values are typos.
    """
    if len(text) != 14 or not text.isdigit() or not text.isascii():
        raise ValueError("expected 14 digits yyyyMMddHHmmss")
    v = int(text)  # one int, then digits by division: about twice as fast as six slices (hot path of ingest)
    year = v // 10**10
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValueError(f"year outside {MIN_YEAR}-{MAX_YEAR}")
    local = datetime(year, v // 10**8 % 100, v // 10**6 % 100, v // 10**4 % 100, v // 100 % 100, v % 100)
    return local - _VN_OFFSET


def parse_local_date(text: str) -> date:
    """A calendar date: ``yyyyMMdd``, ``yyyyMMddHHmmss`` (its local date), ``yyyy-MM-dd`` or ``dd/MM/yyyy``."""
    t = text.strip()
    if t.isdigit() and t.isascii() and len(t) in (8, 14):
        if len(t) == 14:  # validate the time part too
            datetime(int(t[0:4]), int(t[4:6]), int(t[6:8]), int(t[8:10]), int(t[10:12]), int(t[12:14]))
        return date(int(t[0:4]), int(t[4:6]), int(t[6:8]))
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(t, fmt).date()
        except ValueError:
            continue
    raise ValueError("expected yyyyMMdd, yyyyMMddHHmmss, yyyy-MM-dd or dd/MM/yyyy")


# ----------------------------------------------------------------------------------------- personal data

# Keys never stored, never logged, removed from quarantined records (compared after folding, no spaces).
_PERSONAL_KEYS = frozenset(
    {
        "chuhoso",
        "sogiaytochuhoso",
        "dinhdanhchs",
        "sodienthoai",
        "email",
        "fax",
        "thongtinkhac",
        "trichyeuhoso",
        "hoten",
        "hotennguoigui",
        "nguoigui",
        "tennguoigui",
        "socmnd",
        "socccd",
        "sodinhdanh",
        "owner",
        "ownername",
        "owneridnumber",
        "owneridentifiers",
        "phone",
        "fullname",
        "summary",
        "contact",
    }
)
_PERSONAL_PARTS = ("diachi", "address", "dienthoai", "email", "phone")


def _is_personal(key: str) -> bool:
    k = fold(key).replace(" ", "")
    return k in _PERSONAL_KEYS or any(part in k for part in _PERSONAL_PARTS)


MAX_KEPT_DEPTH = 12  # nesting kept in quarantined records (the sync format needs 3 levels)


def strip_personal(value: Any, _depth: int = 0) -> Any:
    """A copy of a JSON value with every personal-data key removed, at any depth; anything nested deeper than
    :data:`MAX_KEPT_DEPTH` is replaced by ``"…"`` (no record needs it, and it bounds the recursion)."""
    if isinstance(value, Mapping | list) and _depth >= MAX_KEPT_DEPTH:
        return "…"
    if isinstance(value, Mapping):
        return {
            k: strip_personal(v, _depth + 1) for k, v in value.items() if not (isinstance(k, str) and _is_personal(k))
        }
    if isinstance(value, list):
        return [strip_personal(v, _depth + 1) for v in value]
    return value


# ------------------------------------------------------------------------------------------------ reader

_MISSING = ("Thiếu trường bắt buộc", "Missing required field")
MAX_TEXT = 2_000  # characters of a text field (names, links); longer is a broken sender, not data
MAX_CODE = 200  # characters of a code (MaHoSo, MaTTHC, unit codes, statuses)


def is_utf8_text(text: str) -> bool:
    """False for a string the store cannot hold: a lone surrogate (``\\ud800`` from a JSON escape)."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


_TRUE = frozenset({"1", "true"})
_FALSE = frozenset({"0", "false"})


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _type_vi(value: Any) -> str:
    return {
        "bool": "đúng/sai",
        "int": "số nguyên",
        "float": "số",
        "list": "danh sách",
        "dict": "đối tượng",
    }.get(type(value).__name__, type(value).__name__)


class Reader:
    """Reads fields of one JSON object by INPUT_FORMAT name or English alias, recording problems."""

    __slots__ = ("aliases", "path", "problems", "record", "where")

    def __init__(
        self,
        record: Mapping[str, Any],
        aliases: Mapping[str, str],
        where: str,
        problems: list[Problem] | None = None,
        path: str = "",
    ) -> None:
        self.record = record
        self.aliases = aliases
        self.where = where
        self.problems: list[Problem] = [] if problems is None else problems
        self.path = path

    # ---- lookup

    def get(self, name: str, *others: str) -> tuple[str, Any]:
        """``(key actually present, value)`` for ``name``, its English alias, then ``others``; else (name, None)."""
        for candidate in (name, *others):
            if candidate in self.record:
                return candidate, self.record[candidate]
            alias = self.aliases.get(candidate)
            if alias is not None and alias in self.record:
                return alias, self.record[alias]
        return name, None

    def has(self, name: str, *others: str) -> bool:
        """Whether the field is present with a non-empty value (not null, ``""``, ``[]`` or ``{}``)."""
        _, value = self.get(name, *others)
        return value not in (None, "", [], {}) and not (isinstance(value, str) and not value.strip())

    def field_name(self, key: str) -> str:
        return f"{self.path}{key}"

    def problem(self, key: str, vi: str, en: str) -> None:
        self.problems.append(Problem(message_vi=vi, message_en=en, where=self.where, field=self.field_name(key)))

    def _wrong_type(self, key: str, value: Any, want_vi: str, want_en: str) -> None:
        self.problem(
            key,
            f"Sai kiểu dữ liệu: cần {want_vi}, nhận được {_type_vi(value)} {_shown(value)}",
            f"Wrong type: expected {want_en}, got {type(value).__name__} {_shown(value)}",
        )

    def _bounded(self, key: str, text: str, limit: int) -> str | None:
        if len(text) > limit:
            self.problem(
                key,
                f"Giá trị quá dài ({len(text)} ký tự, tối đa {limit})",
                f"Value too long ({len(text)} characters, at most {limit})",
            )
            return None
        if not is_utf8_text(text):
            self.problem(
                key,
                "Chuỗi chứa ký tự không hợp lệ (nửa cặp surrogate, không mã hóa được UTF-8)",
                "The string holds an invalid character (a lone surrogate, not encodable as UTF-8)",
            )
            return None
        return text

    def _missing(self, key: str) -> None:
        self.problem(key, *_MISSING)

    # ---- scalars

    def text(self, name: str, *others: str, required: bool = False) -> str | None:
        """A stripped string; ``""``/null → ``None``. Numbers are not text."""
        key, value = self.get(name, *others)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self._missing(key)
            return None
        if not isinstance(value, str):
            self._wrong_type(key, value, "chuỗi ký tự", "a string")
            return None
        return self._bounded(key, value.strip(), MAX_TEXT)

    def code(self, name: str, *others: str, required: bool = False, allowed: Iterable[str] | None = None) -> str | None:
        """A code sent as a string (an integer is accepted and written as text); ``""``/null → ``None``."""
        key, value = self.get(name, *others)
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self._missing(key)
            return None
        if not isinstance(value, str):
            self._wrong_type(key, value, "mã dạng chuỗi", "a code string")
            return None
        code = self._bounded(key, value.strip(), MAX_CODE)
        if code is None:
            return None
        if allowed is not None:
            allowed_set = tuple(allowed)
            if code not in allowed_set:
                listed = ", ".join(allowed_set)
                self.problem(
                    key,
                    f"Mã '{code}' không hợp lệ (chấp nhận: {listed})",
                    f"Unknown code '{code}' (accepted: {listed})",
                )
                return None
        return code

    def flag(self, name: str, *others: str) -> bool | None:
        """``"1"``/``1``/true → True, ``"0"``/``0``/false → False, ``""``/null/absent → None; else a problem."""
        key, value = self.get(name, *others)
        if value is None:
            return None
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return value == 1
        if isinstance(value, str):
            v = value.strip().lower()
            if not v:
                return None
            if v in _TRUE:
                return True
            if v in _FALSE:
                return False
        self.problem(
            key,
            f'Cờ phải là "0" hoặc "1", nhận được {_shown(value)}',
            f'Flag must be "0" or "1", got {_shown(value)}',
        )
        return None

    def instant(self, name: str, *others: str, required: bool = False) -> datetime | None:
        """A ``yyyyMMddHHmmss`` Vietnam-local string → naive UTC; ``""``/null → ``None``."""
        key, value = self.get(name, *others)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self._missing(key)
            return None
        if not isinstance(value, str):
            self._wrong_type(key, value, "chuỗi ngày giờ yyyyMMddHHmmss", "a yyyyMMddHHmmss date-time string")
            return None
        try:
            return parse_local_instant(value.strip())
        except ValueError:
            self.problem(
                key,
                f"Ngày giờ không hợp lệ {_shown(value)}: cần dạng yyyyMMddHHmmss "
                "(14 chữ số, giờ Việt Nam, năm 1975–2100)",
                f"Malformed date-time {_shown(value)}: expected yyyyMMddHHmmss "
                "(14 digits, Vietnam time, years 1975–2100)",
            )
            return None

    def day(self, name: str, *others: str, required: bool = False) -> date | None:
        """A calendar date (``yyyyMMdd``, ``yyyyMMddHHmmss``, ``yyyy-MM-dd``, ``dd/MM/yyyy``)."""
        key, value = self.get(name, *others)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self._missing(key)
            return None
        if not isinstance(value, str):
            self._wrong_type(key, value, "chuỗi ngày yyyyMMdd", "a yyyyMMdd date string")
            return None
        try:
            return parse_local_date(value)
        except ValueError:
            self.problem(
                key,
                f"Ngày không hợp lệ {_shown(value)}: cần yyyyMMdd, yyyyMMddHHmmss, yyyy-MM-dd hoặc dd/MM/yyyy",
                f"Malformed date {_shown(value)}: expected yyyyMMdd, yyyyMMddHHmmss, yyyy-MM-dd or dd/MM/yyyy",
            )
            return None

    def number(self, name: str, *others: str, required: bool = False) -> float | None:
        """A non-negative number, given as a number or as text (``"1,5"`` = 1.5)."""
        key, value = self.get(name, *others)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self._missing(key)
            return None
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            self._wrong_type(key, value, "số", "a number")
            return None
        try:
            number = float(value.strip().replace(",", ".")) if isinstance(value, str) else float(value)
        except ValueError:
            number = -1.0
        if not number >= 0 or number == float("inf"):
            self.problem(
                key,
                f"Phải là số không âm, nhận được {_shown(value)}",
                f"Must be a non-negative number, got {_shown(value)}",
            )
            return None
        return number

    def count(self, name: str, *others: str) -> int:
        """A non-negative integer (number or digit string); ``""``/null → 0."""
        key, value = self.get(name, *others)
        if value is None or (isinstance(value, str) and not value.strip()):
            return 0
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
        if isinstance(value, str) and value.strip().isdigit():
            return int(value.strip())
        self.problem(
            key,
            f"Phải là số nguyên không âm, nhận được {_shown(value)}",
            f"Must be a non-negative integer, got {_shown(value)}",
        )
        return 0

    # ---- nested

    def objects(self, name: str, *others: str) -> list[Reader]:
        """Readers over a list of objects (``Field[i].`` in problem fields); null/``""`` → empty."""
        key, value = self.get(name, *others)
        if value is None or value == "":
            return []
        if not isinstance(value, list):
            self._wrong_type(key, value, "danh sách đối tượng", "a list of objects")
            return []
        readers: list[Reader] = []
        for i, item in enumerate(value):
            path = f"{self.path}{key}[{i}]"
            if not isinstance(item, Mapping):
                self.problems.append(
                    Problem(
                        message_vi=f"Phần tử phải là đối tượng JSON, nhận được {_type_vi(item)}",
                        message_en=f"Item must be a JSON object, got {type(item).__name__}",
                        where=self.where,
                        field=path,
                    )
                )
                continue
            readers.append(Reader(item, self.aliases, self.where, self.problems, path + "."))
        return readers

    def fail_if_problems(self, key: str | None) -> None:
        if self.problems:
            raise RecordError.of_record(self.problems, key)


def record_key(record: Any, key_fields: Iterable[str]) -> str | None:
    """The record's key (MaHoSo, MaPAKN, …) when it is readable, for messages and quarantine rows."""
    if not isinstance(record, Mapping):
        return None
    for name in key_fields:
        value = record.get(name)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def start_reader(
    record: Mapping[str, Any], aliases: Mapping[str, str], where: str, key_name: str, *others: str
) -> tuple[Reader, str | None]:
    """A reader whose ``where`` ends with the record key (``"{where} {key}"``), and the key (or None)."""
    probe = Reader(record, aliases, where)
    key = probe.text(key_name, *others, required=True)
    if key is not None:
        probe.where = f"{where} {key}"
    return probe, key
