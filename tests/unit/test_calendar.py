"""Working-day calendar (DATA_FORMATS §2, D-gen-5, D-5.2-3, D-2.1-6); expectations worked by hand."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from importlib.metadata import version
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chiso766.domain import calendar as cal
from chiso766.domain.calendar import (
    CalendarRow,
    WorkingCalendar,
    load_calendar,
    load_calendar_table,
    parse_calendar_table,
    statutory_holidays,
)
from chiso766.errors import Chiso766Error, InputError

FIRST = date(2024, 1, 1)
LAST = date(2026, 12, 31)


@pytest.fixture(scope="module")
def c() -> WorkingCalendar:
    return load_calendar()


def d(text: str) -> date:
    return date.fromisoformat(text)


def days(start: str, end: str) -> set[date]:
    a, b = d(start), d(end)
    return {a + timedelta(days=i) for i in range((b - a).days + 1)}


# The official public-sector schedule (DATA_FORMATS §2.2 + the 2024 / 1-1-2025 days of D-gen-5):
# every weekday off, and every make-up Saturday.
OFFICIAL_WEEKDAYS_OFF = {
    2024: {d("2024-01-01"), *days("2024-02-08", "2024-02-09"), *days("2024-02-12", "2024-02-14")}
    | {d("2024-04-18"), *days("2024-04-29", "2024-05-01"), d("2024-09-02"), d("2024-09-03")},
    2025: {d("2025-01-01"), *days("2025-01-27", "2025-01-31"), d("2025-04-07")}
    | {*days("2025-04-30", "2025-05-02"), d("2025-09-01"), d("2025-09-02")},
    2026: {d("2026-01-01"), d("2026-01-02"), *days("2026-02-16", "2026-02-20"), d("2026-04-27")}
    | {d("2026-04-30"), d("2026-05-01"), *days("2026-08-31", "2026-09-02"), d("2026-11-24")},
}
OFFICIAL_WORKING_SATURDAYS = {d("2024-05-04"), d("2025-04-26"), d("2026-01-10"), d("2026-08-22")}


# -- the final calendar equals the official schedule ----------------------------------------------------


def test_final_calendar_equals_official_schedule(c: WorkingCalendar) -> None:
    """Every date 2024–2026: working iff (Mon–Fri and not an official weekday off) or a make-up Saturday.

    This also catches a `holidays` upgrade that adds or moves a weekday holiday.
    """
    official_off = set().union(*OFFICIAL_WEEKDAYS_OFF.values())
    assert c.days_off == official_off
    assert c.working_saturdays == OFFICIAL_WORKING_SATURDAYS
    day = FIRST
    while day <= LAST:
        expected = (day.weekday() < 5 and day not in official_off) or day in OFFICIAL_WORKING_SATURDAYS
        assert c.is_working_day(day) is expected, day
        day += timedelta(days=1)


def test_working_days_per_year(c: WorkingCalendar) -> None:
    """Index at 31/12/2024: 2024 starts Mon, 366 days → 262 weekdays − 12 off + 1 Saturday = 251.
    2025 starts Wed, 365 days → 261 − 12 + 1 = 250. 2026 starts Thu → 261 − 14 + 2 = 249 (250 without 24/11).
    """
    assert c.working_day_index(d("2024-12-31")) == 251
    assert c.working_days_between(d("2024-12-31"), d("2025-12-31")) == 250
    assert c.working_days_between(d("2025-12-31"), d("2026-12-31")) == 249
    assert load_calendar(False).working_days_between(d("2025-12-31"), d("2026-12-31")) == 250


# -- named days ------------------------------------------------------------------------------------------


def test_tet_2026_deadline(c: WorkingCalendar) -> None:
    """Tết Bính Ngọ: Sat 14/02–Sun 22/02/2026 off (weekdays Mon 16–Fri 20 off).
    Fri 13/02 + 1 working day: Sat 14 … Sun 22 are all off → Mon 23/02/2026.
    """
    assert c.add_working_days(d("2026-02-13"), 1) == d("2026-02-23")
    assert c.working_days_between(d("2026-02-13"), d("2026-02-23")) == 1
    assert c.working_days_between(d("2026-02-13"), d("2026-02-22")) == 0
    assert all(not c.is_working_day(x) for x in days("2026-02-14", "2026-02-22"))
    assert c.is_working_day(d("2026-02-13"))


def test_make_up_saturdays_2026_are_working(c: WorkingCalendar) -> None:
    """Sat 10/01/2026 (for Fri 2/1) and Sat 22/08/2026 (for Mon 31/8) work; other Saturdays do not."""
    assert c.is_working_day(d("2026-01-10"))
    assert c.is_working_day(d("2026-08-22"))
    assert not c.is_working_day(d("2026-01-17"))
    assert not c.is_working_day(d("2026-08-29"))


def test_national_day_2026(c: WorkingCalendar) -> None:
    """Quốc khánh 2026: Sat 29/8–Wed 2/9 off (Mon 31/8 swapped; Tue 1/9, Wed 2/9 statutory); Thu 3/9 works."""
    for off in ("2026-08-31", "2026-09-01", "2026-09-02"):
        assert not c.is_working_day(d(off))
    assert c.is_working_day(d("2026-09-03"))
    assert c.is_working_day(d("2026-08-28"))


def test_new_year_2026_swap(c: WorkingCalendar) -> None:
    """Tết Dương lịch 2026: Thu 1/1 and Fri 2/1 off (Fri 2/1 swapped with Sat 10/1); Mon 5/1 works."""
    assert not c.is_working_day(d("2026-01-01"))
    assert not c.is_working_day(d("2026-01-02"))
    assert c.is_working_day(d("2026-01-05"))


def test_april_may_2026(c: WorkingCalendar) -> None:
    """Thu 30/4 and Fri 1/5/2026 off; Giỗ Tổ 10/3 ÂL = Sun 26/4 → observed Mon 27/4; Tue 28/4 works."""
    assert not c.is_working_day(d("2026-04-30"))
    assert not c.is_working_day(d("2026-05-01"))
    assert not c.is_working_day(d("2026-04-26"))
    assert not c.is_working_day(d("2026-04-27"))
    assert c.is_working_day(d("2026-04-28"))
    assert c.is_working_day(d("2026-04-29"))


def test_april_may_2025_swap(c: WorkingCalendar) -> None:
    """2025: Fri 2/5 off, swapped with Sat 26/4 (working); Giỗ Tổ Mon 7/4 off."""
    assert not c.is_working_day(d("2025-05-02"))
    assert c.is_working_day(d("2025-04-26"))
    assert not c.is_working_day(d("2025-04-07"))


def test_tet_2024_and_2025(c: WorkingCalendar) -> None:
    """Tết 2024: Thu 8/2–Wed 14/2 off (D-gen-5); Wed 7/2 and Thu 15/2 work. Tết 2025: Mon 27–Fri 31/1 off."""
    for off in ("2024-02-08", "2024-02-09", "2024-02-12", "2024-02-13", "2024-02-14"):
        assert not c.is_working_day(d(off))
    assert c.is_working_day(d("2024-02-07"))
    assert c.is_working_day(d("2024-02-15"))
    assert all(not c.is_working_day(x) for x in days("2025-01-27", "2025-01-31"))
    assert c.is_working_day(d("2025-02-03"))


def test_2024_other_days(c: WorkingCalendar) -> None:
    """Giỗ Tổ Thu 18/4/2024, Mon 29/4 (swap) + Sat 4/5 worked, Quốc khánh Mon 2–Tue 3/9/2024, Wed 1/1/2025."""
    assert not c.is_working_day(d("2024-04-18"))
    assert not c.is_working_day(d("2024-04-29"))
    assert c.is_working_day(d("2024-05-04"))
    assert not c.is_working_day(d("2024-09-02"))
    assert not c.is_working_day(d("2024-09-03"))
    assert not c.is_working_day(d("2025-01-01"))


def test_van_hoa_day_switch() -> None:
    """Tue 24/11/2026 (Ngày Văn hóa Việt Nam, [U]) is off by default and a working day when switched off,
    even though the `holidays` package lists it (D-gen-5)."""
    assert not load_calendar().is_working_day(d("2026-11-24"))
    assert not load_calendar(True).is_working_day(d("2026-11-24"))
    switched = load_calendar(include_van_hoa_day_2026=False)
    assert switched.is_working_day(d("2026-11-24"))
    assert d("2026-11-24") not in switched.days_off
    # Mon 23/11 → Wed 25/11: 1 working day by default (24 off), 2 when switched off.
    assert load_calendar().working_days_between(d("2026-11-23"), d("2026-11-25")) == 1
    assert switched.working_days_between(d("2026-11-23"), d("2026-11-25")) == 2


# -- counting --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ("2024-03-01", "2024-03-04", 1),  # Fri → Mon: Sat, Sun not counted
        ("2024-03-04", "2024-03-04", 0),  # same day
        ("2024-03-08", "2024-03-04", 0),  # end before start
        ("2024-03-02", "2024-03-03", 0),  # Sat → Sun
        ("2024-03-02", "2024-03-04", 1),  # Sat → Mon
        ("2024-03-04", "2024-03-11", 5),  # Mon → next Mon: Tue–Fri + Mon
        # Thu 1/2 → Thu 15/2/2024: Fri 2, Mon 5, Tue 6, Wed 7, (8–14 off), Thu 15 = 5
        ("2024-02-01", "2024-02-15", 5),
        # Fri 9/1 → Mon 12/1/2026: Sat 10 (make-up) + Mon 12 = 2
        ("2026-01-09", "2026-01-12", 2),
        # Wed 31/12/2025 → Mon 5/1/2026: Thu 1 and Fri 2 off, weekend → only Mon 5 = 1
        ("2025-12-31", "2026-01-05", 1),
        # Fri 25/4 → Mon 5/5/2025: Sat 26 (make-up), Mon 28, Tue 29, (30/4–4/5 off), Mon 5/5 = 4
        ("2025-04-25", "2025-05-05", 4),
        # Thu 12/2 → Tue 24/2/2026: Fri 13, (14–22 off), Mon 23, Tue 24 = 3
        ("2026-02-12", "2026-02-24", 3),
    ],
)
def test_working_days_between(c: WorkingCalendar, start: str, end: str, expected: int) -> None:
    assert c.working_days_between(d(start), d(end)) == expected


def test_pakn_limits_over_tet(c: WorkingCalendar) -> None:
    """D-5.2-3 PAKN received Wed 11/2/2026: TU_CHOI within 2 working days → Thu 12, Fri 13 → due Fri 13/2;
    YEU_CAU_BO_SUNG within 5 → Fri 13, then Mon 23, Tue 24, Wed 25 → due Wed 25/2/2026."""
    assert c.add_working_days(d("2026-02-11"), 2) == d("2026-02-13")
    assert c.add_working_days(d("2026-02-11"), 5) == d("2026-02-25")
    assert c.working_days_between(d("2026-02-11"), d("2026-02-25")) == 5


def test_add_working_days_zero_and_weekends(c: WorkingCalendar) -> None:
    """n = 0: the day itself when working (Mon 2/3/2026; make-up Sat 10/1/2026), else the next working day
    (Sat 14/2/2026 → Mon 23/2/2026). Sat 7/3/2026 + 1 → Mon 9/3; Fri 6/3 + 1 → Mon 9/3."""
    assert c.add_working_days(d("2026-03-02"), 0) == d("2026-03-02")
    assert c.add_working_days(d("2026-01-10"), 0) == d("2026-01-10")
    assert c.add_working_days(d("2026-02-14"), 0) == d("2026-02-23")
    assert c.add_working_days(d("2026-03-07"), 1) == d("2026-03-09")
    assert c.add_working_days(d("2026-03-06"), 1) == d("2026-03-09")
    with pytest.raises(ValueError):
        c.add_working_days(d("2026-03-06"), -1)


def test_datetimes_are_taken_at_their_date(c: WorkingCalendar) -> None:
    """D-gen-1: an instant's date is used. Fri 13/2/2026 17:30 → Mon 23/2/2026 08:00 = 1 working day."""
    start, end = datetime(2026, 2, 13, 17, 30), datetime(2026, 2, 23, 8, 0)
    assert c.working_days_between(start, end) == 1
    assert c.is_working_day(datetime(2026, 1, 10, 9, 0))
    assert c.add_working_days(start, 1) == d("2026-02-23")


