"""Per-period PAKN facts for 5.2 PETITION_PROCESSING_ON_TIME and 5.3 PETITION_HANDLING_SATISFACTION.

:func:`petition_facts_sql` returns one plain SELECT (no UDFs; the non-portable bits come from
:mod:`chiso766.engine.dialect`) over ``period_structure``, ``petitions``, ``petition_events``, ``units``,
``unit_closure`` and ``calendar``. It yields one row per ``(period_id, petition_id)`` for each period and each
PAKN whose reception falls in the period; the counters aggregate these rows over a unit's subtree by
``holder_unit`` (only ``in_tree`` rows count anywhere).

Readings (INTERPRETATIONS):

- D-gen-1: an event is known for a period iff ``event_at < end_at AND event_at <= as_of_at``; day counts for an
  item still open use ``horizon_date`` (the local date of ``min(end_at - 1 s, as_of_at)``).
- D-5.2-1: the population (the same for 5.2 and 5.3) is keyed by the reception time ``reception_at`` =
  ``NgayGui`` or the latest clock-restarting transfer known at the horizon, in ``[start_at, end_at)`` and
  ``<= as_of_at``. A PAKN received in an earlier period is not carried over.
- D-5.2-2: the holder starts as ``petitions.unit_code`` and follows the known ``CHUYEN_XU_LY`` events in event
  order (a transfer without ``from_unit`` is sent by the current holder, INPUT_FORMAT). A transfer restarts the
  clock iff sender and receiver have different root units; a code missing from ``units`` (``VPCP``, a ministry,
  another province) is its own root. A PAKN held outside the tree at the horizon keeps its row with
  ``in_tree = FALSE`` and is counted nowhere (Contradictions 2: "not yet received").
- D-5.2-4: a ``DA_BO_SUNG`` restarts the clock (it is not a reception: the population is unchanged).
- D-5.2-3: the first closing event (``TU_CHOI``, ``YEU_CAU_BO_SUNG``, ``CHO_CONG_KHAI``, ``DA_CONG_KHAI``) at or
  after the clock start decides; limits 2 / 5 / 15 / 15 working days, counted after the clock-start day up to
  the event day (``calendar.working_day_index`` of local dates). A ``CHO_CONG_KHAI`` must then reach
  ``DA_CONG_KHAI`` within 2 working days, counted to the horizon day while unpublished. No closing event: in
  progress, on time iff the horizon day is within 15 working days of the clock start.
- D-5.3-1: ``satisfied`` = on time and not (dislikes > likes) and not raised again; likes and dislikes are used
  as given (no time slicing).

Choices beyond the D-ids (documented here and in the tests):

- A closing event exactly at the clock-start instant counts (``>=``); events at the same instant are ordered
  ``TU_CHOI``, ``YEU_CAU_BO_SUNG``, ``CHO_CONG_KHAI``, ``DA_CONG_KHAI``.
- The publication of a ``CHO_CONG_KHAI`` is the first known ``DA_CONG_KHAI`` at or after it.
- ``late_reason`` names the first failed check: ``handling_late`` wins over ``publish_late`` when both fail.
- A date outside the ``calendar`` table leaves the day counts, ``on_time``, ``late_reason`` and ``satisfied``
  NULL (never a guess; explain/check can flag such rows).
"""

from __future__ import annotations

from typing import Final

from chiso766.engine.dialect import DUCKDB, Dialect

__all__ = [
    "CLOSING_STATUSES",
    "LATE_REASONS",
    "LIMIT_HANDLING",
    "LIMIT_PUBLISH",
    "LIMIT_REJECT",
    "LIMIT_SUPPLEMENT_REQUEST",
    "PETITION_FACT_COLUMNS",
    "petition_facts_sql",
]

#: D-5.2-3 limits in working days.
LIMIT_REJECT: Final = 2
LIMIT_SUPPLEMENT_REQUEST: Final = 5
LIMIT_HANDLING: Final = 15
LIMIT_PUBLISH: Final = 2

#: Closing events in their tie-break order (D-5.2-3).
CLOSING_STATUSES: Final = ("TU_CHOI", "YEU_CAU_BO_SUNG", "CHO_CONG_KHAI", "DA_CONG_KHAI")

#: Values of ``late_reason`` besides NULL.
LATE_REASONS: Final = (
    "reject_late",
    "supplement_request_late",
    "handling_late",
    "publish_late",
    "in_progress_overdue",
)

