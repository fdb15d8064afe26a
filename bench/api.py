"""Benchmark: p95 latency of the national and unit pages and their JSON twins over synthetic data.

Builds (or reuses) a DuckDB file of ``--n`` synthetic dossiers (:mod:`bench.synth`), starts the real app under
uvicorn on a loopback port (clock fixed at 31/12/2026 12:00 so all months of 2026 are live), warms each URL
once, then times ``--requests`` sequential GETs per URL over HTTP. One JSON line per URL (DESIGN contract 3):
name, n, seconds (total), per_second, p50_ms, p95_ms, max_ms, peak_rss_mb; plus the startup time.
Target (DESIGN): p95 ≤ 50 ms at 10 M dossiers. Usage: ``python -m bench.api --n 1000000 --requests 50``.
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import socket
import sys
import threading
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import httpx
import uvicorn

from bench.synth import SynthConfig, generate
from chiso766.api.app import AppSettings, create_app
from chiso766.domain.periods import VN_TZ
from chiso766.store.db import Store

CLOCK = datetime(2026, 12, 31, 12, tzinfo=VN_TZ)


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def emit(name: str, n: int, seconds: float | None, **fields: object) -> None:
    doc = {"name": name, "n": n, "seconds": None if seconds is None else round(seconds, 4)}
    doc.setdefault("per_second", None)
    doc["ratio_to_reference"] = None
    doc.update(fields)
    doc["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(doc, ensure_ascii=False), flush=True)


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--db", type=Path, default=None, help="reuse/create this DuckDB file (default bench-data/)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    db = args.db or Path("bench-data") / f"api-{args.n}.duckdb"
    db.parent.mkdir(parents=True, exist_ok=True)
    if not db.exists():
        started = time.perf_counter()
        with Store(db) as store:
            generate(store.connection, SynthConfig(n=args.n))
        emit("api_synth_load", args.n, time.perf_counter() - started)
    store = Store(db)
    app = create_app(AppSettings(clock=lambda: CLOCK, refresh_seconds=0), store=store)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    started = time.perf_counter()
    thread.start()
    while not server.started:
        time.sleep(0.05)
    emit("api_startup_live_periods", args.n, time.perf_counter() - started)
    base = f"http://127.0.0.1:{port}"
    province = (
        "H01"
        if "H01" in app.state.board.units()
        else sorted(u for u, i in app.state.board.units().items() if i.is_root)[0]
    )
    period = "2026-11"
    urls = {
        "national_json": f"/api/v1/national?period={period}",
        "national_page": f"/?period={period}",
        "unit_json": f"/api/v1/units/{province}?period={period}",
        "unit_page": f"/units/{province}?period={period}",
        "state_json": "/api/v1/state",
    }
    with httpx.Client(base_url=base, timeout=600) as client:
        for name, url in urls.items():
            first = time.perf_counter()
            response = client.get(url)
            response.raise_for_status()
            cold = time.perf_counter() - first
            times = []
            for _ in range(args.requests):
                t0 = time.perf_counter()
                client.get(url).raise_for_status()
                times.append(time.perf_counter() - t0)
            total = sum(times)
            emit(
                f"api_{name}",
                args.n,
                total,
                per_second=round(len(times) / total, 1),
                requests=len(times),
                cold_ms=round(cold * 1000, 1),
                p50_ms=round(percentile(times, 0.5) * 1000, 2),
                p95_ms=round(percentile(times, 0.95) * 1000, 2),
                max_ms=round(max(times) * 1000, 2),
                bytes=len(response.content),
                target_p95_ms=50,
            )
    server.should_exit = True
    thread.join(timeout=30)
    store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
