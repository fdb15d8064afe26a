"""Per-(period, dossier) facts: one row per dossier of P_proc or P_recv of each period in ``period_structure``.

:func:`dossier_facts_sql` returns one plain SELECT (CTEs only) over the store tables (``dossiers``,
``dossier_events``, ``dossier_supplements``, ``dossier_databases``, ``procedures``, ``procedure_times``,
``units``, ``petitions``) and the structure tables (``calendar``, ``period_structure``). Every dossier
indicator counter (1.4, 2.1, 3.3, 3.6, 4.1–4.5b, 5.4) is a filtered count over these rows.

Portability: window functions, CASE, joins and GROUP BY only; no UDFs, no correlated subqueries; the few
engine-specific expressions come from :class:`~chiso766.engine.dialect.Dialect`.

Cost shape: the event tables are scanned once and reduced per dossier (first terminal time, supplement
requests with their pause lengths precomputed). A (period, dossier) row's facts depend on the period only
through its horizon (``end_at``, ``as_of_at``, ``open_end_at``) and ``in_recv``, so each membership row is routed:

- ``settled``: the dossier is finished and every instant a horizon cuts at (terminal events, supplement
  requests and completions, the first linked PAKN) is known at this horizon, so its facts are its *final
  facts* — judged ONCE per dossier at an unbounded horizon and copied with the row's ``period_id``/``in_recv``;
- ``unknown``: nothing but the reception is known at the horizon and the dossier has a due date: the judging
  reduces to "open, ends at ``open_end_at``, on time iff ``open_end_at <= due_at``" (no joins);
- ``judged``: the rest (a terminal event or a supplement known but not everything, or no due date), judged at
  the period's horizon as before (D-gen-1).

The three routes give exactly the rows of judging every (period, dossier) at its own horizon (tested against
the previous SQL in ``tests/engine/test_engine_equivalence.py``).

Columns (all booleans non-null):

===========================  ===========================================================================
period_id, dossier_id        the key
unit_code                    D-gen-3: ``dossiers.unit_code``, else the unit whose ``electronic_id`` is the
                             ``MaHoSo`` prefix; NULL when neither (kept so ``check`` can report it)
procedure_code               MaTTHC as sent
in_proc, in_recv             D-pop-1 / D-pop-2
received_at, due_at          NgayTiepNhan, NgayHenTra (UTC)
finished                     a terminal event is known at the horizon
end_at, end_kind             D-2.1-5 end time; ``terminal_9|terminal_10|terminal_8|terminal_3|terminal_7|
                             supplement_pending|open``
supplement_requests          D-2.1-3 / D-2.1-4 count (known at the horizon, not after the end)
pause_seconds                D-2.1-5 pause (completed requests, completion known and not after the end)
on_time, late_reason         2.1 numerator; reason NULL | multiple_supplements | after_due | over_max_time
online, channel_counted      3.3 numerator / denominator membership (D-3.3-1)
fee_bearing, paid_online     3.6 denominator / numerator (D-3.6-1..4; counters AND them)
e_result, digitised          4.1 (D-4.1-1/2), 4.2 (D-4.2-1)
reused, store_linked         4.3 (D-4.3-1), 4.4 (D-4.4-1)
population_data              4.5b (D-4.5b-1)
has_petition, satisfied      5.4 (D-5.4-1)
online_with_e_result         the design-variant 3.3 condition (M §3 #3; not used by default)
===========================  ===========================================================================
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal

from chiso766.engine.dialect import DUCKDB, Dialect

__all__ = [
    "BOUNDS_COLUMNS",
    "DOSSIER_FACT_COLUMNS",
    "END_KINDS",
    "LATE_REASONS",
    "dossier_bounds_sql",
    "dossier_facts_sql",
]

DOSSIER_FACT_COLUMNS: tuple[str, ...] = (
    "period_id",
    "dossier_id",
    "unit_code",
    "procedure_code",
    "in_proc",
    "in_recv",
    "received_at",
    "due_at",
    "finished",
    "end_at",
    "end_kind",
    "supplement_requests",
    "pause_seconds",
    "on_time",
    "late_reason",
    "online",
    "channel_counted",
    "fee_bearing",
    "paid_online",
    "e_result",
    "digitised",
    "reused",
    "store_linked",
    "population_data",
    "has_petition",
    "satisfied",
    "online_with_e_result",
)
"""The output columns of :func:`dossier_facts_sql`, in order."""

END_KINDS: tuple[str, ...] = (
    "terminal_9",
    "terminal_10",
    "terminal_8",
    "terminal_3",
    "terminal_7",
    "supplement_pending",
    "open",
)
LATE_REASONS: tuple[str, ...] = ("multiple_supplements", "after_due", "over_max_time")

# DATA_FORMATS §1.3: the terminal codes of D-pop-1 / D-2.1-1 (status 5 is a wait, not an end).
_TERMINAL = "('3', '7', '8', '9', '10')"
# D-2.1-6 units the engine knows; any other time_unit is not a usable time (D-2.1-8).
_TIME_UNITS = "('working_day', 'working_hour', 'hour', 'day', 'week', 'month')"


FINAL_PERIOD = "*"
"""``period_id`` of a dossier's final facts inside :func:`dossier_facts_sql` (never in its output)."""
_FINAL_END = "CAST('9999-12-31 00:00:00' AS TIMESTAMP)"
_FINAL_OPEN_END = "CAST('9999-12-30 23:59:59' AS TIMESTAMP)"
# Period-independent flags of one dossier, from a relation {t} with the dossier_static columns.
_STATIC_FLAGS = """CASE WHEN {t}.channel = '2' THEN TRUE ELSE FALSE END AS online,                 -- 3.3
           CASE WHEN {t}.channel IS NULL OR {t}.channel IN ('1', '2', '3')
                THEN TRUE ELSE FALSE END AS channel_counted,                              -- D-3.3-1
           {t}.requires_paper_result,
           CASE WHEN {t}.has_fee AND {t}.fee_state <> 'all_zero'
                THEN TRUE ELSE FALSE END AS fee_bearing,                                  -- D-3.6-1..3
           CASE WHEN {t}.payment_code IN ('1', '2') THEN TRUE ELSE FALSE END AS paid_online,  -- D-3.6-4
           {t}.has_component_file, {t}.has_digitised_component, {t}.has_store_component, {t}.has_result_file,
           {t}.has_result_code, {t}.result_synced_to_store, {t}.vneid, {t}.disliked, {t}.population_db_linked"""


