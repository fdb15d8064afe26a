"""The administrative unit tree (đơn vị): provinces, departments, districts and communes.

A :class:`UnitTree` is built once, validated as a whole (every problem is reported together), and is
immutable afterwards. It has any depth: nation → province → department (sở, ban, ngành) / commune, or the
older province → district → commune. Navigation (children, descendants, ancestors, cohorts) is
precomputed, so each call costs only the size of its answer.

:func:`load_reference_units_2025` returns the shipped 2025 map: the nation ``VN`` over the 34 provinces
(codes = DVCQG codes such as ``H44``) and their 3,321 communes (codes ``H44.07894`` = province DVCQG code
plus 5-digit NSO code; chiso766 reference codes, not DVCQG agency codes).
"""

from __future__ import annotations

import csv
import functools
import io
import logging
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from importlib import resources
from typing import Any, ClassVar

from chiso766.errors import InputError, Problem

log = logging.getLogger(__name__)

__all__ = [
    "NATION_CODE",
    "Unit",
    "UnitLevel",
    "UnitTree",
    "UnknownUnitError",
    "load_reference_units_2025",
]

NATION_CODE = "VN"
NATION_NAME = "Cả nước"

_ELECTRONIC_ID = re.compile(r"[0-9A-Z.]{1,35}")


class UnitLevel(StrEnum):
    """The level (cấp) of a unit; ranks are only ever computed among units of one level."""

    NATION = "nation"
    PROVINCE = "province"
    PROVINCIAL_DEPARTMENT = "provincial_department"
    DISTRICT = "district"
    COMMUNE = "commune"

    @classmethod
    def parse(cls, value: str) -> UnitLevel:
        """Read a level word: ours (``commune``) or the portal's (``COMMUNE_PEOPLE_COMMITTEE``), any case.

        Raises :class:`ValueError` for anything else.
        """
        key = value.strip().lower().replace("-", "_").replace(" ", "_")
        level = _LEVEL_WORDS.get(key)
        if level is None:
            raise ValueError(f"unknown unit level {value!r}")
        return level

    @classmethod
    def accepted_words(cls) -> tuple[str, ...]:
        """Every word :meth:`parse` accepts (lower case)."""
        return tuple(_LEVEL_WORDS)


_LEVEL_WORDS: dict[str, UnitLevel] = {
    **{level.value: level for level in UnitLevel},
    "commune_people_committee": UnitLevel.COMMUNE,
    "district_people_committee": UnitLevel.DISTRICT,
}


@dataclass(frozen=True, slots=True)
class Unit:
    """One administrative unit. ``electronic_id`` is its QĐ 20/2020 ``MaDinhDanh`` when known."""

    code: str
    name: str
    level: UnitLevel
    parent_code: str | None = None
    nso_code: str | None = None
    dvcqg_code: str | None = None
    electronic_id: str | None = None


class UnknownUnitError(InputError, KeyError):
    """A unit code that is not in the tree (also a :class:`KeyError`)."""

    @classmethod
    def for_code(cls, code: str) -> UnknownUnitError:
        return cls(
            code="unknown_unit",
            message_vi=f"Không có đơn vị mã '{code}'",
            message_en=f"No unit with code '{code}'",
            problems=[
                Problem(
                    message_vi=f"Không có đơn vị mã '{code}'",
                    message_en=f"No unit with code '{code}'",
                    field="code",
                )
            ],
        )

    def __str__(self) -> str:
        return self.line()


@dataclass(frozen=True, slots=True)
class _Fields:
    """Field names used in problem reports (record keys, or ``Unit`` attributes)."""

    code: str = "code"
    parent: str = "parent_code"
    level: str = "level"
    electronic_id: str = "electronic_id"


_ENGLISH = _Fields()
_PORTAL = _Fields(code="MaDonVi", parent="MaDonViCha", level="CapDonVi", electronic_id="MaDinhDanh")


@dataclass(frozen=True, slots=True)
class _Entry:
    """A unit to be built, with where it came from (for problem reports)."""

    unit: Unit
    where: str
    fields: _Fields


