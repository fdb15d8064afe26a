"""National average and cohort ranks.

National ("Cả nước") = Σ over the methodology's national axes of the half-up mean of the provinces' axis
scores (METHODOLOGY §1: 10.46 + 17.56 + 14.72 + 10.24 + 9.61 = 62.59, where the plain mean of totals gives
62.58). Ranks are competition ranks: ties share the best rank and the next rank skips (1, 2, 2, 4; D-cli-1).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import TypeVar

from chiso766.errors import InputError
from chiso766.methodology.model import Methodology
from chiso766.scoring.rounding import half_up

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class NationalScore:
    """The national average: per-axis rounded means and their sum, plus per-group rounded means."""

    axes: Mapping[str, Decimal]
    groups: Mapping[str, Decimal]
    total: Decimal
    provinces: int


def national_average(methodology: Methodology, province_groups: Sequence[Mapping[str, Decimal]]) -> NationalScore:
    """Average of the provinces' group scores (each mapping: group code → 2-decimal score)."""
    if not province_groups:
        raise InputError.single(
            "no_provinces",
            "Cần ít nhất một tỉnh để tính bình quân cả nước",
            "At least one province is needed for the national average",
            field="provinces",
        )
    count = len(province_groups)

    def mean(codes: Sequence[str]) -> Decimal:
        total = sum((Fraction(p.get(c, Decimal(0))) for p in province_groups for c in codes), Fraction(0))
        return half_up(total / count)

    axes = {axis.code: mean(axis.groups) for axis in methodology.national_average.axes}
    groups = {g.code: mean([g.code]) for g in methodology.groups}
    return NationalScore(axes=axes, groups=groups, total=sum(axes.values(), Decimal("0.00")), provinces=count)


def competition_ranks(scores: Mapping[K, Decimal | None]) -> dict[K, int | None]:
    """Rank by descending score; equal scores share the best rank (1, 2, 2, 4). Null scores get no rank."""
    ordered = sorted((s for s in scores.values() if s is not None), reverse=True)
    first_position: dict[Decimal, int] = {}
    for position, value in enumerate(ordered, start=1):
        first_position.setdefault(value, position)
    return {key: (first_position[value] if value is not None else None) for key, value in scores.items()}
