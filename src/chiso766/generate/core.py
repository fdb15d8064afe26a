"""``generate``: write a synthetic records folder (units, procedures, publications, dossiers, progress, petitions).

Output: one JSON Lines file per kind (``units.jsonl`` …, spec INPUT_FORMAT names), written in one streaming pass:
dossiers are made day by day (working days from 1 January of "now"'s year up to "now"), so memory does not grow
with ``dossiers``. Deterministic: every random draw comes from ``random.Random`` seeded by ``(seed, purpose)``
(the day, the unit, …), and JSON is written with a fixed key order, so the same arguments give identical bytes.
"""

from __future__ import annotations

import bisect
import itertools
import json
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from chiso766.domain.calendar import load_calendar
from chiso766.domain.periods import VN_TZ
from chiso766.domain.units import UnitLevel
from chiso766.errors import InputError
from chiso766.generate.catalogue import COMMUNE_GROUP, build_catalogue
from chiso766.generate.flows import DossierMaker
from chiso766.generate.structure import build_structure

__all__ = ["FIXED_DEMO_NOW", "KINDS", "GenerateConfig", "GenerateReport", "demo_now", "generate"]

log = logging.getLogger(__name__)

KINDS = ("units", "procedures", "publications", "dossiers", "progress", "petitions")
Progress = Callable[[int], None]


@dataclass(frozen=True)
class GenerateConfig:
    """What to generate. ``now`` is an aware instant inside the working-day calendar (naive = Vietnam time)."""

    out: Path
    now: datetime
    dossiers: int = 100_000
    seed: int = 766
    scale: str = "nation"  # nation | province
    structure: str = "2025"  # 2025 | 2024
    province: str | None = None  # with scale=province; default H44 (2025) / T24 (2024)
    procedures: int = 2000
    amended: int = 80
    pakn_rate: float | None = None  # PAKN per dossier; default: about 6,000 PAKN in all, 0.1–2 %


@dataclass
class GenerateReport:
    """Counts of what was written, per kind, and the files."""

    out: Path
    now: datetime
    counts: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"out": str(self.out), "now": self.now.isoformat(), "counts": dict(self.counts)}


def _dump(f: IO[str], record: dict[str, Any]) -> None:
    f.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")))
    f.write("\n")


def _local(now: datetime) -> datetime:
    return (now.astimezone(VN_TZ) if now.tzinfo else now.replace(tzinfo=VN_TZ)).replace(tzinfo=None)


