"""Periods ("kỳ") of the index: ids, calendar bounds, labels and the provisional/closed rule.

A period is a half-open span of local calendar days ``[start, end)`` in Asia/Ho_Chi_Minh. Ids (DESIGN
contract 2): ``2026`` year, ``2026Q3`` quarter, ``2026-08`` month, ``2026-08-15`` day, ``2026W33`` ISO
week, ``2026H1``/``2026H2`` half year, ``2026M9`` first nine months, ``2026-08-01..2026-08-20`` inclusive
date range.
A period is provisional while "now" is before its end instant (INTERPRETATIONS D-gen-2).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from chiso766.errors import InputError

__all__ = [
    "CALENDAR_TYPES",
    "MAX_YEAR",
    "MIN_YEAR",
    "VN_TZ",
    "Period",
    "PeriodType",
    "parse_period",
    "period_containing",
    "periods_of_year",
]

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
"""The time zone in which calendar days, and so period bounds, are counted."""

MIN_YEAR = 1900
MAX_YEAR = 2999
"""Supported years (of the period's ``year``; for a range, of both ends)."""

_ONE_DAY = timedelta(days=1)


class PeriodType(StrEnum):
    """The kinds of period; the value is the stable machine name."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    HALF = "half"
    NINE_MONTHS = "nine_months"
    YEAR = "year"
    RANGE = "range"


CALENDAR_TYPES: tuple[PeriodType, ...] = tuple(t for t in PeriodType if t is not PeriodType.RANGE)
"""Every type with calendar-fixed bounds (all but ``range``), shortest first."""

_YEAR_ONLY_TYPES = (PeriodType.NINE_MONTHS, PeriodType.YEAR)
_TYPE_RANK = {t: i for i, t in enumerate(PeriodType)}
_ROMAN = ("I", "II", "III", "IV")
_MONTHS_EN = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

_FORMS_VI = (
    "năm 2026; quý 2026Q3; tháng 2026-08; ngày 2026-08-15; tuần ISO 2026W33; "
    "6 tháng 2026H1 (đầu năm) hoặc 2026H2 (cuối năm); 9 tháng đầu năm 2026M9; "
    "khoảng ngày 2026-08-01..2026-08-20 (tính cả hai đầu)"
)
_FORMS_EN = (
    "year 2026; quarter 2026Q3; month 2026-08; day 2026-08-15; ISO week 2026W33; "
    "half year 2026H1 (January–June) or 2026H2 (July–December); first nine months 2026M9; "
    "date range 2026-08-01..2026-08-20 (both ends inclusive)"
)


def _invalid(raw: str, reason_vi: str, reason_en: str) -> InputError:
    """The ``invalid_period`` error: quotes ``raw``, gives the reason and lists the accepted forms."""
    return InputError.single(
        code="invalid_period",
        message_vi=f"Kỳ “{raw}” không hợp lệ: {reason_vi}. Các dạng được chấp nhận: {_FORMS_VI}.",
        message_en=f"Invalid period “{raw}”: {reason_en}. Accepted forms: {_FORMS_EN}.",
        field="period",
    )


def _dmy(d: date) -> str:
    return f"{d.day:02d}/{d.month:02d}/{d.year:04d}"


def _add_months(d: date, months: int) -> date:
    """The first day of the month ``months`` after the month of ``d`` (``d`` is a first of month)."""
    total = d.year * 12 + d.month - 1 + months
    return date(total // 12, total % 12 + 1, 1)


def _iso_weeks(iso_year: int) -> int:
    """Number of ISO weeks (52 or 53) in ``iso_year``."""
    return date(iso_year, 12, 28).isocalendar().week


def _calendar_bounds(period_type: PeriodType, year: int, index: int | None) -> tuple[date, date]:
    """``(start, end)`` of a week/month/quarter/half/nine-months/year period (no validation)."""
    if period_type is PeriodType.WEEK:
        assert index is not None
        start = date.fromisocalendar(year, index, 1)
        return start, start + timedelta(days=7)
    if period_type is PeriodType.MONTH:
        assert index is not None
        start = date(year, index, 1)
        return start, _add_months(start, 1)
    if period_type is PeriodType.QUARTER:
        assert index is not None
        start = date(year, 3 * index - 2, 1)
        return start, _add_months(start, 3)
    if period_type is PeriodType.HALF:
        assert index is not None
        start = date(year, 6 * index - 5, 1)
        return start, _add_months(start, 6)
    if period_type is PeriodType.NINE_MONTHS:
        return date(year, 1, 1), date(year, 10, 1)
    if period_type is PeriodType.YEAR:
        return date(year, 1, 1), date(year + 1, 1, 1)
    raise ValueError(f"{period_type} has no calendar bounds")


def _check_year(year: int, raw: str) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise _invalid(
            raw,
            f"năm {year} nằm ngoài khoảng hỗ trợ {MIN_YEAR}–{MAX_YEAR}",
            f"the year {year} is outside the supported range {MIN_YEAR}–{MAX_YEAR}",
        )


def _local_date(d: date) -> date:
    """``d`` as a plain date; a datetime gives its Asia/Ho_Chi_Minh calendar date (naive = local)."""
    if isinstance(d, datetime):
        return d.astimezone(VN_TZ).date() if d.tzinfo is not None else d.date()
    return d


def _aware(as_of: datetime) -> datetime:
    return as_of.replace(tzinfo=VN_TZ) if as_of.tzinfo is None else as_of


@dataclass(frozen=True, order=False)
class Period:
    """One period: ``type``, local days ``start`` (inclusive) and ``end`` (exclusive), ``year``, ``index``.

    ``year`` is the calendar year (the ISO year for a week; ``None`` for a range). ``index`` is the week,
    month, quarter or half number (``None`` for day, nine months, year and range). Build periods with
    :func:`parse_period`, :func:`period_containing` or the ``Period.of_*`` constructors. Periods sort by
    ``(start, end)``, then by type.
    """

    type: PeriodType
    start: date
    end: date
    year: int | None = None
    index: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.type, PeriodType):
            raise ValueError(f"not a PeriodType: {self.type!r}")
        if isinstance(self.start, datetime) or isinstance(self.end, datetime):
            raise ValueError("Period bounds must be dates, not datetimes")
        if self.start >= self.end:
            raise ValueError(f"empty period: start {self.start} is not before end {self.end}")
        if self.type is PeriodType.RANGE:
            ok = self.year is None and self.index is None
        elif self.type is PeriodType.DAY:
            ok = self.end - self.start == _ONE_DAY and self.year == self.start.year and self.index is None
        elif self.year is None or (self.index is None) != (self.type in _YEAR_ONLY_TYPES):
            ok = False
        else:
            ok = _calendar_bounds(self.type, self.year, self.index) == (self.start, self.end)
        if not ok:
            raise ValueError(f"inconsistent {self.type.value} period: {self!r}")

    # -- constructors -------------------------------------------------------------------------------

    @classmethod
    def of_day(cls, day: date) -> Period:
        """The single day ``day`` (a datetime gives its local date)."""
        d = _local_date(day)
        _check_year(d.year, d.isoformat())
        return cls(PeriodType.DAY, d, d + _ONE_DAY, d.year)

    @classmethod
    def of_week(cls, iso_year: int, week: int) -> Period:
        """ISO week ``week`` (Monday to Sunday) of ISO year ``iso_year``."""
        return _week(iso_year, week, f"{iso_year:04d}W{week:02d}")

    @classmethod
    def of_month(cls, year: int, month: int) -> Period:
        """Calendar month ``month`` (1–12) of ``year``."""
        return _month(year, month, f"{year:04d}-{month:02d}")

    @classmethod
    def of_quarter(cls, year: int, quarter: int) -> Period:
        """Quarter ``quarter`` (1–4) of ``year``."""
        return _quarter(year, quarter, f"{year:04d}Q{quarter}")

    @classmethod
    def of_half(cls, year: int, half: int) -> Period:
        """Half year ``half``: 1 = January–June, 2 = July–December."""
        return _half(year, half, f"{year:04d}H{half}")

    @classmethod
    def of_nine_months(cls, year: int) -> Period:
        """The first nine months (January–September) of ``year``."""
        _check_year(year, f"{year:04d}M9")
        return cls(PeriodType.NINE_MONTHS, *_calendar_bounds(PeriodType.NINE_MONTHS, year, None), year)

    @classmethod
    def of_year(cls, year: int) -> Period:
        """The calendar year ``year``."""
        _check_year(year, f"{year:04d}")
        return cls(PeriodType.YEAR, *_calendar_bounds(PeriodType.YEAR, year, None), year)

    @classmethod
    def of_range(cls, first: date, last: date) -> Period:
        """The custom range from ``first`` to ``last``, both days included."""
        first, last = _local_date(first), _local_date(last)
        return _range(first, last, f"{first.isoformat()}..{last.isoformat()}")

    # -- identity and labels ------------------------------------------------------------------------

    @property
    def id(self) -> str:
        """The canonical id, e.g. ``2026Q3``; ``parse_period(p.id) == p``."""
        t = self.type
        if t is PeriodType.DAY:
            return self.start.isoformat()
        if t is PeriodType.RANGE:
            return f"{self.start.isoformat()}..{self.last_day.isoformat()}"
        if t is PeriodType.WEEK:
            return f"{self.year:04d}W{self.index:02d}"
        if t is PeriodType.MONTH:
            return f"{self.year:04d}-{self.index:02d}"
        if t is PeriodType.QUARTER:
            return f"{self.year:04d}Q{self.index}"
        if t is PeriodType.HALF:
            return f"{self.year:04d}H{self.index}"
        if t is PeriodType.NINE_MONTHS:
            return f"{self.year:04d}M9"
        return f"{self.year:04d}"

    def __str__(self) -> str:
        return self.id

    @property
    def last_day(self) -> date:
        """The last day included (``end`` − 1 day)."""
        return self.end - _ONE_DAY

    @property
    def label_vi(self) -> str:
        """Vietnamese label, e.g. ``Quý III/2026``, ``6 tháng đầu năm 2026``, ``Tuần 33/2026``."""
        t, y, i = self.type, self.year, self.index
        if t is PeriodType.DAY:
            return f"Ngày {_dmy(self.start)}"
        if t is PeriodType.RANGE:
            return f"Từ {_dmy(self.start)} đến {_dmy(self.last_day)}"
        if t is PeriodType.WEEK:
            return f"Tuần {i}/{y}"
        if t is PeriodType.MONTH:
            return f"Tháng {i}/{y}"
        if t is PeriodType.QUARTER:
            assert i is not None
            return f"Quý {_ROMAN[i - 1]}/{y}"
        if t is PeriodType.HALF:
            return f"6 tháng {'đầu' if i == 1 else 'cuối'} năm {y}"
        if t is PeriodType.NINE_MONTHS:
            return f"9 tháng đầu năm {y}"
        return f"Năm {y}"

    @property
    def label_en(self) -> str:
        """English label, e.g. ``Q3 2026``, ``First half of 2026``, ``Week 33 of 2026``."""
        t, y, i = self.type, self.year, self.index
        if t is PeriodType.DAY:
            return _dmy(self.start)
        if t is PeriodType.RANGE:
            return f"{_dmy(self.start)} to {_dmy(self.last_day)}"
        if t is PeriodType.WEEK:
            return f"Week {i} of {y}"
        if t is PeriodType.MONTH:
            assert i is not None
            return f"{_MONTHS_EN[i - 1]} {y}"
        if t is PeriodType.QUARTER:
            return f"Q{i} {y}"
        if t is PeriodType.HALF:
            return f"{'First' if i == 1 else 'Second'} half of {y}"
        if t is PeriodType.NINE_MONTHS:
            return f"First nine months of {y}"
        return f"Year {y}"

    def label(self, lang: str = "vi") -> str:
        """The label in ``lang`` (``vi`` or ``en``, case-insensitive)."""
        code = lang.lower()
        if code == "vi":
            return self.label_vi
        if code == "en":
            return self.label_en
        raise ValueError(f"unsupported label language {lang!r} (expected 'vi' or 'en')")

    # -- calendar -----------------------------------------------------------------------------------

    @property
    def days(self) -> int:
        """Number of calendar days in the period."""
        return (self.end - self.start).days

    def contains(self, d: date) -> bool:
        """Whether the day ``d`` lies in the period (a datetime gives its local date)."""
        return self.start <= _local_date(d) < self.end

    @property
    def start_instant(self) -> datetime:
        """Local midnight (Asia/Ho_Chi_Minh) at which the period starts."""
        return datetime.combine(self.start, time(0), tzinfo=VN_TZ)

    @property
    def end_instant(self) -> datetime:
        """Local midnight (Asia/Ho_Chi_Minh) at which the period ends (exclusive)."""
        return datetime.combine(self.end, time(0), tzinfo=VN_TZ)

    def is_provisional(self, as_of: datetime) -> bool:
        """True while ``as_of`` is before :attr:`end_instant` (D-gen-2); naive ``as_of`` is local time."""
        return _aware(as_of).astimezone(UTC) < self.end_instant.astimezone(UTC)

    def is_closed(self, as_of: datetime) -> bool:
        """True once ``as_of`` has reached :attr:`end_instant`: the official basis for comparison."""
        return not self.is_provisional(as_of)

    def previous(self) -> Period:
        """The period of the same type just before (a range: the equally long range just before)."""
        return self._shift(-1)

    def next(self) -> Period:
        """The period of the same type just after (a range: the equally long range just after)."""
        return self._shift(1)

    def _shift(self, step: int) -> Period:
        t = self.type
        if t is PeriodType.RANGE:
            if step < 0:
                return Period.of_range(self.start - timedelta(days=self.days), self.start - _ONE_DAY)
            return Period.of_range(self.end, self.end + timedelta(days=self.days - 1))
        if t in _YEAR_ONLY_TYPES:
            assert self.year is not None
            year = self.year + step
            return Period.of_nine_months(year) if t is PeriodType.NINE_MONTHS else Period.of_year(year)
        return period_containing(t, self.start - _ONE_DAY if step < 0 else self.end)

    # -- ordering -----------------------------------------------------------------------------------

    def _key(self) -> tuple[date, date, int]:
        return (self.start, self.end, _TYPE_RANK[self.type])

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Period):
            return NotImplemented
        return self._key() < other._key()

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Period):
            return NotImplemented
        return self._key() <= other._key()

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Period):
            return NotImplemented
        return self._key() > other._key()

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Period):
            return NotImplemented
        return self._key() >= other._key()


# -- validated builders shared by the constructors and the parser (``raw`` is what the user wrote) ------


def _week(iso_year: int, week: int, raw: str) -> Period:
    _check_year(iso_year, raw)
    weeks = _iso_weeks(iso_year)
    if not 1 <= week <= weeks:
        raise _invalid(
            raw,
            f"năm {iso_year} có {weeks} tuần ISO (từ tuần 01 đến tuần {weeks})",
            f"ISO year {iso_year} has {weeks} weeks (01 to {weeks})",
        )
    return Period(PeriodType.WEEK, *_calendar_bounds(PeriodType.WEEK, iso_year, week), iso_year, week)


def _month(year: int, month: int, raw: str) -> Period:
    _check_year(year, raw)
    if not 1 <= month <= 12:
        raise _invalid(raw, "tháng phải từ 01 đến 12", "the month must be between 01 and 12")
    return Period(PeriodType.MONTH, *_calendar_bounds(PeriodType.MONTH, year, month), year, month)


def _quarter(year: int, quarter: int, raw: str) -> Period:
    _check_year(year, raw)
    if not 1 <= quarter <= 4:
        raise _invalid(raw, "quý phải từ 1 đến 4", "the quarter must be between 1 and 4")
    return Period(PeriodType.QUARTER, *_calendar_bounds(PeriodType.QUARTER, year, quarter), year, quarter)


def _half(year: int, half: int, raw: str) -> Period:
    _check_year(year, raw)
    if half not in (1, 2):
        raise _invalid(
            raw,
            "chỉ có H1 (6 tháng đầu năm) và H2 (6 tháng cuối năm)",
            "a half year is H1 (January–June) or H2 (July–December)",
        )
    return Period(PeriodType.HALF, *_calendar_bounds(PeriodType.HALF, year, half), year, half)


def _range(first: date, last: date, raw: str) -> Period:
    _check_year(first.year, raw)
    _check_year(last.year, raw)
    if last < first:
        raise _invalid(
            raw,
            f"ngày bắt đầu {_dmy(first)} nằm sau ngày kết thúc {_dmy(last)}",
            f"the start date {_dmy(first)} is after the end date {_dmy(last)}",
        )
    return Period(PeriodType.RANGE, first, last + _ONE_DAY)


def _date(text: str, raw: str) -> date:
    """A ``yyyy-mm-dd`` date already matched by the regex; InputError when it is not a real day."""
    year, month, day = (int(part) for part in text.split("-"))
    _check_year(year, raw)
    try:
        return date(year, month, day)
    except ValueError:
        raise _invalid(
            raw,
            f"không có ngày {day:02d}/{month:02d}/{year:04d} trong lịch",
            f"{day:02d}/{month:02d}/{year:04d} is not a calendar date",
        ) from None


_DATE = r"\d{4}-\d{2}-\d{2}"
_RE_YEAR = re.compile(r"(\d{4})", re.ASCII)
_RE_INDEXED = re.compile(r"(\d{4})([QWHM])(\d+)", re.IGNORECASE | re.ASCII)
_RE_MONTH = re.compile(r"(\d{4})-(\d{2})", re.ASCII)
_RE_DAY = re.compile(_DATE, re.ASCII)
_RE_RANGE = re.compile(rf"({_DATE})\.\.({_DATE})", re.ASCII)


def parse_period(period_id: str) -> Period:
    """Parse a period id (DESIGN contract 2); letters may be lower case, surrounding spaces are ignored.

    Raises :class:`~chiso766.errors.InputError` (code ``invalid_period``) quoting the bad id.
    """
    if not isinstance(period_id, str):
        raise _invalid(repr(period_id), "mã kỳ phải là chuỗi ký tự", "the period id must be a string")
    raw = period_id
    text = period_id.strip()
    if not text:
        raise _invalid(raw, "mã kỳ đang để trống", "the period id is empty")
    if m := _RE_YEAR.fullmatch(text):
        _check_year(int(m[1]), raw)
        return Period.of_year(int(m[1]))
    if m := _RE_INDEXED.fullmatch(text):
        year, letter, digits = int(m[1]), m[2].upper(), m[3]
        width = 2 if letter == "W" else 1
        if len(digits) != width and letter == "W":
            raise _invalid(
                raw,
                "số tuần phải viết bằng 2 chữ số (ví dụ 2026W05)",
                "the week number must have 2 digits (e.g. 2026W05)",
            )
        if len(digits) != width:
            raise _invalid(raw, f"sau chữ {letter} chỉ có 1 chữ số", f"{letter} takes a single digit")
        number = int(digits)
        if letter == "W":
            return _week(year, number, raw)
        if letter == "Q":
            return _quarter(year, number, raw)
        if letter == "H":
            return _half(year, number, raw)
        if number != 9:
            raise _invalid(
                raw,
                "chỉ hỗ trợ kỳ 9 tháng đầu năm (M9); 6 tháng đầu năm viết là H1",
                "only the first nine months (M9) is supported; the first half year is written H1",
            )
        _check_year(year, raw)
        return Period.of_nine_months(year)
    if m := _RE_MONTH.fullmatch(text):
        return _month(int(m[1]), int(m[2]), raw)
    if _RE_DAY.fullmatch(text):
        return Period.of_day(_date(text, raw))
    if m := _RE_RANGE.fullmatch(text):
        return _range(_date(m[1], raw), _date(m[2], raw), raw)
    raise _invalid(raw, "không đúng dạng nào", "it matches none of the accepted forms")


def period_containing(period_type: PeriodType, d: date) -> Period:
    """The period of ``period_type`` that contains the day ``d`` (a datetime gives its local date).

    Any type but ``range``. For ``nine_months``, ``d`` must fall in January–September.
    """
    day = _local_date(d)
    t = PeriodType(period_type)
    if t is PeriodType.DAY:
        return Period.of_day(day)
    if t is PeriodType.WEEK:
        iso = day.isocalendar()
        return Period.of_week(iso.year, iso.week)
    if t is PeriodType.MONTH:
        return Period.of_month(day.year, day.month)
    if t is PeriodType.QUARTER:
        return Period.of_quarter(day.year, (day.month - 1) // 3 + 1)
    if t is PeriodType.HALF:
        return Period.of_half(day.year, 1 if day.month <= 6 else 2)
    if t is PeriodType.YEAR:
        return Period.of_year(day.year)
    if t is PeriodType.NINE_MONTHS:
        if day.month > 9:
            raise _invalid(
                f"{day.year:04d}M9",
                f"ngày {_dmy(day)} không thuộc 9 tháng đầu năm",
                f"{_dmy(day)} is not in the first nine months of the year",
            )
        return Period.of_nine_months(day.year)
    raise ValueError("a date range is not determined by one day; use Period.of_range")


def periods_of_year(year: int, types: Iterable[PeriodType] | PeriodType = CALENDAR_TYPES) -> list[Period]:
    """Every period of the given types whose ``year`` is ``year``, by type (in ``types`` order), then date.

    Weeks are the ISO weeks of ISO year ``year`` (week 01 may start in December of ``year`` − 1).
    """
    _check_year(year, f"{year:04d}")
    if isinstance(types, PeriodType):
        types = (types,)
    out: list[Period] = []
    for t in dict.fromkeys(PeriodType(x) for x in types):
        if t is PeriodType.DAY:
            first, stop = date(year, 1, 1), date(year + 1, 1, 1)
            out.extend(Period.of_day(first + timedelta(days=n)) for n in range((stop - first).days))
        elif t is PeriodType.WEEK:
            out.extend(Period.of_week(year, w) for w in range(1, _iso_weeks(year) + 1))
        elif t is PeriodType.MONTH:
            out.extend(Period.of_month(year, m) for m in range(1, 13))
        elif t is PeriodType.QUARTER:
            out.extend(Period.of_quarter(year, q) for q in range(1, 5))
        elif t is PeriodType.HALF:
            out.extend(Period.of_half(year, h) for h in (1, 2))
        elif t is PeriodType.NINE_MONTHS:
            out.append(Period.of_nine_months(year))
        elif t is PeriodType.YEAR:
            out.append(Period.of_year(year))
        else:
            raise ValueError("periods_of_year does not list date ranges")
    return out