_ROUTE = """CASE WHEN r.received_at >= p.start_at THEN TRUE ELSE FALSE END AS in_recv,
           CASE
               WHEN r.first_terminal_at IS NOT NULL AND r.last_known_at < p.end_at AND r.last_known_at <= p.as_of_at
                   THEN 'settled'
               WHEN r.due_at IS NOT NULL
                    AND (r.first_known_at IS NULL OR r.first_known_at >= p.end_at OR r.first_known_at > p.as_of_at)
                   THEN 'unknown'
               ELSE 'judged'
           END AS route"""
_MEMBER = """r.received_at < p.end_at AND r.received_at <= p.as_of_at
     AND (r.received_at >= p.start_at
          OR r.first_terminal_at IS NULL
          OR r.first_terminal_at >= p.start_at
          OR r.first_terminal_at > p.as_of_at)"""
_CANDIDATES = f"""candidates AS (
    SELECT p.period_id, p.start_at, p.end_at, p.as_of_at, p.open_end_at, r.dossier_id, r.received_at,
           {_ROUTE}
    FROM received r
    JOIN period_structure p
      ON {_MEMBER}
),"""
# The compact output needs only the 'judged' candidates: two range joins (each bounded below and above) find
# a superset of them, routed as above. With a due date, a judged row has something known at the horizon
# (K < E) and not everything (L >= E, L > A, or never finished), so K < E and L' >= min(E, A); without one,
# every row is judged and membership gives r < E and max(r, ft') >= min(S, A) (' = never when unknown).
_NEVER_AT = "CAST('9999-12-31 00:00:00' AS TIMESTAMP)"
_JUDGED_CANDIDATES = f"""candidates AS (
    SELECT p.period_id, p.start_at, p.end_at, p.as_of_at, p.open_end_at, r.dossier_id, r.received_at,
           {_ROUTE}
    FROM (
        SELECT x.*, x.first_known_at AS lo,
               CASE WHEN x.first_terminal_at IS NULL THEN {_NEVER_AT} ELSE x.last_known_at END AS hi
        FROM received x WHERE x.due_at IS NOT NULL AND x.first_known_at IS NOT NULL
    ) r
    JOIN (SELECT *, CASE WHEN as_of_at < end_at THEN as_of_at ELSE end_at END AS floor_at FROM period_structure) p
      ON r.lo < p.end_at AND r.hi >= p.floor_at
    WHERE {_MEMBER}
    UNION ALL
    SELECT p.period_id, p.start_at, p.end_at, p.as_of_at, p.open_end_at, r.dossier_id, r.received_at,
           {_ROUTE}
    FROM (
        SELECT x.*, x.received_at AS lo,
               CASE WHEN x.first_terminal_at IS NULL OR x.first_terminal_at > x.received_at
                    THEN COALESCE(x.first_terminal_at, {_NEVER_AT}) ELSE x.received_at END AS hi
        FROM received x WHERE x.due_at IS NULL
    ) r
    JOIN (SELECT *, CASE WHEN as_of_at < start_at THEN as_of_at ELSE start_at END AS floor_at
          FROM period_structure) p
      ON r.lo < p.end_at AND r.hi >= p.floor_at
    WHERE {_MEMBER}
),"""

