"""Strict decoding of an ingest request body: a UTF-8 JSON list of records (or the old ``{"data": [...]}``
envelope), without ``NaN``/``Infinity``, at most ``max_batch`` records; objects with a repeated key are noted
(the C decoder alone would keep the last value silently).

This module imports nothing heavy on purpose: the API runs :func:`outline_body` in a separate decoder process
(:mod:`chiso766.api.decoder`), which must start fast and stay small.
"""

from __future__ import annotations

import gc
import json
from dataclasses import dataclass
from typing import Any


class BodyError(Exception):
    """The body cannot be used at all (HTTP ``status``; ``code`` and the Vietnamese / English messages of the
    API's error shape). Plain arguments, so it crosses a process boundary."""

    def __init__(self, status: int, code: str, vi: str, en: str) -> None:
        super().__init__(status, code, vi, en)
        self.status = status
        self.code = code
        self.vi = vi
        self.en = en


class DuplicateKeyDict(dict[str, Any]):
    """An object that had a repeated key; ``repeated`` names the keys seen more than once."""

    repeated: list[str]


class _Duplicates:
    """``object_pairs_hook`` that notes objects with a repeated key."""

    def __init__(self) -> None:
        self.seen = False

    def __call__(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        d = dict(pairs)
        if len(d) != len(pairs):
            self.seen = True
            seen: set[str] = set()
            dup = DuplicateKeyDict(d)
            dup.repeated = [k for k, _ in pairs if k in seen or seen.add(k)]  # type: ignore[func-returns-value]
            return dup
        return d


def repeated_keys(value: Any, path: str = "") -> list[str]:
    """Field paths of repeated keys anywhere in ``value`` (iterative, so deep nesting cannot overflow)."""
    found: list[str] = []
    stack: list[tuple[Any, str]] = [(value, path)]
    while stack:
        item, at = stack.pop()
        if isinstance(item, dict):
            if isinstance(item, DuplicateKeyDict):
                found.extend(f"{at}{k}" for k in item.repeated)
            stack.extend((v, f"{at}{k}.") for k, v in item.items())
        elif isinstance(item, list):
            stack.extend((v, f"{at}[{i}].") for i, v in enumerate(item))
    return found


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def decode_body(body: bytes, max_batch: int) -> tuple[list[Any], bool]:
    """The records of ``body`` and whether any object in it has a repeated key; :class:`BodyError` (400/413) when
    the body is not a usable JSON list."""
    hook = _Duplicates()
    try:
        doc = json.loads(body, object_pairs_hook=hook, parse_constant=_reject_constant)
    except UnicodeDecodeError as exc:
        raise BodyError(
            400,
            "invalid_encoding",
            f"Thân yêu cầu phải là JSON mã hóa UTF-8 (byte lỗi ở vị trí {exc.start})",
            f"The body must be UTF-8 encoded JSON (bad byte at offset {exc.start})",
        ) from None
    except json.JSONDecodeError as exc:
        raise BodyError(
            400,
            "invalid_json",
            f"JSON không hợp lệ: {exc.msg} (dòng {exc.lineno}, cột {exc.colno})",
            f"Invalid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})",
        ) from None
    except RecursionError:
        raise BodyError(400, "invalid_json", "JSON lồng nhau quá sâu", "JSON nested too deeply") from None
    except ValueError as exc:  # NaN/Infinity, integers over 4,300 digits
        raise BodyError(400, "invalid_json", f"JSON không hợp lệ: {exc}", f"Invalid JSON: {exc}") from None
    if isinstance(doc, dict) and isinstance(doc.get("data"), list):  # the old {session, madonvi, data} envelope
        doc = doc["data"]
    if not isinstance(doc, list):
        raise BodyError(
            400,
            "not_a_list",
            "Thân yêu cầu phải là một danh sách JSON các bản ghi",
            "The body must be a JSON list of records",
        )
    if len(doc) > max_batch:
        raise BodyError(
            413,
            "batch_too_large",
            f"Quá nhiều bản ghi: {len(doc)} (tối đa {max_batch} mỗi yêu cầu)",
            f"Too many records: {len(doc)} (at most {max_batch} per request)",
        )
    return doc, hook.seen


@dataclass(frozen=True)
class BodyOutline:
    """What the decoder saw in a usable body: each record's ``MaHoSo`` in order (None when the record is not an
    object or its ``MaHoSo`` is not a string) and whether some object has a repeated key."""

    keys: tuple[str | None, ...]
    repeated: bool


def record_key(record: Any) -> str | None:
    """A decoded record's ``MaHoSo`` when the record is a plain object and the value a string, else None."""
    if type(record) is not dict:  # a DuplicateKeyDict too (such a body is decoded in full anyway)
        return None
    key = record.get("MaHoSo")
    return key if type(key) is str else None


def outline_body(body: bytes, max_batch: int) -> BodyOutline:
    """:func:`decode_body`, keeping only the outline (run in the decoder process: nothing big goes back). The
    collector is paused meanwhile: the thousands of objects decoded stay alive until the end anyway."""
    gc.disable()
    try:
        records, repeated = decode_body(body, max_batch)
        return BodyOutline(tuple(record_key(r) for r in records), repeated)
    finally:
        gc.enable()
