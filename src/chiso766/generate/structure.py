"""The generated unit tree: real provinces and communes, ~15 departments per province, and unit profiles.

Two structures (issue 5):

- ``2025`` (default): the 34 provinces and 3,321 communes in force since 1 July 2025
  (:func:`~chiso766.domain.units.load_reference_units_2025`), province → departments (sở, ban, ngành) and
  communes. Province codes are DVCQG codes (``H44``); communes ``H44.07894``; departments ``H44.S01``…
- ``2024``: the earlier three-level map shipped in ``reference/data/*-2024.csv``: 63 provinces (``T24``) →
  departments (``T24.S01``) and 696 districts (``T24.213``) → 10,035 communes (``T24.213.07201``).

Every unit gets a :class:`Profile`: a ``quality`` in [-1, 1] (good and poor performers: the province's own
quality plus a smaller unit-level deviation) and a ``weight`` (its share of the dossier volume: large and small
provinces, big city wards and small mountain communes). Both are drawn from the seed, so they are deterministic.
The electronic ids (``MaDinhDanh``, QĐ 20/2020 shape ``LLL.LL.LL.Hnn``) are chiso766 reference values.
"""

from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass
from importlib import resources

from chiso766.domain.units import UnitLevel, load_reference_units_2025
from chiso766.errors import InputError

__all__ = ["DEPARTMENTS", "Profile", "Structure", "build_structure"]

# The provincial departments that handle TTHC (after the 2025 reorganisation), with the share of the province's
# department-level dossiers each receives and the catalogue field (lĩnh vực) group it implements.
DEPARTMENTS: tuple[tuple[str, str, float], ...] = (
    ("Văn phòng Ủy ban nhân dân tỉnh", "VP", 0.02),
    ("Sở Nội vụ", "NV", 0.06),
    ("Sở Tư pháp", "TP", 0.16),
    ("Sở Tài chính", "TC", 0.10),
    ("Sở Công Thương", "CT", 0.07),
    ("Sở Nông nghiệp và Môi trường", "NN", 0.14),
    ("Sở Xây dựng", "XD", 0.12),
    ("Sở Giáo dục và Đào tạo", "GD", 0.07),
    ("Sở Y tế", "YT", 0.08),
    ("Sở Khoa học và Công nghệ", "KH", 0.04),
    ("Sở Văn hóa, Thể thao và Du lịch", "VH", 0.04),
    ("Sở Dân tộc và Tôn giáo", "DT", 0.02),
    ("Ban Quản lý các khu công nghiệp", "KC", 0.04),
    ("Thanh tra tỉnh", "TT", 0.01),
    ("Công an tỉnh", "CA", 0.03),
)

_BIG_CITIES = {"H26": 3.2, "H29": 4.0, "T01": 3.0, "T79": 3.6, "H24": 1.4, "H17": 1.3, "H13": 1.2}


@dataclass(frozen=True, slots=True)
class Profile:
    """One generated unit: its record fields and its performance profile."""

    code: str
    name: str
    level: UnitLevel
    parent: str | None
    electronic_id: str
    province: str  # the root province's code
    quality: float  # -1 (poor) … 1 (good)
    weight: float  # relative dossier volume
    field_group: str | None = None  # departments: the catalogue field group they implement

    def record(self) -> dict[str, str]:
        """The units.json record (spec INPUT_FORMAT)."""
        return {
            "MaDonVi": self.code,
            "TenDonVi": self.name,
            "MaDonViCha": self.parent or "",
            "CapDonVi": self.level.value,
            "MaDinhDanh": self.electronic_id,
        }


@dataclass(frozen=True, slots=True)
class Structure:
    """The whole tree in pre-order (a province, its departments, then its districts/communes)."""

    name: str  # "2025" | "2024"
    units: tuple[Profile, ...]

    def provinces(self) -> list[Profile]:
        return [u for u in self.units if u.level is UnitLevel.PROVINCE]

    def departments_of(self, province: str) -> list[Profile]:
        return [u for u in self.units if u.province == province and u.level is UnitLevel.PROVINCIAL_DEPARTMENT]


def _csv(filename: str) -> list[dict[str, str]]:
    text = resources.files("chiso766").joinpath("reference", "data", filename).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def _clip(x: float) -> float:
    return max(-1.0, min(1.0, x))


