"""Build chiso766's 2024 three-level reference units (63 provinces → 696 districts → 10,035 communes).

Usage (from the repository root)::

    .venv/bin/python scripts/build_unit_data_2024.py             # pip-downloads vietnamadminunits==1.0.4
    .venv/bin/python scripts/build_unit_data_2024.py --wheel PATH.whl
    .venv/bin/python scripts/build_unit_data_2024.py --check     # exit 1 if the shipped CSVs differ

Source: table ``admin_units_legacy`` of ``vietnamadminunits/data/dataset.db`` (MIT; NSO names and codes of the
63-province map before 1 July 2025; 10,040 rows, of which 5 are island districts without communes,
so 10,035 communes — a slightly different cut-off than NSO's 10,056 list). Writes:

- ``provinces-2024.csv``: ``code,name,nso_code,successor_2025,district_count,commune_count``;
- ``districts-2024.csv``: ``code,name,division_type,nso_code,province_code``;
- ``communes-2024.csv``: ``code,name,division_type,nso_code,district_code``.

Codes are chiso766 reference codes, not DVCQG agency codes (the pre-2025 DVCQG ``Hnn`` codes of the 63 provinces
are not in the package): province ``T24`` (``T`` + NSO code), district ``T24.213``, commune ``T24.213.07201``.
``successor_2025`` is the DVCQG code of the 2025 province that absorbed the old one (Nghị quyết 202/2025/QH15),
from ``LINEAGE`` below (province names → 2025 NSO code) and ``provinces-2025.csv``.
"""

from __future__ import annotations

import argparse
import csv
import io
import logging
import sqlite3
import sys
import tempfile
import zipfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_unit_data import VERSION, download_wheel, nfc, write_outputs

log = logging.getLogger("build_unit_data_2024")

DATASET = "vietnamadminunits/data/dataset.db"
OUT_DIR = Path(__file__).resolve().parent.parent / "src" / "chiso766" / "reference" / "data"
TOTAL_PROVINCES, TOTAL_DISTRICTS, TOTAL_COMMUNES = 63, 696, 10040

# Nghị quyết 202/2025/QH15: old province NSO code → the 2025 province's NSO code (unchanged provinces map to
# themselves). Only the merged ones are listed; every other old code is its own successor.
LINEAGE: dict[str, str] = {
    "02": "08",  # Hà Giang → Tuyên Quang
    "10": "15",  # Lào Cai + Yên Bái → Lào Cai (code 15)
    "06": "19",  # Bắc Kạn → Thái Nguyên
    "26": "25",  # Vĩnh Phúc → Phú Thọ
    "17": "25",  # Hòa Bình → Phú Thọ
    "27": "24",  # Bắc Ninh + Bắc Giang → Bắc Ninh (code 24)
    "34": "33",  # Thái Bình → Hưng Yên
    "30": "31",  # Hải Dương → Hải Phòng
    "35": "37",  # Hà Nam → Ninh Bình
    "36": "37",  # Nam Định → Ninh Bình
    "44": "44",  # Quảng Bình + Quảng Trị → Quảng Trị (code 44)
    "45": "44",
    "49": "48",  # Quảng Nam → Đà Nẵng
    "62": "51",  # Kon Tum → Quảng Ngãi
    "52": "52",  # Bình Định + Gia Lai → Gia Lai (code 52)
    "64": "52",
    "58": "56",  # Ninh Thuận → Khánh Hòa
    "67": "68",  # Đắk Nông → Lâm Đồng
    "60": "68",  # Bình Thuận → Lâm Đồng
    "54": "66",  # Phú Yên → Đắk Lắk
    "74": "79",  # Bình Dương → TP Hồ Chí Minh
    "77": "79",  # Bà Rịa - Vũng Tàu → TP Hồ Chí Minh
    "70": "75",  # Bình Phước → Đồng Nai
    "72": "80",  # Long An + Tây Ninh → Tây Ninh (code 80)
    "80": "80",
    "93": "92",  # Hậu Giang → Cần Thơ
    "94": "92",  # Sóc Trăng → Cần Thơ
    "83": "86",  # Bến Tre → Vĩnh Long
    "84": "86",  # Trà Vinh → Vĩnh Long
    "82": "82",  # Tiền Giang + Đồng Tháp → Đồng Tháp (code 82)
    "87": "82",
    "95": "96",  # Bạc Liêu → Cà Mau
    "89": "91",  # An Giang + Kiên Giang → An Giang (code 91)
    "91": "91",
}


