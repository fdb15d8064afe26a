"""Exact quantities: how many more hits an indicator needs for the next gain, its threshold, or full points.

Everything is solved with the scoring core itself (:func:`chiso766.scoring.score_unit`), never with a copy of
the formulas: a candidate change is applied to the unit's counters and the unit is re-scored, so the methodology
data (points, scoring function, threshold, zero-denominator rule, child rule) and the portal's rounding — 2-decimal
indicator scores, parameter groups (``round_of_sum``) rounding the sum of unrounded components — are all honoured.
The unit total is a non-decreasing function of an indicator's numerator (for a fixed denominator) and of extra
hit records (numerator and denominator both growing), so the minimal quantity is found by binary search.

Two kinds of action:

- ``convert``: existing records in the denominator become hits (numerator + k, denominator unchanged; k ≤ misses),
  e.g. "số hóa 37 hồ sơ chưa số hóa".
- ``add``: new records that are hits (numerator + k, denominator + k), e.g. "cần thêm 1.240 hồ sơ nộp trực tuyến".
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from fractions import Fraction
from typing import Literal

from chiso766.errors import InputError
from chiso766.methodology.model import Methodology, ScoringFunction
from chiso766.scoring import IndicatorCounts, UnitCounters, UnitScore, score_unit

Mode = Literal["convert", "add"]
Target = Literal["next", "threshold", "full", "half"]
CENT = Decimal("0.01")
_ADD_CAP = 10**12  # no realistic indicator needs more new records than this


@dataclass(frozen=True)
class Change:
    """A change of one indicator's counters: deltas added to numerator and denominator."""

    indicator: str
    numerator: int = 0
    denominator: int = 0


def apply_changes(methodology: Methodology, counters: UnitCounters, changes: Iterable[Change]) -> UnitCounters:
    """``counters`` with ``changes`` applied; an absent indicator starts at 0/0. The result must keep
    0 ≤ numerator ≤ denominator, else an :class:`InputError` names the indicator."""
    counts = dict(counters.indicators)
    known = set(methodology.indicator_codes())
    for ch in changes:
        if ch.indicator not in known:
            raise InputError.single(
                "unknown_indicator",
                f"Mã chỉ tiêu không xác định '{ch.indicator}'",
                f"Unknown indicator code '{ch.indicator}'",
                where="changes",
                field=ch.indicator,
            )
        base = counts.get(ch.indicator)
        n = (base.numerator or 0) if base else 0
        d = (base.denominator or 0) if base else 0
        n2, d2 = n + ch.numerator, d + ch.denominator
        if n2 < 0 or d2 < 0 or n2 > d2:
            raise InputError.single(
                "invalid_change",
                f"Thay đổi làm chỉ tiêu {ch.indicator} thành {n2}/{d2}: tử số phải trong khoảng 0…mẫu số",
                f"The change makes {ch.indicator} {n2}/{d2}: the numerator must be between 0 and the denominator",
                where="changes",
                field=ch.indicator,
            )
        counts[ch.indicator] = IndicatorCounts(n2, d2, base.extra if base else {})
    return replace(counters, indicators=counts)


def total_of(methodology: Methodology, counters: UnitCounters) -> Decimal:
    return score_unit(methodology, counters).total


@dataclass(frozen=True)
class Step:
    """One exact action: ``quantity`` records (``mode``) on ``indicator`` give exactly ``gain`` total points."""

    indicator: str
    mode: Mode
    target: Target
    quantity: int
    gain: Decimal  # unit total after − before (group rounding included)
    indicator_gain: Decimal  # the indicator's own 2-decimal score after − before
    score_after: Decimal  # the unit total after
    rate_after: Decimal | None

    def change(self) -> Change:
        return Change(self.indicator, self.quantity, self.quantity if self.mode == "add" else 0)


@dataclass(frozen=True)
class IndicatorAdvice:
    """What an indicator can still give one unit."""

    code: str
    group: str
    score: Decimal | None
    max_score: Fraction
    numerator: int | None
    denominator: int | Fraction | None
    misses: int  # records in the denominator and not in the numerator
    recoverable: Decimal  # total points if every miss became a hit (convert), or at the threshold (add)
    steps: tuple[Step, ...]  # next / threshold / full, per mode, where they exist


def _indicator_score(score: UnitScore, code: str) -> Decimal:
    found = score.indicators.get(code)
    return found.score if found is not None and found.score is not None else Decimal("0.00")


def _counts(counters: UnitCounters, code: str) -> tuple[int, int]:
    found = counters.indicators.get(code)
    if found is None:
        return 0, 0
    return found.numerator or 0, int(found.denominator or 0)


def _step(
    methodology: Methodology, counters: UnitCounters, base: UnitScore, code: str, mode: Mode, target: Target, k: int
) -> Step:
    after = score_unit(methodology, apply_changes(methodology, counters, [Change(code, k, k if mode == "add" else 0)]))
    ind = after.indicators.get(code)
    return Step(
        indicator=code,
        mode=mode,
        target=target,
        quantity=k,
        gain=after.total - base.total,
        indicator_gain=_indicator_score(after, code) - _indicator_score(base, code),
        score_after=after.total,
        rate_after=ind.rate if ind is not None else None,
    )


