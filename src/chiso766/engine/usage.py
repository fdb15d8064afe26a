"""Dossier arrivals and their per-(period, unit, TTHC) counts: all the dossier-driven catalogue rows (3.2, 3.5,
3.5b, 4.5a) read about dossiers (Cat-dossier-unit, Cat-arrival in :mod:`chiso766.engine.facts_catalogue`).

``LiveIndex`` keeps both materialised (``mat_dossier_arrivals``, ``mat_dossier_usage``) and moves the counts by
the changed dossiers' old and new arrivals.
"""

from __future__ import annotations

from collections.abc import Sequence

from chiso766.engine.dialect import DUCKDB, Dialect

__all__ = ["ARRIVAL_COLUMNS", "USAGE_COUNTS", "dossier_arrivals_sql", "dossier_usage_sql", "unit_tree_sql"]


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


def dossier_arrivals_sql(
    population_db_codes: Sequence[str] = ("1",), scope_table: str | None = None, scope_prefix: str = ""
) -> str:
    """One SELECT (no WITH) of the "arrival facts" of every counted dossier: all the dossier-driven catalogue
    rows need to know about it (columns :data:`ARRIVAL_COLUMNS`).

    ``unit_code`` is Cat-dossier-unit's unit (only dossiers whose unit is a known unit and whose TTHC is given
    are listed: the others count nowhere); ``arrived_at`` is Cat-arrival's date (NgayTiepNhan, else
    NgayNopHoSo); ``population_data`` is 1 iff VNeID, a component from the store or a ``dossier_databases``
    code in ``population_db_codes`` (D-4.5b-1). ``scope_table`` (a table with a ``dossier_id`` column) limits
    the dossiers read to those ids. Reads ``dossiers``, ``dossier_databases`` and ``units`` (the first two
    through copies named ``scope_prefix`` + table when given: ``LiveIndex`` copies the changed dossiers' rows).
    """
    if scope_prefix and not scope_prefix.replace("_", "").isalnum():
        raise ValueError(f"not a plain table prefix: {scope_prefix!r}")
    codes = tuple(population_db_codes)
    if any(not isinstance(c, str) for c in codes):
        raise ValueError(f"population_db_codes must be strings, got {codes!r}")
    population_filter = f"db_code IN ({_sql_strings(codes)})" if codes else "1 = 0"
    source = f"{scope_prefix}dossiers"
    population = f"SELECT DISTINCT dossier_id FROM {scope_prefix}dossier_databases WHERE {population_filter}"
    if scope_table is not None:
        _check_table_name(scope_table)
        source = f"(SELECT * FROM {source} WHERE dossier_id IN (SELECT dossier_id FROM {scope_table}))"
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


def dossier_usage_sql(
    arrivals: str, periods: str = "period_structure", weight: str | None = None, dialect: Dialect = DUCKDB
) -> str:
    """One SELECT (no WITH): per ``(period_id, unit_code, procedure_code)`` the counts of :data:`USAGE_COUNTS`
    over the arrivals (rows of :func:`dossier_arrivals_sql`, table or CTE ``arrivals``) that arrived in the
    period (Cat-arrival: ``[start_at, end_at)`` and ``<= as_of_at`` of ``periods``). A fee count counts
    dossiers of a TTHC with ``has_fee`` in ``procedures``. ``weight`` (a column of ``arrivals``) weighs each
    row (±1 for the incremental deltas); without it only keys with a dossier appear.

    A closed period (``as_of_at = end_at``) holds an instant iff it holds its local date, so arrivals are matched
    to closed periods by an equi-join on the days of each period (``calendar``), and to provisional ones by
    their instants.
    """
    for name in (arrivals, periods):
        _check_table_name(name)
    if weight is None:  # COUNT keeps BIGINT states (SUM of integers widens to 128 bits in DuckDB)
        counts = ",\n       ".join(
            f"COUNT(CASE WHEN {cond} THEN 1 END) AS {name}" for name, cond in USAGE_COUNTS.items()
        )
    else:
        counts = ",\n       ".join(
            f"CAST(SUM(CASE WHEN {cond} THEN a.{weight} ELSE 0 END) AS BIGINT) AS {name}"
            for name, cond in USAGE_COUNTS.items()
        )
    return f"""
SELECT a.period_id, a.unit_code, a.procedure_code,
       {counts}
FROM (
    SELECT pd.period_id, x.*
    FROM {arrivals} x
    JOIN (SELECT p.period_id, c.day FROM {periods} p
          JOIN calendar c ON c.day >= p.start_date AND c.day < p.end_date
          WHERE p.as_of_at >= p.end_at) pd
      ON pd.day = {dialect.local_date("x.arrived_at")}
    UNION ALL
    SELECT ps.period_id, x.*
    FROM {periods} ps
    JOIN {arrivals} x ON x.arrived_at >= ps.start_at AND x.arrived_at < ps.end_at AND x.arrived_at <= ps.as_of_at
    WHERE ps.as_of_at < ps.end_at
) a
LEFT JOIN procedures t ON t.procedure_code = a.procedure_code
GROUP BY a.period_id, a.unit_code, a.procedure_code"""


def unit_tree_sql() -> str:
    """One SELECT (no WITH) of ``(unit_code, tree_code)`` for every unit of ``units``: the root of its tree
    (Cat-root: its ``unit_closure`` ancestor whose parent is not a known unit; the smallest code if several),
    ``''`` for a unit with no root (a parent cycle). A unit's ``unit_closure`` ancestors are in its tree (a
    root of an ancestor is a root of the unit), so every dossier-driven catalogue row reads dossier counts of
    its own tree only: ``LiveIndex`` scopes an update's recomputation by (period, TTHC, tree). Like the DISTINCT
    pooling of :func:`chiso766.engine.facts_catalogue.catalogue_counts_sql`, this relies on trees lying within
    ``unit_closure``'s 16-level walk. Reads ``units`` and ``unit_closure``."""
    return """
SELECT u.unit_code, COALESCE(MIN(ur.root_code), '') AS tree_code
FROM units u
LEFT JOIN (
    SELECT c.descendant AS unit_code, c.ancestor AS root_code
    FROM unit_closure c
    JOIN units ru ON ru.unit_code = c.ancestor
    LEFT JOIN units rp ON rp.unit_code = ru.parent_code
    WHERE rp.unit_code IS NULL
) ur ON ur.unit_code = u.unit_code
GROUP BY u.unit_code"""