def test_working_hours_d_2_1_6(c: WorkingCalendar) -> None:
    """D-2.1-6 "Giờ làm việc": working-day count vs hours/8. Fri 13/2/2026 09:00 → Mon 23/2/2026 16:00 is
    1 working day = 8 h: within 8 h and 12 h (1 ≤ 1.5), not within 4 h (1 > 0.5); a 1-day pause brings it
    to 0 ≤ 0.5. Due date for 16 h (2 days) from Fri 13/2 → Tue 24/2; for 4 h (0 whole days) → Fri 13/2."""
    start, end = datetime(2026, 2, 13, 9, 0), datetime(2026, 2, 23, 16, 0)
    assert c.working_hours_between(start, end) == Fraction(8)
    assert c.within_working_hours_limit(start, end, 8)
    assert c.within_working_hours_limit(start, end, Decimal("12"))
    assert not c.within_working_hours_limit(start, end, Fraction(4))
    assert c.within_working_hours_limit(start, end, 4, paused_working_days=1)
    assert c.working_hours_due_date(d("2026-02-13"), 16) == d("2026-02-24")
    assert c.working_hours_due_date(d("2026-02-13"), 4) == d("2026-02-13")
    with pytest.raises(ValueError):
        c.within_working_hours_limit(start, end, -1)
    with pytest.raises(TypeError):
        c.within_working_hours_limit(start, end, 1.5)  # type: ignore[arg-type]


