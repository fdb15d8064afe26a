"""Dossier and PAKN life cycles (DATA_FORMATS §1.3–1.8, §1.12), cut at "now".

A dossier is received on a working day (online ones may have been submitted earlier), gets its due date
(NgayHenTra) from the TTHC's processing time, and then follows one of the real flows: refused at reception (3),
withdrawn (7), stopped (8), or processed (2 → 4 [→ 6 fees] [→ 5 supplement → 4] → 9 → 10). Whether it ends on
time is drawn from its unit's quality; an on-time dossier ends before its due date even without the supplement
pause, a late one after it. Everything after "now" is cut: the record is the latest synced state (status,
NgayKetThucXuLy, NgayTra, supplements, results) and the progress entries known at "now".

A PAKN is sent about a dossier (or forwarded by VPCP), and follows: CHO_TIEP_NHAN → DANG_XU_LY → CHO_CONG_KHAI →
DA_CONG_KHAI, or TU_CHOI, optionally with YEU_CAU_BO_SUNG / DA_BO_SUNG; on time (working-day limits 2 / 5 / 15
/ 2) or late by the unit's quality; likes and dislikes.

All randomness comes from the ``random.Random`` passed in, so the output is a function of the seed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from chiso766.domain.calendar import WorkingCalendar
from chiso766.errors import InputError
from chiso766.generate.catalogue import Procedure
from chiso766.generate.structure import Profile

__all__ = ["DossierMaker", "fmt"]

_FMT = "%Y%m%d%H%M%S"


def fmt(t: datetime | None) -> str:
    """``yyyyMMddHHmmss`` (local time), ``""`` for None."""
    return "" if t is None else t.strftime(_FMT)


def _clip(x: float, lo: float = 0.0, hi: float = 1.0) -> float:
    return max(lo, min(hi, x))


@dataclass(frozen=True, slots=True)
class Rates:
    """A unit's behaviour probabilities, derived from its quality (calibrated to the 2026 national means)."""

    online: float
    late: float
    paid_online: float
    component_file: float
    result_link: float
    reuse: float
    vneid: float
    pakn_on_time: float
    pakn_disliked: float

    @classmethod
    def of(cls, q: float) -> Rates:
        return cls(
            online=_clip(0.80 + 0.22 * q, 0.30, 0.99),
            late=_clip(0.135 - 0.085 * q, 0.015, 0.40),
            paid_online=_clip(0.70 + 0.18 * q, 0.2, 0.99),
            component_file=_clip(0.62 + 0.25 * q, 0.1, 0.99),
            result_link=_clip(0.70 + 0.22 * q, 0.1, 0.99),
            reuse=_clip(0.30 + 0.20 * q, 0.02, 0.95),
            vneid=_clip(0.50 + 0.20 * q, 0.05, 0.95),
            pakn_on_time=_clip(0.24 + 0.30 * q, 0.05, 0.97),
            pakn_disliked=_clip(0.26 - 0.12 * q, 0.02, 0.6),
        )


