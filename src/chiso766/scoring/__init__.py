"""Scores from counters: the portal's exact arithmetic and rounding (METHODOLOGY §1, §3 #16)."""

from chiso766.scoring.core import (
    GroupScore,
    IndicatorScore,
    UnitScore,
    group_score_from_indicator_scores,
    score_unit,
    total_from_groups,
)
from chiso766.scoring.counters import IndicatorCounts, UnitCounters, parse_counters, parse_counters_json
from chiso766.scoring.national import NationalScore, competition_ranks, national_average
from chiso766.scoring.rounding import half_up, percent

__all__ = [
    "GroupScore",
    "IndicatorCounts",
    "IndicatorScore",
    "NationalScore",
    "UnitCounters",
    "UnitScore",
    "competition_ranks",
    "group_score_from_indicator_scores",
    "half_up",
    "national_average",
    "parse_counters",
    "parse_counters_json",
    "percent",
    "score_unit",
    "total_from_groups",
]