def read_rows(wheel: Path, workdir: Path) -> list[tuple[str, ...]]:
    db_path = workdir / "dataset.db"
    with zipfile.ZipFile(wheel) as zf:
        db_path.write_bytes(zf.read(DATASET))
    sql = (
        "SELECT provinceCode, province, districtCode, district, districtType, wardCode, ward, wardType "
        "FROM admin_units_legacy"
    )
    with sqlite3.connect(db_path) as conn:
        return [tuple(nfc(str(v or "").strip()) for v in row) for row in conn.execute(sql)]


def successors_2025() -> dict[str, str]:
    """2025 NSO province code → DVCQG code, from the shipped provinces-2025.csv."""
    with (OUT_DIR / "provinces-2025.csv").open(encoding="utf-8") as f:
        return {row["nso_code"]: row["dvcqg_code"] for row in csv.DictReader(f)}


def ward_type(name: str, given: str) -> str:
    for kind in ("Phường", "Thị trấn", "Xã"):
        if name.startswith(kind + " "):
            return kind
    return given or "Xã"


def build(rows: list[tuple[str, ...]]) -> tuple[str, str, str]:
    new_codes = successors_2025()
    provinces: dict[str, str] = {}
    districts: dict[str, tuple[str, str, str]] = {}
    per_province: Counter[str] = Counter()
    districts_of: dict[str, set[str]] = {}
    for prov, pname, dist, dname, dtype, ward, _wname, _wtype in rows:
        provinces.setdefault(prov, pname)
        districts.setdefault(dist, (dname, dtype, prov))
        per_province[prov] += 1
        districts_of.setdefault(prov, set()).add(dist)
        if not ward:  # island districts without communes (Bạch Long Vĩ, Cồn Cỏ, Hoàng Sa, Lý Sơn, Côn Đảo)
            per_province[prov] -= 1
            continue
        if len(ward) != 5 or not ward.isdigit():
            raise SystemExit(f"bad NSO commune code {ward!r}")
    errors = []
    if (len(provinces), len(districts), len(rows)) != (TOTAL_PROVINCES, TOTAL_DISTRICTS, TOTAL_COMMUNES):
        errors.append(f"counts {len(provinces)}/{len(districts)}/{len(rows)}")
    for prov in provinces:
        if new_codes.get(LINEAGE.get(prov, prov)) is None:
            errors.append(f"no 2025 successor for {prov} {provinces[prov]}")
    if errors:
        raise SystemExit("unexpected package data: " + "; ".join(errors))

    out_p, out_d, out_c = io.StringIO(), io.StringIO(), io.StringIO()
    wp, wd, wc = (csv.writer(s, lineterminator="\n") for s in (out_p, out_d, out_c))
    wp.writerow(["code", "name", "nso_code", "successor_2025", "district_count", "commune_count"])
    for prov in sorted(provinces):
        succ = new_codes[LINEAGE.get(prov, prov)]
        wp.writerow([f"T{prov}", provinces[prov], prov, succ, len(districts_of[prov]), per_province[prov]])
    wd.writerow(["code", "name", "division_type", "nso_code", "province_code"])
    for dist in sorted(districts, key=lambda d: (districts[d][2], d)):
        dname, dtype, prov = districts[dist]
        wd.writerow([f"T{prov}.{dist}", dname, dtype, dist, f"T{prov}"])
    wc.writerow(["code", "name", "division_type", "nso_code", "district_code"])
    for prov, _pn, dist, _dn, _dt, ward, wname, wtype in sorted(rows, key=lambda r: (r[0], r[2], r[5])):
        if not ward:
            continue
        wc.writerow([f"T{prov}.{dist}.{ward}", wname, ward_type(wname, wtype), ward, f"T{prov}.{dist}"])
    return out_p.getvalue(), out_d.getvalue(), out_c.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--wheel", type=Path, help=f"a local vietnamadminunits {VERSION} wheel (default: download)")
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="output folder")
    parser.add_argument("--check", action="store_true", help="compare with the files instead of writing")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        wheel = args.wheel or download_wheel(workdir)
        rows = read_rows(wheel, workdir)
    names = ("provinces-2024.csv", "districts-2024.csv", "communes-2024.csv")
    return write_outputs(dict(zip(names, build(rows), strict=True)), args.out, check=args.check)


if __name__ == "__main__":
    raise SystemExit(main())
