"""Dossier counters from the compact facts, without writing one row per (period, dossier).

:func:`~chiso766.engine.facts_dossiers.dossier_facts_sql` routes every (period, dossier) row three ways
(settled, unknown, judged; see its module doc). Only the judged rows need the period's horizon *and* the
dossier's records; the others follow from a few instants of the dossier:

- ``bounds`` (``output="bounds"``): per received dossier ``received_at`` (r), ``due_at``,
  ``first_terminal_at`` (ft), ``first_known_at`` (K), ``last_known_at`` (L) and its period-independent flags;
- ``facts`` (``output="compact"``): the judged rows (real period ids) and the final facts (``period_id = '*'``).

For a period P = [S, E) judged at A (``as_of_at``) the rows of ``dossier_facts_sql`` are exactly:

- *settled* (final facts): ft known and ``max(r, L) < E``, ``max(r, L) <= A``, ``max(r, ft) >= S`` — D-pop-1's
  "received before the end, not carried out" reduces to this because ft ≤ L ≤ A;
- *unknown* (open, on time iff ``open_end_at <= due_at``): a due date, ``r < E``, ``r <= A`` and nothing known
  (``K IS NULL OR K >= E OR K > A``; then ft ≥ K is not before S, so the dossier is carried over). They
  depend on P only through (E, A): counted once per distinct horizon, then given to its periods;
- *judged*: the stored rows.

``in_recv`` (``r >= S``) is the only column that depends on the start: the one indicator that reads it
(1.4, "in_recv") is the count of dossiers received in P, counted from ``bounds`` alone.

So :func:`dossier_wide_sql` gives the per-(period, unit) sums of :func:`~chiso766.engine.counters.fact_sums_sql`
over the rows of ``dossier_facts_sql`` (tested equal on generated data, ``tests/engine/test_dossier_counts.py``).
"""

from __future__ import annotations

from collections.abc import Sequence

from chiso766.engine.dialect import DUCKDB, Dialect
from chiso766.engine.facts_dossiers import FINAL_PERIOD

__all__ = ["FLAG_COLUMNS", "RECEIVED", "dossier_delta_sql", "dossier_wide_sql"]

FLAG_COLUMNS: tuple[str, ...] = (
    "in_proc",
    "on_time",
    "online",
    "channel_counted",
    "fee_bearing",
    "paid_online",
    "e_result",
    "digitised",
    "reused",
    "store_linked",
    "population_data",
    "satisfied",
    "online_with_e_result",
)
"""The dossier-facts columns an indicator condition may read (besides ``in_recv``)."""
RECEIVED = "in_recv"
"""The one condition on ``in_recv`` the compact path counts (1.4: every dossier received in the period)."""
_NEVER = "CAST('9999-12-31 00:00:00' AS TIMESTAMP)"


def _check(name: str) -> None:
    if not name.replace("_", "").isalnum():
        raise ValueError(f"not a plain table name: {name!r}")


def _counts(specs: Sequence[tuple[str, str, str]], online: str) -> str:
    """COUNT columns n_i/d_i of ``specs`` over rows with :data:`FLAG_COLUMNS` (0 for the ``in_recv`` count)."""
    out = []
    for i, (_code, num, den) in enumerate(specs):
        if RECEIVED in (num, den):
            out.append(f"0 AS n_{i}, 0 AS d_{i}")
            continue
        out.append(
            f"COUNT(CASE WHEN ({num.format(online=online)}) THEN 1 END) AS n_{i}, "
            f"COUNT(CASE WHEN ({den}) THEN 1 END) AS d_{i}"
        )
    return ", ".join(out)


def _validate(specs: Sequence[tuple[str, str, str]]) -> None:
    for code, num, den in specs:
        if (RECEIVED in num or RECEIVED in den) and not (num == den == RECEIVED):
            raise ValueError(f"{code}: the compact path counts in_recv only as the whole condition")