def _minimal(lo: int, hi: int, ok: Callable[[int], bool]) -> int | None:
    """The smallest k in [lo, hi] with ok(k) (ok monotone), or None."""
    if hi < lo or not ok(hi):
        return None
    while lo < hi:
        mid = (lo + hi) // 2
        if ok(mid):
            hi = mid
        else:
            lo = mid + 1
    return lo


def minimal_quantity(
    methodology: Methodology,
    counters: UnitCounters,
    code: str,
    mode: Mode,
    *,
    min_gain: Decimal = CENT,
    base: UnitScore | None = None,
) -> int | None:
    """The smallest number of records (``mode``) on ``code`` that raises the unit total by ≥ ``min_gain``."""
    base = base or score_unit(methodology, counters)
    n, d = _counts(counters, code)

    def total(k: int) -> Decimal:
        ch = Change(code, k, k if mode == "add" else 0)
        return score_unit(methodology, apply_changes(methodology, counters, [ch])).total

    if mode == "convert":
        return _minimal(1, d - n, lambda k: total(k) - base.total >= min_gain)
    hi = 1
    while hi < _ADD_CAP and total(hi) - base.total < min_gain:
        hi *= 2
    return _minimal(max(1, hi // 2), min(hi, _ADD_CAP), lambda k: total(k) - base.total >= min_gain)


def _threshold_quantity(methodology: Methodology, counters: UnitCounters, code: str, mode: Mode) -> int | None:
    """Records needed for the rate to reach the methodology threshold of a ``target`` indicator (None if none)."""
    ind = methodology.indicator(code)
    t = ind.scoring.threshold
    if ind.scoring.function is not ScoringFunction.TARGET or t is None:
        return None
    n, d = _counts(counters, code)
    if d and Fraction(n, d) >= t:
        return None
    if mode == "convert":
        k = math.ceil(t * d - n)
        return k if 0 < k <= d - n else None
    if t >= 1:
        return None
    need = (t * d - n) / (1 - t)  # (n + k) / (d + k) ≥ t
    k = math.ceil(need)
    return max(k, 1)


def advise_indicator(
    methodology: Methodology, counters: UnitCounters, code: str, modes: Iterable[Mode] = ("convert", "add")
) -> IndicatorAdvice:
    """Exact steps of one indicator for one unit, per mode: ``next`` (least records for +0,01 on the total),
    ``threshold`` (least records reaching a target function's threshold), ``full`` (convert: least records
    reaching the full recoverable gain) and ``half`` (add without a threshold: least new records recovering
    half of it). ``recoverable`` = the total's gain if every miss were a hit (or, with no denominator, the
    gain of one new hit)."""
    base = score_unit(methodology, counters)
    ind = methodology.indicator(code)
    n, d = _counts(counters, code)
    found = base.indicators.get(code)
    steps: list[Step] = []
    recoverable = Decimal("0.00")
    if not ind.is_constant:
        if d > n:
            recoverable = _step(methodology, counters, base, code, "convert", "full", d - n).gain
        elif d == 0:
            recoverable = _step(methodology, counters, base, code, "add", "next", 1).gain
        for mode in modes:
            k_next = minimal_quantity(methodology, counters, code, mode, base=base)
            if k_next is None:
                continue
            steps.append(_step(methodology, counters, base, code, mode, "next", k_next))
            k_t = _threshold_quantity(methodology, counters, code, mode)
            if k_t is not None and k_t > k_next:
                steps.append(_step(methodology, counters, base, code, mode, "threshold", k_t))
            if mode == "convert" and d > n:
                k_full = minimal_quantity(methodology, counters, code, mode, min_gain=recoverable, base=base)
                if k_full is not None and k_full not in (k_next, k_t):
                    steps.append(_step(methodology, counters, base, code, mode, "full", k_full))
            elif mode == "add" and k_t is None and recoverable >= 2 * CENT:
                half = (recoverable / 2).quantize(CENT)
                k_half = minimal_quantity(methodology, counters, code, mode, min_gain=half, base=base)
                if k_half is not None and k_half > k_next:
                    steps.append(_step(methodology, counters, base, code, mode, "half", k_half))
    return IndicatorAdvice(
        code=code,
        group=ind.group,
        score=found.score if found is not None else None,
        max_score=found.max_score if found is not None else ind.max_points,
        numerator=found.numerator if found is not None else None,
        denominator=found.denominator if found is not None else None,
        misses=max(d - n, 0),
        recoverable=recoverable,
        steps=tuple(steps),
    )


def plan(
    methodology: Methodology, counters: UnitCounters, choices: Mapping[str, Step]
) -> list[tuple[Step, Decimal, Decimal]]:
    """Apply chosen steps one after another: (step, exact gain given the earlier steps, total after).

    The gains of steps in the same parameter group are not additive (the group rounds the sum), so the plan
    re-scores after each step; the last total is exactly what a what-if of all the steps gives."""
    out: list[tuple[Step, Decimal, Decimal]] = []
    current = counters
    total = total_of(methodology, current)
    for step in choices.values():
        current = apply_changes(methodology, current, [step.change()])
        after = total_of(methodology, current)
        out.append((step, after - total, after))
        total = after
    return out
