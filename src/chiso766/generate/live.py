"""A live stream of new events posted to the HTTP ingest API, so scores visibly move (``chiso766 stream``).

Contract (api/ingest.py): ``POST {url}/api/v1/ingest/{kind}`` with ``Authorization: Bearer <token>`` and a JSON
list body; the response is JSON with ``receipt_id``/``accepted``/``updated``/``unchanged``/``rejected``/
``problems``. Each tick the stream sends, at ``rate`` events per second on average: new dossiers received "now"
(kind ``dossiers``), progress of the dossiers it sent earlier (a new version of the dossier with status 9/10 and
its ``QuaTrinhXuLy`` entry), and PAKN. Dossier ids carry a ``-LIVE`` sequence, so they never collide with a
generated dataset. Deterministic for a seed apart from the wall clock.
"""

from __future__ import annotations

import bisect
import itertools
import logging
import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx

from chiso766.domain.calendar import load_calendar
from chiso766.domain.periods import VN_TZ
from chiso766.domain.units import UnitLevel
from chiso766.errors import Chiso766Error
from chiso766.generate.catalogue import COMMUNE_GROUP, build_catalogue
from chiso766.generate.flows import DossierMaker, fmt
from chiso766.generate.structure import build_structure

__all__ = ["EventSource", "StreamStats", "post_batch", "run_stream"]

log = logging.getLogger(__name__)


class StreamError(Chiso766Error):
    """The ingest API refused a batch or could not be reached."""


@dataclass
class StreamStats:
    """What the stream has sent so far."""

    batches: int = 0
    sent: dict[str, int] = field(default_factory=lambda: {"dossiers": 0, "petitions": 0})
    accepted: int = 0
    updated: int = 0
    rejected: int = 0


class EventSource:
    """Makes new events over the generated structure; ``clock`` gives "now" (aware or naive local time)."""

    def __init__(self, seed: int, clock: Callable[[], datetime], structure: str = "2025", window: int = 5000) -> None:
        self.rng = random.Random(f"{seed}:live")
        self.clock = clock
        self.calendar = load_calendar()
        now = self._now()
        self.structure = build_structure(seed, structure)
        self.catalogue = build_catalogue(seed, self.structure, self.calendar, now.date().replace(month=1, day=1), now)
        self.receivers = [u for u in self.structure.units if u.level is UnitLevel.COMMUNE or u.field_group]
        self.cum = list(itertools.accumulate(u.weight for u in self.receivers))
        self.open: deque[dict[str, Any]] = deque(maxlen=window)
        self.seq = itertools.count(1)

    def _now(self) -> datetime:
        now = self.clock()
        return now.astimezone(VN_TZ).replace(tzinfo=None) if now.tzinfo else now

    def batch(self, n: int) -> dict[str, list[dict[str, Any]]]:
        """About ``n`` events: ~60 % new dossiers, ~35 % progress of earlier ones, ~5 % PAKN."""
        now = self._now()
        maker = DossierMaker(self.calendar, now + timedelta(days=45), pakn_rate=0.0)
        out: dict[str, list[dict[str, Any]]] = {"dossiers": [], "petitions": []}
        for _ in range(n):
            r = self.rng.random()
            if r < 0.35 and self.open:
                out["dossiers"].append(self._advance(self.open.popleft(), now))
                continue
            unit = self.receivers[bisect.bisect_left(self.cum, self.rng.random() * self.cum[-1])]
            proc = self.catalogue.pick(unit.field_group or COMMUNE_GROUP, self.rng)
            if r > 0.95:
                rt = maker.rates(unit)
                live_maker = DossierMaker(self.calendar, now, pakn_rate=0.0)
                pakn = live_maker.petition(self.rng, unit, None, now - timedelta(days=25), rt)
                if pakn is not None:
                    pakn["MaPAKN"] = f"PAKN-LIVE-{next(self.seq)}"
                    out["petitions"].append(pakn)
                continue
            record = self._new_dossier(unit, proc, now)
            out["dossiers"].append(record)
            self.open.append(record)
        return {k: v for k, v in out.items() if v}

    def _new_dossier(self, unit: Any, proc: Any, now: datetime) -> dict[str, Any]:
        maker = DossierMaker(self.calendar, now, pakn_rate=0.0)
        due = maker.due(now, proc)
        dossier_id = f"{unit.electronic_id}-{now:%y%m%d}-LIVE{next(self.seq):06d}"
        channel = "2" if self.rng.random() < maker.rates(unit).online else "1"
        return {
            "MaHoSo": dossier_id,
            "MaCoQuanThucHien": unit.code,
            "MaTTHC": proc.code,
            "KenhThucHien": channel,
            "NgayNopHoSo": fmt(now),
            "NgayTiepNhan": fmt(now),
            "NgayHenTra": fmt(due),
            "TrangThaiHoSo": "2",
            "NgayKetThucXuLy": "",
            "NgayTra": "",
            "HoSoCoThanhPhanSoHoa": "1" if self.rng.random() < 0.4 else "0",
            "TaiKhoanDuocXacThucVoiVNeID": "1" if channel == "2" and self.rng.random() < 0.6 else "0",
            "QuaTrinhXuLy": [
                {"MaHoSo": dossier_id, "TrangThai": "2", "ThoiDiemXuLy": fmt(now), "NoiDungXuLy": "Tiếp nhận"}
            ],
        }

    def _advance(self, record: dict[str, Any], now: datetime) -> dict[str, Any]:
        """The next version of an earlier dossier: processed (9) and usually handed over (10), at ``now``."""
        updated = dict(record)
        status = "10" if self.rng.random() < 0.7 else "9"
        updated["TrangThaiHoSo"] = status
        updated["NgayKetThucXuLy"] = fmt(now)
        if status == "10":
            updated["NgayTra"] = fmt(now)
        updated["QuaTrinhXuLy"] = [
            *record["QuaTrinhXuLy"],
            {
                "MaHoSo": record["MaHoSo"],
                "TrangThai": status,
                "ThoiDiemXuLy": fmt(now),
                "NoiDungXuLy": "Kết thúc xử lý",
            },
        ]
        return updated