class DossierMaker:
    """Builds dossier, progress and PAKN records for one generation run."""

    def __init__(self, calendar: WorkingCalendar, now: datetime, pakn_rate: float = 0.004) -> None:
        self.calendar = calendar
        self.now = now  # naive local time
        self.pakn_rate = pakn_rate
        self._rates: dict[str, Rates] = {}

    # ------------------------------------------------------------------------------------------- time
    def add_working_days(self, t: datetime, n: int) -> datetime:
        """``t`` moved to the ``n``-th working day after its date (same time of day); calendar days past the end."""
        try:
            d = self.calendar.add_working_days(t.date(), n)
        except InputError:
            d = t.date() + timedelta(days=round(n * 1.4))
        return datetime.combine(d, t.time())

    def due(self, t0: datetime, p: Procedure) -> datetime:
        """NgayHenTra from the TTHC's processing time (TD/OCPS practice, DATA_FORMATS §2.4)."""
        unit, amount = p.time_unit, p.time_amount
        if unit == "Ngày làm việc":
            return self.add_working_days(t0, max(1, round(amount))).replace(hour=17, minute=0, second=0)
        if unit == "Giờ làm việc":
            days, hours = divmod(amount, 8.0)
            t = self.add_working_days(t0, int(days)) if days else t0
            t += timedelta(hours=hours)
            if t.hour >= 17 or (t.hour == 16 and t.minute > 30):
                t = self.add_working_days(t, 1).replace(hour=8) + timedelta(minutes=t.minute)
            return t
        days = amount * (30 if unit == "Tháng" else 1)
        t = (t0 + timedelta(days=days)).replace(hour=17, minute=0, second=0)
        return self.add_working_days(t, 0)

    # ---------------------------------------------------------------------------------------- dossiers
    def rates(self, unit: Profile) -> Rates:
        r = self._rates.get(unit.code)
        if r is None:
            r = self._rates[unit.code] = Rates.of(unit.quality)
        return r

    def dossier(
        self, rng: random.Random, unit: Profile, p: Procedure, day: date, seq: int
    ) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any] | None]:
        """One dossier received on ``day`` at ``unit``: (dossier record, progress entries, PAKN or None)."""
        rt = self.rates(unit)
        now = self.now
        t0 = datetime.combine(day, time(7, 30)) + timedelta(seconds=rng.randrange(0, 9 * 3600))
        if t0 >= now:
            t0 = now - timedelta(seconds=rng.randrange(60, 3600))
        dossier_id = f"{unit.electronic_id}-{day:%y%m%d}-{seq:04d}"
        r = rng.random()
        channel = "2" if r < rt.online else ("3" if r < rt.online + 0.015 else "1")
        submitted = t0 - timedelta(hours=rng.uniform(0.2, 40)) if channel == "2" else t0
        due = self.due(t0, p)
        events: list[tuple[datetime, str, str]] = [(t0, "2", "Tiếp nhận hồ sơ")]
        supplements: list[tuple[datetime, datetime | None]] = []
        end: datetime | None = None
        end_status = ""
        returned: datetime | None = None
        refused: datetime | None = None
        late = rng.random() < rt.late
        kind = rng.random()
        span = max((due - t0).total_seconds(), 3600.0)
        if kind < 0.015:  # refused at reception
            refused = t0 + timedelta(hours=rng.uniform(0.5, 6))
            end, end_status = refused, "3"
            events.append((refused, "3", "Không được tiếp nhận"))
        else:
            start = t0 + timedelta(seconds=rng.uniform(0.01, 0.08) * span)
            events.append((start, "4", "Đang xử lý"))
            if late:
                end = due + timedelta(hours=rng.uniform(2, 15 * 24))
            else:
                end = t0 + timedelta(seconds=rng.uniform(0.15, 0.97) * span)
            if p.fee and rng.random() < 0.3:
                tf = start + (end - start) * rng.uniform(0.05, 0.3)
                events.append((tf, "6", "Yêu cầu thực hiện nghĩa vụ tài chính"))
                events.append((tf + (end - tf) * 0.2, "4", "Đã thực hiện nghĩa vụ tài chính"))
            n_sup = 0 if rng.random() > 0.09 else (2 if late and rng.random() < 0.2 else 1)
            cursor = start
            for _ in range(n_sup):
                ts = cursor + (end - cursor) * rng.uniform(0.1, 0.4)
                tr = ts + (end - ts) * rng.uniform(0.2, 0.7)
                supplements.append((ts, tr))
                events.append((ts, "5", "Yêu cầu bổ sung hồ sơ"))
                events.append((tr, "4", "Cán bộ tiếp nhận hồ sơ bổ sung"))
                cursor = tr
            if kind < 0.025:
                end_status = "7"
                events.append((end, "7", "Công dân yêu cầu rút hồ sơ"))
            elif kind < 0.03:
                end_status = "8"
                events.append((end, "8", "Dừng xử lý"))
            else:
                end_status = "9"
                events.append((end, "9", "Kết thúc xử lý hồ sơ"))
                if rng.random() < 0.85:
                    returned = end + timedelta(hours=rng.uniform(0.5, 72))
                    events.append((returned, "10", "Trả kết quả"))
        known = sorted((e for e in events if e[0] <= now), key=lambda e: e[0])
        status = known[-1][1]
        finished = end is not None and end <= now
        paper = p.paper_result
        fee_list: list[dict[str, str]] = []
        paid = "0"
        if p.fee:
            waived = rng.random() < 0.08
            fee_list = [{"TenPhiLePhi": "Lệ phí", "Gia": "0" if waived else p.fee.replace(".", "")}]
            if not waived and rng.random() < rt.paid_online * (1.0 if channel == "2" else 0.55):
                paid = "1" if rng.random() < 0.8 else "2"
        has_component = rng.random() < rt.component_file
        from_store = rng.random() < 0.012
        record: dict[str, Any] = {
            "MaHoSo": dossier_id,
            "MaCoQuanThucHien": unit.code,
            "MaTTHC": p.code,
            "TenTTHC": p.name,
            "KenhThucHien": channel,
            "NgayNopHoSo": fmt(submitted),
            "NgayTiepNhan": fmt(t0),
            "NgayHenTra": fmt(due),
            "TrangThaiHoSo": status,
            "NgayKetThucXuLy": fmt(end) if finished and end_status in ("3", "7", "8", "9") else "",
            "NgayTra": fmt(returned) if returned is not None and returned <= now else "",
            "NgayTuChoi": fmt(refused) if refused is not None and refused <= now else "",
            "LoaiDoiTuong": "1" if p.citizen else "2",
            "DuocThanhToanTrucTuyen": paid,
            "DanhSachLePhi": fee_list,
            "HoSoCoThanhPhanSoHoa": "1" if rng.random() < rt.reuse else "0",
            "TaiKhoanDuocXacThucVoiVNeID": "1" if channel == "2" and rng.random() < rt.vneid else "0",
            "DSKetNoiCSDL": [{"MaCSDL": "1"}] if rng.random() < 0.3 else [],
            "TaiLieuNop": [
                {
                    "TepDinhKemId": f"{dossier_id}-TK",
                    "TenTepDinhKem": "Tờ khai",
                    "IsDeleted": "0",
                    "DuongDanTaiTepTin": f"https://files.example.vn/{dossier_id}/tk.pdf" if has_component else "",
                    "DuocSoHoa": "1" if has_component and rng.random() < 0.4 else "0",
                    "DuocLayTuKhoDMQG": "1" if from_store else "0",
                }
            ],
            "DanhSachHoSoBoSung": [
                {
                    "NgayBoSung": fmt(ts),
                    "NgayTiepNhanBoSung": fmt(tr) if tr is not None and tr <= now else "",
                }
                for ts, tr in supplements
                if ts <= now
            ],
            "DanhGiaKhongHaiLong": "1" if rng.random() < 0.003 else "0",
        }
        if finished and end_status == "9":
            link = paper and rng.random() < rt.result_link
            record["DanhSachGiayToKetQua"] = [
                {
                    "TenGiayTo": "Kết quả giải quyết",
                    "MaGiayToKetQua": "KQ",
                    "DuongDanTepTinKetQua": f"https://files.example.vn/{dossier_id}/kq.pdf" if link else "",
                    "DongBoKhoDMQG": "1" if link and rng.random() < 0.01 else "0",
                }
            ]
        progress = [
            {"MaHoSo": dossier_id, "TrangThai": s, "ThoiDiemXuLy": fmt(t), "NoiDungXuLy": text} for t, s, text in known
        ]
        petition = None
        if rng.random() < self.pakn_rate:
            petition = self.petition(rng, unit, dossier_id, t0, rt)
        return record, progress, petition

    # -------------------------------------------------------------------------------------------- PAKN
    def petition(
        self, rng: random.Random, unit: Profile, dossier_id: str | None, after: datetime, rt: Rates
    ) -> dict[str, Any] | None:
        """A PAKN about a dossier of ``unit`` sent after ``after``; None if it would be sent after now."""
        sent = after + timedelta(hours=rng.uniform(2, 20 * 24))
        sent = sent.replace(hour=min(max(sent.hour, 7), 20))
        if sent > self.now:
            return None
        pakn_id = f"PAKN-{unit.code}-{dossier_id or ''}-{rng.randrange(10**6):06d}"
        on_time = rng.random() < rt.pakn_on_time
        steps: list[dict[str, str]] = [{"TrangThai": "CHO_TIEP_NHAN", "ThoiDiem": fmt(sent)}]
        holder = unit.code
        clock = sent
        if rng.random() < 0.12:  # sent to VPCP and forwarded to the unit
            holder = "VPCP"
            clock = self.add_working_days(sent, rng.randint(1, 3))
            steps.append(
                {"TrangThai": "CHUYEN_XU_LY", "ThoiDiem": fmt(clock), "MaDonViGui": "VPCP", "MaDonViNhan": unit.code}
            )
        r = rng.random()
        if r < 0.08:
            steps.append(
                {
                    "TrangThai": "TU_CHOI",
                    "ThoiDiem": fmt(self.add_working_days(clock, rng.randint(0, 2) if on_time else rng.randint(3, 8))),
                }
            )
        else:
            t = self.add_working_days(clock, rng.randint(0, 1))
            steps.append({"TrangThai": "DANG_XU_LY", "ThoiDiem": fmt(t + timedelta(hours=1))})
            if r < 0.14:
                ask = self.add_working_days(clock, rng.randint(1, 5) if on_time else rng.randint(6, 10))
                back = ask + timedelta(days=rng.uniform(1, 6))
                steps.append({"TrangThai": "YEU_CAU_BO_SUNG", "ThoiDiem": fmt(ask)})
                steps.append({"TrangThai": "DA_BO_SUNG", "ThoiDiem": fmt(back)})
                clock = back
            wait = self.add_working_days(clock, rng.randint(3, 14) if on_time else rng.randint(17, 45))
            steps.append({"TrangThai": "CHO_CONG_KHAI", "ThoiDiem": fmt(wait)})
            pub = self.add_working_days(wait, rng.randint(1, 2) if on_time else rng.randint(3, 6))
            steps.append({"TrangThai": "DA_CONG_KHAI", "ThoiDiem": fmt(pub + timedelta(hours=1))})
        steps = [s for s in steps if s["ThoiDiem"] <= fmt(self.now)]
        disliked = rng.random() < rt.pakn_disliked
        likes = rng.randint(0, 2)
        record: dict[str, Any] = {
            "MaPAKN": pakn_id,
            "MaDonVi": holder,
            "NgayGui": fmt(sent),
            "MaHoSo": dossier_id or "",
            "LuotThich": str(likes),
            "LuotKhongThich": str(likes + rng.randint(1, 4) if disliked else rng.randint(0, likes)),
            "PhanAnhLaiKhongHaiLong": "0",
            "TienTrinh": steps,
        }
        return record
