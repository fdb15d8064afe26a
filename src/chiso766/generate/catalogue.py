"""The generated TTHC catalogue (procedures.json, LayThuTuc shape) and publication decisions (QĐCB).

Catalogue: ``n_procedures`` national TTHC (default 2,000; the portal lists 5,741): about a fifth at commune
level (CAPTHUCHIEN "3", hộ tịch, chứng thực, đất đai, …), the rest at province level, each owned by one
department group (Sở Tư pháp, Sở Xây dựng, …) and implemented (COQUANTHUCHIEN) by that department in every
province. Each has processing times per channel in working days, days, hours or months, fees (about half),
the paper-result requirement, applicants, legal bases, and per province a DVC (DANHSACHDVC: toàn trình or một
phần, at the implementing department, or at the province for commune-level TTHC) with a probability that grows
with the province's quality.

Amendments: ``n_amended`` TTHC get a new legal basis effective on a day E of the year and a publication click
(NGAYCONGKHAI) on E. Every province issues QĐCB listing them, dated relative to E by its quality: exactly 5
working days before (1.1 and 1.2 on time), 0–4 before (1.2 only), 6–30 before (1.1 only) or after E (both
late, still to be made public). Only decisions dated up to "now" are written.
"""

from __future__ import annotations

import bisect
import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from chiso766.domain.calendar import WorkingCalendar
from chiso766.errors import InputError
from chiso766.generate.structure import DEPARTMENTS, Structure

__all__ = ["Catalogue", "Procedure", "build_catalogue"]

COMMUNE_GROUP = "XA"

# Real, high-volume procedures first (they get the largest dossier shares), then generated names.
_COMMUNE_HEAD = (
    "Chứng thực bản sao từ bản chính giấy tờ, văn bản",
    "Chứng thực chữ ký trong các giấy tờ, văn bản",
    "Đăng ký khai sinh",
    "Cấp bản sao trích lục hộ tịch",
    "Xác nhận tình trạng hôn nhân",
    "Đăng ký kết hôn",
    "Đăng ký khai tử",
    "Đăng ký biến động quyền sử dụng đất, quyền sở hữu tài sản gắn liền với đất",
    "Chứng thực hợp đồng, giao dịch liên quan đến tài sản là động sản, quyền sử dụng đất",
    "Cấp giấy phép xây dựng nhà ở riêng lẻ",
    "Đăng ký thành lập hộ kinh doanh",
    "Giải quyết trợ cấp xã hội hằng tháng",
    "Đăng ký giám hộ",
    "Đăng ký nhận cha, mẹ, con",
    "Thay đổi, cải chính, bổ sung thông tin hộ tịch",
)
_PROVINCE_HEAD = {
    "TP": ("Cấp Phiếu lý lịch tư pháp cho công dân Việt Nam", "Đăng ký hoạt động văn phòng công chứng"),
    "XD": ("Cấp giấy phép xây dựng mới đối với công trình cấp đặc biệt, cấp I, cấp II", "Cấp chứng chỉ hành nghề"),
    "NN": ("Đăng ký đất đai, tài sản gắn liền với đất lần đầu", "Cấp giấy phép khai thác nước dưới đất"),
    "TC": ("Đăng ký thành lập doanh nghiệp tư nhân", "Đăng ký thay đổi nội dung đăng ký doanh nghiệp"),
    "YT": ("Cấp chứng chỉ hành nghề khám bệnh, chữa bệnh", "Cấp giấy phép hoạt động nhà thuốc"),
    "GD": ("Cấp bản sao văn bằng, chứng chỉ từ sổ gốc", "Cho phép trường trung học phổ thông hoạt động"),
    "CT": ("Cấp giấy phép bán lẻ sản phẩm rượu", "Cấp giấy chứng nhận đủ điều kiện an toàn thực phẩm"),
}
_VERBS = ("Cấp", "Cấp lại", "Điều chỉnh", "Gia hạn", "Thẩm định", "Phê duyệt", "Đăng ký", "Xác nhận", "Thu hồi")
_OBJECTS = {
    "VP": ("văn bản chấp thuận chủ trương", "ý kiến về quy hoạch"),
    "NV": ("quyết định công nhận hội", "quyết định thi đua khen thưởng", "hồ sơ tuyển dụng viên chức"),
    "TP": ("giấy đăng ký hành nghề luật sư", "chứng chỉ hành nghề đấu giá", "thẻ công chứng viên"),
    "TC": ("giấy chứng nhận đăng ký hộ kinh doanh", "đăng ký hợp tác xã", "quyết định chủ trương đầu tư"),
    "CT": ("giấy phép kinh doanh xăng dầu", "giấy phép sử dụng vật liệu nổ", "giấy chứng nhận khuyến mại"),
    "NN": ("giấy phép môi trường", "giấy chứng nhận quyền sử dụng đất", "giấy phép khai thác khoáng sản"),
    "XD": ("giấy phép xây dựng", "chứng chỉ năng lực hoạt động xây dựng", "thẩm định thiết kế xây dựng"),
    "GD": ("giấy phép hoạt động giáo dục", "công nhận trường đạt chuẩn quốc gia", "văn bằng tốt nghiệp"),
    "YT": ("giấy phép hoạt động cơ sở khám bệnh", "giấy chứng nhận đủ điều kiện kinh doanh dược", "thẻ y tế"),
    "KH": ("giấy chứng nhận hoạt động khoa học", "giấy phép sử dụng thiết bị bức xạ", "đăng ký mã số mã vạch"),
    "VH": ("giấy phép tổ chức biểu diễn", "giấy phép kinh doanh lữ hành", "công nhận hạng cơ sở lưu trú"),
    "DT": ("đăng ký sinh hoạt tôn giáo tập trung", "chấp thuận tổ chức lễ hội tín ngưỡng"),
    "KC": ("giấy phép lao động cho người nước ngoài", "giấy chứng nhận đăng ký đầu tư trong khu công nghiệp"),
    "TT": ("giải quyết khiếu nại lần đầu", "tiếp công dân"),
    "CA": ("giấy phép sử dụng vũ khí thể thao", "giấy xác nhận đủ điều kiện về an ninh trật tự"),
    COMMUNE_GROUP: ("xác nhận hộ nghèo", "hỗ trợ sản xuất nông nghiệp", "giấy phép đào đường", "đăng ký tạm trú"),
}
_FEES = ("10.000", "20.000", "30.000", "50.000", "100.000", "200.000", "500.000", "1.000.000")


