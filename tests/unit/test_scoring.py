"""Scoring core: rounding, scoring functions, zero-denominator rules, levels, variants, national average, ranks."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chiso766.errors import InputError
from chiso766.methodology import Methodology, ScoringFunction, load_methodology
from chiso766.scoring import (
    competition_ranks,
    half_up,
    national_average,
    parse_counters,
    parse_counters_json,
    percent,
    score_unit,
)
from chiso766.scoring.core import (
    FLAG_CHILD_ZERO,
    FLAG_FALLBACK,
    FLAG_MULTIPLIED,
    FLAG_NO_REPORT,
    FLAG_REDISTRIBUTED,
    UnitScore,
)

PORTAL = load_methodology("portal-2026")
DESIGN = load_methodology("decision-766-design")
SCORED = [i for i in PORTAL.indicators if not i.is_constant]


def score(method: Methodology, indicators: dict[str, Any], level: str = "province", **extra: Any) -> UnitScore:
    return score_unit(method, parse_counters({"level": level, "indicators": indicators, **extra}, method))


# --- rounding -------------------------------------------------------------------------------------------------


def test_half_up_rounds_ties_away_from_zero_exactly() -> None:
    """2.675 is 2.67499999… as a binary float; the exact rule must give 2.68 (and 0.125 → 0.13)."""
    assert half_up(Fraction("2.675")) == Decimal("2.68")
    assert half_up(Fraction("0.125")) == Decimal("0.13")
    assert half_up(Fraction("-0.125")) == Decimal("-0.13")
    assert half_up(Fraction("0.124999")) == Decimal("0.12")
    assert half_up(Fraction(1, 3)) == Decimal("0.33")
    assert str(half_up(6)) == "6.00"


def test_rate_at_a_half_up_boundary() -> None:
    """1/8 = 12.5 % exactly → 12.50; 1/800 = 0.125 % → 0.13 (half-up), never 0.12."""
    assert percent(1, 8) == Decimal("12.50")
    assert percent(1, 800) == Decimal("0.13")


def test_score_at_a_half_up_boundary_uses_exact_arithmetic() -> None:
    """20 × 1/160 = 0.125 points exactly → 0.13; float arithmetic may drift below the tie."""
    result = score(PORTAL, {"PROGRESS_ON_TIME": {"numerator": 1, "denominator": 160}})
    assert result.indicators["PROGRESS_ON_TIME"].score == Decimal("0.13")
    assert result.groups["TDGQ"].score == Decimal("0.13")


# --- properties (hypothesis) --------------------------------------------------------------------------------

counts = st.integers(min_value=1, max_value=10**7).flatmap(lambda d: st.tuples(st.integers(0, d), st.just(d)))


@given(indicator=st.sampled_from(SCORED), nd=counts)
def test_score_within_zero_and_max(indicator: Any, nd: tuple[int, int]) -> None:
    n, d = nd
    result = score(PORTAL, {indicator.code: {"numerator": n, "denominator": d}})
    value = result.indicators[indicator.code].score
    assert value is not None
    assert 0 <= Fraction(value) <= indicator.max_points
    assert Decimal(0) <= result.total <= 100


@given(indicator=st.sampled_from(SCORED), nd=counts, extra=st.integers(1, 1000))
def test_larger_numerator_never_lowers_the_score(indicator: Any, nd: tuple[int, int], extra: int) -> None:
    n, d = nd
    bigger = min(d, n + extra)
    low = score(PORTAL, {indicator.code: {"numerator": n, "denominator": d}}).indicators[indicator.code].score
    high = score(PORTAL, {indicator.code: {"numerator": bigger, "denominator": d}}).indicators[indicator.code].score
    assert low is not None and high is not None
    assert high >= low


TARGETS = [i for i in PORTAL.indicators if i.scoring.function is ScoringFunction.TARGET]


@given(indicator=st.sampled_from(TARGETS), d=st.integers(1, 10**6), data=st.data())
def test_full_marks_at_and_above_threshold(indicator: Any, d: int, data: st.DataObject) -> None:
    threshold = indicator.scoring.threshold
    lowest = -(-threshold.numerator * d // threshold.denominator)  # ceil(t·d): first numerator with n/d ≥ t
    n = data.draw(st.integers(lowest, d))
    result = score(PORTAL, {indicator.code: {"numerator": n, "denominator": d}})
    assert Fraction(result.indicators[indicator.code].score) == indicator.max_points


@given(d=st.integers(2, 10**6), data=st.data())
def test_below_threshold_is_proportional(d: int, data: st.DataObject) -> None:
    """3.3 target(6, 50 %): below the threshold, points = 6·r/0.5 rounded half-up."""
    n = data.draw(st.integers(0, (d - 1) // 2))
    result = score(PORTAL, {"ONLINE_DOSSIERS": {"numerator": n, "denominator": d}})
    assert result.indicators["ONLINE_DOSSIERS"].score == half_up(Fraction(6 * n * 2, d))


# --- zero-denominator rules (D-score-6) --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "rate", "points"),
    [
        ("PUBLISH_ON_TIME", None, None),  # null → counts 0
        ("ORIGINAL_RESULT_AVAILABLE", None, None),
        ("PROGRESS_ON_TIME", Decimal("0.00"), Decimal("0.00")),  # zero
        ("DOSSIER_RECEIVING_SATISFACTION", Decimal("0.00"), Decimal("0.00")),
        ("PETITION_PROCESSING_ON_TIME", Decimal("0.00"), Decimal("6.00")),  # full
        ("PETITION_HANDLING_SATISFACTION", Decimal("0.00"), Decimal("6.00")),
    ],
)
def test_zero_denominator_rules(code: str, rate: Decimal | None, points: Decimal | None) -> None:
    result = score(PORTAL, {code: {"numerator": 0, "denominator": 0}})
    assert result.indicators[code].rate == rate
    assert result.indicators[code].score == points
    group = PORTAL.indicator(code).group
    constants = sum(Fraction(i.scoring.value or 0) for i in PORTAL.indicators_of(group) if i.is_constant)
    assert Fraction(result.groups[group].score) == Fraction(points or 0) + constants


def test_no_pakn_gives_twelve_points_on_the_portal() -> None:
    """METHODOLOGY §2 note: with no PAKN the portal gives 6 + 6; with 5.4 at 96,89 % the group is 18."""
    result = score(
        PORTAL,
        {
            "PETITION_PROCESSING_ON_TIME": {"numerator": 0, "denominator": 0},
            "PETITION_HANDLING_SATISFACTION": {"numerator": 0, "denominator": 0},
            "DOSSIER_RECEIVING_SATISFACTION": {"numerator": 156, "denominator": 161},
        },
        level="provincial_department",
    )
    assert result.groups["MDHL"].score == Decimal("18.00")


def test_absent_indicator_adds_zero_and_is_not_output() -> None:
    """D-score-3: absent 5.2/5.3 do not get the no-PAKN points; the constant is always output."""
    result = score(PORTAL, {"DOSSIER_RECEIVING_SATISFACTION": {"numerator": 9, "denominator": 10}})
    assert "PETITION_PROCESSING_ON_TIME" not in result.indicators
    assert result.groups["MDHL"].score == Decimal("6.00")
    assert result.indicators["ELECTRONIC_CERTIFIED_COPY"].score == Decimal("2.00")
    assert result.indicators["ELECTRONIC_CERTIFIED_COPY"].rate == Decimal("100.00")
    assert result.groups["MDHL"].max_score == 18


# --- levels --------------------------------------------------------------------------------------------------


def test_online_procedures_score_zero_below_province() -> None:
    """3.1 gives children 0 (D-score-5): a commune with 3.2 = 1/1 and 3.3 = 1/1 scores 4 + 6 = 10, rate kept."""
    indicators = {
        "ONLINE_PROCEDURES": {"numerator": 52, "denominator": 89},
        "ONLINE_SERVICES_USED": {"numerator": 1, "denominator": 1},
        "ONLINE_DOSSIERS": {"numerator": 1, "denominator": 1},
    }
    commune = score(PORTAL, indicators, level="commune")
    province = score(PORTAL, indicators, level="province")
    assert commune.groups["CLGQ"].score == Decimal("10.00")
    assert commune.indicators["ONLINE_PROCEDURES"].rate == Decimal("58.43")
    assert FLAG_CHILD_ZERO in commune.indicators["ONLINE_PROCEDURES"].flags
    assert province.groups["CLGQ"].score == Decimal("11.46")


def test_parameter_group_rounds_the_unrounded_sum() -> None:
    """Parameter groups round Σ of unrounded components (METHODOLOGY §3 #16), which can differ from Σ of rounded.

    TTTT: 3.6 = 6·(1/1200) = 0.005 (→ 0.01 alone) and 3.5b = 2·(1/500)/0.8 = 0.005 (→ 0.01 alone);
    the group is half-up(0.010) = 0.01, not 0.01 + 0.01 = 0.02.
    """
    result = score(
        PORTAL,
        {
            "PAYMENT_DOSSIERS_ONLINE": {"numerator": 1, "denominator": 1200},
            "PAYMENT_PROCEDURES_ONLINE": {"numerator": 1, "denominator": 500},
        },
    )
    assert result.indicators["PAYMENT_DOSSIERS_ONLINE"].score == Decimal("0.01")
    assert result.indicators["PAYMENT_PROCEDURES_ONLINE"].score == Decimal("0.01")
    assert result.groups["TTTT"].score == Decimal("0.01")


def test_metric_group_sums_rounded_scores() -> None:
    """Metric groups add the 2-decimal scores: CKMB 1.2 = 4·(1/800) = 0.005 → 0.01 and 1.3 = 2·(1/800) = 0.0025
    → 0.00, plus 1.1 = 6·(1/1200) = 0.005 → 0.01: group 0.02, where rounding the sum (0.0125) would give 0.01."""
    result = score(
        PORTAL,
        {
            "PUBLISH_ON_TIME": {"numerator": 1, "denominator": 1200},
            "PUBLIC_UPDATE_ON_TIME": {"numerator": 1, "denominator": 800},
            "PUBLIC_CONTENT_FULL": {"numerator": 1, "denominator": 800},
        },
    )
    assert result.groups["CKMB"].score == Decimal("0.02")


# --- the design variant ---------------------------------------------------------------------------------------


def test_design_variant_4_2_full_at_80_percent() -> None:
    """Sở GD&ĐT Phú Thọ Aug 2026: 261/326 = 80,06 % → portal 3,20 (linear), design 4,00 (target 80 %)."""
    counts = {"SO_HOA_GIAY_TO_GIAI_QUYET": {"numerator": 261, "denominator": 326}}
    assert score(PORTAL, counts).indicators["SO_HOA_GIAY_TO_GIAI_QUYET"].score == Decimal("3.20")
    assert score(DESIGN, counts).indicators["SO_HOA_GIAY_TO_GIAI_QUYET"].score == Decimal("4.00")


def test_design_variant_splits_no_pakn_points() -> None:
    """No PAKN: 5.3's 6 points go 3 + 3 to 5.2 (full: 9) and 5.4 (9 × min(1, r/0.9)); 5.4 = 80 % → 8.00."""
    counts = {
        "PETITION_PROCESSING_ON_TIME": {"numerator": 0, "denominator": 0},
        "PETITION_HANDLING_SATISFACTION": {"numerator": 0, "denominator": 0},
        "DOSSIER_RECEIVING_SATISFACTION": {"numerator": 80, "denominator": 100},
    }
    design = score(DESIGN, counts)
    assert design.indicators["PETITION_HANDLING_SATISFACTION"].score is None
    assert FLAG_REDISTRIBUTED in design.indicators["PETITION_HANDLING_SATISFACTION"].flags
    assert design.indicators["PETITION_PROCESSING_ON_TIME"].score == Decimal("9.00")
    assert design.indicators["DOSSIER_RECEIVING_SATISFACTION"].score == Decimal("8.00")
    assert design.groups["MDHL"].score == Decimal("17.00")
    assert score(PORTAL, counts).groups["MDHL"].score == Decimal("17.33")  # 6 + 6 + 6·0.8/0.9 = 17.333


def test_design_variant_multiplies_online_rate_by_sync_rate() -> None:
    """3.3 × 1.4: 40 % online × 50 % synced = 20 % → 6·0.2/0.5 = 2.40 (portal: 4.80)."""
    counts = {
        "ONLINE_DOSSIERS": {"numerator": 40, "denominator": 100},
        "DOSSIER_SYNC": {"numerator": 50, "denominator": 100},
    }
    design = score(DESIGN, counts)
    assert design.indicators["ONLINE_DOSSIERS"].score == Decimal("2.40")
    assert FLAG_MULTIPLIED in design.indicators["ONLINE_DOSSIERS"].flags
    assert design.indicators["ONLINE_DOSSIERS"].rate == Decimal("40.00")
    assert score(PORTAL, counts).indicators["ONLINE_DOSSIERS"].score == Decimal("4.80")


def test_design_variant_dossier_sync_denominator_and_fallback() -> None:
    """1.4 design: denominator max(DVCQG, BCQG); both 0 → previous-year BCQG / 12 for a month, flagged."""
    larger = score(DESIGN, {"DOSSIER_SYNC": {"numerator": 90, "denominator": 90, "bcqg_received": 120}})
    assert larger.indicators["DOSSIER_SYNC"].score == Decimal("4.50")  # 6 · 90/120
    fallback = score(
        DESIGN,
        {"DOSSIER_SYNC": {"numerator": 0, "denominator": 0, "previous_year_bcqg_received": 1200}},
        period_type="month",
    )
    assert fallback.indicators["DOSSIER_SYNC"].denominator == 100
    assert fallback.indicators["DOSSIER_SYNC"].score == Decimal("0.00")
    assert FLAG_FALLBACK in fallback.indicators["DOSSIER_SYNC"].flags
    nothing = score(DESIGN, {"DOSSIER_SYNC": {"numerator": 0, "denominator": 0}}, period_type="month")
    assert nothing.indicators["DOSSIER_SYNC"].rate == Decimal("0.00")
    assert FLAG_NO_REPORT in nothing.indicators["DOSSIER_SYNC"].flags
    portal = score(PORTAL, {"DOSSIER_SYNC": {"numerator": 0, "denominator": 0}})
    assert portal.indicators["DOSSIER_SYNC"].score is None  # DVCQG-only default: 0/0 → null


def test_bcqg_inputs_rejected_where_the_methodology_has_no_rule_for_them() -> None:
    with pytest.raises(InputError) as err:
        parse_counters(
            {
                "level": "province",
                "indicators": {"DOSSIER_SYNC": {"numerator": 1, "denominator": 1, "bcqg_received": 2}},
            },
            PORTAL,
        )
    assert err.value.problems[0].field == "indicators.DOSSIER_SYNC.bcqg_received"


# --- national average and ranks ---------------------------------------------------------------------------------


def test_national_average_sums_rounded_axis_means() -> None:
    """Three provinces whose CKMB mean is 10.005 (→ 10.01) and ONLINE_SERVICE (CLGQ+TTTT) mean 14.715 (→ 14.72).

    Mean of totals = (sum of all) / 3 = 41.72 (rounded), while the portal's rule gives 10.01 + 17.00 + 14.72 = 41.73.
    """
    provinces = [
        {"CKMB": Decimal("10.00"), "TDGQ": Decimal("17.00"), "CLGQ": Decimal("8.00"), "TTTT": Decimal("6.71")},
        {"CKMB": Decimal("10.00"), "TDGQ": Decimal("17.00"), "CLGQ": Decimal("8.00"), "TTTT": Decimal("6.72")},
        {"CKMB": Decimal("10.015"), "TDGQ": Decimal("17.00"), "CLGQ": Decimal("8.00"), "TTTT": Decimal("6.715")},
    ]
    national = national_average(PORTAL, provinces)
    assert national.axes["CKMB"] == Decimal("10.01")
    assert national.axes["ONLINE_SERVICE"] == Decimal("14.72")
    assert national.total == Decimal("41.73")
    totals = [sum(p.values()) for p in provinces]
    assert half_up(Fraction(sum(totals)) / 3) == Decimal("41.72")
    assert national.provinces == 3


def test_national_average_of_published_radar_means() -> None:
    """METHODOLOGY §1: group means 10.46 / 17.56 / 14.72 / 10.24 / 9.61 add to the published 62.59."""
    one = {"CKMB": Decimal("10.46"), "TDGQ": Decimal("17.56"), "CLGQ": Decimal("8.00"), "TTTT": Decimal("6.72")}
    one |= {"MDHL": Decimal("10.24"), "MDSH": Decimal("9.61")}
    assert national_average(PORTAL, [one]).total == Decimal("62.59")


def test_national_average_needs_provinces() -> None:
    with pytest.raises(InputError):
        national_average(PORTAL, [])


def test_competition_ranks_share_ties() -> None:
    ranks = competition_ranks(
        {"A": Decimal("68.80"), "B": Decimal("62.18"), "C": Decimal("62.18"), "D": Decimal("55.23"), "E": None}
    )
    assert ranks == {"A": 1, "B": 2, "C": 2, "D": 4, "E": None}


# --- bad input ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("doc", "field"),
    [
        ({"level": "province", "indicators": {"NOPE": {"numerator": 1, "denominator": 2}}}, "indicators.NOPE"),
        (
            {"level": "province", "indicators": {"PROGRESS_ON_TIME": {"numerator": -1, "denominator": 2}}},
            "indicators.PROGRESS_ON_TIME.numerator",
        ),
        (
            {"level": "province", "indicators": {"PROGRESS_ON_TIME": {"numerator": 3, "denominator": 2}}},
            "indicators.PROGRESS_ON_TIME.numerator",
        ),
        (
            {"level": "province", "indicators": {"PROGRESS_ON_TIME": {"numerator": 1.5, "denominator": 2}}},
            "indicators.PROGRESS_ON_TIME.numerator",
        ),
        (
            {"level": "province", "indicators": {"PROGRESS_ON_TIME": {"numerator": "1", "denominator": 2}}},
            "indicators.PROGRESS_ON_TIME.numerator",
        ),
        (
            {"level": "province", "indicators": {"PROGRESS_ON_TIME": {"numerator": True, "denominator": 2}}},
            "indicators.PROGRESS_ON_TIME.numerator",
        ),
        (
            {"level": "province", "indicators": {"PROGRESS_ON_TIME": {"numerator": 1}}},
            "indicators.PROGRESS_ON_TIME.denominator",
        ),
        ({"level": "village", "indicators": {}}, "level"),
        ({"indicators": {}}, "level"),
        ({"level": "province", "indicators": []}, "indicators"),
    ],
)
def test_bad_counters_name_the_field(doc: dict[str, Any], field: str) -> None:
    with pytest.raises(InputError) as err:
        parse_counters(doc, PORTAL)
    fields = [p.field for p in err.value.problems]
    assert field in fields
    assert all(p.message_vi and p.message_en for p in err.value.problems)


