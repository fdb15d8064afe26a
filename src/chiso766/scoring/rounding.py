"""Exact half-up rounding, as the portal publishes values (METHODOLOGY §0, D-score-1).

Rates and scores are computed as exact fractions and rounded once, half away from zero, so 2.675 → 2.68 and
no binary-float surprise can shift a published value at the boundary.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

Number = int | Fraction | Decimal


def half_up(value: Number, decimals: int = 2) -> Decimal:
    """``value`` rounded half away from zero to ``decimals`` places, as a Decimal with that exponent."""
    exact = value if isinstance(value, Fraction) else Fraction(value)
    numerator, denominator = exact.numerator, exact.denominator
    # floor(|n/d| · 10^k + 1/2) in integers: (2·|n|·10^k + d) // (2·d)
    units = (2 * abs(numerator) * 10**decimals + denominator) // (2 * denominator)
    return Decimal(-units if numerator < 0 else units).scaleb(-decimals)


def percent(numerator: Number, denominator: Number, decimals: int = 2) -> Decimal:
    """``100 · n / d`` rounded half-up; the denominator must not be zero."""
    return half_up(Fraction(numerator) * 100 / Fraction(denominator), decimals)
