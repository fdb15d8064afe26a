"""Periods: ids, bounds, labels, round-trip, navigation, provisional/closed and errors."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chiso766.domain.periods import (
    CALENDAR_TYPES,
    VN_TZ,
    Period,
    PeriodType,
    parse_period,
    period_containing,
    periods_of_year,
)
from chiso766.errors import InputError

T = PeriodType

# -- parsing: every id form, hand-checked bounds ----------------------------------------------------------


@pytest.mark.parametrize(
    ("pid", "ptype", "start", "end", "year", "index"),
    [
        ("2026", T.YEAR, date(2026, 1, 1), date(2027, 1, 1), 2026, None),
        ("2026Q1", T.QUARTER, date(2026, 1, 1), date(2026, 4, 1), 2026, 1),
        ("2026Q3", T.QUARTER, date(2026, 7, 1), date(2026, 10, 1), 2026, 3),
        ("2026Q4", T.QUARTER, date(2026, 10, 1), date(2027, 1, 1), 2026, 4),
        ("2026-08", T.MONTH, date(2026, 8, 1), date(2026, 9, 1), 2026, 8),
        ("2026-12", T.MONTH, date(2026, 12, 1), date(2027, 1, 1), 2026, 12),
        ("2024-02", T.MONTH, date(2024, 2, 1), date(2024, 3, 1), 2024, 2),
        ("2026-08-15", T.DAY, date(2026, 8, 15), date(2026, 8, 16), 2026, None),
        ("2024-02-29", T.DAY, date(2024, 2, 29), date(2024, 3, 1), 2024, None),
        ("2026W33", T.WEEK, date(2026, 8, 10), date(2026, 8, 17), 2026, 33),
        ("2026W01", T.WEEK, date(2025, 12, 29), date(2026, 1, 5), 2026, 1),
        ("2020W53", T.WEEK, date(2020, 12, 28), date(2021, 1, 4), 2020, 53),
        # 1 January 2026 is a Thursday, so ISO year 2026 has 53 weeks.
        ("2026W53", T.WEEK, date(2026, 12, 28), date(2027, 1, 4), 2026, 53),
        ("2026H1", T.HALF, date(2026, 1, 1), date(2026, 7, 1), 2026, 1),
        ("2026H2", T.HALF, date(2026, 7, 1), date(2027, 1, 1), 2026, 2),
        ("2026M9", T.NINE_MONTHS, date(2026, 1, 1), date(2026, 10, 1), 2026, None),
        ("2026-08-01..2026-08-20", T.RANGE, date(2026, 8, 1), date(2026, 8, 21), None, None),
        ("2026-08-01..2026-08-01", T.RANGE, date(2026, 8, 1), date(2026, 8, 2), None, None),
        ("2025-12-20..2026-01-10", T.RANGE, date(2025, 12, 20), date(2026, 1, 11), None, None),
    ],
)
def test_parse_bounds(pid: str, ptype: PeriodType, start: date, end: date, year: int | None, index: int | None) -> None:
    p = parse_period(pid)
    assert (p.type, p.start, p.end, p.year, p.index) == (ptype, start, end, year, index)
    assert p.id == pid
    assert p.days == (end - start).days
    assert p.last_day == end - timedelta(days=1)


def test_hand_checked_facts() -> None:
    w33 = parse_period("2026W33")
    assert w33.start == date(2026, 8, 10) and w33.start.weekday() == 0  # Monday 10/08/2026
    assert w33.days == 7
    assert parse_period("2026M9").end == date(2026, 10, 1)
    assert parse_period("2026M9").days == 273
    assert parse_period("2026").days == 365 and parse_period("2024").days == 366
    assert parse_period("2026-08-01..2026-08-20").days == 20


@pytest.mark.parametrize(
    ("variant", "canonical"),
    [
        ("2026q3", "2026Q3"),
        ("2026w33", "2026W33"),
        ("2026h2", "2026H2"),
        ("2026m9", "2026M9"),
        (" 2026Q3 ", "2026Q3"),
    ],
)
def test_lower_case_and_spaces_give_the_canonical_id(variant: str, canonical: str) -> None:
    p = parse_period(variant)
    assert p.id == canonical
    assert p == parse_period(canonical)


def test_constructors_agree_with_the_parser() -> None:
    assert Period.of_year(2026) == parse_period("2026")
    assert Period.of_quarter(2026, 3) == parse_period("2026Q3")
    assert Period.of_month(2026, 8) == parse_period("2026-08")
    assert Period.of_day(date(2026, 8, 15)) == parse_period("2026-08-15")
    assert Period.of_week(2026, 33) == parse_period("2026W33")
    assert Period.of_half(2026, 1) == parse_period("2026H1")
    assert Period.of_nine_months(2026) == parse_period("2026M9")
    assert Period.of_range(date(2026, 8, 1), date(2026, 8, 20)) == parse_period("2026-08-01..2026-08-20")


def test_a_range_is_not_the_calendar_period_with_the_same_days() -> None:
    month = parse_period("2026-08")
    same_days = parse_period("2026-08-01..2026-08-31")
    assert (month.start, month.end) == (same_days.start, same_days.end)
    assert month != same_days
    assert month < same_days or same_days < month


# -- malformed ids --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "   ",
        "2026Q5",
        "2026Q0",
        "2026q5",
        "2026-13",
        "2026-00",
        "2026-02-30",
        "2025-02-29",
        "2026W54",
        "2025W53",  # 2025 has 52 ISO weeks
        "2027W53",  # so has 2027
        "2026W00",
        "2026W5",
        "2026H3",
        "2026H0",
        "2026M6",
        "2026M10",
        "2026Q12",
        "2026-08-20..2026-08-01",
        "2026-08-01..2026-02-30",
        "2026-08-01..",
        "2026-8",
        "26Q3",
        "20260815",
        "2026-08-15T00:00",
        "Q3 2026",
        "1899",
        "3000",
        "abc",
        "٢٠٢٦",  # non-ASCII digits
    ],
)
def test_malformed_ids_raise_input_error_quoting_the_id(bad: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_period(bad)
    err = caught.value
    assert err.code == "invalid_period"
    assert f"“{bad}”" in err.message_vi
    assert f"“{bad}”" in err.message_en
    assert err.message_vi.startswith("Kỳ ")
    assert "không hợp lệ" in err.message_vi
    assert err.message_en.startswith("Invalid period")
    for form in ("2026Q3", "2026-08", "2026-08-15", "2026W33", "2026H1", "2026M9", "2026-08-01..2026-08-20"):
        assert form in err.message_vi and form in err.message_en
    assert len(err.problems) == 1 and err.problems[0].field == "period"


@pytest.mark.parametrize(
    ("bad", "vi", "en"),
    [
        ("2026Q5", "quý phải từ 1 đến 4", "quarter must be between 1 and 4"),
        ("2026-13", "tháng phải từ 01 đến 12", "month must be between 01 and 12"),
        ("2026-02-30", "không có ngày 30/02/2026", "30/02/2026 is not a calendar date"),
        ("2025W53", "năm 2025 có 52 tuần ISO", "ISO year 2025 has 52 weeks"),
        ("2026W54", "năm 2026 có 53 tuần ISO", "ISO year 2026 has 53 weeks"),
        ("2026-08-20..2026-08-01", "ngày bắt đầu 20/08/2026 nằm sau", "start date 20/08/2026 is after"),
        ("", "để trống", "empty"),
    ],
)
def test_error_reasons(bad: str, vi: str, en: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_period(bad)
    assert vi in caught.value.message_vi
    assert en in caught.value.message_en


def test_constructors_reject_out_of_range_values() -> None:
    with pytest.raises(InputError, match="2026Q5"):
        Period.of_quarter(2026, 5)
    with pytest.raises(InputError, match="2026-13"):
        Period.of_month(2026, 13)
    with pytest.raises(InputError, match="2025W53"):
        Period.of_week(2025, 53)
    with pytest.raises(InputError):
        Period.of_range(date(2026, 8, 2), date(2026, 8, 1))


def test_inconsistent_direct_construction_is_rejected() -> None:
    with pytest.raises(ValueError):
        Period(T.MONTH, date(2026, 8, 1), date(2026, 9, 2), 2026, 8)
    with pytest.raises(ValueError):
        Period(T.DAY, date(2026, 8, 1), date(2026, 8, 3), 2026)
    with pytest.raises(ValueError):
        Period(T.RANGE, date(2026, 8, 2), date(2026, 8, 2))
    with pytest.raises(ValueError):
        Period(T.QUARTER, date(2026, 7, 1), date(2026, 10, 1), 2026, 2)


# -- labels ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pid", "vi", "en"),
    [
        ("2026-08-15", "Ngày 15/08/2026", "15/08/2026"),
        ("2026W33", "Tuần 33/2026", "Week 33 of 2026"),
        ("2026W01", "Tuần 1/2026", "Week 1 of 2026"),
        ("2026-08", "Tháng 8/2026", "August 2026"),
        ("2026-12", "Tháng 12/2026", "December 2026"),
        ("2026Q1", "Quý I/2026", "Q1 2026"),
        ("2026Q2", "Quý II/2026", "Q2 2026"),
        ("2026Q3", "Quý III/2026", "Q3 2026"),
        ("2026Q4", "Quý IV/2026", "Q4 2026"),
        ("2026H1", "6 tháng đầu năm 2026", "First half of 2026"),
        ("2026H2", "6 tháng cuối năm 2026", "Second half of 2026"),
        ("2026M9", "9 tháng đầu năm 2026", "First nine months of 2026"),
        ("2026", "Năm 2026", "Year 2026"),
        ("2026-08-01..2026-08-20", "Từ 01/08/2026 đến 20/08/2026", "01/08/2026 to 20/08/2026"),
    ],
)
def test_labels(pid: str, vi: str, en: str) -> None:
    p = parse_period(pid)
    assert p.label_vi == vi
    assert p.label_en == en
    assert p.label() == vi
    assert p.label("vi") == vi
    assert p.label("en") == en
    assert p.label("EN") == en


def test_label_rejects_unknown_language() -> None:
    with pytest.raises(ValueError):
        parse_period("2026").label("fr")


def test_str_is_the_id() -> None:
    assert str(parse_period("2026q3")) == "2026Q3"


# -- hypothesis: random periods of every type ----------------------------------------------------------

# From 1976: Asia/Ho_Chi_Minh has been UTC+7 without change since 13/06/1975.
dates = st.dates(min_value=date(1976, 1, 1), max_value=date(2997, 12, 31))


@st.composite
def periods(draw: st.DrawFn, types: tuple[PeriodType, ...] = tuple(PeriodType)) -> Period:
    ptype = draw(st.sampled_from(types))
    d = draw(dates)
    if ptype is T.RANGE:
        return Period.of_range(d, d + timedelta(days=draw(st.integers(0, 800))))
    if ptype is T.NINE_MONTHS and d.month > 9:
        d = d.replace(month=d.month - 9, day=min(d.day, 28))
    return period_containing(ptype, d)


@given(periods())
def test_round_trip(p: Period) -> None:
    assert parse_period(p.id) == p
    assert parse_period(p.id.lower()) == p


@pytest.mark.parametrize("ptype", list(PeriodType))
@given(data=st.data())
def test_round_trip_each_type(ptype: PeriodType, data: st.DataObject) -> None:
    p = data.draw(periods((ptype,)))
    assert p.type is ptype
    q = parse_period(p.id)
    assert q == p and q.type is ptype and q.id == p.id


@given(periods())
def test_previous_and_next_are_inverse_and_keep_the_type(p: Period) -> None:
    prev, nxt = p.previous(), p.next()
    assert prev.type is p.type and nxt.type is p.type
    assert prev.next() == p
    assert nxt.previous() == p
    assert prev < p < nxt
    if p.type is T.RANGE:
        assert prev.days == p.days == nxt.days
    if p.type is T.NINE_MONTHS:
        assert p.year is not None
        assert (prev.year, nxt.year) == (p.year - 1, p.year + 1)
    else:
        # Every other type tiles the time line: no gap, no overlap.
        assert prev.end == p.start
        assert nxt.start == p.end


@pytest.mark.parametrize(
    ("pid", "prev", "nxt"),
    [
        ("2026Q1", "2025Q4", "2026Q2"),
        ("2026Q4", "2026Q3", "2027Q1"),
        ("2026W01", "2025W52", "2026W02"),
        ("2026W53", "2026W52", "2027W01"),
        ("2021W01", "2020W53", "2021W02"),
        ("2026H1", "2025H2", "2026H2"),
        ("2026M9", "2025M9", "2027M9"),
        ("2026", "2025", "2027"),
        ("2026-01", "2025-12", "2026-02"),
        ("2026-01-01", "2025-12-31", "2026-01-02"),
        ("2024-02-28", "2024-02-27", "2024-02-29"),
        ("2026-08-01..2026-08-20", "2026-07-12..2026-07-31", "2026-08-21..2026-09-09"),
        ("2026-08-01..2026-08-01", "2026-07-31..2026-07-31", "2026-08-02..2026-08-02"),
    ],
)
def test_previous_next_examples(pid: str, prev: str, nxt: str) -> None:
    p = parse_period(pid)
    assert p.previous().id == prev
    assert p.next().id == nxt


@given(st.sampled_from(CALENDAR_TYPES), dates)
def test_period_containing(ptype: PeriodType, d: date) -> None:
    if ptype is T.NINE_MONTHS and d.month > 9:
        with pytest.raises(InputError):
            period_containing(ptype, d)
        return
    p = period_containing(ptype, d)
    assert p.type is ptype
    assert p.contains(d)
    assert p.start <= d < p.end
    assert not p.contains(p.end) and not p.contains(p.start - timedelta(days=1))
    assert p.contains(p.start) and p.contains(p.last_day)


def test_period_containing_examples() -> None:
    d = date(2026, 8, 15)
    assert period_containing(T.DAY, d).id == "2026-08-15"
    assert period_containing(T.WEEK, d).id == "2026W33"
    assert period_containing(T.MONTH, d).id == "2026-08"
    assert period_containing(T.QUARTER, d).id == "2026Q3"
    assert period_containing(T.HALF, d).id == "2026H2"
    assert period_containing(T.NINE_MONTHS, d).id == "2026M9"
    assert period_containing(T.YEAR, d).id == "2026"
    assert period_containing(T.WEEK, date(2027, 1, 3)).id == "2026W53"
    assert period_containing(T.WEEK, date(2025, 12, 29)).id == "2026W01"
    with pytest.raises(ValueError):
        period_containing(T.RANGE, d)


def test_datetimes_are_read_as_local_days() -> None:
    # 18:00 UTC on 30/09 is 01:00 on 01/10 in Hồ Chí Minh City.
    instant = datetime(2026, 9, 30, 18, 0, tzinfo=UTC)
    assert period_containing(T.QUARTER, instant).id == "2026Q4"
    assert parse_period("2026Q4").contains(instant)
    assert not parse_period("2026Q3").contains(instant)
    assert period_containing(T.DAY, datetime(2026, 9, 30, 23, 0)).id == "2026-09-30"  # naive = local


# -- instants, provisional and closed ------------------------------------------------------------------


def test_instants_are_local_midnight() -> None:
    q3 = parse_period("2026Q3")
    assert q3.start_instant == datetime(2026, 7, 1, tzinfo=VN_TZ)
    assert q3.end_instant == datetime(2026, 10, 1, tzinfo=VN_TZ)
    assert q3.end_instant.utcoffset() == timedelta(hours=7)
    assert q3.end_instant.astimezone(UTC) == datetime(2026, 9, 30, 17, 0, tzinfo=UTC)
    assert q3.start_instant.astimezone(UTC) == datetime(2026, 6, 30, 17, 0, tzinfo=UTC)


@given(periods())
def test_provisional_until_the_end_instant(p: Period) -> None:
    end = p.end_instant
    tick = timedelta(microseconds=1)
    assert p.is_closed(end) and not p.is_provisional(end)
    assert p.is_provisional(end - tick) and not p.is_closed(end - tick)
    assert p.is_provisional(p.start_instant)
    assert p.is_closed(end.astimezone(UTC))
    assert p.is_provisional((end - tick).astimezone(UTC))


def test_provisional_boundary_examples() -> None:
    q3 = parse_period("2026Q3")
    tick = timedelta(microseconds=1)
    end_utc = datetime(2026, 9, 30, 17, 0, tzinfo=UTC)
    assert q3.is_closed(end_utc)
    assert q3.is_provisional(end_utc - tick)
    # Naive as-of is Asia/Ho_Chi_Minh local time.
    assert q3.is_closed(datetime(2026, 10, 1, 0, 0))
    assert q3.is_provisional(datetime(2026, 9, 30, 23, 59, 59, 999999))
    # 18:00 naive would be after the end if read as UTC; read as local time it is still Q3.
    assert q3.is_provisional(datetime(2026, 9, 30, 18, 0))
    assert not q3.is_closed(datetime(2026, 9, 30, 18, 0))


# -- ordering, equality, immutability -------------------------------------------------------------------


def test_ordering_by_start_then_end() -> None:
    ids = ["2026Q3", "2026-07", "2026H2", "2026-06-30", "2026W33", "2027", "2026", "2026-07-01..2026-07-02"]
    ordered = [p.id for p in sorted(parse_period(i) for i in ids)]
    assert ordered == [
        "2026",
        "2026-06-30",
        "2026-07-01..2026-07-02",
        "2026-07",
        "2026Q3",
        "2026H2",
        "2026W33",
        "2027",
    ]
    assert parse_period("2026Q3") <= parse_period("2026Q3") >= parse_period("2026Q3")
    assert parse_period("2026Q4") > parse_period("2026Q3")


@given(periods(), periods())
def test_ordering_is_consistent_with_equality(a: Period, b: Period) -> None:
    assert (a == b) == (not a < b and not b < a)
    assert (a < b) == (b > a)
    assert (a <= b) == (a < b or a == b)
    if (a.start, a.end) < (b.start, b.end):
        assert a < b


def test_frozen_and_hashable() -> None:
    p = parse_period("2026Q3")
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.year = 2027  # type: ignore[misc]
    assert {p, parse_period("2026q3")} == {p}


# -- periods_of_year ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("year", "days", "weeks"),
    [(2026, 365, 53), (2025, 365, 52), (2024, 366, 52), (2020, 366, 53)],
)
def test_periods_of_year_counts(year: int, days: int, weeks: int) -> None:
    listed = periods_of_year(year)
    counts = {t: sum(1 for p in listed if p.type is t) for t in PeriodType}
    assert counts == {
        T.DAY: days,
        T.WEEK: weeks,
        T.MONTH: 12,
        T.QUARTER: 4,
        T.HALF: 2,
        T.NINE_MONTHS: 1,
        T.YEAR: 1,
        T.RANGE: 0,
    }
    assert all(p.year == year for p in listed)
    assert len(set(listed)) == len(listed)


@pytest.mark.parametrize("ptype", [T.DAY, T.WEEK, T.MONTH, T.QUARTER, T.HALF])
def test_periods_of_year_tile_without_gaps(ptype: PeriodType) -> None:
    listed = periods_of_year(2026, [ptype])
    assert all(p.type is ptype for p in listed)
    assert all(a.end == b.start for a, b in pairwise(listed))
    if ptype is not T.WEEK:
        assert listed[0].start == date(2026, 1, 1) and listed[-1].end == date(2027, 1, 1)
    else:
        assert listed[0].id == "2026W01" and listed[-1].id == "2026W53"


def test_periods_of_year_order_and_arguments() -> None:
    listed = periods_of_year(2026, [T.QUARTER, T.YEAR])
    assert [p.id for p in listed] == ["2026Q1", "2026Q2", "2026Q3", "2026Q4", "2026"]
    assert [p.id for p in periods_of_year(2026, T.HALF)] == ["2026H1", "2026H2"]
    with pytest.raises(ValueError):
        periods_of_year(2026, [T.RANGE])
    with pytest.raises(InputError):
        periods_of_year(1800)
