"""``facts_catalogue.py`` as it was before closed periods were matched by day and 1.2's latest QĐCB was searched in
its window only (kept only for ``test_engine_equivalence.py``)."""

# ruff: noqa
# mypy: ignore-errors

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from chiso766.engine.dialect import DUCKDB, Dialect

__all__ = [
    "CATALOGUE_INDICATORS",
    "DOSSIER_DRIVEN",
    "MISS_REASONS",
    "STATIC_PERIOD",
    "USAGE_COUNTS",
    "Part",
    "catalogue_counts_sql",
    "catalogue_facts_sql",
    "catalogue_static_sql",
    "dossier_arrivals_sql",
    "dossier_usage_sql",
]

CATALOGUE_INDICATORS: tuple[str, ...] = (
    "PUBLISH_ON_TIME",
    "PUBLIC_UPDATE_ON_TIME",
    "PUBLIC_CONTENT_FULL",
    "ONLINE_PROCEDURES",
    "ONLINE_SERVICES_USED",
    "PAYMENT_PROCEDURES_INTEGRATED",
    "PAYMENT_PROCEDURES_ONLINE",
    "CITIZEN_DATA_CONNECTED_FORMALITY",
)

MISS_REASONS: dict[str, tuple[str, ...]] = {
    "PUBLISH_ON_TIME": ("published_late", "no_effective_date", "date_outside_calendar"),
    "PUBLIC_UPDATE_ON_TIME": (
        "published_late",
        "not_made_public",
        "no_decision_before_publication",
        "date_outside_calendar",
    ),
    "PUBLIC_CONTENT_FULL": ("components_incomplete", "components_unknown"),
    "ONLINE_PROCEDURES": ("no_public_service",),
    "ONLINE_SERVICES_USED": ("no_online_dossier",),
    "PAYMENT_PROCEDURES_INTEGRATED": ("no_dossier_in_period", "no_nonzero_fee_dossier"),
    "PAYMENT_PROCEDURES_ONLINE": ("no_online_payment",),
    "CITIZEN_DATA_CONNECTED_FORMALITY": ("no_dossier_in_period", "no_population_data_use"),
}
"""The ``reason`` codes each indicator can give for a row that is not a hit."""

STATIC_PERIOD = "*"
DOSSIER_DRIVEN: tuple[str, ...] = (
    "ONLINE_SERVICES_USED",
    "PAYMENT_PROCEDURES_INTEGRATED",
    "PAYMENT_PROCEDURES_ONLINE",
    "CITIZEN_DATA_CONNECTED_FORMALITY",
)
"""Indicators whose dated rows depend on dossiers (of the item's own TTHC only) — the rest on the catalogue."""
"""``period_id`` of a static row: it belongs to every period of ``period_structure``."""

Part = Literal["all", "static", "dynamic", "dossier"]
"""Which rows :func:`catalogue_facts_sql` produces (see "Representation" in the module docstring)."""

_PARTS: tuple[Part, ...] = ("all", "static", "dynamic", "dossier")

_CURRENT = "COALESCE({t}.status, 'public') IN ('public', 'public_amended')"  # Cat-status


def _current(alias: str) -> str:
    return _CURRENT.format(t=alias)


def _sql_strings(values: Sequence[str]) -> str:
    """A SQL list of string literals (quotes doubled)."""
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


def _check_table_name(name: str) -> None:
    if not name.replace("_", "").isalnum():
        raise ValueError(f"not a plain table name: {name!r}")


ARRIVAL_COLUMNS: tuple[str, ...] = (
    "dossier_id",
    "unit_code",
    "procedure_code",
    "arrived_at",
    "received_at",
    "channel",
    "fee_state",
    "payment_code",
    "population_data",
)
"""Columns of :func:`dossier_arrivals_sql`."""

USAGE_COUNTS: dict[str, str] = {
    "n_arrived": "TRUE",
    "n_online": "a.channel = '2'",
    "n_fee": "t.has_fee",
    "n_fee_nonzero": "t.has_fee AND a.fee_state = 'nonzero'",
    "n_fee_payable": "t.has_fee AND a.fee_state <> 'all_zero'",
    "n_fee_paid_online": "t.has_fee AND a.fee_state <> 'all_zero' AND a.payment_code IN ('1', '2')",
    "n_received": "a.received_at IS NOT NULL",
    "n_received_population": "a.received_at IS NOT NULL AND a.population_data = 1",
}
"""The per-(period, unit, TTHC) dossier counts of :func:`dossier_usage_sql` and what each counts. Every other
count is ≤ ``n_arrived``, so a key whose ``n_arrived`` is 0 has no dossier and no row."""


