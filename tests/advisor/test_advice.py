"""Advice, what-if and warnings on the hand-made fixture (tests/engine/test_end_to_end.py), clock 25/03/2026 10:00.

H90.13 (Xã Cát Tiên), March: C3a, C3b on time, C3c (finished 10/03 > due 09/03) and C3d (11/03 > 10/03) late, so
2.1 = 2/4 → 20·2/4 = 10,00; 5.4 = the on-time ones with no PAKN and no dislike = 2/4 → target(6, 90 %) =
6·0,5/0,9 = 3,33. Resolving both late ones on time: 2.1 = 4/4 → 20 (+10), 5.4 = 4/4 → 6 (+2,67) = +12,67.
"""

from __future__ import annotations

from decimal import Decimal

from chiso766.advisor.advice import advise, whatif
from chiso766.advisor.solve import Change, apply_changes, total_of
from chiso766.advisor.warnings import early_warnings
from chiso766.service.scoreboard import Scoreboard


def test_resolving_the_two_overdue_dossiers_of_a_commune(board: Scoreboard) -> None:
    doc = whatif(board, "H90.13", "2026-03", resolve_overdue=2)
    assert sorted(doc["resolved_dossiers"]) == ["H90.13-C3c", "H90.13-C3d"]
    changed = {c["code"]: c for c in doc["changed_indicators"]}
    assert changed["PROGRESS_ON_TIME"]["numerator"] == [2, 4]
    assert changed["PROGRESS_ON_TIME"]["score"] == [10, 20]
    assert changed["DOSSIER_RECEIVING_SATISFACTION"]["score"] == [3.33, 6]
    assert doc["gain"] == 12.67
    # the province pools the same two dossiers: its 2.1 and 5.4 numerators grow by 2 as well
    assert doc["ancestors"][0]["unit"] == "H90"
    h90 = board.scores("2026-03").scores["H90"]
    c = board.unit_counters("2026-03", "H90")
    expected = total_of(
        board.methodology,
        apply_changes(
            board.methodology, c, [Change("PROGRESS_ON_TIME", 2), Change("DOSSIER_RECEIVING_SATISFACTION", 2)]
        ),
    )
    assert doc["ancestors"][0]["total"] == [float(h90.total), float(expected)]


def test_whatif_by_dossier_id_and_unknown_ids(board: Scoreboard) -> None:
    doc = whatif(board, "H90.13", "2026-03", resolve=["H90.13-C3c"])
    assert doc["changes"] == [
        {"indicator": "PROGRESS_ON_TIME", "numerator": 1, "denominator": 0},
        {"indicator": "DOSSIER_RECEIVING_SATISFACTION", "numerator": 1, "denominator": 0},
    ]
    # 2.1 3/4 → 15 (+5); 5.4 3/4 = 75 % → 6·0,75/0,9 = 5 (+1,67)
    assert doc["gain"] == 6.67
    import pytest

    from chiso766.errors import InputError

    with pytest.raises(InputError) as err:
        whatif(board, "H90.13", "2026-03", resolve=["H90.01-A1"])
    assert err.value.code == "unknown_dossier"


def test_advice_plan_applied_in_a_whatif_gives_exactly_the_promised_points(board: Scoreboard) -> None:
    doc = advise(board, "H90", "2026-03", top=5, records=5)
    assert doc["plan"], "H90 has recoverable points"
    recoverable = [i["recoverable"] for i in doc["indicators"] if not i["inherited"]]
    assert recoverable == sorted(recoverable, reverse=True)
    changes = [Change(s["indicator"], s["change"]["numerator"], s["change"]["denominator"]) for s in doc["plan"]]
    after = whatif(board, "H90", "2026-03", changes=changes)
    assert after["total_after"] == doc["plan_total"]
    assert Decimal(str(after["gain"])) == sum((Decimal(str(s["gain"])) for s in doc["plan"]), Decimal(0))
    assert after["rank_after"] == doc["plan_rank"]
    # each step: exactly that quantity gives that gain, one fewer does not
    m = board.methodology
    counters = board.unit_counters("2026-03", "H90")
    for ind in doc["indicators"]:
        for step in ind["steps"]:
            add = step["mode"] == "add"
            k = step["quantity"]
            gain = total_of(m, apply_changes(m, counters, [Change(ind["code"], k, k if add else 0)])) - total_of(
                m, counters
            )
            fewer = total_of(m, apply_changes(m, counters, [Change(ind["code"], k - 1, k - 1 if add else 0)]))
            assert float(gain) == step["gain"]
            assert fewer - total_of(m, counters) < gain


def test_advice_explains_where_the_loss_is(board: Scoreboard) -> None:
    """4.1 at H90 in March (electronic result): the misses are the dossiers without a result file."""
    doc = advise(board, "H90", "2026-03", top=20, records=20)
    e_result = next(i for i in doc["indicators"] if i["code"] == "ORIGINAL_RESULT_AVAILABLE")
    assert e_result["misses"] == e_result["denominator"] - e_result["numerator"]
    ids = {r["id"] for r in e_result["records"]}
    assert {"H90.01-A3", "H90.01-A4", "H90.02-B1", "H90.12-C2b"} <= ids
    assert e_result["by_subunit"][0]["misses"] >= e_result["by_subunit"][-1]["misses"]
    # a commune inherits 1.1–1.3 from the province: listed, never planned
    commune = advise(board, "H90.13", "2026-03")
    inherited = {i["code"] for i in commune["indicators"] if i["inherited"]}
    assert inherited == {"PUBLISH_ON_TIME", "PUBLIC_UPDATE_ON_TIME", "PUBLIC_CONTENT_FULL"}
    assert not inherited & {s["indicator"] for s in commune["plan"]}


def test_warnings_list_open_dossiers_due_soon(board: Scoreboard) -> None:
    """At 25/03 10:00: B2 (due 25/03 17:00, open until 26/03) and V1 (due 27/03 17:00) are open and not yet
    late; within 3 working days (until Mon 30/03). A4 (due 20/03, open) is already overdue. If B2 and V1 turn
    late, H90's 2.1 loses 2 numerator hits and 5.4 too (both are on time now, with no PAKN and no dislike)."""
    doc = early_warnings(board, "H90", "2026-03", days=3)
    assert [r["id"] for r in doc["due_soon"]["records"]] == ["H90.02-B2", "H90-V1"]
    assert [r["working_days_left"] for r in doc["due_soon"]["records"]] == [0, 2]
    assert [r["id"] for r in doc["overdue_open"]["records"]] == ["H90.01-A4"]
    m = board.methodology
    c = board.unit_counters("2026-03", "H90")
    lost = total_of(m, c) - total_of(
        m, apply_changes(m, c, [Change("PROGRESS_ON_TIME", -2), Change("DOSSIER_RECEIVING_SATISFACTION", -2)])
    )
    assert doc["due_soon"]["points_at_risk"] == float(lost)
    narrow = early_warnings(board, "H90", "2026-03", days=0)
    assert [r["id"] for r in narrow["due_soon"]["records"]] == ["H90.02-B2"]
