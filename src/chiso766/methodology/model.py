"""Typed, immutable model of a methodology file (the 766 index rules as data).

A methodology names every indicator with its group, points, scoring function, zero-denominator rule and the
levels it applies to. Code never branches on a methodology's name: variants differ only in these fields.
"""

from __future__ import annotations

from enum import StrEnum
from fractions import Fraction
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field


def _exact(value: Any) -> Any:
    """Read YAML numbers exactly: 0.8 means 4/5, not the nearest binary float."""
    if isinstance(value, bool):
        raise ValueError("expected a number, not a boolean")
    if isinstance(value, float):
        return Fraction(repr(value))
    return value


Exact = Annotated[Fraction, BeforeValidator(_exact)]


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Aggregation(StrEnum):
    """How a group adds up its indicators (METHODOLOGY §1, §3 #16)."""

    SUM_OF_ROUNDED = "sum_of_rounded"  # metric-type groups: Σ of 2-decimal indicator scores, null = 0
    ROUND_OF_SUM = "round_of_sum"  # parameter-type groups: half-up of the unrounded component sum


class ScoringFunction(StrEnum):
    LINEAR = "linear"  # score = M × r
    TARGET = "target"  # score = min(M, M × r / t)
    CONSTANT = "constant"  # score = value, whatever the counts


class ZeroDenominator(StrEnum):
    """What a zero denominator gives (D-score-6)."""

    NULL_COUNTS_ZERO = "null_counts_zero"  # rate null, score null; the group counts it as 0
    ZERO = "zero"  # rate 0, score 0
    FULL = "full"  # rate 0, score = max
    REDISTRIBUTE = "redistribute"  # score null; max points split evenly over `redistribute_to`


class ChildRule(StrEnum):
    """What units below the province (root) get for an indicator."""

    OWN = "own"  # scored on their own records
    INHERIT = "inherit"  # the province's counts are copied unchanged (1.1–1.3)
    ZERO = "zero"  # 0 points, rate still published (3.1, D-score-5)


class ProcedureFilter(StrEnum):
    """Behaviour when one TTHC is selected (METHODOLOGY §2, general rules)."""

    FILTERED = "filtered"
    UNFILTERED = "unfiltered"
    NULL = "null"
    OMITTED = "omitted"


class Scoring(Frozen):
    function: ScoringFunction
    threshold: Exact | None = None
    value: Exact | None = None


class CountingCondition(Frozen):
    """A rule the engine applies while counting (declared here so variants stay data)."""

    id: str
    stage: Literal["facts", "counters"]
    description_vi: str
    description_en: str
    inputs: tuple[str, ...] = ()


class DenominatorRule(Frozen):
    """How the effective denominator is formed from extra inputs (1.4 in the design variant)."""

    source: Literal["dvcqg", "max_dvcqg_bcqg"] = "dvcqg"
    fallback: Literal["none", "previous_year_bcqg"] = "none"
    divisors: dict[str, int] = Field(default_factory=dict)
    inputs: tuple[str, ...] = ()


class Group(Frozen):
    code: str
    number: str
    name_vi: str
    name_en: str
    max_points: Exact
    aggregation: Aggregation
    display_order: int


class Indicator(Frozen):
    code: str
    number: str
    group: str
    section: str
    name_vi: str
    name_en: str
    max_points: Exact
    scoring: Scoring
    zero_denominator: ZeroDenominator
    children: ChildRule
    procedure_filter: ProcedureFilter
    display_order: int
    numerator_vi: str
    numerator_en: str
    denominator_vi: str
    denominator_en: str
    interpretations: tuple[str, ...] = ()
    redistribute_to: tuple[str, ...] = ()
    rate_multiplier: str | None = None
    counting_conditions: tuple[CountingCondition, ...] = ()
    denominator_rule: DenominatorRule | None = None

    @property
    def is_constant(self) -> bool:
        return self.scoring.function is ScoringFunction.CONSTANT

    def formula_vi(self) -> str:
        """The scoring rule in plain Vietnamese, e.g. "6 × tỷ lệ, tối đa khi đạt 80 %"."""
        m = _num(self.max_points)
        if self.scoring.function is ScoringFunction.CONSTANT:
            return f"Luôn {_num(self.scoring.value or Fraction(0))} điểm"
        if self.scoring.function is ScoringFunction.TARGET and self.scoring.threshold is not None:
            return f"{m} × tỷ lệ / {_num(self.scoring.threshold * 100)} %, tối đa {m} điểm"
        return f"{m} × tỷ lệ"

    def formula_en(self) -> str:
        m = _num(self.max_points)
        if self.scoring.function is ScoringFunction.CONSTANT:
            return f"Always {_num(self.scoring.value or Fraction(0))} points"
        if self.scoring.function is ScoringFunction.TARGET and self.scoring.threshold is not None:
            return f"{m} × rate / {_num(self.scoring.threshold * 100)} %, at most {m} points"
        return f"{m} × rate"


class NationalAxis(Frozen):
    code: str
    groups: tuple[str, ...]


class NationalAverage(Frozen):
    """National score = Σ over axes of the half-up mean of the provinces' axis scores (METHODOLOGY §1)."""

    method: Literal["sum_of_rounded_axis_means"] = "sum_of_rounded_axis_means"
    axes: tuple[NationalAxis, ...]


class Rounding(Frozen):
    decimals: int = 2
    mode: Literal["half_up"] = "half_up"


class Methodology(Frozen):
    """One complete, validated methodology version."""

    version: str
    schema_: int = Field(alias="schema", default=1)
    title_vi: str
    title_en: str
    description_vi: str
    description_en: str
    rounding: Rounding
    national_average: NationalAverage
    groups: tuple[Group, ...]
    indicators: tuple[Indicator, ...]
    source: str = ""

    def group(self, code: str) -> Group:
        for g in self.groups:
            if g.code == code:
                return g
        raise KeyError(code)

    def indicator(self, code: str) -> Indicator:
        for i in self.indicators:
            if i.code == code:
                return i
        raise KeyError(code)

    def indicator_codes(self) -> tuple[str, ...]:
        return tuple(i.code for i in self.indicators)

    def indicators_of(self, group_code: str) -> tuple[Indicator, ...]:
        return tuple(i for i in self.indicators if i.group == group_code)

    @property
    def max_total(self) -> Fraction:
        return sum((g.max_points for g in self.groups), Fraction(0))


def _num(x: Fraction) -> str:
    """A Fraction for display: 6 → "6", 0.8 → "0,8" (vi-VN decimal comma)."""
    if x.denominator == 1:
        return str(x.numerator)
    return f"{float(x):g}".replace(".", ",")
