"""Catalogue facts SQL (engine/facts_catalogue.py): 1.1, 1.2, 1.3, 3.1, 3.2, 3.5, 3.5b, 4.5a on a hand-made province.

Rule ids: ``Cat-*`` are in the module docstring of facts_catalogue.py; ``D-*`` in INTERPRETATIONS.md.
Instants are written in Vietnam local time and stored as naive UTC (:func:`t`).

The fixture ("H99") — a province with two departments and two communes:

    H99 (province, electronic id 000.00.00.H99)
    ├── H99.01  Sở A  (provincial_department, electronic id 000.00.01.H99)
    ├── H99.02  Sở B  (provincial_department)
    ├── H99.C1  commune 1
    └── H99.C2  commune 2

TTHC (status, has_fee, citizen_applicant, components_complete, CAPTHUCHIEN, click "Công khai", implementers):

    T1 public          fee  citizen  complete    "1"  clicked 13/07  H99.01, H99.02   (used by two departments)
    T2 public_amended  fee  citizen  INcomplete  "1"  clicked 15/07  H99.01
    T3 public          -    citizen  complete    "3"  clicked 08/07  (none: commune level)
    T4 abolished       -    -        complete    "1"  never          H99.02
    T5 public          fee  -        NULL        "1"  clicked 09/07  H99.02
    T6 other           -    -        complete    "1"  never          (none)
    T7 abolished       -    -        complete    "1"  never          (none)
    T8 public          -    citizen  complete    "1"  never          H99.01
    T9 public          -    -        complete    "1"  clicked 02/07  H99.01

QĐCB, all issued by H99: Q0 29/06 {T9 new}; QA 06/07 {T1, T3, T5, T6 new; T7 amended}; QB 07/07 {T2 amended};
QC 21/07 {T3 amended; T4 abolished}; QD 29/07 {T8 new}.
Latest legal-basis effective dates: T1 13/07, T2 13/07, T3 27/07 (and 10/07), T4 03/08, T5 none (NULL),
T8 10/08.

DVC: S1 T1@H99.01 partial public; S2 T1@H99.01 full public; S3 T2@H99.01 partial withdrawn;
S4 T3@H99.C1 full public; S5 T5@H99.02 partial testing; S7 T8@H99.01 partial public;
S8 T3@H99 full pending_withdrawal.

Dossiers (channel, reception, fee_state, payment, data route):

    D1  H99.01  T1  online  recv 10/07     nonzero   paid '1'  VNeID
    D2  H99.C1  T3  online  recv 15/07     none      -         MaCSDL '1'
    D3  H99.C2  T3  online  recv 05/08     none      -         -
    D4  H99.02  T5  direct  recv 16/07     nonzero   '0'       -
    D5  H99.02  T1  direct  recv 17/07     all_zero  -         store component
    D6  H99.C1  T2  direct  recv 20/07     none      paid '2'  -
    D7  (prefix 000.00.01.H99 → H99.01)  T1  online  NOT received, submitted 30/07  nonzero  -  -
    D8  H99.C2  T3  direct  recv 22/07     none      -         MaCSDL '7' only
    D9  H99.01  T2  online  recv 30/06     nonzero   paid '1'  (previous month)
    D10 X.UNKNOWN (not a unit)  T5  online  recv 10/07  nonzero  paid '1'  VNeID  (counted nowhere, D-gen-3)

Working-day indexes used (calendar table; "working days after a up to and including b" = idx(b) − idx(a)):
Mon 29/06 620, Thu 02/07 623, Mon 06/07 625, Tue 07/07 626, Wed 08/07 627, Thu 09/07 628, Mon 13/07 630,
Wed 15/07 632, Tue 21/07 636, Mon 27/07 640, Tue 28/07 641, Wed 29/07 642, Fri 31/07 644, Sat 01/08 644 (off),
Mon 03/08 645, Wed 05/08 647, Mon 10/08 650, Mon 31/08 665 (off, Quốc khánh bridge).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from datetime import date, datetime, timedelta
from typing import Any

import duckdb
import pytest

from chiso766.domain.periods import parse_period, periods_of_year
from chiso766.engine.counters import filter_catalogue_facts
from chiso766.engine.dialect import SPARK
from chiso766.engine.explain import _miss_source
from chiso766.engine.facts_catalogue import (
    CATALOGUE_INDICATORS,
    MISS_REASONS,
    catalogue_counts_sql,
    catalogue_facts_sql,
)
from chiso766.engine.structure import STRUCTURE_DDL, load_calendar_table, load_period_structure, rebuild_unit_closure
from chiso766.methodology import load_methodology
from chiso766.store.db import Store

Con = duckdb.DuckDBPyConnection
Counts = dict[tuple[str, str, str], tuple[int, int]]

JUL, AUG, SEP = "2026-07", "2026-08", "2026-09"
PROVINCE, DEPT_A, DEPT_B, COMMUNE_1, COMMUNE_2 = "H99", "H99.01", "H99.02", "H99.C1", "H99.C2"


def t(local: str) -> datetime:
    """'YYYY-MM-DD HH:MM' Vietnam local time → naive UTC, as the store keeps instants."""
    return datetime.fromisoformat(local) - timedelta(hours=7)


def t_opt(local: str | None) -> datetime | None:
    return None if local is None else t(local)


def d(iso: str | None) -> date | None:
    return None if iso is None else date.fromisoformat(iso)


# --- fixture data ------------------------------------------------------------------------------------------------

UNITS = [
    (PROVINCE, "Tỉnh H99", None, "province", "000.00.00.H99"),
    (DEPT_A, "Sở A", PROVINCE, "provincial_department", "000.00.01.H99"),
    (DEPT_B, "Sở B", PROVINCE, "provincial_department", "000.00.02.H99"),
    (COMMUNE_1, "Xã 1", PROVINCE, "commune", "000.31.01.H99"),
    (COMMUNE_2, "Xã 2", PROVINCE, "commune", "000.31.02.H99"),
]

# code, status, has_fee, citizen_applicant, components_complete, levels, published_at (local)
PROCEDURES: list[tuple[str, str | None, bool, bool | None, bool | None, str | None, str | None]] = [
    ("T1", "public", True, True, True, "1", "2026-07-13 10:00"),
    ("T2", "public_amended", True, True, False, "1", "2026-07-15 10:00"),
    ("T3", "public", False, True, True, "3", "2026-07-08 10:00"),
    ("T4", "abolished", False, False, True, "1", None),
    ("T5", "public", True, False, None, "1", "2026-07-09 10:00"),
    ("T6", "other", False, False, True, "1", None),
    ("T7", "abolished", False, False, True, "1", None),
    ("T8", "public", False, True, True, "1", None),
    ("T9", "public", False, False, True, "1", "2026-07-02 09:00"),
]
PROCEDURE_UNITS = [
    ("T1", DEPT_A),
    ("T1", DEPT_B),
    ("T2", DEPT_A),
    ("T4", DEPT_B),
    ("T5", DEPT_B),
    ("T8", DEPT_A),
    ("T9", DEPT_A),
]
LEGAL_BASES = [
    ("T1", "L1", "2026-07-13"),
    ("T2", "L2", "2026-07-13"),
    ("T3", "L3a", "2026-07-10"),
    ("T3", "L3b", "2026-07-27"),
    ("T4", "L4", "2026-08-03"),
    ("T5", "L5", None),
    ("T8", "L8", "2026-08-10"),
]
PUBLICATIONS = [
    ("Q0", PROVINCE, "2026-06-29", [("T9", "new")]),
    ("QA", PROVINCE, "2026-07-06", [("T1", "new"), ("T3", "new"), ("T5", "new"), ("T6", "new"), ("T7", "amended")]),
    ("QB", PROVINCE, "2026-07-07", [("T2", "amended")]),
    ("QC", PROVINCE, "2026-07-21", [("T3", "amended"), ("T4", "abolished")]),
    ("QD", PROVINCE, "2026-07-29", [("T8", "new")]),
]
SERVICES = [
    ("S1", "T1", DEPT_A, "partial", "public"),
    ("S2", "T1", DEPT_A, "full", "public"),
    ("S3", "T2", DEPT_A, "partial", "withdrawn"),
    ("S4", "T3", COMMUNE_1, "full", "public"),
    ("S5", "T5", DEPT_B, "partial", "testing"),
    ("S7", "T8", DEPT_A, "partial", "public"),
    ("S8", "T3", PROVINCE, "full", "pending_withdrawal"),
]


def add_dossier(
    con: Con,
    dossier_id: str,
    unit: str | None,
    procedure: str,
    *,
    channel: str = "1",
    received: str | None = None,
    submitted: str | None = None,
    id_prefix: str | None = None,
    fee_state: str = "none",
    payment: str | None = None,
    vneid: bool = False,
    store: bool = False,
    db_codes: tuple[str, ...] = (),
) -> None:
    con.execute(
        """
        INSERT INTO dossiers (dossier_id, unit_code, id_prefix, procedure_code, channel, submitted_at, received_at,
            status, payment_code, fee_state, has_component_file, has_digitised_component, has_store_component,
            has_result_file, has_result_code, result_synced_to_store, vneid, disliked, ingested_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, '2', ?, ?, FALSE, FALSE, ?, FALSE, FALSE, FALSE, ?, FALSE, ?)
        """,
        [
            dossier_id,
            unit,
            id_prefix,
            procedure,
            channel,
            t_opt(submitted),
            t_opt(received),
            payment,
            fee_state,
            store,
            vneid,
            datetime(2026, 10, 1),
        ],
    )
    for code in db_codes:
        con.execute("INSERT INTO dossier_databases VALUES (?, ?)", [dossier_id, code])


def add_units(con: Con, units: Sequence[tuple[str, str, str | None, str, str | None]]) -> None:
    con.executemany("INSERT INTO units VALUES (?, ?, ?, ?, ?)", units)
    rebuild_unit_closure(con)


def add_procedures(con: Con, procedures: Sequence[tuple[Any, ...]]) -> None:
    for code, status, fee, citizen, complete, levels, published in procedures:
        con.execute(
            "INSERT INTO procedures (procedure_code, name, status, requires_paper_result, has_fee, citizen_applicant, "
            "components_complete, levels, published_at) VALUES (?, ?, ?, FALSE, ?, ?, ?, ?, ?)",
            [code, f"TTHC {code}", status, fee, citizen, complete, levels, t_opt(published)],
        )


def load_fixture(con: Con) -> None:
    add_units(con, UNITS)
    add_procedures(con, PROCEDURES)
    con.executemany("INSERT INTO procedure_units VALUES (?, ?)", PROCEDURE_UNITS)
    con.executemany("INSERT INTO legal_bases VALUES (?, ?, ?)", [(p, n, d(e)) for p, n, e in LEGAL_BASES])
    for decision, unit, day, items in PUBLICATIONS:
        con.execute("INSERT INTO publications VALUES (?, ?, ?)", [decision, unit, d(day)])
        con.executemany(
            "INSERT INTO publication_items VALUES (?, ?, ?)", [(decision, code, kind) for code, kind in items]
        )
    con.executemany("INSERT INTO services VALUES (?, ?, ?, ?, ?)", SERVICES)
    add_dossier(con, "D1", DEPT_A, "T1", channel="2", received="2026-07-10 09:00", fee_state="nonzero",
                payment="1", vneid=True)  # fmt: skip
    add_dossier(con, "D2", COMMUNE_1, "T3", channel="2", received="2026-07-15 09:00", db_codes=("1",))
    add_dossier(con, "D3", COMMUNE_2, "T3", channel="2", received="2026-08-05 09:00")
    add_dossier(con, "D4", DEPT_B, "T5", received="2026-07-16 09:00", fee_state="nonzero", payment="0")
    add_dossier(con, "D5", DEPT_B, "T1", received="2026-07-17 09:00", fee_state="all_zero", store=True)
    add_dossier(con, "D6", COMMUNE_1, "T2", received="2026-07-20 09:00", payment="2")
    add_dossier(con, "D7", None, "T1", channel="2", submitted="2026-07-30 15:00", id_prefix="000.00.01.H99",
                fee_state="nonzero")  # fmt: skip
    add_dossier(con, "D8", COMMUNE_2, "T3", received="2026-07-22 09:00", db_codes=("7",))
    add_dossier(con, "D9", DEPT_A, "T2", channel="2", received="2026-06-30 09:00", fee_state="nonzero", payment="1")
    add_dossier(con, "D10", "X.UNKNOWN", "T5", channel="2", received="2026-07-10 09:00", fee_state="nonzero",
                payment="1", vneid=True)  # fmt: skip


@pytest.fixture
def store() -> Iterator[Con]:
    s = Store(":memory:")
    load_calendar_table(s.connection)
    yield s.connection
    s.close()


@pytest.fixture
def con(store: Con) -> Con:
    """The H99 fixture, periods July, August, September 2026, each judged at its own end (closed)."""
    load_fixture(store)
    load_period_structure(store, [parse_period(p) for p in (JUL, AUG, SEP)])
    return store


# --- helpers -----------------------------------------------------------------------------------------------------


def build(con: Con, **options: Any) -> None:
    """Materialise ``catalogue_facts`` (the table catalogue_counts_sql reads)."""
    con.execute("DROP TABLE IF EXISTS catalogue_facts")
    con.execute(f"CREATE TABLE catalogue_facts AS {catalogue_facts_sql(**options)}")


def counts(con: Con) -> Counts:
    """(numerator, denominator) per (period, unit, indicator), pooled by COUNT(DISTINCT) over unit_closure."""
    rows = con.execute(catalogue_counts_sql()).fetchall()
    return {(p, u, i): (int(n), int(den)) for p, u, i, n, den in rows}


def nd(c: Counts, period: str, unit: str, indicator: str) -> tuple[int, int]:
    return c.get((period, unit, indicator), (0, 0))


def facts(con: Con, period: str, indicator: str) -> dict[tuple[str, str], tuple[bool, str | None]]:
    """The facts of ``period``: its own rows with the static ('*') rows, one per (unit, item) — a hit if either
    row is; otherwise the period row's reason (it says why the item misses in that period), else the static one."""
    rows = con.execute(
        "SELECT unit_code, item_code, hit, reason, period_id = '*' FROM catalogue_facts "
        "WHERE period_id IN ('*', ?) AND indicator_code = ? ORDER BY 5 DESC",
        [period, indicator],
    ).fetchall()
    merged: dict[tuple[str, str], tuple[bool, str | None]] = {}
    for u, i, h, r, _static in rows:  # static rows first, the period's row then takes over
        before = merged.get((u, i))
        hit = bool(h) or (before is not None and before[0])
        merged[(u, i)] = (hit, None if hit else r)
    return merged