@dataclass(slots=True)
class Procedure:
    """One generated TTHC and the facts the dossier generator needs."""

    code: str
    name: str
    group: str  # department group code, or "XA" for commune level
    time_amount: float
    time_unit: str  # DONVITINH text
    fee: str | None  # amount text, None = no fee
    paper_result: bool
    citizen: bool
    abolished: bool
    full_online_eligible: bool
    amended_on: date | None = None  # new legal basis effective date = publication click (E)
    services: dict[str, tuple[str, str]] = field(default_factory=dict)  # province → (unit code, level "full"/...)


@dataclass
class Catalogue:
    """The procedures, per-group Zipf choice tables, and the publication decisions."""

    procedures: list[Procedure]
    by_group: dict[str, tuple[list[Procedure], list[float]]]  # group → (procedures, cumulative weights)
    publications: list[dict[str, Any]]

    def pick(self, group: str, rng: random.Random) -> Procedure:
        """A procedure of ``group`` drawn with Zipf-like weights (a few TTHC carry most dossiers)."""
        procs, cum = self.by_group[group]
        return procs[bisect.bisect_left(cum, rng.random() * cum[-1])]

    def records(self, structure: Structure) -> Iterator[dict[str, Any]]:
        """procedures.json records (spec INPUT_FORMAT + docs/input-extensions.md)."""
        depts: dict[str, list[str]] = {}
        for u in structure.units:
            if u.field_group is not None:
                depts.setdefault(u.field_group, []).append(u.code)
        for p in self.procedures:
            yield _record(p, depts.get(p.group, []))


