"""Counters → indicator points → group points → total, exactly as the portal rounds (METHODOLOGY §1, §3 #16).

- rate = half-up(100 · n / d, 2); indicator score = half-up(f(r), 2) with f from the methodology data.
- metric-type groups (``sum_of_rounded``): Σ of the 2-decimal indicator scores, null counting 0.
- parameter-type groups (``round_of_sum``): half-up of the unrounded component sum.
- total = Σ of the six group scores.
All arithmetic is on exact fractions; values are rounded only where the portal publishes them (D-score-1).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

from chiso766.methodology.model import (
    Aggregation,
    ChildRule,
    Indicator,
    Methodology,
    ScoringFunction,
    ZeroDenominator,
)
from chiso766.scoring.counters import ROOT_LEVEL, IndicatorCounts, UnitCounters
from chiso766.scoring.rounding import half_up

# Flags explain a result that is not a plain n/d score; stable strings for API and UI.
FLAG_NO_DENOMINATOR = "NO_DENOMINATOR"
FLAG_CHILD_ZERO = "CHILD_LEVEL_ZERO"
FLAG_REDISTRIBUTED = "POINTS_REDISTRIBUTED"
FLAG_RECEIVED = "RECEIVED_REDISTRIBUTED_POINTS"
FLAG_MULTIPLIED = "RATE_MULTIPLIED"
FLAG_MULTIPLIER_MISSING = "RATE_MULTIPLIER_MISSING"
FLAG_BCQG_DENOMINATOR = "BCQG_DENOMINATOR"
FLAG_FALLBACK = "DENOMINATOR_FALLBACK_PREVIOUS_YEAR"
FLAG_NO_REPORT = "NO_NATIONAL_REPORT_DATA"


@dataclass(frozen=True)
class IndicatorScore:
    """One indicator's published values plus the unrounded score the parameter groups add up."""

    code: str
    group: str
    numerator: int | None
    denominator: int | Fraction | None
    rate: Decimal | None
    score: Decimal | None
    max_score: Fraction
    raw_score: Fraction | None
    flags: tuple[str, ...] = ()

    @property
    def points_lost(self) -> Fraction:
        """Points short of the maximum (a null score loses everything)."""
        return self.max_score - (Fraction(self.score) if self.score is not None else Fraction(0))


@dataclass(frozen=True)
class GroupScore:
    code: str
    score: Decimal
    max_score: Fraction

    @property
    def rate(self) -> Decimal:
        """Group ``ratio`` = score / max × 100, as the portal shows it."""
        return half_up(Fraction(self.score) * 100 / self.max_score) if self.max_score else Decimal("0.00")


@dataclass(frozen=True)
class UnitScore:
    """The full result for one unit × period under one methodology version."""

    methodology: str
    level: str
    indicators: Mapping[str, IndicatorScore]
    groups: Mapping[str, GroupScore]
    total: Decimal
    max_total: Fraction = field(default=Fraction(100))

    def to_json(self) -> dict[str, Any]:
        """DESIGN contract 1 output (``flags`` appear only where a rule other than n/d applied)."""
        indicators: dict[str, Any] = {}
        for code, ind in self.indicators.items():
            row: dict[str, Any] = {
                "numerator": ind.numerator,
                "denominator": json_number(ind.denominator),
                "rate": json_number(ind.rate),
                "score": json_number(ind.score),
                "max_score": json_number(ind.max_score),
            }
            if ind.flags:
                row["flags"] = list(ind.flags)
            indicators[code] = row
        return {
            "methodology": self.methodology,
            "level": self.level,
            "indicators": indicators,
            "groups": {
                code: {
                    "score": json_number(g.score),
                    "max_score": json_number(g.max_score),
                    "rate": json_number(g.rate),
                }
                for code, g in self.groups.items()
            },
            "total": json_number(self.total),
        }


def json_number(value: Decimal | Fraction | int | None) -> int | float | None:
    """A JSON number: integral values as int, others as the float of their 2-decimal value."""
    if value is None:
        return None
    if isinstance(value, int):
        return value
    exact = Fraction(value)
    if exact.denominator == 1:
        return exact.numerator
    return float(half_up(exact) if isinstance(value, Fraction) else value)


@dataclass
class _Pending:
    """First-pass state of one indicator: its effective counts and rate before points are assigned."""

    indicator: Indicator
    counts: IndicatorCounts | None
    denominator: int | Fraction | None
    ratio: Fraction | None  # exact n/d (None when d = 0 or absent)
    flags: list[str] = field(default_factory=list)
    zero_denominator: bool = False


def score_unit(methodology: Methodology, counters: UnitCounters) -> UnitScore:
    """Score one unit × period. Absent indicators are not output and add 0 (D-score-3); constants always are."""
    pending = {ind.code: _first_pass(ind, counters) for ind in methodology.indicators}
    pending = {code: p for code, p in pending.items() if p.counts is not None or p.indicator.is_constant}

    extra_max: dict[str, Fraction] = {}
    for p in pending.values():
        ind = p.indicator
        if p.zero_denominator and ind.zero_denominator is ZeroDenominator.REDISTRIBUTE:
            receivers = [c for c in ind.redistribute_to if c in pending]
            for receiver in receivers:
                extra_max[receiver] = extra_max.get(receiver, Fraction(0)) + ind.max_points / len(receivers)
            p.flags.append(FLAG_REDISTRIBUTED)

    results: dict[str, IndicatorScore] = {}
    for code, p in pending.items():
        results[code] = _second_pass(p, pending, extra_max.get(code, Fraction(0)), counters.level)

    groups: dict[str, GroupScore] = {}
    for group in methodology.groups:
        members = [r for r in results.values() if r.group == group.code]
        if group.aggregation is Aggregation.SUM_OF_ROUNDED:
            score = sum((r.score for r in members if r.score is not None), Decimal("0.00"))
        else:
            score = half_up(sum((r.raw_score for r in members if r.raw_score is not None), Fraction(0)))
        groups[group.code] = GroupScore(group.code, score, group.max_points)
    total = sum((g.score for g in groups.values()), Decimal("0.00"))
    return UnitScore(
        methodology=methodology.version,
        level=counters.level,
        indicators=results,
        groups=groups,
        total=total,
        max_total=methodology.max_total,
    )