def dossier_arrivals_sql(population_db_codes: Sequence[str] = ("1",), scope_table: str | None = None) -> str:
    """One SELECT (no WITH) of the "arrival facts" of every counted dossier: all the dossier-driven catalogue
    rows need to know about it (columns :data:`ARRIVAL_COLUMNS`).

    ``unit_code`` is Cat-dossier-unit's unit (only dossiers whose unit is a known unit and whose TTHC is given
    are listed: the others count nowhere); ``arrived_at`` is Cat-arrival's date (NgayTiepNhan, else
    NgayNopHoSo); ``population_data`` is 1 iff VNeID, a component from the store or a ``dossier_databases``
    code in ``population_db_codes`` (D-4.5b-1). ``scope_table`` (a table with a ``dossier_id`` column) limits
    the dossiers read to those ids. Reads ``dossiers``, ``dossier_databases`` and ``units``.
    """
    codes = tuple(population_db_codes)
    if any(not isinstance(c, str) for c in codes):
        raise ValueError(f"population_db_codes must be strings, got {codes!r}")
    population_filter = f"db_code IN ({_sql_strings(codes)})" if codes else "1 = 0"
    source = "dossiers"
    population = f"SELECT DISTINCT dossier_id FROM dossier_databases WHERE {population_filter}"
    if scope_table is not None:
        _check_table_name(scope_table)
        source = f"(SELECT * FROM dossiers WHERE dossier_id IN (SELECT dossier_id FROM {scope_table}))"
        population += f" AND dossier_id IN (SELECT dossier_id FROM {scope_table})"
    return f"""
SELECT db.dossier_id, db.unit_code, db.procedure_code, db.arrived_at, db.received_at, db.channel, db.fee_state,
       db.payment_code, db.population_data
FROM (
    SELECT d.dossier_id, COALESCE(NULLIF(d.unit_code, ''), e.unit_code) AS unit_code, d.procedure_code,
           COALESCE(d.received_at, d.submitted_at) AS arrived_at, d.received_at, d.channel, d.fee_state,
           d.payment_code,
           CASE WHEN d.vneid OR d.has_store_component OR pd.dossier_id IS NOT NULL THEN 1 ELSE 0 END
               AS population_data
    FROM {source} d
    LEFT JOIN (
        SELECT electronic_id, MIN(unit_code) AS unit_code
        FROM units WHERE electronic_id IS NOT NULL AND electronic_id <> ''
        GROUP BY electronic_id
    ) e ON NULLIF(d.unit_code, '') IS NULL AND e.electronic_id = d.id_prefix
    LEFT JOIN ({population}) pd ON pd.dossier_id = d.dossier_id
) db
JOIN units u ON u.unit_code = db.unit_code
WHERE db.procedure_code IS NOT NULL"""


def dossier_usage_sql(arrivals: str, periods: str = "period_structure", weight: str | None = None) -> str:
    """One SELECT (no WITH): per ``(period_id, unit_code, procedure_code)`` the counts of :data:`USAGE_COUNTS`
    over the arrivals (rows of :func:`dossier_arrivals_sql`, table or CTE ``arrivals``) that arrived in the
    period (Cat-arrival: ``[start_at, end_at)`` and ``<= as_of_at`` of ``periods``). A fee count counts
    dossiers of a TTHC with ``has_fee`` in ``procedures``. ``weight`` (a column of ``arrivals``) weighs each
    row (±1 for the incremental deltas); without it only keys with a dossier appear.
    """
    for name in (arrivals, periods):
        _check_table_name(name)
    w = "1" if weight is None else f"a.{weight}"
    counts = ",\n       ".join(
        f"CAST(SUM(CASE WHEN {cond} THEN {w} ELSE 0 END) AS BIGINT) AS {name}" for name, cond in USAGE_COUNTS.items()
    )
    return f"""
SELECT ps.period_id, a.unit_code, a.procedure_code,
       {counts}
FROM {periods} ps
JOIN {arrivals} a ON a.arrived_at >= ps.start_at AND a.arrived_at < ps.end_at AND a.arrived_at <= ps.as_of_at
LEFT JOIN procedures t ON t.procedure_code = a.procedure_code
GROUP BY ps.period_id, a.unit_code, a.procedure_code"""


