"""POST /api/v1/ingest/{kind} and GET /api/v1/ingest/receipts/{id}: counts, reasons, privacy, limits, OpenAPI."""

from __future__ import annotations

import json
import logging
from datetime import datetime

import pytest
from fastapi.testclient import TestClient

from chiso766.store.db import Store
from tests.api_ingest.conftest import D1, D2, PERSONAL, all_text, auth, dossiers, rows

URL = "/api/v1/ingest"


def test_a_real_looking_sync_payload_is_stored_with_its_derived_flags(
    client: TestClient, store: Store, token: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    r = client.post(f"{URL}/dossiers", json=dossiers(), headers=auth(token))
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["kind"], body["accepted"], body["updated"], body["unchanged"], body["rejected"]) == (
        "dossiers", 2, 0, 0, 0
    )  # fmt: skip
    assert body["problems"] == [] and len(body["receipt_id"]) == 32
    assert rows(
        store,
        "SELECT dossier_id, unit_code, channel, status, received_at, fee_state, has_component_file, "
        "has_store_component, has_result_file, result_synced_to_store, vneid, payment_code FROM dossiers ORDER BY 1",
    ) == [
        (D1, "H44.01", "2", "10", datetime(2026, 1, 5, 1, 30), "nonzero", True, True, True, True, True, "1"),
        (D2, None, "1", "4", datetime(2026, 1, 6, 3, 30), "all_zero", False, False, False, False, False, None),
    ]
    assert rows(store, "SELECT count(*) FROM dossier_events WHERE dossier_id = ?", D1) == [(4,)]
    assert rows(store, "SELECT db_code FROM dossier_databases ORDER BY 1") == [("1",), ("7",)]
    # the engine's incremental log names the units, D2's through its MaHoSo prefix
    assert rows(store, "SELECT record_key, unit_code FROM changes WHERE kind = 'dossier' ORDER BY 1") == [
        (D1, "H44.01"),
        (D2, "H44.10001"),
    ]
    # personal data: nowhere in the store, the response or the logs
    text = all_text(store) + r.text + caplog.text
    for value in PERSONAL:
        assert value not in text, value


def test_replaying_a_batch_changes_nothing(client: TestClient, store: Store, token: str) -> None:
    client.post(f"{URL}/dossiers", json=dossiers(), headers=auth(token))
    before = rows(store, "SELECT * EXCLUDE (ingested_at) FROM dossiers ORDER BY 1")
    events = rows(store, "SELECT * FROM dossier_events ORDER BY ALL")
    changes = rows(store, "SELECT count(*) FROM changes")
    again = client.post(f"{URL}/dossiers", json=dossiers(), headers=auth(token)).json()
    assert (again["accepted"], again["updated"], again["unchanged"]) == (0, 0, 2)
    assert rows(store, "SELECT * EXCLUDE (ingested_at) FROM dossiers ORDER BY 1") == before
    assert rows(store, "SELECT * FROM dossier_events ORDER BY ALL") == events
    assert rows(store, "SELECT count(*) FROM changes") == changes


def test_a_newer_version_updates_and_progress_entries_merge(client: TestClient, store: Store, token: str) -> None:
    client.post(f"{URL}/dossiers", json=dossiers()[1:], headers=auth(token))
    newer = dict(dossiers()[1], TrangThaiHoSo="9", NgayKetThucXuLy="20260107150000", NgayCapNhat="20260107150000")
    assert client.post(f"{URL}/dossiers", json=[newer], headers=auth(token)).json()["updated"] == 1
    progress = [  # late and out of order, one repeated
        {"MaHoSo": D2, "TrangThai": "9", "ThoiDiemXuLy": "20260107150000", "NoiDungXuLy": "Kết thúc"},
        {"MaHoSo": D2, "TrangThai": "2", "ThoiDiemXuLy": "20260106103000"},
        {"MaHoSo": D2, "TrangThai": "2", "ThoiDiemXuLy": "20260106103000"},
    ]
    r = client.post(f"{URL}/progress", json=progress, headers=auth(token)).json()
    assert (r["accepted"], r["unchanged"]) == (2, 1)
    assert rows(store, "SELECT status FROM dossier_events WHERE dossier_id = ? ORDER BY event_at", D2) == [
        ("2",),
        ("9",),
    ]
    assert rows(store, "SELECT status FROM dossiers WHERE dossier_id = ?", D2) == [("9",)]


