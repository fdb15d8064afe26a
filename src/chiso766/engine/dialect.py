"""Every SQL piece that differs between engines lives here (DuckDB now; Spark SQL later).

Engine SQL elsewhere is plain ANSI-ish SQL that calls these helpers for the few non-portable expressions.
"""

from __future__ import annotations

from dataclasses import dataclass

VN_OFFSET_HOURS = 7  # Asia/Ho_Chi_Minh is UTC+7 all year since 1975


@dataclass(frozen=True)
class Dialect:
    """SQL snippets for one engine."""

    name: str

    def local_date(self, utc_ts: str) -> str:
        """The Vietnam calendar date of a UTC instant."""
        if self.name == "spark":
            return f"to_date({utc_ts} + INTERVAL {VN_OFFSET_HOURS} HOURS)"
        return f"CAST({utc_ts} + INTERVAL {VN_OFFSET_HOURS} HOUR AS DATE)"

    def add_hours(self, ts: str, hours: str) -> str:
        """``ts`` plus a (possibly fractional) number of hours."""
        if self.name == "spark":
            return f"({ts} + make_interval(0, 0, 0, 0, 0, 0, ({hours}) * 3600))"
        return f"({ts} + to_microseconds(CAST(ROUND(({hours}) * 3600000000) AS BIGINT)))"

    def add_months(self, day: str, months: str) -> str:
        """A date plus whole months, clamped to the month's end (Jan 31 + 1 month = Feb 28/29)."""
        if self.name == "spark":
            return f"add_months({day}, {months})"
        return f"CAST({day} + to_months(CAST({months} AS INTEGER)) AS DATE)"

    def seconds_between(self, start: str, end: str) -> str:
        """Exact seconds from ``start`` to ``end`` (may be negative)."""
        if self.name == "spark":
            return f"(unix_timestamp({end}) - unix_timestamp({start}))"
        return f"(epoch({end}) - epoch({start}))"

    def null_safe_equal(self, left: str, right: str) -> str:
        """``left = right`` where two NULLs are equal (a join key that may be NULL)."""
        if self.name == "spark":
            return f"({left} <=> {right})"
        return f"({left} IS NOT DISTINCT FROM {right})"

    def days_between(self, start_date: str, end_date: str) -> str:
        """Calendar days from one date to another."""
        if self.name == "spark":
            return f"datediff({end_date}, {start_date})"
        return f"({end_date} - {start_date})"


DUCKDB = Dialect("duckdb")
SPARK = Dialect("spark")
