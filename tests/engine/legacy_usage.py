"""``dossier_usage_sql`` as it was before closed periods were matched by day (kept only for
``test_engine_equivalence.py``)."""

from __future__ import annotations

from chiso766.engine.facts_catalogue import USAGE_COUNTS


def dossier_usage_sql(arrivals: str, periods: str = "period_structure", weight: str | None = None) -> str:
    """One SELECT (no WITH): per ``(period_id, unit_code, procedure_code)`` the counts of :data:`USAGE_COUNTS`
    over the arrivals (rows of :func:`dossier_arrivals_sql`, table or CTE ``arrivals``) that arrived in the
    period (Cat-arrival: ``[start_at, end_at)`` and ``<= as_of_at`` of ``periods``). A fee count counts
    dossiers of a TTHC with ``has_fee`` in ``procedures``. ``weight`` (a column of ``arrivals``) weighs each
    row (±1 for the incremental deltas); without it only keys with a dossier appear.
    """
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
