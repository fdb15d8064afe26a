"""Hypothesis fuzzing of POST /api/v1/ingest/{kind}: malformed payloads never give a 5xx nor store an invalid row.

Payloads: wrong types, missing keys, impossible dates (``20261332250000``), huge strings and integers, deep
nesting, wrong encodings (UTF-16, Latin-1, broken bytes), duplicate keys, truncated JSON, and real records with
one field broken. After each request: every stored dossier/progress/petition row comes from a record that
:func:`chiso766.records.parse_record` accepts, and the table invariants hold.

Examples per test: ``CHISO766_FUZZ_EXAMPLES`` (default 40, for CI); e.g. ``CHISO766_FUZZ_EXAMPLES=5000`` for a
long run.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chiso766.access.tokens import create_token
from chiso766.api.app import AppSettings, create_app
from chiso766.records import RecordError, parse_record
from chiso766.store.db import Store
from chiso766.store.load import ingest_records
from tests.api_ingest.conftest import CLOCK, UNITS, auth, dossiers

EXAMPLES = int(os.environ.get("CHISO766_FUZZ_EXAMPLES", "40"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))

DOSSIER_FIELDS = sorted({k for d in dossiers() for k in d} | {"NgayCapNhat", "DanhGiaKhongHaiLong", "MaCSDL"})
PROGRESS_FIELDS = ["MaHoSo", "TrangThai", "ThoiDiemXuLy", "NoiDungXuLy"]
PETITION_FIELDS = ["MaPAKN", "MaDonVi", "NgayGui", "MaHoSo", "LuotThich", "LuotKhongThich", "TienTrinh"]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.sampled_from(["", " ", "1", "0", "11", "20261332250000", "00010101000000", "99991231235959", "20260105083000",
                     "2026-01-05", "000.00.01.H44-260105-0001", "H44.01", "H45.01", "x" * 3000, "CHO_TIEP_NHAN"]),
)  # fmt: skip
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)


def records(fields: list[str]) -> st.SearchStrategy[Any]:
    named = st.dictionaries(st.sampled_from(fields), json_values, max_size=len(fields))
    mutated = st.builds(
        lambda base, key, value: {**base, key: value},
        st.sampled_from(dossiers()),
        st.sampled_from(fields),
        json_values,
    )
    return st.one_of(named, mutated, json_values)


def deep(n: int) -> str:
    return "[" * n + "]" * n


raw_bodies = st.one_of(
    st.binary(max_size=200),
    st.builds(lambda r: json.dumps(r).encode("utf-16"), st.lists(records(DOSSIER_FIELDS), max_size=3)),
    st.builds(lambda r: json.dumps(r, ensure_ascii=False).encode()[:-3], st.lists(records(DOSSIER_FIELDS), max_size=3)),
    st.builds(lambda n: deep(n).encode(), st.integers(min_value=1, max_value=3000)),
    st.builds(lambda n: f'[{{"MaHoSo": "000.00.01.H44-1", "x": {deep(n)}}}]'.encode(), st.integers(1, 3000)),
    st.just(b'[{"MaHoSo": "000.00.01.H44-1", "TrangThaiHoSo": "2", "TrangThaiHoSo": "9"}]'),
    st.just(b'[{"MaHoSo": "000.00.01.H44-1", "QuaTrinhXuLy": [{"TrangThai": "2", "TrangThai": "3"}]}]'),
    st.just(b"[1e999, -Infinity]"),
    st.just(b"[" + b"9" * 5000 + b"]"),
    st.just('[{"MaHoSo": "Hà"}]'.encode("latin-1")),
)  # fmt: skip


@pytest.fixture(scope="module")
def env() -> Iterator[tuple[TestClient, Store, str]]:
    store = Store(":memory:")
    ingest_records(store, "units", UNITS, "units")
    token = create_token(store, "H44", "catalogue")
    settings_ = AppSettings(refresh_seconds=0, clock=lambda: CLOCK, max_batch=50, max_body_bytes=200_000)
    with TestClient(create_app(settings_, store=store), raise_server_exceptions=False) as client:
        yield client, store, token
    store.close()


def _reset(store: Store) -> None:
    for table in ("dossiers", "dossier_events", "dossier_supplements", "dossier_databases", "petitions",
                  "petition_events", "quarantine", "changes"):  # fmt: skip
        store.connection.execute(f"DELETE FROM {table}")


def _valid_keys(kind: str, body: list[Any]) -> set[str]:
    keys: set[str] = set()
    for no, record in enumerate(body, start=1):
        with contextlib.suppress(RecordError):
            keys.add(parse_record(kind, record, "fuzz", no).key)
    return keys


def _check_tables(store: Store) -> None:
    con = store.connection
    low, high = datetime(1974, 12, 31), datetime(2101, 1, 1)
    for column in ("submitted_at", "received_at", "due_at", "processing_end_at", "returned_at", "rejected_at"):
        bad = con.execute(f"SELECT count(*) FROM dossiers WHERE {column} NOT BETWEEN ? AND ?", [low, high]).fetchone()
        assert bad == (0,), column
    assert con.execute(
        "SELECT count(*) FROM dossiers WHERE status NOT IN ('1','2','3','4','5','6','7','8','9','10') "
        "OR length(dossier_id) > 2000 OR length(channel) > 200 OR fee_state NOT IN ('none', 'all_zero', 'nonzero')"
    ).fetchone() == (0,)
    assert con.execute(
        "SELECT count(*) FROM dossier_events WHERE status NOT IN ('1','2','3','4','5','6','7','8','9','10') "
        "OR event_at NOT BETWEEN ? AND ?",
        [low, high],
    ).fetchone() == (0,)
    assert con.execute("SELECT count(*) FROM petitions WHERE likes < 0 OR dislikes < 0").fetchone() == (0,)


def _post(client: TestClient, token: str, kind: str, content: bytes) -> Any:
    r = client.post(
        f"/api/v1/ingest/{kind}", content=content, headers={**auth(token), "Content-Type": "application/json"}
    )
    assert r.status_code < 500, r.text
    assert r.status_code in (200, 207, 400, 413, 422), r.status_code
    doc = r.json()
    if r.status_code >= 400 and r.status_code != 422:
        assert doc["error"]["message_vi"] and doc["error"]["message_en"]
    return r


@FUZZ
@given(body=st.lists(records(DOSSIER_FIELDS), max_size=8))
def test_fuzzed_dossier_records(env: tuple[TestClient, Store, str], body: list[Any]) -> None:
    client, store, token = env
    _reset(store)
    r = _post(client, token, "dossiers", json.dumps(body).encode())
    stored = {d for (d,) in store.connection.execute("SELECT dossier_id FROM dossiers").fetchall()}
    assert stored <= _valid_keys("dossiers", body)
    if r.status_code in (200, 207, 422):
        doc = r.json()
        assert doc["accepted"] + doc["updated"] + doc["unchanged"] + doc["rejected"] == len(body)
        assert all(p["message_vi"] and p["message_en"] for p in doc["problems"])
    _check_tables(store)


@FUZZ
@given(kind=st.sampled_from(["progress", "petitions"]), data=st.data())
def test_fuzzed_progress_and_petitions(env: tuple[TestClient, Store, str], kind: str, data: st.DataObject) -> None:
    client, store, token = env
    _reset(store)
    fields = PROGRESS_FIELDS if kind == "progress" else PETITION_FIELDS
    body = data.draw(st.lists(records(fields), max_size=8))
    _post(client, token, kind, json.dumps(body).encode())
    if kind == "petitions":
        stored = {p for (p,) in store.connection.execute("SELECT petition_id FROM petitions").fetchall()}
        assert stored <= _valid_keys("petitions", body)
    else:
        stored = {d for (d,) in store.connection.execute("SELECT DISTINCT dossier_id FROM dossier_events").fetchall()}
        assert stored <= _valid_keys("progress", body)
    _check_tables(store)


@FUZZ
@given(body=raw_bodies)
def test_fuzzed_raw_bodies(env: tuple[TestClient, Store, str], body: bytes) -> None:
    client, store, token = env
    _reset(store)
    _post(client, token, "dossiers", body)
    _check_tables(store)
    for (record,) in store.connection.execute("SELECT record FROM quarantine").fetchall():
        json.loads(record)  # quarantined records stay readable JSON
