"""HTTP ingest: ``POST /api/v1/ingest/{kind}`` (a JSON list of sync-format records) and receipts.

A province points its existing DVCQG sync job here (DATA_FORMATS §1.1: the body is a JSON *list* of dossiers or
progress entries; the old ``{"data": [...]}`` envelope is accepted too). Every write needs
``Authorization: Bearer <token>`` (:mod:`chiso766.access.tokens`); records outside the token's unit subtree are
rejected one by one (:mod:`chiso766.access.scope`).

Status codes (all errors in the one JSON error shape):

- **200** every record was taken (new, updated or unchanged); **207** some were rejected, the others stored;
  **422** every record was rejected (nothing stored but the quarantine rows). 200/207/422 carry the same body:
  ``receipt_id, kind, accepted, updated, unchanged, rejected, problems[], problems_truncated``.
- **400** the body is not UTF-8 JSON, not a list, has ``NaN``/``Infinity``, or nests too deeply — nothing stored.
- **401** no or unknown/revoked token; **403** the token's scope does not cover the kind (``procedures`` need
  ``catalogue``); **404** unknown kind or receipt; **413** body over ``max_body_bytes`` or more than
  ``max_batch`` records.

Durability: a request is one transaction, committed (DuckDB WAL) before the 2xx is sent; replaying it changes
nothing. A JSON object with the same key twice is rejected as a record (which value is meant is unknowable).
Personal data never reaches the store, the logs or the response. Every request with a token, and every refused
one, is written to ``audit_log``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field

from chiso766.access import audit
from chiso766.access.scope import ScopeGuard, kind_allowed
from chiso766.access.tokens import ALL_UNITS, Token, authenticate
from chiso766.api.app import AppSettings
from chiso766.api.decoder import DECODER
from chiso766.errors import Chiso766Error, InputError, Problem
from chiso766.records import KIND_ORDER, kind_spec
from chiso766.service.scoreboard import Scoreboard
from chiso766.store.db import Store
from chiso766.store.ingest import drop_staged, ingest_body, stage_body, stageable
from chiso766.store.jsonbody import BodyError, decode_body, repeated_keys
from chiso766.store.load import MAX_REPORTED, IngestReport, RejectedRecord, relaxed_gc

log = logging.getLogger(__name__)
# decodes request bodies while the writer thread stages them in DuckDB (see post_records)
_PARSERS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="chiso766-decode")

router = APIRouter(prefix="/api/v1/ingest", tags=["ingest"])
bearer = HTTPBearer(auto_error=False, description="Token từ `chiso766 token create` / token from `token create`")


# ------------------------------------------------------------------------------------------------ models


class IngestProblem(BaseModel):
    record_no: int = Field(description="Vị trí bản ghi trong danh sách, từ 1 / 1-based position in the list")
    record_key: str | None = Field(description="MaHoSo / MaPAKN / MaDonVi / MATTHC / SoQuyetDinh khi đọc được")
    where: str | None
    field: str | None = Field(description="Tên trường như đã gửi, kể cả đường dẫn lồng / field as sent")
    message_vi: str
    message_en: str


class IngestResult(BaseModel):
    receipt_id: str
    kind: str
    accepted: int = Field(description="bản ghi mới / new records")
    updated: int = Field(description="phiên bản mới hơn / newer versions")
    unchanged: int = Field(description="đã có, không đổi (hoặc cũ hơn) / already stored or older")
    rejected: int = Field(description="bị từ chối, lưu vào quarantine / rejected, quarantined")
    problems: list[IngestProblem]
    problems_truncated: bool = Field(description=f"chỉ {MAX_REPORTED} bản ghi đầu có lỗi được liệt kê")


class Receipt(IngestResult):
    source: str
    recorded_at: str


class ErrorDetail(BaseModel):
    code: str
    message_vi: str
    message_en: str
    problems: list[dict[str, Any]]


class ErrorBody(BaseModel):
    error: ErrorDetail


_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "Thân yêu cầu không phải danh sách JSON hợp lệ / body is not a JSON list"},
    401: {"model": ErrorBody, "description": "Thiếu hoặc sai token / missing, unknown or revoked bearer token"},
    403: {"model": ErrorBody, "description": "Token không có quyền với loại này / scope does not cover the kind"},
    404: {"model": ErrorBody, "description": "Loại bản ghi hoặc biên nhận không tồn tại / unknown kind or receipt"},
    413: {"model": ErrorBody, "description": "Quá lớn (max_body_bytes / max_batch) / body or batch too large"},
}


# ---------------------------------------------------------------------------------------------- helpers


def _error(status: int, code: str, vi: str, en: str, problems: list[Problem] | None = None) -> Chiso766Error:
    err = InputError(code=code, message_vi=vi, message_en=en, problems=problems or [])
    setattr(err, "status", status)  # noqa: B010 — read by the app's error handler
    return err


def _remote(request: Request) -> str | None:
    return request.client.host if request.client else None


def _body_error(exc: BodyError) -> Chiso766Error:
    return _error(exc.status, exc.code, exc.vi, exc.en)


def _decoded(
    pending: Future[Any], outlined: bool, body: bytes, max_batch: int, source: str
) -> tuple[list[Any] | Callable[[], list[Any]], tuple[str | None, ...] | None]:
    """The records for :func:`ingest_body` from a finished decode: a list (decoded in a thread, or here when the
    decoder process broke or saw a repeated key), or a function decoding them on demand plus the keys the decoder
    process saw. :class:`Chiso766Error` (400/413) when the body is unusable."""
    if not outlined:
        records: list[Any] = pending.result()
        return records, None
    try:
        outline = DECODER.outcome(pending)
    except BodyError as exc:
        raise _body_error(exc) from None
    if outline is None or outline.repeated:
        return parse_body(body, max_batch, source), None
    return (lambda: parse_body(body, max_batch, source)), outline.keys


def parse_body(body: bytes, max_batch: int, source: str = "") -> list[Any]:
    """The records of a request body; :class:`InputError` (400/413) when it is not a usable JSON list. An object
    with a repeated key makes its record a :class:`RejectedRecord`."""
    try:
        with relaxed_gc:  # a batch of records is thousands of live dicts: no collector passes over them meanwhile
            doc, repeated = decode_body(body, max_batch)
    except BodyError as exc:
        raise _body_error(exc) from None
    if repeated:
        for i, record in enumerate(doc):
            names = repeated_keys(record)
            if names:
                doc[i] = RejectedRecord(
                    record,
                    tuple(
                        Problem(
                            message_vi="Khóa xuất hiện nhiều lần trong cùng một đối tượng JSON",
                            message_en="Key appears more than once in one JSON object",
                            where=f"{source}[{i + 1}]",
                            field=name,
                        )
                        for name in names
                    ),
                )
    return doc


async def _read_body(request: Request, limit: int) -> bytes:
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(limit: int) -> Chiso766Error:
    return _error(
        413,
        "payload_too_large",
        f"Thân yêu cầu quá lớn (tối đa {limit:,} byte)".replace(",", "."),
        f"Request body too large (at most {limit:,} bytes)",
    )


def result_doc(report: IngestReport) -> dict[str, Any]:
    problems = [
        {"record_no": no, "record_key": report.keys.get(no), **p.as_dict()}
        for no, listed in report.problems
        for p in listed
    ]
    return {
        "receipt_id": report.receipt_id,
        "kind": report.kind,
        "accepted": report.accepted,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "rejected": report.rejected,
        "problems": problems,
        "problems_truncated": report.problems_truncated,
    }


def status_of(report: IngestReport) -> int:
    if not report.rejected:
        return 200
    return 207 if report.accepted + report.updated + report.unchanged else 422


# ------------------------------------------------------------------------------------------------ access


class _Caller:
    """The authenticated token of a request, plus what the audit log needs."""

    def __init__(self, token: Token, remote: str | None) -> None:
        self.token = token
        self.remote = remote


def _audit_refusal(
    board: Scoreboard, store: Store, actor: str, kind: str | None, status: int, code: str, remote: str | None
) -> None:
    with board.lock:
        audit.record(
            store.connection, actor=actor, action="ingest_refused", kind=kind, status=status, remote=remote, detail=code
        )


async def _caller(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> _Caller:
    board: Scoreboard = request.app.state.board
    store: Store = request.app.state.store
    remote = _remote(request)
    kind = request.path_params.get("kind")

    def check() -> Token | None:
        if credentials is None or credentials.scheme.lower() != "bearer":
            return None
        with board.lock:
            return authenticate(store, credentials.credentials)

    token = await run_in_threadpool(check)
    if token is None:
        await run_in_threadpool(_audit_refusal, board, store, "anonymous", kind, 401, "unauthorized", remote)
        raise _error(
            401,
            "unauthorized",
            "Cần token hợp lệ: Authorization: Bearer <token>",
            "A valid token is required: Authorization: Bearer <token>",
        )
    return _Caller(token, remote)


# ------------------------------------------------------------------------------------------------ routes


@router.post(
    "/{kind}",
    response_model=IngestResult,
    summary="Nạp bản ghi đồng bộ / ingest sync-format records",
    description=(
        "Thân yêu cầu: danh sách JSON các bản ghi theo định dạng đồng bộ (tên trường tiếng Việt như DVCQG, hoặc tên "
        "snake_case tiếng Anh). `kind` ∈ " + ", ".join(KIND_ORDER) + ". Giới hạn: `max_batch` bản ghi (mặc định "
        "10.000) và `max_body_bytes` (mặc định 64 MiB) mỗi yêu cầu. / Body: a JSON list of sync-format records "
        "(Vietnamese field names as DVCQG receives them, or English snake_case). Limits: `max_batch` records "
        "(default 10,000) and `max_body_bytes` (default 64 MiB) per request. 200 = all taken; 207 = some rejected "
        "(the others are stored); 422 = all rejected. Records outside the token's unit subtree are rejected one "
        "by one with a reason."
    ),
    responses={
        207: {"model": IngestResult, "description": "Một phần bị từ chối / some records rejected, the rest stored"},
        422: {"model": IngestResult, "description": "Tất cả bị từ chối / every record rejected"},
        **_ERRORS,
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"type": "array", "items": {"type": "object"}},
                    "example": [
                        {
                            "MaHoSo": "000.00.01.H44-260105-0001",
                            "MaCoQuanThucHien": "H44.01",
                            "MaTTHC": "1.001234",
                            "KenhThucHien": "2",
                            "NgayTiepNhan": "20260105083000",
                            "NgayHenTra": "20260112170000",
                            "TrangThaiHoSo": "4",
                        }
                    ],
                }
            },
        }
    },
)
async def post_records(kind: str, request: Request, caller: Annotated[_Caller, Depends(_caller)]) -> JSONResponse:
    app = request.app
    settings: AppSettings = app.state.settings
    board: Scoreboard = app.state.board
    store: Store = app.state.store
    token = caller.token

    def refuse(err: Chiso766Error) -> Chiso766Error:
        status = int(getattr(err, "status", 400))
        _audit_refusal(board, store, token.actor, kind, status, err.code, caller.remote)
        return err

    try:
        kind_spec(kind)
    except InputError as exc:
        setattr(exc, "status", 404)  # noqa: B010
        raise await run_in_threadpool(refuse, exc) from None
    if not kind_allowed(token, kind):
        err = _error(
            403,
            "forbidden",
            f"Token phạm vi '{token.scope}' không được ghi loại '{kind}'",
            f"A token of scope '{token.scope}' may not write '{kind}'",
        )
        raise await run_in_threadpool(refuse, err)
    try:
        body = await _read_body(request, settings.max_body_bytes)
    except Chiso766Error as exc:
        raise await run_in_threadpool(refuse, exc) from None
    source = f"http:{token.token_id}"

    def write() -> IngestReport:
        # Python decodes the body (the judge of JSON validity, repeated keys, the batch limit) while DuckDB reads
        # and certifies the same bytes under the writer lock; nothing is stored before both are done. The decoder
        # process returns only each record's MaHoSo: the records themselves are decoded here only if needed.
        outlined = DECODER.submit(body, settings.max_batch) if stageable(kind, body) else None
        pending: Future[Any] = outlined or _PARSERS.submit(parse_body, body, settings.max_batch, source)
        with board.lock:
            try:
                staged = stage_body(store, kind, body)
            finally:
                wait([pending])
            try:
                records, keys = _decoded(pending, outlined is not None, body, settings.max_batch, source)
            except Chiso766Error as exc:
                drop_staged(store)
                raise refuse(exc) from None
            # one request = one transaction
            report = ingest_body(
                store, kind, body, records, source, keys=keys, guard=ScopeGuard(token), staged=staged
            )  # fmt: skip
            audit.record(
                store.connection,
                actor=token.actor,
                action="ingest",
                kind=kind,
                unit_code=token.unit_code,
                receipt_id=report.receipt_id,
                counts=(report.accepted, report.updated, report.unchanged, report.rejected),
                status=status_of(report),
                remote=caller.remote,
            )
            return report

    report = await run_in_threadpool(write)
    return JSONResponse(result_doc(report), status_code=status_of(report))


@router.get(
    "/receipts/{receipt_id}",
    response_model=Receipt,
    summary="Biên nhận một lần nạp / one ingest receipt",
    description=(
        "Tổng số và lỗi từng bản ghi (từ bảng quarantine) của một lần nạp mà token này đã gửi (token toàn quốc `*` "
        "xem được mọi biên nhận). / Counts and per-record problems of a write made with this token (a national "
        "`*` token sees every receipt)."
    ),
    responses={401: _ERRORS[401], 404: _ERRORS[404]},
)
async def get_receipt(
    receipt_id: str, request: Request, caller: Annotated[_Caller, Depends(_caller)]
) -> dict[str, Any]:
    board: Scoreboard = request.app.state.board
    store: Store = request.app.state.store
    token = caller.token

    def read() -> dict[str, Any] | None:
        with board.lock:
            return load_receipt(store, receipt_id, None if token.unit_code == ALL_UNITS else token.actor)

    doc = await run_in_threadpool(read)
    if doc is None:
        raise _error(
            404,
            "not_found",
            f"Không có biên nhận '{receipt_id}' của token này",
            f"No receipt '{receipt_id}' for this token",
        )
    return doc


def load_receipt(store: Store, receipt_id: str, actor: str | None) -> dict[str, Any] | None:
    """A receipt with its quarantined problems (first :data:`MAX_REPORTED` records); ``actor`` restricts it to
    writes audit-logged for that actor. The caller holds the store lock."""
    con = store.connection
    row = con.execute(
        "SELECT receipt_id, kind, source, accepted, updated, unchanged, rejected, recorded_at FROM receipts "
        "WHERE receipt_id = ?",
        [receipt_id],
    ).fetchone()
    if row is None:
        return None
    if actor is not None:
        owned = con.execute(
            "SELECT 1 FROM audit_log WHERE receipt_id = ? AND actor = ? LIMIT 1", [receipt_id, actor]
        ).fetchone()
        if owned is None:
            return None
    quarantined = con.execute(
        "SELECT record_no, record_key, problems FROM quarantine WHERE receipt_id = ? ORDER BY record_no LIMIT ?",
        [receipt_id, MAX_REPORTED + 1],
    ).fetchall()
    problems = [
        {"record_no": no, "record_key": key, **p}
        for no, key, text in quarantined[:MAX_REPORTED]
        for p in json.loads(text)
    ]
    return {
        "receipt_id": row[0],
        "kind": row[1],
        "source": row[2],
        "accepted": row[3],
        "updated": row[4],
        "unchanged": row[5],
        "rejected": row[6],
        "recorded_at": row[7].isoformat() + "Z",
        "problems": problems,
        "problems_truncated": len(quarantined) > MAX_REPORTED,
    }


def setup(app: FastAPI) -> None:
    """Nothing to create: the access tables are part of the store schema (:mod:`chiso766.store.schema`)."""


__all__: list[str] = ["load_receipt", "parse_body", "router", "setup"]
