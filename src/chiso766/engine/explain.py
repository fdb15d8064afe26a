"""Explain an indicator of one unit × period: the records behind the misses and what they cost.

For a prepared period (facts and counters built), the misses of an indicator are the records in its
denominator and not in its numerator. They are grouped by the unit's direct sub-units and by procedure; the
points a group costs = score(numerator + misses in the group) − score(numerator), computed by the scoring core,
so the figures add up exactly to what fixing those records would bring (for target functions the cap applies).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import duckdb

from chiso766.engine.counters import DOSSIER_INDICATORS, PETITION_INDICATORS, online_column
from chiso766.errors import InputError
from chiso766.methodology.model import Methodology
from chiso766.scoring import IndicatorCounts, UnitCounters, score_unit
from chiso766.scoring.core import json_number

# Why a dossier in the denominator is not in the numerator (SQL over dossier_facts).
DOSSIER_MISS_REASONS: Mapping[str, str] = {
    "DOSSIER_SYNC": "'not_synced'",
    "PROGRESS_ON_TIME": "COALESCE(late_reason, 'late')",
    "ONLINE_DOSSIERS": "CASE WHEN online THEN 'online_without_e_result' ELSE 'not_online' END",
    "PAYMENT_DOSSIERS_ONLINE": "'not_paid_online'",
    "ORIGINAL_RESULT_AVAILABLE": "'no_electronic_result'",
    "SO_HOA_GIAY_TO_GIAI_QUYET": "'not_digitised'",
    "REUSED_DIGITIZED_DATA": "'no_reused_data'",
    "SYNCED_WITH_DVCQG_PERSONAL_STORAGE": "'not_linked_to_data_store'",
    "CITIZEN_DATA_CONNECTED_DOSSIER": "'no_population_data'",
    "DOSSIER_RECEIVING_SATISFACTION": (
        "CASE WHEN NOT on_time THEN 'late' WHEN has_petition THEN 'has_petition' ELSE 'disliked' END"
    ),
}
REASON_LABELS: Mapping[str, tuple[str, str]] = {
    "after_due": ("Quá hạn so với ngày hẹn trả", "Finished or still open after the due time"),
    "multiple_supplements": ("Yêu cầu bổ sung quá 1 lần", "More than one supplement request"),
    "over_max_time": ("Quá thời hạn giải quyết của TTHC", "Over the procedure's maximum processing time"),
    "late": ("Trễ hạn", "Late"),
    "not_online": ("Không nộp trực tuyến", "Not submitted online"),
    "online_without_e_result": ("Trực tuyến nhưng thiếu kết quả điện tử", "Online but no electronic result"),
    "not_paid_online": ("Chưa thanh toán trực tuyến", "Not paid online"),
    "no_electronic_result": ("Không có kết quả điện tử", "No electronic result"),
    "not_digitised": ("Chưa số hóa thành phần hoặc kết quả", "Components or result not digitised"),
    "no_reused_data": ("Không tái sử dụng dữ liệu số hóa", "No re-used digitised data"),
    "not_linked_to_data_store": ("Không kết nối kho dữ liệu cá nhân", "Not linked to the personal data store"),
    "no_population_data": ("Không sử dụng dữ liệu dân cư", "No population data used"),
    "has_petition": ("Có phản ánh, kiến nghị", "Has a petition (PAKN)"),
    "disliked": ("Bị đánh giá không hài lòng", "Rated unsatisfied"),
}


@dataclass(frozen=True)
class MissGroup:
    key: str
    name: str | None
    misses: int
    points: Decimal


def explain(
    con: duckdb.DuckDBPyConnection,
    methodology: Methodology,
    unit_code: str,
    level: str,
    indicator_code: str,
    period_id: str,
    counts: Mapping[str, IndicatorCounts],
    limit: int = 100,
    hits: bool = False,
) -> dict[str, Any]:
    """The explanation document of one indicator (JSON-ready); ``counts`` are the unit's counters.

    By default it lists the misses (denominator, not numerator) with the points each group of them costs;
    with ``hits`` it lists the records behind the numerator instead (``points`` is then null)."""
    try:
        indicator = methodology.indicator(indicator_code)
    except KeyError:
        raise InputError.single(
            "unknown_indicator",
            f"Mã chỉ tiêu không xác định '{indicator_code}'",
            f"Unknown indicator code '{indicator_code}'",
            field="indicator",
        ) from None
    found = counts.get(indicator_code)
    numerator = found.numerator if found is not None else None
    denominator = found.denominator if found is not None else None

    def points(n: int | None, d: int | None) -> Decimal:
        if n is None or d is None:
            return Decimal("0.00")
        counts = UnitCounters(level=level, indicators={indicator_code: IndicatorCounts(n, d)})
        value = score_unit(methodology, counts).indicators[indicator_code].score
        return value if value is not None else Decimal("0.00")

    current = points(numerator, denominator)
    source = _miss_source(methodology, indicator_code, hits)
    doc: dict[str, Any] = {
        "unit": unit_code,
        "period": period_id,
        "indicator": indicator_code,
        "name_vi": indicator.name_vi,
        "name_en": indicator.name_en,
        "numerator": numerator,
        "denominator": denominator,
        "score": json_number(current),
        "max_score": json_number(indicator.max_points),
        "methodology": methodology.version,
        "by_subunit": [],
        "by_procedure": [],
        "by_reason": [],
        "records": [],
        "records_total": 0,
        "listing": "hits" if hits else "misses",
    }
    if source is None or numerator is None or denominator is None:
        return doc
    misses_sql, kind = source
    con.execute("DROP TABLE IF EXISTS explain_misses")
    con.execute(
        f"""
        CREATE TEMP TABLE explain_misses AS
        SELECT m.*, COALESCE(sub.ancestor, m.unit_code) AS subunit
        FROM ({misses_sql}) m
        JOIN unit_closure c ON c.descendant = m.unit_code AND c.ancestor = $unit
        LEFT JOIN unit_closure sub ON sub.descendant = m.unit_code AND sub.depth = c.depth - 1
             AND sub.ancestor IN (SELECT unit_code FROM units WHERE parent_code = $unit)
        """,
        {"unit": unit_code, "period": period_id},
    )

    def grouped(column: str, names_sql: str | None) -> list[dict[str, Any]]:
        rows = con.execute(
            f"SELECT {column}, COUNT(DISTINCT record_id) FROM explain_misses GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 50"
        ).fetchall()
        names: dict[str, str] = {}
        if names_sql is not None:
            names = dict(con.execute(names_sql).fetchall())
        out = []
        for key, count in rows:
            gain = None if hits else points(numerator + int(count), denominator) - current
            out.append({"key": key, "name": names.get(key), "misses": int(count), "points": json_number(gain)})
        return out

    doc["by_subunit"] = grouped("subunit", "SELECT unit_code, name FROM units")
    doc["by_procedure"] = grouped("procedure_code", "SELECT procedure_code, name FROM procedures")
    reasons = grouped("reason", None)
    for r in reasons:
        vi, en = REASON_LABELS.get(r["key"], (r["key"], r["key"]))
        r["name"], r["name_en"] = vi, en
    doc["by_reason"] = reasons
    total = con.execute("SELECT COUNT(DISTINCT record_id) FROM explain_misses").fetchone()
    doc["records_total"] = int(total[0]) if total else 0
    doc["record_kind"] = kind
    records = con.execute(
        f"SELECT record_id, unit_code, procedure_code, reason, detail_at FROM explain_misses "
        f"ORDER BY detail_at NULLS LAST, record_id LIMIT {int(limit)}"
    ).fetchall()
    doc["records"] = [
        {
            "id": rid,
            "unit": unit,
            "procedure": proc,
            "reason": reason,
            "at": at.isoformat() + "Z" if at is not None else None,
        }
        for rid, unit, proc, reason, at in records
    ]
    return doc


def _miss_source(methodology: Methodology, code: str, hits: bool = False) -> tuple[str, str] | None:
    """SQL listing the misses (or, with ``hits``, the numerator records) of ``code``:
    (record_id, unit_code, procedure_code, reason, detail_at)."""
    online = online_column(methodology)
    negate = "" if hits else "NOT "
    for spec_code, num, den in DOSSIER_INDICATORS:
        if spec_code == code:
            reason = "'counted'" if hits else DOSSIER_MISS_REASONS[code]
            return (
                f"SELECT dossier_id AS record_id, unit_code, procedure_code, "
                f"{reason} AS reason, due_at AS detail_at FROM dossier_facts "
                f"WHERE period_id = $period AND ({den}) AND {negate}({num.format(online=online)})",
                "dossier",
            )
    for spec_code, num, den in PETITION_INDICATORS:
        if spec_code == code:
            reason = (
                "'counted'"
                if hits
                else ("COALESCE(late_reason, CASE WHEN disliked THEN 'disliked' ELSE 'raised_again' END)")
            )
            return (
                f"SELECT petition_id AS record_id, holder_unit AS unit_code, CAST(NULL AS VARCHAR) AS procedure_code, "
                f"{reason} AS reason, clock_start_at AS detail_at FROM petition_facts "
                f"WHERE period_id = $period AND in_tree AND ({den}) AND {negate}({num})",
                "petition",
            )
    from chiso766.engine.facts_catalogue import STATIC_PERIOD

    # Catalogue facts of a period = its dated rows and the static ('*') rows (facts_catalogue "Representation"):
    # an item of a unit misses when none of its rows is a hit; the dated row's reason explains the period.
    return (
        "SELECT item_code AS record_id, unit_code, item_code AS procedure_code, "
        f"COALESCE(MAX(CASE WHEN period_id <> '{STATIC_PERIOD}' THEN reason END), MAX(reason), 'miss') AS reason, "
        "CAST(NULL AS TIMESTAMP) AS detail_at FROM catalogue_facts "
        f"WHERE period_id IN ('{STATIC_PERIOD}', $period) AND indicator_code = '{code}' "
        f"GROUP BY unit_code, item_code HAVING MAX(CASE WHEN hit THEN 1 ELSE 0 END) = {1 if hits else 0}",
        "procedure",
    )
