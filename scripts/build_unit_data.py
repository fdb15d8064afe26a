"""Regenerate chiso766's reference administrative-unit CSVs from the MIT-licensed ``vietnamadminunits``.

Usage (from the repository root)::

    .venv/bin/python scripts/build_unit_data.py             # pip-downloads vietnamadminunits==1.0.4
    .venv/bin/python scripts/build_unit_data.py --wheel PATH.whl
    .venv/bin/python scripts/build_unit_data.py --check     # exit 1 if the shipped CSVs differ

It reads the 34-province table ``admin_units`` of ``vietnamadminunits/data/dataset.db`` (3,321 rows, NSO
codes and names after 1 July 2025) and writes, into ``src/chiso766/reference/data/``:

- ``provinces-2025.csv``: ``code,name,nso_code,dvcqg_code,commune_count``;
- ``communes-2025.csv``: ``code,name,division_type,nso_code,province_code`` with
  ``code = {province DVCQG code}.{5-digit NSO commune code}``.

DVCQG province codes and the expected commune counts are not in the package: they are the table of
spec DATA_FORMATS §3.2, copied into ``PROVINCES`` below. The build stops (exit 1) when the package and that
table disagree on a province name, a commune count or the total. ``vietnamadminunits`` is used only here,
never at run time. ``division_type`` follows the unit's name prefix (``Xã``/``Phường``/``Đặc khu``): in 1.0.4
the ``wardType`` column contradicts the name for 4 units, and the name is the correct value (it matches NSO).
"""

from __future__ import annotations

import argparse
import csv
import io
import logging
import sqlite3
import subprocess
import sys
import tempfile
import unicodedata
import zipfile
from collections import Counter
from pathlib import Path

log = logging.getLogger("build_unit_data")

PACKAGE = "vietnamadminunits"
VERSION = "1.0.4"
DATASET = "vietnamadminunits/data/dataset.db"
OUT_DIR = Path(__file__).resolve().parent.parent / "src" / "chiso766" / "reference" / "data"
TOTAL_COMMUNES = 3321
DIVISION_TYPES = ("Xã", "Phường", "Đặc khu")

# DATA_FORMATS §3.2: NSO code, province name, DVCQG departmentCode, commune count.
PROVINCES: tuple[tuple[str, str, str, int], ...] = (
    ("01", "Thành phố Hà Nội", "H26", 126),
    ("04", "Tỉnh Cao Bằng", "H14", 56),
    ("08", "Tỉnh Tuyên Quang", "H60", 124),
    ("11", "Tỉnh Điện Biên", "H18", 45),
    ("12", "Tỉnh Lai Châu", "H35", 38),
    ("14", "Tỉnh Sơn La", "H52", 75),
    ("15", "Tỉnh Lào Cai", "H38", 99),
    ("19", "Tỉnh Thái Nguyên", "H55", 92),
    ("20", "Tỉnh Lạng Sơn", "H37", 65),
    ("22", "Tỉnh Quảng Ninh", "H49", 54),
    ("24", "Tỉnh Bắc Ninh", "H05", 99),
    ("25", "Tỉnh Phú Thọ", "H44", 148),
    ("31", "Thành phố Hải Phòng", "H24", 114),
    ("33", "Tỉnh Hưng Yên", "H31", 104),
    ("37", "Tỉnh Ninh Bình", "H42", 129),
    ("38", "Tỉnh Thanh Hóa", "H56", 166),
    ("40", "Tỉnh Nghệ An", "H41", 130),
    ("42", "Tỉnh Hà Tĩnh", "H27", 69),
    ("44", "Tỉnh Quảng Trị", "H50", 78),
    ("46", "Thành phố Huế", "H57", 40),
    ("48", "Thành phố Đà Nẵng", "H17", 94),
    ("51", "Tỉnh Quảng Ngãi", "H48", 96),
    ("52", "Tỉnh Gia Lai", "H21", 135),
    ("56", "Tỉnh Khánh Hòa", "H32", 65),
    ("66", "Tỉnh Đắk Lắk", "H15", 102),
    ("68", "Tỉnh Lâm Đồng", "H36", 124),
    ("75", "Tỉnh Đồng Nai", "H19", 95),
    ("79", "Thành phố Hồ Chí Minh", "H29", 168),
    ("80", "Tỉnh Tây Ninh", "H53", 96),
    ("82", "Tỉnh Đồng Tháp", "H20", 102),
    ("86", "Tỉnh Vĩnh Long", "H61", 124),
    ("91", "Tỉnh An Giang", "H01", 102),
    ("92", "Thành phố Cần Thơ", "H13", 103),
    ("96", "Tỉnh Cà Mau", "H12", 64),
)