def _record(p: Procedure, agencies: list[str]) -> dict[str, Any]:
    fees = [{"MAPHILEPHI": "LP", "SOTIEN": p.fee, "DONVI": "Đồng", "MOTA": "Lệ phí"}] if p.fee else []
    amount = f"{p.time_amount:g}".replace(".", ",")
    channels = [
        {"KENH": k, "THOIGIAN": [{"THOIGIANGIAIQUYET": amount, "DONVITINH": p.time_unit, "PHILEPHI": fees}]}
        for k in ("1", "2", "3")
    ]
    applicants = [{"MADOITUONG": "1", "TENDOITUONG": "Công dân Việt Nam"}] if p.citizen else []
    applicants.append({"MADOITUONG": "2", "TENDOITUONG": "Doanh nghiệp"})
    legal = [
        {"SOVANBAN": "80/2015/QH13", "TENVANBAN": "Luật Ban hành văn bản quy phạm pháp luật", "NGAYHIEULUC": "20160701"}
    ]
    status = "Bãi bỏ" if p.abolished else "Đang công khai"
    published = "20240115090000"
    if p.amended_on is not None:
        legal.append({"SOVANBAN": f"{p.code}/2026/TT", "NGAYHIEULUC": p.amended_on.strftime("%Y%m%d")})
        status = "Đang công khai sửa đổi bổ sung"
        published = p.amended_on.strftime("%Y%m%d") + "090000"
    level = "3" if p.group == COMMUNE_GROUP else "1"
    record: dict[str, Any] = {
        "MATTHC": p.code,
        "TENTTHC": p.name,
        "TRANGTHAI": status,
        "CAPTHUCHIEN": [{"CAPTHUCHIEN": level, "TENCAP": "Cấp Xã" if level == "3" else "Cấp Tỉnh"}],
        "LINHVUCTHUCHIEN": [{"MALINHVUC": p.group, "TENLINHVUC": p.group}],
        "CACHTHUCTHUCHIEN": channels,
        "DOITUONGTHUCHIEN": applicants,
        "TRINHTUTHUCHIEN": [{"TRINHTU": [{"TENTRINHTU": "Nộp hồ sơ"}, {"TENTRINHTU": "Giải quyết"}]}],
        "KETQUATHUCHIEN": [{"MAKETQUA": "KQ", "TENKETQUA": "Kết quả"}] if p.paper_result else [],
        "YEUCAUTRAKETQUAGIAY": "1" if p.paper_result else "0",
        "DUDIEUKIENTOANTRINH": "1" if p.full_online_eligible else "0",
        "CANCUPHAPLY": legal,
        "NGAYCONGKHAI": published,
        "COQUANTHUCHIEN": [{"MADONVI": a} for a in agencies]
        or [{"MADONVI": "UBND-XA", "TENDONVI": "Ủy ban nhân dân cấp xã"}],
    }
    if hash_incomplete(p.code):
        record.pop("TRINHTUTHUCHIEN")  # 1.3: a TTHC published without its steps
    else:
        record["THANHPHANHOSO"] = [{"GIAYTO": [{"MAGIAYTO": "TK", "TENGIAYTO": "Tờ khai"}]}]
    services = []
    for unit, level_code in p.services.values():
        services.append(
            {
                "MADVC": f"{p.code}.{unit}",
                "MADONVI": unit,
                "MUCDO": "Toàn trình" if level_code == "full" else "Một phần",
                "TRANGTHAI": "Đang công khai",
            }
        )
    record["DANHSACHDVC"] = services
    return record


def hash_incomplete(code: str) -> bool:
    """About 3 % of TTHC miss a mandatory component (1.3), fixed by the code."""
    return sum(map(ord, code)) % 33 == 0


def _zipf(n: int, s: float) -> list[float]:
    return list(itertools.accumulate(1.0 / (r**s) for r in range(1, n + 1)))