def generate(config: GenerateConfig, progress: Progress | None = None) -> GenerateReport:
    """Write the records folder ``config.out``; ``progress`` is called with the number of dossiers made.

    Raises :class:`InputError` for bad arguments (scale, structure, province, a "now" outside the calendar).
    """
    if config.scale not in ("nation", "province"):
        raise InputError.single(
            "invalid_scale",
            f"Quy mô '{config.scale}' không hợp lệ (nation | province)",
            f"Unknown scale '{config.scale}' (nation | province)",
            field="scale",
        )
    if config.dossiers < 0:
        raise InputError.single("invalid_count", "Số hồ sơ phải ≥ 0", "Dossier count must be >= 0", field="dossiers")
    calendar = load_calendar()
    now = _local(config.now)
    if not (calendar.first_day < now.date() <= calendar.last_day):
        raise InputError.single(
            "now_outside_calendar",
            f"Thời điểm {now:%d/%m/%Y} nằm ngoài lịch làm việc ({calendar.first_day:%d/%m/%Y}–"
            f"{calendar.last_day:%d/%m/%Y})",
            f"Instant {now.date().isoformat()} is outside the working-day calendar",
            field="now",
        )
    province = config.province
    if config.scale == "province" and province is None:
        province = "H44" if config.structure == "2025" else "T24"
    if config.scale == "nation":
        province = None
    structure = build_structure(config.seed, config.structure, province)
    year_start = date(now.year, 1, 1)
    catalogue = build_catalogue(
        config.seed, structure, calendar, year_start, now, n_procedures=config.procedures, n_amended=config.amended
    )
    config.out.mkdir(parents=True, exist_ok=True)
    report = GenerateReport(config.out, now.replace(tzinfo=VN_TZ), {k: 0 for k in KINDS})
    files = {k: (config.out / f"{k}.jsonl").open("w", encoding="utf-8", newline="\n") for k in KINDS}
    try:
        for u in structure.units:
            _dump(files["units"], u.record())
            report.counts["units"] += 1
        for rec in catalogue.records(structure):
            _dump(files["procedures"], rec)
            report.counts["procedures"] += 1
        for pub in catalogue.publications:
            _dump(files["publications"], pub)
            report.counts["publications"] += 1

        receivers = [u for u in structure.units if u.level is UnitLevel.COMMUNE or u.field_group is not None]
        cum = list(itertools.accumulate(u.weight for u in receivers))
        rate = config.pakn_rate
        if rate is None:
            rate = max(0.001, min(0.02, 6000 / max(config.dossiers, 1)))
        maker = DossierMaker(calendar, now, pakn_rate=rate)
        days = _day_counts(config.seed, calendar, year_start, now, config.dossiers)
        for day, count in days:
            rng = random.Random(f"{config.seed}:day:{day.isoformat()}")
            seqs: dict[str, int] = {}
            for _ in range(count):
                unit = receivers[bisect.bisect_left(cum, rng.random() * cum[-1])]
                group = unit.field_group or COMMUNE_GROUP
                proc = catalogue.pick(group, rng)
                seq = seqs[unit.code] = seqs.get(unit.code, 0) + 1
                dossier, steps, petition = maker.dossier(rng, unit, proc, day, seq)
                _dump(files["dossiers"], dossier)
                for step in steps:
                    _dump(files["progress"], step)
                report.counts["progress"] += len(steps)
                if petition is not None:
                    _dump(files["petitions"], petition)
                    report.counts["petitions"] += 1
            report.counts["dossiers"] += count
            if progress is not None and count:
                progress(count)
    finally:
        for f in files.values():
            f.close()
    log.info("generated %s into %s", report.counts, config.out)
    return report


def _day_counts(seed: int, calendar: Any, start: date, now: datetime, total: int) -> list[tuple[date, int]]:
    """Dossiers per working day from ``start`` to ``now`` (today pro rata), summing exactly to ``total``."""
    rng = random.Random(f"{seed}:volume")
    days: list[tuple[date, float]] = []
    d = start
    while d <= now.date():
        if calendar.is_working_day(d):
            weight = rng.uniform(0.85, 1.15) * (1.1 if d.weekday() == 0 else 1.0)
            if d == now.date():
                weight *= max(0.0, min(1.0, (now.hour + now.minute / 60 - 7.5) / 9.0))
            days.append((d, weight))
        d += timedelta(days=1)
    mass = sum(w for _, w in days) or 1.0
    out: list[tuple[date, int]] = []
    acc = 0.0
    given = 0
    for d, w in days:
        acc += total * w / mass
        n = round(acc) - given
        given += n
        out.append((d, n))
    return out


FIXED_DEMO_NOW = datetime(2026, 10, 15, 10, 0, tzinfo=VN_TZ)


def demo_now(real: datetime | None = None) -> tuple[datetime, bool]:
    """The demo's "now": the real clock (Asia/Ho_Chi_Minh) when it lies inside the working-day calendar
    (2024–2026), else :data:`FIXED_DEMO_NOW`. Returns ``(now, is_real)``."""
    calendar = load_calendar()
    now = (real or datetime.now(VN_TZ)).astimezone(VN_TZ)
    if calendar.first_day < now.date() <= calendar.last_day and now.date() > date(now.year, 1, 15):
        return now, True
    return FIXED_DEMO_NOW, False