def catalogue_facts_sql(
    dialect: Dialect = DUCKDB,
    province_publish_days: int = 5,
    province_update_days: int = 5,
    population_db_codes: Sequence[str] = ("1",),
    payment_denominator_from_catalogue: bool = True,
    part: Part = "all",
    usage_table: str | None = None,
    usage_scope: str | None = None,
) -> str:
    """One SELECT of the long catalogue facts table (columns in the module docstring).

    The dossier-driven rows (:data:`DOSSIER_DRIVEN`) read dossiers only through their per-(period, unit, TTHC)
    counts (:func:`dossier_usage_sql`). ``usage_table`` names a table holding those counts (the incremental
    path keeps it current by deltas): ``dossiers`` and ``dossier_databases`` are then not read at all.
    ``usage_scope`` (with ``usage_table``) names a table of ``(period_id, procedure_code)`` pairs: only their
    counts are read, so the dossier-driven rows of those pairs are exactly the full computation's (each depends
    only on the counts of its own period and TTHC) and the others are absent.

    Reads ``units``, ``unit_closure``, ``procedures``, ``procedure_units``, ``legal_bases``, ``services``,
    ``publications``, ``publication_items``, ``dossiers``, ``dossier_databases``, ``calendar`` and
    ``period_structure``. ``province_publish_days`` (1.1) and ``province_update_days`` (1.2) are the
    province thresholds; a ministry's are 20 and 10 (M §3 #15). ``population_db_codes`` is the MaCSDL set
    of the population database (D-4.5b-1). ``payment_denominator_from_catalogue`` keeps the catalogue route
    of the 3.5 denominator (see the module docstring). ``part`` selects the static rows (``period_id = '*'``),
    the dynamic rows (periods of ``period_structure``) or both; the static rows do not read ``period_structure``.
    """
    if part not in _PARTS:
        raise ValueError(f"part must be one of {_PARTS}, got {part!r}")
    for name, days in (
        ("province_publish_days", province_publish_days),
        ("province_update_days", province_update_days),
    ):
        if isinstance(days, bool) or not isinstance(days, int) or days < 0:
            raise ValueError(f"{name} must be a non-negative int, got {days!r}")
    codes = tuple(population_db_codes)
    if any(not isinstance(c, str) for c in codes):
        raise ValueError(f"population_db_codes must be strings, got {codes!r}")
    n11 = province_publish_days
    n12 = province_update_days
    clicked_on = dialect.local_date("t.published_at")
    if usage_table is None:
        if usage_scope is not None:
            raise ValueError("usage_scope needs usage_table")
        usage_ctes = f"""-- Cat-dossier-unit, Cat-arrival: each counted dossier, then counts per (period, unit, TTHC).
dossier_arrivals AS (
{dossier_arrivals_sql(codes)}
),
dossier_usage AS (
{dossier_usage_sql("dossier_arrivals")}
),"""
    else:
        _check_table_name(usage_table)
        scope = ""
        if usage_scope is not None:
            _check_table_name(usage_scope)
            scope = (
                f"\n    WHERE EXISTS (SELECT 1 FROM {usage_scope} k "
                "WHERE k.period_id = u.period_id AND k.procedure_code = u.procedure_code)"
            )
        usage_ctes = f"""-- Cat-dossier-unit, Cat-arrival: the materialised counts (see dossier_usage_sql).
dossier_usage AS (
    SELECT u.* FROM {usage_table} u JOIN period_structure ps ON ps.period_id = u.period_id{scope}
),"""
    static_selects = [
        # 1.3: one row per owner × currently public TTHC.
        f"""
SELECT '{STATIC_PERIOD}' AS period_id, 'PUBLIC_CONTENT_FULL' AS indicator_code, co.owner AS unit_code,
       t.procedure_code AS item_code,
       CASE WHEN t.components_complete THEN TRUE ELSE FALSE END AS hit,
       CASE WHEN t.components_complete IS NULL THEN 'components_unknown'
            WHEN t.components_complete THEN NULL ELSE 'components_incomplete' END AS reason
FROM catalogue_owner co
JOIN tthc t ON t.procedure_code = co.procedure_code
WHERE {_current("t")}""",
        # 3.1: authority (already per ancestor), hit judged over the subtree.
        f"""
SELECT '{STATIC_PERIOD}' AS period_id, 'ONLINE_PROCEDURES' AS indicator_code, a.unit_code,
       a.procedure_code AS item_code,
       CASE WHEN sc.procedure_code IS NOT NULL THEN TRUE ELSE FALSE END AS hit,
       CASE WHEN sc.procedure_code IS NULL THEN 'no_public_service' ELSE NULL END AS reason
FROM authority a
LEFT JOIN public_service_scope sc ON sc.unit_code = a.unit_code AND sc.procedure_code = a.procedure_code""",
        # 3.2 items: every counted DVC; its hits are dynamic rows.
        f"""
SELECT '{STATIC_PERIOD}' AS period_id, 'ONLINE_SERVICES_USED' AS indicator_code, cs.unit_code,
       cs.service_code AS item_code, FALSE AS hit, 'no_online_dossier' AS reason
FROM counted_services cs""",
        # 4.5a items: citizen TTHC under authority; its evidence rows are dynamic.
        f"""
SELECT '{STATIC_PERIOD}' AS period_id, 'CITIZEN_DATA_CONNECTED_FORMALITY' AS indicator_code, a.unit_code,
       a.procedure_code AS item_code, FALSE AS hit, 'no_dossier_in_period' AS reason
FROM authority a
JOIN tthc t ON t.procedure_code = a.procedure_code
WHERE t.citizen_applicant""",
    ]
    if payment_denominator_from_catalogue:
        # 3.5 catalogue route: currently public fee TTHC at their known implementing units.
        static_selects.append(
            f"""
SELECT '{STATIC_PERIOD}' AS period_id, 'PAYMENT_PROCEDURES_INTEGRATED' AS indicator_code, pu.unit_code,
       pu.procedure_code AS item_code, FALSE AS hit, 'no_dossier_in_period' AS reason
FROM procedure_units pu
JOIN units u ON u.unit_code = pu.unit_code
JOIN tthc t ON t.procedure_code = pu.procedure_code
WHERE t.has_fee AND {_current("t")}"""
        )
    dynamic_selects = [
        """
SELECT period_id, 'PUBLISH_ON_TIME' AS indicator_code, unit_code, item_code,
       CASE WHEN verdict = 0 THEN TRUE ELSE FALSE END AS hit,
       CASE verdict WHEN 1 THEN 'published_late' WHEN 2 THEN 'date_outside_calendar'
                    WHEN 3 THEN 'no_effective_date' ELSE NULL END AS reason
FROM f11""",
        """
SELECT period_id, 'PUBLIC_UPDATE_ON_TIME' AS indicator_code, unit_code, item_code,
       CASE WHEN verdict = 0 THEN TRUE ELSE FALSE END AS hit,
       CASE verdict WHEN 1 THEN 'published_late' WHEN 2 THEN 'not_made_public'
                    WHEN 3 THEN 'no_decision_before_publication' WHEN 4 THEN 'date_outside_calendar'
                    ELSE NULL END AS reason
FROM f12""",
        # 3.2 hits: the counted DVC an online dossier of the period is attributed to.
        """
SELECT period_id, 'ONLINE_SERVICES_USED' AS indicator_code, unit_code, service_code AS item_code,
       TRUE AS hit, CAST(NULL AS VARCHAR) AS reason
FROM used_services""",
        # 3.5 dossier route: every unit with a fee-TTHC dossier in the period; hit = a non-zero fee dossier.
        """
SELECT period_id, 'PAYMENT_PROCEDURES_INTEGRATED' AS indicator_code, unit_code, procedure_code AS item_code,
       CASE WHEN nonzero = 1 THEN TRUE ELSE FALSE END AS hit,
       CASE WHEN nonzero = 1 THEN NULL ELSE 'no_nonzero_fee_dossier' END AS reason
FROM fee_dossier_summary""",
        """
SELECT period_id, 'PAYMENT_PROCEDURES_ONLINE' AS indicator_code, unit_code, procedure_code AS item_code,
       CASE WHEN paid_online = 1 THEN TRUE ELSE FALSE END AS hit,
       CASE WHEN paid_online = 1 THEN NULL ELSE 'no_online_payment' END AS reason
FROM f35b""",
        # 4.5a evidence: citizen TTHC under authority with a dossier received in the period in the subtree.
        """
SELECT e.period_id, 'CITIZEN_DATA_CONNECTED_FORMALITY' AS indicator_code, a.unit_code,
       a.procedure_code AS item_code,
       CASE WHEN e.connected = 1 THEN TRUE ELSE FALSE END AS hit,
       CASE WHEN e.connected = 1 THEN NULL ELSE 'no_population_data_use' END AS reason
FROM f45_evidence e
JOIN authority a ON a.unit_code = e.unit_code AND a.procedure_code = e.procedure_code
JOIN tthc t ON t.procedure_code = a.procedure_code
WHERE t.citizen_applicant""",
    ]
    selects = {
        "all": static_selects + dynamic_selects,
        "static": static_selects,
        "dynamic": dynamic_selects,
        "dossier": dynamic_selects[2:],  # the DOSSIER_DRIVEN ones: 3.2, 3.5, 3.5b, 4.5a
    }[part]
    body = "\nUNION ALL".join(selects)

    return f"""
WITH
{usage_ctes}
-- Cat-root: roots are units whose parent is not a known unit; every unit's province is its root.
roots AS (
    SELECT u.unit_code AS root_code
    FROM units u LEFT JOIN units p ON p.unit_code = u.parent_code
    WHERE p.unit_code IS NULL
),
unit_root AS (
    SELECT c.descendant AS unit_code, c.ancestor AS root_code
    FROM unit_closure c JOIN roots r ON r.root_code = c.ancestor
),
tthc AS (
    SELECT procedure_code, status, has_fee, citizen_applicant, components_complete, published_at,
           CONCAT(',', REPLACE(COALESCE(levels, ''), ' ', ''), ',') AS level_set
    FROM procedures
),
decisions AS (
    SELECT pi.procedure_code, pi.change_type, p.decided_on, ur.root_code AS owner
    FROM publication_items pi
    JOIN publications p ON p.decision_id = pi.decision_id
    JOIN unit_root ur ON ur.unit_code = p.unit_code
),
latest_effective AS (
    SELECT procedure_code, MAX(effective_on) AS effective_on
    FROM legal_bases WHERE effective_on IS NOT NULL
    GROUP BY procedure_code
),
known_implementers AS (
    SELECT DISTINCT pu.procedure_code, pu.unit_code
    FROM procedure_units pu JOIN units u ON u.unit_code = pu.unit_code
),
-- Cat-owner: provinces owning a TTHC for 1.2 and 1.3.
known_owner AS (
    SELECT ki.procedure_code, ur.root_code AS owner
    FROM known_implementers ki JOIN unit_root ur ON ur.unit_code = ki.unit_code
    UNION
    SELECT procedure_code, owner FROM decisions
),
catalogue_owner AS (
    SELECT procedure_code, owner FROM known_owner
    UNION ALL
    SELECT t.procedure_code, r.root_code AS owner
    FROM tthc t CROSS JOIN roots r
    LEFT JOIN (SELECT DISTINCT procedure_code FROM known_owner) k ON k.procedure_code = t.procedure_code
    WHERE k.procedure_code IS NULL
),
-- Cat-authority: direct authority, then every ancestor holds its subtree's authority.
direct_authority AS (
    SELECT unit_code, procedure_code FROM known_implementers
    UNION
    SELECT u.unit_code, t.procedure_code
    FROM units u JOIN tthc t ON t.level_set LIKE '%,3,%'
    WHERE u.level = 'commune'
    UNION
    SELECT u.unit_code, t.procedure_code
    FROM units u JOIN tthc t ON t.level_set LIKE '%,2,%'
    WHERE u.level = 'district'
    UNION
    SELECT r.root_code AS unit_code, t.procedure_code
    FROM tthc t CROSS JOIN roots r
    LEFT JOIN (SELECT DISTINCT procedure_code FROM known_implementers) k ON k.procedure_code = t.procedure_code
    WHERE k.procedure_code IS NULL AND (t.level_set LIKE '%,1,%' OR t.level_set = ',,')
),
authority AS (
    SELECT DISTINCT c.ancestor AS unit_code, da.procedure_code
    FROM direct_authority da
    JOIN unit_closure c ON c.descendant = da.unit_code
    JOIN tthc t ON t.procedure_code = da.procedure_code
    WHERE {_current("t")}
),
-- 1.1 PUBLISH_ON_TIME: verdict 0 on time, 1 late, 2 outside calendar, 3 no effective date; any late ⇒ late.
f11_decisions AS (
    SELECT ps.period_id, dc.owner, dc.procedure_code,
           CASE WHEN le.effective_on IS NULL THEN 3
                WHEN cd.working_day_index IS NULL OR ce.working_day_index IS NULL THEN 2
                WHEN ce.working_day_index - cd.working_day_index >= {n11} THEN 0
                ELSE 1 END AS verdict
    FROM period_structure ps
    JOIN decisions dc
      ON dc.decided_on >= ps.start_date AND dc.decided_on < ps.end_date AND dc.decided_on <= ps.horizon_date
    JOIN tthc t ON t.procedure_code = dc.procedure_code
    LEFT JOIN latest_effective le ON le.procedure_code = dc.procedure_code
    LEFT JOIN calendar cd ON cd.day = dc.decided_on
    LEFT JOIN calendar ce ON ce.day = le.effective_on
    WHERE {_current("t")} OR (t.status = 'abolished' AND dc.change_type = 'abolished')
),
f11 AS (
    SELECT period_id, owner AS unit_code, procedure_code AS item_code, MAX(verdict) AS verdict
    FROM f11_decisions GROUP BY period_id, owner, procedure_code
),

-- 1.2 PUBLIC_UPDATE_ON_TIME: verdict 0 on time, 1 late, 2 not made public (due), 3 no QĐCB before the
-- click, 4 outside calendar; any late ⇒ late.
f12_clicks AS (
    SELECT ps.period_id, co.owner, t.procedure_code, {clicked_on} AS clicked_on
    FROM period_structure ps
    JOIN tthc t ON t.published_at >= ps.start_at AND t.published_at < ps.end_at AND t.published_at <= ps.as_of_at
    JOIN catalogue_owner co ON co.procedure_code = t.procedure_code
),
f12_click_decision AS (
    SELECT c.period_id, c.owner, c.procedure_code, MAX(dc.decided_on) AS decided_on
    FROM f12_clicks c
    JOIN decisions dc
      ON dc.owner = c.owner AND dc.procedure_code = c.procedure_code AND dc.decided_on <= c.clicked_on
    GROUP BY c.period_id, c.owner, c.procedure_code
),
f12_click_verdicts AS (
    SELECT c.period_id, c.owner, c.procedure_code,
           CASE WHEN cd.decided_on IS NULL THEN 3
                WHEN kc.working_day_index IS NULL OR kd.working_day_index IS NULL THEN 4
                WHEN kc.working_day_index - kd.working_day_index <= {n12} THEN 0
                ELSE 1 END AS verdict
    FROM f12_clicks c
    LEFT JOIN f12_click_decision cd
      ON cd.period_id = c.period_id AND cd.owner = c.owner AND cd.procedure_code = c.procedure_code
    LEFT JOIN calendar kc ON kc.day = c.clicked_on
    LEFT JOIN calendar kd ON kd.day = cd.decided_on
),
f12_latest AS (
    SELECT ps.period_id, dc.owner, dc.procedure_code, MAX(dc.decided_on) AS decided_on
    FROM period_structure ps JOIN decisions dc ON dc.decided_on <= ps.horizon_date
    GROUP BY ps.period_id, dc.owner, dc.procedure_code
),
f12_due AS (
    SELECT l.period_id, l.owner, l.procedure_code, 2 AS verdict
    FROM f12_latest l
    JOIN period_structure ps ON ps.period_id = l.period_id
    JOIN tthc t ON t.procedure_code = l.procedure_code
    JOIN calendar kd ON kd.day = l.decided_on
    JOIN calendar ks ON ks.day = ps.start_date
    JOIN calendar kh ON kh.day = ps.horizon_date
    WHERE COALESCE(t.status, 'public') IN ('public', 'public_amended', 'abolished')
      AND NOT (t.published_at IS NOT NULL AND t.published_at < ps.end_at AND t.published_at <= ps.as_of_at
               AND {clicked_on} >= l.decided_on)
      -- the deadline (the n-th working day after the decision) is on or after the period's first day …
      AND kd.working_day_index + {n12} > ks.working_day_index - CASE WHEN ks.is_working_day THEN 1 ELSE 0 END
      -- … and has passed at the horizon
      AND kh.working_day_index - kd.working_day_index
          >= {n12} + CASE WHEN ps.provisional AND kh.is_working_day THEN 1 ELSE 0 END
),
f12 AS (
    SELECT period_id, owner AS unit_code, procedure_code AS item_code, MAX(verdict) AS verdict
    FROM (
        SELECT period_id, owner, procedure_code, verdict FROM f12_click_verdicts
        UNION ALL
        SELECT period_id, owner, procedure_code, verdict FROM f12_due
    ) x
    GROUP BY period_id, owner, procedure_code
),

-- 3.1 ONLINE_PROCEDURES
public_service_scope AS (
    SELECT DISTINCT c.ancestor AS unit_code, s.procedure_code
    FROM services s JOIN unit_closure c ON c.descendant = s.unit_code
    WHERE s.status = 'public'
),

-- 3.2 ONLINE_SERVICES_USED: each online dossier goes to the counted DVC of its TTHC at the nearest unit.
counted_services AS (
    SELECT s.service_code, s.procedure_code, s.unit_code
    FROM services s JOIN units u ON u.unit_code = s.unit_code
    WHERE s.status IN ('public', 'pending_withdrawal', 'testing')
),
online_dossier_candidates AS (
    SELECT du.period_id, du.unit_code AS dossier_unit, du.procedure_code, cs.unit_code, cs.service_code, c.depth,
           MIN(c.depth) OVER (PARTITION BY du.period_id, du.unit_code, du.procedure_code) AS nearest
    FROM dossier_usage du
    JOIN unit_closure c ON c.descendant = du.unit_code
    JOIN counted_services cs ON cs.unit_code = c.ancestor AND cs.procedure_code = du.procedure_code
    WHERE du.n_online > 0
),
used_services AS (
    SELECT DISTINCT period_id, unit_code, service_code FROM online_dossier_candidates WHERE depth = nearest
),

-- 3.5 / 3.5b (the fee counts of dossier_usage count fee-TTHC dossiers only)
fee_dossier_summary AS (
    SELECT period_id, unit_code, procedure_code, CASE WHEN n_fee_nonzero > 0 THEN 1 ELSE 0 END AS nonzero
    FROM dossier_usage WHERE n_fee > 0
),
f35b AS (
    SELECT period_id, unit_code, procedure_code, CASE WHEN n_fee_paid_online > 0 THEN 1 ELSE 0 END AS paid_online
    FROM dossier_usage WHERE n_fee_payable > 0
),

-- 4.5a: evidence over each unit's subtree, from dossiers received in the period.
f45_evidence AS (
    SELECT du.period_id, c.ancestor AS unit_code, du.procedure_code,
           MAX(CASE WHEN du.n_received_population > 0 THEN 1 ELSE 0 END) AS connected
    FROM dossier_usage du JOIN unit_closure c ON c.descendant = du.unit_code
    WHERE du.n_received > 0
    GROUP BY du.period_id, c.ancestor, du.procedure_code
)

{body}
"""


