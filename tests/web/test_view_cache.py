"""The per-version cache of public views: repeated reads are served from it, a new data version (records ingested
and ``board.refresh()``) shows new numbers, and nothing login-dependent is ever shared between visitors."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from chiso766.api.app import create_app
from chiso766.api.scores import ViewCache
from chiso766.store.load import ingest_records
from tests.web.conftest import FIXTURE, PASSWORD, build_store, settings

APRIL = "2026-04"


def _vi(total: float) -> str:
    return f"{total:.2f}".replace(".", ",")


def test_cached_pages_change_with_the_data_version() -> None:
    store = build_store()
    app = create_app(settings(), store=store)
    with TestClient(app) as c:
        cache: ViewCache = app.state.view_cache
        unit_url, national_url = f"/units/H91.11?period={APRIL}", f"/?period={APRIL}"
        first = c.get(unit_url).text
        hits = cache.hits
        assert c.get(unit_url).text == first and cache.hits > hits  # the second read is a cache hit
        national_before = c.get(national_url).text
        h91_before = next(r for r in c.get(f"/api/v1/national?period={APRIL}").json()["rows"] if r["unit"] == "H91")
        before = c.get(f"/api/v1/units/H91.11?period={APRIL}").json()
        row = next(r for r in before["indicators"] if r["code"] == "PROGRESS_ON_TIME")
        assert (row["numerator"], row["denominator"]) == (0, 1)

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
        assert c.get(unit_url).text == first  # same data version: still the cached page
        board.refresh()
        version = c.get("/api/v1/state").json()["version"]

        after = c.get(f"/api/v1/units/H91.11?period={APRIL}").json()
        row = next(r for r in after["indicators"] if r["code"] == "PROGRESS_ON_TIME")
        assert (row["numerator"], row["denominator"]) == (1, 2)  # E9 finished on time on 01/04
        assert after["total"] != before["total"] and after["state"]["version"] == version
        page = c.get(unit_url).text
        assert page != first and f'data-version="{version}"' in page
        assert f'id="unit-total">{_vi(after["total"])}' in page
        national = c.get(f"/api/v1/national?period={APRIL}").json()
        h91 = next(r for r in national["rows"] if r["unit"] == "H91")
        assert h91["total"] != h91_before["total"]
        html = c.get(national_url).text
        assert html != national_before and _vi(h91["total"]) in html and f'data-version="{version}"' in html


def test_pages_of_logged_in_visitors_are_never_shared() -> None:
    app = create_app(settings(), store=build_store())
    with TestClient(app) as c:
        url = f"/units/H90?period={APRIL}"
        anonymous = c.get(url).text
        assert "Đăng xuất" not in anonymous
        for user in ("tinh_h90", "so_tu_phap"):
            assert c.post("/api/v1/login", json={"username": user, "password": PASSWORD}).status_code == 200
            mine = c.get(url).text
            assert f"({user})" in mine and mine.split("<main")[1] == anonymous.split("<main")[1]
            c.cookies.delete("chiso766_session")
            again = c.get(url).text
            assert again == anonymous and "tinh_h90" not in again and "so_tu_phap" not in again


def test_view_cache_is_bounded_and_follows_the_version() -> None:
    cache = ViewCache(size=2)
    built: list[str] = []

    def build(name: str) -> str:
        built.append(name)
        return name

    assert cache.get_or_build(1, ("a",), lambda: build("a")) == "a"
    cache.get_or_build(1, ("b",), lambda: build("b"))
    cache.get_or_build(1, ("a",), lambda: build("a"))  # hit; "a" becomes the most recent
    cache.get_or_build(1, ("c",), lambda: build("c"))  # evicts "b", the least recently used
    assert len(cache) == 2 and built == ["a", "b", "c"]
    cache.get_or_build(1, ("b",), lambda: build("b"))
    assert built[-1] == "b"
    cache.get_or_build(2, ("a",), lambda: build("a2"))  # a new version empties the cache
    assert len(cache) == 1 and built[-1] == "a2"
    assert cache.get(1, ("a",)) is None  # an older version neither reads ...
    cache.put(1, ("z",), "old")
    assert cache.get(2, ("z",)) is None  # ... nor writes