def test_english_snake_case_names_are_accepted(client: TestClient, store: Store, token: str) -> None:
    record = {"dossier_id": "000.00.01.H44-260201-0009", "unit_code": "H44.01", "received_at": "20260201080000",
              "status": "2", "channel": "2", "events": [{"status": "2", "event_at": "20260201080000"}]}  # fmt: skip
    assert client.post(f"{URL}/dossiers", json=[record], headers=auth(token)).status_code == 200
    assert rows(store, "SELECT unit_code, status, channel FROM dossiers") == [("H44.01", "2", "2")]
    assert rows(store, "SELECT count(*) FROM dossier_events") == [(1,)]


def test_bad_records_get_per_field_reasons_and_valid_ones_are_stored(
    client: TestClient, store: Store, token: str
) -> None:
    good = dossiers()[0]
    bad_date = dict(dossiers()[1], NgayTiepNhan="20261332250000")
    bad_many = {"MaHoSo": "000.00.01.H44-9", "TrangThaiHoSo": "11", "KenhThucHien": ["2"], "ChuHoSo": "Trần Thị Bình"}
    r = client.post(f"{URL}/dossiers", json=[good, bad_date, bad_many, "not an object"], headers=auth(token))
    assert r.status_code == 207
    body = r.json()
    assert (body["accepted"], body["rejected"]) == (1, 3)
    by_record = {(p["record_no"], p["field"]): p for p in body["problems"]}
    assert set(by_record) == {(2, "NgayTiepNhan"), (3, "TrangThaiHoSo"), (3, "KenhThucHien"), (4, None)}
    p = by_record[(2, "NgayTiepNhan")]
    assert p["record_key"] == D2
    assert "Ngày giờ không hợp lệ" in p["message_vi"] and "Malformed date-time" in p["message_en"]
    assert "'11'" in by_record[(3, "TrangThaiHoSo")]["message_en"]
    assert rows(store, "SELECT dossier_id FROM dossiers") == [(D1,)]
    quarantined = rows(store, "SELECT record_no, record_key, record FROM quarantine ORDER BY 1")
    assert [(no, key) for no, key, _ in quarantined] == [(2, D2), (3, "000.00.01.H44-9"), (4, None)]
    assert "Trần Thị Bình" not in repr(quarantined)
    # every record rejected → 422, same body
    r = client.post(f"{URL}/dossiers", json=[bad_date], headers=auth(token))
    assert r.status_code == 422 and r.json()["rejected"] == 1


def test_the_receipt_lists_counts_and_problems_for_its_token_only(
    client: TestClient, token: str, other_token: str
) -> None:
    bad = dict(dossiers()[1], NgayHenTra="x")
    r = client.post(f"{URL}/dossiers", json=[dossiers()[0], bad], headers=auth(token)).json()
    receipt = client.get(f"{URL}/receipts/{r['receipt_id']}", headers=auth(token))
    assert receipt.status_code == 200
    doc = receipt.json()
    assert (doc["kind"], doc["accepted"], doc["rejected"]) == ("dossiers", 1, 1)
    assert [(p["record_no"], p["record_key"], p["field"]) for p in doc["problems"]] == [(2, D2, "NgayHenTra")]
    assert client.get(f"{URL}/receipts/{r['receipt_id']}", headers=auth(other_token)).status_code == 404
    assert client.get(f"{URL}/receipts/nope", headers=auth(token)).status_code == 404
    assert client.get(f"{URL}/receipts/{r['receipt_id']}").status_code == 401


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b'{"MaHoSo": "A"}', "not_a_list"),
        (b'[{"MaHoSo": "A"', "invalid_json"),
        (b"[NaN]", "invalid_json"),
        ('[{"MaHoSo": "Hà"}]'.encode("latin-1"), "invalid_encoding"),
        (b"[" * 5000 + b"]" * 5000, "invalid_json"),
        (b"", "invalid_json"),
    ],
)
def test_unusable_bodies_are_400_and_store_nothing(
    client: TestClient, store: Store, token: str, body: bytes, code: str
) -> None:
    r = client.post(f"{URL}/dossiers", content=body, headers=auth(token))
    assert r.status_code == 400, r.text
    err = r.json()["error"]
    assert err["code"] == code and err["message_vi"] and err["message_en"]
    assert rows(store, "SELECT count(*) FROM dossiers") == [(0,)]
    assert rows(store, "SELECT count(*) FROM receipts WHERE kind = 'dossiers'") == [(0,)]