def download_wheel(dest: Path) -> Path:
    """``pip download --no-deps`` the pinned package into ``dest`` and return the wheel path."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"]
    cmd += ["-d", str(dest), f"{PACKAGE}=={VERSION}"]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    wheels = sorted(dest.glob(f"{PACKAGE}-{VERSION}-*.whl"))
    if not wheels:
        raise SystemExit(f"no {PACKAGE} {VERSION} wheel in {dest}")
    return wheels[0]


def read_rows(wheel: Path, workdir: Path) -> list[tuple[str, str, str, str, str]]:
    """Rows ``(province_nso, province_name, ward_nso, ward_name, ward_type)`` of ``admin_units``."""
    db_path = workdir / "dataset.db"
    with zipfile.ZipFile(wheel) as zf:
        db_path.write_bytes(zf.read(DATASET))
    with sqlite3.connect(db_path) as conn:
        sql = "SELECT provinceCode, province, wardCode, ward, wardType FROM admin_units"
        rows = [tuple(str(v).strip() for v in row) for row in conn.execute(sql)]
    return [(a, b, c, d, e) for a, b, c, d, e in rows]


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def division_type(name: str, ward_type: str, code: str) -> str:
    """The unit's type from its name prefix; warn where the package's ``wardType`` disagrees."""
    for kind in DIVISION_TYPES:
        if name.startswith(kind + " "):
            if kind != ward_type:
                log.warning("%s %s: wardType %r contradicts the name; using %r", code, name, ward_type, kind)
            return kind
    if ward_type not in DIVISION_TYPES:
        raise SystemExit(f"{code} {name}: unknown division type {ward_type!r}")
    return ward_type


def build(rows: list[tuple[str, str, str, str, str]]) -> tuple[str, str]:
    """Check ``rows`` against ``PROVINCES`` and return the two CSV texts (provinces, communes)."""
    errors: list[str] = []
    table = {nso: (name, dvcqg, count) for nso, name, dvcqg, count in PROVINCES}
    counts = Counter(row[0] for row in rows)
    names = {row[0]: nfc(row[1]) for row in rows}
    for nso in sorted(set(table) | set(counts)):
        if nso not in table:
            errors.append(f"province {nso} ({names[nso]}) is not in DATA_FORMATS §3.2")
            continue
        name, dvcqg, expected = table[nso]
        if counts[nso] != expected:
            errors.append(f"{dvcqg} {name}: package has {counts[nso]} communes, table says {expected}")
        if nso in names and names[nso] != name:
            errors.append(f"{dvcqg}: package name {names[nso]!r} != table name {name!r}")
    if len(rows) != TOTAL_COMMUNES:
        errors.append(f"package has {len(rows)} communes in all, expected {TOTAL_COMMUNES}")
    if len({row[2] for row in rows}) != len(rows):
        errors.append("duplicate NSO commune codes in the package")
    if errors:
        raise SystemExit("package data disagrees with DATA_FORMATS §3.2:\n  " + "\n  ".join(errors))

    provinces = io.StringIO()
    writer = csv.writer(provinces, lineterminator="\n")
    writer.writerow(["code", "name", "nso_code", "dvcqg_code", "commune_count"])
    for nso, name, dvcqg, count in PROVINCES:
        writer.writerow([dvcqg, name, nso, dvcqg, count])

    communes = io.StringIO()
    writer = csv.writer(communes, lineterminator="\n")
    writer.writerow(["code", "name", "division_type", "nso_code", "province_code"])
    order = {nso: i for i, (nso, *_rest) in enumerate(PROVINCES)}
    for prov, _pname, ward, wname, wtype in sorted(rows, key=lambda r: (order[r[0]], r[2])):
        if len(ward) != 5 or not ward.isdigit():
            raise SystemExit(f"bad NSO commune code {ward!r}")
        dvcqg = table[prov][1]
        name = nfc(wname)
        writer.writerow([f"{dvcqg}.{ward}", name, division_type(name, nfc(wtype), ward), ward, dvcqg])
    return provinces.getvalue(), communes.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path, help=f"a local {PACKAGE} {VERSION} wheel (default: download)")
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="output folder")
    parser.add_argument("--check", action="store_true", help="compare with the files instead of writing")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")

    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        wheel = args.wheel or download_wheel(workdir)
        rows = read_rows(wheel, workdir)
    outputs = dict(zip(("provinces-2025.csv", "communes-2025.csv"), build(rows), strict=True))
    return write_outputs(outputs, args.out, check=args.check)


def write_outputs(outputs: dict[str, str], out: Path, *, check: bool) -> int:
    """Write each CSV text to ``out`` — or, with ``check``, only compare: 1 if any shipped file differs."""
    stale = []
    for filename, text in outputs.items():
        path = out / filename
        if check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(filename)
        else:
            path.write_text(text, encoding="utf-8", newline="")
            log.info("wrote %s (%d rows)", path, text.count("\n") - 1)
    if stale:
        log.error("out of date: %s", ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