# --- shape ---------------------------------------------------------------------------------------------------------


def test_columns_types_and_one_row_per_key(con: Con) -> None:
    """Columns (period_id, indicator_code, unit_code, item_code, hit BOOLEAN, reason VARCHAR); the key is unique;
    reason is NULL exactly on hits and always one of MISS_REASONS[indicator] otherwise."""
    build(con)
    described = con.execute("DESCRIBE catalogue_facts").fetchall()
    assert [(r[0], r[1]) for r in described] == [
        ("period_id", "VARCHAR"),
        ("indicator_code", "VARCHAR"),
        ("unit_code", "VARCHAR"),
        ("item_code", "VARCHAR"),
        ("hit", "BOOLEAN"),
        ("reason", "VARCHAR"),
    ]
    dupes = con.execute(
        "SELECT COUNT(*) FROM (SELECT period_id, indicator_code, unit_code, item_code FROM catalogue_facts "
        "GROUP BY ALL HAVING COUNT(*) > 1)"
    ).fetchone()
    assert dupes == (0,)
    for indicator, hit, reason in con.execute("SELECT indicator_code, hit, reason FROM catalogue_facts").fetchall():
        assert indicator in CATALOGUE_INDICATORS
        assert hit is not None
        assert (reason is None) == hit
        assert hit or reason in MISS_REASONS[indicator]


