"""Per-period PAKN facts (5.2 / 5.3): ``chiso766.engine.facts_petitions.petition_facts_sql``.

Hand-made fixtures in an in-memory store. Times in the tests are Vietnam local time (``at("2026-03-02
09:00")``) and are stored as naive UTC, as ingest does. Working days are counted *after* the clock-start day up
to and including the event day (D-5.2-3). Calendar facts used below (DATA_FORMATS §2.2, D-gen-5):

- March 2026 has no weekday off: Mon 02/03 … Fri 06/03, 09–13, 16–20, 23–27, Mon 30 and Tue 31/03 work.
- Tết 2026: Sat 14/02 – Sun 22/02 off (weekdays Mon 16 – Fri 20/02).
- New Year 2026: Thu 01/01 – Sun 04/01 off; Sat 10/01/2026 is a make-up working Saturday.

Unit tree: ``H99`` (province root) with ``H99.01`` (sở) and ``H99.02`` (xã); ``H97`` (another province in the
tree) with ``H97.01``. ``VPCP`` and ``H98`` are not in ``units``, so each is its own root (D-5.2-2).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import duckdb
import pytest

from chiso766.domain.periods import Period
from chiso766.engine.dialect import SPARK
from chiso766.engine.facts_petitions import LATE_REASONS, PETITION_FACT_COLUMNS, petition_facts_sql
from chiso766.engine.structure import load_calendar_table, load_period_structure, rebuild_unit_closure, utc_naive
from chiso766.store.db import Store

JAN = Period.of_month(2026, 1)
FEB = Period.of_month(2026, 2)
MARCH = Period.of_month(2026, 3)
MAY = Period.of_month(2026, 5)

UNITS = [
    ("H99", "Tỉnh H99", None, "province"),
    ("H99.01", "Sở A", "H99", "provincial_department"),
    ("H99.02", "Xã B", "H99", "commune"),
    ("H97", "Tỉnh H97", None, "province"),
    ("H97.01", "Sở C", "H97", "provincial_department"),
]

Fact = dict[str, Any]


# --- fixtures and helpers -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def base_store() -> Iterator[Store]:
    """One store per module with the units, their closure and the calendar (loading the calendar is slow)."""
    store = Store(":memory:")
    con = store.connection
    con.executemany("INSERT INTO units (unit_code, name, parent_code, level) VALUES (?, ?, ?, ?)", UNITS)
    rebuild_unit_closure(con)
    load_calendar_table(con)
    yield store
    store.close()


@pytest.fixture
def con(base_store: Store) -> duckdb.DuckDBPyConnection:
    """The module store with no PAKN: every test starts from empty petitions / petition_events."""
    c = base_store.connection
    c.execute("DELETE FROM petition_events")
    c.execute("DELETE FROM petitions")
    return c


def at(local: str) -> datetime:
    """A Vietnam local time ``yyyy-mm-dd HH:MM`` as the store keeps instants (naive UTC)."""
    return utc_naive(datetime.strptime(local, "%Y-%m-%d %H:%M"))


def add_petition(
    con: duckdb.DuckDBPyConnection,
    petition_id: str,
    unit: str,
    sent: str,
    *,
    likes: int = 0,
    dislikes: int = 0,
    raised_again: bool = False,
) -> None:
    con.execute(
        "INSERT INTO petitions (petition_id, unit_code, sent_at, likes, dislikes, raised_again, ingested_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        [petition_id, unit, at(sent), likes, dislikes, raised_again, datetime(2026, 10, 1)],
    )


def add_event(
    con: duckdb.DuckDBPyConnection,
    petition_id: str,
    status: str,
    when: str,
    *,
    from_unit: str | None = None,
    to_unit: str | None = None,
) -> None:
    con.execute(
        "INSERT INTO petition_events (petition_id, status, event_at, from_unit, to_unit) VALUES (?, ?, ?, ?, ?)",
        [petition_id, status, at(when), from_unit, to_unit],
    )


def facts(con: duckdb.DuckDBPyConnection, *periods: Period, as_of: str | None = None) -> dict[tuple[str, str], Fact]:
    """All fact rows keyed by (period_id, petition_id), for ``periods`` judged at ``as_of`` (local time)."""
    load_period_structure(con, list(periods), None if as_of is None else datetime.strptime(as_of, "%Y-%m-%d %H:%M"))
    cur = con.execute(petition_facts_sql())
    columns = [d[0] for d in cur.description]
    rows = [dict(zip(columns, r, strict=True)) for r in cur.fetchall()]
    keyed = {(r["period_id"], r["petition_id"]): r for r in rows}
    assert len(keyed) == len(rows), "one row per (period_id, petition_id)"
    return keyed


def fact(con: duckdb.DuckDBPyConnection, petition_id: str, period: Period = MARCH, as_of: str | None = None) -> Fact:
    return facts(con, period, as_of=as_of)[(period.id, petition_id)]


def verdict(f: Fact) -> tuple[Any, ...]:
    """The judged part of a row: (closing_status, working_days, publish_working_days, on_time, late_reason)."""
    return (f["closing_status"], f["working_days"], f["publish_working_days"], f["on_time"], f["late_reason"])


# --- shape ----------------------------------------------------------------------------------------------------


def test_columns_and_types(con: duckdb.DuckDBPyConnection) -> None:
    """The SELECT yields exactly PETITION_FACT_COLUMNS; instants come back as the stored naive UTC values."""
    add_petition(con, "P1", "H99.01", "2026-03-02 09:00")
    load_period_structure(con, [MARCH])
    cur = con.execute(petition_facts_sql())
    assert tuple(d[0] for d in cur.description) == PETITION_FACT_COLUMNS
    (row,) = cur.fetchall()
    f = dict(zip(PETITION_FACT_COLUMNS, row, strict=True))
    assert f["reception_at"] == f["clock_start_at"] == datetime(2026, 3, 2, 2, 0)
    assert f["late_reason"] is None or f["late_reason"] in LATE_REASONS


def test_spark_dialect_renders() -> None:
    """The Spark text differs only by the dialect helpers (local_date → to_date); no DuckDB-only function."""
    sql = petition_facts_sql(SPARK)
    assert "to_date(" in sql and "AS DATE)" not in sql
    assert "arg_max" not in sql.lower() and "qualify" not in sql.lower()


# --- D-5.2-3: rejection (≤ 2 working days) ----------------------------------------------------------------------


def test_reject_within_two_working_days(con: duckdb.DuckDBPyConnection) -> None:
    """Sent Fri 06/03 09:00, TU_CHOI Tue 10/03: working days after Fri up to Tue = Mon 09, Tue 10 = 2 ≤ 2
    (the weekend does not count) → on time, satisfied (no votes)."""
    add_petition(con, "P1", "H99.01", "2026-03-06 09:00")
    add_event(con, "P1", "TU_CHOI", "2026-03-10 16:00")
    f = fact(con, "P1")
    assert verdict(f) == ("TU_CHOI", 2, None, True, None)
    assert f["closing_at"] == at("2026-03-10 16:00")
    assert f["satisfied"] is True


def test_reject_after_two_working_days(con: duckdb.DuckDBPyConnection) -> None:
    """Sent Mon 02/03, TU_CHOI Thu 05/03: Tue 03, Wed 04, Thu 05 = 3 > 2 → reject_late, not satisfied."""
    add_petition(con, "P1", "H99.01", "2026-03-02 09:00")
    add_event(con, "P1", "TU_CHOI", "2026-03-05 08:00")
    f = fact(con, "P1")
    assert verdict(f) == ("TU_CHOI", 3, None, False, "reject_late")
    assert f["satisfied"] is False


def test_local_dates_not_utc_dates(con: duckdb.DuckDBPyConnection) -> None:
    """Sent Mon 02/03 06:30 local (= Sun 01/03 23:30 UTC), TU_CHOI Wed 04/03 10:00. Local days: Tue 03, Wed 04
    = 2 → on time. Counting from the UTC date (Sunday, same index as Fri 27/02) would give 3 → late."""
    add_petition(con, "P1", "H99.01", "2026-03-02 06:30")
    add_event(con, "P1", "TU_CHOI", "2026-03-04 10:00")
    assert verdict(fact(con, "P1")) == ("TU_CHOI", 2, None, True, None)


# --- D-5.2-3: first supplement request (≤ 5) --------------------------------------------------------------------


def test_supplement_request_within_five(con: duckdb.DuckDBPyConnection) -> None:
    """Sent Fri 06/03, YEU_CAU_BO_SUNG Fri 13/03: Mon 09 … Fri 13 = 5 ≤ 5 → on time. The citizen never answers:
    the PAKN waits for the citizen, which is "handled" and stays on time at the horizon 31/03 (D-5.2-4)."""
    add_petition(con, "P1", "H99.01", "2026-03-06 10:00")
    add_event(con, "P1", "YEU_CAU_BO_SUNG", "2026-03-13 17:00")
    assert verdict(fact(con, "P1")) == ("YEU_CAU_BO_SUNG", 5, None, True, None)


def test_supplement_request_late(con: duckdb.DuckDBPyConnection) -> None:
    """Sent Mon 02/03, YEU_CAU_BO_SUNG Tue 10/03: Tue 03 … Fri 06 (4) + Mon 09, Tue 10 (2) = 6 > 5 → late."""
    add_petition(con, "P1", "H99.01", "2026-03-02 10:00")
    add_event(con, "P1", "YEU_CAU_BO_SUNG", "2026-03-10 09:00")
    assert verdict(fact(con, "P1")) == ("YEU_CAU_BO_SUNG", 6, None, False, "supplement_request_late")


def test_first_closing_event_decides(con: duckdb.DuckDBPyConnection) -> None:
    """Sent Mon 02/03; DANG_XU_LY Tue 03/03 (not closing); TU_CHOI Wed 04/03 (2 days, on time); a later
    DA_CONG_KHAI on Tue 24/03 (16 days) is not the first closing event and does not matter."""
    add_petition(con, "P1", "H99.01", "2026-03-02 09:00")
    add_event(con, "P1", "DANG_XU_LY", "2026-03-03 09:00")
    add_event(con, "P1", "TU_CHOI", "2026-03-04 09:00")
    add_event(con, "P1", "DA_CONG_KHAI", "2026-03-24 09:00")
    assert verdict(fact(con, "P1")) == ("TU_CHOI", 2, None, True, None)


# --- D-5.2-3: answered (CHO_CONG_KHAI ≤ 15, then published ≤ 2) -------------------------------------------------


def test_answered_within_fifteen_and_published_within_two(con: duckdb.DuckDBPyConnection) -> None:
    """Sent Mon 02/03; CHO_CONG_KHAI Fri 20/03: 03–06 (4) + 09–13 (5) + 16–20 (5) = 14 ≤ 15; DA_CONG_KHAI
    Tue 24/03: Mon 23, Tue 24 = 2 ≤ 2 → on time."""
    add_petition(con, "P1", "H99.01", "2026-03-02 09:00")
    add_event(con, "P1", "CHO_CONG_KHAI", "2026-03-20 15:00")
    add_event(con, "P1", "DA_CONG_KHAI", "2026-03-24 15:00")
    f = fact(con, "P1")
    assert verdict(f) == ("CHO_CONG_KHAI", 14, 2, True, None)
    assert f["published_at"] == at("2026-03-24 15:00")


def test_answered_in_time_but_published_late(con: duckdb.DuckDBPyConnection) -> None:
    """Sent Mon 02/03; CHO_CONG_KHAI Fri 20/03 (14 days, fine); DA_CONG_KHAI Wed 25/03: Mon 23, Tue 24, Wed 25
    = 3 > 2 → publish_late."""
    add_petition(con, "P1", "H99.01", "2026-03-02 09:00")
    add_event(con, "P1", "CHO_CONG_KHAI", "2026-03-20 15:00")
    add_event(con, "P1", "DA_CONG_KHAI", "2026-03-25 08:00")
    assert verdict(fact(con, "P1")) == ("CHO_CONG_KHAI", 14, 3, False, "publish_late")


def test_answered_still_unpublished_within_two_at_horizon(con: duckdb.DuckDBPyConnection) -> None:
    """Sent Mon 16/03; CHO_CONG_KHAI Fri 27/03: 17–20 (4) + 23–27 (5) = 9 ≤ 15. Unpublished at the horizon
    Tue 31/03: Mon 30, Tue 31 = 2 ≤ 2 → still on time."""
    add_petition(con, "P1", "H99.01", "2026-03-16 09:00")
    add_event(con, "P1", "CHO_CONG_KHAI", "2026-03-27 09:00")
    f = fact(con, "P1")
    assert verdict(f) == ("CHO_CONG_KHAI", 9, 2, True, None)
    assert f["published_at"] is None


def test_answered_unpublished_at_horizon_publication_after_period_ignored(con: duckdb.DuckDBPyConnection) -> None:
    """Sent Mon 16/03; CHO_CONG_KHAI Wed 25/03 (17–20 + 23–25 = 7 ≤ 15). DA_CONG_KHAI Wed 01/04 is after the
    period end and is ignored for March (D-gen-1), so the 2 days run to the horizon Tue 31/03: Thu 26, Fri 27,
    Mon 30, Tue 31 = 4 > 2 → publish_late in March."""
    add_petition(con, "P1", "H99.01", "2026-03-16 09:00")
    add_event(con, "P1", "CHO_CONG_KHAI", "2026-03-25 09:00")
    add_event(con, "P1", "DA_CONG_KHAI", "2026-04-01 09:00")
    f = fact(con, "P1", as_of="2026-10-01 00:00")
    assert verdict(f) == ("CHO_CONG_KHAI", 7, 4, False, "publish_late")
    assert f["published_at"] is None


def test_answered_late_is_handling_late_even_if_published_late(con: duckdb.DuckDBPyConnection) -> None:
    """Sent Mon 02/03; CHO_CONG_KHAI Tue 24/03 = 16 > 15; DA_CONG_KHAI Fri 27/03 = 3 > 2. The first failed
    check names the reason: handling_late."""
    add_petition(con, "P1", "H99.01", "2026-03-02 09:00")
    add_event(con, "P1", "CHO_CONG_KHAI", "2026-03-24 09:00")
    add_event(con, "P1", "DA_CONG_KHAI", "2026-03-27 09:00")
    assert verdict(fact(con, "P1")) == ("CHO_CONG_KHAI", 16, 3, False, "handling_late")


def test_published_directly(con: duckdb.DuckDBPyConnection) -> None:
    """DA_CONG_KHAI without CHO_CONG_KHAI. P1: sent Mon 02/03, published Mon 23/03 = 15 ≤ 15 → on time.
    P2: sent Mon 02/03, published Tue 24/03 = 16 > 15 → handling_late. No publication step is measured."""
    add_petition(con, "P1", "H99.01", "2026-03-02 09:00")
    add_event(con, "P1", "DA_CONG_KHAI", "2026-03-23 09:00")
    add_petition(con, "P2", "H99.01", "2026-03-02 09:00")
    add_event(con, "P2", "DA_CONG_KHAI", "2026-03-24 09:00")
    got = facts(con, MARCH)
    assert verdict(got[("2026-03", "P1")]) == ("DA_CONG_KHAI", 15, None, True, None)
    assert verdict(got[("2026-03", "P2")]) == ("DA_CONG_KHAI", 16, None, False, "handling_late")


# --- D-5.2-3 in progress, D-gen-1 horizon ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        ("2026-03-20 17:00", (None, 14, None, True, None)),  # Fri 20/03: 03–06, 09–13, 16–20 = 14
        ("2026-03-24 08:00", (None, 16, None, False, "in_progress_overdue")),  # Tue 24/03: 16
        ("2026-03-25 08:59", (None, 17, None, False, "in_progress_overdue")),  # one minute before the TU_CHOI
        ("2026-03-25 09:00", ("TU_CHOI", 17, None, False, "reject_late")),  # as_of itself is known (≤ as_of_at)
        (None, ("TU_CHOI", 17, None, False, "reject_late")),  # closed March
    ],
)
def test_closing_event_after_as_of_is_unknown(
    con: duckdb.DuckDBPyConnection, as_of: str | None, expected: tuple[Any, ...]
) -> None:
    """Sent Mon 02/03 09:00, DANG_XU_LY Tue 03/03 (not closing), TU_CHOI Wed 25/03 09:00. Before the TU_CHOI is
    known (D-gen-1: event_at <= as_of_at) the PAKN is in progress at the horizon day; from then on the TU_CHOI
    decides: Tue 03 … Wed 25 = 17 > 2 → reject_late."""
    add_petition(con, "P1", "H99.01", "2026-03-02 09:00")
    add_event(con, "P1", "DANG_XU_LY", "2026-03-03 09:00")
    add_event(con, "P1", "TU_CHOI", "2026-03-25 09:00")
    assert verdict(fact(con, "P1", as_of=as_of)) == expected


@pytest.mark.parametrize(
    ("as_of", "days", "on_time", "reason"),
    [
        ("2026-03-20 17:00", 14, True, None),
        ("2026-03-23 17:00", 15, True, None),
        ("2026-03-24 08:00", 16, False, "in_progress_overdue"),
        (None, 21, False, "in_progress_overdue"),
    ],
)
def test_in_progress_without_events(
    con: duckdb.DuckDBPyConnection, as_of: str | None, days: int, on_time: bool, reason: str | None
) -> None:
    """Sent Mon 02/03 09:00 and nothing else: working days to the horizon day are 14 (Fri 20/03), 15 (Mon 23/03),
    16 (Tue 24/03) and 21 at the period end (horizon Tue 31/03) → on time iff ≤ 15."""
    add_petition(con, "P1", "H99.01", "2026-03-02 09:00")
    assert verdict(fact(con, "P1", as_of=as_of)) == (None, days, None, on_time, reason)


def test_in_progress_within_fifteen_at_period_end(con: duckdb.DuckDBPyConnection) -> None:
    """Sent Mon 16/03, no closing event, closed March: 17–20 (4) + 23–27 (5) + 30, 31 (2) = 11 ≤ 15 → on time."""
    add_petition(con, "P1", "H99.01", "2026-03-16 09:00")
    assert verdict(fact(con, "P1")) == (None, 11, None, True, None)


def test_as_of_inside_period_hides_later_petitions(con: duckdb.DuckDBPyConnection) -> None:
    """as_of Fri 20/03 17:00: P1 (sent 10/03) is known; P2 (sent Mon 23/03) is not yet known → no row."""
    add_petition(con, "P1", "H99.01", "2026-03-10 09:00")
    add_petition(con, "P2", "H99.01", "2026-03-23 09:00")
    assert set(facts(con, MARCH, as_of="2026-03-20 17:00")) == {("2026-03", "P1")}
    assert set(facts(con, MARCH)) == {("2026-03", "P1"), ("2026-03", "P2")}


# --- calendar: Tết 2026 and the make-up Saturday ---------------------------------------------------------------


def test_across_tet_2026(con: duckdb.DuckDBPyConnection) -> None:
    """February 2026 (Tết: Sat 14 – Sun 22/02 off).
    P1: sent Thu 12/02, TU_CHOI Mon 23/02: Fri 13, Mon 23 = 2 → on time (7 calendar weekdays without Tết).
    P2: sent Fri 13/02, YEU_CAU_BO_SUNG Fri 27/02: Mon 23 … Fri 27 = 5 → on time.
    P3: sent Mon 09/02, in progress at the horizon Sat 28/02: Tue 10 – Fri 13 (4) + Mon 23 – Fri 27 (5) = 9."""
    add_petition(con, "P1", "H99.01", "2026-02-12 09:00")
    add_event(con, "P1", "TU_CHOI", "2026-02-23 09:00")
    add_petition(con, "P2", "H99.01", "2026-02-13 09:00")
    add_event(con, "P2", "YEU_CAU_BO_SUNG", "2026-02-27 09:00")
    add_petition(con, "P3", "H99.02", "2026-02-09 09:00")
    got = facts(con, FEB)
    assert verdict(got[("2026-02", "P1")]) == ("TU_CHOI", 2, None, True, None)
    assert verdict(got[("2026-02", "P2")]) == ("YEU_CAU_BO_SUNG", 5, None, True, None)
    assert verdict(got[("2026-02", "P3")]) == (None, 9, None, True, None)


def test_make_up_saturday_and_new_year(con: duckdb.DuckDBPyConnection) -> None:
    """January 2026 (Thu 01 – Sun 04/01 off; Sat 10/01 works).
    P1: sent Thu 08/01, TU_CHOI Mon 12/01: Fri 09, Sat 10 (make-up), Mon 12 = 3 > 2 → reject_late (it would be
    2 without the make-up Saturday).
    P2: sent Sun 04/01 (holiday), TU_CHOI Tue 06/01: Mon 05, Tue 06 = 2 → on time."""
    add_petition(con, "P1", "H99.01", "2026-01-08 09:00")
    add_event(con, "P1", "TU_CHOI", "2026-01-12 09:00")
    add_petition(con, "P2", "H99.01", "2026-01-04 20:00")
    add_event(con, "P2", "TU_CHOI", "2026-01-06 09:00")
    got = facts(con, JAN)
    assert verdict(got[("2026-01", "P1")]) == ("TU_CHOI", 3, None, False, "reject_late")
    assert verdict(got[("2026-01", "P2")]) == ("TU_CHOI", 2, None, True, None)


# --- D-5.2-1 / D-5.2-2: transfers, holder, in_tree --------------------------------------------------------------


def test_forwarded_from_vpcp_restarts_clock(con: duckdb.DuckDBPyConnection) -> None:
    """Sent to VPCP Mon 02/03; CHUYEN_XU_LY VPCP → H99.01 Tue 03/03 10:00 (roots VPCP ≠ H99: restart);
    TU_CHOI Thu 05/03: Wed 04, Thu 05 = 2 → on time (3 from the submission would be late). Holder H99.01."""
    add_petition(con, "P1", "VPCP", "2026-03-02 09:00")
    add_event(con, "P1", "CHUYEN_XU_LY", "2026-03-03 10:00", from_unit="VPCP", to_unit="H99.01")
    add_event(con, "P1", "TU_CHOI", "2026-03-05 10:00")
    f = fact(con, "P1")
    assert (f["holder_unit"], f["in_tree"]) == ("H99.01", True)
    assert f["reception_at"] == f["clock_start_at"] == at("2026-03-03 10:00")
    assert verdict(f) == ("TU_CHOI", 2, None, True, None)


def test_transfer_between_provinces_restarts_clock(con: duckdb.DuckDBPyConnection) -> None:
    """P1: sent to H97.01 Mon 02/03, moved to H99.02 Mon 09/03 (root H97 ≠ H99, both in the tree) → restart;
    in progress at the horizon Tue 31/03: 10–13 (4) + 16–20 + 23–27 (10) + 30, 31 (2) = 16 → overdue
    (21 from 02/03 would also be overdue; the clock start is what is checked).
    P2: sent to H98 (another province, not in units: its own root) Mon 02/03, moved to H99.01 Mon 16/03 with
    no from_unit (sender = current holder H98) → restart; in progress: 11 → on time."""
    add_petition(con, "P1", "H97.01", "2026-03-02 09:00")
    add_event(con, "P1", "CHUYEN_XU_LY", "2026-03-09 09:00", from_unit="H97.01", to_unit="H99.02")
    add_petition(con, "P2", "H98", "2026-03-02 09:00")
    add_event(con, "P2", "CHUYEN_XU_LY", "2026-03-16 09:00", to_unit="H99.01")
    got = facts(con, MARCH)
    p1, p2 = got[("2026-03", "P1")], got[("2026-03", "P2")]
    assert (p1["holder_unit"], p1["clock_start_at"]) == ("H99.02", at("2026-03-09 09:00"))
    assert verdict(p1) == (None, 16, None, False, "in_progress_overdue")
    assert (p2["holder_unit"], p2["in_tree"], p2["clock_start_at"]) == ("H99.01", True, at("2026-03-16 09:00"))
    assert verdict(p2) == (None, 11, None, True, None)


def test_transfer_inside_province_keeps_clock_moves_holder(con: duckdb.DuckDBPyConnection) -> None:
    """Sent to H99.01 Mon 02/03; CHUYEN_XU_LY H99.01 → H99.02 Wed 11/03 (no from_unit; same root H99: no
    restart); TU_CHOI by H99.02 Fri 13/03: counted from Mon 02/03 = 9 > 2 → reject_late (it would be 2 if the
    clock had restarted). The PAKN now belongs to H99.02; the reception is still the submission."""
    add_petition(con, "P1", "H99.01", "2026-03-02 09:00")
    add_event(con, "P1", "CHUYEN_XU_LY", "2026-03-11 09:00", to_unit="H99.02")
    add_event(con, "P1", "TU_CHOI", "2026-03-13 09:00")
    f = fact(con, "P1")
    assert (f["holder_unit"], f["in_tree"]) == ("H99.02", True)
    assert f["reception_at"] == f["clock_start_at"] == at("2026-03-02 09:00")
    assert verdict(f) == ("TU_CHOI", 9, None, False, "reject_late")


def test_held_at_vpcp_at_horizon(con: duckdb.DuckDBPyConnection) -> None:
    """P1: sent to VPCP Thu 05/03, never forwarded → holder VPCP, in_tree false (kept for explain/check).
    P2: sent to VPCP Thu 05/03, forwarded to H99.01 on Wed 01/04 (after March): unknown for March → still at
    VPCP in March, reception = NgayGui.
    P3: sent to H99.01 Mon 02/03, returned to VPCP (H99 ≠ VPCP root) Wed 04/03 → held outside the tree,
    reception restarted at the return."""
    add_petition(con, "P1", "VPCP", "2026-03-05 09:00")
    add_petition(con, "P2", "VPCP", "2026-03-05 09:00")
    add_event(con, "P2", "CHUYEN_XU_LY", "2026-04-01 09:00", from_unit="VPCP", to_unit="H99.01")
    add_petition(con, "P3", "H99.01", "2026-03-02 09:00")
    add_event(con, "P3", "CHUYEN_XU_LY", "2026-03-04 09:00", to_unit="VPCP")
    got = facts(con, MARCH, as_of="2026-10-01 00:00")
    for pid in ("P1", "P2", "P3"):
        f = got[("2026-03", pid)]
        assert (f["holder_unit"], f["in_tree"]) == ("VPCP", False), pid
    assert got[("2026-03", "P2")]["reception_at"] == at("2026-03-05 09:00")
    assert got[("2026-03", "P3")]["reception_at"] == at("2026-03-04 09:00")


# --- D-5.2-4: DA_BO_SUNG restarts the clock -------------------------------------------------------------------


def test_supplemented_restarts_clock(con: duckdb.DuckDBPyConnection) -> None:
    """P1: sent Mon 02/03; YEU_CAU_BO_SUNG Tue 03/03 (1 day); DA_BO_SUNG Mon 16/03 restarts the clock; TU_CHOI
    Wed 18/03: Tue 17, Wed 18 = 2 → on time. The first closing event after the restart decides (TU_CHOI).
    P2: same start, DA_BO_SUNG Mon 16/03 and nothing else: in progress from 16/03 to the horizon Tue 31/03 = 11
    → on time (21 from the submission would be overdue). The reception stays NgayGui (D-5.2-1)."""
    for pid in ("P1", "P2"):
        add_petition(con, pid, "H99.01", "2026-03-02 09:00")
        add_event(con, pid, "YEU_CAU_BO_SUNG", "2026-03-03 09:00")
        add_event(con, pid, "DA_BO_SUNG", "2026-03-16 09:00")
    add_event(con, "P1", "TU_CHOI", "2026-03-18 09:00")
    got = facts(con, MARCH)
    p1, p2 = got[("2026-03", "P1")], got[("2026-03", "P2")]
    assert p1["clock_start_at"] == p2["clock_start_at"] == at("2026-03-16 09:00")
    assert p1["reception_at"] == p2["reception_at"] == at("2026-03-02 09:00")
    assert verdict(p1) == ("TU_CHOI", 2, None, True, None)
    assert verdict(p2) == (None, 11, None, True, None)


# --- D-5.3-1: satisfaction -------------------------------------------------------------------------------------


def test_satisfaction(con: duckdb.DuckDBPyConnection) -> None:
    """All sent Mon 02/03 and rejected Wed 04/03 (2 days, on time) unless said otherwise.
    S1 likes 1 / dislikes 2 → disliked → not satisfied.  S2 likes 2 / dislikes 2 → not disliked → satisfied.
    S3 raised_again → not satisfied.  S4 rejected Thu 05/03 (3 days, late) with 5 likes → not satisfied.
    S5 no votes, on time → satisfied."""
    for pid, likes, dislikes, again in [
        ("S1", 1, 2, False),
        ("S2", 2, 2, False),
        ("S3", 0, 0, True),
        ("S4", 5, 0, False),
        ("S5", 0, 0, False),
    ]:
        add_petition(con, pid, "H99.01", "2026-03-02 09:00", likes=likes, dislikes=dislikes, raised_again=again)
        add_event(con, pid, "TU_CHOI", "2026-03-05 09:00" if pid == "S4" else "2026-03-04 09:00")
    got = {pid: f for (_, pid), f in facts(con, MARCH).items()}
    assert {pid: (f["on_time"], f["disliked"], f["raised_again"], f["satisfied"]) for pid, f in got.items()} == {
        "S1": (True, True, False, False),
        "S2": (True, False, False, True),
        "S3": (True, False, True, False),
        "S4": (False, False, False, False),
        "S5": (True, False, False, True),
    }


# --- D-5.2-1 population across periods -------------------------------------------------------------------------


def test_previous_period_petition_not_in_this_period(con: duckdb.DuckDBPyConnection) -> None:
    """Sent to H99.01 Fri 27/02, DA_CONG_KHAI Mon 09/03. Reception in February → no March row; it is counted
    once, in February (judged at 28/02: in progress, 0 working days after Fri 27 up to Sat 28 → on time)."""
    add_petition(con, "P1", "H99.01", "2026-02-27 09:00")
    add_event(con, "P1", "DA_CONG_KHAI", "2026-03-09 09:00")
    assert facts(con, MARCH) == {}
    assert verdict(fact(con, "P1", FEB)) == (None, 0, None, True, None)


def test_period_without_petitions(con: duckdb.DuckDBPyConnection) -> None:
    """PAKN exist in March only; May 2026 has none → no rows for May."""
    add_petition(con, "P1", "H99.01", "2026-03-02 09:00")
    assert facts(con, MAY) == {}
    assert set(facts(con, MAY, MARCH)) == {("2026-03", "P1")}


def test_two_periods_at_once(con: duckdb.DuckDBPyConnection) -> None:
    """February and March judged together (each closed at its own end).
    A: sent to VPCP Fri 27/02, forwarded VPCP → H99.01 Tue 03/03, TU_CHOI Thu 05/03.
       February: the transfer is after Feb's end → holder VPCP, in_tree false, reception 27/02, in progress
       (Fri 27 → Sat 28 = 0 days). March: reception = transfer 03/03 (in March), holder H99.01, TU_CHOI
       Wed 04, Thu 05 = 2 → on time.
    B: sent to H99.01 Wed 25/02, YEU_CAU_BO_SUNG Mon 02/03: February only; in progress at 28/02 (Thu 26, Fri
       27 = 2 days, on time); the March request does not put it in March.
    C: sent Sun 01/03 05:00 local (= Sat 28/02 22:00 UTC) to H99.02: March only (local reception date);
       in progress at Tue 31/03: Mon 02 … Tue 31 = 22 → overdue."""
    add_petition(con, "A", "VPCP", "2026-02-27 09:00")
    add_event(con, "A", "CHUYEN_XU_LY", "2026-03-03 10:00", from_unit="VPCP", to_unit="H99.01")
    add_event(con, "A", "TU_CHOI", "2026-03-05 10:00")
    add_petition(con, "B", "H99.01", "2026-02-25 09:00")
    add_event(con, "B", "YEU_CAU_BO_SUNG", "2026-03-02 09:00")
    add_petition(con, "C", "H99.02", "2026-03-01 05:00")
    got = facts(con, FEB, MARCH)
    assert set(got) == {("2026-02", "A"), ("2026-03", "A"), ("2026-02", "B"), ("2026-03", "C")}
    a_feb, a_mar = got[("2026-02", "A")], got[("2026-03", "A")]
    assert (a_feb["holder_unit"], a_feb["in_tree"], a_feb["reception_at"]) == ("VPCP", False, at("2026-02-27 09:00"))
    assert verdict(a_feb) == (None, 0, None, True, None)
    assert (a_mar["holder_unit"], a_mar["in_tree"], a_mar["reception_at"]) == ("H99.01", True, at("2026-03-03 10:00"))
    assert verdict(a_mar) == ("TU_CHOI", 2, None, True, None)
    assert verdict(got[("2026-02", "B")]) == (None, 2, None, True, None)
    assert got[("2026-03", "C")]["reception_at"] == datetime(2026, 2, 28, 22, 0)
    assert verdict(got[("2026-03", "C")]) == (None, 22, None, False, "in_progress_overdue")