def post_batch(client: httpx.Client, url: str, token: str, kind: str, records: list[dict[str, Any]]) -> dict[str, Any]:
    """POST one batch; returns the receipt JSON. Raises :class:`StreamError` for a non-2xx or unreachable API."""
    try:
        response = client.post(
            f"{url.rstrip('/')}/api/v1/ingest/{kind}", json=records, headers={"Authorization": f"Bearer {token}"}
        )
    except httpx.HTTPError as exc:
        raise StreamError(
            code="stream_unreachable",
            message_vi=f"Không gửi được tới {url}: {exc.__class__.__name__}",
            message_en=f"Cannot post to {url}: {exc.__class__.__name__}",
        ) from exc
    if response.status_code >= 300 and response.status_code != 422:
        raise StreamError(
            code="stream_refused",
            message_vi=f"API tiếp nhận trả lời {response.status_code} cho {kind}: {response.text[:200]}",
            message_en=f"The ingest API answered {response.status_code} for {kind}: {response.text[:200]}",
        )
    body: dict[str, Any] = response.json()
    return body


def run_stream(
    source: EventSource,
    url: str,
    token: str,
    rate: float,
    *,
    duration: float | None = None,
    tick: float = 1.0,
    on_batch: Callable[[StreamStats], None] | None = None,
    client: httpx.Client | None = None,
) -> StreamStats:
    """Post events at ``rate`` per second until ``duration`` seconds have passed (forever if None)."""
    stats = StreamStats()
    own = client is None
    http = client or httpx.Client(timeout=30.0)
    started = time.monotonic()
    carry = 0.0
    try:
        while duration is None or time.monotonic() - started < duration:
            carry += rate * tick
            n = int(carry)
            carry -= n
            for kind, records in source.batch(n).items():
                receipt = post_batch(http, url, token, kind, records)
                stats.sent[kind] = stats.sent.get(kind, 0) + len(records)
                stats.accepted += int(receipt.get("accepted", 0))
                stats.updated += int(receipt.get("updated", 0))
                stats.rejected += int(receipt.get("rejected", 0))
            stats.batches += 1
            if on_batch is not None:
                on_batch(stats)
            time.sleep(max(0.0, tick - (time.monotonic() - started) % tick))
    finally:
        if own:
            http.close()
    return stats