def test_counts_helper_equals_python_pooling(con: Con) -> None:
    """catalogue_counts_sql = for each ancestor and period, |distinct items| and |distinct hit items| over its
    subtree's rows of that period and the static ('*') rows, recomputed here in Python from the facts rows and
    unit_closure."""
    build(con)
    closure = con.execute("SELECT ancestor, descendant FROM unit_closure").fetchall()
    periods = [p for (p,) in con.execute("SELECT period_id FROM period_structure").fetchall()]
    rows = con.execute("SELECT period_id, indicator_code, unit_code, item_code, hit FROM catalogue_facts").fetchall()
    items: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    hits: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for row_period, indicator, unit, item, hit in rows:
        for period in periods if row_period == "*" else [row_period]:  # a static row is in every period
            for ancestor, descendant in closure:
                if descendant == unit:
                    items[(period, ancestor, indicator)].add(item)
                    if hit:
                        hits[(period, ancestor, indicator)].add(item)
    expected = {k: (len(hits[k]), len(v)) for k, v in items.items()}
    assert counts(con) == expected


# --- 1.1 PUBLISH_ON_TIME ---------------------------------------------------------------------------------------------


def test_publish_on_time(con: Con) -> None:
    """July (closed), decisions in the period: QA 06/07, QB 07/07, QC 21/07, QD 29/07 (Q0 29/06 is June).

    - T1 QA 06/07 (625), effective 13/07 (630): 630 − 625 = 5 ≥ 5 → on time exactly at the boundary.
    - T2 QB 07/07 (626), effective 13/07: 4 < 5 → one day late.
    - T3 QA 06/07 on time (640 − 625 = 15) but QC 21/07 (636) vs latest effective 27/07 (640): 4 → late; any
      late ⇒ late.
    - T4 abolished, listed as abolished in QC: counted; 03/08 (645) − 636 = 9 → on time.
    - T5 no effective date → no_effective_date.
    - T6 (status other) and T7 (abolished but listed as amended) are not in the denominator.
    - T8 QD 29/07 (642), effective 10/08 (650): 8 → on time.
    ⇒ July H99 = 3/6 (T1, T4, T8). August and September have no QĐCB: 0/0. Facts belong to the province only
    (children inherit in the counters step), so a department counts 0/0 here.
    """
    build(con)
    c = counts(con)
    assert nd(c, JUL, PROVINCE, "PUBLISH_ON_TIME") == (3, 6)
    assert nd(c, AUG, PROVINCE, "PUBLISH_ON_TIME") == (0, 0)
    assert nd(c, SEP, PROVINCE, "PUBLISH_ON_TIME") == (0, 0)
    assert nd(c, JUL, DEPT_A, "PUBLISH_ON_TIME") == (0, 0)
    assert facts(con, JUL, "PUBLISH_ON_TIME") == {
        (PROVINCE, "T1"): (True, None),
        (PROVINCE, "T2"): (False, "published_late"),
        (PROVINCE, "T3"): (False, "published_late"),
        (PROVINCE, "T4"): (True, None),
        (PROVINCE, "T5"): (False, "no_effective_date"),
        (PROVINCE, "T8"): (True, None),
    }


