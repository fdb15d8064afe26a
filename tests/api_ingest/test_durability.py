"""kill -9 mid-stream: every record the real server acknowledged (2xx) is in the store after a restart, once.

A real ``uvicorn`` process serves :func:`chiso766.api.app.create_app` over a DuckDB file; a client thread streams
batches and notes each acknowledged one; the server is SIGKILLed while batches are in flight, restarted over
the same file, and the store is checked: every acknowledged dossier present exactly once with all its events,
the batch in flight at the kill either wholly present or wholly absent (one request = one transaction), and
re-sending everything gives no duplicate.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from chiso766.access.tokens import create_token
from chiso766.store.db import Store
from chiso766.store.load import ingest_records
from tests.api_ingest.conftest import UNITS

BATCH = 400


def _batch(b: int) -> list[dict[str, Any]]:
    out = []
    for i in range(b * BATCH, (b + 1) * BATCH):
        dossier_id = f"000.00.01.H44-260105-{i:06d}"
        out.append(
            {
                "MaHoSo": dossier_id,
                "MaCoQuanThucHien": "H44.01",
                "ChuHoSo": "Nguyễn Văn An",
                "NgayTiepNhan": "20260105083000",
                "TrangThaiHoSo": "4",
                "QuaTrinhXuLy": [
                    {"MaHoSo": dossier_id, "TrangThai": "2", "ThoiDiemXuLy": "20260105083000"},
                    {"MaHoSo": dossier_id, "TrangThai": "4", "ThoiDiemXuLy": "20260105093000"},
                ],
            }
        )
    return out


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _serve(db: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "CHISO766_DB": str(db), "CHISO766_REFRESH_SECONDS": "0"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "chiso766.api.app:create_app", "--factory", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the server exited"
        try:
            httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=2)
            return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise AssertionError("the server did not start")


def _children(pid: int) -> set[int]:
    """The live child processes of ``pid`` (Linux ``/proc``): the ingest decoder and multiprocessing's helper."""
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found.update(int(c) for c in (task / "children").read_text().split())
        except OSError:
            continue
    return found


def _gone(pids: set[int], timeout: float = 20.0) -> bool:
    """Whether every process of ``pids`` ends (or is a zombie awaiting its reaper) within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        alive = set()
        for pid in pids:
            try:
                state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if state != "Z":
                alive.add(pid)
        if not alive:
            return True
        time.sleep(0.1)
    return False


def test_acknowledged_records_survive_sigkill(tmp_path: Path) -> None:
    db = tmp_path / "store.duckdb"
    with Store(db) as store:
        ingest_records(store, "units", UNITS, "units")
        token = create_token(store, "H44")
    headers = {"Authorization": f"Bearer {token}"}
    port = _port()
    server = _serve(db, port)
    acked: list[int] = []
    attempted: list[int] = []
    stop = threading.Event()

    def stream() -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=60) as client:
            b = 0
            while not stop.is_set():
                attempted.append(b)
                try:
                    r = client.post("/api/v1/ingest/dossiers", json=_batch(b))
                except httpx.HTTPError:
                    return  # the server died under us
                assert r.status_code == 200, r.text
                assert r.json()["accepted"] == BATCH
                acked.append(b)
                b += 1

    client_thread = threading.Thread(target=stream)
    client_thread.start()
    try:
        while len(acked) < 4:
            assert client_thread.is_alive() or len(acked) >= 4
            time.sleep(0.01)
        time.sleep(0.05)  # land inside the next request
        helpers = _children(server.pid)
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=30)
    finally:
        stop.set()
        client_thread.join(timeout=60)
        if server.poll() is None:
            server.kill()
    assert len(acked) >= 4
    assert helpers, "the server runs its ingest decoder in a child process"
    assert _gone(helpers), "the server's child processes outlive a kill -9"
    in_flight = [b for b in attempted if b not in acked]
    print(f"acknowledged {len(acked)} batches, in flight at the kill: {in_flight}")

    server = _serve(db, port)  # restart over the same file (DuckDB replays its WAL)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=60) as client:
            # the stream goes on: re-sending everything adds the lost batch and duplicates nothing
            for b in [*acked, *in_flight]:
                r = client.post("/api/v1/ingest/dossiers", json=_batch(b))
                assert r.status_code == 200
                body = r.json()
                if b in acked:
                    assert (body["accepted"], body["unchanged"]) == (0, BATCH)
                else:  # all or nothing of the batch killed in flight
                    assert (body["accepted"], body["unchanged"]) in ((BATCH, 0), (0, BATCH))
        helpers = _children(server.pid)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    assert _gone(helpers), "the server's child processes outlive its shutdown"

    with Store(db, read_only=True) as store:
        con = store.connection
        expected = {
            f"000.00.01.H44-260105-{i:06d}" for b in [*acked, *in_flight] for i in range(b * BATCH, (b + 1) * BATCH)
        }
        got = con.execute("SELECT dossier_id, count(*) FROM dossiers GROUP BY 1").fetchall()
        assert {d for d, _ in got} == expected
        assert all(n == 1 for _, n in got)
        assert con.execute(
            "SELECT count(*), count(DISTINCT (dossier_id, status, event_at)) FROM dossier_events"
        ).fetchone() == (
            2 * len(expected),
            2 * len(expected),
        )
        assert "Nguyễn Văn An" not in repr(con.execute("SELECT * FROM dossiers LIMIT 5").fetchall())
