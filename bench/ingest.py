"""Ingest benchmark: file import rate and HTTP batch rate on loopback (DESIGN targets: ≥200k/s files, ≥20k/s HTTP).

Run ``python -m bench.ingest [--n 200000] [--http-n 100000] [--batch 5000] [--http-history 0]
[--formats jsonl,json,csv,parquet,xlsx]``.
Every measurement is one JSON object on stdout (DESIGN contract 3); progress goes to stderr.

The records are sync-format dossiers (DATA_FORMATS §1.2) as a one-stop system sends them: Vietnamese field names,
``yyyyMMddHHmmss`` strings, string flags, personal data (ChuHoSo, SoGiayToChuHoSo, DinhDanhCHS, SoDienThoai,
Email, DiaChi…), documents, fees, results, supplements and 3–5 embedded ``QuaTrinhXuLy`` entries — about 2 KB
of JSON each. They are deterministic for a given ``(n, seed)``.

``file_<format>``   ``chiso766.store.ingest.ingest_paths`` of one file into a fresh DuckDB file (commit included)
``file_replay``     the same JSON Lines file again (every record unchanged: the idempotence check path)
``http_batches``    ``POST /api/v1/ingest/dossiers`` batches from one client to a real ``uvicorn`` server on
                    127.0.0.1 over a DuckDB file; each 2xx is committed before it is answered
                    (``--http-history N``: over a store already holding N other dossiers)
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

TARGET_FILE_PER_SECOND = 200_000
TARGET_HTTP_PER_SECOND = 20_000
PROVINCE = "H44"
UNITS = 40


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _stamp(t: datetime) -> str:
    return t.strftime("%Y%m%d%H%M%S")


def units(province: str = PROVINCE, n: int = UNITS) -> list[dict[str, Any]]:
    """A province, ``n - 1`` departments/communes with electronic ids matching the dossier prefixes."""
    out: list[dict[str, Any]] = [
        {"MaDonVi": province, "TenDonVi": f"Tỉnh {province}", "MaDonViCha": "", "CapDonVi": "province"}
    ]
    for i in range(1, n):
        out.append(
            {
                "MaDonVi": f"{province}.{i:02d}",
                "TenDonVi": f"Đơn vị {i}",
                "MaDonViCha": province,
                "CapDonVi": "provincial_department" if i < 15 else "commune",
                "MaDinhDanh": f"000.00.{i:02d}.{province}",
            }
        )
    return out


def dossiers(n: int, seed: int = 1, start: int = 0, province: str = PROVINCE) -> Iterator[dict[str, Any]]:
    """``n`` sync-format dossiers (numbers ``start`` … ``start + n - 1``), deterministic for ``seed``."""
    rnd = random.Random(seed * 1_000_003 + start)
    base = datetime(2026, 1, 5, 8, 0)
    for i in range(start, start + n):
        unit = 1 + i % (UNITS - 1)
        received = base + timedelta(minutes=7 * i % 500_000)
        due = received + timedelta(days=rnd.choice((3, 5, 7, 10, 15)))
        end = received + timedelta(days=rnd.randint(1, 16), hours=rnd.randint(0, 8))
        done = rnd.random() < 0.85
        status = rnd.choice(("9", "10")) if done else rnd.choice(("2", "4", "5"))
        dossier_id = f"000.00.{unit:02d}.{province}-{received:%y%m%d}-{i:07d}"
        events = [
            {"MaHoSo": dossier_id, "NguoiXuLy": "Chuyên viên", "ThoiDiemXuLy": _stamp(received),
             "NoiDungXuLy": "Tiếp nhận hồ sơ", "TrangThai": "2"},
            {"MaHoSo": dossier_id, "NguoiXuLy": "Chuyên viên", "ThoiDiemXuLy": _stamp(received + timedelta(hours=2)),
             "NoiDungXuLy": "Chuyển xử lý", "TrangThai": "4"},
        ]  # fmt: skip
        if done:
            events.append(
                {"MaHoSo": dossier_id, "ThoiDiemXuLy": _stamp(end), "NoiDungXuLy": "Kết thúc", "TrangThai": "9"}
            )
            if status == "10":
                events.append(
                    {"MaHoSo": dossier_id, "ThoiDiemXuLy": _stamp(end + timedelta(hours=3)), "TrangThai": "10"}
                )
        yield {
            "MaHoSo": dossier_id,
            "MaCoQuanThucHien": f"{province}.{unit:02d}",
            "MaTTHC": f"1.{i % 3000:06d}",
            "TenTTHC": "Cấp giấy phép xây dựng",
            "MaLinhVuc": "G03-XD01",
            "KenhThucHien": rnd.choice(("1", "2", "2", "3", "")),
            "ChuHoSo": f"Nguyễn Văn {i}",
            "SoGiayToChuHoSo": f"0010900{i:05d}",
            "LoaiDoiTuong": "1",
            "Email": f"cd{i}@example.vn",
            "SoDienThoai": f"09{i:08d}",
            "DiaChiThuongTru": f"Số {i % 300} đường Lê Lợi",
            "TrichYeuHoSo": "Đề nghị cấp giấy phép",
            "DinhDanhCHS": [{"LoaiDinhDanh": "1", "SoDinhDanh": f"0010900{i:05d}"}],
            "NgayNopHoSo": _stamp(received - timedelta(minutes=30)),
            "NgayTiepNhan": _stamp(received),
            "NgayHenTra": _stamp(due),
            "TrangThaiHoSo": status,
            "NgayKetThucXuLy": _stamp(end) if done else "",
            "NgayTra": _stamp(end + timedelta(hours=3)) if status == "10" else "",
            "NgayTuChoi": "",
            "DonViXuLy": f"Đơn vị {unit}",
            "HoSoCoThanhPhanSoHoa": rnd.choice(("0", "1")),
            "TaiKhoanDuocXacThucVoiVNeID": rnd.choice(("0", "1")),
            "DuocThanhToanTrucTuyen": rnd.choice(("0", "1", "2", "3")),
            "DSKetNoiCSDL": [{"MaCSDL": "1"}] if rnd.random() < 0.4 else [],
            "TaiLieuNop": [
                {
                    "TepDinhKemId": f"t{i}",
                    "IsDeleted": "0",
                    "DuongDanTaiTepTin": f"https://files.example.vn/{i}.pdf",
                    "DuocSoHoa": rnd.choice(("0", "1")),
                    "DuocLayTuKhoDMQG": rnd.choice(("0", "1")),
                },
            ],
            "DanhSachLePhi": [{"TenPhiLePhi": "Lệ phí", "Gia": rnd.choice(("0", "50000", "200000"))}]
            if rnd.random() < 0.3
            else [],
            "DanhSachHoSoBoSung": [
                {
                    "NgayBoSung": _stamp(received + timedelta(days=1)),
                    "NgayTiepNhanBoSung": _stamp(received + timedelta(days=2)),
                }
            ]
            if rnd.random() < 0.08
            else [],
            "DanhSachGiayToKetQua": [
                {
                    "TenGiayTo": "Giấy phép",
                    "MaGiayToKetQua": "KQ1",
                    "DuongDanTepTinKetQua": f"https://files.example.vn/kq{i}.pdf",
                }
            ]
            if done
            else [],
            "QuaTrinhXuLy": events,
        }


# ------------------------------------------------------------------------------------------------- files

FLAT_COLUMNS = (
    ("Mã hồ sơ", "MaHoSo"),
    ("Mã cơ quan thực hiện", "MaCoQuanThucHien"),
    ("Mã TTHC", "MaTTHC"),
    ("Kênh thực hiện", "KenhThucHien"),
    ("Chủ hồ sơ", "ChuHoSo"),
    ("Ngày nộp hồ sơ", "NgayNopHoSo"),
    ("Ngày tiếp nhận", "NgayTiepNhan"),
    ("Ngày hẹn trả", "NgayHenTra"),
    ("Trạng thái hồ sơ", "TrangThaiHoSo"),
    ("Ngày kết thúc xử lý", "NgayKetThucXuLy"),
    ("Ngày trả", "NgayTra"),
    ("Được thanh toán trực tuyến", "DuocThanhToanTrucTuyen"),
    ("Quá trình xử lý", "QuaTrinhXuLy"),
)


def _dd(stamp: str) -> str:
    """``yyyyMMddHHmmss`` → ``dd/mm/yyyy HH:MM:SS`` as offices export dates."""
    if not stamp:
        return ""
    return f"{stamp[6:8]}/{stamp[4:6]}/{stamp[0:4]} {stamp[8:10]}:{stamp[10:12]}:{stamp[12:14]}"


def _flat(record: dict[str, Any]) -> list[Any]:
    out: list[Any] = []
    for _, name in FLAT_COLUMNS:
        value = record.get(name, "")
        if name == "QuaTrinhXuLy":
            value = json.dumps(value, ensure_ascii=False)
        elif name.startswith("Ngay"):
            value = _dd(value)
        out.append(value)
    return out


def write_file(path: Path, fmt: str, n: int, seed: int) -> None:
    """``n`` dossiers as ``fmt`` (jsonl, json, csv, xlsx or parquet — the flat formats with Vietnamese headers)."""
    if fmt == "jsonl":
        with path.open("w", encoding="utf-8") as f:
            for d in dossiers(n, seed):
                f.write(json.dumps(d, ensure_ascii=False) + "\n")
    elif fmt == "json":
        with path.open("w", encoding="utf-8") as f:
            f.write("[")
            for i, d in enumerate(dossiers(n, seed)):
                f.write(("," if i else "") + json.dumps(d, ensure_ascii=False))
            f.write("]")
    elif fmt in ("csv", "parquet"):
        csv_path = path if fmt == "csv" else path.with_suffix(".tmp.csv")
        with csv_path.open("w", encoding="utf-8-sig", newline="") as f:
            w = csv.writer(f)
            w.writerow([h for h, _ in FLAT_COLUMNS])
            for d in dossiers(n, seed):
                w.writerow(_flat(d))
        if fmt == "parquet":
            import duckdb

            con = duckdb.connect()
            con.execute(
                f"COPY (SELECT * FROM read_csv(?, all_varchar = true, header = true)) TO '{path}' (FORMAT parquet)",
                [str(csv_path)],
            )
            con.close()
            csv_path.unlink()
    elif fmt == "xlsx":
        import xlsxwriter

        wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
        ws = wb.add_worksheet("Hồ sơ")
        ws.write_row(0, 0, [h for h, _ in FLAT_COLUMNS])
        for r, d in enumerate(dossiers(n, seed), start=1):
            ws.write_row(r, 0, _flat(d))
        wb.close()
    else:
        raise ValueError(fmt)


# ------------------------------------------------------------------------------------------------- runs


def _emit(name: str, n: int, seconds: float, target: float, **extra: Any) -> None:
    per_second = n / seconds if seconds > 0 else None
    doc = {
        "name": name,
        "n": n,
        "seconds": round(seconds, 3),
        "per_second": round(per_second) if per_second else None,
        "ratio_to_reference": round(per_second / target, 3) if per_second else None,
        "reference": f"target {target:,.0f}/s",
        "peak_rss_mb": peak_rss_mb(),
        **extra,
    }
    sys.stdout.write(json.dumps(doc, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def bench_files(workdir: Path, n: int, seed: int, formats: list[str]) -> None:
    from chiso766.store.db import Store
    from chiso766.store.ingest import ingest_paths
    from chiso766.store.load import ingest_records

    for fmt in formats:
        size = n if fmt != "xlsx" else min(n, 50_000)
        path = workdir / f"dossiers.{fmt}"
        sys.stderr.write(f"writing {size} dossiers as {fmt}…\n")
        write_file(path, fmt, size, seed)
        db = workdir / f"files-{fmt}.duckdb"
        with Store(db) as store:
            ingest_records(store, "units", units(), "units")
            t0 = time.perf_counter()
            [report] = ingest_paths(store, "dossiers", [path])
            seconds = time.perf_counter() - t0
            assert report.accepted == size and report.rejected == 0, report.as_dict()
            _emit(f"file_{fmt}", size, seconds, TARGET_FILE_PER_SECOND, bytes=path.stat().st_size)
            if fmt == "jsonl":
                t0 = time.perf_counter()
                [again] = ingest_paths(store, "dossiers", [path])
                seconds = time.perf_counter() - t0
                assert again.unchanged == size, again.as_dict()
                _emit("file_replay", size, seconds, TARGET_FILE_PER_SECOND)
        db.unlink()
        path.unlink()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start_server(db: Path, port: int, extra_env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """``uvicorn`` serving ``create_app`` over ``db`` on 127.0.0.1:``port``; returns once it answers."""
    import httpx

    env = {**os.environ, "CHISO766_DB": str(db), "CHISO766_REFRESH_SECONDS": "0", **(extra_env or {})}
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "chiso766.api.app:create_app", "--factory", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {proc.stderr.read().decode() if proc.stderr else ''}")
        try:
            httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=1.0)
            return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not start")


HISTORY_START = 50_000_000  # numbering of the stored-history dossiers (the batches sent over HTTP start at 0)


def bench_http(workdir: Path, n: int, seed: int, batch: int, history: int = 0) -> None:
    """``n`` dossiers over HTTP in ``batch``-record requests; ``history`` dossiers (other keys, same kind of
    dates) are ingested from a JSON Lines file first, so that the requests meet a store of that size."""
    import httpx

    from chiso766.access.tokens import create_token
    from chiso766.store.db import Store
    from chiso766.store.ingest import ingest_paths
    from chiso766.store.load import ingest_records

    db = workdir / "http.duckdb"
    with Store(db) as store:
        ingest_records(store, "units", units(), "units")
        token = create_token(store, PROVINCE, "ingest", name="bench")
        if history:
            path = workdir / "history.jsonl"
            print(f"writing and ingesting {history} dossiers of history…", file=sys.stderr)
            with path.open("w", encoding="utf-8") as f:
                for d in dossiers(history, seed, start=HISTORY_START):
                    f.write(json.dumps(d, ensure_ascii=False) + "\n")
            ingest_paths(store, "dossiers", [path])
            path.unlink()
    bodies = []
    records = list(dossiers(n, seed))
    for i in range(0, n, batch):
        bodies.append(json.dumps(records[i : i + batch], ensure_ascii=False).encode())
    del records
    port = _free_port()
    proc = start_server(db, port)
    try:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=600) as client:
            t0 = time.perf_counter()
            taken = 0
            for body in bodies:
                r = client.post("/api/v1/ingest/dossiers", content=body)
                if r.status_code != 200:
                    raise RuntimeError(f"{r.status_code}: {r.text[:500]}")
                taken += r.json()["accepted"]
            seconds = time.perf_counter() - t0
        assert taken == n, taken
        _emit(
            "http_batches",
            n,
            seconds,
            TARGET_HTTP_PER_SECOND,
            batch=batch,
            bytes=sum(len(b) for b in bodies),
            history=history,
        )
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=200_000, help="dossiers per file format")
    parser.add_argument("--http-n", type=int, default=100_000, help="dossiers sent over HTTP (0 = skip)")
    parser.add_argument("--batch", type=int, default=5_000, help="records per HTTP request")
    parser.add_argument(
        "--http-history", type=int, default=0, help="dossiers stored before the HTTP batches (default: none)"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--formats", default="jsonl,json,csv,parquet,xlsx")
    parser.add_argument("--dir", type=Path, default=None, help="work folder (default: a temporary one)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="chiso766-bench-ingest-", dir=args.dir) as tmp:
        work = Path(tmp)
        formats = [f for f in args.formats.split(",") if f]
        if args.n and formats:
            bench_files(work, args.n, args.seed, formats)
        if args.http_n:
            bench_http(work, args.http_n, args.seed, args.batch, args.http_history)


if __name__ == "__main__":
    main()