def test_publish_on_time_threshold_parameter(con: Con) -> None:
    """With 4 working days T2 (4) becomes on time; T3's QC (4) too: 5/6 (T5 still has no effective date)."""
    build(con, province_publish_days=4)
    assert nd(counts(con), JUL, PROVINCE, "PUBLISH_ON_TIME") == (5, 6)


# --- 1.2 PUBLIC_UPDATE_ON_TIME ---------------------------------------------------------------------------------------


def test_public_update_on_time_closed_month(con: Con) -> None:
    """July (closed, horizon Fri 31/07, idx 644). (a) clicks in July, paired with the latest QĐCB on or before the
    click date; (b) latest QĐCB not made public since, deadline (n-th working day after) in July and passed.

    - T9 Q0 29/06 (620), click 02/07 (623): 3 ≤ 5 → on time (a QĐCB of June still counts, the click is in July).
    - T1 QA 06/07 (625), click 13/07 (630): 5 ≤ 5 → on time at the boundary.
    - T2 QB 07/07 (626), click 15/07 (632): 6 > 5 → published_late.
    - T5 QA 06/07, click 09/07 (628): 3 → on time.
    - T3 click 08/07 on time for QA (627 − 625 = 2), but QC 21/07 (636) is not public since; its deadline is
      idx 641 = Tue 28/07, in July and passed → not_made_public; any late ⇒ late.
    - T4 (abolished) QC 21/07, never clicked: deadline 28/07 passed → not_made_public.
    - T7 (abolished) QA 06/07, never clicked: deadline 13/07 passed → not_made_public.
    - T8 QD 29/07 (642): deadline idx 647 = Wed 05/08, not in July → not counted in July.
    - T6 (status other) is never "due".
    ⇒ July 3/7. August: T8 due (deadline 05/08 in August, passed) → 0/1. September: 0/0.
    """
    build(con)
    c = counts(con)
    assert nd(c, JUL, PROVINCE, "PUBLIC_UPDATE_ON_TIME") == (3, 7)
    assert facts(con, JUL, "PUBLIC_UPDATE_ON_TIME") == {
        (PROVINCE, "T1"): (True, None),
        (PROVINCE, "T2"): (False, "published_late"),
        (PROVINCE, "T3"): (False, "not_made_public"),
        (PROVINCE, "T4"): (False, "not_made_public"),
        (PROVINCE, "T5"): (True, None),
        (PROVINCE, "T7"): (False, "not_made_public"),
        (PROVINCE, "T9"): (True, None),
    }
    assert facts(con, AUG, "PUBLIC_UPDATE_ON_TIME") == {(PROVINCE, "T8"): (False, "not_made_public")}
    assert nd(c, SEP, PROVINCE, "PUBLIC_UPDATE_ON_TIME") == (0, 0)


def test_public_update_on_time_provisional(store: Con) -> None:
    """July judged at Tue 28/07 10:00 (provisional, horizon idx 641, a working day still under way).

    - QD 29/07 is not known yet.
    - T3: QC 21/07 deadline is 28/07 itself, not over yet (641 − 636 = 5 < 5 + 1) → not due; its July click is on
      time for QA → hit.
    - T4: same deadline → not due, and never clicked → not counted.
    - T7: deadline 13/07 passed → not_made_public.
    ⇒ T1, T3, T5, T9 on time, T2 late, T7 due: 4/6. 1.1 without QD: T1, T4 of T1–T5 → 2/5.
    """
    load_fixture(store)
    load_period_structure(store, [parse_period(JUL)], as_of=datetime(2026, 7, 28, 10, 0))
    build(store)
    c = counts(store)
    assert nd(c, JUL, PROVINCE, "PUBLIC_UPDATE_ON_TIME") == (4, 6)
    assert facts(store, JUL, "PUBLIC_UPDATE_ON_TIME")[(PROVINCE, "T3")] == (True, None)
    assert nd(c, JUL, PROVINCE, "PUBLISH_ON_TIME") == (2, 5)


def test_public_update_click_without_decision(store: Con) -> None:
    """A TTHC clicked in the period with no QĐCB on or before the click: in the denominator, not a hit."""
    add_units(store, UNITS[:1])
    add_procedures(store, [("T1", "public", False, False, True, "1", "2026-07-13 10:00")])
    store.execute("INSERT INTO publications VALUES ('QX', 'H99', DATE '2026-07-20')")
    store.execute("INSERT INTO publication_items VALUES ('QX', 'T1', 'amended')")
    load_period_structure(store, [parse_period(JUL)])
    build(store)
    # The click (13/07) precedes QX (20/07): obligation (a) has no decision; (b) QX's deadline 27/07 passed.
    assert facts(store, JUL, "PUBLIC_UPDATE_ON_TIME") == {(PROVINCE, "T1"): (False, "no_decision_before_publication")}


# --- 1.3 PUBLIC_CONTENT_FULL -----------------------------------------------------------------------------------------


def test_public_content_full_snapshot(con: Con) -> None:
    """Currently public: T1, T2, T3, T5, T8, T9 (T4, T7 abolished; T6 other). Complete: T1, T3, T8, T9; T2
    incomplete; T5 unknown (NULL). ⇒ 4/6 in every period (no period filter), all owned by H99."""
    build(con)
    c = counts(con)
    for period in (JUL, AUG, SEP):
        assert nd(c, period, PROVINCE, "PUBLIC_CONTENT_FULL") == (4, 6)
    f = facts(con, JUL, "PUBLIC_CONTENT_FULL")
    assert f[(PROVINCE, "T2")] == (False, "components_incomplete")
    assert f[(PROVINCE, "T5")] == (False, "components_unknown")
    assert {u for u, _ in f} == {PROVINCE}


