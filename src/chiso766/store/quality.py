"""Data-quality report over a store: what the engine will count nowhere or read oddly. Reported, never dropped.

Each finding has a stable ``code``, a bilingual title, the number of affected items and up to 20 example keys.
Only findings with a non-zero count are listed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from chiso766.domain.calendar import load_calendar
from chiso766.domain.units import UnitTree
from chiso766.errors import InputError
from chiso766.store.db import Store

__all__ = ["EXAMPLES", "Finding", "QualityReport", "check"]

EXAMPLES = 20
TERMINAL = ("3", "7", "8", "9", "10")

# D-gen-3: the dossier's unit is unit_code, else the unit whose electronic id is the MaHoSo prefix.
_RESOLVED_UNIT = """
    COALESCE(d.unit_code, (SELECT min(u.unit_code) FROM units u WHERE u.electronic_id = d.id_prefix))
"""


@dataclass(frozen=True)
class Finding:
    code: str
    title_vi: str
    title_en: str
    count: int
    examples: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "title_vi": self.title_vi,
            "title_en": self.title_en,
            "count": self.count,
            "examples": self.examples,
        }


@dataclass
class QualityReport:
    findings: list[Finding] = field(default_factory=list)
    totals: dict[str, int] = field(default_factory=dict)  # rows per main table

    @property
    def ok(self) -> bool:
        return not self.findings

    def get(self, code: str) -> Finding | None:
        return next((f for f in self.findings if f.code == code), None)

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "totals": self.totals, "findings": [f.as_dict() for f in self.findings]}


def _calendar_bounds() -> tuple[str, str]:
    """UTC instants of the working-day calendar's first and last local midnights (D-gen-5)."""
    calendar = load_calendar()
    first = datetime.combine(calendar.first_day, time(0)) - timedelta(hours=7)
    last = datetime.combine(calendar.last_day + timedelta(days=1), time(0)) - timedelta(hours=7)
    return first.isoformat(sep=" "), last.isoformat(sep=" ")


_CAL_FROM, _CAL_TO = _calendar_bounds()
_OUTSIDE = "({c} < TIMESTAMP '" + _CAL_FROM + "' OR {c} >= TIMESTAMP '" + _CAL_TO + "')"

# (code, vi, en, SQL selecting one key column per affected item, from the dossiers alias d where relevant)
_DOSSIER_CHECKS: tuple[tuple[str, str, str, str], ...] = (
    (
        "dossier_outside_calendar",
        "Hồ sơ có ngày tiếp nhận, hẹn trả hoặc kết thúc ngoài lịch ngày làm việc đã công bố"
        " — hạn tính theo ngày làm việc không xác định được",
        "Dossiers received, due or ended outside the published working-day calendar"
        " — working-day deadlines cannot be determined",
        "SELECT d.dossier_id FROM dossiers d WHERE "
        + " OR ".join(_OUTSIDE.format(c=f"d.{c}") for c in ("received_at", "due_at", "processing_end_at")),
    ),
    (
        "dossier_unknown_unit",
        "Hồ sơ không xác định được đơn vị (MaCoQuanThucHien/MaDonVi/tiền tố MaHoSo không có trong units)"
        " — không được tính ở đâu",
        "Dossiers of an unknown unit (MaCoQuanThucHien/MaDonVi/MaHoSo prefix not in units) — counted nowhere",
        f"SELECT d.dossier_id FROM dossiers d WHERE ({_RESOLVED_UNIT}) IS NULL "
        f"OR ({_RESOLVED_UNIT}) NOT IN (SELECT unit_code FROM units)",
    ),
    (
        "dossier_unknown_procedure",
        "Hồ sơ có MaTTHC trống hoặc không có trong danh mục TTHC",
        "Dossiers whose MaTTHC is empty or not in the procedure catalogue",
        "SELECT d.dossier_id FROM dossiers d WHERE d.procedure_code IS NULL "
        "OR d.procedure_code NOT IN (SELECT procedure_code FROM procedures)",
    ),
    (
        "end_before_received",
        "Hồ sơ có NgayKetThucXuLy trước NgayTiepNhan",
        "Dossiers whose processing ended (NgayKetThucXuLy) before reception (NgayTiepNhan)",
        "SELECT d.dossier_id FROM dossiers d WHERE d.processing_end_at < d.received_at",
    ),
    (
        "returned_before_received",
        "Hồ sơ có NgayTra trước NgayTiepNhan",
        "Dossiers whose result was handed over (NgayTra) before reception (NgayTiepNhan)",
        "SELECT d.dossier_id FROM dossiers d WHERE d.returned_at < d.received_at",
    ),
    (
        "rejected_before_received",
        "Hồ sơ có NgayTuChoi trước NgayTiepNhan",
        "Dossiers rejected (NgayTuChoi) before reception (NgayTiepNhan)",
        "SELECT d.dossier_id FROM dossiers d WHERE d.rejected_at < d.received_at",
    ),
    (
        "due_before_received",
        "Hồ sơ có NgayHenTra trước NgayTiepNhan",
        "Dossiers due (NgayHenTra) before reception (NgayTiepNhan)",
        "SELECT d.dossier_id FROM dossiers d WHERE d.due_at < d.received_at",
    ),
    (
        "received_before_submitted",
        "Hồ sơ có NgayTiepNhan trước NgayNopHoSo",
        "Dossiers received (NgayTiepNhan) before submission (NgayNopHoSo)",
        "SELECT d.dossier_id FROM dossiers d WHERE d.received_at < d.submitted_at",
    ),
    (
        "terminal_without_end",
        "Hồ sơ ở trạng thái kết thúc (3, 7, 8, 9, 10) nhưng không có thời điểm kết thúc nào"
        " — được coi là đang xử lý (D-2.1-1)",
        "Dossiers in a terminal status (3, 7, 8, 9, 10) without any dated terminal event"
        " — treated as still open (D-2.1-1)",
        "SELECT d.dossier_id FROM dossiers d WHERE d.status IN ('3', '7', '8', '9', '10') "
        "AND d.processing_end_at IS NULL AND d.returned_at IS NULL AND d.rejected_at IS NULL "
        "AND NOT EXISTS (SELECT 1 FROM dossier_events e WHERE e.dossier_id = d.dossier_id "
        "AND e.status IN ('3', '7', '8', '9', '10'))",
    ),
    (
        "petition_unknown_unit",
        "PAKN có MaDonVi không có trong units (ví dụ VPCP, tỉnh khác) — chỉ được tính khi chuyển vào cây đơn vị",
        "Petitions whose MaDonVi is not in units (e.g. VPCP, another province) — counted only once transferred in",
        "SELECT p.petition_id FROM petitions p WHERE p.unit_code NOT IN (SELECT unit_code FROM units)",
    ),
    (
        "progress_unknown_dossier",
        "Tiến trình xử lý (progress) của hồ sơ không có trong dossiers (tính theo mã hồ sơ)",
        "Progress entries for dossiers that are not stored (counted by dossier id)",
        "SELECT DISTINCT e.dossier_id FROM dossier_events e "
        "WHERE e.dossier_id NOT IN (SELECT dossier_id FROM dossiers)",
    ),
)