class UnitTree:
    """An immutable, validated forest of :class:`Unit` (usually one nation or one province at the top).

    Build it with :meth:`from_units` or :meth:`from_records`. Unknown codes given to the navigation
    methods raise :class:`UnknownUnitError`. Sequences are tuples in pre-order (a parent before its
    children, siblings in input order).
    """

    __slots__ = ("_by_eid", "_by_level", "_children", "_end", "_order", "_pos", "_roots", "_units")

    _frozen: ClassVar[str] = "UnitTree is immutable"

    def __init__(self, units: Iterable[Unit]) -> None:
        """Index already-validated units; use :meth:`from_units` to validate first."""
        by_code: dict[str, Unit] = {u.code: u for u in units}
        children: dict[str, list[str]] = {code: [] for code in by_code}
        roots: list[str] = []
        for unit in by_code.values():
            if unit.parent_code is None:
                roots.append(unit.code)
            else:
                children[unit.parent_code].append(unit.code)

        order: list[Unit] = []
        pos: dict[str, int] = {}
        end: dict[str, int] = {}
        for root in roots:  # iterative pre-order walk; end[code] = one past the last descendant
            stack: list[tuple[str, bool]] = [(root, False)]
            while stack:
                code, done = stack.pop()
                if done:
                    end[code] = len(order)
                    continue
                pos[code] = len(order)
                order.append(by_code[code])
                stack.append((code, True))
                stack.extend((child, False) for child in reversed(children[code]))

        by_level: dict[UnitLevel, list[Unit]] = {level: [] for level in UnitLevel}
        for unit in order:
            by_level[unit.level].append(unit)
        by_eid = {u.electronic_id: u for u in order if u.electronic_id}

        setattr_ = object.__setattr__
        setattr_(self, "_units", by_code)
        setattr_(self, "_children", {c: tuple(by_code[k] for k in ks) for c, ks in children.items()})
        setattr_(self, "_roots", tuple(by_code[c] for c in roots))
        setattr_(self, "_order", tuple(order))
        setattr_(self, "_pos", pos)
        setattr_(self, "_end", end)
        setattr_(self, "_by_level", {level: tuple(us) for level, us in by_level.items()})
        setattr_(self, "_by_eid", by_eid)

    _units: dict[str, Unit]
    _children: dict[str, tuple[Unit, ...]]
    _roots: tuple[Unit, ...]
    _order: tuple[Unit, ...]
    _pos: dict[str, int]
    _end: dict[str, int]
    _by_level: dict[UnitLevel, tuple[Unit, ...]]
    _by_eid: dict[str, Unit]

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(self._frozen)

    def __delattr__(self, name: str) -> None:
        raise AttributeError(self._frozen)

    # ------------------------------------------------------------------ building

    @classmethod
    def from_units(cls, units: Iterable[Unit], source: str = "units") -> UnitTree:
        """Validate ``units`` and build the tree.

        Every problem is collected (missing code, unknown level, duplicate code or electronic id,
        unknown parent, cycle) and raised together as one :class:`InputError` (code ``invalid_units``).
        """
        entries = [
            _Entry(unit, f"{source}[{i}]" + (f" {unit.code}" if unit.code else ""), _ENGLISH)
            for i, unit in enumerate(units)
        ]
        return cls._build(entries, [])

    @classmethod
    def from_records(cls, records: Iterable[Any], source: str = "units.json") -> UnitTree:
        """Build from units.json records (spec INPUT_FORMAT): ``MaDonVi``, ``TenDonVi``, ``MaDonViCha``,
        ``CapDonVi``, ``MaDinhDanh``, or ``code``, ``name``, ``parent_code``, ``level``, ``electronic_id``.

        ``""``/null parent = root. A missing level is inferred only for a root (→ province).
        All problems, of the records and of the tree, are raised together as one :class:`InputError`.
        """
        entries: list[_Entry] = []
        problems: list[Problem] = []
        for i, record in enumerate(records):
            entry = _parse_record(record, f"{source}[{i}]", problems)
            if entry is not None:
                entries.append(entry)
        return cls._build(entries, problems)

    @classmethod
    def _build(cls, entries: list[_Entry], problems: list[Problem]) -> UnitTree:
        """Check the whole set of entries, then build; raise every problem at once."""
        first: dict[str, _Entry] = {}
        eids: dict[str, _Entry] = {}
        for entry in entries:
            unit, where, f = entry.unit, entry.where, entry.fields
            if not isinstance(unit.code, str) or not unit.code.strip():
                problems.append(_problem("Thiếu mã đơn vị", "Missing unit code", where, f.code))
                continue
            if not isinstance(unit.level, UnitLevel):
                try:
                    unit = replace(unit, level=UnitLevel.parse(str(unit.level)))
                    entry = _Entry(unit, where, f)
                except ValueError:
                    problems.append(_bad_level(unit.level, where, f.level))
            if unit.code in first:
                other = first[unit.code].where
                problems.append(
                    _problem(
                        f"Mã đơn vị '{unit.code}' bị trùng (đã có ở {other})",
                        f"Duplicate unit code '{unit.code}' (already at {other})",
                        where,
                        f.code,
                    )
                )
                continue
            first[unit.code] = entry
            if unit.electronic_id:
                if unit.electronic_id in eids:
                    other = eids[unit.electronic_id].where
                    problems.append(
                        _problem(
                            f"Mã định danh '{unit.electronic_id}' bị trùng (đã có ở {other})",
                            f"Duplicate electronic id '{unit.electronic_id}' (already at {other})",
                            where,
                            f.electronic_id,
                        )
                    )
                else:
                    eids[unit.electronic_id] = entry

        for code, entry in first.items():
            parent = entry.unit.parent_code
            if parent is not None and parent not in first:
                problems.append(
                    _problem(
                        f"Không tìm thấy đơn vị cha '{parent}'",
                        f"Parent unit '{parent}' not found",
                        entry.where,
                        entry.fields.parent,
                    )
                )
            elif parent == code:
                problems.append(
                    _problem(
                        "Đơn vị là cha của chính nó",
                        "Unit is its own parent",
                        entry.where,
                        entry.fields.parent,
                    )
                )
        problems.extend(_cycles(first))

        if problems:
            raise InputError.of(
                "invalid_units",
                problems,
                message_vi="Danh sách đơn vị không hợp lệ",
                message_en="Invalid unit list",
            )
        tree = cls(entry.unit for entry in first.values())
        log.debug("unit tree built: %d units, %d roots", len(tree), len(tree.roots()))
        return tree

    # ---------------------------------------------------------------- navigation

    def __len__(self) -> int:
        return len(self._units)

    def __contains__(self, code: object) -> bool:
        return code in self._units

    def __iter__(self) -> Iterator[Unit]:
        """All units in pre-order."""
        return iter(self._order)

    def __getitem__(self, code: str) -> Unit:
        return self.unit(code)

    def __repr__(self) -> str:
        return f"UnitTree({len(self)} units, roots={[u.code for u in self._roots]})"

    def get(self, code: str) -> Unit | None:
        """The unit with this code, or ``None``."""
        return self._units.get(code)

    def unit(self, code: str) -> Unit:
        """The unit with this code; :class:`UnknownUnitError` if there is none."""
        try:
            return self._units[code]
        except KeyError:
            raise UnknownUnitError.for_code(code) from None

    def roots(self) -> tuple[Unit, ...]:
        """Units without a parent, in input order."""
        return self._roots

    def children(self, code: str) -> tuple[Unit, ...]:
        """Direct children of ``code``."""
        self.unit(code)
        return self._children[code]

    def descendants(self, code: str, include_self: bool = False) -> tuple[Unit, ...]:
        """All units below ``code`` (any depth), in pre-order; ``code`` itself first if ``include_self``."""
        self.unit(code)
        start = self._pos[code]
        return self._order[start if include_self else start + 1 : self._end[code]]

    def is_descendant(self, code: str, ancestor: str) -> bool:
        """Whether ``code`` is ``ancestor`` or lies below it."""
        self.unit(code)
        self.unit(ancestor)
        return self._pos[ancestor] <= self._pos[code] < self._end[ancestor]

    def ancestors(self, code: str) -> tuple[Unit, ...]:
        """The parent, grandparent, … up to the top unit (nearest first); empty for a root."""
        unit = self.unit(code)
        chain: list[Unit] = []
        while unit.parent_code is not None:
            unit = self._units[unit.parent_code]
            chain.append(unit)
        return tuple(chain)

    def root_of(self, code: str) -> Unit:
        """The top unit below the nation that contains ``code`` (its province); the unit itself for a
        top unit or the nation."""
        unit = self.unit(code)
        for ancestor in self.ancestors(code):
            if ancestor.level is UnitLevel.NATION:
                break
            unit = ancestor
        return unit

    def level_of(self, code: str) -> UnitLevel:
        """The level of ``code``."""
        return self.unit(code).level

    def cohort(self, level: UnitLevel | str, within: str | None = None) -> tuple[Unit, ...]:
        """The units of one level (the cohort they rank in), optionally only those in ``within``'s subtree
        (``within`` itself included when it has that level)."""
        wanted = level if isinstance(level, UnitLevel) else UnitLevel.parse(level)
        if within is None:
            return self._by_level[wanted]
        return tuple(u for u in self.descendants(within, include_self=True) if u.level is wanted)

    def by_electronic_id(self, prefix: str) -> Unit | None:
        """The unit whose ``electronic_id`` (MaDinhDanh) is ``prefix``.

        ``prefix`` may be a whole ``MaHoSo`` (``000.00.01.H26-250701-0001``): only the part before the
        first ``-`` is used, case-insensitively.
        """
        key = prefix.split("-", 1)[0].strip().upper()
        return self._by_eid.get(key)

    def closure(self) -> Iterator[tuple[str, str, int]]:
        """Rows ``(ancestor_code, descendant_code, distance)`` including ``(code, code, 0)`` for each unit:
        the flat unit-structure table the SQL engine joins on to pool a parent over its descendants."""
        for unit in self._order:
            yield unit.code, unit.code, 0
            for distance, ancestor in enumerate(self.ancestors(unit.code), start=1):
                yield ancestor.code, unit.code, distance