def test_catalogue_ownership_across_provinces(store: Con) -> None:
    """Cat-owner / Cat-authority / Cat-status with two provinces H99 (one commune) and H88.

    - A1 has an implementer in H99 → owned by H99 only.
    - A2 is in a QĐCB of H88 → owned by H88 only (1.3); it has no implementer and is of province level, so for
      3.1 it falls back to every root (H99 and H88).
    - A3 has no implementer and no QĐCB → owned by every root (both provinces) for 1.3 and 3.1.
    - A4 has no status (NULL) → counted as public; commune level → 3.1 at the commune only (H88 has none).
    1.3: H99 {A1, A3, A4} = 3, H88 {A2, A3, A4}: A4 has no known owner either → both. 3.1: H99 {A1, A2, A3, A4},
    H88 {A2, A3}.
    """
    add_units(
        store,
        [
            ("H99", "Tỉnh H99", None, "province", None),
            ("H99.C1", "Xã 1", "H99", "commune", None),
            ("H99.01", "Sở A", "H99", "provincial_department", None),
            ("H88", "Tỉnh H88", None, "province", None),
        ],
    )
    add_procedures(
        store,
        [
            ("A1", "public", False, True, True, "1", None),
            ("A2", "public", False, True, True, "1", None),
            ("A3", "public_amended", False, True, True, None, None),
            ("A4", None, False, True, True, "3", None),
        ],
    )
    store.execute("INSERT INTO procedure_units VALUES ('A1', 'H99.01'), ('A1', 'NATIONAL.AGENCY.CODE')")
    store.execute("INSERT INTO publications VALUES ('QH88', 'H88', DATE '2026-05-04')")
    store.execute("INSERT INTO publication_items VALUES ('QH88', 'A2', 'new')")
    load_period_structure(store, [parse_period(JUL)])
    build(store)
    owners = facts(store, JUL, "PUBLIC_CONTENT_FULL")
    assert set(owners) == {("H99", "A1"), ("H88", "A2"), ("H99", "A3"), ("H88", "A3"), ("H99", "A4"), ("H88", "A4")}
    c = counts(store)
    assert nd(c, JUL, "H99", "ONLINE_PROCEDURES") == (0, 4)
    assert nd(c, JUL, "H88", "ONLINE_PROCEDURES") == (0, 2)
    assert nd(c, JUL, "H99.C1", "ONLINE_PROCEDURES") == (0, 1)
    assert nd(c, JUL, "H99.01", "ONLINE_PROCEDURES") == (0, 1)


# --- 3.1 ONLINE_PROCEDURES -------------------------------------------------------------------------------------------


def test_online_procedures(con: Con) -> None:
    """Authority (Cat-authority), public DVC at the unit or below:

    - H99.01 {T1 ✓ (S1 partial + S2 full: one item), T2 ✗ (S3 withdrawn), T8 ✓ (S7 partial), T9 ✗ none} = 2/4
    - H99.02 {T1 ✗ (its DVC are at H99.01, not below H99.02), T5 ✗ (S5 only testing)} = 0/2
    - H99.C1 {T3 ✓ S4 full} = 1/1; H99.C2 {T3 ✗} = 0/1 (commune-level TTHC belong to every commune)
    - H99 pooled: T1 ✓ (used by both departments, counted once), T2 ✗, T3 ✓, T5 ✗, T8 ✓, T9 ✗ = 3/6.
    T4 (abolished) is under nobody's authority. The catalogue is current state: the same in every period.
    """
    build(con)
    c = counts(con)
    for period in (JUL, AUG):
        assert nd(c, period, PROVINCE, "ONLINE_PROCEDURES") == (3, 6)
        assert nd(c, period, DEPT_A, "ONLINE_PROCEDURES") == (2, 4)
        assert nd(c, period, DEPT_B, "ONLINE_PROCEDURES") == (0, 2)
        assert nd(c, period, COMMUNE_1, "ONLINE_PROCEDURES") == (1, 1)
        assert nd(c, period, COMMUNE_2, "ONLINE_PROCEDURES") == (0, 1)
    f = facts(con, JUL, "ONLINE_PROCEDURES")
    assert f[(DEPT_B, "T1")] == (False, "no_public_service")
    assert f[(PROVINCE, "T3")] == (True, None)  # the province's own row sees S4 at the commune


# --- 3.2 ONLINE_SERVICES_USED ----------------------------------------------------------------------------------------


def test_online_services_used(con: Con) -> None:
    """Counted DVC: S1, S2, S7 (H99.01), S5 (H99.02, testing), S4 (H99.C1), S8 (H99, pending withdrawal); S3 is
    withdrawn. Online dossiers: D1 (10/07) and D7 (submitted 30/07, not received; unit from its prefix) for T1 at
    H99.01 → S1 and S2 (both DVC of T1 there); D2 (15/07) T3 at H99.C1 → S4, the nearest DVC (not also S8);
    D3 (05/08) T3 at H99.C2, which has no DVC → S8 at the province, in August only. D4 (T5) is not online.

    July: H99.01 2/3, H99.02 0/1, H99.C1 1/1, H99 pooled {S1, S2, S4} of 6 = 3/6, S8 not used.
    August: only S8 → H99 1/6, H99.01 0/3, H99.C1 0/1.
    """
    build(con)
    c = counts(con)
    assert nd(c, JUL, DEPT_A, "ONLINE_SERVICES_USED") == (2, 3)
    assert nd(c, JUL, DEPT_B, "ONLINE_SERVICES_USED") == (0, 1)
    assert nd(c, JUL, COMMUNE_1, "ONLINE_SERVICES_USED") == (1, 1)
    assert nd(c, JUL, COMMUNE_2, "ONLINE_SERVICES_USED") == (0, 0)
    assert nd(c, JUL, PROVINCE, "ONLINE_SERVICES_USED") == (3, 6)
    assert facts(con, JUL, "ONLINE_SERVICES_USED")[(PROVINCE, "S8")] == (False, "no_online_dossier")
    assert nd(c, AUG, PROVINCE, "ONLINE_SERVICES_USED") == (1, 6)
    assert nd(c, AUG, DEPT_A, "ONLINE_SERVICES_USED") == (0, 3)
    assert nd(c, AUG, COMMUNE_1, "ONLINE_SERVICES_USED") == (0, 1)
    assert facts(con, AUG, "ONLINE_SERVICES_USED")[(PROVINCE, "S8")] == (True, None)


# --- 3.5 / 3.5b payment ----------------------------------------------------------------------------------------------


