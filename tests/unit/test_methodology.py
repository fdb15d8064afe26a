"""Methodology files: the shipped versions, `extends` merging, and the loader's complete error report."""

from __future__ import annotations

import copy
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
import yaml

from chiso766.errors import MethodologyError
from chiso766.methodology import (
    ChildRule,
    ScoringFunction,
    ZeroDenominator,
    available_versions,
    load_methodology,
    validate_methodology,
)
from chiso766.methodology.diff import diff_methodologies
from chiso766.methodology.loader import _shipped_text

CONTRACT_CODES = {
    "PUBLISH_ON_TIME",
    "PUBLIC_UPDATE_ON_TIME",
    "PUBLIC_CONTENT_FULL",
    "DOSSIER_SYNC",
    "PROGRESS_ON_TIME",
    "PETITION_PROCESSING_ON_TIME",
    "PETITION_HANDLING_SATISFACTION",
    "DOSSIER_RECEIVING_SATISFACTION",
    "ORIGINAL_RESULT_AVAILABLE",
    "SO_HOA_GIAY_TO_GIAI_QUYET",
    "REUSED_DIGITIZED_DATA",
    "SYNCED_WITH_DVCQG_PERSONAL_STORAGE",
    "CITIZEN_DATA_CONNECTED_FORMALITY",
    "CITIZEN_DATA_CONNECTED_DOSSIER",
    "ELECTRONIC_CERTIFIED_COPY",
    "ONLINE_PROCEDURES",
    "ONLINE_SERVICES_USED",
    "ONLINE_DOSSIERS",
    "PAYMENT_DOSSIERS_ONLINE",
    "PAYMENT_PROCEDURES_ONLINE",
    "PAYMENT_PROCEDURES_INTEGRATED",
}


def portal_raw() -> dict[str, Any]:
    raw: dict[str, Any] = yaml.safe_load(_shipped_text("portal-2026"))
    return raw


def test_shipped_versions() -> None:
    assert available_versions() == ["decision-766-design", "portal-2026"]
    assert load_methodology().version == "portal-2026"


@pytest.mark.parametrize("version", ["portal-2026", "decision-766-design"])
def test_shipped_version_is_complete(version: str) -> None:
    method = load_methodology(version)
    assert {i.code for i in method.indicators} == CONTRACT_CODES  # DESIGN contract 1 codes, nothing else
    assert [g.code for g in method.groups] == ["CKMB", "TDGQ", "CLGQ", "TTTT", "MDHL", "MDSH"]
    assert {g.code: int(g.max_points) for g in method.groups} == {
        "CKMB": 18,
        "TDGQ": 20,
        "CLGQ": 12,
        "TTTT": 10,
        "MDHL": 18,
        "MDSH": 22,
    }
    assert method.max_total == 100
    for ind in method.indicators:
        assert ind.name_vi and ind.name_en and ind.numerator_vi and ind.denominator_vi and ind.section
    orders = [i.display_order for i in method.indicators]
    assert orders == sorted(orders) and len(set(orders)) == len(orders)


def test_portal_rules_from_the_methodology() -> None:
    """Spot checks of METHODOLOGY §2 facts encoded as data."""
    m = load_methodology("portal-2026")
    assert m.indicator("ONLINE_PROCEDURES").children is ChildRule.ZERO
    assert {i.code for i in m.indicators if i.children is ChildRule.INHERIT} == {
        "PUBLISH_ON_TIME",
        "PUBLIC_UPDATE_ON_TIME",
        "PUBLIC_CONTENT_FULL",
    }
    assert m.indicator("SO_HOA_GIAY_TO_GIAI_QUYET").scoring.function is ScoringFunction.LINEAR
    assert m.indicator("DOSSIER_RECEIVING_SATISFACTION").scoring.threshold == Fraction(9, 10)
    assert m.indicator("PETITION_PROCESSING_ON_TIME").zero_denominator is ZeroDenominator.FULL
    assert m.indicator("PROGRESS_ON_TIME").zero_denominator is ZeroDenominator.ZERO
    assert m.indicator("ORIGINAL_RESULT_AVAILABLE").zero_denominator is ZeroDenominator.NULL_COUNTS_ZERO


def test_diff_lists_exactly_the_design_differences() -> None:
    diffs = diff_methodologies(load_methodology("portal-2026"), load_methodology("decision-766-design"))
    changed = {(d.code, d.field) for d in diffs if d.kind == "indicator"}
    assert changed == {
        ("SO_HOA_GIAY_TO_GIAI_QUYET", "scoring"),
        ("PETITION_HANDLING_SATISFACTION", "zero_denominator"),
        ("PETITION_HANDLING_SATISFACTION", "redistribute_to"),
        ("ONLINE_DOSSIERS", "rate_multiplier"),
        ("ONLINE_DOSSIERS", "counting_conditions"),
        ("DOSSIER_SYNC", "denominator_rule"),
    }
    assert diff_methodologies(load_methodology("portal-2026"), load_methodology("portal-2026")) == []