def build_catalogue(
    seed: int,
    structure: Structure,
    calendar: WorkingCalendar,
    year_start: date,
    now: datetime,
    n_procedures: int = 2000,
    n_amended: int = 80,
) -> Catalogue:
    """The national catalogue, DVCs of the provinces in ``structure``, and their QĐCB up to ``now``."""
    rng = random.Random(f"{seed}:catalogue")
    groups = [g for _, g, _ in DEPARTMENTS]
    shares = {g: s for _, g, s in DEPARTMENTS}
    n_commune = max(len(_COMMUNE_HEAD), n_procedures // 5)
    procedures: list[Procedure] = []
    codes: set[str] = set()

    def new_code() -> str:
        while True:
            code = f"{rng.choice('12')}.{rng.randrange(0, 12000):06d}"
            if code not in codes:
                codes.add(code)
                return code

    def make(name: str, group: str) -> Procedure:
        r = rng.random()
        if group == COMMUNE_GROUP and name.startswith("Chứng thực"):
            amount, unit = 8.0, "Giờ làm việc"
        elif r < 0.70:
            amount, unit = float(rng.choice((1, 2, 3, 5, 5, 7, 10, 10, 15, 15, 20, 30))), "Ngày làm việc"
        elif r < 0.86:
            amount, unit = float(rng.choice((3, 7, 10, 15, 30, 45))), "Ngày"
        elif r < 0.96:
            amount, unit = float(rng.choice((4, 8, 16, 24))), "Giờ làm việc"
        else:
            amount, unit = float(rng.choice((1, 1.5, 2))), "Tháng"
        return Procedure(
            code=new_code(),
            name=name,
            group=group,
            time_amount=amount,
            time_unit=unit,
            fee=rng.choice(_FEES) if rng.random() < 0.55 else None,
            paper_result=rng.random() < 0.9,
            citizen=rng.random() < 0.72 or group == COMMUNE_GROUP,
            abolished=rng.random() < 0.02,
            full_online_eligible=rng.random() < 0.6,
        )

    def names(group: str, head: tuple[str, ...], count: int) -> Iterator[str]:
        yield from head[:count]
        objects = _OBJECTS[group]
        for i in range(count - len(head[:count])):
            yield f"{_VERBS[i % len(_VERBS)]} {objects[(i // len(_VERBS)) % len(objects)]} (mẫu {i + 1:03d})"

    by_group: dict[str, tuple[list[Procedure], list[float]]] = {}
    commune = [make(n, COMMUNE_GROUP) for n in names(COMMUNE_GROUP, _COMMUNE_HEAD, n_commune)]
    procedures.extend(commune)
    by_group[COMMUNE_GROUP] = (commune, [])
    n_province = n_procedures - n_commune
    total_share = sum(shares.values())
    for g in groups:
        count = max(3, round(n_province * shares[g] / total_share))
        procs = [make(n, g) for n in names(g, _PROVINCE_HEAD.get(g, ()), count)]
        procedures.extend(procs)
        by_group[g] = (procs, [])
    for g, (procs, _) in list(by_group.items()):
        live = [p for p in procs if not p.abolished]
        by_group[g] = (live, _zipf(len(live), 1.15))

    # Amendments with a click date E inside [year_start, now).
    days = (now.date() - year_start).days
    candidates = [p for p in procedures if not p.abolished]
    amended = rng.sample(candidates, min(n_amended, len(candidates))) if days > 10 else []
    for p in amended:
        p.amended_on = calendar.add_working_days(year_start + timedelta(days=rng.randrange(0, days)), 0)

    # DVCs per province: at the implementing department, or at the province for commune-level TTHC.
    dept_of = {(u.province, u.field_group): u.code for u in structure.units if u.field_group is not None}
    for prov in structure.provinces():
        prng = random.Random(f"{seed}:dvc:{prov.code}")
        p_dvc = 0.70 + 0.25 * prov.quality
        for p in procedures:
            if p.abolished or prng.random() >= p_dvc:
                continue
            unit = prov.code if p.group == COMMUNE_GROUP else dept_of.get((prov.code, p.group), prov.code)
            full = p.full_online_eligible and prng.random() < 0.6
            p.services[prov.code] = (unit, "full" if full else "partial")

    publications = _publications(seed, structure, calendar, amended, now)
    return Catalogue(procedures, by_group, publications)


def _publications(
    seed: int, structure: Structure, calendar: WorkingCalendar, amended: list[Procedure], now: datetime
) -> list[dict[str, Any]]:
    """Each province's QĐCB for the amended TTHC, dated by its quality (see the module docstring)."""
    out: list[dict[str, Any]] = []
    for prov in structure.provinces():
        prng = random.Random(f"{seed}:qdcb:{prov.code}")
        q = prov.quality
        a = max(0.02, 0.14 + 0.10 * q)  # exactly 5 working days before E: 1.1 and 1.2 on time
        b = max(0.05, 0.36 + 0.22 * q)  # 0–4 before: 1.2 on time
        c = max(0.0, 0.05 + 0.04 * q)  # 6–30 before: 1.1 on time only
        dated: dict[date, list[Procedure]] = {}
        for p in amended:
            assert p.amended_on is not None
            e_idx = calendar.working_day_index(p.amended_on)
            r = prng.random()
            if r < a:
                offset = -5
            elif r < a + b:
                offset = -prng.randrange(0, 5)
            elif r < a + b + c:
                offset = -prng.randrange(6, 31)
            else:
                offset = prng.randrange(1, 25)
            idx = max(1, e_idx + offset)
            day = _day_of_index(calendar, idx)
            if day is None or day > now.date():
                continue
            dated.setdefault(day, []).append(p)
        for n, day in enumerate(sorted(dated), start=1):
            out.append(
                {
                    "SoQuyetDinh": f"{n}/QĐ-UBND-{prov.code}",
                    "MaDonVi": prov.code,
                    "NgayQuyetDinh": day.strftime("%Y%m%d"),
                    "DanhSachTTHC": [{"MaTTHC": p.code, "LoaiThayDoi": "sua_doi"} for p in dated[day]],
                }
            )
    return out


def _day_of_index(calendar: WorkingCalendar, idx: int) -> date | None:
    """The working day whose working-day index is ``idx`` (None outside the calendar)."""
    try:
        return calendar.add_working_days(calendar.first_day, idx - calendar.working_day_index(calendar.first_day))
    except InputError:  # beyond the calendar
        return None
