"""Browser tests: Debian chromium driven by Playwright (sync API) against a real uvicorn server on loopback.

The server runs in a thread over the engine fixture (tests/web/conftest.py, clock 02/04/2026 10:00). Each page
type loads, the period changes, the drill-down reaches the dossiers after a login, the workbook downloads,
tables sort by keyboard, a phone-width page does not overflow, and a newly ingested dossier appears without a
manual reload. Numbers on the pages are compared with the JSON API's. Screenshots go to ``test-artifacts/``.
Skipped (with the reason) only when chromium is not installed.
"""

from __future__ import annotations

import io
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pytest
import uvicorn

from chiso766.api.app import create_app
from chiso766.store.load import ingest_records
from chiso766.web.render import points
from tests.web.conftest import FIXTURE, PASSWORD, build_store, settings

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "web"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium (/usr/bin/chromium) is not installed")
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (python) is not installed")


class Server:
    def __init__(self) -> None:
        self.app = create_app(settings(), store=build_store())
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> Server:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)

    def json(self, path: str) -> Any:
        return httpx.get(self.base + path, timeout=30).json()


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    with Server() as s:
        yield s


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1366, "height": 768}, accept_downloads=True, locale="vi-VN")
    pg = context.new_page()
    pg.set_default_timeout(20_000)
    yield pg
    context.close()


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_national_page_numbers_equal_the_api_and_period_changes(server: Server, page: Any) -> None:
    page.goto(f"{server.base}/?period=2026-03")
    api = server.json("/api/v1/national?period=2026-03")
    for row in api["rows"]:
        cell = page.locator(f'#national-table tr[data-unit="{row["unit"]}"] td[data-col="total"]')
        assert cell.inner_text().strip() == points(row["total"])
    assert page.locator("#national-total").inner_text() == points(api["national"]["total"])
    shot(page, "national-2026-03")
    page.select_option("#period-select", "2026-02")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**period=2026-02**")
    assert page.locator("#period-label").inner_text() == "Tháng 2/2026"
    feb = server.json("/api/v1/national?period=2026-02")
    for row in feb["rows"]:
        cell = page.locator(f'#national-table tr[data-unit="{row["unit"]}"] td[data-col="total"]')
        assert cell.inner_text().strip() == points(row["total"])


def test_sorting_by_keyboard(server: Server, page: Any) -> None:
    page.goto(f"{server.base}/?period=2026-03")
    button = page.locator("#national-table thead th").nth(2).locator("button")
    button.focus()
    page.keyboard.press("Enter")  # ascending by total
    first = page.locator("#national-table tbody tr").first.get_attribute("data-unit")
    assert first == "H91"  # 61.78 < 63.53
    assert page.locator("#national-table thead th").nth(2).get_attribute("aria-sort") == "ascending"
    page.keyboard.press("Enter")
    assert page.locator("#national-table tbody tr").first.get_attribute("data-unit") == "H90"


def test_unit_drill_down_login_and_records(server: Server, page: Any) -> None:
    page.goto(f"{server.base}/?period=2026-03")
    page.click('#national-table tr[data-unit="H90"] a')
    page.wait_for_url("**/units/H90?**")
    api = server.json("/api/v1/units/H90?period=2026-03")
    assert page.locator("#unit-total").inner_text().startswith(points(api["total"]))
    assert page.locator("#unit-rank").inner_text() == f"{api['rank']}/{api['cohort_size']}"
    for row in api["indicators"]:
        score = page.locator(f'#indicator-table tr[data-indicator="{row["code"]}"] td[data-col="score"]')
        assert score.inner_text().strip() == points(row["score"])
    shot(page, "unit-H90-2026-03")
    page.click('#indicator-table tr[data-indicator="PROGRESS_ON_TIME"] a')
    page.wait_for_url("**/indicators/PROGRESS_ON_TIME**")
    assert page.locator('#subunits-table tr[data-key="H90.01"] td').nth(2).inner_text() == "3"
    page.click('#subunits-table tr[data-key="H90.13"] a')  # indicator → commune
    page.wait_for_url("**/units/H90.13/indicators/PROGRESS_ON_TIME**")
    page.click("#records-link")
    page.wait_for_url("**/login?next=**")
    page.fill("#username", "tinh_h90")
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_url("**/records?**")
    ids = page.locator("#records-table tbody tr").evaluate_all("rows => rows.map(r => r.dataset.record)")
    assert ids == ["H90.13-C3c", "H90.13-C3d"]
    shot(page, "records-H90.13")


def test_workbook_download(server: Server, page: Any) -> None:
    page.goto(f"{server.base}/units/H90?period=2026-03")
    with page.expect_download() as info:
        page.click("#workbook-link")
    download = info.value
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    target = ARTIFACTS / download.suggested_filename
    download.save_as(str(target))
    book = openpyxl.load_workbook(io.BytesIO(target.read_bytes()))
    assert "Chỉ tiêu" in book.sheetnames and download.suggested_filename == "chiso766-H90-2026-03.xlsx"


def test_phone_width_and_english(server: Server, browser: Any) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844})
    pg = context.new_page()
    pg.goto(f"{server.base}/units/H90.11?period=2026-03&lang=en")
    assert "Rank" in pg.locator("main").inner_text()
    width = pg.evaluate("document.documentElement.scrollWidth")
    assert width <= 392, width
    shot(pg, "unit-H90.11-phone-en")
    context.close()


def test_new_dossier_appears_without_manual_reload(server: Server, page: Any) -> None:
    page.goto(f"{server.base}/units/H91.11?period=2026-04")
    cell = page.locator('#indicator-table tr[data-indicator="PROGRESS_ON_TIME"] td').nth(2)
    assert cell.inner_text() == "0"
    record = json.loads((FIXTURE / "dossiers.json").read_text(encoding="utf-8"))[-1]
    record.update(
        MaHoSo="H91.11-E8",
        NgayNopHoSo="20260401100000",
        NgayTiepNhan="20260401100000",
        NgayHenTra="20260402170000",
        NgayKetThucXuLy="20260401150000",
        NgayTra="20260401150000",
    )
    board = server.app.state.board
    with board.lock:
        ingest_records(board.store, "dossiers", [record], "browser-test")
    board.refresh()
    page.wait_for_function(
        "() => document.querySelector('#indicator-table tr[data-indicator=\"PROGRESS_ON_TIME\"] td:nth-child(3)')"
        ".innerText.trim() === '1'",
        timeout=15_000,
    )
    shot(page, "unit-H91.11-live")