def _finding(store: Store, code: str, vi: str, en: str, sql: str) -> Finding | None:
    cur = store.cursor()
    count_row = cur.execute(f"SELECT count(*) FROM ({sql}) q").fetchone()
    count = int(count_row[0]) if count_row else 0
    if count == 0:
        return None
    examples = [str(r[0]) for r in cur.execute(f"SELECT * FROM ({sql}) q ORDER BY 1 LIMIT {EXAMPLES}").fetchall()]
    return Finding(code, vi, en, count, examples)


def _unit_tree_finding(store: Store) -> Finding | None:
    """Tree-wide unit problems (unknown parent, cycles, duplicate electronic ids) via ``UnitTree.from_records``."""
    rows = (
        store.cursor()
        .execute("SELECT unit_code, name, parent_code, level, electronic_id FROM units ORDER BY unit_code")
        .fetchall()
    )
    records = [
        {"MaDonVi": c, "TenDonVi": n, "MaDonViCha": p, "CapDonVi": lvl, "MaDinhDanh": e} for c, n, p, lvl, e in rows
    ]
    try:
        UnitTree.from_records(records, source="units")
    except InputError as exc:
        lines = [p.line() for p in exc.problems]
        return Finding(
            "unit_tree_invalid",
            "Cây đơn vị có lỗi (đơn vị cha không tồn tại, vòng lặp, trùng mã định danh)",
            "The unit tree has problems (unknown parent, cycle, duplicate electronic id)",
            len(lines),
            lines[:EXAMPLES],
        )
    return None


def check(store: Store) -> QualityReport:
    """Run every check over ``store`` and return the findings with counts and example keys."""
    report = QualityReport()
    cur = store.cursor()
    for table in ("units", "procedures", "publications", "dossiers", "dossier_events", "petitions", "quarantine"):
        row = cur.execute(f"SELECT count(*) FROM {table}").fetchone()
        report.totals[table] = int(row[0]) if row else 0
    tree = _unit_tree_finding(store) if report.totals["units"] else None
    if tree is not None:
        report.findings.append(tree)
    for code, vi, en, sql in _DOSSIER_CHECKS:
        finding = _finding(store, code, vi, en, sql)
        if finding is not None:
            report.findings.append(finding)
    for kind, count in cur.execute("SELECT kind, count(*) FROM quarantine GROUP BY kind ORDER BY kind").fetchall():
        examples = [
            str(key)
            for (key,) in cur.execute(
                "SELECT COALESCE(record_key, source || '[' || record_no || ']') FROM quarantine WHERE kind = ? "
                f"ORDER BY recorded_at, record_no LIMIT {EXAMPLES}",
                [kind],
            ).fetchall()
        ]
        report.findings.append(
            Finding(
                f"quarantined_{kind}",
                f"Bản ghi {kind} bị từ chối, đang nằm trong bảng quarantine",
                f"Rejected {kind} records held in the quarantine table",
                int(count),
                examples,
            )
        )
    return report
