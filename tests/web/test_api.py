"""The JSON API (``/api/v1``) over the engine fixture: numbers worked out by hand, errors, login scope, audit.

Closed month 2026-03 (tests/engine/test_end_to_end.py, test_province_month): H90 63.53 (CKMB 12.50, TDGQ 12.22,
CLGQ 9.74, TTTT 6.67, MDHL 10.83, MDSH 11.57), H91 61.78 (CKMB 7.00, TDGQ 13.33). National average of the two
provinces per group, half up: CKMB (12.50 + 7.00)/2 = 9.75; TDGQ (12.22 + 13.33)/2 = 12.775 → 12.78.

2.1 at H90 in March: 11 on time of 18 (20 × 11/18 = 12.22). The 7 late: A2, A3 (two supplement requests), A4
(open past due) at H90.01; V1 at H90; C2b at H90.12; C3c, C3d at H90.13. Fixing H90.01's three gives
20 × 14/18 = 15.56, i.e. +3.34; fixing one dossier gives 20 × 12/18 = 13.33, i.e. +1.11.
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.web.conftest import PASSWORD

MARCH = "2026-03"


def get(client: TestClient, url: str, status: int = 200) -> Any:
    response = client.get(url)
    assert response.status_code == status, response.text
    return response.json()


def test_national_ranks_provinces_with_the_national_average(client: TestClient) -> None:
    doc = get(client, f"/api/v1/national?period={MARCH}")
    assert doc["period"]["id"] == MARCH and doc["period"]["provisional"] is False
    assert [(r["rank"], r["unit"], r["total"]) for r in doc["rows"]] == [(1, "H90", 63.53), (2, "H91", 61.78)]
    h90 = doc["rows"][0]
    assert h90["groups"] == {"CKMB": 12.5, "TDGQ": 12.22, "CLGQ": 9.74, "TTTT": 6.67, "MDHL": 10.83, "MDSH": 11.57}
    assert doc["national"]["groups"]["CKMB"] == 9.75 and doc["national"]["groups"]["TDGQ"] == 12.78
    assert doc["national"]["provinces"] == 2 and doc["cohort_size"] == 2
    assert doc["previous_period"] == "2026-02"
    # change = this total − February's total; rank change = previous rank − rank
    assert h90["change"] == round(h90["total"] - h90["previous_total"], 2)
    assert h90["rank_change"] == h90["previous_rank"] - 1
    assert h90["band"] == "average"  # 50 ≤ 63.53 < 65


def test_me_window_and_movers(client: TestClient) -> None:
    doc = get(client, f"/api/v1/national?period={MARCH}&me=H91")
    assert [r["unit"] for r in doc["me_window"]] == ["H90", "H91"]
    ups = [r["unit"] for r in doc["movers"]["up"]]
    assert all(r["change"] > 0 for r in doc["movers"]["up"])
    assert ups == sorted(ups, key=lambda u: -next(r["change"] for r in doc["rows"] if r["unit"] == u))
    get(client, f"/api/v1/national?period={MARCH}&me=H99", 404)


def test_province_page_document(client: TestClient) -> None:
    doc = get(client, f"/api/v1/units/H90?period={MARCH}")
    assert (doc["total"], doc["rank"], doc["cohort_size"]) == (63.53, 1, 2)
    ckmb = doc["groups"][0]
    assert (ckmb["code"], ckmb["score"], ckmb["max"], ckmb["compare"], ckmb["diff"]) == ("CKMB", 12.5, 18, 9.75, 2.75)
    assert doc["compare_vi"] == "bình quân cả nước"
    row = next(r for r in doc["indicators"] if r["code"] == "PROGRESS_ON_TIME")
    assert (row["numerator"], row["denominator"], row["rate"], row["score"], row["max"], row["lost"]) == (
        11,
        18,
        61.11,
        12.22,
        20,
        7.78,
    )
    assert row["formula_vi"] == "20 × tỷ lệ"
    assert [r["number"] for r in doc["indicators"]][:4] == ["1.1", "1.2", "1.3", "1.4"]
    assert {r["unit"] for r in doc["departments"]} == {"H90.01", "H90.02"}
    assert {r["unit"] for r in doc["communes"]} == {"H90.11", "H90.12", "H90.13"}
    assert all(a["total"] >= b["total"] for a, b in zip(doc["communes"], doc["communes"][1:], strict=False))
    assert [t["period"] for t in doc["trend"]] == ["2026-01", "2026-02", "2026-03"]
    assert doc["trend"][-1]["total"] == 63.53 and doc["methodology"] == "portal-2026"


def test_commune_compares_with_the_provincial_commune_average(client: TestClient) -> None:
    doc = get(client, f"/api/v1/units/H90.13?period={MARCH}")
    communes = get(client, f"/api/v1/units/H90?period={MARCH}")["communes"]
    tdgq = [c["groups"]["TDGQ"] for c in communes]
    mean = round(sum(tdgq) / len(tdgq) + 1e-9, 2)
    group = next(g for g in doc["groups"] if g["code"] == "TDGQ")
    assert group["compare"] == mean and doc["unit"]["level"] == "commune"
    assert doc["cohort_size"] == 4  # the four communes of both provinces


def test_drill_down_groups_misses_and_points(client: TestClient) -> None:
    doc = get(client, f"/api/v1/units/H90/indicators/PROGRESS_ON_TIME?period={MARCH}")
    assert (doc["numerator"], doc["denominator"], doc["score"], doc["records_total"]) == (11, 18, 12.22, 7)
    by_unit = {r["key"]: (r["misses"], r["points"]) for r in doc["by_subunit"]}
    assert by_unit == {"H90.01": (3, 3.34), "H90.13": (2, 2.22), "H90": (1, 1.11), "H90.12": (1, 1.11)}
    assert "records" not in doc  # public drill-down never lists dossiers
    get(client, f"/api/v1/units/H90/indicators/NOPE?period={MARCH}", 404)


def test_records_need_a_login_scoped_to_the_subtree(client: TestClient) -> None:
    url = f"/api/v1/units/H90.01/indicators/PROGRESS_ON_TIME/records?period={MARCH}"
    client.cookies.clear()
    error = get(client, url, 401)["error"]
    assert error["code"] == "unauthorized" and error["message_vi"] and error["message_en"]
    bad = client.post("/api/v1/login", json={"username": "so_tu_phap", "password": "sai"})
    assert bad.status_code == 401
    ok = client.post("/api/v1/login", json={"username": "so_tu_phap", "password": PASSWORD})
    assert ok.status_code == 200 and ok.json()["unit"] == "H90.01"
    doc = get(client, url)
    assert [r["id"] for r in doc["records"]] == ["H90.01-A2", "H90.01-A3", "H90.01-A4"]
    assert [r["reason"] for r in doc["records"]] == ["after_due", "multiple_supplements", "after_due"]
    assert doc["records"][0]["at_local"] == "2026-03-17T17:00+07:00"  # A2 due 17/03 17:00 Vietnam time
    forbidden = get(client, url.replace("H90.01", "H90"), 403)["error"]
    assert forbidden["code"] == "forbidden"
    board = client.app.state.board  # type: ignore[attr-defined]
    with board.lock:
        rows = board.store.connection.execute(
            "SELECT username, unit_code, indicator_code, period_id, records FROM web_audit ORDER BY read_at"
        ).fetchall()
    assert ("so_tu_phap", "H90.01", "PROGRESS_ON_TIME", MARCH, 3) in rows
    client.post("/api/v1/logout")
    client.cookies.clear()


def test_tampered_session_cookie_is_refused(client: TestClient) -> None:
    client.cookies.clear()
    ok = client.post("/api/v1/login", json={"username": "tinh_h90", "password": PASSWORD})
    token = ok.cookies.get("chiso766_session")
    assert token
    payload, mac = token.rsplit(".", 1)
    client.cookies.clear()
    client.cookies.set("chiso766_session", payload + "." + ("0" * len(mac)))
    get(client, f"/api/v1/units/H90/indicators/PROGRESS_ON_TIME/records?period={MARCH}", 401)
    client.cookies.clear()


def test_bad_period_and_unknown_unit_give_the_one_error_shape(client: TestClient) -> None:
    for url, status, code in (
        ("/api/v1/national?period=2026-13", 400, None),
        ("/api/v1/units/H77?period=2026-03", 404, "unknown_unit"),
        ("/api/v1/national?period=2030", 400, "calendar_out_of_range"),
    ):
        error = get(client, url, status)["error"]
        assert set(error) == {"code", "message_vi", "message_en", "problems"}
        if code:
            assert error["code"] == code


def test_open_period_is_provisional_and_state_is_served(client: TestClient) -> None:
    doc = get(client, "/api/v1/national")
    assert doc["period"]["id"] == "2026Q2" and doc["period"]["provisional"] is True
    state = get(client, "/api/v1/state")
    assert isinstance(state["version"], int) and state["as_of"].startswith("2026-04-02T10:00:00+07:00")
    periods = {p["id"]: p for p in get(client, "/api/v1/periods")["periods"]}
    assert periods["2026-03"]["provisional"] is False and periods["2026-04"]["provisional"] is True
    assert "2025Q4" in periods  # the quarter before Q1 is offered for comparison


def test_docs_are_self_contained(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert "cdn" not in page.text.lower() and "https://" not in page.text
    assert client.get("/redoc").status_code == 404
    spec = get(client, "/openapi.json")
    assert "/api/v1/national" in spec["paths"] and "/api/v1/units/{code}" in spec["paths"]
    script = client.get("/static/docs.js")
    assert script.status_code == 200 and "openapi" in script.text