def dossier_wide_sql(
    facts: str,
    bounds: str,
    specs: Sequence[tuple[str, str, str]],
    online: str = "online",
    dialect: Dialect = DUCKDB,
    periods: str = "period_structure",
) -> str:
    """SELECT ``(period_id, unit_code, n_0, d_0, …)``, one row per key with a row, for the periods of ``periods``
    (a table shaped like ``period_structure``): the unpooled sums of ``specs`` over the (period, dossier) rows
    that ``facts`` (compact) and ``bounds`` stand for (see the module doc)."""
    for name in (facts, bounds, periods):
        _check(name)
    _validate(specs)
    flags = ", ".join(f"f.{c}" for c in FLAG_COLUMNS)
    n = len(specs)
    columns = ", ".join(f"n_{i}, d_{i}" for i in range(n))
    received = ", ".join(
        f"recv AS n_{i}, recv AS d_{i}" if num == RECEIVED else f"0 AS n_{i}, 0 AS d_{i}"
        for i, (_code, num, _den) in enumerate(specs)
    )
    combined = ",\n       ".join(
        f"COALESCE(r.n_{i}, 0) + COALESCE(u.n_{i}, 0) + COALESCE(c.n_{i}, 0) AS n_{i}, "
        f"COALESCE(r.d_{i}, 0) + COALESCE(u.d_{i}, 0) + COALESCE(c.d_{i}, 0) AS d_{i}"
        for i in range(n)
    )
    ld = dialect.local_date
    x_at = "CASE WHEN b.received_at > b.first_terminal_at THEN b.received_at ELSE b.first_terminal_at END"
    y_at = "CASE WHEN b.received_at > b.last_known_at THEN b.received_at ELSE b.last_known_at END"
    on_time = f"CASE WHEN {dialect.seconds_between('b.due_at', 'h.open_end_at')} - 0 <= 0 THEN TRUE ELSE FALSE END"
    satisfied = f"CASE WHEN ({on_time}) AND NOT FALSE AND NOT b.disliked THEN TRUE ELSE FALSE END"  # no PAKN
    unknown_flags = ", ".join(
        {
            "in_proc": "TRUE AS in_proc",
            "on_time": f"{on_time} AS on_time",
            "satisfied": f"{satisfied} AS satisfied",
        }.get(c, f"b.{c}")
        for c in FLAG_COLUMNS
    )
    return f"""
WITH
-- The days of each closed period (as_of_at = end_at): there an instant t is in [start_at, end_at) iff its local
-- date is in [start_date, end_date), so membership by instants is an equi-join on local dates.
period_days AS (
    SELECT p.period_id, p.end_date, c.day
    FROM {periods} p JOIN calendar c ON c.day >= p.start_date AND c.day < p.end_date
    WHERE p.as_of_at >= p.end_at
),
-- judged rows (stored) and settled rows (the final facts, for every period where the dossier is settled)
route_rows AS (
    SELECT f.period_id, f.unit_code, {flags}
    FROM {facts} f JOIN {periods} p ON p.period_id = f.period_id
    UNION ALL
    SELECT pd.period_id, f.unit_code, {flags}
    FROM {bounds} b
    JOIN {facts} f ON f.dossier_id = b.dossier_id AND f.period_id = '{FINAL_PERIOD}'
    JOIN period_days pd ON pd.day = {ld(x_at)}
    WHERE b.first_terminal_at IS NOT NULL AND {ld(y_at)} < pd.end_date
    UNION ALL
    SELECT p.period_id, f.unit_code, {flags}
    FROM {bounds} b
    JOIN {facts} f ON f.dossier_id = b.dossier_id AND f.period_id = '{FINAL_PERIOD}'
    JOIN {periods} p ON {x_at} >= p.start_at AND {y_at} < p.end_at
    WHERE b.first_terminal_at IS NOT NULL AND {y_at} <= p.as_of_at AND p.as_of_at < p.end_at
),
-- unknown rows, per distinct horizon; k_floor bounds the join (K >= E or K > A implies K >= min(E, A))
horizons AS (
    SELECT DISTINCT end_at, as_of_at, open_end_at,
           CASE WHEN as_of_at < end_at THEN as_of_at ELSE end_at END AS k_floor
    FROM {periods}
),
unknown_rows AS (
    SELECT h.end_at, h.as_of_at, b.unit_code, {unknown_flags}
    FROM {bounds} b
    JOIN horizons h ON b.received_at < h.end_at AND COALESCE(b.first_known_at, {_NEVER}) >= h.k_floor
    WHERE b.due_at IS NOT NULL AND b.received_at <= h.as_of_at
      AND (b.first_known_at IS NULL OR b.first_known_at >= h.end_at OR b.first_known_at > h.as_of_at)
),
unknown_counts AS (
    SELECT end_at, as_of_at, unit_code, {_counts(specs, online)}
    FROM unknown_rows GROUP BY end_at, as_of_at, unit_code
),
received AS (
    SELECT period_id, unit_code, COUNT(*) AS recv
    FROM (
        SELECT pd.period_id, b.unit_code
        FROM {bounds} b JOIN period_days pd ON pd.day = {ld("b.received_at")}
        UNION ALL
        SELECT p.period_id, b.unit_code
        FROM {bounds} b
        JOIN {periods} p ON b.received_at >= p.start_at AND b.received_at < p.end_at
        WHERE b.received_at <= p.as_of_at AND p.as_of_at < p.end_at
    ) r
    GROUP BY period_id, unit_code
),
-- the three parts, each with one row per key, side by side (a key may be missing from any of them)
route_counts AS (
    SELECT period_id, unit_code, {_counts(specs, online)}
    FROM route_rows GROUP BY period_id, unit_code
),
unknown_by_period AS (
    SELECT p.period_id, u.unit_code, {columns}
    FROM unknown_counts u JOIN {periods} p ON p.end_at = u.end_at AND p.as_of_at = u.as_of_at
),
received_counts AS (
    SELECT period_id, unit_code, {received} FROM received
)
SELECT COALESCE(r.period_id, u.period_id, c.period_id) AS period_id,
       COALESCE(r.unit_code, u.unit_code, c.unit_code) AS unit_code,
       {combined}
FROM route_counts r
FULL OUTER JOIN unknown_by_period u
  ON u.period_id = r.period_id AND {dialect.null_safe_equal("u.unit_code", "r.unit_code")}
FULL OUTER JOIN received_counts c
  ON c.period_id = COALESCE(r.period_id, u.period_id)
 AND {dialect.null_safe_equal("c.unit_code", "COALESCE(r.unit_code, u.unit_code)")}
"""


