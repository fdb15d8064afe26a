"""petitions.json (PAKN; INPUT_FORMAT, shape (ext)) → ``petitions`` and ``petition_events``.

``TienTrinh[].TrangThai`` must be one of INPUT_FORMAT's codes (D-5.2-5); a ``CHUYEN_XU_LY`` needs
``MaDonViNhan``. ``MaDonViGui`` is stored as sent: the current holder it defaults to (D-5.2-2) depends on the
whole merged history, so the engine resolves it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chiso766.records.base import KindSpec, Parsed, Row, start_reader

PETITION_STATUSES = (
    "CHO_TIEP_NHAN",
    "DANG_XU_LY",
    "CHUYEN_XU_LY",
    "TU_CHOI",
    "YEU_CAU_BO_SUNG",
    "DA_BO_SUNG",
    "CHO_CONG_KHAI",
    "DA_CONG_KHAI",
)
PETITION_ALIASES: dict[str, str] = {
    "MaPAKN": "petition_id",
    "MaDonVi": "unit_code",
    "NgayGui": "sent_at",
    "MaHoSo": "dossier_id",
    "LuotThich": "likes",
    "LuotKhongThich": "dislikes",
    "PhanAnhLaiKhongHaiLong": "raised_again",
    "NgayCapNhat": "updated_at",
    "TienTrinh": "events",
    "TrangThai": "status",
    "ThoiDiem": "event_at",
    "MaDonViGui": "from_unit",
    "MaDonViNhan": "to_unit",
}
PETITION_COLUMNS = (
    "petition_id",
    "unit_code",
    "sent_at",
    "dossier_id",
    "likes",
    "dislikes",
    "raised_again",
    "updated_at",
)
PETITION_EVENT_COLUMNS = ("petition_id", "status", "event_at", "from_unit", "to_unit")


def parse_petition(record: Mapping[str, Any], where: str) -> Parsed:
    r, key = start_reader(record, PETITION_ALIASES, where, "MaPAKN")
    unit_code = r.text("MaDonVi", required=True)
    sent_at = r.instant("NgayGui", required=True)
    dossier_id = r.text("MaHoSo")
    likes = r.count("LuotThich")
    dislikes = r.count("LuotKhongThich")
    raised_again = r.flag("PhanAnhLaiKhongHaiLong") is True
    updated_at = r.instant("NgayCapNhat")
    events: dict[tuple[Any, ...], Row] = {}
    for e in r.objects("TienTrinh"):
        status = e.code("TrangThai", required=True, allowed=PETITION_STATUSES)
        at = e.instant("ThoiDiem", required=True)
        from_unit = e.text("MaDonViGui")
        to_unit = e.text("MaDonViNhan", required=status == "CHUYEN_XU_LY")
        if key is not None and status is not None and at is not None:
            events[(status, at)] = (key, status, at, from_unit, to_unit)
    r.fail_if_problems(key)
    assert key is not None
    receivers = tuple(dict.fromkeys(ev[4] for ev in events.values() if ev[4] is not None))
    return Parsed(
        key=key,
        main=(key, unit_code, sent_at, dossier_id, likes, dislikes, raised_again, updated_at),
        children={"petition_events": list(events.values())},
        updated_at=updated_at,
        unit_code=unit_code,
        extra_units=receivers,
        earliest_at=sent_at,
    )


PETITIONS = KindSpec(
    kind="petitions",
    change_kind="petition",
    key_fields=("MaPAKN", "petition_id"),
    main="petitions",
    main_columns=PETITION_COLUMNS,
    replaced={},
    merged={"petition_events": PETITION_EVENT_COLUMNS},
    parse=parse_petition,
    unit_column="unit_code",
    time_columns=("sent_at",),
)
