"""HTTP batches of dossiers and progress entries through the native path (DuckDB reads the body) against the
per-record path: the same answers (status, counts, per-record problems) and the same stored rows, token scope
included. The native path is checked to have been taken for the plain batches."""

from __future__ import annotations

import copy
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from chiso766.access.tokens import create_token
from chiso766.api import ingest as api_ingest
from chiso766.api.app import AppSettings, create_app
from chiso766.store import ingest as store_ingest
from chiso766.store.db import Store
from chiso766.store.load import ingest_records
from tests.api_ingest.conftest import CLOCK, UNITS, auth

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "ingest"))

from bench.ingest import dossiers as bench_dossiers  # noqa: E402
from test_ingest_bulk import BAD_VALUES, _progress_of, _snapshot  # noqa: E402


def _batches() -> list[tuple[str, Any]]:
    base = list(bench_dossiers(40, seed=21))
    newer = copy.deepcopy(base[:10])
    for d in newer:
        d["TrangThaiHoSo"] = "10"
        d["QuaTrinhXuLy"].append({"MaHoSo": d["MaHoSo"], "TrangThai": "10", "ThoiDiemXuLy": "20261231235959"})
    foreign = copy.deepcopy(base[10:13])
    for i, d in enumerate(foreign):  # another province's records: refused one by one by the token's scope
        d["MaHoSo"] = f"000.00.01.H45-260105-{i:07d}"
        d["MaCoQuanThucHien"] = "H45.01"
        for e in d["QuaTrinhXuLy"]:
            e["MaHoSo"] = d["MaHoSo"]
    bad = []
    for d, (name, value) in zip(bench_dossiers(len(BAD_VALUES), seed=22, start=500), BAD_VALUES, strict=True):
        if value is None:
            d.pop(name, None)
        else:
            d[name] = value
        bad.append(d)
    return [
        ("dossiers", base),
        ("dossiers", base),  # replay
        ("dossiers", [*newer, *foreign, *base[20:25]]),
        ("dossiers", bad[:20]),
        ("dossiers", bad[20:]),
        ("progress", _progress_of(base)[:45]),
        ("progress", [*_progress_of(foreign), *_progress_of(newer)]),
        ("dossiers", {"data": base[:3]}),  # the sync envelope: the per-record path
        ("dossiers", [base[30], None, base[31]]),  # a null record: DuckDB reads a row of nulls, the parser rejects it
        ("dossiers", _repeated_key_body(base[32], base[33])),  # decoded in full in-process: the second is rejected
    ]


def _repeated_key_body(first: dict[str, Any], second: dict[str, Any]) -> bytes:
    """A list of two dossiers, the second with ``TrangThaiHoSo`` twice."""
    twice = json.dumps(second, ensure_ascii=False).replace('"TrangThaiHoSo":', '"TrangThaiHoSo": "4", "TrangThaiHoSo":')
    return f"[{json.dumps(first, ensure_ascii=False)}, {twice}]".encode()


@pytest.fixture
def native_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    seen: list[int] = []
    original = store_ingest.stage_body

    def spy(*args: Any, **kwargs: Any) -> Any:
        staged = original(*args, **kwargs)
        seen.append(staged is not None)
        return staged

    monkeypatch.setattr(api_ingest, "stage_body", spy)
    yield seen


def _run(native: bool, monkeypatch: pytest.MonkeyPatch, decoder: bool = True) -> tuple[list[Any], dict[str, Any]]:
    monkeypatch.setenv("CHISO766_INGEST_NATIVE", "1" if native else "0")
    monkeypatch.setenv("CHISO766_DECODER_PROCESS", "1" if decoder else "0")
    store = Store(":memory:")
    ingest_records(store, "units", UNITS, "units")
    token = create_token(store, "H44", "ingest")
    settings = AppSettings(refresh_seconds=0, clock=lambda: CLOCK, max_batch=100, max_body_bytes=2_000_000)
    answers = []
    with TestClient(create_app(settings, store=store)) as client:
        for kind, body in _batches():
            content = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False)
            r = client.post(f"/api/v1/ingest/{kind}", content=content, headers=auth(token))
            doc = r.json()
            doc.pop("receipt_id", None)
            answers.append((r.status_code, doc))
    snap = _snapshot(store)
    store.close()
    token_id = token.split("_")[1]  # random per store: named alike in both runs
    same = json.loads(json.dumps([answers, {t: repr(v) for t, v in snap.items()}]).replace(token_id, "TOKEN"))
    return same[0], same[1]


@pytest.fixture
def outlines(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """The outlines the decoder process sent back (None: it was not available)."""
    seen: list[Any] = []
    original = api_ingest.DECODER.outcome

    def spy(pending: Any) -> Any:
        outline = original(pending)
        seen.append(outline)
        return outline

    monkeypatch.setattr(api_ingest.DECODER, "outcome", spy)
    yield seen


def test_http_batches_native_equals_per_record(
    monkeypatch: pytest.MonkeyPatch, native_calls: list[int], outlines: list[Any]
) -> None:
    fast = _run(True, monkeypatch)
    # the plain batches went the native way; a body DuckDB refuses (a list sent as a string) and the envelope the
    # per-record way
    assert len(native_calls) == 10 and [native_calls[i] for i in (0, 1, 2, 5, 6)] == [True] * 5
    assert not native_calls[7] and native_calls[8]
    # every JSON-list body was outlined by the decoder process (the envelope is decoded in-process)
    assert len(outlines) == 9 and all(o is not None for o in outlines)
    assert len(outlines[0].keys) == 40 and outlines[0].keys[0] == _batches()[0][1][0]["MaHoSo"]
    assert [o.repeated for o in outlines] == [False] * 8 + [True]
    in_process = _run(True, monkeypatch, decoder=False)
    assert len(outlines) == 9
    slow = _run(False, monkeypatch)
    for run in (fast, in_process):
        assert run[0] == slow[0]
        for table in slow[1]:
            assert run[1][table] == slow[1][table], table
    statuses = [status for status, _ in fast[0]]
    assert statuses[:3] == [200, 200, 207] and 207 in statuses[3:5]
    assert fast[0][2][1]["rejected"] == 3 and fast[0][1][1]["unchanged"] == 40
    assert fast[0][8][0] == 207 and [p["record_no"] for p in fast[0][8][1]["problems"]] == [2]
    assert fast[0][9][0] == 207 and [(p["record_no"], p["field"]) for p in fast[0][9][1]["problems"]] == [
        (2, "TrangThaiHoSo")
    ]