# -------------------------------------------------------------------- helpers


def _problem(vi: str, en: str, where: str, field: str | None) -> Problem:
    return Problem(message_vi=vi, message_en=en, where=where, field=field)


def _bad_level(value: object, where: str, field: str) -> Problem:
    words = ", ".join(UnitLevel.accepted_words())
    return _problem(
        f"Cấp đơn vị '{value}' không hợp lệ (chấp nhận, không phân biệt hoa thường: {words})",
        f"Unknown unit level '{value}' (accepted, any case: {words})",
        where,
        field,
    )


def _cycles(entries: Mapping[str, _Entry]) -> list[Problem]:
    """One problem per cycle of parent links (self-parents are reported elsewhere)."""
    problems: list[Problem] = []
    state: dict[str, int] = {}  # 1 = on the current path, 2 = checked
    for start in entries:
        path: list[str] = []
        code: str | None = start
        while code is not None and code in entries and state.get(code) is None:
            state[code] = 1
            path.append(code)
            code = entries[code].unit.parent_code
        if code is not None and state.get(code) == 1:  # back on the current path: a cycle
            loop = path[path.index(code) :]
            if len(loop) > 1:
                text = " → ".join([*loop, loop[0]])
                entry = entries[loop[0]]
                problems.append(
                    _problem(
                        f"Quan hệ cha–con tạo thành vòng lặp: {text}",
                        f"Parent links form a cycle: {text}",
                        entry.where,
                        entry.fields.parent,
                    )
                )
        for member in path:
            state[member] = 2
    return problems


