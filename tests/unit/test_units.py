"""Tests for the administrative unit tree and the shipped 2025 reference units."""

from __future__ import annotations

import dataclasses
import unicodedata
from collections import Counter

import pytest

from chiso766.domain.units import (
    Unit,
    UnitLevel,
    UnitTree,
    UnknownUnitError,
    load_reference_units_2025,
)
from chiso766.errors import InputError

# DATA_FORMATS §3.2: DVCQG code → commune count.
EXPECTED_COMMUNES = {
    "H26": 126, "H14": 56, "H60": 124, "H18": 45, "H35": 38, "H52": 75, "H38": 99, "H55": 92, "H37": 65,
    "H49": 54, "H05": 99, "H44": 148, "H24": 114, "H31": 104, "H42": 129, "H56": 166, "H41": 130, "H27": 69,
    "H50": 78, "H57": 40, "H17": 94, "H48": 96, "H21": 135, "H32": 65, "H15": 102, "H36": 124, "H19": 95,
    "H29": 168, "H53": 96, "H20": 102, "H61": 124, "H01": 102, "H13": 103, "H12": 64,
}  # fmt: skip

P, D, C = UnitLevel.PROVINCE, UnitLevel.PROVINCIAL_DEPARTMENT, UnitLevel.COMMUNE


@pytest.fixture
def small() -> UnitTree:
    """Nation → 2 provinces → departments and communes (3 levels below the nation)."""
    return UnitTree.from_units(
        [
            Unit("VN", "Cả nước", UnitLevel.NATION),
            Unit("H99", "Tỉnh Một", P, "VN", electronic_id="000.00.00.H99"),
            Unit("H99.01", "Sở Tư pháp", D, "H99", electronic_id="000.00.01.H99"),
            Unit("H99.C1", "Xã Một", C, "H99"),
            Unit("H99.C2", "Phường Hai", C, "H99", electronic_id="000.20.30.H99"),
            Unit("H98", "Tỉnh Hai", P, "VN"),
            Unit("H98.C1", "Xã Ba", C, "H98"),
            Unit("H98.01", "Sở Y tế", D, "H98"),
        ]
    )


def codes(units: tuple[Unit, ...]) -> list[str]:
    return [u.code for u in units]


# ---------------------------------------------------------------- reference data


def test_reference_has_34_provinces_and_3321_communes_with_table_counts() -> None:
    tree = load_reference_units_2025()
    assert codes(tree.roots()) == ["VN"]
    assert tree["VN"].name == "Cả nước"
    provinces = tree.cohort(UnitLevel.PROVINCE)
    communes = tree.cohort(UnitLevel.COMMUNE)
    assert len(provinces) == 34
    assert len(communes) == 3321
    assert len(tree) == 1 + 34 + 3321
    per_province = Counter(tree.root_of(c.code).code for c in communes)
    assert per_province == EXPECTED_COMMUNES
    for code, count in {"H44": 148, "H29": 168, "H57": 40}.items():
        assert len(tree.cohort("commune", within=code)) == count
        assert len(tree.children(code)) == count


def test_reference_parents_exist_and_codes_are_well_formed() -> None:
    tree = load_reference_units_2025()
    for commune in tree.cohort(UnitLevel.COMMUNE):
        assert commune.parent_code is not None and commune.parent_code in tree
        assert tree.level_of(commune.parent_code) is UnitLevel.PROVINCE
        assert commune.code == f"{commune.parent_code}.{commune.nso_code}"
        assert commune.nso_code is not None and len(commune.nso_code) == 5
    for province in tree.cohort(UnitLevel.PROVINCE):
        assert province.parent_code == "VN"
        assert province.dvcqg_code == province.code


def test_reference_names_keep_vietnamese_diacritics() -> None:
    tree = load_reference_units_2025()
    assert tree["H44"].name == "Tỉnh Phú Thọ"
    assert tree["H44"].nso_code == "25"
    assert tree["H29"].name == "Thành phố Hồ Chí Minh"
    assert tree["H57"].name == "Thành phố Huế"
    assert tree["H26.00004"].name == "Phường Ba Đình"
    for unit in tree:
        assert unicodedata.normalize("NFC", unit.name) == unit.name
        assert unit.name.split(" ", 1)[0] in {"Cả", "Tỉnh", "Thành", "Xã", "Phường", "Đặc"}