def test_payment_procedures(con: Con) -> None:
    """Fee TTHC: T1, T2, T5. July dossiers of fee TTHC: D1, D7 (T1 @H99.01, nonzero; D1 paid '1'), D4 (T5 @H99.02,
    nonzero, '0'), D5 (T1 @H99.02, all zero), D6 (T2 @H99.C1, fee list empty, paid '2'). D9 is June; D10's unit is
    unknown (counted nowhere).

    3.5 C (catalogue route + dossier route; hit = a nonzero-fee dossier at the unit):
      H99.01 {T1 ✓, T2 ✗ no dossier} 1/2; H99.02 {T1 ✗ all zero, T5 ✓} 1/2; H99.C1 {T2 ✗ fee list empty} 0/1;
      H99 pooled {T1 ✓, T2 ✗, T5 ✓} 2/3.
    3.5b B (fee TTHC with a not-all-zero dossier at the unit; hit = paid online):
      H99.01 {T1 ✓} 1/1; H99.02 {T5 ✗ ('0')} 0/1 (T1's only dossier there is all zero); H99.C1 {T2 ✓ '2'} 1/1;
      H99 pooled {T1 ✓, T2 ✓, T5 ✗} 2/3.
    B ⊆ C at every unit: equal at the province here, smaller at each department.
    August: no fee dossiers → C 0/3 (catalogue route only), B 0/0.
    """
    build(con)
    c = counts(con)
    expected_c = {PROVINCE: (2, 3), DEPT_A: (1, 2), DEPT_B: (1, 2), COMMUNE_1: (0, 1), COMMUNE_2: (0, 0)}
    expected_b = {PROVINCE: (2, 3), DEPT_A: (1, 1), DEPT_B: (0, 1), COMMUNE_1: (1, 1), COMMUNE_2: (0, 0)}
    for unit in expected_c:
        assert nd(c, JUL, unit, "PAYMENT_PROCEDURES_INTEGRATED") == expected_c[unit], unit
        assert nd(c, JUL, unit, "PAYMENT_PROCEDURES_ONLINE") == expected_b[unit], unit
    f = facts(con, JUL, "PAYMENT_PROCEDURES_INTEGRATED")
    assert f[(DEPT_A, "T2")] == (False, "no_dossier_in_period")
    assert f[(DEPT_B, "T1")] == (False, "no_nonzero_fee_dossier")
    assert facts(con, JUL, "PAYMENT_PROCEDURES_ONLINE")[(DEPT_B, "T5")] == (False, "no_online_payment")
    assert nd(c, AUG, PROVINCE, "PAYMENT_PROCEDURES_INTEGRATED") == (0, 3)
    assert nd(c, AUG, PROVINCE, "PAYMENT_PROCEDURES_ONLINE") == (0, 0)


def test_payment_denominator_without_catalogue_route(con: Con) -> None:
    """Without the catalogue route, C's items come from dossiers only: H99.01 {T1 ✓} 1/1, H99.02 {T1 ✗ all zero,
    T5 ✓} 1/2 (B is 0/1 there: all-zero-only TTHC are C's only extra items), August 0/0."""
    build(con, payment_denominator_from_catalogue=False)
    c = counts(con)
    assert nd(c, JUL, DEPT_A, "PAYMENT_PROCEDURES_INTEGRATED") == (1, 1)
    assert nd(c, JUL, DEPT_B, "PAYMENT_PROCEDURES_INTEGRATED") == (1, 2)
    assert nd(c, JUL, PROVINCE, "PAYMENT_PROCEDURES_INTEGRATED") == (2, 3)
    assert nd(c, AUG, PROVINCE, "PAYMENT_PROCEDURES_INTEGRATED") == (0, 0)


# --- 4.5a CITIZEN_DATA_CONNECTED_FORMALITY ---------------------------------------------------------------------------


def test_citizen_data_connected_formality(con: Con) -> None:
    """Citizen TTHC under each unit: H99.01 {T1, T2, T8}, H99.02 {T1}, communes {T3}, H99 {T1, T2, T3, T8}.
    July dossiers received: D1 T1 @H99.01 VNeID ✓; D5 T1 @H99.02 store component ✓; D2 T3 @H99.C1 MaCSDL '1' ✓;
    D8 T3 @H99.C2 MaCSDL '7' only ✗; D6 T2 @H99.C1 no data ✗ (T2 is not the commune's, but counts for H99);
    D7 was never received.

    H99.01 {T1 ✓, T2 ✗ no dossier in its subtree, T8 ✗} 1/3; H99.02 {T1 ✓} 1/1; H99.C1 1/1; H99.C2 0/1;
    H99 pooled {T1 ✓ (both departments, once), T2 ✗ (D6 has no data), T3 ✓, T8 ✗} 2/4.
    """
    build(con)
    c = counts(con)
    assert nd(c, JUL, DEPT_A, "CITIZEN_DATA_CONNECTED_FORMALITY") == (1, 3)
    assert nd(c, JUL, DEPT_B, "CITIZEN_DATA_CONNECTED_FORMALITY") == (1, 1)
    assert nd(c, JUL, COMMUNE_1, "CITIZEN_DATA_CONNECTED_FORMALITY") == (1, 1)
    assert nd(c, JUL, COMMUNE_2, "CITIZEN_DATA_CONNECTED_FORMALITY") == (0, 1)
    assert nd(c, JUL, PROVINCE, "CITIZEN_DATA_CONNECTED_FORMALITY") == (2, 4)
    f = facts(con, JUL, "CITIZEN_DATA_CONNECTED_FORMALITY")
    assert f[(DEPT_A, "T2")] == (False, "no_dossier_in_period")
    assert f[(PROVINCE, "T2")] == (False, "no_population_data_use")
    assert f[(COMMUNE_2, "T3")] == (False, "no_population_data_use")
    assert nd(c, AUG, PROVINCE, "CITIZEN_DATA_CONNECTED_FORMALITY") == (0, 4)


def test_population_db_codes_parameter(con: Con) -> None:
    """With MaCSDL codes {'1', '7'}, D8 connects T3 at H99.C2 (1/1); the province stays 2/4 (T3 counted once)."""
    build(con, population_db_codes=("1", "7"))
    c = counts(con)
    assert nd(c, JUL, COMMUNE_2, "CITIZEN_DATA_CONNECTED_FORMALITY") == (1, 1)
    assert nd(c, JUL, PROVINCE, "CITIZEN_DATA_CONNECTED_FORMALITY") == (2, 4)
    build(con, population_db_codes=())
    assert nd(counts(con), JUL, COMMUNE_1, "CITIZEN_DATA_CONNECTED_FORMALITY") == (0, 1)


# --- pooling, empty store, dialect ---------------------------------------------------------------------------------


