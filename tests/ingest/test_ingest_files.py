"""Flat files as offices export them (CSV/TSV, XLSX, Parquet): Vietnamese headers, local dates, typed cells.

Each flat file holds the same dossiers as a JSON reference batch; the stored rows must be identical.
"""

from __future__ import annotations

import csv
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import openpyxl  # type: ignore[import-untyped]
import typer
from ingest_helpers import rows, snapshot
from typer.testing import CliRunner

from chiso766.cli.data_commands import register
from chiso766.store.db import Store
from chiso766.store.ingest import ingest_paths
from chiso766.store.load import find_record_files, ingest_records, read_records

EVENTS_A = [{"TrangThai": "2", "ThoiDiemXuLy": "20260105083000"}, {"TrangThai": "9", "ThoiDiemXuLy": "20260109160000"}]
REFERENCE: list[dict[str, Any]] = [
    {"MaHoSo": "000.00.01.H99-260105-0001", "MaCoQuanThucHien": "H99.01", "MaTTHC": "1.001234", "KenhThucHien": "2",
     "NgayTiepNhan": "20260105083000", "NgayHenTra": "20260112170000", "TrangThaiHoSo": "9",
     "NgayKetThucXuLy": "20260109160000", "DuocThanhToanTrucTuyen": "1", "DanhSachLePhi": [{"Gia": "200000"}],
     "QuaTrinhXuLy": EVENTS_A},
    {"MaHoSo": "000.00.02.H99-260106-0002", "MaCoQuanThucHien": "H99.02", "MaTTHC": "2.000815", "KenhThucHien": "1",
     "NgayTiepNhan": "20260106103000", "NgayHenTra": "20260108103000", "TrangThaiHoSo": "4"},
]  # fmt: skip

HEADER = ["STT", "Mã hồ sơ", "Cơ quan thực hiện", "Mã TTHC", "Tên thủ tục", "Kênh thực hiện", "Chủ hồ sơ",
          "Ngày tiếp nhận", "Ngày hẹn trả", "Trạng thái", "Ngày kết thúc xử lý", "Thanh toán trực tuyến", "Lệ phí",
          "Quá trình xử lý"]  # fmt: skip
ROWS = [
    ["1", "000.00.01.H99-260105-0001", "H99.01", "1.001234", "Cấp phiếu LLTP", "2", "Nguyễn Văn An",
     "05/01/2026 08:30:00", "12/01/2026 17:00", "9", "09/01/2026 16:00:00", "1", "200000", json.dumps(EVENTS_A)],
    ["2", "000.00.02.H99-260106-0002", "H99.02", "2.000815", "Cấp phép", "1", "Trần Thị Bình",
     "06/01/2026 10:30:00", "08/01/2026 10:30:00", "4", "", "", "", ""],
]  # fmt: skip


def reference_rows(tmp_path: Path) -> dict[str, list[tuple[Any, ...]]]:
    with Store(":memory:") as store:
        ingest_records(store, "dossiers", REFERENCE, "ref")
        return snapshot(store, ("dossiers", "dossier_events"))


def load_file(path: Path) -> tuple[Store, Any]:
    store = Store(":memory:")
    [report] = ingest_paths(store, "dossiers", [path])
    return store, report


def test_csv_with_title_rows_semicolons_bom_and_vietnamese_headers(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f, delimiter=";")
        w.writerow(["DANH SÁCH HỒ SƠ TIẾP NHẬN THÁNG 01/2026"])
        w.writerow([])
        w.writerow(HEADER)
        w.writerows(ROWS)
    store, report = load_file(path)
    assert (report.accepted, report.rejected) == (2, 0), report.as_dict()
    assert snapshot(store, ("dossiers", "dossier_events")) == reference_rows(tmp_path)
    assert "Nguyễn Văn An" not in repr(rows(store, "SELECT * FROM dossiers"))


