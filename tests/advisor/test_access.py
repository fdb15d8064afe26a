"""The advisor's access policy (DESIGN: aggregate scores are public; dossier-level views need a login scoped to a
unit subtree; every dossier-level read is audit-logged) over the fixture, clock 25/03/2026 10:00.

Accounts: ``tinh_h90`` (province H90, sees every unit of H90) and ``xa_cat_tien`` (commune H90.13 only). Dossier
ids of the fixture look like ``H90.01-A3`` / ``H90-V1``; PAKN ids alike.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from chiso766.api.app import AppSettings, create_app
from chiso766.store.db import Store
from chiso766.web import auth
from tests.advisor.conftest import NOW, load_fixture

PASSWORD = "mat-khau-dung-1"
DOSSIER_ID = re.compile(r"\bH9\d(?:\.\d+)?-[A-Z]+\d+[a-z]?\b")
MARCH = {"period": "2026-03"}


@pytest.fixture(scope="module")
def app_store() -> Iterator[tuple[TestClient, Store]]:
    store = Store()
    load_fixture(store)
    auth.create_user(store.connection, "tinh_h90", "H90", PASSWORD)
    auth.create_user(store.connection, "xa_cat_tien", "H90.13", PASSWORD)
    app = create_app(AppSettings(clock=lambda: NOW, refresh_seconds=0, session_secret="s3cret"), store=store)
    with TestClient(app) as client:
        yield client, store


@pytest.fixture
def client(app_store: tuple[TestClient, Store]) -> Iterator[TestClient]:
    c = app_store[0]
    c.cookies.clear()
    yield c
    c.cookies.clear()


def login(client: TestClient, username: str) -> None:
    r = client.post("/api/v1/login", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200


def audit_rows(store: Store, path: str) -> list[tuple[Any, ...]]:
    return store.connection.execute(
        "SELECT username, unit_code, indicator_code, period_id, records FROM web_audit WHERE path = ? ORDER BY read_at",
        [path],
    ).fetchall()


def test_anonymous_advice_and_warnings_keep_the_numbers_but_no_dossier_ids(client: TestClient) -> None:
    advice = client.get("/api/v1/advisor/H90/advice", params={**MARCH, "records": 50})
    assert advice.status_code == 200
    doc = advice.json()
    assert doc["total"] == 65.01 and doc["plan"]  # aggregate numbers stay public
    assert doc["records_hidden"] is True and doc["records_hidden_reason"] == "login_required"
    assert "đăng nhập" in doc["records_note_vi"] and "logged-in" in doc["records_note_en"]
    assert doc["login"]["page"].startswith("/login?next=")
    e_result = next(i for i in doc["indicators"] if i["code"] == "ORIGINAL_RESULT_AVAILABLE")
    assert "records" not in e_result and e_result["by_subunit"] and e_result["records_total"] >= 4
    assert not DOSSIER_ID.search(advice.text)

    warn = client.get("/api/v1/advisor/H90/warnings", params=MARCH)
    w = warn.json()
    assert w["due_soon"]["count"] == 2 and w["overdue_open"]["count"] == 1  # counts stay public
    assert w["records_hidden"] is True
    assert all("records" not in w[s] for s in ("due_soon", "overdue_open", "petitions_near_limit"))
    assert not DOSSIER_ID.search(warn.text) and "due_at" not in warn.text

    for path in ("/api/v1/advisor/H90/brief", "/api/v1/advisor/H90/forecast"):
        r = client.get(path, params=MARCH)
        assert r.status_code == 200 and not DOSSIER_ID.search(r.text)


def test_scoped_login_sees_the_lists_and_each_read_is_audited(
    client: TestClient, app_store: tuple[TestClient, Store]
) -> None:
    store = app_store[1]
    login(client, "tinh_h90")
    path = "/api/v1/advisor/H90.02/warnings"
    before = len(audit_rows(store, path))
    w = client.get(path, params=MARCH).json()
    assert w["records_hidden"] is False
    assert [r["id"] for r in w["due_soon"]["records"]] == ["H90.02-B2"]
    rows = audit_rows(store, path)
    assert len(rows) == before + 1 and rows[-1] == ("tinh_h90", "H90.02", None, "2026-03", 1)

    advice_path = "/api/v1/advisor/H90/advice"
    a = client.get(advice_path, params={**MARCH, "top": 20, "records": 20}).json()
    listed = {i["code"]: i["records"] for i in a["indicators"] if "records" in i}
    assert {"H90.01-A3", "H90.02-B1"} <= {r["id"] for r in listed["ORIGINAL_RESULT_AVAILABLE"]}
    audited = {r[2]: r[4] for r in audit_rows(store, advice_path) if r[0] == "tinh_h90"}
    assert audited == {code: len(recs) for code, recs in listed.items()}


def test_out_of_scope_account_gets_the_aggregates_only(client: TestClient, app_store: tuple[TestClient, Store]) -> None:
    login(client, "xa_cat_tien")
    r = client.get("/api/v1/advisor/H90/warnings", params=MARCH)
    doc = r.json()
    assert r.status_code == 200 and doc["records_hidden_reason"] == "out_of_scope"
    assert "xa_cat_tien" in doc["records_note_en"] and not DOSSIER_ID.search(r.text)
    assert audit_rows(app_store[1], "/api/v1/advisor/H90/warnings") == []
    own = client.get("/api/v1/advisor/H90.13/advice", params=MARCH).json()
    assert own["records_hidden"] is False


def test_whatif_by_dossier_ids_needs_a_scoped_login(client: TestClient, app_store: tuple[TestClient, Store]) -> None:
    url = "/api/v1/advisor/H90.13/whatif"
    body = {"period": "2026-03", "resolve": ["H90.13-C3c"]}
    anonymous = client.post(url, json=body)
    assert anonymous.status_code == 401 and anonymous.json()["error"]["code"] == "unauthorized"
    # counters and "the N first overdue" stay public, without the ids they picked
    public = client.post(url, json={"period": "2026-03", "resolve_overdue": 2}).json()
    assert public["gain"] == 12.67 and public["resolved_count"] == 2 and "resolved_dossiers" not in public
    assert public["records_hidden"] is True

    login(client, "tinh_h90")
    other = client.post("/api/v1/advisor/H90.01/whatif", json=body)
    assert other.status_code == 400  # in scope, but the id is not H90.01's: the service's own check
    login(client, "xa_cat_tien")
    forbidden = client.post("/api/v1/advisor/H90/whatif", json={"period": "2026-03", "resolve": ["H90.13-C3c"]})
    assert forbidden.status_code == 403 and forbidden.json()["error"]["code"] == "forbidden"
    ok = client.post(url, json=body)
    assert ok.status_code == 200 and ok.json()["resolved_dossiers"] == ["H90.13-C3c"] and ok.json()["gain"] == 6.67
    assert audit_rows(app_store[1], url)[-1][:2] == ("xa_cat_tien", "H90.13")


def test_alerts_need_a_login_and_stay_in_scope(client: TestClient) -> None:
    rule = {"unit": "H90", "kind": "total_below", "threshold": 50, "email": "vp@example.vn"}
    base = "/api/v1/advisor/alerts"
    for method, path, body in (
        ("GET", f"{base}/rules", None),
        ("POST", f"{base}/rules", rule),
        ("DELETE", f"{base}/rules/abc", None),
        ("POST", f"{base}/evaluate", None),
        ("GET", f"{base}/events", None),
        ("POST", f"{base}/digest", None),
    ):
        r = client.request(method, path, json=body)
        assert r.status_code == 401, (method, path)
        assert r.json()["error"]["code"] == "unauthorized"

    login(client, "tinh_h90")
    province_rule = client.post(f"{base}/rules", json=rule)
    assert province_rule.status_code == 201
    commune = client.post(f"{base}/rules", json={**rule, "unit": "H90.13"}).json()["rule_id"]
    login(client, "xa_cat_tien")
    assert client.post(f"{base}/rules", json=rule).status_code == 403
    assert client.get(f"{base}/rules", params={"unit": "H90"}).status_code == 403
    assert [r["rule_id"] for r in client.get(f"{base}/rules").json()["rules"]] == [commune]
    assert client.delete(f"{base}/rules/{province_rule.json()['rule_id']}").status_code == 403
    assert client.post(f"{base}/evaluate").status_code == 200
    assert client.delete(f"{base}/rules/{commune}").status_code == 204
    login(client, "tinh_h90")
    assert [r["unit"] for r in client.get(f"{base}/rules").json()["rules"]] == ["H90"]
    assert client.delete(f"{base}/rules/{province_rule.json()['rule_id']}").status_code == 204


def test_pages_follow_the_same_policy(client: TestClient) -> None:
    page = client.get("/advisor/H90", params=MARCH)
    assert page.status_code == 200 and "65,01" in page.text
    assert "Đăng nhập để xem danh sách hồ sơ" in page.text
    assert 'href="/login?next=%2Fadvisor%2FH90%3Fperiod%3D2026-03"' in page.text
    assert not DOSSIER_ID.search(page.text.split("<main")[1])
    wi = client.get("/advisor/H90.13/whatif", params=MARCH)
    assert 'name="resolve"' not in wi.text and "Đăng nhập để xem danh sách hồ sơ" in wi.text
    posted = client.post("/advisor/H90.13/whatif", data={"period": "2026-03", "resolve": "H90.13-C3c"})
    assert posted.status_code == 401
    alerts_page = client.get("/advisor/alerts", follow_redirects=False)
    assert alerts_page.status_code == 303 and alerts_page.headers["location"].startswith("/login?next=")
    added = client.post("/advisor/alerts", data={"unit": "H90", "kind": "total_below", "threshold": "70"})
    assert added.status_code == 200 and "Đăng nhập" in added.text  # followed to the login page

    login(client, "tinh_h90")
    page = client.get("/advisor/H90", params=MARCH)
    assert "Đăng nhập để xem danh sách hồ sơ" not in page.text and "H90.01-A3" in page.text
    assert 'name="resolve"' in client.get("/advisor/H90.13/whatif", params=MARCH).text


def test_advisor_index_lists_provinces_and_sends_an_official_to_their_unit(client: TestClient) -> None:
    """The nav link ``/advisor``: anonymous visitors choose among the provinces (H90, H91); a logged-in commune
    official goes straight to their own commune's advice page."""
    page = client.get("/advisor")
    assert page.status_code == 200
    assert 'href="/advisor/H90"' in page.text and 'href="/advisor/H91"' in page.text
    assert 'href="/advisor/H90.13"' not in page.text  # provinces only
    login(client, "xa_cat_tien")
    moved = client.get("/advisor", follow_redirects=False)
    assert (moved.status_code, moved.headers["location"]) == (303, "/advisor/H90.13")


def test_alert_rule_writes_are_audit_logged(app_store: tuple[TestClient, Store]) -> None:
    """Creating and deleting a rule (which sends data to a webhook or an address) lands in the write audit log
    with the account, the unit and the rule id."""
    client, store = app_store
    client.cookies.clear()
    login(client, "tinh_h90")
    base = "/api/v1/advisor/alerts/rules"
    rule_id = client.post(
        base, json={"unit": "H90", "kind": "total_below", "threshold": 50, "email": "vp@example.vn"}
    ).json()["rule_id"]
    assert client.delete(f"{base}/{rule_id}").status_code == 204
    logged = store.connection.execute(
        "SELECT actor, action, kind, unit_code FROM audit_log WHERE detail = ? ORDER BY logged_at", [rule_id]
    ).fetchall()
    assert logged == [
        ("user:tinh_h90", "alert_rule_create", "alert_rule", "H90"),
        ("user:tinh_h90", "alert_rule_delete", "alert_rule", "H90"),
    ]
    client.cookies.clear()
