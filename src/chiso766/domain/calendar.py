"""Working-day calendar of Vietnamese state agencies (DATA_FORMATS §2, INTERPRETATIONS D-gen-5).

A day is a working day when it is Monday–Friday and not a day off, or when it is a make-up Saturday
("ngày làm bù"). Days off = statutory holidays of the ``holidays`` package (``holidays.Vietnam``, observed
days included; DATA_FORMATS §2.5) plus the official public-sector overrides of our versioned table
``reference/data/calendar-vn.yaml`` (DATA_FORMATS §2.2). The table covers 2024-01-01..2026-12-31; any
date outside it raises :class:`~chiso766.errors.InputError` (``calendar_out_of_range``) — never a guess.

Counting convention (D-5.2-3, D-2.1-6): ``working_days_between(start, end)`` counts the working days
*after* ``start`` up to and including ``end``. Every lookup is O(1): a cumulative index over the covered
range is precomputed, so ``working_days_between(a, b) == index(b) - index(a)`` for ``a <= b`` — the same
identity SQL can use with :func:`calendar_rows`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from importlib.resources import files
from typing import Any, Final, Literal, NamedTuple, NoReturn

import yaml
from holidays import country_holidays

from chiso766.errors import Chiso766Error, InputError, Problem

#: D-gen-5: Tue 24/11/2026 "Ngày Văn hóa Việt Nam" ([U] in DATA_FORMATS §2.1) is a day off by default.
INCLUDE_VAN_HOA_DAY_2026: Final = True
#: DATA_FORMATS §2.4: one working day = 8 working hours.
WORKING_HOURS_PER_DAY: Final = 8
#: Package-relative path of the override table.
CALENDAR_RESOURCE: Final = "reference/data/calendar-vn.yaml"
#: Switch names an override entry may carry (``switch:`` in the YAML).
SWITCHES: Final = frozenset({"include_van_hoa_day_2026"})

Hours = int | Decimal | Fraction
OverrideKind = Literal["day_off", "working_saturday"]
_Msg = tuple[str, str]  # (message_vi, message_en)
_KINDS: Final[tuple[tuple[str, OverrideKind], ...]] = (
    ("days_off", "day_off"),
    ("working_saturdays", "working_saturday"),
)


class CalendarRow(NamedTuple):
    """One row for a SQL calendar table: ``working_days_between(a, b) = idx(b) - idx(a)`` for ``a <= b``."""

    day: date
    is_working_day: bool
    working_day_index: int  # working days from the covered start up to and including ``day``


@dataclass(frozen=True)
class CalendarOverride:
    """One entry of ``calendar-vn.yaml``: an extra weekday off or a make-up Saturday (DATA_FORMATS §2.2)."""

    day: date
    kind: OverrideKind
    name: str
    source: str  # the ``source:`` text of the entry's year
    also_in_holidays: bool = False  # also returned by the ``holidays`` release in ``holidays_checked``
    switch: str | None = None  # applied only while this switch is on (D-gen-5)


@dataclass(frozen=True)
class CalendarTable:
    """The parsed override table (``calendar-vn.yaml``)."""

    version: str
    holidays_checked: str
    first_day: date
    last_day: date
    overrides: tuple[CalendarOverride, ...]


@dataclass(frozen=True)
class WorkingCalendar:
    """Immutable working-day calendar over ``first_day..last_day`` (DATA_FORMATS §2, D-gen-5).

    Build it with :func:`load_calendar`. ``days_off`` holds the weekdays off; ``working_saturdays`` the
    make-up Saturdays. Methods raise ``InputError`` (``calendar_out_of_range``) for dates outside the range.
    """

    version: str
    first_day: date
    last_day: date
    include_van_hoa_day_2026: bool
    days_off: frozenset[date] = field(repr=False)
    working_saturdays: frozenset[date] = field(repr=False)
    _working: tuple[bool, ...] = field(repr=False, compare=False)
    _cumulative: tuple[int, ...] = field(repr=False, compare=False)
    _working_offsets: tuple[int, ...] = field(repr=False, compare=False)

    # -- lookups -------------------------------------------------------------------------------------

    def is_working_day(self, d: date) -> bool:
        """Whether ``d`` is a working day of state agencies (a ``datetime`` is taken at its date)."""
        return self._working[self._offset(d, "date")]

    def working_day_index(self, d: date) -> int:
        """Working days from ``first_day`` up to and including ``d`` (the index of :class:`CalendarRow`)."""
        return self._cumulative[self._offset(d, "date")]

    def add_working_days(self, d: date, n: int) -> date:
        """The ``n``-th working day after ``d`` (``n >= 0``).

        ``n = 0`` returns ``d`` itself when it is a working day, else the next working day. For ``n >= 1``
        the result ``r`` is the working day with ``working_days_between(d, r) == n``. A result beyond
        ``last_day`` raises ``InputError`` (``calendar_out_of_range``).
        """
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        offset = self._offset(d, "date")
        if n == 0 and self._working[offset]:
            return _as_date(d)
        position = self._cumulative[offset] + max(n, 1) - 1  # 0-based among working days
        if position >= len(self._working_offsets):
            raise InputError.single(
                code="calendar_out_of_range",
                message_vi=(
                    f"Cộng {n} ngày làm việc từ ngày {_as_date(d):%d/%m/%Y} vượt quá phạm vi lịch làm việc "
                    f"đã biết (đến hết ngày {self.last_day:%d/%m/%Y}); "
                    "không suy đoán ngày nghỉ ngoài phạm vi này"
                ),
                message_en=(
                    f"Adding {n} working days to {_as_date(d).isoformat()} goes beyond the known working-day "
                    f"calendar (last day {self.last_day.isoformat()}); days off outside it are not guessed"
                ),
                field="n",
            )
        return self.first_day + timedelta(days=self._working_offsets[position])

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after ``start`` up to and including ``end``; 0 when ``end <= start``.

        The count of D-5.2-3 (PAKN limits) and of "Ngày làm việc" processing times (D-2.1-6). Datetimes
        are taken at their dates (D-gen-1: an instant's date is used). Both dates must be in range.
        """
        first = self._offset(start, "start")
        last = self._offset(end, "end")
        if last <= first:
            return 0
        return self._cumulative[last] - self._cumulative[first]

    # -- "Giờ làm việc" (D-2.1-6) ---------------------------------------------------------------------

    def working_hours_between(self, start: datetime, end: datetime) -> Fraction:
        """Working hours from ``start`` to ``end`` as D-2.1-6 reads them: whole working days × 8.

        Day-granular on purpose: D-2.1-6 compares ``working_days_between(start.date(), end.date())`` with
        ``hours / 8``, so the times of day are ignored.
        """
        return Fraction(WORKING_HOURS_PER_DAY * self.working_days_between(start, end))

    def within_working_hours_limit(
        self, start: datetime, end: datetime, hours: Hours, *, paused_working_days: int = 0
    ) -> bool:
        """D-2.1-6 "Giờ làm việc": ``working_days_between(start, end) - paused_working_days <= hours / 8``.

        ``paused_working_days`` is the same working-day count summed over supplement pauses (D-2.1-6).
        """
        limit_days = _hours(hours) / WORKING_HOURS_PER_DAY
        return self.working_days_between(start, end) - paused_working_days <= limit_days

    def working_hours_due_date(self, start: date, hours: Hours) -> date:
        """Last working day whose end still meets an ``hours`` limit under D-2.1-6.

        With ``m = floor(hours / 8)``: ``start``'s date when ``m == 0``, else ``add_working_days(start, m)``.
        Non-working days right after that date add no working day, so they are on time too.
        """
        whole_days = int(_hours(hours) // WORKING_HOURS_PER_DAY)
        self._offset(start, "start")
        if whole_days == 0:
            return _as_date(start)
        return self.add_working_days(start, whole_days)

    # -- SQL export ------------------------------------------------------------------------------------

    def calendar_rows(self, start: date | None = None, end: date | None = None) -> Iterator[CalendarRow]:
        """Rows ``(day, is_working_day, working_day_index)`` for ``start..end`` (inclusive; default: all).

        ``working_day_index`` is cumulative from ``first_day``, so in SQL
        ``working_days_between(a, b) = GREATEST(0, idx(b) - idx(a))``.
        """
        first = self._offset(start if start is not None else self.first_day, "start")
        last = self._offset(end if end is not None else self.last_day, "end")
        return (
            CalendarRow(self.first_day + timedelta(days=o), self._working[o], self._cumulative[o])
            for o in range(first, last + 1)
        )

    # -- internals -------------------------------------------------------------------------------------

    def _offset(self, d: date, field_name: str) -> int:
        day = _as_date(d)
        if not self.first_day <= day <= self.last_day:
            raise InputError.single(
                code="calendar_out_of_range",
                message_vi=(
                    f"Ngày {day:%d/%m/%Y} nằm ngoài phạm vi lịch làm việc đã biết "
                    f"({self.first_day:%d/%m/%Y}–{self.last_day:%d/%m/%Y}); "
                    "không suy đoán ngày nghỉ ngoài phạm vi này"
                ),
                message_en=(
                    f"Date {day.isoformat()} is outside the known working-day calendar "
                    f"({self.first_day.isoformat()} to {self.last_day.isoformat()}); "
                    "days off outside it are not guessed"
                ),
                field=field_name,
            )
        return (day - self.first_day).days


# -- loading ---------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def load_calendar_table() -> CalendarTable:
    """Parse and validate the packaged ``calendar-vn.yaml`` (raises ``Chiso766Error`` if it is broken)."""
    text = files("chiso766").joinpath(CALENDAR_RESOURCE).read_text(encoding="utf-8")
    return parse_calendar_table(yaml.safe_load(text))


def parse_calendar_table(raw: Any) -> CalendarTable:
    """Validate a loaded YAML document into a :class:`CalendarTable`; every problem is reported at once."""
    problems: list[_Msg] = []
    if not isinstance(raw, Mapping):
        _fail([("tài liệu không phải một ánh xạ", "the document is not a mapping")])
    version, checked, covered = raw.get("version"), raw.get("holidays_checked"), raw.get("covered")
    for key, value in (("version", version), ("holidays_checked", checked)):
        if not isinstance(value, str) or not value:
            problems.append((f"`{key}` phải là chuỗi không rỗng", f"`{key}` must be a non-empty string"))
    first = _plain_date(covered.get("start")) if isinstance(covered, Mapping) else None
    last = _plain_date(covered.get("end")) if isinstance(covered, Mapping) else None
    if first is None or last is None or first > last:
        _fail([*problems, ("`covered` cần ngày `start` <= `end`", "`covered` needs dates `start` <= `end`")])
    years = raw.get("years")
    if not isinstance(years, Mapping):
        _fail([*problems, ("`years` phải là ánh xạ năm -> mục", "`years` must be a mapping year -> entry")])
    missing = sorted(set(range(first.year, last.year + 1)) - set(years))
    if missing:
        problems.append((f"thiếu mục cho các năm {missing}", f"no entry for years {missing}"))
    overrides: list[CalendarOverride] = []
    for year, entry in years.items():
        overrides.extend(_parse_year(year, entry, first, last, problems))
    seen: set[date] = set()
    for override in overrides:
        if override.day in seen:
            problems.append((f"ngày {override.day} được liệt kê hai lần", f"{override.day} is listed twice"))
        seen.add(override.day)
    if problems:
        _fail(problems)
    return CalendarTable(
        version=str(version),
        holidays_checked=str(checked),
        first_day=first,
        last_day=last,
        overrides=tuple(sorted(overrides, key=lambda o: o.day)),
    )


def _parse_year(year: Any, entry: Any, first: date, last: date, problems: list[_Msg]) -> list[CalendarOverride]:
    where = f"years.{year}"
    if not isinstance(year, int) or not isinstance(entry, Mapping):
        problems.append(
            (
                f"{where}: khoá phải là một năm và giá trị là ánh xạ",
                f"{where}: the key must be a year and the value a mapping",
            )
        )
        return []
    source = entry.get("source")
    if not isinstance(source, str) or not source.strip():
        problems.append(
            (f"{where}: `source` phải là văn bản không rỗng", f"{where}: `source` must be a non-empty text")
        )
        source = ""
    result: list[CalendarOverride] = []
    for key, kind in _KINDS:
        items = entry.get(key, [])
        if not isinstance(items, list):
            problems.append((f"{where}.{key}: phải là danh sách", f"{where}.{key}: must be a list"))
            continue
        for i, item in enumerate(items):
            override = _parse_override(f"{where}.{key}[{i}]", item, kind, year, source, first, last, problems)
            if override is not None:
                result.append(override)
    return result


def _parse_override(
    here: str,
    item: Any,
    kind: OverrideKind,
    year: int,
    source: str,
    first: date,
    last: date,
    problems: list[_Msg],
) -> CalendarOverride | None:
    if not isinstance(item, Mapping):
        problems.append(
            (
                f"{here}: phải là ánh xạ có `date` và `name`",
                f"{here}: must be a mapping with `date` and `name`",
            )
        )
        return None
    day, name = _plain_date(item.get("date")), item.get("name")
    also, switch = item.get("also_in_holidays", False), item.get("switch")
    if day is None or day.year != year or not first <= day <= last:
        problems.append(
            (
                f"{here}: `date` phải là một ngày của năm {year} trong `covered`",
                f"{here}: `date` must be a date of {year} inside `covered`",
            )
        )
        return None
    if kind == "day_off" and day.weekday() >= 5:
        problems.append(
            (f"{here}: {day} là ngày cuối tuần, vốn đã nghỉ", f"{here}: {day} is a weekend day, already off")
        )
    if kind == "working_saturday" and day.weekday() != 5:
        problems.append((f"{here}: {day} không phải thứ Bảy", f"{here}: {day} is not a Saturday"))
    if not isinstance(name, str) or not name:
        problems.append((f"{here}: `name` phải là chuỗi không rỗng", f"{here}: `name` must be a non-empty string"))
    if not isinstance(also, bool):
        problems.append(
            (
                f"{here}: `also_in_holidays` phải là true hoặc false",
                f"{here}: `also_in_holidays` must be true or false",
            )
        )
    if switch is not None and switch not in SWITCHES:
        problems.append(
            (
                f"{here}: công tắc {switch!r} không xác định (có: {sorted(SWITCHES)})",
                f"{here}: unknown switch {switch!r} (known: {sorted(SWITCHES)})",
            )
        )
    return CalendarOverride(
        day=day,
        kind=kind,
        name=str(name),
        source=source,
        also_in_holidays=bool(also),
        switch=switch if isinstance(switch, str) else None,
    )


def statutory_holidays(first: date, last: date) -> dict[date, str]:
    """Dates ``first..last`` returned by the ``holidays`` package (``holidays.Vietnam``, observed days on)."""
    calendar = country_holidays("VN", years=range(first.year, last.year + 1), observed=True)
    return {day: str(name) for day, name in sorted(calendar.items()) if first <= day <= last}


@lru_cache(maxsize=4)
def load_calendar(include_van_hoa_day_2026: bool = INCLUDE_VAN_HOA_DAY_2026) -> WorkingCalendar:
    """Build the working calendar (cached): weekends and days off are off, make-up Saturdays work.

    Days off = ``holidays.Vietnam`` ∪ the table's ``days_off``, minus entries whose switch is off — so
    ``include_van_hoa_day_2026=False`` makes Tue 24/11/2026 a working day even though the package lists
    it (D-gen-5).
    """
    table = load_calendar_table()
    switches = {"include_van_hoa_day_2026": include_van_hoa_day_2026}
    active = [o for o in table.overrides if o.switch is None or switches[o.switch]]
    switched_off = {o.day for o in table.overrides if o.switch is not None and not switches[o.switch]}
    off = set(statutory_holidays(table.first_day, table.last_day))
    off |= {o.day for o in active if o.kind == "day_off"}
    off -= switched_off
    saturdays = frozenset(o.day for o in active if o.kind == "working_saturday")
    clash = sorted(saturdays & off)
    if clash:
        days = [d.isoformat() for d in clash]
        _fail(
            [
                (
                    f"ngày thứ Bảy làm bù trùng ngày nghỉ: {days}",
                    f"make-up Saturdays that are also days off: {days}",
                )
            ]
        )

    size = (table.last_day - table.first_day).days + 1
    working: list[bool] = []
    cumulative: list[int] = []
    offsets: list[int] = []
    for o in range(size):
        day = table.first_day + timedelta(days=o)
        is_working = (day.weekday() < 5 and day not in off) or day in saturdays
        working.append(is_working)
        if is_working:
            offsets.append(o)
        cumulative.append(len(offsets))
    return WorkingCalendar(
        version=table.version,
        first_day=table.first_day,
        last_day=table.last_day,
        include_van_hoa_day_2026=include_van_hoa_day_2026,
        days_off=frozenset(d for d in off if d.weekday() < 5),
        working_saturdays=saturdays,
        _working=tuple(working),
        _cumulative=tuple(cumulative),
        _working_offsets=tuple(offsets),
    )


# -- module-level shortcuts on the default calendar (INCLUDE_VAN_HOA_DAY_2026) -------------------------


def is_working_day(d: date) -> bool:
    """:meth:`WorkingCalendar.is_working_day` on the default calendar."""
    return load_calendar().is_working_day(d)


def add_working_days(d: date, n: int) -> date:
    """:meth:`WorkingCalendar.add_working_days` on the default calendar."""
    return load_calendar().add_working_days(d, n)


def working_days_between(start: date, end: date) -> int:
    """:meth:`WorkingCalendar.working_days_between` on the default calendar."""
    return load_calendar().working_days_between(start, end)


def working_hours_between(start: datetime, end: datetime) -> Fraction:
    """:meth:`WorkingCalendar.working_hours_between` on the default calendar."""
    return load_calendar().working_hours_between(start, end)


def within_working_hours_limit(start: datetime, end: datetime, hours: Hours, *, paused_working_days: int = 0) -> bool:
    """:meth:`WorkingCalendar.within_working_hours_limit` on the default calendar."""
    return load_calendar().within_working_hours_limit(start, end, hours, paused_working_days=paused_working_days)


def calendar_rows(start: date | None = None, end: date | None = None) -> Iterator[CalendarRow]:
    """:meth:`WorkingCalendar.calendar_rows` on the default calendar."""
    return load_calendar().calendar_rows(start, end)


# -- helpers ---------------------------------------------------------------------------------------------


def _as_date(d: date) -> date:
    return d.date() if isinstance(d, datetime) else d


def _plain_date(value: object) -> date | None:
    """``value`` when it is a ``date`` (not a ``datetime``), else ``None``."""
    return value if isinstance(value, date) and not isinstance(value, datetime) else None


def _hours(hours: Hours) -> Fraction:
    if isinstance(hours, bool) or not isinstance(hours, int | Decimal | Fraction):
        raise TypeError(f"hours must be int, Decimal or Fraction, got {type(hours).__name__}")
    value = Fraction(hours)
    if value < 0:
        raise ValueError(f"hours must be >= 0, got {hours}")
    return value


def _fail(problems: list[_Msg]) -> NoReturn:
    raise Chiso766Error(
        code="calendar_data_invalid",
        message_vi="Bảng lịch làm việc calendar-vn.yaml không hợp lệ",
        message_en="The working-day table calendar-vn.yaml is invalid",
        problems=[Problem(message_vi=vi, message_en=en, where=CALENDAR_RESOURCE) for vi, en in problems],
    )
