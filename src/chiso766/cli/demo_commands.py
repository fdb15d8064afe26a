"""``generate``, ``demo``, ``serve`` and ``stream``: the national generator, the main job, the server, live events.

``chiso766 demo`` (what ``make demo`` runs): pick "now" (the real clock inside the 2024–2026 working-day
calendar, else a fixed instant, said so), generate a national dataset from 1 January to now under
``./.chiso766-demo/`` (reused by a rerun with the same settings), ingest it through the real ingestion path
(:func:`chiso766.store.ingest.ingest_paths`), start the scoreboard, print the national ranking, and serve the web
app on http://127.0.0.1:8766. ``--live`` also streams new events through the HTTP ingest API.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from chiso766.domain.periods import VN_TZ
from chiso766.errors import InputError
from chiso766.generate import KINDS, GenerateConfig, demo_now, generate
from chiso766.presentation.format import fmt_date, fmt_points
from chiso766.service.scoreboard import Scoreboard

out = Console(highlight=False, width=None if sys.stdout.isatty() else 130)
log = logging.getLogger(__name__)

DEMO_DIR = Path(".chiso766-demo")
DEMO_DOSSIERS = 150_000
DEMO_PORT = 8766
GROUPS = ("CKMB", "TDGQ", "CLGQ", "TTTT", "MDHL", "MDSH")


def _progress() -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=out,
    )


def run_generate(config: GenerateConfig) -> dict[str, int]:
    """Generate with a progress bar; returns the counts per kind."""
    with _progress() as bar:
        task = bar.add_task("Sinh dữ liệu / generating dossiers", total=config.dossiers)
        report = generate(config, progress=lambda n: bar.advance(task, n))
    return report.counts


def run_ingest(db: Path, folder: Path) -> dict[str, int]:
    """Ingest every kind of ``folder`` into ``db`` through :func:`ingest_paths`; returns rejections per kind."""
    from chiso766.store.db import Store
    from chiso766.store.ingest import ingest_paths

    rejected: dict[str, int] = {}
    with Store(db) as store, _progress() as bar:
        for kind in KINDS:
            path = folder / f"{kind}.jsonl"
            if not path.exists():
                continue
            lines = sum(1 for _ in path.open("rb"))
            task = bar.add_task(f"Nạp / ingesting {kind}", total=lines)

            def advance(n: int, t: TaskID = task) -> None:
                bar.advance(t, n)

            reports = ingest_paths(store, kind, [path], progress=advance)
            rejected[kind] = sum(r.rejected for r in reports)
    return rejected


def ranking_table(board: Scoreboard, period: Any = None) -> Table:
    """The provinces of the board ranked for ``period`` (default: the board's default period)."""
    p = period or board.default_period()
    scores = board.scores(p)
    rows = [(scores.ranks.get(c), c) for c, u in scores.units.items() if u.is_root]
    rows.sort(key=lambda r: (r[0] is None, r[0] or 0, r[1]))
    label = f"{p.label_vi} / {p.label_en}" + (" — tạm tính / provisional" if scores.provisional else "")
    table = Table(title=f"Xếp hạng tỉnh, thành phố / provincial ranking · {label}")
    for name in ("Hạng", "Mã", "Tỉnh, thành phố", *GROUPS, "Tổng"):
        table.add_column(name, justify="left" if name in ("Mã", "Tỉnh, thành phố") else "right")
    for rank, code in rows:
        s = scores.scores[code]
        size = scores.cohort_sizes.get(code)
        table.add_row(
            f"{rank}/{size}" if rank is not None else "—",
            code,
            scores.units[code].name or "",
            *(fmt_points(s.groups[g].score) if g in s.groups else "—" for g in GROUPS),
            fmt_points(s.total),
        )
    if scores.national is not None:
        table.caption = f"Bình quân cả nước / national average: {fmt_points(scores.national.total)}"
    return table


def serve_app(
    db: Path,
    host: str,
    port: int,
    clock: Callable[[], datetime] | None = None,
    on_ready: Callable[[Any], None] | None = None,
) -> None:
    """Serve ``create_app`` over ``db`` with uvicorn; ``on_ready(app)`` runs once the scoreboard has started."""
    import uvicorn

    from chiso766.api.app import AppSettings, create_app

    settings = AppSettings.from_env(db_path=str(db), **({"clock": clock} if clock is not None else {}))
    app = create_app(settings)
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    with out.status("Tính điểm các kỳ đang theo dõi / computing the live periods…"):
        thread.start()
        while not server.started and thread.is_alive():
            time.sleep(0.1)
    if not thread.is_alive():
        raise InputError.single(
            "server_failed",
            f"Không khởi động được máy chủ trên {host}:{port} (cổng đã bị dùng?)",
            f"The server could not start on {host}:{port} (port in use?)",
            field="port",
        )
    if on_ready is not None:
        on_ready(app)
    try:
        while thread.is_alive():
            thread.join(0.5)
    except KeyboardInterrupt:
        server.should_exit = True
        thread.join(10)


def _stream_in_background(app: Any, url: str, seed: int, rate: float, clock: Callable[[], datetime]) -> None:
    from chiso766.access.tokens import create_token
    from chiso766.generate.live import EventSource, run_stream

    board: Scoreboard = app.state.board
    with board.lock:
        token = create_token(app.state.store, "*", scope="ingest", name="chiso766 demo --live")
    source = EventSource(seed, clock)

    def work() -> None:
        try:
            run_stream(source, url, token, rate)
        except Exception as exc:  # reported, never fatal to the server
            log.error("live stream stopped: %s", exc)
            out.print(f"[red]Luồng sự kiện dừng / live stream stopped: {exc}[/red]")

    threading.Thread(target=work, name="stream", daemon=True).start()
    out.print(f"Luồng sự kiện trực tiếp: ~{rate:g} sự kiện/giây / live events: ~{rate:g} per second")


def register(app: typer.Typer) -> None:
    """Add ``generate``, ``demo``, ``serve`` and ``stream`` to ``app``."""

    @app.command("generate")
    def generate_command(
        out_dir: Annotated[Path, typer.Option("--out", help="Thư mục ghi / output folder")],
        scale: Annotated[str, typer.Option("--scale", help="nation | province")] = "nation",
        dossiers: Annotated[int, typer.Option("--dossiers", help="Số hồ sơ / dossiers")] = 100_000,
        seed: Annotated[int, typer.Option("--seed", help="Hạt giống / seed")] = 766,
        structure: Annotated[str, typer.Option("--structure", help="2025 | 2024")] = "2025",
        province: Annotated[str | None, typer.Option("--province", help="H44 (2025) / T24 (2024)")] = None,
        now: Annotated[
            str | None, typer.Option("--now", help="Thời điểm hiện tại yyyy-mm-ddTHH:MM (giờ VN) / now")
        ] = None,
        procedures: Annotated[int, typer.Option("--procedures", help="Số TTHC / catalogue size")] = 2000,
    ) -> None:
        """Sinh dữ liệu tổng hợp toàn quốc / generate a synthetic national records folder."""
        if now is not None:
            try:
                instant = datetime.fromisoformat(now)
            except ValueError:
                raise InputError.single(
                    "invalid_now", f"Thời điểm '{now}' không hợp lệ", f"Invalid instant '{now}'", field="now"
                ) from None
            instant = instant if instant.tzinfo else instant.replace(tzinfo=VN_TZ)
        elif structure == "2024":
            instant = datetime(2024, 12, 31, 23, 0, tzinfo=VN_TZ)
        else:
            instant = demo_now()[0]
        config = GenerateConfig(
            out=out_dir,
            now=instant,
            dossiers=dossiers,
            seed=seed,
            scale=scale,
            structure=structure,
            province=province,
            procedures=procedures,
        )
        counts = run_generate(config)
        out.print(json.dumps({"out": str(out_dir), "now": instant.isoformat(), "counts": counts}, ensure_ascii=False))

    @app.command("serve")
    def serve(
        db: Annotated[Path, typer.Option("--db", help="Tệp DuckDB / DuckDB file")],
        host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
        port: Annotated[int, typer.Option("--port")] = DEMO_PORT,
    ) -> None:
        """Phục vụ ứng dụng web và API / serve the web app and JSON API."""
        if not db.exists():
            raise InputError.single("file_not_found", "Không tìm thấy tệp", "File not found", where=str(db))
        serve_app(db, host, port, on_ready=lambda _app: _announce(host, port))

    @app.command("stream")
    def stream(
        url: Annotated[str, typer.Option("--url", help="http://127.0.0.1:8766")] = f"http://127.0.0.1:{DEMO_PORT}",
        token: Annotated[str, typer.Option("--token", help="Mã truy cập ghi / ingest token")] = "",
        rate: Annotated[float, typer.Option("--rate", help="Sự kiện mỗi giây / events per second")] = 20.0,
        seed: Annotated[int, typer.Option("--seed")] = 766,
        duration: Annotated[float | None, typer.Option("--duration", help="Giây / seconds (mặc định: mãi)")] = None,
    ) -> None:
        """Gửi liên tục sự kiện mới qua API tiếp nhận / keep posting new events to the ingest API."""
        from chiso766.generate.live import EventSource, run_stream

        if not token:
            raise InputError.single("missing_token", "Thiếu --token", "Missing --token", field="token")
        source = EventSource(seed, lambda: demo_now()[0])

        def show(stats: Any) -> None:
            out.print(
                f"\rđã gửi / sent {stats.sent} · nhận / accepted {stats.accepted} · cập nhật / updated "
                f"{stats.updated} · từ chối / rejected {stats.rejected}",
                end="",
            )

        run_stream(source, url, token, rate, duration=duration, on_batch=show)

    @app.command()
    def demo(
        dossiers: Annotated[int, typer.Option("--dossiers", help="Số hồ sơ / dossiers")] = DEMO_DOSSIERS,
        seed: Annotated[int, typer.Option("--seed")] = 766,
        port: Annotated[int, typer.Option("--port")] = DEMO_PORT,
        live: Annotated[bool, typer.Option("--live", help="Kèm luồng sự kiện / stream live events")] = False,
        rate: Annotated[float, typer.Option("--rate", help="Sự kiện mỗi giây với --live")] = 20.0,
        data_dir: Annotated[Path, typer.Option("--dir", help="Thư mục dữ liệu demo")] = DEMO_DIR,
    ) -> None:
        """Dữ liệu toàn quốc, tính điểm, phục vụ web trên cổng 8766 / the main job: data, scores, web app."""
        started = time.monotonic()
        now, real = demo_now()
        if real:
            out.print(f"Thời điểm hiện tại / now: {fmt_date(now.date())} {now:%H:%M} (Asia/Ho_Chi_Minh)")
        else:
            out.print(
                f"[yellow]Đồng hồ thật ngoài lịch làm việc 2024–2026: dùng thời điểm cố định {fmt_date(now.date())} "
                f"{now:%H:%M} / the real clock is outside the 2024–2026 calendar: using a fixed instant[/yellow]"
            )
        data_dir.mkdir(parents=True, exist_ok=True)
        db = data_dir / "demo.duckdb"
        meta_path = data_dir / "demo.json"
        wanted = {"dossiers": dossiers, "seed": seed, "structure": "2025", "year": now.year}
        meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.exists() else {}
        if meta.get("settings") == wanted and meta.get("ready") and db.exists():
            now = datetime.fromisoformat(meta["now"]) if not real else now
            out.print(f"Dùng lại dữ liệu đã có / reusing {data_dir}/ ({dossiers:,} hồ sơ / dossiers)".replace(",", "."))
        else:
            for stale in (db, db.with_name(db.name + ".wal")):
                stale.unlink(missing_ok=True)
            records = data_dir / "records"
            config = GenerateConfig(out=records, now=now, dossiers=dossiers, seed=seed)
            run_generate(config)
            rejected = run_ingest(db, records)
            if any(rejected.values()):
                out.print(f"[red]Bản ghi bị từ chối / rejected records: {rejected}[/red]")
            meta_path.write_text(
                json.dumps({"settings": wanted, "now": now.isoformat(), "ready": True}, ensure_ascii=False),
                encoding="utf-8",
            )
        offset = now - datetime.now(VN_TZ)
        clock = (lambda: datetime.now(VN_TZ)) if real else (lambda: datetime.now(VN_TZ) + offset)
        url = f"http://127.0.0.1:{port}"

        def ready(app: Any) -> None:
            out.print(ranking_table(app.state.board))
            took = timedelta(seconds=round(time.monotonic() - started))
            _announce("127.0.0.1", port, took)
            if live:
                _stream_in_background(app, url, seed, rate, clock)

        serve_app(db, "127.0.0.1", port, clock=clock, on_ready=ready)


def _announce(host: str, port: int, took: timedelta | None = None) -> None:
    ready = f" (sẵn sàng sau / ready after {took})" if took is not None else ""
    out.print(
        f"[bold green]Bảng điều khiển chỉ số 766 đang chạy tại / the dashboard is running at "
        f"http://{host}:{port}[/bold green]{ready}\n"
        f"API JSON: http://{host}:{port}/docs · Nhấn Ctrl+C để dừng / press Ctrl+C to stop"
    )