# Flags derived from the _STATIC_FLAGS columns (unqualified), the same in every row of a dossier.
_DERIVED_FLAGS = """CASE WHEN requires_paper_result AND has_result_file THEN TRUE ELSE FALSE END AS e_result,  -- 4.1
        -- 4.2 (D-4.2-1): the paper-result qualifier applies to the result file only
        CASE WHEN has_component_file AND (has_result_file OR NOT requires_paper_result)
             THEN TRUE ELSE FALSE END AS digitised,
        has_digitised_component AS reused,                                                    -- 4.3
        CASE WHEN has_store_component OR result_synced_to_store THEN TRUE ELSE FALSE END AS store_linked,  -- 4.4
        -- 4.5b
        CASE WHEN vneid OR has_store_component OR population_db_linked THEN TRUE ELSE FALSE END AS population_data"""
_ONLINE_WITH_E_RESULT = """CASE WHEN online AND (NOT requires_paper_result OR (has_result_file AND has_result_code))
             THEN TRUE ELSE FALSE END AS online_with_e_result"""


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


Output = Literal["rows", "compact", "bounds"]
"""What :func:`dossier_facts_sql` returns: every (period, dossier) row, or the compact form of the same rows."""

BOUNDS_COLUMNS: tuple[str, ...] = (
    "dossier_id",
    "unit_code",
    "procedure_code",
    "received_at",
    "due_at",
    "first_terminal_at",
    "first_known_at",
    "last_known_at",
    "online",
    "channel_counted",
    "fee_bearing",
    "paid_online",
    "e_result",
    "digitised",
    "reused",
    "store_linked",
    "population_data",
    "disliked",
    "online_with_e_result",
)
"""Columns of the ``bounds`` output: a received dossier's judging-instant bounds and period-independent flags."""


def dossier_facts_sql(
    dialect: Dialect = DUCKDB,
    population_db_codes: Sequence[str] = ("1",),
    scope_table: str | None = None,
    output: Output = "rows",
    scope_prefix: str | None = None,
) -> str:
    """The SELECT producing one fact row per (period, dossier) of P_proc ∪ P_recv (see the module doc).

    ``population_db_codes`` is the set of ``MaCSDL`` codes meaning "CSDL quốc gia về dân cư" (D-4.5b-1).
    ``scope_table`` names a table with a ``dossier_id`` column: only those dossiers are computed (the
    incremental path); each dossier's facts depend on its own records only, so the rows are identical.
    ``scope_prefix`` (with ``scope_table``): the scoped dossiers' rows of each table of :data:`SCOPED_TABLES` are
    already copied to a table named prefix + table (``LiveIndex`` copies them once per update); those are read.

    ``output="compact"`` returns only the rows that cannot be derived from a dossier's bounds: the 'judged'
    rows and one final-facts row per dossier that may be settled (``period_id = '*'``, ``in_recv`` FALSE);
    ``output="bounds"`` returns one row per received dossier (:data:`BOUNDS_COLUMNS`). Together they give
    every row of ``"rows"`` (:mod:`chiso766.engine.dossier_counts` counts them without writing them out).
    """
    if output not in ("rows", "compact", "bounds"):
        raise ValueError(f"output must be rows, compact or bounds, got {output!r}")
    return _scoped(_dossier_facts_sql(dialect, population_db_codes, output), scope_table, scope_prefix)


def dossier_bounds_sql(
    dialect: Dialect = DUCKDB,
    population_db_codes: Sequence[str] = ("1",),
    scope_table: str | None = None,
    scope_prefix: str | None = None,
) -> str:
    """:func:`dossier_facts_sql` with ``output="bounds"``."""
    return dossier_facts_sql(dialect, population_db_codes, scope_table, output="bounds", scope_prefix=scope_prefix)


SCOPED_TABLES: tuple[str, ...] = ("dossiers", "dossier_events", "dossier_supplements", "dossier_databases", "petitions")
"""The tables a dossier's facts are read from, each with a ``dossier_id`` column."""


def _scoped(sql: str, scope_table: str | None, scope_prefix: str | None = None) -> str:
    """Read the dossier tables through CTEs restricted to ``scope_table``'s dossiers (plain tables when None),
    or through the copies named ``scope_prefix`` + table when given."""
    if scope_table is None:
        return sql
    ctes = []
    for table in SCOPED_TABLES:
        if scope_prefix is not None:
            if not scope_prefix.replace("_", "").isalnum():
                raise ValueError(f"not a plain table prefix: {scope_prefix!r}")
            ctes.append(f"scoped_{table} AS (SELECT * FROM {scope_prefix}{table})")
            continue
        ctes.append(
            f"scoped_{table} AS (SELECT * FROM {table} WHERE dossier_id IN (SELECT dossier_id FROM {scope_table}))"
        )
    body = re.sub(r"\b(FROM|JOIN) (" + "|".join(SCOPED_TABLES) + r")\b", r"\1 scoped_\2", sql)
    head, rest = body.split("WITH\n", 1)
    return f"{head}WITH\n" + ",\n".join(ctes) + ",\n" + rest