def test_sync_envelope_and_duplicate_keys(client: TestClient, store: Store, token: str) -> None:
    envelope = {"session": "s", "madonvi": "000.00.01.H44", "data": dossiers()[:1]}
    assert client.post(f"{URL}/dossiers", json=envelope, headers=auth(token)).json()["accepted"] == 1
    body = b'[{"MaHoSo": "000.00.01.H44-7", "TrangThaiHoSo": "2", "TrangThaiHoSo": "9"}]'
    r = client.post(f"{URL}/dossiers", content=body, headers=auth(token))
    assert r.status_code == 422
    [problem] = r.json()["problems"]
    assert problem["field"] == "TrangThaiHoSo" and "more than once" in problem["message_en"]
    assert rows(store, "SELECT count(*) FROM dossiers") == [(1,)]


def test_limits_batch_and_body_size_are_413(client: TestClient, store: Store, token: str) -> None:
    many = [{"MaHoSo": f"000.00.01.H44-{i}"} for i in range(51)]  # max_batch = 50 in the fixture
    r = client.post(f"{URL}/dossiers", json=many, headers=auth(token))
    assert r.status_code == 413 and r.json()["error"]["code"] == "batch_too_large"
    huge = [{"MaHoSo": "000.00.01.H44-1", "GhiChu": "x" * 250_000}]  # max_body_bytes = 200,000
    r = client.post(f"{URL}/dossiers", json=huge, headers=auth(token))
    assert r.status_code == 413 and r.json()["error"]["code"] == "payload_too_large"
    assert rows(store, "SELECT count(*) FROM dossiers") == [(0,)]
    long_key = [{"MaHoSo": "000.00.01.H44-" + "9" * 5000, "TrangThaiHoSo": "2" * 300}]
    r = client.post(f"{URL}/dossiers", json=long_key, headers=auth(token))
    assert r.status_code == 422 and "too long" in r.json()["problems"][0]["message_en"]


def test_unknown_kind_is_404(client: TestClient, token: str) -> None:
    r = client.post(f"{URL}/hoso", json=[], headers=auth(token))
    assert r.status_code == 404 and r.json()["error"]["code"] == "unknown_kind"


def test_openapi_documents_the_status_codes_and_the_bearer_scheme(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    post = doc["paths"]["/api/v1/ingest/{kind}"]["post"]
    assert set(post["responses"]) == {"200", "207", "400", "401", "403", "404", "413", "422"}
    assert post["requestBody"]["content"]["application/json"]["schema"]["type"] == "array"
    assert "max_batch" in post["description"]
    assert any("HTTPBearer" in s for s in post["security"][0])
    assert set(doc["paths"]["/api/v1/ingest/receipts/{receipt_id}"]["get"]["responses"]) >= {"200", "401", "404"}


def test_the_json_body_shape_is_stable(client: TestClient, token: str) -> None:
    r = client.post(f"{URL}/units", json=[{"MaDonVi": "H44.10002", "MaDonViCha": "H44", "CapDonVi": "commune"}],
                    headers=auth(token))  # fmt: skip
    assert set(r.json()) == {
        "receipt_id", "kind", "accepted", "updated", "unchanged", "rejected", "problems", "problems_truncated"
    }  # fmt: skip
    assert json.loads(r.text)["accepted"] == 1


def test_a_lone_surrogate_is_a_field_problem_not_a_crash(client: TestClient, store: Store, token: str) -> None:
    """A ``\\ud800`` JSON escape (half a surrogate pair, not storable as UTF-8) in a code field rejects that record
    with a reason naming the field; the valid record of the batch is stored."""
    broken = dict(dossiers()[1], MaTTHC="1.000\ud800")
    body = json.dumps([dossiers()[0], broken], ensure_ascii=True)
    r = client.post(f"{URL}/dossiers", content=body, headers={**auth(token), "Content-Type": "application/json"})
    assert r.status_code == 207, r.text
    problems = r.json()["problems"]
    assert [(p["record_no"], p["field"]) for p in problems] == [(2, "MaTTHC")]
    assert "surrogate" in problems[0]["message_en"]
    assert rows(store, "SELECT dossier_id FROM dossiers") == [(D1,)]
    assert rows(store, "SELECT record_no FROM quarantine") == [(2,)]