def test_every_problem_is_reported_with_file_and_indicator() -> None:
    """Group maxima ≠ 100, an unknown function, a threshold outside (0, 1] and a duplicate code: all four."""
    raw = portal_raw()
    raw["groups"][0]["max_points"] = 19  # CKMB 19 → groups add to 101, and CKMB's indicators add to 18
    indicators = raw["indicators"]
    by_code = {i["code"]: i for i in indicators}
    by_code["PROGRESS_ON_TIME"]["scoring"] = {"function": "logistic"}
    by_code["ONLINE_DOSSIERS"]["scoring"] = {"function": "target", "threshold": 1.5}
    indicators.append(copy.deepcopy(by_code["REUSED_DIGITIZED_DATA"]))
    with pytest.raises(MethodologyError) as err:
        validate_methodology(raw, source="broken.yaml")
    lines = [p.line() for p in err.value.problems]
    text = "\n".join(lines)
    assert "Group maxima add to 101, must be 100" in text
    assert any(
        "indicator PROGRESS_ON_TIME" in (p.where or "") and p.field == "scoring.function" for p in err.value.problems
    )
    assert any(
        "indicator ONLINE_DOSSIERS" in (p.where or "") and p.field == "scoring.threshold" for p in err.value.problems
    )
    assert any("Duplicate code 'REUSED_DIGITIZED_DATA'" in line for line in lines)
    assert any("group CKMB" in (p.where or "") for p in err.value.problems)
    assert all(p.where and p.where.startswith("broken.yaml") for p in err.value.problems)
    assert all(p.message_vi and p.message_en for p in err.value.problems)


def test_more_semantic_checks() -> None:
    raw = portal_raw()
    by_code = {i["code"]: i for i in raw["indicators"]}
    by_code["PUBLISH_ON_TIME"]["group"] = "XXXX"
    by_code["PETITION_HANDLING_SATISFACTION"]["zero_denominator"] = "redistribute"  # no receivers
    by_code["ONLINE_DOSSIERS"]["rate_multiplier"] = "NOPE"
    by_code["ELECTRONIC_CERTIFIED_COPY"]["scoring"] = {"function": "constant", "value": 3}  # above its max 2
    by_code["PROGRESS_ON_TIME"]["threshold_typo"] = 1
    del by_code["DOSSIER_SYNC"]["name_vi"]
    with pytest.raises(MethodologyError) as err:
        validate_methodology(raw, source="x.yaml")
    found = {(p.where, p.field) for p in err.value.problems}
    assert ("x.yaml › indicator PUBLISH_ON_TIME", "group") in found
    assert ("x.yaml › indicator PETITION_HANDLING_SATISFACTION", "redistribute_to") in found
    assert ("x.yaml › indicator ONLINE_DOSSIERS", "rate_multiplier") in found
    assert ("x.yaml › indicator ELECTRONIC_CERTIFIED_COPY", "scoring.value") in found
    assert ("x.yaml › indicator PROGRESS_ON_TIME", "threshold_typo") in found
    assert ("x.yaml › indicator DOSSIER_SYNC", "name_vi") in found


def test_load_from_path_with_extends(tmp_path: Path) -> None:
    """A local variant extends a shipped version; only what it names changes."""
    variant = tmp_path / "my-variant.yaml"
    variant.write_text(
        "version: my-variant\nextends: portal-2026\n"
        "indicators:\n  - code: PROGRESS_ON_TIME\n    scoring: {function: target, threshold: 0.95}\n",
        encoding="utf-8",
    )
    m = load_methodology(variant)
    assert m.version == "my-variant"
    assert m.indicator("PROGRESS_ON_TIME").scoring.threshold == Fraction(19, 20)
    assert m.indicator("ONLINE_DOSSIERS").scoring.threshold == Fraction(1, 2)
    assert m.title_vi == load_methodology("portal-2026").title_vi


def test_extends_can_remove_and_must_still_validate(tmp_path: Path) -> None:
    variant = tmp_path / "v.yaml"
    variant.write_text(
        "version: v\nextends: portal-2026\nindicators:\n  - code: PUBLISH_ON_TIME\n    remove: true\n",
        encoding="utf-8",
    )
    with pytest.raises(MethodologyError) as err:
        load_methodology(variant)
    assert any("CKMB" in (p.where or "") and p.field == "max_points" for p in err.value.problems)


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("version: [unclosed", "YAML"),
        ("- just\n- a list\n", "mapping"),
        ("version: x\nextends: does-not-exist\n", "does-not-exist"),
    ],
)
def test_unreadable_files(tmp_path: Path, content: str, needle: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(MethodologyError) as err:
        load_methodology(path)
    assert needle in err.value.line()


def test_unknown_version_lists_the_available_ones() -> None:
    with pytest.raises(MethodologyError) as err:
        load_methodology("portal-1999")
    assert "portal-2026" in err.value.line() and "decision-766-design" in err.value.line()


def test_formula_text() -> None:
    m = load_methodology()
    assert m.indicator("ONLINE_DOSSIERS").formula_vi() == "6 × tỷ lệ / 50 %, tối đa 6 điểm"
    assert m.indicator("PROGRESS_ON_TIME").formula_en() == "20 × rate"
    assert m.indicator("ELECTRONIC_CERTIFIED_COPY").formula_vi() == "Luôn 2 điểm"
