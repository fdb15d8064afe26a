"""store.quality.check finds each kind of issue in a crafted store, with counts and example keys."""

from __future__ import annotations

from pathlib import Path

from ingest_helpers import load

from chiso766.store.db import Store
from chiso766.store.ingest import ingest_paths
from chiso766.store.load import ingest_records
from chiso766.store.quality import EXAMPLES, check


def _dossier(key: str, **fields: object) -> dict[str, object]:
    return {"MaHoSo": key, "MaCoQuanThucHien": "H99.01", "MaTTHC": "1.001234", **fields}


def test_the_sample_folder_has_only_the_planted_findings(store: Store, records_dir: Path) -> None:
    ingest_paths(store, "auto", [records_dir])
    report = check(store)
    assert report.totals["dossiers"] == 4
    # D2's unit resolves through its MaHoSo prefix; PAKN-0002 is held by VPCP; one progress entry has no dossier
    assert {f.code: f.examples for f in report.findings} == {
        "petition_unknown_unit": ["PAKN-0002"],
        "progress_unknown_dossier": ["000.00.01.H99-251230-9999"],
    }


def test_check_finds_each_kind_of_issue(store: Store) -> None:
    ingest_records(store, "units", load("units.json"), "units")
    ingest_records(store, "procedures", load("procedures.json"), "procedures")
    dossiers = [
        _dossier("OK-1", NgayNopHoSo="20260201070000", NgayTiepNhan="20260201080000", TrangThaiHoSo="2"),
        _dossier("UNIT-1", MaCoQuanThucHien="H00.99", NgayTiepNhan="20260201080000"),
        {"MaHoSo": "999.99.99.H00-260201-0001", "MaTTHC": "1.001234"},  # prefix matches no unit
        _dossier("PROC-1", MaTTHC="9.999999"),
        _dossier("PROC-2", MaTTHC=""),
        _dossier("END-1", NgayTiepNhan="20260201080000", NgayKetThucXuLy="20260131080000", TrangThaiHoSo="9"),
        _dossier("RET-1", NgayTiepNhan="20260201080000", NgayTra="20260131080000", TrangThaiHoSo="10"),
        _dossier("REJ-1", NgayTiepNhan="20260201080000", NgayTuChoi="20260131080000", TrangThaiHoSo="3"),
        _dossier("DUE-1", NgayTiepNhan="20260201080000", NgayHenTra="20260131080000"),
        _dossier("SUB-1", NgayNopHoSo="20260202080000", NgayTiepNhan="20260201080000"),
        _dossier("TERM-1", NgayTiepNhan="20260201080000", TrangThaiHoSo="9"),
        _dossier(  # terminal status with a dated terminal event in its history: fine
            "TERM-OK",
            NgayTiepNhan="20260201080000",
            TrangThaiHoSo="10",
        )
        | {"QuaTrinhXuLy": [{"TrangThai": "9", "ThoiDiemXuLy": "20260203080000"}]},
        {"MaHoSo": "BAD-1", "NgayTiepNhan": "2026"},
    ]
    ingest_records(store, "dossiers", dossiers, "dossiers")
    ingest_records(store, "progress", [{"MaHoSo": "GHOST-1", "TrangThai": "2", "ThoiDiemXuLy": "20260201080000"}], "p")
    ingest_records(store, "petitions", [{"MaPAKN": "P-1", "MaDonVi": "H00", "NgayGui": "20260201080000"}], "pk")
    ingest_records(store, "units", [{"MaDonVi": "H98.01", "MaDonViCha": "H98", "CapDonVi": "commune"}], "u")
    report = check(store)
    found = {f.code: (f.count, f.examples) for f in report.findings}
    assert found == {
        "unit_tree_invalid": (1, found["unit_tree_invalid"][1]),
        "dossier_unknown_unit": (2, ["999.99.99.H00-260201-0001", "UNIT-1"]),
        "dossier_unknown_procedure": (2, ["PROC-1", "PROC-2"]),
        "end_before_received": (1, ["END-1"]),
        "returned_before_received": (1, ["RET-1"]),
        "rejected_before_received": (1, ["REJ-1"]),
        "due_before_received": (1, ["DUE-1"]),
        "received_before_submitted": (1, ["SUB-1"]),
        "terminal_without_end": (1, ["TERM-1"]),
        "petition_unknown_unit": (1, ["P-1"]),
        "progress_unknown_dossier": (1, ["GHOST-1"]),
        "quarantined_dossiers": (1, ["BAD-1"]),
    }
    assert "H98" in found["unit_tree_invalid"][1][0]
    for finding in report.findings:
        assert finding.title_vi and finding.title_en and finding.title_vi != finding.title_en
    assert not report.ok
    assert report.as_dict()["findings"][0]["code"] == "unit_tree_invalid"


def test_examples_are_capped(store: Store) -> None:
    ingest_records(store, "dossiers", [{"MaHoSo": f"X-{i:03}"} for i in range(50)], "d")
    finding = check(store).get("dossier_unknown_unit")
    assert finding is not None
    assert finding.count == 50
    assert len(finding.examples) == EXAMPLES
    assert finding.examples[0] == "X-000"


def test_empty_store_is_ok(store: Store) -> None:
    report = check(store)
    assert report.ok
    assert report.totals["dossiers"] == 0


def test_dates_outside_the_calendar_are_reported(store: Store) -> None:
    """D-gen-5: working days are known 2024–2026 only; a dossier received in 2027 (or due in 2023) is reported
    instead of being judged by a guessed calendar. 31/12/2026 23:59 local is still inside."""
    ingest_records(store, "units", load("units.json"), "units")
    dossiers = [
        _dossier("IN-1", NgayTiepNhan="20261231235900"),
        _dossier("LATE-1", NgayTiepNhan="20270102080000"),
        _dossier("EARLY-1", NgayTiepNhan="20240102080000", NgayHenTra="20231229080000"),
    ]
    ingest_records(store, "dossiers", dossiers, "dossiers")
    finding = check(store).get("dossier_outside_calendar")
    assert finding is not None
    assert (finding.count, sorted(finding.examples)) == (2, ["EARLY-1", "LATE-1"])