def test_due_date_meets_the_limit(c: WorkingCalendar) -> None:
    """For every whole-day hour limit, an end on the due date is within it and the next working day is not."""
    start = datetime(2026, 8, 20, 10, 0)  # Thu; Sat 22/8 make-up, Mon 31/8–Wed 2/9 off
    for hours in range(8, 8 * 10, 8):
        due = c.working_hours_due_date(start, hours)
        assert c.within_working_hours_limit(start, datetime.combine(due, start.time()), hours)
        after = c.add_working_days(due, 1)
        assert not c.within_working_hours_limit(start, datetime.combine(after, start.time()), hours)


# -- out of range ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("outside", ["2023-12-31", "2027-01-01", "2030-02-02"])
def test_out_of_range_raises(c: WorkingCalendar, outside: str) -> None:
    with pytest.raises(InputError) as info:
        c.is_working_day(d(outside))
    assert info.value.code == "calendar_out_of_range"
    assert "ngoài phạm vi" in info.value.message_vi
    assert "outside" in info.value.message_en
    with pytest.raises(InputError):
        c.working_days_between(d("2026-12-01"), d(outside))
    with pytest.raises(InputError):
        c.working_days_between(d(outside), d("2026-12-01"))
    with pytest.raises(InputError):
        list(c.calendar_rows(d(outside), d(outside)))