def test_reference_is_cached_and_immutable() -> None:
    tree = load_reference_units_2025()
    assert load_reference_units_2025() is tree
    with pytest.raises(AttributeError):
        tree._units = {}
    with pytest.raises(dataclasses.FrozenInstanceError):
        tree["H44"].name = "x"  # type: ignore[misc]


# ----------------------------------------------------------------------- navigation


def test_descendants_ancestors_root_of(small: UnitTree) -> None:
    assert codes(small.descendants("H99")) == ["H99.01", "H99.C1", "H99.C2"]
    assert codes(small.descendants("H99", include_self=True))[0] == "H99"
    assert codes(small.descendants("H99.C1")) == []
    assert len(small.descendants("VN")) == 7
    assert codes(small.ancestors("H99.C2")) == ["H99", "VN"]
    assert small.ancestors("VN") == ()
    assert small.root_of("H99.C2").code == "H99"
    assert small.root_of("H98").code == "H98"
    assert small.root_of("VN").code == "VN"
    assert codes(small.children("H98")) == ["H98.C1", "H98.01"]
    assert small.level_of("H99.01") is D
    assert small.is_descendant("H98.C1", "VN") and not small.is_descendant("H98.C1", "H99")
    assert "H99.C1" in small and "nope" not in small and small.get("nope") is None
    assert len(small) == 8


def test_district_level_tree_without_nation() -> None:
    tree = UnitTree.from_units(
        [
            Unit("P", "Tỉnh", P),
            Unit("P.D", "Huyện", UnitLevel.DISTRICT, "P"),
            Unit("P.D.C", "Xã", C, "P.D"),
        ]
    )
    assert tree.root_of("P.D.C").code == "P"
    assert codes(tree.descendants("P")) == ["P.D", "P.D.C"]
    assert codes(tree.ancestors("P.D.C")) == ["P.D", "P"]


def test_unknown_code_raises_bilingual_key_error(small: UnitTree) -> None:
    with pytest.raises(UnknownUnitError) as info:
        small.descendants("H00")
    assert isinstance(info.value, KeyError) and isinstance(info.value, InputError)
    assert "H00" in info.value.message_vi and "H00" in info.value.message_en


def test_cohort_filters_by_level_and_within(small: UnitTree) -> None:
    assert codes(small.cohort(P)) == ["H99", "H98"]
    assert codes(small.cohort(C)) == ["H99.C1", "H99.C2", "H98.C1"]
    assert codes(small.cohort(C, within="H99")) == ["H99.C1", "H99.C2"]
    assert codes(small.cohort(D, within="H98")) == ["H98.01"]
    assert codes(small.cohort("PROVINCIAL_DEPARTMENT")) == ["H99.01", "H98.01"]
    assert codes(small.cohort(C, within="H99.C2")) == ["H99.C2"]
    assert small.cohort(C, within="H99.01") == ()


def test_closure_pairs(small: UnitTree) -> None:
    rows = set(small.closure())
    assert ("VN", "H99.C1", 2) in rows and ("H99", "H99.C1", 1) in rows and ("H99.C1", "H99.C1", 0) in rows
    assert ("H98", "H99.C1", 1) not in rows
    assert len(rows) == 8 + 7 + 5  # self rows + nation's descendants + provinces' children


# ----------------------------------------------------------------------- levels


@pytest.mark.parametrize(
    ("word", "level"),
    [
        ("PROVINCE", P),
        ("province", P),
        ("PROVINCIAL_DEPARTMENT", D),
        ("Provincial_Department", D),
        ("COMMUNE_PEOPLE_COMMITTEE", C),
        ("commune_people_committee", C),
        ("commune", C),
        ("DISTRICT", UnitLevel.DISTRICT),
        ("nation", UnitLevel.NATION),
    ],
)
def test_level_parser_accepts_portal_words(word: str, level: UnitLevel) -> None:
    assert UnitLevel.parse(word) is level


def test_level_parser_rejects_other_words() -> None:
    with pytest.raises(ValueError):
        UnitLevel.parse("ministry")


# ---------------------------------------------------------------------- records