def test_pooled_distinct_counting_at_the_province(con: Con) -> None:
    """T1 is implemented by H99.01 and H99.02: the sum of the departments' 3.1 denominators (4 + 2) overcounts it,
    the province's distinct count does not (T1 once among 6)."""
    build(con)
    c = counts(con)
    children = sum(nd(c, JUL, u, "ONLINE_PROCEDURES")[1] for u in (DEPT_A, DEPT_B, COMMUNE_1, COMMUNE_2))
    assert children == 8
    assert nd(c, JUL, PROVINCE, "ONLINE_PROCEDURES")[1] == 6


def test_empty_store_and_unknown_units(store: Con) -> None:
    """No records: no facts, no counts (0/0 everywhere)."""
    load_period_structure(store, [parse_period(JUL)])
    build(store)
    assert store.execute("SELECT COUNT(*) FROM catalogue_facts").fetchone() == (0,)
    assert counts(store) == {}


def test_spark_dialect_and_parameters() -> None:
    """The Spark text differs only in the dialect helpers; bad parameters are refused."""
    spark = catalogue_facts_sql(SPARK)
    assert "to_date(t.published_at + INTERVAL 7 HOURS)" in spark
    assert "CAST(t.published_at + INTERVAL 7 HOUR AS DATE)" in catalogue_facts_sql()
    assert "db_code IN ('1', 'x''y')" in catalogue_facts_sql(population_db_codes=("1", "x'y"))
    with pytest.raises(ValueError):
        catalogue_facts_sql(province_publish_days=-1)
    with pytest.raises(ValueError):
        catalogue_counts_sql("facts; DROP TABLE units")


# --- static ('*') and dynamic rows -----------------------------------------------------------------------------------

H88_UNITS = [
    ("H88", "Tỉnh H88", None, "province", "000.00.00.H88"),
    ("H88.D1", "Huyện 1", "H88", "district", None),
    ("H88.D1.X1", "Xã 1 (H88)", "H88.D1", "commune", None),
]


def load_two_provinces(con: Con) -> None:
    """The H99 fixture plus a three-level province H88 (province → district → commune) with a DVC at the district,
    a fee TTHC implemented by the district and dossiers on scattered days, so pooling goes two levels deep."""
    load_fixture(con)
    add_units(con, H88_UNITS)
    con.execute("INSERT INTO services VALUES ('S9', 'T3', 'H88.D1', 'full', 'public')")
    con.execute("INSERT INTO procedure_units VALUES ('T5', 'H88.D1')")
    add_dossier(con, "E1", "H88.D1.X1", "T3", channel="2", received="2026-07-14 09:00", vneid=True)
    add_dossier(con, "E2", "H88.D1.X1", "T5", received="2026-07-14 10:00", fee_state="nonzero", payment="1")
    add_dossier(con, "E3", "H88.D1", "T1", received="2026-09-02 09:00", fee_state="all_zero")
    add_dossier(con, "E4", "H88.D1.X1", "T2", channel="2", received="2026-12-30 09:00", fee_state="nonzero",
                payment="2", db_codes=("1",))  # fmt: skip
    add_dossier(con, "E5", "H88.D1", "T5", channel="2", received="2026-07-14 11:00", fee_state="none")


def brute_force_counts(con: Con) -> Counts:
    """The former representation — every static row copied into every period of ``period_structure`` — pooled
    by COUNT(DISTINCT) over ``unit_closure`` (the former catalogue_counts_sql)."""
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE per_period_facts AS
        SELECT ps.period_id, f.indicator_code, f.unit_code, f.item_code, f.hit
        FROM catalogue_facts f CROSS JOIN period_structure ps WHERE f.period_id = '*'
        UNION ALL
        SELECT f.period_id, f.indicator_code, f.unit_code, f.item_code, f.hit
        FROM catalogue_facts f JOIN period_structure ps ON ps.period_id = f.period_id
        """
    )
    rows = con.execute(
        """
        SELECT f.period_id, c.ancestor, f.indicator_code,
               COUNT(DISTINCT CASE WHEN f.hit THEN f.item_code END), COUNT(DISTINCT f.item_code)
        FROM per_period_facts f JOIN unit_closure c ON c.descendant = f.unit_code
        GROUP BY f.period_id, c.ancestor, f.indicator_code
        """
    ).fetchall()
    return {(p, u, i): (int(n), int(den)) for p, u, i, n, den in rows}


def keep_only(con: Con, procedure: str) -> None:
    """The TTHC filter applied to every catalogue indicator (services through their TTHC), as
    counters.filter_catalogue_facts does for the indicators a methodology filters."""
    con.execute(
        "DELETE FROM catalogue_facts WHERE COALESCE((SELECT s.procedure_code FROM services s "
        "WHERE s.service_code = catalogue_facts.item_code), catalogue_facts.item_code) <> ?",
        [procedure],
    )


YEAR_PERIODS = periods_of_year(2026)  # 365 days, 53 weeks, 12 months, 4 quarters, 2 halves, M9, year


@pytest.mark.parametrize(
    ("options", "as_of", "only"),
    [
        ({}, None, None),
        ({}, datetime(2026, 7, 28, 10, 0), None),
        ({"payment_denominator_from_catalogue": False}, None, None),
        ({"population_db_codes": ("1", "7")}, None, None),
        ({}, None, "T1"),
        ({}, None, "T3"),
        ({}, None, "T5"),
    ],
)
def test_counts_equal_per_period_expansion(
    store: Con, options: dict[str, Any], as_of: datetime | None, only: str | None
) -> None:
    """Over the 438 periods of 2026 (days included; closed, or provisional at 28/07), with and without the 3.5
    catalogue route, and after a TTHC filter, catalogue_counts_sql gives exactly the COUNT(DISTINCT) pooling of
    the per-period rows (static rows copied into every period)."""
    load_two_provinces(store)
    load_period_structure(store, YEAR_PERIODS, as_of=as_of)
    build(store, **options)
    if only is not None:
        keep_only(store, only)
    expected = brute_force_counts(store)
    assert len({p for p, _, _ in expected}) == len(YEAR_PERIODS)  # static rows reach every period
    assert counts(store) == expected


def test_procedure_filter_keeps_static_rows_consistent(store: Con) -> None:
    """counters.filter_catalogue_facts drops the other TTHC's rows, '*' and dated alike (3.2 is filtered in
    portal-2026): the counts still equal the per-period expansion and only T3's DVC remain."""
    load_two_provinces(store)
    load_period_structure(store, [parse_period(p) for p in (JUL, AUG, "2026-07-14")])
    build(store)
    filter_catalogue_facts(store, load_methodology("portal-2026"), "T3")
    left = store.execute(
        "SELECT DISTINCT period_id = '*', item_code FROM catalogue_facts WHERE indicator_code = 'ONLINE_SERVICES_USED'"
    ).fetchall()
    assert set(left) == {(True, "S4"), (True, "S8"), (True, "S9"), (False, "S4"), (False, "S8"), (False, "S9")}
    assert counts(store) == brute_force_counts(store)
    assert nd(counts(store), "2026-07-14", "H88", "ONLINE_SERVICES_USED") == (1, 1)  # E1 → S9 at the district


