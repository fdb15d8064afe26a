"""The advisor pages follow the dashboard's language switch: ``?lang=en`` (remembered in the ``lang`` cookie) gives
English headings and en-US numbers; Vietnamese stays the default. Fixture H90, clock 25/03/2026 10:00 (March total
65,01 / 65.01)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from chiso766.api.app import AppSettings, create_app
from chiso766.store.db import Store
from chiso766.web import auth
from tests.advisor.conftest import NOW, load_fixture

PASSWORD = "mat-khau-dung-1"
VI_HEADINGS = (
    "Tư vấn cải thiện",
    "Việc cần làm trước",
    "Các chỉ tiêu theo số điểm có thể lấy lại",
    "Cảnh báo sớm",
    "Dự báo cuối kỳ",
    "Tổng điểm",
    "Xếp hạng",
    "Giả định",
    "Kết quả",
    "BẢN TIN LÃNH ĐẠO",
    "Nhóm chỉ số",
    "Quy tắc cảnh báo",
    "Đăng nhập",
)


@pytest.fixture(scope="module")
def app_client() -> Iterator[TestClient]:
    store = Store()
    load_fixture(store)
    auth.create_user(store.connection, "tinh_h90", "H90", PASSWORD)
    app = create_app(AppSettings(clock=lambda: NOW, refresh_seconds=0, session_secret="s3cret"), store=store)
    with TestClient(app) as client:
        yield client


@pytest.fixture
def client(app_client: TestClient) -> Iterator[TestClient]:
    app_client.cookies.clear()
    yield app_client
    app_client.cookies.clear()


def no_vietnamese_headings(html: str) -> None:
    found = [h for h in VI_HEADINGS if h in html]
    assert not found, found


def test_unit_page_in_english(client: TestClient) -> None:
    page = client.get("/advisor/H90", params={"period": "2026-03", "lang": "en"})
    assert page.status_code == 200
    html = page.text
    assert '<html lang="en">' in html
    assert "<h1>Improvement advice: " in html and "March 2026" in html
    for heading in (
        "What to fix first",
        "Indicators by recoverable points",
        "Early warnings",
        "End-of-period forecast",
    ):
        assert f"<h2>{heading}</h2>" in html
    assert "Total score <strong>65.01</strong>/100" in html and "65,01" not in html
    assert "Forecast total <strong>60.22</strong> (range 49.97 – 69.41)" in html
    assert "Share of dossiers processed early or on time" in html  # indicator names from name_en
    assert "2 open dossiers fall due within 3 working days" in html  # warnings from text_en
    assert "Log in to see the dossier lists" in html
    no_vietnamese_headings(html)


def test_unit_page_stays_vietnamese_by_default(client: TestClient) -> None:
    html = client.get("/advisor/H90", params={"period": "2026-03"}).text
    assert '<html lang="vi">' in html and "Tổng điểm <strong>65,01</strong>/100" in html
    assert "Tổng điểm dự báo <strong>60,22</strong> (khoảng 49,97 – 69,41)" in html
    assert "What to fix first" not in html


def test_lang_cookie_is_remembered(client: TestClient) -> None:
    first = client.get("/advisor/H90", params={"period": "2026-03", "lang": "en"})
    assert first.cookies.get("lang") == "en"
    html = client.get("/advisor/H90/brief", params={"period": "2026-03"}).text  # cookie only
    assert "LEADER BRIEF" in html and "65.01" in html
    html = client.get("/advisor/H90/brief", params={"period": "2026-03", "lang": "vi"}).text
    assert "BẢN TIN LÃNH ĐẠO" in html and "65,01" in html


def test_whatif_page_in_english(client: TestClient) -> None:
    html = client.get("/advisor/H90/whatif", params={"period": "2026-03", "lang": "en"}).text
    assert "<h1>What-if: " in html and "Recalculate" in html and "Log in to see the dossier lists" in html
    assert "Share of dossiers processed early or on time" in html
    no_vietnamese_headings(html)
    result = client.post(
        "/advisor/H90/whatif", params={"lang": "en"}, data={"period": "2026-03", "resolve_overdue": "2"}
    ).text
    assert "<h2>Result</h2>" in result and "Total 65.01 → <strong>67.98</strong>" in result
    assert "65,01" not in result
    no_vietnamese_headings(result)
    vi = client.post(
        "/advisor/H90/whatif", params={"lang": "vi"}, data={"period": "2026-03", "resolve_overdue": "2"}
    ).text
    assert "<h2>Kết quả</h2>" in vi and "Tổng điểm 65,01 → <strong>67,98</strong>" in vi


def test_brief_page_in_english(client: TestClient) -> None:
    html = client.get("/advisor/H90/brief", params={"period": "2026-03", "lang": "en"}).text
    assert "<h1>LEADER BRIEF — DECISION 766 INDEX</h1>" in html and "March 2026 (provisional)" in html
    assert "Total score <strong>65.01</strong>/100" in html and "National average 63.40" in html
    assert "What to fix first" in html and "Publicity and transparency" in html
    assert "65,01" not in html
    no_vietnamese_headings(html)


def test_index_page_in_english(client: TestClient) -> None:
    html = client.get("/advisor", params={"lang": "en"}).text
    assert "<h1>Decision 766 index improvement advice</h1>" in html and "Alert rules" in html
    assert "/advisor/H90" in html
    no_vietnamese_headings(html)


def test_alerts_page_in_english(client: TestClient) -> None:
    assert client.post("/api/v1/login", json={"username": "tinh_h90", "password": PASSWORD}).status_code == 200
    html = client.get("/advisor/alerts", params={"lang": "en"}).text
    assert "<h1>Alert rules</h1>" in html and "Total score below threshold" in html and "Check now" in html
    no_vietnamese_headings(html)
    assert "Quy tắc cảnh báo" in client.get("/advisor/alerts", params={"lang": "vi"}).text