def dossier_delta_sql(
    new: tuple[str, str],
    old: tuple[str, str],
    specs: Sequence[tuple[str, str, str]],
    online: str = "online",
    dialect: Dialect = DUCKDB,
    periods: tuple[str, str] = ("period_structure", "period_structure"),
) -> str:
    """The wide sums of the ``new`` (facts, bounds) tables minus those of the ``old`` ones, per (period, unit)
    with a row on either side (an incremental update's change for the dossiers in those tables). ``periods``:
    the (new, old) period tables — the old rows were judged at the old as-of when the clock moved."""
    n = len(specs)
    negated = ", ".join(f"-n_{i} AS n_{i}, -d_{i} AS d_{i}" for i in range(n))
    sums = ", ".join(f"SUM(n_{i}) AS n_{i}, SUM(d_{i}) AS d_{i}" for i in range(n))
    after = dossier_wide_sql(new[0], new[1], specs, online, dialect, periods[0])
    before = dossier_wide_sql(old[0], old[1], specs, online, dialect, periods[1])
    return f"""
SELECT period_id, unit_code, {sums}
FROM (
    SELECT * FROM ({after}) a
    UNION ALL
    SELECT period_id, unit_code, {negated} FROM ({before}) b
) x
GROUP BY period_id, unit_code
"""
