"""Pages (server-rendered HTML), CSV / Excel exports, accounts, charts, real-time refresh and the user CLI."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from pathlib import Path

import openpyxl
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from chiso766.api.app import create_app
from chiso766.cli.main import app as cli_app
from chiso766.errors import InputError
from chiso766.store.db import Store
from chiso766.store.load import ingest_records
from chiso766.web import auth
from chiso766.web.charts import line_chart
from tests.web.conftest import FIXTURE, KINDS, NOW, PASSWORD, SECRET, build_store, settings

MARCH = "2026-03"


def test_pages_show_vi_vn_numbers_equal_to_the_api(client: TestClient) -> None:
    page = client.get(f"/?period={MARCH}").text
    assert "63,53" in page and "61,78" in page and "Tháng 3/2026" in page
    assert "Kỳ đã kết thúc" in page and "https://" not in page  # closed period; nothing loaded from outside
    unit = client.get(f"/units/H90?period={MARCH}").text
    assert 'id="unit-total">63,53' in unit and 'id="unit-rank">1<small>/2' in unit
    assert "12,50<small>/18,00" in unit and "+2,75 so với bình quân cả nước: 9,75" in unit
    assert "20 × tỷ lệ" in unit and "61,11 %" in unit
    assert 'href="/advisor/H90?period=2026-03"' in unit  # nav link to the advisor in a unit context
    assert "<svg" in unit and 'id="trend-table"' in unit  # chart with its data table


def test_open_period_is_labelled_provisional_and_null_shows_a_dash(client: TestClient) -> None:
    page = client.get("/units/H91.11?period=2026-04").text
    assert "Tạm tính" in page
    # No dossier received in April at H91.11: 1.4 is 0/0 with a null rate (null_counts_zero) → "—", never "0"
    doc = client.get("/api/v1/units/H91.11?period=2026-04").json()
    row = next(r for r in doc["indicators"] if r["code"] == "DOSSIER_SYNC")
    assert row["rate"] is None and f'data-indicator="{row["code"]}"' in page
    cell = page.split(f'data-indicator="{row["code"]}"')[1].split("</tr>")[0]
    assert '<td class="num" data-value="">—</td>' in cell


def test_english_switch_sets_a_cookie(client: TestClient) -> None:
    response = client.get(f"/?period={MARCH}&lang=en")
    assert "National ranking" in response.text and "63.53" in response.text
    assert response.cookies.get("lang") == "en"
    assert "Xếp hạng" not in client.get(f"/?period={MARCH}").text.split("<main")[1].split("</h1>")[0]
    client.cookies.clear()


def test_page_errors_are_html_with_status(client: TestClient) -> None:
    response = client.get("/units/H77")
    assert response.status_code == 404 and "H77" in response.text and "<html" in response.text
    login = client.get(f"/units/H90/indicators/PROGRESS_ON_TIME/records?period={MARCH}", follow_redirects=False)
    assert login.status_code == 303 and login.headers["location"].startswith("/login?next=")


def test_login_form_then_records_page(client: TestClient) -> None:
    client.cookies.clear()
    wrong = client.post("/login", data={"username": "tinh_h90", "password": "x"})
    assert wrong.status_code == 401 and "Sai tên đăng nhập" in wrong.text
    target = f"/units/H90/indicators/PROGRESS_ON_TIME/records?period={MARCH}"
    ok = client.post(
        f"/login?next={target.replace('?', '%3F').replace('=', '%3D')}",
        data={"username": "tinh_h90", "password": PASSWORD},
        follow_redirects=False,
    )
    assert ok.status_code == 303 and ok.headers["location"] == target
    page = client.get(target).text
    for dossier in ("H90.01-A2", "H90.01-A3", "H90.01-A4", "H90-V1", "H90.12-C2b", "H90.13-C3c", "H90.13-C3d"):
        assert dossier in page
    assert "Yêu cầu bổ sung quá 1 lần" in page
    client.post("/logout")
    client.cookies.clear()


def test_national_csv_has_numbers_and_the_average_row(client: TestClient) -> None:
    response = client.get(f"/api/v1/export/national.csv?period={MARCH}")
    assert response.headers["content-disposition"].endswith('national-2026-03.csv"')
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("Hạng,Mã đơn vị,")
    assert lines[1].startswith("1,H90,Tỉnh Thử Nghiệm,63.53,12.50,12.22,9.74,6.67,10.83,11.57,")
    assert lines[-1].startswith(",,Bình quân cả nước,62.67,9.75,12.78,")


def test_unit_workbook_has_real_numbers_formats_and_title(client: TestClient) -> None:
    response = client.get(f"/api/v1/export/units/H90.xlsx?period={MARCH}")
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["Tổng quan", "Chỉ tiêu", "Sở, ban, ngành", "Xã, phường", "Diễn biến"]
    sheet = book["Chỉ tiêu"]
    assert "Quyết định số 766/QĐ-TTg ngày 23/6/2022" in sheet["A1"].value
    assert "Tháng 3/2026" in sheet["A3"].value
    header = [c.value for c in sheet[5]]
    rows = {r[9]: r for r in sheet.iter_rows(min_row=6, values_only=True)}
    ontime = rows["PROGRESS_ON_TIME"]
    assert ontime[2:8] == (11, 18, 61.11, 12.22, 20, 7.78)
    assert header[4] == "Tỷ lệ (%)"
    cell = sheet.cell(row=6 + list(rows).index("PROGRESS_ON_TIME"), column=6)
    assert cell.data_type == "n" and cell.number_format == "#,##0.00" and cell.font.name == "Times New Roman"
    communes = book["Xã, phường"]
    assert {communes.cell(row=r, column=2).value for r in range(6, 9)} == {"H90.11", "H90.12", "H90.13"}


def test_null_is_a_dash_in_excel_and_empty_in_csv(client: TestClient) -> None:
    book = openpyxl.load_workbook(
        io.BytesIO(client.get("/api/v1/export/units/H91.11/indicators.xlsx?period=2026-04").content)
    )
    rows = {r[9]: r for r in book.active.iter_rows(min_row=6, values_only=True)}
    assert rows["DOSSIER_SYNC"][4] == "—"
    csv_text = client.get("/api/v1/export/units/H91.11/indicators.csv?period=2026-04").content.decode("utf-8-sig")
    line = next(x for x in csv_text.splitlines() if x.endswith("DOSSIER_SYNC"))
    assert ",0,0,," in line  # numerator 0, denominator 0, rate empty


def test_drill_exports_and_unknown_table(client: TestClient) -> None:
    base = f"/api/v1/export/units/H90/indicators/PROGRESS_ON_TIME/subunits.csv?period={MARCH}"
    lines = client.get(base).content.decode("utf-8-sig").splitlines()
    assert lines[1] == "H90.01,Sở Tư pháp,3,3.34"
    assert client.get(base.replace("subunits", "nothing")).status_code == 404
    client.cookies.clear()
    assert client.get(base.replace("subunits", "records")).status_code == 401


def test_passwords_sessions_and_scope() -> None:
    stored = auth.hash_password("mot-mat-khau")
    assert stored.startswith("scrypt$16384$8$1$") and auth.verify_password("mot-mat-khau", stored)
    assert not auth.verify_password("khac", stored)
    account = auth.Account("a", "H90")
    token = auth.sign_session(SECRET, account, NOW)
    assert auth.read_session(SECRET, token, NOW + timedelta(hours=1)) == account
    assert auth.read_session(SECRET, token, NOW + timedelta(hours=13)) is None  # expired after 12 h
    assert auth.read_session("other-secret", token, NOW) is None
    store = build_store()
    board_units = create_app(settings(), store=store).state.board.units()
    assert auth.in_subtree(board_units, "H90", "H90.13") and not auth.in_subtree(board_units, "H90.01", "H90.13")
    with pytest.raises(InputError, match=r"mật khẩu|password"):
        auth.create_user(store.connection, "x", "H90", "short")
    with pytest.raises(InputError, match="H77"):
        auth.create_user(store.connection, "x", "H77", "long-enough-pw")


def test_line_chart_breaks_at_null_and_escapes() -> None:
    svg = str(line_chart("<T>", ["a", "b", "c", "d"], [("s", [10.0, None, 20.0, 30.0])]))
    assert svg.count("<polyline") == 1 and svg.count("<circle") == 3  # the lone first point has no line
    assert "&lt;T&gt;" in svg and "<T>" not in svg


def test_new_records_show_after_refresh() -> None:
    store = build_store()
    app = create_app(settings(), store=store)
    with TestClient(app) as c:
        before = c.get("/api/v1/units/H91.11?period=2026-04").json()
        version = c.get("/api/v1/state").json()["version"]
        row = next(r for r in before["indicators"] if r["code"] == "PROGRESS_ON_TIME")
        assert (row["numerator"], row["denominator"]) == (0, 1)  # E2, open since 10/03, is already late
        record = json.loads((FIXTURE / "dossiers.json").read_text(encoding="utf-8"))[-1]  # E3, finished on time
        record.update(
            MaHoSo="H91.11-E9",
            NgayNopHoSo="20260401100000",
            NgayTiepNhan="20260401100000",
            NgayHenTra="20260402170000",
            NgayKetThucXuLy="20260401150000",
            NgayTra="20260401150000",
        )
        board = app.state.board
        with board.lock:
            ingest_records(store, "dossiers", [record], "test")
        board.refresh()
        assert c.get("/api/v1/state").json()["version"] > version
        after = c.get("/api/v1/units/H91.11?period=2026-04").json()
        row = next(r for r in after["indicators"] if r["code"] == "PROGRESS_ON_TIME")
        assert (row["numerator"], row["denominator"]) == (1, 2)  # E9 finished on time on 01/04
        assert 'data-version="' + str(c.get("/api/v1/state").json()["version"]) in c.get("/units/H91.11").text


def test_user_create_cli(tmp_path: Path) -> None:
    db = tmp_path / "u.duckdb"
    with Store(db) as store:
        from chiso766.store.ingest import ingest_paths

        for kind, name in KINDS[:1]:
            ingest_paths(store, kind, [FIXTURE / name])
    runner = CliRunner()
    args = ["user", "create", "--db", str(db), "--unit", "H90.11", "--username", "xa_an_binh"]
    result = runner.invoke(cli_app, args, input="mat-khau-xa-1\n")
    assert result.exit_code == 0, result.output
    again = runner.invoke(cli_app, args, input="mat-khau-xa-1\n")
    assert again.exit_code == 2 and "đã tồn tại" in again.output
    with Store(db) as store:
        assert auth.authenticate(store.connection, "xa_an_binh", "mat-khau-xa-1") == auth.Account(
            "xa_an_binh", "H90.11"
        )
        assert auth.authenticate(store.connection, "xa_an_binh", "wrong-password") is None
