"""The generator: deterministic bytes, real structure, flows that ingest with zero rejections, plausible scores."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from chiso766.domain.periods import VN_TZ
from chiso766.errors import InputError
from chiso766.generate import KINDS, GenerateConfig, demo_now, generate
from chiso766.methodology import load_methodology
from chiso766.service.scoreboard import Scoreboard
from chiso766.store.db import Store
from chiso766.store.ingest import ingest_paths

NOW = datetime(2026, 3, 25, 10, 0, tzinfo=VN_TZ)


def _gen(out: Path, **kw: object) -> dict[str, int]:
    args: dict[str, object] = {"out": out, "now": NOW, "dossiers": 1500, "seed": 7, "scale": "province"}
    args.update(kw)
    return generate(GenerateConfig(**args)).counts  # type: ignore[arg-type]


def _read(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_same_seed_same_bytes_other_seed_differs(tmp_path: Path) -> None:
    _gen(tmp_path / "a")
    _gen(tmp_path / "b")
    _gen(tmp_path / "c", seed=8)
    for kind in KINDS:
        assert (tmp_path / "a" / f"{kind}.jsonl").read_bytes() == (tmp_path / "b" / f"{kind}.jsonl").read_bytes()
    assert (tmp_path / "a" / "dossiers.jsonl").read_bytes() != (tmp_path / "c" / "dossiers.jsonl").read_bytes()


def test_nation_structure_is_the_real_2025_map(tmp_path: Path) -> None:
    counts = _gen(tmp_path, scale="nation", dossiers=0)
    units = _read(tmp_path / "units.jsonl")
    levels = [u["CapDonVi"] for u in units]
    assert levels.count("province") == 34
    assert levels.count("commune") == 3321
    assert levels.count("provincial_department") == 34 * 15
    assert counts["dossiers"] == 0
    names = {u["MaDonVi"]: u["TenDonVi"] for u in units}
    assert names["H44"] == "Tỉnh Phú Thọ"
    assert len(_read(tmp_path / "procedures.jsonl")) == 2000


def test_structure_2024_has_districts_with_lineage_names(tmp_path: Path) -> None:
    _gen(tmp_path, structure="2024", province="T24", now=datetime(2024, 12, 31, 23, tzinfo=VN_TZ), dossiers=300)
    units = _read(tmp_path / "units.jsonl")
    districts = {u["TenDonVi"] for u in units if u["CapDonVi"] == "district"}
    assert {"Huyện Tân Yên", "Huyện Hiệp Hòa", "Huyện Lạng Giang"} <= districts
    assert len(districts) == 10
    communes = [u for u in units if u["CapDonVi"] == "commune"]
    assert len(communes) == 192 and all(str(c["MaDonViCha"]).startswith("T24.") for c in communes)


def test_flows_follow_the_status_rules(tmp_path: Path) -> None:
    _gen(tmp_path)
    dossiers = _read(tmp_path / "dossiers.jsonl")
    assert len(dossiers) == 1500
    assert len({d["MaHoSo"] for d in dossiers}) == 1500
    now = NOW.strftime("%Y%m%d%H%M%S")
    for d in dossiers:
        assert "20260101000000" <= str(d["NgayTiepNhan"]) <= now
        status, end = d["TrangThaiHoSo"], d["NgayKetThucXuLy"]
        assert status in {"2", "3", "4", "5", "6", "7", "8", "9", "10"}
        assert (end != "") == (status in {"3", "7", "8", "9", "10"}), d["MaHoSo"]
        if status == "10":
            assert str(d["NgayTra"]) >= str(end) and str(d["NgayTra"]) <= now
        for s in d["DanhSachHoSoBoSung"]:  # type: ignore[attr-defined]
            assert s["NgayBoSung"] <= now
    statuses = {d["TrangThaiHoSo"] for d in dossiers}
    assert {"4", "9", "10"} <= statuses  # open, finished and returned dossiers all occur
    progress = _read(tmp_path / "progress.jsonl")
    assert all(str(p["ThoiDiemXuLy"]) <= now for p in progress)
    petitions = _read(tmp_path / "petitions.jsonl")
    assert petitions and all(p["TienTrinh"][0]["TrangThai"] == "CHO_TIEP_NHAN" for p in petitions)  # type: ignore[index]


def test_everything_ingests_with_zero_rejections_and_scores(tmp_path: Path) -> None:
    _gen(tmp_path, dossiers=3000)
    store = Store(":memory:")
    for kind in KINDS:
        reports = ingest_paths(store, kind, [tmp_path / f"{kind}.jsonl"])
        assert sum(r.rejected for r in reports) == 0, (kind, reports[0].problems[:2])
        assert sum(r.accepted for r in reports) > 0
    board = Scoreboard(store, load_methodology("portal-2026"), clock=lambda: NOW)
    board.start()
    scores = board.scores("2026Q1")
    total = float(scores.scores["H44"].total)
    assert 45.0 < total < 85.0
    ind = scores.scores["H44"].indicators
    assert (ind["PROGRESS_ON_TIME"].denominator or 0) > 2000
    assert 0.75 < float(ind["PROGRESS_ON_TIME"].rate or 0) / 100 < 0.97
    communes = [c for c, u in scores.units.items() if u.level == "commune"]
    spread = [float(scores.scores[c].total) for c in communes if ind]
    assert max(spread) - min(spread) > 5.0  # units differ


def test_bad_arguments_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError) as err:
        _gen(tmp_path, scale="world")
    assert err.value.code == "invalid_scale"
    with pytest.raises(InputError):
        _gen(tmp_path, province="H99")
    with pytest.raises(InputError) as err:
        _gen(tmp_path, now=datetime(2030, 1, 1, tzinfo=VN_TZ))
    assert err.value.code == "now_outside_calendar"


def test_demo_now_uses_real_clock_only_inside_calendar() -> None:
    inside = datetime(2026, 5, 4, 9, 0, tzinfo=VN_TZ)
    assert demo_now(inside) == (inside, True)
    now, real = demo_now(datetime(2031, 1, 1, tzinfo=VN_TZ))
    assert not real and now.year == 2026
