"""Per-(period, dossier) facts SQL (engine/facts_dossiers.py): one hand-made fixture per rule.

Every instant in these tests is written in Vietnam local time (UTC+7) and converted to the store's naive UTC
with :func:`t`. Expected values are worked out by hand in each docstring. Rule ids: INTERPRETATIONS.md.
Weekdays used below: 2026-07-01 Wed, 07-03 Fri, 07-06 Mon; 2026-01-09 Fri, 01-10 Sat (make-up working day);
2026-02-13 Fri, 02-14..02-22 Tết (weekdays off 16–20/02), 02-23 Mon; 2026-09-30 Wed.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

import duckdb
import pytest

from chiso766.domain.periods import parse_period
from chiso766.engine.facts_dossiers import DOSSIER_FACT_COLUMNS, dossier_facts_sql
from chiso766.engine.structure import load_calendar_table, load_period_structure
from chiso766.store.db import Store

Con = duckdb.DuckDBPyConnection
Facts = dict[tuple[str, str], dict[str, Any]]


def t(local: str) -> datetime:
    """'YYYY-MM-DD HH:MM[:SS]' Vietnam local time → naive UTC, as the store keeps instants."""
    return datetime.fromisoformat(local) - timedelta(hours=7)


def t_opt(local: str | None) -> datetime | None:
    return None if local is None else t(local)


@pytest.fixture
def dossier_con() -> Iterator[Con]:
    store = Store(":memory:")
    load_calendar_table(store.connection)
    yield store.connection
    store.close()


_FLAG_DEFAULTS: dict[str, Any] = {
    "fee_state": "none",
    "has_component_file": False,
    "has_digitised_component": False,
    "has_store_component": False,
    "has_result_file": False,
    "has_result_code": False,
    "result_synced_to_store": False,
    "vneid": False,
    "disliked": False,
}


def add_dossier(
    con: Con,
    dossier_id: str,
    *,
    received: str | None = "2026-07-01 08:00",
    due: str | None = "2026-07-10 17:00",
    status: str = "4",
    procedure: str | None = "P",
    unit: str | None = "U1",
    id_prefix: str | None = None,
    channel: str | None = "1",
    processing_end: str | None = None,
    returned: str | None = None,
    rejected: str | None = None,
    payment: str | None = None,
    **flags: Any,
) -> None:
    values = {**_FLAG_DEFAULTS, **flags}
    con.execute(
        """
        INSERT INTO dossiers (dossier_id, unit_code, id_prefix, procedure_code, channel, received_at, due_at,
            status, processing_end_at, returned_at, rejected_at, payment_code, fee_state, has_component_file,
            has_digitised_component, has_store_component, has_result_file, has_result_code,
            result_synced_to_store, vneid, disliked, ingested_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, TIMESTAMP '2026-10-10 00:00:00')
        """,
        [
            dossier_id,
            unit,
            id_prefix,
            procedure,
            channel,
            t_opt(received),
            t_opt(due),
            status,
            t_opt(processing_end),
            t_opt(returned),
            t_opt(rejected),
            payment,
            values["fee_state"],
            values["has_component_file"],
            values["has_digitised_component"],
            values["has_store_component"],
            values["has_result_file"],
            values["has_result_code"],
            values["result_synced_to_store"],
            values["vneid"],
            values["disliked"],
        ],
    )


def add_events(con: Con, dossier_id: str, *events: tuple[str, str]) -> None:
    for status, at in events:
        con.execute("INSERT INTO dossier_events VALUES (?, ?, ?)", [dossier_id, status, t(at)])


def add_supplement(con: Con, dossier_id: str, requested: str, completed: str | None = None) -> None:
    con.execute("INSERT INTO dossier_supplements VALUES (?, ?, ?)", [dossier_id, t(requested), t_opt(completed)])


def add_procedure(
    con: Con,
    code: str,
    *,
    paper: bool = False,
    fee: bool = False,
    times: Sequence[tuple[str | None, float, str]] = (),
) -> None:
    con.execute(
        "INSERT INTO procedures (procedure_code, requires_paper_result, has_fee) VALUES (?, ?, ?)", [code, paper, fee]
    )
    for channel, amount, unit in times:
        con.execute("INSERT INTO procedure_times VALUES (?, ?, ?, ?)", [code, channel, amount, unit])


def facts(
    con: Con,
    period_ids: Sequence[str] = ("2026Q3",),
    as_of: str | None = None,
    population_db_codes: Sequence[str] = ("1",),
) -> Facts:
    periods = [parse_period(p) for p in period_ids]
    load_period_structure(con, periods, None if as_of is None else datetime.fromisoformat(as_of))
    cursor = con.execute(dossier_facts_sql(population_db_codes=population_db_codes))
    names = [c[0] for c in cursor.description]
    assert tuple(names) == DOSSIER_FACT_COLUMNS
    rows = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
    out = {(r["period_id"], r["dossier_id"]): r for r in rows}
    assert len(out) == len(rows), "one row per (period, dossier)"
    return out


def q3(result: Facts, dossier_id: str) -> dict[str, Any]:
    return result[("2026Q3", dossier_id)]


# -- 2.1: supplements (D-2.1-3, D-2.1-4, D-2.1-5) ------------------------------------------------------------


def test_one_supplement_pause_makes_a_late_dossier_on_time(dossier_con: Con) -> None:
    """History route (D-2.1-4) with two consecutive 5 entries = one request.

    S1: received 01/07 08:00, due 10/07 17:00; 5 at 03/07 09:00 and 04/07 10:00 (one request), resumed by a 4 at
    08/07 09:00, finished (9) 14/07 10:00. pause = 08/07 09:00 − 03/07 09:00 = 5 days = 432 000 s;
    end − pause = 09/07 10:00 ≤ 10/07 17:00 → on time. S0 is the same dossier without the supplement: 14/07 > due
    → late (after_due). S2 uses DanhSachHoSoBoSung (03/07 09:00 → 08/07 09:00): the list wins, so its history 5
    at 02/07 is not a second request → 1 request, same pause, on time.
    """
    con = dossier_con
    add_dossier(con, "S1")
    add_events(con, "S1", ("4", "2026-07-01 08:00"), ("5", "2026-07-03 09:00"), ("5", "2026-07-04 10:00"))
    add_events(con, "S1", ("4", "2026-07-08 09:00"), ("9", "2026-07-14 10:00"))
    add_dossier(con, "S0")
    add_events(con, "S0", ("4", "2026-07-01 08:00"), ("9", "2026-07-14 10:00"))
    add_dossier(con, "S2")
    add_events(con, "S2", ("5", "2026-07-02 09:00"), ("4", "2026-07-02 10:00"), ("9", "2026-07-14 10:00"))
    add_supplement(con, "S2", "2026-07-03 09:00", "2026-07-08 09:00")
    r = facts(con)
    s1 = q3(r, "S1")
    assert (s1["end_kind"], s1["end_at"], s1["finished"]) == ("terminal_9", t("2026-07-14 10:00"), True)
    assert (s1["supplement_requests"], s1["pause_seconds"]) == (1, 432_000)
    assert (s1["on_time"], s1["late_reason"]) == (True, None)
    s0 = q3(r, "S0")
    assert (s0["on_time"], s0["late_reason"], s0["supplement_requests"], s0["pause_seconds"]) == (
        False,
        "after_due",
        0,
        0,
    )
    s2 = q3(r, "S2")
    assert (s2["supplement_requests"], s2["pause_seconds"], s2["on_time"]) == (1, 432_000, True)


def test_two_supplements_are_late_even_when_finished_early(dossier_con: Con) -> None:
    """D-2.1-3: more than one request ⇒ late, whatever the end time.

    M1 (history): 5 02/07 → 4 03/07, 5 06/07 → 4 07/07, 9 08/07 (before the due 10/07 17:00): 2 requests → late,
    late_reason multiple_supplements; pause still reported = 1 day + 1 day = 172 800 s.
    M2 (list): requests 02/07 → 03/07 and 20/07 (after the 9 at 08/07): the later request is after the end and is
    not counted (D-2.1-3) → 1 request, pause 86 400 s, end 08/07 → on time.
    """
    con = dossier_con
    add_dossier(con, "M1")
    add_events(con, "M1", ("5", "2026-07-02 09:00"), ("4", "2026-07-03 09:00"), ("5", "2026-07-06 09:00"))
    add_events(con, "M1", ("4", "2026-07-07 09:00"), ("9", "2026-07-08 09:00"))
    add_dossier(con, "M2")
    add_events(con, "M2", ("9", "2026-07-08 09:00"))
    add_supplement(con, "M2", "2026-07-02 09:00", "2026-07-03 09:00")
    add_supplement(con, "M2", "2026-07-20 09:00")
    r = facts(con)
    m1 = q3(r, "M1")
    assert (m1["supplement_requests"], m1["pause_seconds"]) == (2, 172_800)
    assert (m1["on_time"], m1["late_reason"], m1["end_kind"]) == (False, "multiple_supplements", "terminal_9")
    m2 = q3(r, "M2")
    assert (m2["supplement_requests"], m2["pause_seconds"], m2["on_time"]) == (1, 86_400, True)


def test_single_pending_supplement_ends_at_the_request(dossier_con: Con) -> None:
    """D-2.1-5: a single request whose completion is unknown at the horizon gives the end time.

    P1: 5 at 06/07 09:00, nothing later → end 06/07 09:00 (supplement_pending), not finished, pause 0, ≤ due
    10/07 17:00 → on time. P2: 5 at 13/07 09:00 → end 13/07 > due → late (after_due). P3: 5 at 06/07 then 9 at
    20/07: the terminal end wins, the pending request pauses nothing → end 20/07, late.
    """
    con = dossier_con
    add_dossier(con, "P1", status="5")
    add_events(con, "P1", ("4", "2026-07-01 08:00"), ("5", "2026-07-06 09:00"))
    add_dossier(con, "P2", status="5")
    add_events(con, "P2", ("5", "2026-07-13 09:00"))
    add_dossier(con, "P3", status="9")
    add_events(con, "P3", ("5", "2026-07-06 09:00"), ("9", "2026-07-20 09:00"))
    r = facts(con)
    p1 = q3(r, "P1")
    assert (p1["end_kind"], p1["end_at"], p1["finished"]) == ("supplement_pending", t("2026-07-06 09:00"), False)
    assert (p1["supplement_requests"], p1["pause_seconds"], p1["on_time"]) == (1, 0, True)
    p2 = q3(r, "P2")
    assert (p2["end_at"], p2["on_time"], p2["late_reason"]) == (t("2026-07-13 09:00"), False, "after_due")
    p3 = q3(r, "P3")
    assert (p3["end_kind"], p3["end_at"], p3["pause_seconds"]) == ("terminal_9", t("2026-07-20 09:00"), 0)
    assert (p3["supplement_requests"], p3["on_time"]) == (1, False)


def test_supplements_are_cut_at_the_horizon(dossier_con: Con) -> None:
    """D-gen-1 / D-2.1-3 / D-2.1-5: requests and completions count only once known.

    Both received 01/07 08:00, due 14/07 17:00; Q3 judged as of 15/07 12:00, then closed.
    Y1: 5 at 03/07 09:00 → 4 at 05/07 09:00 (pause 2 days = 172 800 s), a second 5 at 20/07 09:00. As of 15/07
    12:00 the second request is unknown: 1 request, open, end 15/07 12:00, end − pause = 13/07 12:00 ≤ due → on
    time (late without the pause). Closed: 2 requests → late (multiple_supplements).
    Y2: 5 at 03/07 09:00, resumed (4) only on 16/07 09:00. As of 15/07 12:00 the completion is unknown → single
    pending request → end 03/07 09:00, on time. Closed: completion known, open, end 30/09 23:59:59 minus
    13 days pause = 17/09 → late (after_due).
    """
    con = dossier_con
    add_dossier(con, "Y1", due="2026-07-14 17:00")
    add_events(con, "Y1", ("5", "2026-07-03 09:00"), ("4", "2026-07-05 09:00"), ("5", "2026-07-20 09:00"))
    add_dossier(con, "Y2", due="2026-07-14 17:00")
    add_events(con, "Y2", ("5", "2026-07-03 09:00"), ("4", "2026-07-16 09:00"))
    early = facts(con, as_of="2026-07-15 12:00+07:00")
    y1 = q3(early, "Y1")
    assert (y1["end_kind"], y1["end_at"], y1["supplement_requests"], y1["pause_seconds"]) == (
        "open",
        t("2026-07-15 12:00"),
        1,
        172_800,
    )
    assert y1["on_time"] is True
    y2 = q3(early, "Y2")
    assert (y2["end_kind"], y2["end_at"], y2["pause_seconds"], y2["on_time"]) == (
        "supplement_pending",
        t("2026-07-03 09:00"),
        0,
        True,
    )
    closed = facts(con)
    assert (q3(closed, "Y1")["supplement_requests"], q3(closed, "Y1")["late_reason"]) == (2, "multiple_supplements")
    y2c = q3(closed, "Y2")
    assert (y2c["end_kind"], y2c["pause_seconds"], y2c["late_reason"]) == ("open", 13 * 86_400, "after_due")


# -- 2.1 without NgayHenTra (D-2.1-6, D-2.1-7, D-2.1-8) ------------------------------------------------------


def test_missing_due_working_days_across_a_weekend(dossier_con: Con) -> None:
    """D-2.1-6 `working_day` 3: working days after the start date up to and including the end date.

    W1: received Fri 03/07 10:00, 9 Wed 08/07 16:00 → Mon 6, Tue 7, Wed 8 = 3 ≤ 3 → on time.
    W2: 9 Thu 09/07 → 4 > 3 → late (over_max_time).
    W3: 5 Mon 06/07 09:00 → 4 Wed 08/07 09:00 (pause = idx(08/07) − idx(06/07) = 2 working days); 9 Fri 10/07:
    6..10 = 5 − 2 = 3 ≤ 3 → on time.
    """
    con = dossier_con
    add_procedure(con, "PWD3", times=[("1", 3, "working_day")])
    for did, end in (("W1", "2026-07-08 16:00"), ("W2", "2026-07-09 08:00"), ("W3", "2026-07-10 16:00")):
        add_dossier(con, did, received="2026-07-03 10:00", due=None, procedure="PWD3", status="9")
        add_events(con, did, ("9", end))
    add_events(con, "W3", ("5", "2026-07-06 09:00"), ("4", "2026-07-08 09:00"))
    r = facts(con)
    assert (q3(r, "W1")["on_time"], q3(r, "W1")["late_reason"]) == (True, None)
    assert (q3(r, "W2")["on_time"], q3(r, "W2")["late_reason"]) == (False, "over_max_time")
    assert (q3(r, "W3")["on_time"], q3(r, "W3")["pause_seconds"]) == (True, 2 * 86_400)


def test_missing_due_working_days_across_tet_2026(dossier_con: Con) -> None:
    """`working_day` 5 across Tết Bính Ngọ (14–22/02/2026, weekdays 16–20/02 off).

    T1: received Fri 13/02 09:00, 9 Fri 27/02 → working days 23, 24, 25, 26, 27/02 = 5 ≤ 5 → on time.
    T2: 9 Mon 02/03 → 6 > 5 → late. (Without Tết, T1 would be 10 working days.)
    """
    con = dossier_con
    add_procedure(con, "PWD5", times=[("1", 5, "working_day")])
    add_dossier(con, "T1", received="2026-02-13 09:00", due=None, procedure="PWD5", status="9")
    add_events(con, "T1", ("9", "2026-02-27 16:00"))
    add_dossier(con, "T2", received="2026-02-13 09:00", due=None, procedure="PWD5", status="9")
    add_events(con, "T2", ("9", "2026-03-02 08:30"))
    r = facts(con, ["2026Q1"])
    assert r[("2026Q1", "T1")]["on_time"] is True
    assert (r[("2026Q1", "T2")]["on_time"], r[("2026Q1", "T2")]["late_reason"]) == (False, "over_max_time")


def test_make_up_saturday_counts_as_a_working_day(dossier_con: Con) -> None:
    """D-gen-5: Sat 10/01/2026 is a make-up working day; `working_day` 2.

    K1: received Fri 09/01, 9 Mon 12/01 → Sat 10, Mon 12 = 2 → on time.
    K2: 9 Tue 13/01 → 10, 12, 13 = 3 → late (it would be 2, on time, if Sat 10/01 were off).
    K3 control: received Fri 16/01, 9 Tue 20/01 → Mon 19, Tue 20 = 2 (Sat 17 is off) → on time.
    """
    con = dossier_con
    add_procedure(con, "PWD2", times=[("1", 2, "working_day")])
    for did, received, end in (
        ("K1", "2026-01-09 10:00", "2026-01-12 15:00"),
        ("K2", "2026-01-09 10:00", "2026-01-13 15:00"),
        ("K3", "2026-01-16 10:00", "2026-01-20 15:00"),
    ):
        add_dossier(con, did, received=received, due=None, procedure="PWD2", status="9")
        add_events(con, did, ("9", end))
    r = facts(con, ["2026-01"])
    assert [r[("2026-01", k)]["on_time"] for k in ("K1", "K2", "K3")] == [True, False, True]


def test_missing_due_calendar_days_and_weeks(dossier_con: Con) -> None:
    """`day` 10 and `week` 1: calendar-date differences of the local dates (D-2.1-6).

    C1: received 01/07 23:00 (local; 16:00 UTC), 9 at 11/07 01:00 → 11 − 1 = 10 days ≤ 10 → on time.
    C2: 9 at 12/07 00:30 → 11 > 10 → late. Using UTC dates would give C2 11/07 17:30 UTC − 01/07 = 10: wrong.
    C3: `week` 1 = 7 days, received 01/07, 9 at 08/07 → 7 → on time; C4 9 at 09/07 → 8 → late.
    """
    con = dossier_con
    add_procedure(con, "PD10", times=[("1", 10, "day")])
    add_procedure(con, "PW1", times=[("1", 1, "week")])
    for did, proc, received, end in (
        ("C1", "PD10", "2026-07-01 23:00", "2026-07-11 01:00"),
        ("C2", "PD10", "2026-07-01 23:00", "2026-07-12 00:30"),
        ("C3", "PW1", "2026-07-01 08:00", "2026-07-08 17:00"),
        ("C4", "PW1", "2026-07-01 08:00", "2026-07-09 08:00"),
    ):
        add_dossier(con, did, received=received, due=None, procedure=proc, status="9")
        add_events(con, did, ("9", end))
    r = facts(con)
    assert [q3(r, k)["on_time"] for k in ("C1", "C2", "C3", "C4")] == [True, False, True, False]
    assert q3(r, "C2")["late_reason"] == "over_max_time"


def test_missing_due_hours_and_working_hours(dossier_con: Con) -> None:
    """`hour` = exact clock hours; `working_hour` = working-day count against hours / 8 (D-2.1-6).

    H1: `hour` 24, received 01/07 08:00:00, 9 at 02/07 08:00:00 → 86 400 s ≤ 86 400 → on time;
    H2: 9 at 02/07 08:00:01 → late.
    H3: `working_hour` 16 (= 2 days), received Fri 03/07 15:00, 9 Tue 07/07 → Mon, Tue = 2 ≤ 2 → on time;
    H4: 9 Wed 08/07 → 3 > 2 → late.
    H5: `working_hour` 4 (= 0.5 day), received Wed 01/07 08:00, 9 the same day 16:00 → 0 ≤ 0.5 → on time;
    H6: 9 Thu 02/07 09:00 → 1 > 0.5 → late.
    """
    con = dossier_con
    add_procedure(con, "PH24", times=[("1", 24, "hour")])
    add_procedure(con, "PWH16", times=[("1", 16, "working_hour")])
    add_procedure(con, "PWH4", times=[("1", 4, "working_hour")])
    for did, proc, received, end in (
        ("H1", "PH24", "2026-07-01 08:00:00", "2026-07-02 08:00:00"),
        ("H2", "PH24", "2026-07-01 08:00:00", "2026-07-02 08:00:01"),
        ("H3", "PWH16", "2026-07-03 15:00", "2026-07-07 16:00"),
        ("H4", "PWH16", "2026-07-03 15:00", "2026-07-08 09:00"),
        ("H5", "PWH4", "2026-07-01 08:00", "2026-07-01 16:00"),
        ("H6", "PWH4", "2026-07-01 08:00", "2026-07-02 09:00"),
    ):
        add_dossier(con, did, received=received, due=None, procedure=proc, status="9")
        add_events(con, did, ("9", end))
    r = facts(con)
    assert [q3(r, k)["on_time"] for k in ("H1", "H2", "H3", "H4", "H5", "H6")] == [
        True,
        False,
        True,
        False,
        True,
        False,
    ]


def test_missing_due_months_clamped_and_fractional(dossier_con: Con) -> None:
    """`month`: same day-of-month n months later, clamped to the month's end; a fraction of a month = 30 days.

    N1: 1 month from 31/01 → 28/02 (clamped); 9 at 28/02 → on time. N2: 9 at 01/03 → late.
    N3: 1.5 months from 31/01 → 28/02 + 15 days = 15/03; 9 at 15/03 → on time. N4: 16/03 → late.
    """
    con = dossier_con
    add_procedure(con, "PM1", times=[("1", 1, "month")])
    add_procedure(con, "PM15", times=[("1", 1.5, "month")])
    for did, proc, end in (
        ("N1", "PM1", "2026-02-28 16:00"),
        ("N2", "PM1", "2026-03-01 09:00"),
        ("N3", "PM15", "2026-03-15 16:00"),
        ("N4", "PM15", "2026-03-16 09:00"),
    ):
        add_dossier(con, did, received="2026-01-31 10:00", due=None, procedure=proc, status="9")
        add_events(con, did, ("9", end))
    r = facts(con, ["2026Q1"])
    assert [r[("2026Q1", k)]["on_time"] for k in ("N1", "N2", "N3", "N4")] == [True, False, True, False]


def test_procedure_time_entry_by_channel_and_no_usable_time(dossier_con: Con) -> None:
    """D-2.1-7 (the channel's entry; null channel = 1; no entry for the channel → all, most lenient), D-2.1-8.

    PCH: channel 1 → 2 working days, channel 2 → 5 working days. All received Wed 01/07, 9 Tue 07/07
    (2, 3, 6, 7 = 4 working days). E2 (channel 2): 4 ≤ 5 → on time. E1 (channel NULL → 1): 4 > 2 → late.
    E3 (channel 3, no entry → both apply, the lenient 5 decides) → on time.
    E4: unknown TTHC and no NgayHenTra → on time (D-2.1-8); E5: known TTHC without any time → on time.
    """
    con = dossier_con
    add_procedure(con, "PCH", times=[("1", 2, "working_day"), ("2", 5, "working_day")])
    add_procedure(con, "PNONE")
    for did, channel, proc in (
        ("E1", None, "PCH"),
        ("E2", "2", "PCH"),
        ("E3", "3", "PCH"),
        ("E4", "1", "UNKNOWN"),
        ("E5", "1", "PNONE"),
    ):
        add_dossier(con, did, due=None, procedure=proc, channel=channel, status="9")
        add_events(con, did, ("9", "2026-07-07 10:00"))
    r = facts(con)
    assert [q3(r, k)["on_time"] for k in ("E1", "E2", "E3", "E4", "E5")] == [False, True, True, True, True]


# -- 2.1 horizon (D-gen-1, D-gen-2) ------------------------------------------------------------------------


def test_open_dossier_provisional_and_closed(dossier_con: Con) -> None:
    """An open dossier ends at open_end_at = min(period end − 1 s, as-of).

    O1 due 15/08 17:00, O2 due 20/07 17:00, both received 01/07 with no terminal event.
    As of 01/08 12:00 (provisional Q3): end = 01/08 12:00 → O1 on time, O2 late.
    Closed Q3: end = 30/09 23:59:59 → both late (after_due). Both open, not finished.
    """
    con = dossier_con
    add_dossier(con, "O1", due="2026-08-15 17:00")
    add_dossier(con, "O2", due="2026-07-20 17:00")
    provisional = facts(con, as_of="2026-08-01 12:00+07:00")
    o1 = q3(provisional, "O1")
    assert (o1["end_kind"], o1["end_at"], o1["finished"], o1["on_time"]) == (
        "open",
        t("2026-08-01 12:00"),
        False,
        True,
    )
    assert q3(provisional, "O2")["on_time"] is False
    closed = facts(con)
    assert q3(closed, "O1")["end_at"] == t("2026-09-30 23:59:59")
    assert [(q3(closed, k)["on_time"], q3(closed, k)["late_reason"]) for k in ("O1", "O2")] == [
        (False, "after_due"),
        (False, "after_due"),
    ]


def test_event_after_the_period_end_is_ignored_for_that_period(dossier_con: Con) -> None:
    """D-gen-1 example: received 01/09, due 02/10 17:00, finished (9) 05/10 10:00.

    Q3: the 9 is after the period end → open, end 30/09 23:59:59 ≤ due → on time ("processing, within
    deadline"), in P_recv. Q4: carried over (in P_proc, not P_recv), terminal_9 at 05/10 10:00 > due → late.
    """
    con = dossier_con
    add_dossier(con, "G1", received="2026-09-01 08:00", due="2026-10-02 17:00", status="9")
    add_events(con, "G1", ("9", "2026-10-05 10:00"))
    r = facts(con, ["2026Q3", "2026Q4"])
    g3, g4 = r[("2026Q3", "G1")], r[("2026Q4", "G1")]
    assert (g3["in_proc"], g3["in_recv"], g3["end_kind"], g3["finished"], g3["on_time"]) == (
        True,
        True,
        "open",
        False,
        True,
    )
    assert g3["end_at"] == t("2026-09-30 23:59:59")
    assert (g4["in_proc"], g4["in_recv"], g4["end_kind"], g4["end_at"]) == (
        True,
        False,
        "terminal_9",
        t("2026-10-05 10:00"),
    )
    assert (g4["on_time"], g4["late_reason"]) == (False, "after_due")


# -- 2.1 terminal states (D-2.1-1, D-2.1-2, D-2.1-10) --------------------------------------------------------


def test_withdrawn_judged_by_withdrawal_time(dossier_con: Con) -> None:
    """D-2.1-10: a withdrawal (7) ends the dossier at its own time. Due 10/07 17:00.

    R1: event 7 at 15/07 → late. R2: current status 7 with NgayKetThucXuLy 05/07 (field route, D-2.1-1) → on
    time. Both terminal_7 and finished.
    """
    con = dossier_con
    add_dossier(con, "R1", status="7")
    add_events(con, "R1", ("7", "2026-07-15 10:00"))
    add_dossier(con, "R2", status="7", processing_end="2026-07-05 10:00")
    r = facts(con)
    assert (q3(r, "R1")["end_kind"], q3(r, "R1")["on_time"], q3(r, "R1")["finished"]) == ("terminal_7", False, True)
    assert (q3(r, "R2")["end_kind"], q3(r, "R2")["end_at"], q3(r, "R2")["on_time"]) == (
        "terminal_7",
        t("2026-07-05 10:00"),
        True,
    )


def test_rejected_after_reception_and_stop_rank_equal(dossier_con: Con) -> None:
    """Status 3 on a received dossier is accepted as a terminal state (contradiction #8).

    J1: NgayTuChoi 03/07 (a '3' event, D-2.1-1) → terminal_3 at 03/07, on time.
    J2: 8 at 05/07 and 3 at 06/07: equal rank (8 = 3) → the later one, terminal_3 at 06/07.
    J3: 8 at 06/07 and 7 at 04/07: 8 outranks 7 → terminal_8 at 06/07.
    """
    con = dossier_con
    add_dossier(con, "J1", status="3", rejected="2026-07-03 10:00")
    add_dossier(con, "J2", status="3")
    add_events(con, "J2", ("8", "2026-07-05 10:00"), ("3", "2026-07-06 10:00"))
    add_dossier(con, "J3", status="8")
    add_events(con, "J3", ("7", "2026-07-04 10:00"), ("8", "2026-07-06 10:00"))
    r = facts(con)
    assert (q3(r, "J1")["end_kind"], q3(r, "J1")["end_at"], q3(r, "J1")["on_time"]) == (
        "terminal_3",
        t("2026-07-03 10:00"),
        True,
    )
    assert (q3(r, "J2")["end_kind"], q3(r, "J2")["end_at"]) == ("terminal_3", t("2026-07-06 10:00"))
    assert (q3(r, "J3")["end_kind"], q3(r, "J3")["end_at"]) == ("terminal_8", t("2026-07-06 10:00"))


def test_status_9_outranks_10_and_latest_of_the_chosen_status(dossier_con: Con) -> None:
    """D-2.1-2: 9 > 10; among several 9s the latest. Due 10/07 17:00.

    X1: NgayTra 05/07 (a '10'), 9s at 03/07 and 12/07 → terminal_9 at 12/07 → late (although the 10 is on time).
    X2: current status 10 with NgayKetThucXuLy 08/07 (a '9' by D-2.1-1) and NgayTra 09/07 → terminal_9 at 08/07.
    """
    con = dossier_con
    add_dossier(con, "X1", status="10", returned="2026-07-05 10:00")
    add_events(con, "X1", ("9", "2026-07-03 10:00"), ("9", "2026-07-12 10:00"))
    add_dossier(con, "X2", status="10", processing_end="2026-07-08 10:00", returned="2026-07-09 10:00")
    r = facts(con)
    assert (q3(r, "X1")["end_kind"], q3(r, "X1")["end_at"], q3(r, "X1")["on_time"]) == (
        "terminal_9",
        t("2026-07-12 10:00"),
        False,
    )
    assert (q3(r, "X2")["end_kind"], q3(r, "X2")["end_at"], q3(r, "X2")["on_time"]) == (
        "terminal_9",
        t("2026-07-08 10:00"),
        True,
    )


def test_terminal_status_without_dated_event_is_open(dossier_con: Con) -> None:
    """D-2.1-1: current status 9 but no NgayKetThucXuLy, NgayTra or history → open, end = period end.

    Z1 → open, not finished, end 30/09 23:59:59, late (due 10/07). Z2: NgayKetThucXuLy 05/07 but current status 4
    (not terminal) → the field is ignored → open as well.
    """
    con = dossier_con
    add_dossier(con, "Z1", status="9")
    add_dossier(con, "Z2", status="4", processing_end="2026-07-05 10:00")
    r = facts(con)
    for k in ("Z1", "Z2"):
        assert (q3(r, k)["end_kind"], q3(r, k)["finished"], q3(r, k)["end_at"]) == (
            "open",
            False,
            t("2026-09-30 23:59:59"),
        )


# -- populations (D-pop-1, D-pop-2) ----------------------------------------------------------------------


def test_carried_over_finished_before_and_not_received(dossier_con: Con) -> None:
    """D-pop-1: received 20/06 (Q2).

    A1 still open → carried over into Q3: in_proc, not in_recv.
    A2 finished (9) 25/06 → before Q3 → no Q3 row.
    A3 waiting for a supplement (5 at 25/06) since before Q3: status 5 is not terminal → carried over; its single
    pending request ends it at 25/06 09:00 (supplement_pending), ≤ due 10/07 → on time.
    A4 has no NgayTiepNhan → in no population. A5 received 01/07 → in_proc and in_recv.
    """
    con = dossier_con
    add_dossier(con, "A1", received="2026-06-20 08:00")
    add_dossier(con, "A2", received="2026-06-20 08:00", status="9")
    add_events(con, "A2", ("9", "2026-06-25 09:00"))
    add_dossier(con, "A3", received="2026-06-20 08:00", status="5")
    add_events(con, "A3", ("5", "2026-06-25 09:00"))
    add_dossier(con, "A4", received=None, status="1")
    add_dossier(con, "A5")
    r = facts(con)
    assert {k[1] for k in r} == {"A1", "A3", "A5"}
    assert (q3(r, "A1")["in_proc"], q3(r, "A1")["in_recv"]) == (True, False)
    assert (q3(r, "A3")["in_recv"], q3(r, "A3")["end_kind"], q3(r, "A3")["end_at"]) == (
        False,
        "supplement_pending",
        t("2026-06-25 09:00"),
    )
    assert (q3(r, "A5")["in_proc"], q3(r, "A5")["in_recv"]) == (True, True)


def test_received_after_as_of_is_not_yet_known(dossier_con: Con) -> None:
    """D-gen-1 / D-pop-2: as of 15/07 12:00, a dossier received 20/07 is not in Q3 yet; one received 10/07 is."""
    con = dossier_con
    add_dossier(con, "B1", received="2026-07-20 08:00")
    add_dossier(con, "B2", received="2026-07-10 08:00")
    r = facts(con, as_of="2026-07-15 12:00+07:00")
    assert set(r) == {("2026Q3", "B2")}


# -- flags: 3.3, 3.6, 4.x, 5.4, units ---------------------------------------------------------------------


def test_channels(dossier_con: Con) -> None:
    """3.3 / D-3.3-1: online iff channel '2'; counted iff channel in 1, 2, 3 or NULL.

    '1' → (F, T); '2' → (T, T); '3' → (F, T); NULL → (F, T); '4' → (F, F).
    """
    con = dossier_con
    for code in ("1", "2", "3", None, "4"):
        add_dossier(con, f"CH{code}", channel=code)
    r = facts(con)
    got = {code: (q3(r, f"CH{code}")["online"], q3(r, f"CH{code}")["channel_counted"]) for code in "123"}
    assert got == {"1": (False, True), "2": (True, True), "3": (False, True)}
    assert (q3(r, "CHNone")["online"], q3(r, "CHNone")["channel_counted"]) == (False, True)
    assert (q3(r, "CH4")["online"], q3(r, "CH4")["channel_counted"]) == (False, False)


def test_fee_bearing_and_paid_online(dossier_con: Con) -> None:
    """3.6: fee_bearing = TTHC has_fee AND fee list not all-zero (D-3.6-2/3); paid_online = payment 1 or 2 (D-3.6-4).

    PFEE has a fee, PFREE none. F1 PFEE all_zero → F; F2 PFEE empty list (none) → T; F3 PFEE nonzero → T;
    F4 PFREE nonzero → F; F5 unknown TTHC → F. Payment: F1 '1' → T, F2 '2' → T, F3 '3' → F, F4 NULL → F.
    """
    con = dossier_con
    add_procedure(con, "PFEE", fee=True)
    add_procedure(con, "PFREE", fee=False)
    for did, proc, fee_state, payment in (
        ("F1", "PFEE", "all_zero", "1"),
        ("F2", "PFEE", "none", "2"),
        ("F3", "PFEE", "nonzero", "3"),
        ("F4", "PFREE", "nonzero", None),
        ("F5", "NOPE", "nonzero", None),
    ):
        add_dossier(con, did, procedure=proc, fee_state=fee_state, payment=payment)
    r = facts(con)
    assert [q3(r, k)["fee_bearing"] for k in ("F1", "F2", "F3", "F4", "F5")] == [False, True, True, False, False]
    assert [q3(r, k)["paid_online"] for k in ("F1", "F2", "F3", "F4")] == [True, True, False, False]


def test_e_result_digitised_reused_store_linked(dossier_con: Con) -> None:
    """4.1 (D-4.1-1/2), 4.2 (D-4.2-1), 4.3, 4.4 and the 3.3 design condition.

    PPAPER requires a paper result, PNOPAPER not.
    D1 PPAPER, result file + component file → e_result T, digitised T.
    D2 PPAPER, component file only → e_result F, digitised F (the paper TTHC needs the result file).
    D3 PNOPAPER, result file + component → e_result F (not a paper TTHC), digitised T.
    D4 PNOPAPER, component file only → digitised T.  D5 PNOPAPER, result file only → digitised F.
    reused = has_digitised_component (D1 T); store_linked: D2 via a store component, D3 via result sync.
    online_with_e_result (channel 2): D1 has no result code → F; D6 PPAPER with file + code → T; D4 not paper → T.
    """
    con = dossier_con
    add_procedure(con, "PPAPER", paper=True)
    add_procedure(con, "PNOPAPER", paper=False)
    add_dossier(con, "D1", procedure="PPAPER", channel="2", has_result_file=True, has_component_file=True)
    con.execute("UPDATE dossiers SET has_digitised_component = TRUE WHERE dossier_id = 'D1'")
    add_dossier(con, "D2", procedure="PPAPER", has_component_file=True, has_store_component=True)
    add_dossier(
        con, "D3", procedure="PNOPAPER", has_result_file=True, has_component_file=True, result_synced_to_store=True
    )
    add_dossier(con, "D4", procedure="PNOPAPER", channel="2", has_component_file=True)
    add_dossier(con, "D5", procedure="PNOPAPER", has_result_file=True)
    add_dossier(con, "D6", procedure="PPAPER", channel="2", has_result_file=True, has_result_code=True)
    r = facts(con)
    keys = ("D1", "D2", "D3", "D4", "D5", "D6")
    assert [q3(r, k)["e_result"] for k in keys] == [True, False, False, False, False, True]
    assert [q3(r, k)["digitised"] for k in keys] == [True, False, True, True, False, False]
    assert [q3(r, k)["reused"] for k in keys] == [True, False, False, False, False, False]
    assert [q3(r, k)["store_linked"] for k in keys] == [False, True, True, False, False, False]
    assert [q3(r, k)["online_with_e_result"] for k in keys] == [False, False, False, True, False, True]


def test_population_data_routes(dossier_con: Con) -> None:
    """4.5b / D-4.5b-1: VNeID, or a store component, or a MaCSDL in the population code set (default {"1"}).

    V1 vneid → T; V2 store component → T; V3 MaCSDL '1' → T; V4 MaCSDL '7' only → F by default,
    T with population_db_codes ('1', '7'); V5 nothing → F.
    """
    con = dossier_con
    add_dossier(con, "V1", vneid=True)
    add_dossier(con, "V2", has_store_component=True)
    add_dossier(con, "V3")
    add_dossier(con, "V4")
    add_dossier(con, "V5")
    con.execute("INSERT INTO dossier_databases VALUES ('V3', '1'), ('V3', '7'), ('V4', '7')")
    r = facts(con)
    assert [q3(r, k)["population_data"] for k in ("V1", "V2", "V3", "V4", "V5")] == [True, True, True, False, False]
    wider = facts(con, population_db_codes=("1", "7"))
    assert q3(wider, "V4")["population_data"] is True
    assert q3(facts(con, population_db_codes=()), "V3")["population_data"] is False


def test_petition_and_dislike_make_a_dossier_unsatisfied(dossier_con: Con) -> None:
    """5.4 / D-5.4-1: satisfied = on time AND no PAKN sent before the horizon AND not disliked.

    All finished 05/07 (on time, due 10/07). L1 plain → satisfied. L2 PAKN sent 20/08 → has_petition, not
    satisfied. L3 disliked → not satisfied. L4 PAKN sent 05/10 (after Q3) → no petition in Q3 → satisfied.
    L5 late (9 at 15/07) with no PAKN → not satisfied.
    """
    con = dossier_con
    for did in ("L1", "L2", "L3", "L4", "L5"):
        add_dossier(con, did, status="9", disliked=did == "L3")
        add_events(con, did, ("9", "2026-07-15 10:00" if did == "L5" else "2026-07-05 10:00"))
    con.execute(
        "INSERT INTO petitions (petition_id, unit_code, sent_at, dossier_id, ingested_at) VALUES "
        "('PK2', 'U9', ?, 'L2', ?), ('PK4', 'U1', ?, 'L4', ?)",
        [t("2026-08-20 09:00"), t("2026-10-10 00:00"), t("2026-10-05 09:00"), t("2026-10-10 00:00")],
    )
    r = facts(con)
    keys = ("L1", "L2", "L3", "L4", "L5")
    assert [q3(r, k)["has_petition"] for k in keys] == [False, True, False, False, False]
    assert [q3(r, k)["on_time"] for k in keys] == [True, True, True, True, False]
    assert [q3(r, k)["satisfied"] for k in keys] == [True, False, False, True, False]


def test_unit_resolution(dossier_con: Con) -> None:
    """D-gen-3: the dossier's own unit code, else the unit whose MaDinhDanh is the MaHoSo prefix, else NULL.

    UA has unit U1 (prefix ignored) → U1; UB has no unit and prefix 'H44.01' → U2; UC has neither → NULL but
    still a row (so `check` can report it).
    """
    con = dossier_con
    con.execute(
        "INSERT INTO units (unit_code, name, parent_code, level, electronic_id) VALUES "
        "('U1', 'A', NULL, 'province', 'H44'), ('U2', 'B', 'U1', 'commune', 'H44.01')"
    )
    add_dossier(con, "UA", unit="U1", id_prefix="H44.01")
    add_dossier(con, "UB", unit=None, id_prefix="H44.01")
    add_dossier(con, "UC", unit=None, id_prefix="X99")
    r = facts(con)
    assert [q3(r, k)["unit_code"] for k in ("UA", "UB", "UC")] == ["U1", "U2", None]


def test_two_periods_at_once_month_and_quarter(dossier_con: Con) -> None:
    """One run over 2026-08 and 2026Q3 (both closed).

    Q1D: received 15/07, due 20/08 17:00, 9 at 10/08 → 2026-08: carried over (in_proc, not in_recv),
    terminal_9 at 10/08, on time; 2026Q3: in_recv, same end.
    Q2D: received 25/08, due 10/09 17:00, no terminal → 2026-08: open, end 31/08 23:59:59, on time, in_recv;
    2026Q3: open, end 30/09 23:59:59 → late.
    Q3D: received 05/07, 9 at 06/07 → only in 2026Q3 (finished before August).
    """
    con = dossier_con
    add_dossier(con, "Q1D", received="2026-07-15 08:00", due="2026-08-20 17:00", status="9")
    add_events(con, "Q1D", ("9", "2026-08-10 10:00"))
    add_dossier(con, "Q2D", received="2026-08-25 08:00", due="2026-09-10 17:00")
    add_dossier(con, "Q3D", received="2026-07-05 08:00", status="9")
    add_events(con, "Q3D", ("9", "2026-07-06 10:00"))
    r = facts(con, ["2026-08", "2026Q3"])
    assert set(r) == {
        ("2026-08", "Q1D"),
        ("2026-08", "Q2D"),
        ("2026Q3", "Q1D"),
        ("2026Q3", "Q2D"),
        ("2026Q3", "Q3D"),
    }
    m1, q1 = r[("2026-08", "Q1D")], r[("2026Q3", "Q1D")]
    assert (m1["in_recv"], m1["end_kind"], m1["end_at"], m1["on_time"]) == (
        False,
        "terminal_9",
        t("2026-08-10 10:00"),
        True,
    )
    assert (q1["in_recv"], q1["end_at"], q1["on_time"]) == (True, t("2026-08-10 10:00"), True)
    m2, q2 = r[("2026-08", "Q2D")], r[("2026Q3", "Q2D")]
    assert (m2["in_recv"], m2["end_kind"], m2["end_at"], m2["on_time"]) == (
        True,
        "open",
        t("2026-08-31 23:59:59"),
        True,
    )
    assert (q2["end_at"], q2["on_time"], q2["late_reason"]) == (t("2026-09-30 23:59:59"), False, "after_due")


def test_sql_uses_only_dialect_helpers_for_engine_specific_bits() -> None:
    """The Spark rendering differs from DuckDB only in the dialect snippets and has no DuckDB-only functions."""
    from chiso766.engine.dialect import SPARK

    spark_sql = dossier_facts_sql(SPARK)
    for duckdb_only in ("epoch(", "to_months(", "to_microseconds(", "INTERVAL 7 HOUR "):
        assert duckdb_only not in spark_sql
    assert "unix_timestamp(" in spark_sql and "add_months(" in spark_sql