def _dossier_facts_sql(dialect: Dialect, population_db_codes: Sequence[str], output: Output) -> str:
    ld = dialect.local_date
    # D-2.1-6 `Tháng`: the same day-of-month n whole months later (clamped); the fraction is added as 30 days.
    month_deadline = dialect.add_months("f.start_date", "CAST(FLOOR(t.amount) AS INT)")
    codes = sorted({c for c in population_db_codes})
    population_db_filter = f"db_code IN ({', '.join(_sql_string(c) for c in codes)})" if codes else "1 = 0"
    judged_sources = "SELECT * FROM flags" + (" UNION ALL SELECT * FROM unknown_flags" if output == "rows" else "")
    final_select = {"rows": _ROWS_SELECT, "compact": _COMPACT_SELECT, "bounds": _BOUNDS_SELECT}[output]
    candidates = _JUDGED_CANDIDATES if output == "compact" else _CANDIDATES
    return f"""
WITH
-- D-gen-3: a unit's MaDinhDanh matched to the MaHoSo prefix (one unit per id, deterministically).
unit_by_prefix AS (
    SELECT electronic_id, MIN(unit_code) AS unit_code
    FROM units
    WHERE electronic_id IS NOT NULL AND electronic_id <> ''
    GROUP BY electronic_id
),
-- D-2.1-1: terminal events from the progress history and from the dossier's own fields.
-- NgayKetThucXuLy is a '9' for current status 9/10, a 3/7/8 for those statuses, ignored otherwise;
-- NgayTra is a '10' and NgayTuChoi a '3' whatever the current status.
terminal_events AS (
    SELECT dossier_id, status, event_at FROM dossier_events WHERE status IN {_TERMINAL}
    UNION ALL
    SELECT dossier_id, CASE WHEN status IN ('9', '10') THEN '9' ELSE status END, processing_end_at
    FROM dossiers WHERE processing_end_at IS NOT NULL AND status IN {_TERMINAL}
    UNION ALL
    SELECT dossier_id, '10', returned_at FROM dossiers WHERE returned_at IS NOT NULL
    UNION ALL
    SELECT dossier_id, '3', rejected_at FROM dossiers WHERE rejected_at IS NOT NULL
),
-- Everything about a dossier that does not depend on the period, computed once and joined once.
first_petition AS (
    SELECT dossier_id, MIN(sent_at) AS first_sent_at
    FROM petitions WHERE dossier_id IS NOT NULL GROUP BY dossier_id
),
population_db AS (
    SELECT DISTINCT dossier_id FROM dossier_databases WHERE {population_db_filter}
),
dossier_static AS (
    SELECT d.dossier_id,
           CASE WHEN d.unit_code IS NOT NULL AND d.unit_code <> '' THEN d.unit_code
                ELSE ub.unit_code END AS unit_code,                                      -- D-gen-3
           d.procedure_code, d.due_at,
           CASE WHEN d.channel = '' THEN NULL ELSE d.channel END AS channel,
           d.payment_code, d.fee_state, d.has_component_file, d.has_digitised_component,
           d.has_store_component, d.has_result_file, d.has_result_code, d.result_synced_to_store,
           d.vneid, d.disliked,
           COALESCE(p.requires_paper_result, FALSE) AS requires_paper_result,             -- D-4.1-2
           COALESCE(p.has_fee, FALSE) AS has_fee,
           CASE WHEN pd.dossier_id IS NOT NULL THEN TRUE ELSE FALSE END AS population_db_linked,  -- D-4.5b-1
           fp.first_sent_at,                                                              -- D-5.4-1
           {ld("d.received_at")} AS start_date,
           cs.working_day_index AS start_working_day_index
    FROM dossiers d
    LEFT JOIN unit_by_prefix ub ON ub.electronic_id = d.id_prefix
    LEFT JOIN procedures p ON p.procedure_code = d.procedure_code
    LEFT JOIN population_db pd ON pd.dossier_id = d.dossier_id
    LEFT JOIN first_petition fp ON fp.dossier_id = d.dossier_id
    LEFT JOIN calendar cs ON cs.day = {ld("d.received_at")}
    WHERE d.received_at IS NOT NULL
),
listed_supplement_dossiers AS (
    SELECT DISTINCT dossier_id FROM dossier_supplements
),
-- D-2.1-4 history route: each run of consecutive status-5 entries is one request, completed by the first
-- later entry that is neither 5 nor terminal. Ties at one instant are ordered by numeric status code.
-- Only the histories it reads are windowed (whole partitions: a status-5 entry, no DanhSachHoSoBoSung).
history AS (
    SELECT dossier_id, status, event_at,
           LAG(status) OVER (
               PARTITION BY dossier_id ORDER BY event_at, LENGTH(status), status
           ) AS previous_status,
           MIN(CASE WHEN status <> '5' AND status NOT IN {_TERMINAL} THEN event_at END) OVER (
               PARTITION BY dossier_id ORDER BY event_at, LENGTH(status), status
               ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING
           ) AS resumed_at
    FROM dossier_events he
    WHERE he.dossier_id IN (SELECT dossier_id FROM dossier_events WHERE status = '5')
      AND NOT EXISTS (SELECT 1 FROM listed_supplement_dossiers l WHERE l.dossier_id = he.dossier_id)
),
-- D-2.1-4: DanhSachHoSoBoSung when the dossier has any entry, else the history; never both.
supplement_requests_raw AS (
    SELECT dossier_id, requested_at, completed_at FROM dossier_supplements
    UNION ALL
    SELECT h.dossier_id, h.event_at, h.resumed_at
    FROM history h
    LEFT JOIN listed_supplement_dossiers l ON l.dossier_id = h.dossier_id
    WHERE l.dossier_id IS NULL AND h.status = '5' AND (h.previous_status IS NULL OR h.previous_status <> '5')
),
-- Pause lengths in every unit D-2.1-6 needs, computed once per request (negative spans count as 0).
supplement_requests AS (
    SELECT s.dossier_id, s.requested_at, s.completed_at,
           CASE WHEN s.completed_at > s.requested_at
                THEN {dialect.seconds_between("s.requested_at", "s.completed_at")} ELSE 0 END AS pause_seconds,
           CASE WHEN s.completed_at > s.requested_at
                THEN {dialect.days_between(ld("s.requested_at"), ld("s.completed_at"))} ELSE 0 END AS pause_days,
           CASE WHEN cc.working_day_index > cr.working_day_index
                THEN cc.working_day_index - cr.working_day_index ELSE 0 END AS pause_working_days
    FROM supplement_requests_raw s
    LEFT JOIN calendar cr ON cr.day = {ld("s.requested_at")}
    LEFT JOIN calendar cc ON cc.day = {ld("s.completed_at")}
),
-- Judging-instant bounds (see "Cost shape"): every instant a horizon cuts at (terminal events, supplement
-- requests and completions, the first PAKN). first_terminal_at decides D-pop-1's carry-over; before
-- first_known_at a horizon knows nothing but the reception; from last_known_at on it knows everything.
known_bounds AS (
    SELECT dossier_id,
           MIN(CASE WHEN kind = 1 THEN known_at END) AS first_terminal_at,
           MIN(CASE WHEN kind < 3 THEN known_at END) AS first_known_at,
           MAX(known_at) AS last_known_at
    FROM (
        SELECT dossier_id, 1 AS kind, event_at AS known_at FROM terminal_events
        UNION ALL SELECT dossier_id, 2, requested_at FROM supplement_requests_raw
        UNION ALL SELECT dossier_id, 3, completed_at FROM supplement_requests_raw
        UNION ALL SELECT dossier_id, 2, first_sent_at FROM first_petition
    ) x
    GROUP BY dossier_id
),
-- Dossiers without NgayTiepNhan are in no population (D-pop-1, D-2.1-10).
received AS (
    SELECT d.dossier_id, d.received_at, d.due_at, kb.first_terminal_at, kb.first_known_at, kb.last_known_at
    FROM dossiers d
    LEFT JOIN known_bounds kb ON kb.dossier_id = d.dossier_id
    WHERE d.received_at IS NOT NULL
),
-- D-pop-1 / D-pop-2 / D-gen-1: received and known at the horizon; in the period, or carried over (no known
-- terminal event before the period start; a status-5 wait is not terminal). P_recv is a subset of P_proc.
-- route: 'settled' = finished and everything known at the horizon (the facts are the dossier's final facts,
-- judged once); 'unknown' = nothing but the reception known and a due date (open, judged inline);
-- 'judged' = the rest, judged at the period's horizon.
{candidates}
period_bounds AS (
    SELECT MIN(start_at) AS min_start_at, MAX(end_at) AS max_end_at, MAX(as_of_at) AS max_as_of_at
    FROM period_structure
),
-- What the per-horizon judging below runs on: the 'judged' rows, plus one row per finished dossier that may
-- be settled in some period, judged at an unbounded horizon (period_id '*'; {_FINAL_END} as end and as-of).
judge_input AS (
    SELECT period_id, end_at, as_of_at, open_end_at, dossier_id, received_at, in_recv
    FROM candidates WHERE route = 'judged'
    UNION ALL
    SELECT '{FINAL_PERIOD}' AS period_id, {_FINAL_END} AS end_at, {_FINAL_END} AS as_of_at,
           {_FINAL_OPEN_END} AS open_end_at, r.dossier_id, r.received_at, FALSE AS in_recv
    FROM received r CROSS JOIN period_bounds pb
    WHERE r.first_terminal_at IS NOT NULL
      AND r.last_known_at < pb.max_end_at AND r.last_known_at <= pb.max_as_of_at
      AND r.received_at < pb.max_end_at
      AND (r.received_at >= pb.min_start_at OR r.first_terminal_at >= pb.min_start_at)
),
-- Latest known event of each terminal status at the horizon (D-gen-1, D-2.1-2).
terminal_known AS (
    SELECT c.period_id, c.dossier_id,
           MAX(CASE WHEN t.status = '9' THEN t.event_at END) AS at_9,
           MAX(CASE WHEN t.status = '10' THEN t.event_at END) AS at_10,
           MAX(CASE WHEN t.status = '8' THEN t.event_at END) AS at_8,
           MAX(CASE WHEN t.status = '3' THEN t.event_at END) AS at_3,
           MAX(CASE WHEN t.status = '7' THEN t.event_at END) AS at_7
    FROM judge_input c
    JOIN terminal_events t
      ON t.dossier_id = c.dossier_id AND t.event_at < c.end_at AND t.event_at <= c.as_of_at
    GROUP BY c.period_id, c.dossier_id
),
-- D-2.1-2 priority 9 > 10 > (8 = 3) > 7; 8 and 3 rank equal, so the later of the two decides (8 on a tie).
ends AS (
    SELECT c.*,
           CASE
               WHEN k.at_9 IS NOT NULL THEN k.at_9
               WHEN k.at_10 IS NOT NULL THEN k.at_10
               WHEN k.at_8 IS NOT NULL AND (k.at_3 IS NULL OR k.at_8 >= k.at_3) THEN k.at_8
               WHEN k.at_3 IS NOT NULL THEN k.at_3
               ELSE k.at_7
           END AS terminal_at,
           CASE
               WHEN k.at_9 IS NOT NULL THEN 'terminal_9'
               WHEN k.at_10 IS NOT NULL THEN 'terminal_10'
               WHEN k.at_8 IS NOT NULL AND (k.at_3 IS NULL OR k.at_8 >= k.at_3) THEN 'terminal_8'
               WHEN k.at_3 IS NOT NULL THEN 'terminal_3'
               WHEN k.at_7 IS NOT NULL THEN 'terminal_7'
           END AS terminal_kind
    FROM judge_input c
    LEFT JOIN terminal_known k ON k.period_id = c.period_id AND k.dossier_id = c.dossier_id
),
-- D-2.1-3 / D-2.1-5 per period: requests known at the horizon and not after the terminal end; the pause of
-- completed requests whose completion is known and not after the end.
supplements_known AS (
    SELECT x.period_id, x.dossier_id,
           COUNT(*) AS request_count,
           SUM(CASE WHEN x.completion_known THEN 0 ELSE 1 END) AS pending_count,
           MAX(CASE WHEN x.completion_known THEN NULL ELSE x.requested_at END) AS pending_at,
           SUM(CASE WHEN x.completion_known AND x.completed_at <= x.end_ref THEN x.pause_seconds ELSE 0 END)
               AS pause_seconds,
           SUM(CASE WHEN x.completion_known AND x.completed_at <= x.end_ref THEN x.pause_days ELSE 0 END)
               AS pause_days,
           SUM(CASE WHEN x.completion_known AND x.completed_at <= x.end_ref THEN x.pause_working_days ELSE 0 END)
               AS pause_working_days
    FROM (
        SELECT e.period_id, e.dossier_id, s.requested_at, s.completed_at,
               s.pause_seconds, s.pause_days, s.pause_working_days,
               COALESCE(e.terminal_at, e.open_end_at) AS end_ref,
               CASE WHEN s.completed_at IS NOT NULL AND s.completed_at < e.end_at AND s.completed_at <= e.as_of_at
                    THEN TRUE ELSE FALSE END AS completion_known
        FROM ends e
        JOIN supplement_requests s
          ON s.dossier_id = e.dossier_id AND s.requested_at < e.end_at AND s.requested_at <= e.as_of_at
         AND (e.terminal_at IS NULL OR s.requested_at <= e.terminal_at)
    ) x
    GROUP BY x.period_id, x.dossier_id
),
-- D-2.1-5: terminal time; else a single request still pending gives its time; else open (D-gen-1).
judged AS (
    SELECT e.period_id, e.dossier_id, e.received_at, e.end_at AS period_end_at, e.as_of_at, e.in_recv,
           CASE WHEN e.terminal_at IS NOT NULL THEN TRUE ELSE FALSE END AS finished,
           CASE
               WHEN e.terminal_at IS NOT NULL THEN e.terminal_at
               WHEN sk.request_count = 1 AND sk.pending_count = 1 THEN sk.pending_at
               ELSE e.open_end_at
           END AS end_at,
           CASE
               WHEN e.terminal_at IS NOT NULL THEN e.terminal_kind
               WHEN sk.request_count = 1 AND sk.pending_count = 1 THEN 'supplement_pending'
               ELSE 'open'
           END AS end_kind,
           COALESCE(sk.request_count, 0) AS supplement_requests,
           COALESCE(sk.pause_seconds, 0) AS pause_seconds,
           COALESCE(sk.pause_days, 0) AS pause_days,
           COALESCE(sk.pause_working_days, 0) AS pause_working_days
    FROM ends e
    LEFT JOIN supplements_known sk ON sk.period_id = e.period_id AND sk.dossier_id = e.dossier_id
),
facts AS (
    SELECT j.*, ds.unit_code, ds.procedure_code, ds.due_at, ds.channel, ds.payment_code, ds.fee_state,
           ds.has_component_file, ds.has_digitised_component, ds.has_store_component, ds.has_result_file,
           ds.has_result_code, ds.result_synced_to_store, ds.vneid, ds.disliked, ds.requires_paper_result,
           ds.has_fee, ds.population_db_linked, ds.first_sent_at, ds.start_date, ds.start_working_day_index,
           {ld("j.end_at")} AS end_date,
           ce.working_day_index AS end_working_day_index
    FROM judged j
    JOIN dossier_static ds ON ds.dossier_id = j.dossier_id
    LEFT JOIN calendar ce ON ce.day = {ld("j.end_at")}
),
-- D-2.1-7: usable TTHC times (known unit, amount > 0); an entry without a channel applies to every channel.
usable_times AS (
    SELECT procedure_code, channel, amount, time_unit
    FROM procedure_times
    WHERE amount > 0 AND time_unit IN {_TIME_UNITS}
),
time_channels AS (
    SELECT DISTINCT procedure_code, channel FROM usable_times WHERE channel IS NOT NULL
),
-- D-2.1-6 / D-2.1-7 / D-2.1-8: without NgayHenTra, on time iff ANY applicable entry is met (most lenient).
-- Only needed for dossiers with no NgayHenTra and at most one supplement request (more is late anyway).
max_time_check AS (
    SELECT f.period_id, f.dossier_id,
           MAX(CASE WHEN (
               CASE t.time_unit
                   WHEN 'working_day' THEN
                       (CASE WHEN f.end_working_day_index > f.start_working_day_index
                             THEN f.end_working_day_index - f.start_working_day_index ELSE 0 END)
                       - f.pause_working_days <= t.amount
                   WHEN 'working_hour' THEN
                       (CASE WHEN f.end_working_day_index > f.start_working_day_index
                             THEN f.end_working_day_index - f.start_working_day_index ELSE 0 END)
                       - f.pause_working_days <= t.amount / 8
                   WHEN 'hour' THEN
                       {dialect.seconds_between("f.received_at", "f.end_at")} - f.pause_seconds <= t.amount * 3600
                   WHEN 'day' THEN
                       {dialect.days_between("f.start_date", "f.end_date")} - f.pause_days <= t.amount
                   WHEN 'week' THEN
                       {dialect.days_between("f.start_date", "f.end_date")} - f.pause_days <= t.amount * 7
                   WHEN 'month' THEN
                       {dialect.days_between(month_deadline, "f.end_date")}
                       - f.pause_days <= (t.amount - FLOOR(t.amount)) * 30
               END) THEN 1 ELSE 0 END) AS met,
           COUNT(*) AS entries
    FROM facts f
    JOIN usable_times t ON t.procedure_code = f.procedure_code
    LEFT JOIN time_channels tc
      ON tc.procedure_code = f.procedure_code AND tc.channel = COALESCE(f.channel, '1')
    WHERE f.due_at IS NULL AND f.supplement_requests <= 1
      AND (t.channel IS NULL OR t.channel = COALESCE(f.channel, '1') OR tc.channel IS NULL)
      -- a day-based entry needs both dates in the working-day calendar; otherwise it is not usable
      AND (t.time_unit NOT IN ('working_day', 'working_hour')
           OR (f.start_working_day_index IS NOT NULL AND f.end_working_day_index IS NOT NULL))
    GROUP BY f.period_id, f.dossier_id
),
flags AS (
    SELECT f.period_id, f.dossier_id, f.unit_code, f.procedure_code, f.in_recv, f.received_at, f.due_at,
           f.finished, f.end_at, f.end_kind, f.supplement_requests, f.pause_seconds,
           CASE
               WHEN f.supplement_requests > 1 THEN 'multiple_supplements'                   -- D-2.1-3
               WHEN f.due_at IS NOT NULL THEN                                                -- D-2.1-10
                   CASE WHEN {dialect.seconds_between("f.due_at", "f.end_at")} - f.pause_seconds <= 0
                        THEN NULL ELSE 'after_due' END
               WHEN m.met = 0 THEN 'over_max_time'                                           -- D-2.1-6
               ELSE NULL                                                                     -- D-2.1-8
           END AS late_reason,
           {_STATIC_FLAGS.format(t="f")},
           CASE WHEN f.first_sent_at IS NOT NULL AND f.first_sent_at < f.period_end_at
                     AND f.first_sent_at <= f.as_of_at
                THEN TRUE ELSE FALSE END AS has_petition                                  -- D-5.4-1
    FROM facts f
    LEFT JOIN max_time_check m ON m.period_id = f.period_id AND m.dossier_id = f.dossier_id
),
-- The 'unknown' rows: at the horizon nothing is known but the reception, so the judging above reduces to an
-- open dossier (no terminal event, no supplement request, no PAKN) ending at open_end_at with a due date.
unknown_flags AS (
    SELECT c.period_id, c.dossier_id, ds.unit_code, ds.procedure_code, c.in_recv, c.received_at, ds.due_at,
           FALSE AS finished, c.open_end_at AS end_at, 'open' AS end_kind, 0 AS supplement_requests,
           0 AS pause_seconds,
           CASE WHEN {dialect.seconds_between("ds.due_at", "c.open_end_at")} - 0 <= 0
                THEN NULL ELSE 'after_due' END AS late_reason,                           -- D-2.1-10
           {_STATIC_FLAGS.format(t="ds")},
           FALSE AS has_petition                                                         -- D-5.4-1
    FROM candidates c
    JOIN dossier_static ds ON ds.dossier_id = c.dossier_id
    WHERE c.route = 'unknown'
),
judged_flags AS (
    SELECT x.*, CASE WHEN late_reason IS NULL THEN TRUE ELSE FALSE END AS on_time
    FROM ({judged_sources}) x
),
fact_rows AS (
    SELECT
        period_id,
        dossier_id,
        unit_code,
        procedure_code,
        TRUE AS in_proc,
        in_recv,
        received_at,
        due_at,
        finished,
        end_at,
        end_kind,
        CAST(supplement_requests AS BIGINT) AS supplement_requests,
        CAST(pause_seconds AS BIGINT) AS pause_seconds,
        on_time,
        late_reason,
        online,
        channel_counted,
        fee_bearing,
        paid_online,
        {_DERIVED_FLAGS},
        has_petition,
        CASE WHEN on_time AND NOT has_petition AND NOT disliked THEN TRUE ELSE FALSE END AS satisfied,  -- 5.4
        {_ONLINE_WITH_E_RESULT},
        CASE WHEN period_id = '{FINAL_PERIOD}' THEN dossier_id END AS final_dossier_id
    FROM judged_flags
)
{final_select}
"""