def test_static_rows_are_written_once(store: Con) -> None:
    """The static part does not grow with the number of periods: the same '*' rows for one month and for the 438
    periods of the year, and no dated row repeats a static item's default (non-hit) verdict."""
    load_two_provinces(store)
    static_sql = "SELECT indicator_code, unit_code, item_code, hit, reason FROM catalogue_facts WHERE period_id = '*'"
    load_period_structure(store, [parse_period(JUL)])
    build(store)
    one_period = sorted(store.execute(static_sql).fetchall())
    load_period_structure(store, YEAR_PERIODS)
    build(store)
    many_periods = sorted(store.execute(static_sql).fetchall())
    assert one_period == many_periods
    assert store.execute(f"SELECT COUNT(*) FROM ({catalogue_facts_sql(part='static')})").fetchone() == (
        len(many_periods),
    )
    dated_defaults = store.execute(
        """
        SELECT COUNT(*) FROM catalogue_facts WHERE period_id <> '*' AND (
            indicator_code IN ('PUBLIC_CONTENT_FULL', 'ONLINE_PROCEDURES')
            OR (indicator_code = 'ONLINE_SERVICES_USED' AND NOT hit)
            OR (indicator_code IN ('PAYMENT_PROCEDURES_INTEGRATED', 'CITIZEN_DATA_CONNECTED_FORMALITY')
                AND reason = 'no_dossier_in_period'))
        """
    ).fetchone()
    assert dated_defaults == (0,)
    # Dated rows come from QĐCB, clicks and dossiers only (the periods around a few days): a small fraction of the
    # static × 438 rows a per-period copy would take.
    dated = store.execute("SELECT COUNT(*) FROM catalogue_facts WHERE period_id <> '*'").fetchone()
    assert dated is not None and dated[0] * 20 < len(many_periods) * len(YEAR_PERIODS)


def test_dynamic_part_with_stored_static_rows_equals_all(store: Con) -> None:
    """part='static' + part='dynamic' = part='all' (the same rows); and refreshing the dated rows of some periods
    only (part='dynamic' with period_structure = those periods, as LiveIndex does) next to the stored '*' rows
    gives the same counts for those periods as the full build."""
    load_two_provinces(store)
    load_period_structure(store, YEAR_PERIODS)
    build(store)
    all_rows = sorted(store.execute("SELECT * FROM catalogue_facts").fetchall())
    expected = counts(store)
    store.execute("DROP TABLE catalogue_facts")
    store.execute(f"CREATE TABLE catalogue_facts AS {catalogue_facts_sql(part='static')}")
    store.execute(f"INSERT INTO catalogue_facts {catalogue_facts_sql(part='dynamic')}")
    assert sorted(store.execute("SELECT * FROM catalogue_facts").fetchall()) == all_rows
    assert counts(store) == expected

    touched = [parse_period(p) for p in ("2026-07-14", "2026W29", JUL, "2026Q3", "2026")]
    ids = [p.id for p in touched]
    store.execute(f"DELETE FROM catalogue_facts WHERE period_id IN ({', '.join('?' for _ in ids)})", ids)
    load_period_structure(store, touched)
    store.execute(f"INSERT INTO catalogue_facts {catalogue_facts_sql(part='dynamic')}")
    assert sorted(store.execute("SELECT * FROM catalogue_facts").fetchall()) == all_rows
    assert counts(store) == {k: v for k, v in expected.items() if k[0] in ids}


def test_static_part_needs_no_periods(store: Con) -> None:
    """The static rows do not read period_structure (it need not exist); with no period there is no dated row."""
    load_fixture(store)
    static = store.execute(catalogue_facts_sql(part="static")).fetchall()
    assert static and {row[0] for row in static} == {"*"}
    store.execute(STRUCTURE_DDL["period_structure"])  # no period
    assert store.execute(catalogue_facts_sql(part="dynamic")).fetchall() == []
    assert sorted(store.execute(catalogue_facts_sql()).fetchall()) == sorted(static)
    with pytest.raises(ValueError):
        catalogue_facts_sql(part="some")  # type: ignore[arg-type]


@pytest.mark.parametrize("period", [JUL, AUG, SEP])
def test_explain_misses_merge_static_and_dated_rows(con: Con, period: str) -> None:
    """explain lists, per (unit, item), the items of the '*' and the period's rows with no hit in the period, with
    the period row's reason when it has one (a dossier without population data: no_population_data_use, not the
    static row's no_dossier_in_period)."""
    build(con)
    methodology = load_methodology("portal-2026")
    for indicator in CATALOGUE_INDICATORS:
        source = _miss_source(methodology, indicator)
        assert source is not None and source[1] == "procedure"
        rows = con.execute(source[0], {"period": period}).fetchall()
        assert len(rows) == len({(r[1], r[0]) for r in rows})  # one row per (unit, item)
        got = {(unit, record): reason for record, unit, _proc, reason, _at in rows}
        expected = {key: reason for key, (hit, reason) in facts(con, period, indicator).items() if not hit}
        assert got == expected, indicator
    source = _miss_source(methodology, "CITIZEN_DATA_CONNECTED_FORMALITY")
    assert source is not None
    misses = {(u, i): r for i, u, _p, r, _a in con.execute(source[0], {"period": period}).fetchall()}
    # H99.C2's T3: D8 (22/07, MaCSDL '7' only) and D3 (05/08, no data) miss; nothing in September.
    assert misses[(COMMUNE_2, "T3")] == ("no_dossier_in_period" if period == SEP else "no_population_data_use")
    if period == JUL:
        assert misses[(DEPT_A, "T2")] == "no_dossier_in_period"
        assert (DEPT_B, "T1") not in misses  # D5's store component: a hit in July