# How catalogue_counts_sql pools each indicator's rows (see its docstring for the proofs).
_AT_UNIT: tuple[str, ...] = (
    "PUBLISH_ON_TIME",
    "PUBLIC_UPDATE_ON_TIME",
    "PUBLIC_CONTENT_FULL",
    "ONLINE_PROCEDURES",
    "CITIZEN_DATA_CONNECTED_FORMALITY",
)
"""Row sets closed under ancestors with hits monotone up the tree: a unit's own rows are its subtree's items."""
_ONE_UNIT_ITEMS: tuple[str, ...] = ("ONLINE_SERVICES_USED",)
"""Every item sits at exactly one unit: a subtree's items are the disjoint union of its units' items."""
# Every other indicator (3.5, 3.5b, and any not listed) is pooled item by item over ``unit_closure``.


def catalogue_static_sql(facts_table: str = "catalogue_facts") -> tuple[str, str]:
    """The period-independent halves of :func:`catalogue_counts_sql`, as two SELECTs over ``facts_table``'s
    static (``'*'``) rows: ``static_items`` (unit_code, indicator_code, item_code, hit) at each combine unit, and
    ``static_pooled`` (unit_code, indicator_code, numerator, denominator) — the latter reading a table or CTE
    named ``static_items``. ``LiveIndex`` materialises both at rebuild (static rows change only with the
    catalogue or the units, which rebuild) so an update counts only the touched periods' dated rows."""
    if not facts_table.replace("_", "").isalnum():
        raise ValueError(f"not a plain table name: {facts_table!r}")
    one_unit = _sql_strings(_ONE_UNIT_ITEMS)
    local = _sql_strings(_AT_UNIT + _ONE_UNIT_ITEMS)
    hit = "CASE WHEN f.hit THEN 1 ELSE 0 END"
    items = f"""
    SELECT f.unit_code, f.indicator_code, f.item_code, {hit} AS hit
    FROM {facts_table} f
    WHERE f.period_id = '{STATIC_PERIOD}' AND f.indicator_code IN ({local})
    UNION ALL
    SELECT c.ancestor AS unit_code, f.indicator_code, f.item_code, MAX({hit}) AS hit
    FROM {facts_table} f JOIN unit_closure c ON c.descendant = f.unit_code
    WHERE f.period_id = '{STATIC_PERIOD}' AND f.indicator_code NOT IN ({local})
    GROUP BY c.ancestor, f.indicator_code, f.item_code"""
    pooled = f"""
    SELECT unit_code, indicator_code, numerator, denominator
    FROM (SELECT unit_code, indicator_code, SUM(hit) AS numerator, COUNT(*) AS denominator
          FROM static_items GROUP BY unit_code, indicator_code) s
    WHERE indicator_code NOT IN ({one_unit})
    UNION ALL
    SELECT c.ancestor AS unit_code, s.indicator_code, SUM(s.numerator) AS numerator,
           SUM(s.denominator) AS denominator
    FROM (SELECT unit_code, indicator_code, SUM(hit) AS numerator, COUNT(*) AS denominator
          FROM static_items GROUP BY unit_code, indicator_code) s
    JOIN unit_closure c ON c.descendant = s.unit_code
    WHERE s.indicator_code IN ({one_unit})
    GROUP BY c.ancestor, s.indicator_code"""
    return items, pooled


