"""Counters: numerator and denominator of every indicator for every unit × period, pooled over subtrees.

A parent's counts are the counts of the union of its own and all its descendants' records ("ratio of sums,
never average of ratios"; METHODOLOGY §2 General rules): dossier and PAKN indicators SUM over
``unit_closure``; catalogue indicators count DISTINCT procedures / services over it. Indicators whose
methodology rule is ``children: inherit`` (1.1–1.3) are copied from the unit's root (the province).

Everything here is SQL over the facts tables (``dossier_facts``, ``petition_facts``, ``catalogue_facts``)
and the structure tables; the result is the long table
``counters(period_id, unit_code, indicator_code, numerator, denominator)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import duckdb

from chiso766.engine.dialect import DUCKDB, Dialect
from chiso766.engine.dossier_counts import dossier_wide_sql
from chiso766.engine.facts_catalogue import catalogue_counts_sql, catalogue_facts_sql
from chiso766.engine.facts_dossiers import dossier_facts_sql
from chiso766.engine.facts_petitions import petition_facts_sql
from chiso766.methodology.model import ChildRule, Methodology, ProcedureFilter
from chiso766.scoring import IndicatorCounts

# Dossier indicators: (code, numerator condition, denominator condition) over dossier_facts (METHODOLOGY §2).
DOSSIER_INDICATORS: tuple[tuple[str, str, str], ...] = (
    ("DOSSIER_SYNC", "in_recv", "in_recv"),  # D-1.4-1: every record is a synced dossier
    ("PROGRESS_ON_TIME", "in_proc AND on_time", "in_proc"),
    ("ONLINE_DOSSIERS", "in_proc AND channel_counted AND {online}", "in_proc AND channel_counted"),  # D-3.3-1
    ("PAYMENT_DOSSIERS_ONLINE", "in_proc AND fee_bearing AND paid_online", "in_proc AND fee_bearing"),  # D-3.6-*
    ("ORIGINAL_RESULT_AVAILABLE", "in_proc AND e_result", "in_proc"),  # D-4.1-1
    ("SO_HOA_GIAY_TO_GIAI_QUYET", "in_proc AND digitised", "in_proc"),
    ("REUSED_DIGITIZED_DATA", "in_proc AND reused", "in_proc"),
    ("SYNCED_WITH_DVCQG_PERSONAL_STORAGE", "in_proc AND store_linked", "in_proc"),
    ("CITIZEN_DATA_CONNECTED_DOSSIER", "in_proc AND population_data", "in_proc"),
    ("DOSSIER_RECEIVING_SATISFACTION", "in_proc AND satisfied", "in_proc"),  # D-5.4-1
)
PETITION_INDICATORS: tuple[tuple[str, str, str], ...] = (
    ("PETITION_PROCESSING_ON_TIME", "on_time", "TRUE"),  # D-5.2-1
    ("PETITION_HANDLING_SATISFACTION", "satisfied", "TRUE"),  # D-5.3-1
)
# The design variant's 3.3 condition (i), declared in its methodology file as a counting condition.
E_RESULT_CONDITION = "online_dossier_needs_electronic_result"


@dataclass(frozen=True)
class FactsOptions:
    """Knobs of the facts step (D-4.5b-1: the population-database code set is configurable)."""

    population_db_codes: Sequence[str] = ("1",)
    dialect: Dialect = DUCKDB


def fact_sums_sql(
    table: str,
    unit_column: str,
    where: str,
    specs: Sequence[tuple[str, str, str]],
    online: str = "online",
    scope: Callable[[str], str] = lambda code: "TRUE",
    weight: str = "1",
    ordered: bool = False,
) -> str:
    """Long (period_id, unit_code, indicator_code, numerator, denominator) sums of a facts table, pooled over
    ``unit_closure`` ancestors in ONE scan of the facts (wide sums, then unpivoted). ``weight`` (+1/−1) serves
    deltas. ``ordered`` sorts the (small) wide table by period before unpivoting it, so the long rows come out
    clustered by period without sorting them (the unpivot is a streaming cross join with the indicator list).

    Sums are decomposable: the facts are first counted per (period, unit); a unit's pooled sum is then its own
    (depth-0 closure row) plus the sum over its proper descendants (``depth > 0`` rows). Only internal units
    have the second part, so the large per-(period, unit) table is joined to a small aggregate instead of being
    re-aggregated as a whole: the same total over the same ``unit_closure`` rows.
    """
    if weight == "1":  # COUNT keeps BIGINT states (SUM of integers widens to 128 bits in DuckDB)
        sums = ", ".join(
            f"COUNT(CASE WHEN ({num.format(online=online)}) AND {scope(code)} THEN 1 END) AS n_{i}, "
            f"COUNT(CASE WHEN ({den}) AND {scope(code)} THEN 1 END) AS d_{i}"
            for i, (code, num, den) in enumerate(specs)
        )
    else:
        sums = ", ".join(
            f"SUM(CASE WHEN ({num.format(online=online)}) AND {scope(code)} THEN {weight} ELSE 0 END) AS n_{i}, "
            f"SUM(CASE WHEN ({den}) AND {scope(code)} THEN {weight} ELSE 0 END) AS d_{i}"
            for i, (code, num, den) in enumerate(specs)
        )
    wide = (
        f"SELECT f.period_id, f.{unit_column} AS unit_code, {sums} FROM {table} f "
        f"WHERE {where} GROUP BY f.period_id, f.{unit_column}"
    )
    return pooled_sums_sql(wide, [code for code, _num, _den in specs], ordered)


def pooled_sums_sql(wide: str, codes: Sequence[str], ordered: bool = False) -> str:
    """Long (period_id, unit_code, indicator_code, numerator, denominator) rows from ``wide``, a SELECT of
    per-(period, unit) sums ``(period_id, unit_code, n_0, d_0, …)`` in the order of ``codes`` (one row per key),
    pooled over ``unit_closure`` (see :func:`fact_sums_sql`) and unpivoted."""
    n = len(codes)
    rolled = ", ".join(f"SUM(b.n_{i}) AS n_{i}, SUM(b.d_{i}) AS d_{i}" for i in range(n))
    combined = ", ".join(
        f"COALESCE(o.n_{i}, 0) + COALESCE(a.n_{i}, 0) AS n_{i}, COALESCE(o.d_{i}, 0) + COALESCE(a.d_{i}, 0) AS d_{i}"
        for i in range(n)
    )
    own_columns = ", ".join(f"b.n_{i}, b.d_{i}" for i in range(n))
    pooled = (
        f"b AS ({wide}), "
        f"own AS (SELECT b.period_id, c.ancestor AS unit_code, {own_columns} "
        f"FROM b JOIN unit_closure c ON c.descendant = b.unit_code AND c.depth = 0), "
        f"below AS (SELECT b.period_id, c.ancestor AS unit_code, {rolled} "
        f"FROM b JOIN unit_closure c ON c.descendant = b.unit_code AND c.depth > 0 "
        f"GROUP BY b.period_id, c.ancestor), "
        f"w AS (SELECT COALESCE(o.period_id, a.period_id) AS period_id, "
        f"COALESCE(o.unit_code, a.unit_code) AS unit_code, {combined} "
        f"FROM own o FULL OUTER JOIN below a ON a.period_id = o.period_id AND a.unit_code = o.unit_code)"
    )
    indicators = ", ".join(f"({i}, '{code}')" for i, code in enumerate(codes))
    numerator = " ".join(f"WHEN {i} THEN w.n_{i}" for i in range(n))
    denominator = " ".join(f"WHEN {i} THEN w.d_{i}" for i in range(n))
    source = "(SELECT * FROM w ORDER BY period_id) w" if ordered else "w"
    return (
        f"WITH {pooled} SELECT w.period_id, w.unit_code, i.code AS indicator_code, "
        f"CASE i.k {numerator} END AS numerator, CASE i.k {denominator} END AS denominator "
        f"FROM {source} CROSS JOIN (VALUES {indicators}) i(k, code)"
    )


def build_facts(con: duckdb.DuckDBPyConnection, options: FactsOptions = FactsOptions()) -> None:
    """Materialise the three facts tables for the periods currently in ``period_structure``."""
    d = options.dialect
    codes = tuple(options.population_db_codes)
    for table, sql in (
        ("dossier_facts", dossier_facts_sql(d, population_db_codes=codes)),
        ("petition_facts", petition_facts_sql(d)),
        ("catalogue_facts", catalogue_facts_sql(d, population_db_codes=codes)),
    ):
        con.execute(f"DROP TABLE IF EXISTS {table}")
        con.execute(f"CREATE TABLE {table} AS {sql}")


def online_column(methodology: Methodology) -> str:
    """The dossier-facts column counted as "online" for 3.3: the design variant's counting condition (i)
    requires an electronic result for paper-result procedures (METHODOLOGY §3 #3)."""
    conditions = {c.id for i in methodology.indicators for c in i.counting_conditions}
    return "online_with_e_result" if E_RESULT_CONDITION in conditions else "online"


def included_indicators(methodology: Methodology, procedure_filtered: bool) -> dict[str, ProcedureFilter]:
    """The counted indicators and their mode: without a TTHC filter every non-constant one (``unfiltered``);
    with one, each follows its ``procedure_filter`` and ``omitted`` ones are left out."""
    out: dict[str, ProcedureFilter] = {}
    for ind in methodology.indicators:
        if ind.is_constant:
            continue
        mode = ind.procedure_filter if procedure_filtered else ProcedureFilter.UNFILTERED
        if mode is not ProcedureFilter.OMITTED:
            out[ind.code] = mode
    return out


def counters_sql(
    methodology: Methodology,
    procedure_code: str | None = None,
    *,
    dossier_facts: str = "dossier_facts",
    petition_facts: str = "petition_facts",
    catalogue_facts: str = "catalogue_facts",
) -> str:
    """SQL of the sparse long counters table: (period_id, unit_code, indicator_code, numerator, denominator),
    only rows with a non-zero count; a missing row is 0/0 and inheritance is applied when reading
    (:func:`unit_counts`).

    With ``procedure_code`` (one TTHC selected), each indicator follows its methodology ``procedure_filter``:
    ``filtered`` counts only that TTHC's records, ``unfiltered`` ignores the filter, ``null`` gives 0/0 and
    ``omitted`` drops the indicator (METHODOLOGY §2 General rules, "Filtering by one TTHC"). The catalogue
    facts must already be filtered by :func:`filter_catalogue_facts`. The facts tables are read under the given
    names (``LiveIndex`` keeps its own as ``mat_*``).
    """
    parts = counters_parts_sql(
        methodology,
        procedure_code,
        dossier_facts=dossier_facts,
        petition_facts=petition_facts,
        catalogue_facts=catalogue_facts,
    )
    return " UNION ALL ".join(f"({p})" for p in parts)


def counters_parts_sql(
    methodology: Methodology,
    procedure_code: str | None = None,
    *,
    dossier_facts: str = "dossier_facts",
    petition_facts: str = "petition_facts",
    catalogue_facts: str = "catalogue_facts",
    catalogue_static: tuple[str, str] | None = None,
    dossier_bounds: str | None = None,
    ordered: bool = False,
    dialect: Dialect = DUCKDB,
) -> list[str]:
    """The rows of :func:`counters_sql` as disjoint SELECTs (dossier, PAKN, catalogue indicators), each with the
    final columns. ``ordered``: each part's rows come out clustered by period (``LiveIndex`` inserts them one
    after the other, so an update touching a few periods reads only their row groups) — the dossier part by
    sorting its small wide table before unpivoting, the others by sorting their rows. ``catalogue_static``: the
    materialised static halves of the catalogue counts (see :func:`catalogue_counts_sql`). ``dossier_bounds``:
    ``dossier_facts`` is the compact form (``output="compact"`` of :func:`dossier_facts_sql`) and this table its
    bounds; the dossier sums come from :func:`~chiso766.engine.dossier_counts.dossier_wide_sql` (no TTHC filter)."""
    if dossier_bounds is not None and procedure_code is not None:
        raise ValueError("the compact dossier facts are never filtered by TTHC")
    online = online_column(methodology)
    modes = included_indicators(methodology, procedure_code is not None)
    counted = [c for c, m in modes.items() if m is not ProcedureFilter.NULL]

    def scope(code: str) -> str:
        return "f.procedure_code = $procedure" if modes.get(code) is ProcedureFilter.FILTERED else "TRUE"

    parts: list[str] = []
    for table, unit_column, where, specs in (
        (dossier_facts, "unit_code", "TRUE", DOSSIER_INDICATORS),
        (petition_facts, "holder_unit", "f.in_tree", PETITION_INDICATORS),
    ):
        chosen = [spec for spec in specs if spec[0] in counted]
        if not chosen:
            continue
        if table == dossier_facts and dossier_bounds is not None:
            wide = dossier_wide_sql(dossier_facts, dossier_bounds, chosen, online, dialect)
            parts.append(pooled_sums_sql(wide, [code for code, _num, _den in chosen], ordered))
        else:
            parts.append(fact_sums_sql(table, unit_column, where, chosen, online, scope, ordered=ordered))
    catalogue_codes = ", ".join(f"'{c}'" for c in counted) or "''"
    order = " ORDER BY period_id" if ordered else ""
    catalogue = catalogue_counts_sql(catalogue_facts, catalogue_static)
    parts.append(
        "SELECT period_id, unit_code, indicator_code, numerator, denominator "
        f"FROM ({catalogue}) cat WHERE indicator_code IN ({catalogue_codes})"
        f" AND (numerator <> 0 OR denominator <> 0){order}"
    )
    return [
        f"""SELECT period_id, unit_code, indicator_code,
               CAST(numerator AS BIGINT) AS numerator, CAST(denominator AS BIGINT) AS denominator
        FROM ({p}) pooled
        WHERE numerator <> 0 OR denominator <> 0"""
        for p in parts
    ]


def unit_counts(
    rows: Iterable[tuple[str, str, int, int]],
    units: Mapping[str, str],
    methodology: Methodology,
    procedure_filtered: bool = False,
) -> dict[str, dict[str, IndicatorCounts]]:
    """Every unit's full counters from the sparse rows (unit, indicator, n, d) of one period.

    ``units`` maps each unit to its root (province). A missing row is 0/0; indicators with ``children:
    inherit`` (1.1–1.3) take the root's counts (METHODOLOGY §2); ``null``-mode indicators under a TTHC filter
    are 0/0.
    """
    modes = included_indicators(methodology, procedure_filtered)
    inherit = {i.code for i in methodology.indicators if i.children is ChildRule.INHERIT}
    found: dict[str, dict[str, tuple[int, int]]] = {}
    for unit, code, n, d in rows:
        found.setdefault(unit, {})[code] = (int(n), int(d))
    out: dict[str, dict[str, IndicatorCounts]] = {}
    for unit, root in units.items():
        own, root_rows = found.get(unit, {}), found.get(root, {})
        counts: dict[str, IndicatorCounts] = {}
        for code, mode in modes.items():
            if mode is ProcedureFilter.NULL:
                counts[code] = IndicatorCounts(0, 0)
                continue
            n, d = (root_rows if code in inherit else own).get(code, (0, 0))
            counts[code] = IndicatorCounts(n, d)
        out[unit] = counts
    return out


def filter_catalogue_facts(con: duckdb.DuckDBPyConnection, methodology: Methodology, procedure_code: str) -> None:
    """Keep only the selected TTHC's rows for catalogue indicators the methodology filters (3.2 via its DVC).

    Static (``period_id = '*'``) and dated rows alike: every row of another TTHC goes, in every period, which
    keeps the row-set properties :func:`catalogue_counts_sql` counts with (closure, one unit per DVC)."""
    filtered = [i.code for i in methodology.indicators if i.procedure_filter is ProcedureFilter.FILTERED]
    if not filtered:
        return
    codes = ", ".join(f"'{c}'" for c in filtered)
    con.execute(
        f"""
        DELETE FROM catalogue_facts
        WHERE indicator_code IN ({codes})
          AND COALESCE((SELECT s.procedure_code FROM services s WHERE s.service_code = catalogue_facts.item_code),
                       catalogue_facts.item_code) <> $procedure
        """,
        {"procedure": procedure_code},
    )


def build_counters(con: duckdb.DuckDBPyConnection, methodology: Methodology, procedure_code: str | None = None) -> None:
    """Materialise ``counters`` from the facts tables (filtering catalogue facts first when asked)."""
    if procedure_code is not None:
        filter_catalogue_facts(con, methodology, procedure_code)
    con.execute("DROP TABLE IF EXISTS counters")
    params = {"procedure": procedure_code} if procedure_code is not None else {}
    con.execute(f"CREATE TABLE counters AS {counters_sql(methodology, procedure_code)}", params)
