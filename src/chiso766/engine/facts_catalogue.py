"""Catalogue facts: the TTHC / DVC items behind 1.1, 1.2, 1.3, 3.1, 3.2, 3.5, 3.5b and 4.5a, as one SQL query.

These indicators count procedures (TTHC) or online services (DVC), not dossiers, so a parent pools its subtree
by DISTINCT items, never by summing its children (METHODOLOGY §2 General rules, "union of … TTHC").
:func:`catalogue_facts_sql` returns one row per ``(period_id, indicator_code, unit_code, item_code)``:

``period_id``       a period of ``period_structure``, or ``'*'`` for a *static* row (valid in every period);
``indicator_code``  PUBLISH_ON_TIME | PUBLIC_UPDATE_ON_TIME | PUBLIC_CONTENT_FULL | ONLINE_PROCEDURES |
                    ONLINE_SERVICES_USED | PAYMENT_PROCEDURES_INTEGRATED | PAYMENT_PROCEDURES_ONLINE |
                    CITIZEN_DATA_CONNECTED_FORMALITY;
``unit_code``       the unit that owns the item (see "Ownership" below);
``item_code``       MaTTHC, or MaDVC for ONLINE_SERVICES_USED;
``hit``             BOOLEAN, the item is in the numerator;
``reason``          why it is not (a stable code for explanations, listed in :data:`MISS_REASONS`); NULL on a hit.

Representation (static and dynamic rows). The facts of period P are the rows of P together with the ``'*'``
rows: an item of indicator I at unit u is in P's denominator iff it has a ``'*'`` row or a P row, and in P's
numerator iff one of those rows is a hit (a P row says why the item misses in P, so explanations prefer its
``reason``). Period-independent rows are written once (``'*'``), not once per period:

- *static* (``part="static"``): 1.3 items (hit = ``components_complete``); 3.1 items (hit = public DVC in the
  subtree); 3.2 items (every counted DVC, hit FALSE); 4.5a items (citizen TTHC under authority, hit FALSE);
  the catalogue route of 3.5 (hit FALSE). They change only with the catalogue or the units.
- *dynamic* (``part="dynamic"``, real period ids, sparse: driven by QĐCB, clicks and dossiers): 1.1, 1.2;
  3.2 used DVC (hit TRUE); 4.5a TTHC under authority with a dossier received in the period (hit = connected;
  a non-hit says ``no_population_data_use``); the dossier route of 3.5 (hit = a non-zero fee dossier); 3.5b.

``part="all"`` (the default) returns both. The rules below define each indicator's items and hits per period;
this split only says where each row is stored.

:func:`catalogue_counts_sql` pools that table (read from ``catalogue_facts``) over ``unit_closure``: for every
ancestor unit and period, denominator = the number of distinct items of the ``'*'`` and the period's rows of
its subtree, numerator = the number of distinct items among those with a hit (see its docstring for how this
is computed without a per-period copy of the static rows).
Each row's ``hit`` is written so that this OR-over-the-subtree is exactly the indicator at every level.

Shared definitions (``Cat-*`` ids are cited in the SQL and the tests):

- **Cat-root** A unit's province is the root of its tree: the ancestor whose parent is not a known unit
  (D-gen-6; the same rule as the counters step uses to copy 1.1–1.3 to children).
- **Cat-status** "Currently public" = status ``public`` / ``public_amended``. A catalogue record without a
  status (no TRANGTHAI; the parser stores NULL) counts as public: the CSDLQG ``LayThuTuc`` package lists
  published TTHC, and DATA_FORMATS §1.13 marks the status attribute [U]. A TTHC absent from ``procedures``
  counts nowhere (its status, fee, applicants are unknown).
- **Cat-dossier-unit** A dossier's unit is ``dossiers.unit_code``, else the unit whose ``electronic_id`` equals
  ``id_prefix`` (D-gen-3; the smallest code if several share one id). A unit code that is not in ``units``
  is counted nowhere, without falling back to the prefix.
- **Cat-arrival** "In the period" for a dossier = NgayTiepNhan (fallback NgayNopHoSo when not received) in
  ``[start_at, end_at)`` and ``<= as_of_at`` (M 3.2, 3.5 "fallback NgayNopHoSo"; D-gen-1). 4.5a uses
  NgayTiepNhan only ("received in the period").
- **Cat-owner** The province(s) owning a TTHC for 1.2 and 1.3: the roots of its known ``procedure_units``
  units and of the issuers of QĐCB listing it. A TTHC with neither belongs to every root: in the usual
  one-province store that is the province whose catalogue was loaded (``procedure_units`` often names
  national agency codes that are not in ``units``). In a multi-province store such TTHC are counted in every
  province: give them a ``procedure_units`` row to avoid that.
- **Cat-authority** TTHC under a unit's authority (3.1, 4.5a): its ``procedure_units`` rows; every
  commune-level TTHC (CAPTHUCHIEN contains "3") for every ``commune`` unit (and "2" for every ``district``);
  a TTHC of province level ("1") or of unknown level with no known implementing unit belongs to the root.
  A unit's authority also holds everything under its descendants' authority ("province = tỉnh + xã
  levels", [DOC] in M 3.1; M 4.5a "province = the province's TTHC"), and its ``hit`` is judged over its whole
  subtree: so the province's own row says "this TTHC has a public DVC / a connected dossier anywhere in the
  province", even when that DVC or dossier is at a unit that does not implement the TTHC. The counters'
  DISTINCT pooling then gives the right answer at every level. Only currently public TTHC (Cat-status).

Per indicator:

- **1.1 PUBLISH_ON_TIME** Items: distinct TTHC of QĐCB dated in ``[start_date, end_date)`` and not after
  ``horizon_date`` whose TTHC is currently public, or abolished and listed as ``abolished`` (the denominator
  includes bãi bỏ). Owner: the root of the issuing unit (decisions of unknown units count nowhere). Hit iff
  every such decision of the owner is dated at least ``province_publish_days`` working days before the latest
  ``legal_bases.effective_on`` of the TTHC: ``idx(effective) - idx(decided) >= n`` in ``calendar`` (so the
  decision may fall exactly n working days before; "any late ⇒ late", M 1.1). No effective date ⇒ not a
  hit (``no_effective_date``); a date outside the calendar ⇒ ``date_outside_calendar``.
- **1.2 PUBLIC_UPDATE_ON_TIME** (M 1.2, §3 #13; n = ``province_update_days``). A TTHC's obligations for an
  owner (Cat-owner) in a period are
  (a) *made public in the period*: the latest "click Công khai" (``published_at``) is known at the horizon
  and its local date is in the period (whatever the status now: it was made public). It is paired with
  the owner's latest QĐCB dated on or before the click date; on time iff
  ``idx(click) - idx(decided) <= n`` (a click on the n-th working day after the decision, or on the days
  off right after it, is on time). No QĐCB on or before the click ⇒ ``no_decision_before_publication``.
  (b) *still due*: status public / public_amended / abolished, the owner's latest QĐCB known at the horizon
  has not been made public since (no click known at the horizon dated on or after it), and its deadline —
  the n-th working day after the decision — falls in the period and has passed at the horizon (the whole
  deadline day for a closed period; strictly before the horizon day for a provisional one). Always late
  (``not_made_public``).
  Items = TTHC with at least one obligation; hit iff all are on time ("any late ⇒ late"). Reading of "QĐCB
  date ≤ end of period + 5 working days": under D-gen-1 nothing after the period end is known, so that
  bound is vacuous; we read it as the publication deadline and count a not-yet-public TTHC only once its
  deadline has passed, in the period where the deadline falls (so a QĐCB on the last day of a period is
  judged in the next one, not declared late before its 5 days are over; one that is never made public is
  still counted, once).
- **1.3 PUBLIC_CONTENT_FULL** Snapshot, the same rows in every period (static rows): currently public TTHC per
  owner (Cat-owner); hit = ``components_complete`` (NULL ⇒ ``components_unknown``).
- **3.1 ONLINE_PROCEDURES** Items: Cat-authority; hit iff a DVC of the TTHC with status ``public`` (either
  level) exists at the unit or in its subtree; a TTHC with a partial and a full DVC is one item. Rows for
  every unit with authority, children included (the rate is published, D-score-5 gives them 0 points).
  The catalogue is current state, so every period gets the same rows (static rows; M §3 #9 leaves the portal's
  month-vs-year difference unexplained).
- **3.2 ONLINE_SERVICES_USED** Items: DVC (``item_code`` = MaDVC) with status public / pending_withdrawal /
  testing at their (known) ``unit_code``. An online dossier (``channel = '2'``, Cat-arrival) of TTHC P at
  unit v is attributed to the counted DVC of P at the nearest unit among v and its ancestors, so a dossier
  at a commune with its own DVC does not also mark the province's DVC of the same TTHC as used. Hit iff a
  dossier is attributed to it. Dossiers carry no MaDVC, so two counted DVC of one TTHC at the same unit
  (e.g. a partial and a full one) are both marked by the same dossier.
- **3.5 PAYMENT_PROCEDURES_INTEGRATED ("C")** Items: TTHC with ``has_fee`` under the unit, by two routes:
  its currently public ``procedure_units`` rows (only when ``payment_denominator_from_catalogue``), and every
  unit with a dossier of the fee TTHC in the period (Cat-arrival, any fee state): a TTHC actually handled
  there is under it. Hit iff a dossier of it at that unit in the period has ``fee_state = 'nonzero'``
  (``no_dossier_in_period`` / ``no_nonzero_fee_dossier``). Because the dossier route makes every unit with
  such a dossier an owner, pooling gives "a non-zero fee dossier anywhere in the subtree".
- **3.5b PAYMENT_PROCEDURES_ONLINE ("B")** Items: fee TTHC with at least one dossier at the unit in the
  period whose fee list is not all zero (``fee_state <> 'all_zero'``, the 3.6 population rule D-3.6-2: a
  waived fee asks for no payment). Hit iff one of those dossiers was paid online (``payment_code`` '1'/'2',
  D-3.6-4). B's items are a subset of C's (the dossier route), so B's denominator ≤ C's. They are equal
  when every fee TTHC of the unit's catalogue had a (not all-zero) dossier in the period — or always, with
  ``payment_denominator_from_catalogue=False`` and no all-zero-only TTHC, which is how the portal's data
  looks (M §3 #8: always equal).
- **4.5a CITIZEN_DATA_CONNECTED_FORMALITY** Items: Cat-authority TTHC with ``citizen_applicant``. Hit iff a
  dossier of the TTHC at the unit or in its subtree was received in the period with VNeID, or a component
  from the store, or a ``dossier_databases`` code in ``population_db_codes`` (D-4.5b-1).
  ``no_dossier_in_period`` / ``no_population_data_use``. (P_proc's carried-over dossiers are not used: the
  brief asks for "received in the period".)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from chiso766.engine.dialect import DUCKDB, Dialect
from chiso766.engine.usage import (
    ARRIVAL_COLUMNS,
    USAGE_COUNTS,
    dossier_arrivals_sql,
    dossier_usage_sql,
    unit_tree_sql,
)

__all__ = [
    "ARRIVAL_COLUMNS",
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


def catalogue_facts_sql(
    dialect: Dialect = DUCKDB,
    province_publish_days: int = 5,
    province_update_days: int = 5,
    population_db_codes: Sequence[str] = ("1",),
    payment_denominator_from_catalogue: bool = True,
    part: Part = "all",
    usage_table: str | None = None,
    usage_scope: str | None = None,
    usage_trees: str | None = None,
) -> str:
    """One SELECT of the long catalogue facts table (columns in the module docstring).

    The dossier-driven rows (:data:`DOSSIER_DRIVEN`) read dossiers only through their per-(period, unit, TTHC)
    counts (:func:`dossier_usage_sql`). ``usage_table`` names a table holding those counts (the incremental
    path keeps it current by deltas): ``dossiers`` and ``dossier_databases`` are then not read at all.
    ``usage_scope`` (with ``usage_table``) names a table of ``(period_id, procedure_code)`` pairs: only their
    counts are read, so the dossier-driven rows of those pairs are exactly the full computation's (each depends
    only on the counts of its own period and TTHC) and the others are absent. With ``part="dossier"`` the
    catalogue CTEs (``tthc`` and through it Cat-authority) are also limited to the scope's TTHC: a TTHC's
    authority rows depend only on its own catalogue records, so this changes no row of the scoped pairs.
    ``usage_trees`` (with ``usage_table``, instead of ``usage_scope``) names a table of ``(period_id,
    procedure_code, tree_code)`` (``tree_code`` of :func:`unit_tree_sql`): only the counts of those pairs at
    units of those trees are read. A dossier-driven row reads the counts of its own tree only (3.5 / 3.5b its
    unit's, 4.5a its subtree's, 3.2 those of the units below whose nearest DVC it is), so the rows of the scoped
    pairs at units of the scoped trees are exactly the full computation's and no other row appears.

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
    tthc_scope = ""  # the dossier part of a scoped update needs the scope's TTHC only
    if usage_table is None:
        if usage_scope is not None or usage_trees is not None:
            raise ValueError("usage_scope and usage_trees need usage_table")
        usage_ctes = f"""-- Cat-dossier-unit, Cat-arrival: each counted dossier, then counts per (period, unit, TTHC).
dossier_arrivals AS (
{dossier_arrivals_sql(codes)}
),
dossier_usage AS (
{dossier_usage_sql("dossier_arrivals", dialect=dialect)}
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
        if usage_trees is not None:
            if usage_scope is not None:
                raise ValueError("give usage_scope or usage_trees, not both")
            _check_table_name(usage_trees)
            scope = (
                f"\n    JOIN ({unit_tree_sql()}\n    ) ut ON ut.unit_code = u.unit_code"
                f"\n    WHERE EXISTS (SELECT 1 FROM {usage_trees} k WHERE k.period_id = u.period_id "
                "AND k.procedure_code = u.procedure_code AND k.tree_code = ut.tree_code)"
            )
        scope_table = usage_scope or usage_trees
        if scope_table is not None and part == "dossier":
            tthc_scope = f"\n    WHERE procedure_code IN (SELECT procedure_code FROM {scope_table})"
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
    FROM procedures{tthc_scope}
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
-- The latest QĐCB known at the horizon can be due only if its deadline is not before the period's first day,
-- which needs idx(decided) >= idx(start) - n (working-day index never decreases with the day). So it is the
-- latest decision dated in that window when one is, and a decision outside it (or outside the calendar, which
-- the deadline check below joins) is never due: the window's days are enough, joined to decisions by date.
f12_window AS (
    SELECT ps.period_id, c.day
    FROM period_structure ps
    JOIN calendar ks ON ks.day = ps.start_date
    JOIN calendar c ON c.day <= ps.horizon_date AND c.working_day_index >= ks.working_day_index - {n12}
),
f12_latest AS (
    SELECT w.period_id, dc.owner, dc.procedure_code, MAX(dc.decided_on) AS decided_on
    FROM f12_window w JOIN decisions dc ON dc.decided_on = w.day
    GROUP BY w.period_id, dc.owner, dc.procedure_code
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
-- The nearest unit depends on the dossier's unit and TTHC only: found once per pair, not per period.
online_pairs AS (
    SELECT DISTINCT unit_code, procedure_code FROM dossier_usage WHERE n_online > 0
),
online_dossier_candidates AS (
    SELECT op.unit_code AS dossier_unit, op.procedure_code, cs.unit_code, cs.service_code, c.depth,
           MIN(c.depth) OVER (PARTITION BY op.unit_code, op.procedure_code) AS nearest
    FROM online_pairs op
    JOIN unit_closure c ON c.descendant = op.unit_code
    JOIN counted_services cs ON cs.unit_code = c.ancestor AND cs.procedure_code = op.procedure_code
),
used_services AS (
    SELECT DISTINCT du.period_id, oc.unit_code, oc.service_code
    FROM dossier_usage du
    JOIN online_dossier_candidates oc ON oc.dossier_unit = du.unit_code AND oc.procedure_code = du.procedure_code
    WHERE du.n_online > 0 AND oc.depth = oc.nearest
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
    FROM dossier_usage du
    JOIN unit_closure c ON c.descendant = du.unit_code
    JOIN tthc t ON t.procedure_code = du.procedure_code AND t.citizen_applicant  -- only 4.5a items read it
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


def catalogue_counts_sql(
    facts_table: str = "catalogue_facts",
    static_tables: tuple[str, str] | None = None,
    indicators: Sequence[str] | None = None,
) -> str:
    """Numerator / denominator per (period_id, unit_code, indicator_code), pooled over ``unit_closure``.

    For each unit a (as an ancestor) and each period P of ``period_structure``, the rows of a's subtree that
    are static (``'*'``) or of P are counted once per item: ``denominator`` = |distinct items|, ``numerator`` =
    |distinct items with a hit among those rows|. Only (period, unit, indicator) with at least one item appear;
    a missing row means 0/0 (``indicators``: only those are read and counted). Inheritance of 1.1–1.3 by
    children (methodology ``children: inherit``) is left to the counters step. Relies on the table's key
    ``(period_id, indicator_code, unit_code, item_code)`` being unique (as :func:`catalogue_facts_sql` writes it).

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
    chosen = _sql_strings(indicators) if indicators else "''"
    only = "TRUE" if indicators is None else f"indicator_code IN ({chosen})"
    only_f = "TRUE" if indicators is None else f"f.{only}"
    return f"""
WITH
static_items AS (SELECT * FROM ({static_items}
) si WHERE {only}),
dynamic_items AS (
    SELECT f.period_id, f.unit_code, f.indicator_code, f.item_code, {hit} AS hit
    FROM {facts_table} f JOIN period_structure ps ON ps.period_id = f.period_id
    WHERE f.indicator_code IN ({local}) AND {only_f}
    UNION ALL
    SELECT f.period_id, c.ancestor AS unit_code, f.indicator_code, f.item_code, MAX({hit}) AS hit
    FROM {facts_table} f
    JOIN period_structure ps ON ps.period_id = f.period_id
    JOIN unit_closure c ON c.descendant = f.unit_code
    WHERE f.indicator_code NOT IN ({local}) AND {only_f}
    GROUP BY f.period_id, c.ancestor, f.indicator_code, f.item_code
),
-- per (P, c): P's hit items that are not static hits, and P's items that are not static items
dynamic_counts AS (
    SELECT d.period_id, d.unit_code, d.indicator_code,
           COUNT(CASE WHEN d.hit = 1 AND COALESCE(s.hit, 0) = 0 THEN 1 END) AS numerator,
           COUNT(CASE WHEN s.item_code IS NULL THEN 1 END) AS denominator
    FROM dynamic_items d
    LEFT JOIN static_items s
      ON s.unit_code = d.unit_code AND s.indicator_code = d.indicator_code AND s.item_code = d.item_code
    GROUP BY d.period_id, d.unit_code, d.indicator_code
),
static_pooled AS (SELECT * FROM ({static_pooled}
) sp WHERE {only}),
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