def _pick(record: Mapping[str, Any], *keys: str) -> tuple[str, Any]:
    """The first key present in ``record`` and its value (``(keys[0], None)`` if none is)."""
    for key in keys:
        if key in record:
            return key, record[key]
    return keys[0], None


def _text(value: Any, where: str, field: str, problems: list[Problem]) -> str | None:
    """A stripped string, ``None`` for ``""``/null; a problem for any other type."""
    if value is None:
        return None
    if not isinstance(value, str):
        problems.append(
            _problem(
                f"Giá trị phải là chuỗi, nhận được {type(value).__name__}",
                f"Value must be a string, got {type(value).__name__}",
                where,
                field,
            )
        )
        return None
    return value.strip() or None


def _parse_record(record: Any, where: str, problems: list[Problem]) -> _Entry | None:
    """One units.json record → an entry (or ``None`` after recording why it cannot be one)."""
    if not isinstance(record, Mapping):
        problems.append(_problem("Bản ghi không phải đối tượng JSON", "Record is not a JSON object", where, None))
        return None
    portal = any(k in record for k in ("MaDonVi", "MaDonViCha", "CapDonVi", "TenDonVi"))
    fields, other = (_PORTAL, _ENGLISH) if portal else (_ENGLISH, _PORTAL)
    code_key, code_raw = _pick(record, fields.code, other.code)
    code = _text(code_raw, where, code_key, problems)
    if code is None:
        if code_raw is None or isinstance(code_raw, str):
            problems.append(_problem("Thiếu mã đơn vị", "Missing unit code", where, code_key))
        return None
    where = f"{where} {code}"

    name_key, name_raw = _pick(record, *(("TenDonVi", "name") if portal else ("name", "TenDonVi")))
    name = _text(name_raw, where, name_key, problems) or code
    parent_key, parent_raw = _pick(record, fields.parent, other.parent)
    parent = _text(parent_raw, where, parent_key, problems)
    eid_key, eid_raw = _pick(record, fields.electronic_id, other.electronic_id)
    eid = _text(eid_raw, where, eid_key, problems)
    if eid is not None:
        eid = eid.upper()
        if not _ELECTRONIC_ID.fullmatch(eid):
            problems.append(
                _problem(
                    f"Mã định danh '{eid}' không hợp lệ (tối đa 35 ký tự: chữ số, A–Z, dấu chấm)",
                    f"Invalid electronic id '{eid}' (up to 35 characters: digits, A–Z, dots)",
                    where,
                    eid_key,
                )
            )
            eid = None

    level_key, level_raw = _pick(record, fields.level, other.level)
    level_text = _text(level_raw, where, level_key, problems)
    level: UnitLevel | None = None
    if level_text is None:
        if parent is None:
            level = UnitLevel.PROVINCE
            log.debug("%s: no level given, root unit taken as province", where)
        elif level_raw is None or isinstance(level_raw, str):
            problems.append(
                _problem(
                    "Thiếu cấp đơn vị (chỉ suy ra được cho đơn vị gốc: tỉnh)",
                    "Missing unit level (it can only be inferred for a root unit: province)",
                    where,
                    level_key,
                )
            )
    else:
        try:
            level = UnitLevel.parse(level_text)
        except ValueError:
            problems.append(_bad_level(level_text, where, level_key))
    if level is None:
        # Keep the unit so that its children are not also reported as orphans; the problem is recorded.
        level = UnitLevel.PROVINCE

    nso = _text(record.get("nso_code"), where, "nso_code", problems)
    dvcqg = _text(record.get("dvcqg_code"), where, "dvcqg_code", problems)
    unit = Unit(code, name, level, parent, nso, dvcqg, eid)
    return _Entry(unit, where, fields)