def test_utf16_tab_separated_unicode_text_export(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    with path.open("w", encoding="utf-16", newline="") as f:
        w = csv.writer(f, delimiter="\t")
        w.writerow(HEADER)
        w.writerows(ROWS)
    store, report = load_file(path)
    assert (report.accepted, report.rejected) == (2, 0), report.as_dict()
    assert snapshot(store, ("dossiers", "dossier_events")) == reference_rows(tmp_path)


def test_xlsx_with_typed_cells_and_an_instructions_sheet_first(tmp_path: Path) -> None:
    path = tmp_path / "export.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "Hướng dẫn"
    wb.active.append(["Biểu mẫu xuất từ hệ thống một cửa"])
    ws = wb.create_sheet("Hồ sơ")
    ws.append(["BÁO CÁO HỒ SƠ"])
    ws.append(HEADER)
    for row in ROWS:
        typed: list[Any] = list(row)
        for i, name in enumerate(HEADER):
            if name.startswith("Ngày") and row[i]:
                typed[i] = datetime.strptime(row[i][:16], "%d/%m/%Y %H:%M")  # a real date-time cell
            elif name in ("STT", "Kênh thực hiện", "Trạng thái", "Thanh toán trực tuyến", "Lệ phí") and row[i]:
                typed[i] = int(row[i])  # a number cell
        ws.append(typed)
    ws.append([None] * len(HEADER))  # trailing empty row
    wb.save(path)
    store, report = load_file(path)
    assert (report.accepted, report.rejected) == (2, 0), report.as_dict()
    assert snapshot(store, ("dossiers", "dossier_events")) == reference_rows(tmp_path)


def test_parquet_with_timestamps_and_integers(tmp_path: Path) -> None:
    path = tmp_path / "dossiers.parquet"
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE t (MaHoSo VARCHAR, MaCoQuanThucHien VARCHAR, MaTTHC VARCHAR, KenhThucHien INTEGER, "
        "NgayTiepNhan TIMESTAMP, NgayHenTra TIMESTAMP, TrangThaiHoSo INTEGER, NgayKetThucXuLy TIMESTAMP, "
        'DuocThanhToanTrucTuyen VARCHAR, "Lệ phí" BIGINT, QuaTrinhXuLy VARCHAR)'
    )
    con.execute(
        "INSERT INTO t VALUES (?, 'H99.01', '1.001234', 2, '2026-01-05 08:30:00', '2026-01-12 17:00:00', 9, "
        "'2026-01-09 16:00:00', '1', 200000, ?), "
        "('000.00.02.H99-260106-0002', 'H99.02', '2.000815', 1, '2026-01-06 10:30:00', '2026-01-08 10:30:00', 4, "
        "NULL, NULL, NULL, NULL)",
        [REFERENCE[0]["MaHoSo"], json.dumps(EVENTS_A)],
    )
    con.execute(f"COPY t TO '{path}' (FORMAT parquet)")
    con.close()
    store, report = load_file(path)
    assert (report.accepted, report.rejected) == (2, 0), report.as_dict()
    assert snapshot(store, ("dossiers", "dossier_events")) == reference_rows(tmp_path)


def test_units_and_progress_csv_with_office_headers(tmp_path: Path) -> None:
    units = tmp_path / "units.csv"
    units.write_text(
        "Mã đơn vị,Tên đơn vị,Mã đơn vị cha,Cấp đơn vị,Mã định danh\n"
        "H99,Tỉnh Thử Nghiệm,,province,000.00.00.H99\n"
        "H99.01,Sở Tư pháp,H99,provincial_department,000.00.01.H99\n",
        encoding="utf-8",
    )
    progress = tmp_path / "progress.csv"
    progress.write_text(
        "Số hồ sơ,Trạng thái,Thời điểm xử lý,Nội dung xử lý\n"
        "000.00.01.H99-260105-0001,2,05/01/2026 08:30,Tiếp nhận\n"
        "000.00.01.H99-260105-0001,4,2026-01-05 09:30:00,Chuyển xử lý\n"
        "000.00.01.H99-260105-0001,12,05/01/2026 10:30,Sai trạng thái\n",
        encoding="utf-8",
    )
    assert [k for k, _ in find_record_files("auto", [tmp_path])] == ["units", "progress"]
    store = Store(":memory:")
    reports = ingest_paths(store, "auto", [tmp_path])
    assert [(r.kind, r.accepted, r.rejected) for r in reports] == [("units", 2, 0), ("progress", 2, 1)]
    assert rows(store, "SELECT unit_code, parent_code, level, electronic_id FROM units ORDER BY 1") == [
        ("H99", None, "province", "000.00.00.H99"),
        ("H99.01", "H99", "provincial_department", "000.00.01.H99"),
    ]
    assert rows(store, "SELECT status, event_at FROM dossier_events ORDER BY event_at") == [
        ("2", datetime(2026, 1, 5, 1, 30)),
        ("4", datetime(2026, 1, 5, 2, 30)),
    ]
    [(_, [problem])] = reports[1].problems
    assert problem.field == "TrangThai" and "'12'" in problem.message_en


def test_flat_files_stream(tmp_path: Path) -> None:
    """The reader is lazy: the first record comes before the (large) rest of the file is read."""
    path = tmp_path / "dossiers.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["Mã hồ sơ", "Ngày tiếp nhận"])
        for i in range(50_000):
            w.writerow([f"A-{i}", "05/01/2026 08:30"])
    it = read_records(path, "dossiers")
    assert next(it) == {"MaHoSo": "A-0", "NgayTiepNhan": "20260105083000"}
    assert sum(1 for _ in it) == 49_999


def test_cli_writes_a_quarantine_file_and_an_audit_row(tmp_path: Path) -> None:
    app = typer.Typer()
    register(app)
    broken = tmp_path / "dossiers.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really a workbook")
    csv_path = tmp_path / "dossiers.csv"
    csv_path.write_text(
        "Mã hồ sơ,Ngày tiếp nhận,Chủ hồ sơ\nA-1,05/01/2026 08:30,Nguyễn Văn An\nA-2,31/02/2026,Trần B\n",
        encoding="utf-8",
    )
    db = tmp_path / "s.duckdb"
    result = CliRunner().invoke(app, ["ingest", "--db", str(db), "--kind", "dossiers", str(csv_path), str(broken)])
    assert result.exit_code == 1, result.output
    qfile = tmp_path / "s.quarantine.jsonl"
    assert str(qfile) in result.stderr.replace("\n", "")
    lines = [json.loads(line) for line in qfile.read_text(encoding="utf-8").splitlines()]
    assert [(q["source"].rsplit("/", 1)[-1], q["record_no"], q["record_key"]) for q in lines] == [
        ("dossiers.csv", 2, "A-2"),
        ("dossiers.xlsx", 1, None),
    ]
    assert lines[0]["problems"][0]["field"] == "NgayTiepNhan"
    assert "Trần B" not in qfile.read_text(encoding="utf-8")
    assert "Cannot read the rest of the file" in lines[1]["problems"][0]["message_en"]
    with Store(db, read_only=True) as store:
        assert rows(store, "SELECT dossier_id FROM dossiers") == [("A-1",)]
        audit = rows(store, "SELECT actor, action, kind, accepted, rejected, detail FROM audit_log ORDER BY logged_at")
        assert [a[1:] for a in audit] == [
            ("ingest", "dossiers", 1, 1, "dossiers.csv"),
            ("ingest", "dossiers", 0, 1, "dossiers.xlsx"),
        ]
        assert all(a[0].startswith("cli") for a in audit)
