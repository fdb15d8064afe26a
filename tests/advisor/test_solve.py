"""The solver's quantities checked against the scoring core itself: exactly k hits give exactly the promised
gain and k − 1 do not (group rounding included). Methodology portal-2026 (METHODOLOGY §1–§2)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chiso766.advisor.solve import Change, advise_indicator, apply_changes, minimal_quantity, plan, total_of
from chiso766.errors import InputError
from chiso766.methodology import load_methodology
from chiso766.scoring import IndicatorCounts, UnitCounters, score_unit

M = load_methodology("portal-2026")


def unit(level: str = "province", **counts: tuple[int, int]) -> UnitCounters:
    return UnitCounters(level=level, indicators={c: IndicatorCounts(n, d) for c, (n, d) in counts.items()})


def test_online_dossiers_threshold_by_adding_online_dossiers() -> None:
    """3.3 = target(6, 50 %). 400/1000 online: score 6·0.4/0.5 = 4.80. New online dossiers k reach 50 % when
    (400 + k)/(1000 + k) ≥ 1/2 ⇔ k ≥ 200 → 6.00, +1.20 on CLGQ (round of sum, the other parts 0/0 → 0)."""
    c = unit(ONLINE_DOSSIERS=(400, 1000))
    adv = advise_indicator(M, c, "ONLINE_DOSSIERS", ("add",))
    steps = {s.target: s for s in adv.steps}
    assert steps["threshold"].quantity == 200
    assert steps["threshold"].gain == Decimal("1.20")
    assert steps["threshold"].rate_after == Decimal("50.00")
    assert total_of(M, apply_changes(M, c, [Change("ONLINE_DOSSIERS", 199, 199)])) - total_of(M, c) < Decimal("1.20")
    # next step: 4.80 + 0.01 needs 6·r/0.5 ≥ 4.805 (half up) ⇔ r ≥ 0.400416…: (400+k)/(1000+k) → k = 1 gives
    # 401/1001 = 0.4006 → 4.807 → 4.81
    assert steps["next"].quantity == 1 and steps["next"].gain == Decimal("0.01")


def test_group_rounding_is_taken_into_account() -> None:
    """CLGQ rounds the SUM of unrounded parts (round_of_sum): 3.2 = 1/3 gives 4/3 = 1,3333… and 3.3 = 10 % gives
    6·0,1/0,5 = 1,2, so CLGQ = 2,53; one more online dossier gives 1,212 and 2,5453 → 2,55 (+0,02), which the
    indicator's own 2-decimal score (1,20 → 1,21) would understate."""
    c = unit(ONLINE_SERVICES_USED=(1, 3), ONLINE_DOSSIERS=(100, 1000))
    base = score_unit(M, c)
    k = minimal_quantity(M, c, "ONLINE_DOSSIERS", "convert")
    assert k is not None
    after = total_of(M, apply_changes(M, c, [Change("ONLINE_DOSSIERS", k)]))
    before_k = total_of(M, apply_changes(M, c, [Change("ONLINE_DOSSIERS", k - 1)]))
    assert after - base.total >= Decimal("0.01") and before_k == base.total
    # raw: 4/3 + 6·0.1/0.5 = 1.3333 + 1.2 = 2.5333 → 2.53; +1 hit: 6·0.101/0.5 = 1.212 → 2.5453 → 2.55 (+0.02)
    assert k == 1 and after - base.total == Decimal("0.02")


@settings(max_examples=60, deadline=None)
@given(
    code=st.sampled_from([i.code for i in M.indicators if not i.is_constant]),
    d=st.integers(min_value=1, max_value=5000),
    frac=st.fractions(min_value=0, max_value=1),
    level=st.sampled_from(["province", "commune"]),
    mode=st.sampled_from(["convert", "add"]),
)
def test_minimal_quantity_is_exact(code: str, d: int, frac: object, level: str, mode: str) -> None:
    n = int(frac * d)  # type: ignore[operator]
    c = unit(level, **{code: (n, d), "PROGRESS_ON_TIME": (7, 9), "ONLINE_SERVICES_USED": (2, 7)})
    adv = advise_indicator(M, c, code, (mode,))  # type: ignore[arg-type]
    base = total_of(M, c)
    for step in adv.steps:
        after = total_of(M, apply_changes(M, c, [step.change()]))
        assert after - base == step.gain and step.score_after == after
        k1 = Change(code, step.quantity - 1, step.quantity - 1 if mode == "add" else 0)
        fewer = total_of(M, apply_changes(M, c, [k1]))
        if step.target in ("next", "full", "half"):
            assert fewer - base < step.gain
        if step.target == "threshold":
            t = M.indicator(code).scoring.threshold
            assert t is not None
            dd = d + (step.quantity - 1 if mode == "add" else 0)
            assert (n + step.quantity - 1) < t * dd
    if level == "commune" and code == "ONLINE_PROCEDURES":
        assert adv.steps == ()  # children get 0 on 3.1: nothing to gain


def test_plan_gains_add_up_to_a_what_if_of_all_steps() -> None:
    """Two steps in the same parameter group (TTTT: round of the sum): the plan's sequential gains are exact."""
    c = unit(PAYMENT_DOSSIERS_ONLINE=(1, 3), PAYMENT_PROCEDURES_ONLINE=(1, 3), PAYMENT_PROCEDURES_INTEGRATED=(0, 3))
    choices = {}
    for code in ("PAYMENT_PROCEDURES_ONLINE", "PAYMENT_PROCEDURES_INTEGRATED"):
        adv = advise_indicator(M, c, code, ("convert",))
        choices[code] = adv.steps[0]
    steps = plan(M, c, choices)
    together = total_of(M, apply_changes(M, c, [s.change() for s, _, _ in steps]))
    assert sum((g for _, g, _ in steps), Decimal(0)) == together - total_of(M, c)
    assert steps[-1][2] == together


def test_invalid_change_names_the_indicator() -> None:
    with pytest.raises(InputError) as err:
        apply_changes(M, unit(PROGRESS_ON_TIME=(3, 4)), [Change("PROGRESS_ON_TIME", 2)])
    assert err.value.code == "invalid_change"
    assert "PROGRESS_ON_TIME" in err.value.message_en
    with pytest.raises(InputError):
        apply_changes(M, unit(), [Change("NOPE", 1, 1)])