def test_out_of_range_errors_name_the_field(c: WorkingCalendar) -> None:
    with pytest.raises(InputError) as info:
        c.working_days_between(d("2026-12-01"), d("2027-01-04"))
    assert info.value.problems[0].field == "end"


def test_add_working_days_beyond_range_raises(c: WorkingCalendar) -> None:
    """Thu 31/12/2026 is the last covered day: +0 is itself, +1 would be in 2027 → error, not a guess."""
    assert c.add_working_days(d("2026-12-31"), 0) == d("2026-12-31")
    with pytest.raises(InputError) as info:
        c.add_working_days(d("2026-12-31"), 1)
    assert info.value.code == "calendar_out_of_range"
    with pytest.raises(InputError):
        c.add_working_days(d("2026-12-01"), 30)


def test_calendar_rows_validate_eagerly(c: WorkingCalendar) -> None:
    """The range is checked when calendar_rows is called, not on first iteration."""
    with pytest.raises(InputError):
        c.calendar_rows(d("2026-01-01"), d("2027-01-01"))


# -- SQL index -------------------------------------------------------------------------------------------


def test_calendar_rows_shape(c: WorkingCalendar) -> None:
    """1096 days (2024 leap); index = cumulative working days; 251 + 250 + 249 = 750 at the end."""
    rows = list(c.calendar_rows())
    assert len(rows) == 1096
    assert rows[0] == CalendarRow(FIRST, False, 0)  # Mon 1/1/2024: Tết Dương lịch
    assert rows[1] == CalendarRow(d("2024-01-02"), True, 1)
    assert rows[-1].day == LAST
    assert rows[-1].working_day_index == 750
    previous = 0
    for row in rows:
        assert row.working_day_index - previous == int(row.is_working_day)
        previous = row.working_day_index
    assert isinstance(rows[0], tuple)
    sub = list(c.calendar_rows(d("2026-02-13"), d("2026-02-23")))
    assert [r.is_working_day for r in sub] == [True] + [False] * 9 + [True]


dates_in_range = st.dates(min_value=FIRST, max_value=LAST)


@given(a=dates_in_range, b=dates_in_range)
def test_sql_index_identity(a: date, b: date) -> None:
    """working_days_between(a, b) == max(0, idx(b) − idx(a)) with idx from calendar_rows (a SQL join)."""
    c = load_calendar()
    idx = _index_by_day(c)
    assert c.working_days_between(a, b) == max(0, idx[b] - idx[a])
    assert c.working_day_index(b) == idx[b]
    if a <= b:
        brute = sum(1 for i in range(1, (b - a).days + 1) if c.is_working_day(a + timedelta(days=i)))
        assert c.working_days_between(a, b) == brute