def _eid_suffix(code: str) -> str:
    """``H44`` → ``H44``; ``T24`` (2024 reference codes) → ``T24`` — the last group of a QĐ 20 id."""
    return code.upper()


def build_structure(seed: int, structure: str = "2025", province: str | None = None) -> Structure:
    """The unit tree and profiles for ``structure`` (``2025`` | ``2024``), optionally one province only.

    Raises :class:`InputError` for an unknown structure or province code.
    """
    rng = random.Random(f"{seed}:structure:{structure}")
    if structure == "2025":
        tree = load_reference_units_2025()
        provinces = [(u.code, u.name) for u in tree.cohort(UnitLevel.PROVINCE)]
        lower: dict[str, list[tuple[str, str, str | None]]] = {
            code: [(c.code, c.name, None) for c in tree.children(code)] for code, _ in provinces
        }
        districts: dict[str, list[tuple[str, str]]] = {}
    elif structure == "2024":
        provinces = [(r["code"], r["name"]) for r in _csv("provinces-2024.csv")]
        districts = {}
        for r in _csv("districts-2024.csv"):
            districts.setdefault(r["province_code"], []).append((r["code"], r["name"]))
        lower = {}
        for r in _csv("communes-2024.csv"):
            prov = r["district_code"].split(".", 1)[0]
            lower.setdefault(prov, []).append((r["code"], r["name"], r["district_code"]))
    else:
        raise InputError.single(
            "invalid_structure",
            f"Cấu trúc '{structure}' không hợp lệ (2025 | 2024)",
            f"Unknown structure '{structure}' (2025 | 2024)",
            field="structure",
        )
    known = {code for code, _ in provinces}
    if province is not None and province not in known:
        raise InputError.single(
            "unknown_unit",
            f"Không có tỉnh mã '{province}' trong cấu trúc {structure}",
            f"No province '{province}' in structure {structure}",
            field="province",
        )

    units: list[Profile] = []
    for code, name in provinces:
        # Draw every province's profile even when only one is generated, so that a province's data does not
        # depend on --province.
        q_prov = rng.uniform(-0.9, 0.7)
        size = _BIG_CITIES.get(code, 1.0) * rng.lognormvariate(0.0, 0.25)
        unit_rng = random.Random(f"{seed}:units:{structure}:{code}")
        if province is not None and code != province:
            continue
        suffix = _eid_suffix(code)
        units.append(Profile(code, name, UnitLevel.PROVINCE, None, f"000.00.00.{suffix}", code, q_prov, 0.0))
        dept_total = 0.26 * size * max(len(lower.get(code, [])), 40)
        for i, (dname, group, share) in enumerate(DEPARTMENTS, start=1):
            q = _clip(0.7 * q_prov + unit_rng.gauss(0.0, 0.35))
            units.append(
                Profile(
                    f"{code}.S{i:02d}",
                    dname,
                    UnitLevel.PROVINCIAL_DEPARTMENT,
                    code,
                    f"000.00.{i:02d}.{suffix}",
                    code,
                    q,
                    dept_total * share * unit_rng.lognormvariate(0.0, 0.2),
                    group,
                )
            )
        district_quality: dict[str, float] = {}
        for j, (dcode, dname) in enumerate(districts.get(code, []), start=1):
            q = _clip(0.7 * q_prov + unit_rng.gauss(0.0, 0.3))
            district_quality[dcode] = q
            units.append(Profile(dcode, dname, UnitLevel.DISTRICT, code, f"000.{j:02d}.00.{suffix}", code, q, 0.0))
        for k, (ccode, cname, district) in enumerate(lower.get(code, []), start=1):
            base = district_quality[district] if district is not None else q_prov
            q = _clip(0.75 * base + unit_rng.gauss(0.0, 0.3))
            urban = 1.8 if cname.startswith(("Phường", "Thị trấn")) else 1.0
            weight = size * urban * unit_rng.lognormvariate(0.0, 0.45)
            eid = f"{k // 100:03d}.{k % 100:02d}.99.{suffix}"
            parent = district if district is not None else code
            units.append(Profile(ccode, cname, UnitLevel.COMMUNE, parent, eid, code, q, weight))
    return Structure(structure, tuple(units))