def test_from_records_portal_and_english_names() -> None:
    tree = UnitTree.from_records(
        [
            {"MaDonVi": "H99", "TenDonVi": "Tỉnh Một", "MaDonViCha": "", "MaDinhDanh": "000.00.00.H99"},
            {"MaDonVi": "H99.01", "TenDonVi": "Sở", "MaDonViCha": "H99", "CapDonVi": "PROVINCIAL_DEPARTMENT"},
            {"code": "H99.C1", "name": "Xã", "parent_code": "H99", "level": "COMMUNE_PEOPLE_COMMITTEE"},
            {"code": "H98", "parent_code": None, "level": "province", "electronic_id": "000.00.00.h98"},
        ]
    )
    assert tree["H99"].level is P  # inferred: no parent → province
    assert tree["H99"].parent_code is None
    assert tree["H99.01"].level is D
    assert tree["H99.C1"].level is C
    assert tree["H98"].name == "H98"
    assert codes(tree.roots()) == ["H99", "H98"]
    assert tree.by_electronic_id("000.00.00.H98") == tree["H98"]


def test_electronic_id_lookup(small: UnitTree) -> None:
    assert small.by_electronic_id("000.00.01.H99") == small["H99.01"]
    assert small.by_electronic_id("000.20.30.H99-250701-0001") == small["H99.C2"]  # a whole MaHoSo
    assert small.by_electronic_id("000.00.00.h99") == small["H99"]
    assert small.by_electronic_id("000.00.02.H99") is None


# -------------------------------------------------------------------- validation


def test_three_different_problems_are_reported_together() -> None:
    with pytest.raises(InputError) as info:
        UnitTree.from_records(
            [
                {"MaDonVi": "H99", "TenDonVi": "Tỉnh", "CapDonVi": "province"},
                {"MaDonVi": "H99", "TenDonVi": "Trùng", "CapDonVi": "province"},
                {"MaDonVi": "H99.01", "MaDonViCha": "H00", "CapDonVi": "PROVINCIAL_DEPARTMENT"},
                {"MaDonVi": "H99.02", "MaDonViCha": "H99", "CapDonVi": "ward_office"},
            ]
        )
    err = info.value
    assert err.code == "invalid_units"
    assert len(err.problems) == 3
    by_field = {p.field: p for p in err.problems}
    assert set(by_field) == {"MaDonVi", "MaDonViCha", "CapDonVi"}
    assert by_field["MaDonVi"].where == "units.json[1] H99"
    assert "trùng" in by_field["MaDonVi"].message_vi and "Duplicate" in by_field["MaDonVi"].message_en
    assert "H00" in by_field["MaDonViCha"].message_vi and "H00" in by_field["MaDonViCha"].message_en
    assert "ward_office" in by_field["CapDonVi"].message_en
    assert by_field["CapDonVi"].where == "units.json[3] H99.02"


def test_every_kind_of_problem_from_units() -> None:
    with pytest.raises(InputError) as info:
        UnitTree.from_units(
            [
                Unit("", "không mã", P),
                Unit("A", "A", P, "B"),
                Unit("B", "B", P, "A"),
                Unit("S", "S", P, "S"),
                Unit("X", "X", "galaxy"),  # type: ignore[arg-type]
                Unit("Y", "Y", P, "nowhere"),
                Unit("Y", "Y again", P),
                Unit("E1", "E1", P, electronic_id="000.00.00.H01"),
                Unit("E2", "E2", P, electronic_id="000.00.00.H01"),
            ]
        )
    text = " | ".join(p.message_en for p in info.value.problems)
    assert len(info.value.problems) == 7, text
    for needle in ("Missing unit code", "cycle: A → B → A", "own parent", "galaxy", "'nowhere' not found"):
        assert needle in text
    assert "Duplicate unit code 'Y'" in text and "Duplicate electronic id" in text
    assert all(p.message_vi and p.where and p.field for p in info.value.problems)


def test_record_problems_missing_code_level_and_bad_types() -> None:
    with pytest.raises(InputError) as info:
        UnitTree.from_records(
            [
                {"TenDonVi": "không mã"},
                {"MaDonVi": "C1", "MaDonViCha": "H99"},
                {"MaDonVi": "H99", "MaDinhDanh": "bad id!"},
                "not an object",
            ]
        )
    problems = info.value.problems
    assert [p.field for p in problems] == ["MaDonVi", "CapDonVi", "MaDinhDanh", None]
    assert problems[0].message_vi == "Thiếu mã đơn vị"
    assert problems[1].where == "units.json[1] C1"


def test_string_level_in_unit_is_accepted() -> None:
    tree = UnitTree.from_units([Unit("H99", "T", "PROVINCE")])  # type: ignore[arg-type]
    assert tree.level_of("H99") is P
