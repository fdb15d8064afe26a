"""The ingest decoder process (:mod:`chiso766.api.decoder`) and what it sends back
(:func:`chiso766.store.jsonbody.outline_body`): the same verdicts as the in-process decode, only the keys, and a
replacement when the process dies."""

from __future__ import annotations

import json
import os
import signal
from concurrent.futures import Future

import pytest

from chiso766.api.decoder import BodyDecoder
from chiso766.api.ingest import parse_body
from chiso766.errors import InputError
from chiso766.store.jsonbody import BodyError, BodyOutline, outline_body


def test_the_outline_keeps_each_records_key_and_nothing_else() -> None:
    body = json.dumps([{"MaHoSo": "A-1"}, {"MaHoSo": 7}, None, ["MaHoSo"], {"TrangThai": "2"}, {"MaHoSo": ""}])
    assert outline_body(body.encode(), 10) == BodyOutline(("A-1", None, None, None, None, ""), repeated=False)
    repeated = b'[{"MaHoSo": "A-1"}, {"MaHoSo": "B-2", "TaiLieuNop": [{"x": 1, "x": 2}]}]'
    assert outline_body(repeated, 10).repeated
    assert outline_body(b'{"session": "s", "data": [{"MaHoSo": "C-3"}]}', 10).keys == ("C-3",)  # the envelope


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"[{", 400, "invalid_json"),
        (b'[{"Gia": NaN}]', 400, "invalid_json"),
        (b"\xff[]", 400, "invalid_encoding"),
        (b'{"MaHoSo": "A"}', 400, "not_a_list"),
        (b"[" + b"[" * 100_000 + b"]" * 100_000 + b"]", 400, "invalid_json"),
        (json.dumps([{}] * 11).encode(), 413, "batch_too_large"),
    ],
)
def test_the_outline_refuses_what_the_api_refuses(body: bytes, status: int, code: str) -> None:
    with pytest.raises(BodyError) as outlined:
        outline_body(body, 10)
    with pytest.raises(InputError) as parsed:
        parse_body(body, 10)
    assert (outlined.value.status, outlined.value.code) == (status, code)
    assert (getattr(parsed.value, "status"), parsed.value.code) == (status, code)  # noqa: B009
    assert (parsed.value.message_vi, parsed.value.message_en) == (outlined.value.vi, outlined.value.en)


def test_a_killed_decoder_process_is_replaced(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHISO766_DECODER_PROCESS", "1")
    decoder = BodyDecoder()
    try:
        pending = decoder.submit(b'[{"MaHoSo": "A-1"}]', 10)
        assert pending is not None and decoder.outcome(pending) == BodyOutline(("A-1",), repeated=False)
        pool = decoder._pool
        assert pool is not None
        for pid in list(pool._processes):  # type: ignore[attr-defined]
            os.kill(pid, signal.SIGKILL)
        # the broken process answers None (the caller then decodes in-process), at submit or at the outcome
        answers = []
        for _ in range(2):
            pending = decoder.submit(b'[{"MaHoSo": "B-2"}]', 10)
            answers.append(None if pending is None else decoder.outcome(pending))
        assert answers[0] is None or answers[0] == BodyOutline(("B-2",), repeated=False)
        pending = decoder.submit(b'[{"MaHoSo": "C-3"}]', 10)  # a fresh process by now
        assert pending is not None and decoder.outcome(pending) == BodyOutline(("C-3",), repeated=False)
        assert decoder._pool is not pool
    finally:
        decoder.close()


def test_the_decoder_can_be_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHISO766_DECODER_PROCESS", "0")
    decoder = BodyDecoder()
    assert decoder.submit(b"[]", 10) is None and decoder._pool is None


def test_a_failing_decode_falls_back_but_a_refusal_stands() -> None:
    decoder = BodyDecoder()
    failed: Future[BodyOutline] = Future()
    failed.set_exception(MemoryError())
    assert decoder.outcome(failed) is None  # the caller decodes in-process
    refused: Future[BodyOutline] = Future()
    refused.set_exception(BodyError(400, "invalid_json", "vi", "en"))
    with pytest.raises(BodyError):
        decoder.outcome(refused)