def test_integral_float_counts_are_accepted() -> None:
    """3.0 is an integer count; JSON producers sometimes write it that way."""
    result = score(PORTAL, {"PROGRESS_ON_TIME": {"numerator": 3.0, "denominator": 5}})
    assert result.indicators["PROGRESS_ON_TIME"].score == Decimal("12.00")


def test_malformed_json_names_line_and_column() -> None:
    with pytest.raises(InputError) as err:
        parse_counters_json('{"level": "province",\n "indicators": {', PORTAL, source="x.json")
    assert "x.json" in err.value.line()
    assert "dòng 2" in err.value.line() and "line 2" in err.value.line()


def test_portal_level_words_are_accepted() -> None:
    result = score(PORTAL, {"ONLINE_PROCEDURES": {"numerator": 1, "denominator": 1}}, level="COMMUNE_PEOPLE_COMMITTEE")
    assert result.level == "commune"
    assert result.indicators["ONLINE_PROCEDURES"].score == Decimal("0.00")


def test_contract_1_json_shape() -> None:
    out = score(PORTAL, {"PROGRESS_ON_TIME": {"numerator": 528684, "denominator": 597918}}).to_json()
    assert out["methodology"] == "portal-2026"
    assert out["indicators"]["PROGRESS_ON_TIME"] == {
        "numerator": 528684,
        "denominator": 597918,
        "rate": 88.42,
        "score": 17.68,
        "max_score": 20,
    }
    assert set(out["groups"]) == {"CKMB", "TDGQ", "CLGQ", "TTTT", "MDHL", "MDSH"}
    assert out["groups"]["TDGQ"]["score"] == 17.68 and out["groups"]["TDGQ"]["max_score"] == 20
    assert out["total"] == 19.68  # 17.68 + the constant 2 of ELECTRONIC_CERTIFIED_COPY


@given(
    numerator=st.integers(min_value=-(10**12), max_value=10**12),
    denominator=st.integers(min_value=1, max_value=10**9),
)
def test_half_up_agrees_with_decimal_round_half_up(numerator: int, denominator: int) -> None:
    """Exact integer rounding equals Decimal's ROUND_HALF_UP of the quotient: with d ≤ 10^9 the quotient is either
    exactly on a tie or at least 1/(2d) away from it, so 60 significant digits decide the same way."""
    from decimal import ROUND_HALF_UP, Context

    exact = Context(prec=60).divide(Decimal(numerator), Decimal(denominator))
    expected = exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP, context=Context(prec=60))
    assert half_up(Fraction(numerator, denominator)) == expected
