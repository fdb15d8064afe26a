"""Alerts (webhook on a loopback HTTP server, e-mail through a loopback aiosmtpd server), documents (.docx) and
the API / pages over the fixture (clock 25/03/2026 10:00; H90 March total 65,01 < 70)."""

from __future__ import annotations

import io
import json
import socket
import threading
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from docx import Document
from fastapi.testclient import TestClient

from chiso766.advisor import alerts
from chiso766.advisor.documents import brief_docx, notice_docx
from chiso766.api.app import AppSettings, create_app
from chiso766.service.scoreboard import Scoreboard
from chiso766.store.db import Store
from chiso766.web import auth
from tests.advisor.conftest import NOW, load_fixture


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append(json.loads(body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    server.shutdown()


@pytest.fixture
def smtp() -> Iterator[tuple[alerts.SmtpSettings, list[Message]]]:
    messages: list[Message] = []

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            messages.append(message_from_bytes(envelope.content))
            return "250 OK"

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    yield alerts.SmtpSettings("127.0.0.1", port, "chiso766@localhost"), messages
    controller.stop()


def test_total_below_fires_once_by_webhook_and_email(
    board: Scoreboard, webhook: tuple[str, list[dict[str, Any]]], smtp: tuple[alerts.SmtpSettings, list[Message]]
) -> None:
    url, hooks = webhook
    settings, mails = smtp
    with board.lock:
        alerts.ensure_tables(board.store.connection)
    rule = alerts.add_rule(
        board, {"unit": "H90", "kind": "total_below", "threshold": 70, "webhook_url": url, "email": "vp@example.vn"}
    )
    quiet = alerts.add_rule(board, {"unit": "H90", "kind": "stale_data", "threshold": 1e6, "webhook_url": url})
    fired = alerts.evaluate(board, smtp=settings)
    assert [f["rule_id"] for f in fired] == [rule["rule_id"]]
    assert fired[0]["delivery"] == "webhook:ok email:ok"
    assert hooks[0]["value"] == 65.01 and "65,01" in hooks[0]["message_vi"]
    assert mails[0]["To"] == "vp@example.vn" and "65,01" in _body(mails[0])
    assert alerts.evaluate(board, smtp=settings) == []  # still met: no repeat
    assert len(alerts.list_events(board)) == 1
    assert quiet["rule_id"] not in {e["rule_id"] for e in alerts.list_events(board)}
    sent = alerts.send_digests(board, smtp=settings)
    assert {s["unit"] for s in sent} == {"H90"} and len(mails) == 2
    assert "Việc cần làm trước" in _body(mails[1])


def test_rule_validation(board: Scoreboard) -> None:
    from chiso766.errors import InputError

    for bad, field in (
        ({"unit": "H90", "kind": "nope", "threshold": 1, "email": "a@b"}, "kind"),
        ({"unit": "H90", "kind": "group_drop", "threshold": 1, "email": "a@b", "group": "XX"}, "group"),
        ({"unit": "H90", "kind": "total_below", "threshold": 1}, "webhook_url"),
    ):
        with pytest.raises(InputError) as err:
            alerts.add_rule(board, bad)
        assert err.value.problems[0].field == field


def _body(message: Message) -> str:
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode("utf-8")


def _texts(data: bytes) -> tuple[str, list[list[str]], set[str | None]]:
    doc = Document(io.BytesIO(data))
    text = "\n".join(p.text for p in doc.paragraphs)
    rows = [[c.text for c in r.cells] for t in doc.tables for r in t.rows]
    fonts = {r.font.name for p in doc.paragraphs for r in p.runs if r.text.strip()}
    return text, rows, fonts


def test_notice_docx_layout_and_numbers(board: Scoreboard) -> None:
    """H90 March: departments H90.01, H90.02 and communes H90.11–13 in numbered-column tables, comma decimals."""
    text, rows, fonts = _texts(notice_docx(board, "H90", "2026-03"))
    flat = [c for r in rows for c in r]
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in flat and "Độc lập - Tự do - Hạnh phúc" in flat
    assert any(c.startswith("ỦY BAN NHÂN DÂN TỈNH") for c in flat)
    assert "THÔNG BÁO" in text and "tháng 3/2026" in text and "65,01/100" in text
    assert fonts == {"Times New Roman"}
    numbered = [r for r in rows if r and r[0] == "(1)"]
    assert len(numbered) == 2 and numbered[0][:3] == ["(1)", "(2)", "(3)"]
    scores = board.scores("2026-03")
    h9013 = next(r for r in rows if r[1] == "Xã Cát Tiên")
    assert h9013[-2] == f"{scores.scores['H90.13'].total:.2f}".replace(".", ",")
    from chiso766.errors import InputError

    with pytest.raises(InputError):
        notice_docx(board, "H90", "2026Q1")


def test_brief_docx(board: Scoreboard) -> None:
    text, rows, _ = _texts(brief_docx(board, "H90", "2026-03"))
    assert "Tổng điểm 65,01/100" in text and "Việc cần làm trước" in text
    assert rows[1][:2] == ["(1)", "(2)"] and len(rows) == 2 + 6


def test_api_and_pages() -> None:
    store = Store()
    load_fixture(store)
    auth.create_user(store.connection, "tinh_h90", "H90", "mat-khau-dung-1")
    app = create_app(AppSettings(clock=lambda: NOW, refresh_seconds=0), store=store)
    with TestClient(app) as client:
        assert client.post("/api/v1/login", json={"username": "tinh_h90", "password": "mat-khau-dung-1"}).is_success
        r = client.get("/api/v1/advisor/H90/advice", params={"period": "2026-03"})
        assert r.status_code == 200 and r.json()["total"] == 65.01
        r = client.post("/api/v1/advisor/H90.13/whatif", json={"period": "2026-03", "resolve_overdue": 2})
        assert r.json()["gain"] == 12.67
        r = client.post(
            "/api/v1/advisor/H90.13/whatif",
            json={"period": "2026-03", "changes": [{"indicator": "PROGRESS_ON_TIME", "numerator": 9}]},
        )
        assert r.status_code == 400 and r.json()["error"]["problems"][0]["field"] == "PROGRESS_ON_TIME"
        assert client.get("/api/v1/advisor/H99/advice").status_code == 404
        w = client.get("/api/v1/advisor/H90/warnings", params={"period": "2026-03"}).json()
        assert w["due_soon"]["count"] == 2
        f = client.get("/api/v1/advisor/H90/forecast", params={"period": "2026-03"}).json()
        assert f["low_total"] <= f["forecast_total"] <= f["high_total"]
        r = client.post("/api/v1/advisor/alerts/rules", json={"unit": "H90", "kind": "rank_drop", "threshold": 1})
        assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_rule"
        r = client.post(
            "/api/v1/advisor/alerts/rules",
            json={"unit": "H90", "kind": "total_below", "threshold": 50, "email": "a@b.vn"},
        )
        assert r.status_code == 201
        rid = r.json()["rule_id"]
        assert [x["rule_id"] for x in client.get("/api/v1/advisor/alerts/rules").json()["rules"]] == [rid]
        assert client.post("/api/v1/advisor/alerts/evaluate").json() == {"fired": []}  # 65,01 ≥ 50
        assert client.delete(f"/api/v1/advisor/alerts/rules/{rid}").status_code == 204
        d = client.get("/api/v1/advisor/H90/notice.docx", params={"period": "2026-03"})
        assert d.status_code == 200 and d.content[:2] == b"PK"
        page = client.get("/advisor/H90", params={"period": "2026-03"})
        assert page.status_code == 200 and "65,01" in page.text and "Việc cần làm trước" in page.text
        brief = client.get("/advisor/H90/brief", params={"period": "2026-03"})
        assert "BẢN TIN LÃNH ĐẠO" in brief.text and "@page{size:A4" in brief.text
        wi = client.post("/advisor/H90.13/whatif", data={"period": "2026-03", "resolve_overdue": "2"})
        assert wi.status_code == 200 and "76,50" in wi.text
        al = client.post(
            "/advisor/alerts", data={"unit": "H90", "kind": "total_below", "threshold": "70", "email": "x@y.vn"}
        )
        assert al.status_code == 200 and "x@y.vn" in al.text  # followed the 303 to the list