#: Output columns, in order.
PETITION_FACT_COLUMNS: Final = (
    "period_id",
    "petition_id",
    "holder_unit",  # D-5.2-2: holder at the horizon
    "in_tree",  # holder_unit is a unit of units.json
    "reception_at",  # D-5.2-1: NgayGui or the latest clock-restarting transfer (UTC)
    "clock_start_at",  # reception_at or the latest DA_BO_SUNG, whichever is later (D-5.2-4)
    "closing_status",  # first closing event at or after the clock start; NULL = in progress
    "closing_at",
    "published_at",  # first DA_CONG_KHAI at or after a closing CHO_CONG_KHAI; NULL otherwise / unpublished
    "working_days",  # after the clock-start day up to the closing day (or the horizon day when in progress)
    "publish_working_days",  # CHO_CONG_KHAI day → publication day (or the horizon day); NULL otherwise
    "on_time",
    "late_reason",
    "disliked",
    "raised_again",
    "satisfied",
)


def _in_list(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def petition_facts_sql(dialect: Dialect = DUCKDB) -> str:
    """The SELECT of per-period PAKN facts (columns :data:`PETITION_FACT_COLUMNS`), see the module doc."""
    d = dialect
    closing_rank = "CASE k.status " + " ".join(f"WHEN '{s}' THEN {i}" for i, s in enumerate(CLOSING_STATUSES)) + " END"
    return f"""
WITH
-- root of every unit of the tree: its deepest ancestor (D-5.2-2)
unit_root AS (
    SELECT unit_code, root_code
    FROM (
        SELECT c.descendant AS unit_code, c.ancestor AS root_code,
               ROW_NUMBER() OVER (PARTITION BY c.descendant ORDER BY c.depth DESC, c.ancestor) AS rn
        FROM unit_closure c
    ) r
    WHERE rn = 1
),
-- PAKN that can belong to a period: sent before its end and known at its horizon (D-gen-1)
candidate AS (
    SELECT ps.period_id, ps.start_at, ps.end_at, ps.as_of_at, ps.horizon_date,
           p.petition_id, p.unit_code, p.sent_at, p.likes, p.dislikes, p.raised_again
    FROM period_structure ps
    JOIN petitions p ON p.sent_at < ps.end_at AND p.sent_at <= ps.as_of_at
),
-- events known at each period's horizon (D-gen-1)
known_event AS (
    SELECT c.period_id, e.petition_id, e.status, e.event_at, e.from_unit, e.to_unit
    FROM candidate c
    JOIN petition_events e
      ON e.petition_id = c.petition_id AND e.event_at < c.end_at AND e.event_at <= c.as_of_at
),
-- transfers in event order; a missing sender is the current holder (INPUT_FORMAT, D-5.2-2)
transfer AS (
    SELECT k.period_id, k.petition_id, k.event_at, k.to_unit,
           COALESCE(
               k.from_unit,
               LAG(k.to_unit) OVER (PARTITION BY k.period_id, k.petition_id ORDER BY k.event_at),
               c.unit_code
           ) AS from_unit,
           ROW_NUMBER() OVER (PARTITION BY k.period_id, k.petition_id ORDER BY k.event_at DESC) AS rn_last
    FROM known_event k
    JOIN candidate c ON c.period_id = k.period_id AND c.petition_id = k.petition_id
    WHERE k.status = 'CHUYEN_XU_LY' AND k.to_unit IS NOT NULL
),
-- holder at the horizon: the receiver of the latest known transfer (D-5.2-2)
last_transfer AS (
    SELECT period_id, petition_id, to_unit AS holder_unit
    FROM transfer
    WHERE rn_last = 1
),
-- transfers between different root units restart the clock (D-5.2-1, D-5.2-2)
restart_transfer AS (
    SELECT t.period_id, t.petition_id, MAX(t.event_at) AS restarted_at
    FROM transfer t
    LEFT JOIN unit_root rf ON rf.unit_code = t.from_unit
    LEFT JOIN unit_root rt ON rt.unit_code = t.to_unit
    WHERE COALESCE(rf.root_code, t.from_unit) <> COALESCE(rt.root_code, t.to_unit)
    GROUP BY t.period_id, t.petition_id
),
-- the citizen's supplement restarts the clock (D-5.2-4)
last_supplement AS (
    SELECT period_id, petition_id, MAX(event_at) AS supplemented_at
    FROM known_event
    WHERE status = 'DA_BO_SUNG'
    GROUP BY period_id, petition_id
),
clocked AS (
    SELECT c.*,
           COALESCE(lt.holder_unit, c.unit_code) AS holder_unit,
           COALESCE(rt.restarted_at, c.sent_at) AS reception_at,
           CASE
               WHEN ls.supplemented_at > COALESCE(rt.restarted_at, c.sent_at) THEN ls.supplemented_at
               ELSE COALESCE(rt.restarted_at, c.sent_at)
           END AS clock_start_at
    FROM candidate c
    LEFT JOIN last_transfer lt ON lt.period_id = c.period_id AND lt.petition_id = c.petition_id
    LEFT JOIN restart_transfer rt ON rt.period_id = c.period_id AND rt.petition_id = c.petition_id
    LEFT JOIN last_supplement ls ON ls.period_id = c.period_id AND ls.petition_id = c.petition_id
),
-- the population: reception in [start_at, end_at) and known at the horizon (D-5.2-1)
population AS (
    SELECT *
    FROM clocked
    WHERE reception_at >= start_at AND reception_at < end_at AND reception_at <= as_of_at
),
-- the first closing event at or after the clock start (D-5.2-3)
closing AS (
    SELECT period_id, petition_id, status AS closing_status, event_at AS closing_at
    FROM (
        SELECT k.period_id, k.petition_id, k.status, k.event_at,
               ROW_NUMBER() OVER (
                   PARTITION BY k.period_id, k.petition_id ORDER BY k.event_at, {closing_rank}
               ) AS rn
        FROM known_event k
        JOIN population p ON p.period_id = k.period_id AND p.petition_id = k.petition_id
        WHERE k.status IN ({_in_list(CLOSING_STATUSES)}) AND k.event_at >= p.clock_start_at
    ) f
    WHERE rn = 1
),
-- publication of a closing CHO_CONG_KHAI: the first known DA_CONG_KHAI at or after it (D-5.2-3)
publication AS (
    SELECT k.period_id, k.petition_id, MIN(k.event_at) AS published_at
    FROM known_event k
    JOIN closing cl ON cl.period_id = k.period_id AND cl.petition_id = k.petition_id
    WHERE cl.closing_status = 'CHO_CONG_KHAI' AND k.status = 'DA_CONG_KHAI' AND k.event_at >= cl.closing_at
    GROUP BY k.period_id, k.petition_id
),
measured AS (
    SELECT p.period_id, p.petition_id, p.holder_unit, p.reception_at, p.clock_start_at,
           cl.closing_status, cl.closing_at, pb.published_at,
           p.likes, p.dislikes, p.raised_again,
           u.unit_code IS NOT NULL AS in_tree,
           day_end.working_day_index - day_start.working_day_index AS working_days,
           CASE
               WHEN cl.closing_status = 'CHO_CONG_KHAI'
               THEN day_publish.working_day_index - day_end.working_day_index
           END AS publish_working_days
    FROM population p
    LEFT JOIN closing cl ON cl.period_id = p.period_id AND cl.petition_id = p.petition_id
    LEFT JOIN publication pb ON pb.period_id = p.period_id AND pb.petition_id = p.petition_id
    LEFT JOIN units u ON u.unit_code = p.holder_unit
    LEFT JOIN calendar day_start ON day_start.day = {d.local_date("p.clock_start_at")}
    LEFT JOIN calendar day_end
      ON day_end.day = CASE
             WHEN cl.closing_at IS NULL THEN p.horizon_date
             ELSE {d.local_date("cl.closing_at")}
         END
    LEFT JOIN calendar day_publish
      ON day_publish.day = CASE
             WHEN pb.published_at IS NULL THEN p.horizon_date
             ELSE {d.local_date("pb.published_at")}
         END
),
judged AS (
    SELECT m.*,
           CASE m.closing_status
               WHEN 'TU_CHOI' THEN m.working_days <= {LIMIT_REJECT}
               WHEN 'YEU_CAU_BO_SUNG' THEN m.working_days <= {LIMIT_SUPPLEMENT_REQUEST}
               WHEN 'DA_CONG_KHAI' THEN m.working_days <= {LIMIT_HANDLING}
               WHEN 'CHO_CONG_KHAI'
               THEN m.working_days <= {LIMIT_HANDLING} AND m.publish_working_days <= {LIMIT_PUBLISH}
               ELSE m.working_days <= {LIMIT_HANDLING}
           END AS on_time,
           CASE
               WHEN m.closing_status = 'TU_CHOI' AND m.working_days > {LIMIT_REJECT} THEN 'reject_late'
               WHEN m.closing_status = 'YEU_CAU_BO_SUNG' AND m.working_days > {LIMIT_SUPPLEMENT_REQUEST}
               THEN 'supplement_request_late'
               WHEN m.closing_status IN ('CHO_CONG_KHAI', 'DA_CONG_KHAI') AND m.working_days > {LIMIT_HANDLING}
               THEN 'handling_late'
               WHEN m.closing_status = 'CHO_CONG_KHAI' AND m.publish_working_days > {LIMIT_PUBLISH}
               THEN 'publish_late'
               WHEN m.closing_status IS NULL AND m.working_days > {LIMIT_HANDLING} THEN 'in_progress_overdue'
           END AS late_reason,
           m.dislikes > m.likes AS disliked
    FROM measured m
)
SELECT period_id, petition_id, holder_unit, in_tree, reception_at, clock_start_at,
       closing_status, closing_at, published_at, working_days, publish_working_days,
       on_time, late_reason, disliked, raised_again,
       on_time AND NOT disliked AND NOT raised_again AS satisfied
FROM judged
"""