def _first_pass(ind: Indicator, counters: UnitCounters) -> _Pending:
    counts = counters.indicators.get(ind.code)
    if counts is None or counts.numerator is None or counts.denominator is None:
        return _Pending(ind, counts, None, None)
    flags: list[str] = []
    denominator: int | Fraction = counts.denominator
    rule = ind.denominator_rule
    if rule is not None:
        bcqg = counts.extra.get("bcqg_received")
        if rule.source == "max_dvcqg_bcqg" and bcqg is not None and bcqg > denominator:
            denominator = bcqg
            flags.append(FLAG_BCQG_DENOMINATOR)
        if denominator == 0 and rule.fallback == "previous_year_bcqg":
            previous = counts.extra.get("previous_year_bcqg_received")
            divisor = rule.divisors.get(counters.period_type or "")
            if previous and divisor:
                denominator = Fraction(previous, divisor)
                flags.append(FLAG_FALLBACK)
            else:
                flags.append(FLAG_NO_REPORT)
    if denominator == 0:
        return _Pending(ind, counts, denominator, None, flags, zero_denominator=True)
    ratio = min(Fraction(counts.numerator) / denominator, Fraction(1))
    return _Pending(ind, counts, denominator, ratio, flags)


def _second_pass(p: _Pending, pending: Mapping[str, _Pending], extra: Fraction, level: str) -> IndicatorScore:
    ind = p.indicator
    flags = list(p.flags)
    maximum = ind.max_points + extra
    if extra:
        flags.append(FLAG_RECEIVED)
    numerator = p.counts.numerator if p.counts else None

    rate: Decimal | None
    raw: Fraction | None
    if ind.scoring.function is ScoringFunction.CONSTANT:
        value = ind.scoring.value or Fraction(0)
        raw = value
        rate = half_up(value * 100 / ind.max_points) if ind.max_points else None
    elif p.zero_denominator:
        flags.append(FLAG_NO_DENOMINATOR)
        rule = ind.zero_denominator
        if flags.count(FLAG_NO_REPORT):
            rate, raw = Decimal("0.00"), Fraction(0)  # METHODOLOGY §2 1.4: no previous-year data → 0
        elif rule in (ZeroDenominator.NULL_COUNTS_ZERO, ZeroDenominator.REDISTRIBUTE):
            rate, raw = None, None
        elif rule is ZeroDenominator.FULL:
            rate, raw = Decimal("0.00"), maximum
        else:
            rate, raw = Decimal("0.00"), Fraction(0)
    else:
        assert p.ratio is not None
        ratio = p.ratio
        rate = half_up(ratio * 100)
        if ind.rate_multiplier is not None:
            other = pending.get(ind.rate_multiplier)
            if other is None or other.counts is None or other.counts.denominator is None:
                flags.append(FLAG_MULTIPLIER_MISSING)
            else:
                ratio = ratio * (other.ratio or Fraction(0))  # a 0/0 sync rate counts as 0
                flags.append(FLAG_MULTIPLIED)
        raw = _apply(ind, ratio, maximum)

    if level != ROOT_LEVEL and ind.children is ChildRule.ZERO:
        raw = Fraction(0)
        flags.append(FLAG_CHILD_ZERO)
    return IndicatorScore(
        code=ind.code,
        group=ind.group,
        numerator=numerator,
        denominator=p.denominator if p.counts else None,
        rate=rate,
        score=half_up(raw) if raw is not None else None,
        max_score=maximum,
        raw_score=raw,
        flags=tuple(flags),
    )


def _apply(ind: Indicator, ratio: Fraction, maximum: Fraction) -> Fraction:
    """The unrounded points for an exact ratio (linear is not capped: ratio ≤ 1 is checked at input)."""
    scoring = ind.scoring
    if scoring.function is ScoringFunction.TARGET and scoring.threshold is not None:
        return min(maximum, maximum * ratio / scoring.threshold)
    return maximum * ratio


def group_score_from_indicator_scores(
    methodology: Methodology, group_code: str, scores: Mapping[str, Decimal | Fraction | None]
) -> Decimal:
    """A group's score from already-known indicator scores (published 2-decimal or unrounded components)."""
    group = methodology.group(group_code)
    values = [Fraction(v) for v in scores.values() if v is not None]
    if group.aggregation is Aggregation.SUM_OF_ROUNDED:
        return sum((half_up(v) for v in values), Decimal("0.00"))
    return half_up(sum(values, Fraction(0)))


def total_from_groups(group_scores: Mapping[str, Decimal]) -> Decimal:
    """A unit's total: the exact sum of its 2-decimal group scores (METHODOLOGY §1)."""
    return sum(group_scores.values(), Decimal("0.00"))