_ROWS_SELECT = """-- The final facts ('*') stand for every period where the dossier is settled (period, in_recv differ).
SELECT
    COALESCE(s.period_id, f.period_id) AS period_id,
    f.dossier_id, f.unit_code, f.procedure_code, f.in_proc,
    COALESCE(s.in_recv, f.in_recv) AS in_recv,
    f.received_at, f.due_at, f.finished, f.end_at, f.end_kind, f.supplement_requests, f.pause_seconds,
    f.on_time, f.late_reason, f.online, f.channel_counted, f.fee_bearing, f.paid_online, f.e_result,
    f.digitised, f.reused, f.store_linked, f.population_data, f.has_petition, f.satisfied,
    f.online_with_e_result
FROM fact_rows f
LEFT JOIN (SELECT period_id, dossier_id, in_recv FROM candidates WHERE route = 'settled') s
  ON s.dossier_id = f.final_dossier_id
WHERE f.final_dossier_id IS NULL OR s.dossier_id IS NOT NULL"""
_COMPACT_SELECT = f"""-- The 'judged' rows and the final facts ('*'); settled and unknown rows are derived from them.
SELECT {", ".join(DOSSIER_FACT_COLUMNS)}
FROM fact_rows"""
_BOUNDS_SELECT = f"""-- One row per received dossier: its judging-instant bounds and its period-independent flags.
SELECT dossier_id, unit_code, procedure_code, received_at, due_at, first_terminal_at, first_known_at,
       last_known_at, online, channel_counted, fee_bearing, paid_online,
       {_DERIVED_FLAGS},
       disliked,
       {_ONLINE_WITH_E_RESULT}
FROM (
    SELECT r.dossier_id, ds.unit_code, ds.procedure_code, r.received_at, r.due_at, r.first_terminal_at,
           r.first_known_at, r.last_known_at,
           {_STATIC_FLAGS.format(t="ds")}
    FROM received r
    JOIN dossier_static ds ON ds.dossier_id = r.dossier_id
) b"""