# ----------------------------------------------------------- reference data


def _read_csv(filename: str) -> list[dict[str, str]]:
    text = resources.files("chiso766").joinpath("reference", "data", filename).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


@functools.lru_cache(maxsize=1)
def load_reference_units_2025() -> UnitTree:
    """The shipped 2025 map: nation ``VN`` (Cả nước) → 34 provinces → 3,321 communes.

    Province codes are DVCQG codes (``H44``); commune codes are ``H44.07894`` (chiso766 reference codes).
    Cached: every call returns the same immutable tree.
    """
    units = [Unit(NATION_CODE, NATION_NAME, UnitLevel.NATION)]
    for row in _read_csv("provinces-2025.csv"):
        units.append(
            Unit(
                code=row["code"],
                name=row["name"],
                level=UnitLevel.PROVINCE,
                parent_code=NATION_CODE,
                nso_code=row["nso_code"],
                dvcqg_code=row["dvcqg_code"] or None,
            )
        )
    for row in _read_csv("communes-2025.csv"):
        units.append(
            Unit(
                code=row["code"],
                name=row["name"],
                level=UnitLevel.COMMUNE,
                parent_code=row["province_code"],
                nso_code=row["nso_code"],
            )
        )
    tree = UnitTree.from_units(units, source="reference/data")
    log.debug("reference units 2025 loaded: %d units", len(tree))
    return tree
