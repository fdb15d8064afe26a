"""Every real portal case (shared/testdata/portal_cases_phutho_2026.json, copied to tests/data) reproduces
through the public API within 0.01 point — in fact exactly, since the portal publishes 2-decimal values."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from chiso766.methodology import load_methodology
from chiso766.scoring import (
    group_score_from_indicator_scores,
    parse_counters,
    score_unit,
    total_from_groups,
)

CASES: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent.parent / "data" / "portal_cases_phutho_2026.json").read_text(encoding="utf-8")
)
METHOD = load_methodology("portal-2026")
TOLERANCE = Decimal("0.01")

# Portal parameters → our indicator codes (METHODOLOGY §2 group 3 and group 4 formulas).
CLGQ_INPUTS = {
    "ONLINE_PROCEDURES": (("partialCount", "fullCount"), "authorityCount"),
    "ONLINE_SERVICES_USED": (("onlineDossierCount",), "onlineServiceTotal"),
    "ONLINE_DOSSIERS": (("channelOnlineSum",), "channelTotalSum"),
}
TTTT_INPUTS = {
    "PAYMENT_DOSSIERS_ONLINE": (("totalDossierOnlinePaymentSuccess",), "totalDossierFinancialObligation"),
    "PAYMENT_PROCEDURES_ONLINE": (("totalDossierOnlineFormalityPaymentSuccess",), "totalFeeDossierFormalityDistinct"),
    "PAYMENT_PROCEDURES_INTEGRATED": (("totalFeeDossierFormality",), "totalFeeFormality"),
}
GROUP_OF_CASE = {"GROUP_CLGQ_DVCTT": ("CLGQ", CLGQ_INPUTS), "GROUP_TTTT_PAYMENT": ("TTTT", TTTT_INPUTS)}
METRIC_GROUPS = {"GROUP_CKMB": "CKMB", "GROUP_MDHL": "MDHL", "GROUP_MDSH": "MDSH"}


def _id(case: dict[str, Any]) -> str:
    return f"{case['metric']}|{case['unit']}|{case['period'][:40]}"


def _close(actual: Decimal | None, expected: float | int | None) -> bool:
    if expected is None or actual is None:
        return actual is None and expected is None
    return abs(actual - Decimal(str(expected))) <= TOLERANCE


def test_case_file_is_complete() -> None:
    """All 75 cases are present and each kind below is exercised (a silently skipped kind would hide bugs)."""
    assert len(CASES) == 75
    kinds = {c["metric"] for c in CASES}
    assert set(METRIC_GROUPS) | set(GROUP_OF_CASE) | {"TOTAL_100"} <= kinds
    assert {i.code for i in METHOD.indicators} - {"ONLINE_PROCEDURES", "ONLINE_SERVICES_USED", "ONLINE_DOSSIERS"} - set(
        TTTT_INPUTS
    ) <= kinds


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_portal_case(case: dict[str, Any]) -> None:
    metric = case["metric"]
    expected = case["official_score"]
    if metric in GROUP_OF_CASE:
        group, mapping = GROUP_OF_CASE[metric]
        inputs = case["inputs"]
        indicators = {
            code: {"numerator": sum(inputs[k] for k in num_keys), "denominator": inputs[den_key]}
            for code, (num_keys, den_key) in mapping.items()
        }
        result = score_unit(METHOD, parse_counters({"level": case["level"], "indicators": indicators}, METHOD))
        assert _close(result.groups[group].score, expected), result.groups[group]
        assert _close(result.groups[group].rate, case["rate"])
    elif metric in METRIC_GROUPS:
        scores = {
            str(i): (None if v is None else Decimal(str(v))) for i, v in enumerate(case["inputs"]["metric_scores"])
        }
        score = group_score_from_indicator_scores(METHOD, METRIC_GROUPS[metric], scores)
        assert _close(score, expected)
    elif metric == "TOTAL_100":
        groups = {k: Decimal(str(v)) for k, v in case["inputs"].items()}
        assert _close(total_from_groups(groups), expected)
    else:
        counts = {"numerator": case["numerator"], "denominator": case["denominator"]}
        result = score_unit(METHOD, parse_counters({"level": case["level"], "indicators": {metric: counts}}, METHOD))
        indicator = result.indicators[metric]
        assert _close(indicator.score, expected), indicator
        assert _close(indicator.rate, case["rate"]), indicator
        assert indicator.max_score == case["max_score"]


def test_phu_tho_year_all_groups_from_counts() -> None:
    """The shipped example (Phú Thọ, year 2026, portal counts) gives the portal's six published group scores.

    Published on 2026-09-26: CKMB 7,96 · TDGQ 17,68 · CLGQ 8,56 · TTTT 6,67 · MDHL 11,43 · MDSH 9,59.
    """
    from chiso766.reference import example_counters_path

    doc = json.loads(example_counters_path().read_text(encoding="utf-8"))
    result = score_unit(METHOD, parse_counters(doc, METHOD))
    published = {"CKMB": "7.96", "TDGQ": "17.68", "CLGQ": "8.56", "TTTT": "6.67", "MDHL": "11.43", "MDSH": "9.59"}
    assert {code: str(g.score) for code, g in result.groups.items()} == published
    assert result.total == Decimal("61.89")
