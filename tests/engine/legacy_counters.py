"""``fact_sums_sql`` as it was before the own/below roll-up (kept only for ``test_engine_equivalence.py``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence


def fact_sums_sql(
    table: str,
    unit_column: str,
    where: str,
    specs: Sequence[tuple[str, str, str]],
    online: str = "online",
    scope: Callable[[str], str] = lambda code: "TRUE",
    weight: str = "1",
) -> str:
    """Long (period_id, unit_code, indicator_code, numerator, denominator) sums of a facts table, pooled over
    ``unit_closure`` ancestors in ONE scan of the facts (wide sums, then unpivoted). ``weight`` (+1/−1) serves
    deltas."""
    sums = ", ".join(
        f"SUM(CASE WHEN ({num.format(online=online)}) AND {scope(code)} THEN {weight} ELSE 0 END) AS n_{i}, "
        f"SUM(CASE WHEN ({den}) AND {scope(code)} THEN {weight} ELSE 0 END) AS d_{i}"
        for i, (code, num, den) in enumerate(specs)
    )
    rolled = ", ".join(f"SUM(b.n_{i}) AS n_{i}, SUM(b.d_{i}) AS d_{i}" for i in range(len(specs)))
    # Sums are decomposable: aggregate per (period, unit) first, then roll the few rows up the tree.
    wide = (
        f"SELECT b.period_id, c.ancestor AS unit_code, {rolled} "
        f"FROM (SELECT f.period_id, f.{unit_column} AS unit_code, {sums} FROM {table} f "
        f"WHERE {where} GROUP BY f.period_id, f.{unit_column}) b "
        f"JOIN unit_closure c ON c.descendant = b.unit_code "
        f"GROUP BY b.period_id, c.ancestor"
    )
    unpivot = " UNION ALL ".join(
        f"SELECT period_id, unit_code, '{code}' AS indicator_code, n_{i} AS numerator, d_{i} AS denominator FROM w"
        for i, (code, _num, _den) in enumerate(specs)
    )
    return f"WITH w AS ({wide}) {unpivot}"