@given(a=dates_in_range, n=st.integers(min_value=0, max_value=200))
def test_add_working_days_inverse(a: date, n: int) -> None:
    """The result r is a working day; for n ≥ 1, working_days_between(a, r) == n (D-5.2-3 count)."""
    c = load_calendar()
    try:
        r = c.add_working_days(a, n)
    except InputError:
        assert c.working_day_index(LAST) - c.working_day_index(a) < max(n, 1)
        return
    assert c.is_working_day(r)
    assert r >= a
    if n >= 1:
        assert c.working_days_between(a, r) == n
    else:  # n = 0: a itself when working, else the first working day after a
        assert r == a if c.is_working_day(a) else c.working_days_between(a, r) == 1


_INDEX_CACHE: dict[bool, dict[date, int]] = {}


def _index_by_day(c: WorkingCalendar) -> dict[date, int]:
    key = c.include_van_hoa_day_2026
    if key not in _INDEX_CACHE:
        _INDEX_CACHE[key] = {row.day: row.working_day_index for row in c.calendar_rows()}
    return _INDEX_CACHE[key]


# -- table, package and API ------------------------------------------------------------------------------


def test_table_metadata() -> None:
    table = load_calendar_table()
    assert table.version == "2026-11-27"
    assert (table.first_day, table.last_day) == (FIRST, LAST)
    switched = [o for o in table.overrides if o.switch is not None]
    assert [(o.day, o.switch) for o in switched] == [(d("2026-11-24"), "include_van_hoa_day_2026")]
    assert all(o.source for o in table.overrides)


def test_also_in_holidays_markers_match_the_checked_package() -> None:
    """The YAML marks duplicates of `holidays`; checked only against the release it names."""
    table = load_calendar_table()
    if version("holidays") != table.holidays_checked:
        pytest.skip(f"markers were checked with holidays {table.holidays_checked}")
    package = statutory_holidays(FIRST, LAST)
    for o in table.overrides:
        assert (o.day in package) is o.also_in_holidays, o.day


def test_calendar_is_immutable_and_cached() -> None:
    c = load_calendar()
    assert load_calendar() is c
    assert load_calendar(False) is not c
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.version = "x"  # type: ignore[misc]


def test_module_level_shortcuts() -> None:
    assert cal.is_working_day(d("2026-01-10"))
    assert cal.add_working_days(d("2026-02-13"), 1) == d("2026-02-23")
    assert cal.working_days_between(d("2026-02-13"), d("2026-02-23")) == 1
    assert cal.working_hours_between(datetime(2026, 2, 13, 9), datetime(2026, 2, 23, 9)) == 8
    assert cal.within_working_hours_limit(datetime(2026, 2, 13, 9), datetime(2026, 2, 23, 9), 8)
    assert next(iter(cal.calendar_rows(d("2026-01-10"), d("2026-01-10")))).is_working_day


def _valid_raw() -> dict[str, Any]:
    return {
        "version": "v",
        "holidays_checked": "0",
        "covered": {"start": d("2024-01-01"), "end": d("2024-12-31")},
        "years": {2024: {"source": "s", "days_off": [{"date": d("2024-04-29"), "name": "n"}]}},
    }


def test_parse_valid_table() -> None:
    table = parse_calendar_table(_valid_raw())
    assert [o.day for o in table.overrides] == [d("2024-04-29")]


def test_parse_reports_every_problem() -> None:
    raw = _valid_raw()
    raw["covered"]["end"] = d("2025-12-31")  # 2025 has no entry
    raw["years"][2024]["days_off"] = [
        {"date": d("2024-05-04"), "name": "weekend"},  # a Saturday
        {"date": d("2024-04-29"), "name": "n", "switch": "nope"},  # unknown switch
        {"date": d("2024-04-29"), "name": "n"},  # duplicate
    ]
    raw["years"][2024]["working_saturdays"] = [{"date": d("2024-05-06"), "name": "Monday"}]
    with pytest.raises(Chiso766Error) as info:
        parse_calendar_table(raw)
    assert info.value.code == "calendar_data_invalid"
    text = " ".join(p.message_en for p in info.value.problems)
    for needle in (
        "no entry for years [2025]",
        "weekend",
        "unknown switch",
        "listed twice",
        "not a Saturday",
    ):
        assert needle in text
    assert all(p.message_vi for p in info.value.problems)


@pytest.mark.parametrize("raw", [None, [], {"version": "v"}, {"version": "v", "covered": {"start": 1}}])
def test_parse_rejects_broken_documents(raw: Any) -> None:
    with pytest.raises(Chiso766Error):
        parse_calendar_table(raw)