def catalogue_counts_sql(facts_table: str = "catalogue_facts", static_tables: tuple[str, str] | None = None) -> str:
    """Numerator / denominator per (period_id, unit_code, indicator_code), pooled over ``unit_closure``.

    For each unit a (as an ancestor) and each period P of ``period_structure``, the rows of a's subtree that
    are static (``'*'``) or of P are counted once per item: ``denominator`` = |distinct items|, ``numerator`` =
    |distinct items with a hit among those rows|. Only (period, unit, indicator) with at least one item appear;
    a missing row means 0/0. Inheritance of 1.1–1.3 by children (methodology ``children: inherit``) is left to
    the counters step. Relies on the table's key ``(period_id, indicator_code, unit_code, item_code)`` being
    unique (as :func:`catalogue_facts_sql` writes it).

    How it is computed (no per-period copy of the static rows, no re-expansion of per-ancestor rows):

    1. *Combine level.* Each row is first placed at a "combine unit" c: its own unit for the at-unit and
       one-unit-item classes below, every ancestor (from ``unit_closure``, deduplicated per item with the OR
       of hits) for the pooled class. Write S(c) / SH(c) for the static items / static hit items at c, and
       D_P(c) / DH_P(c) for P's items / hit items there.
    2. *Union identity.* For sets, |S ∪ D| = |S| + |D ∖ S|. So per combine unit and period
       items = |S(c)| + |D_P(c) ∖ S(c)| and hits = |SH(c) ∪ DH_P(c)| = |SH(c)| + |DH_P(c) ∖ SH(c)|
       (an item is a hit in P iff one of its ``'*'`` / P rows is, so a static item a P row hits counts as a
       hit, and a P item that is not static adds to the denominator, as the 3.5 dossier route does). |S(c)|,
       |SH(c)| are counted once (no period); the two differences come from a LEFT JOIN of the sparse P rows to
       S(c) on the item, aggregated per (P, c) before anything is joined to the periods.
    3. *Broadcast.* The static counts are cross-joined with ``period_structure`` as narrow count rows and
       FULL-joined with the per-period differences (a (P, c) with no static item has only P items, all new).

    Classes, and why each gives the subtree's distinct counts:

    - *at unit* (1.1, 1.2, 1.3, 3.1, 4.5a): the combine unit is the row's unit and its counts are final. The
      row set R (static ∪ P) is *closed* — (v, i) ∈ R and a an ancestor of v ⇒ (a, i) ∈ R — and its hits
      are *monotone* — hit(v, i) ⇒ hit(a, i). Then {i : ∃ v ∈ sub(a), (v, i) ∈ R} = {i : (a, i) ∈ R}
      (⊇: a ∈ sub(a), the depth-0 closure row; ⊆: closure), and likewise for hits, so a's own rows are its
      subtree's items. 1.1, 1.2, 1.3 rows sit at roots (Cat-root) and a root's only ancestor in
      ``unit_closure`` is itself. 3.1 rows are ``authority``, built as every ``unit_closure`` ancestor of a
      direct authority, and the closure is transitive (trees within its 16-level walk), so an ancestor of an
      ancestor is one; the hit (public DVC in sub(v)) holds for sub(a) ⊇ sub(v). 4.5a static rows are
      ``authority`` restricted to citizen TTHC (a filter on the item keeps closure); its P rows are authority
      items with a dossier received in P in sub(v), which holds for sub(a) ⊇ sub(v), and ``connected`` (a MAX
      over the subtree) can only grow.
      Deleting every row of an item (the procedure filter) keeps both properties.
    - *one-unit items* (3.2): an item (MaDVC, the key of ``services``) has rows only at its own unit, static
      and dynamic alike, so the subtree's items are the disjoint union of its units' items: per-unit counts
      (combined as in 2.) are summed over ``unit_closure`` — aggregated before that join, no DISTINCT.
    - *pooled* (3.5, 3.5b): items of different units overlap (one TTHC at many units), so rows are expanded
      to every ancestor and deduplicated per (ancestor, item) — one aggregate, then plain counts.
    """
    if not facts_table.replace("_", "").isalnum():
        raise ValueError(f"not a plain table name: {facts_table!r}")
    one_unit = _sql_strings(_ONE_UNIT_ITEMS)
    local = _sql_strings(_AT_UNIT + _ONE_UNIT_ITEMS)
    hit = "CASE WHEN f.hit THEN 1 ELSE 0 END"
    static_items, static_pooled = catalogue_static_sql(facts_table)
    if static_tables is not None:  # materialised by LiveIndex.rebuild from the two SELECTs above
        for name in static_tables:
            _check_table_name(name)
        static_items = f"SELECT * FROM {static_tables[0]}"
        static_pooled = f"SELECT * FROM {static_tables[1]}"
    return f"""
WITH
static_items AS ({static_items}
),
dynamic_items AS (
    SELECT f.period_id, f.unit_code, f.indicator_code, f.item_code, {hit} AS hit
    FROM {facts_table} f JOIN period_structure ps ON ps.period_id = f.period_id
    WHERE f.indicator_code IN ({local})
    UNION ALL
    SELECT f.period_id, c.ancestor AS unit_code, f.indicator_code, f.item_code, MAX({hit}) AS hit
    FROM {facts_table} f
    JOIN period_structure ps ON ps.period_id = f.period_id
    JOIN unit_closure c ON c.descendant = f.unit_code
    WHERE f.indicator_code NOT IN ({local})
    GROUP BY f.period_id, c.ancestor, f.indicator_code, f.item_code
),
-- per (P, c): P's hit items that are not static hits, and P's items that are not static items
dynamic_counts AS (
    SELECT d.period_id, d.unit_code, d.indicator_code,
           SUM(CASE WHEN d.hit = 1 AND COALESCE(s.hit, 0) = 0 THEN 1 ELSE 0 END) AS numerator,
           SUM(CASE WHEN s.item_code IS NULL THEN 1 ELSE 0 END) AS denominator
    FROM dynamic_items d
    LEFT JOIN static_items s
      ON s.unit_code = d.unit_code AND s.indicator_code = d.indicator_code AND s.item_code = d.item_code
    GROUP BY d.period_id, d.unit_code, d.indicator_code
),
static_pooled AS ({static_pooled}
),
dynamic_pooled AS (
    SELECT period_id, unit_code, indicator_code, numerator, denominator
    FROM dynamic_counts WHERE indicator_code NOT IN ({one_unit})
    UNION ALL
    SELECT d.period_id, c.ancestor AS unit_code, d.indicator_code, SUM(d.numerator) AS numerator,
           SUM(d.denominator) AS denominator
    FROM dynamic_counts d JOIN unit_closure c ON c.descendant = d.unit_code
    WHERE d.indicator_code IN ({one_unit})
    GROUP BY d.period_id, c.ancestor, d.indicator_code
),
static_per_period AS (
    SELECT ps.period_id, s.unit_code, s.indicator_code, s.numerator, s.denominator
    FROM period_structure ps CROSS JOIN static_pooled s
)
SELECT COALESCE(s.period_id, d.period_id) AS period_id,
       COALESCE(s.unit_code, d.unit_code) AS unit_code,
       COALESCE(s.indicator_code, d.indicator_code) AS indicator_code,
       CAST(COALESCE(s.numerator, 0) + COALESCE(d.numerator, 0) AS BIGINT) AS numerator,
       CAST(COALESCE(s.denominator, 0) + COALESCE(d.denominator, 0) AS BIGINT) AS denominator
FROM static_per_period s
FULL OUTER JOIN dynamic_pooled d
  ON d.period_id = s.period_id AND d.unit_code = s.unit_code AND d.indicator_code = s.indicator_code
"""
