"""Structure tables the engine SQL joins: ``calendar``, ``period_structure`` and ``unit_closure``.

- ``calendar(day DATE, is_working_day BOOLEAN, working_day_index INTEGER)``: working days after ``a`` up to and
  including ``b`` = ``idx(b) - idx(a)`` (D-5.2-3, D-2.1-6; DATA_FORMATS §2).
- ``period_structure``: one row per period being computed, with its UTC bounds and the "now" that judges it
  (D-gen-1): an event is known iff ``event_at < end_at AND event_at <= as_of_at``; a still-open item ends at
  ``open_end_at = min(end_at - 1 second, as_of_at)`` and day counts use ``horizon_date`` = its local date.
- ``unit_closure(ancestor, descendant, depth)``: every unit with itself and all its descendants (pooled roll-up).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

import duckdb

from chiso766.domain.calendar import load_calendar
from chiso766.domain.periods import VN_TZ, Period

STRUCTURE_DDL = {
    "calendar": """
        CREATE TABLE IF NOT EXISTS calendar (
            day                DATE PRIMARY KEY,
            is_working_day     BOOLEAN NOT NULL,
            working_day_index  INTEGER NOT NULL
        )""",
    "period_structure": """
        CREATE TABLE IF NOT EXISTS period_structure (
            period_id      VARCHAR PRIMARY KEY,
            period_type    VARCHAR NOT NULL,
            start_at       TIMESTAMP NOT NULL,   -- UTC instant of local midnight at the start
            end_at         TIMESTAMP NOT NULL,   -- UTC instant of local midnight after the last day (exclusive)
            as_of_at       TIMESTAMP NOT NULL,   -- "now" judging the period (UTC); = end_at for a closed period
            open_end_at    TIMESTAMP NOT NULL,   -- min(end_at - 1 s, as_of_at): end time of a still-open item
            start_date     DATE NOT NULL,        -- local first day
            end_date       DATE NOT NULL,        -- local day after the last day
            horizon_date   DATE NOT NULL,        -- local date of open_end_at
            provisional    BOOLEAN NOT NULL
        )""",
}


def utc_naive(instant: datetime) -> datetime:
    """An aware instant (naive = Vietnam local time) as a naive UTC datetime, as the store keeps instants."""
    aware = instant if instant.tzinfo is not None else instant.replace(tzinfo=VN_TZ)
    return aware.astimezone(UTC).replace(tzinfo=None)


def load_calendar_table(con: duckdb.DuckDBPyConnection) -> None:
    """(Re)create ``calendar`` from the working-day calendar (whole covered range)."""
    con.execute("DROP TABLE IF EXISTS calendar")
    con.execute(STRUCTURE_DDL["calendar"])
    rows = [(r.day, r.is_working_day, r.working_day_index) for r in load_calendar().calendar_rows()]
    con.executemany("INSERT INTO calendar VALUES (?, ?, ?)", rows)


def period_rows(periods: Iterable[Period], as_of: datetime | None = None) -> list[tuple[object, ...]]:
    """Rows of ``period_structure``; without ``as_of`` every period is judged at its own end (closed)."""
    rows: list[tuple[object, ...]] = []
    for p in periods:
        start, end = utc_naive(p.start_instant), utc_naive(p.end_instant)
        now = end if as_of is None else min(end, utc_naive(as_of))
        open_end = min(end - timedelta(seconds=1), now)
        horizon_date = (open_end + timedelta(hours=7)).date()
        provisional = as_of is not None and utc_naive(as_of) < end
        rows.append((p.id, p.type.value, start, end, now, open_end, p.start, p.end, horizon_date, provisional))
    return rows


def load_period_structure(
    con: duckdb.DuckDBPyConnection, periods: Sequence[Period], as_of: datetime | None = None
) -> None:
    """(Re)create ``period_structure`` for ``periods`` judged at ``as_of`` (default: each period's end)."""
    con.execute("DROP TABLE IF EXISTS period_structure")
    con.execute(STRUCTURE_DDL["period_structure"])
    con.executemany("INSERT INTO period_structure VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", period_rows(periods, as_of))


def rebuild_unit_closure(con: duckdb.DuckDBPyConnection) -> None:
    """Recompute ``unit_closure`` from ``units`` (recursive; units whose parent is unknown are roots)."""
    con.execute("DELETE FROM unit_closure")
    con.execute(
        """
        INSERT INTO unit_closure
        WITH RECURSIVE walk(ancestor, descendant, depth) AS (
            SELECT unit_code, unit_code, 0 FROM units
            UNION ALL
            SELECT w.ancestor, u.unit_code, w.depth + 1
            FROM walk w JOIN units u ON u.parent_code = w.descendant
            WHERE w.depth < 16
        )
        SELECT DISTINCT ancestor, descendant, depth FROM walk
        """
    )
