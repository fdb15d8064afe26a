"""The dossier fast path gives exactly the full reader's result, and defers to it whenever anything is unusual."""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from ingest_helpers import load

from chiso766.records import RecordError
from chiso766.records.dossiers import fast_dossier, parse_dossier_full

BASE: list[dict[str, Any]] = load("dossiers.json")
FIELDS = sorted({k for d in BASE for k in d} | {"MaDonVi", "NgayCapNhat", "HeThongNguon", "DanhSachPhiLePhi"})
NESTED = ["Gia", "IsDeleted", "DuongDanTaiTepTin", "DuocSoHoa", "DuocLayTuKhoDMQG", "MaGiayToKetQua",
          "DuongDanTepTinKetQua", "DongBoKhoDMQG", "MaCSDL", "NgayBoSung", "NgayTiepNhanBoSung", "TrangThai",
          "ThoiDiemXuLy", "MaHoSo", "amount", "status"]  # fmt: skip
LISTS = ["DanhSachLePhi", "TaiLieuNop", "DanhSachGiayToKetQua", "DSKetNoiCSDL", "DanhSachHoSoBoSung", "QuaTrinhXuLy"]

values = st.one_of(
    st.none(),
    st.booleans(),
    st.sampled_from([0, 1, 2, 7, 1.0, 0.0, "", " ", "0", "1", "true", "False", "2", "10", "11", "x", " 20260105083000",
                     "20260105083000", "20261332250000", "19740101000000", "a" * 2001, "b" * 201, [], {}, [{}]]),
)  # fmt: skip


def mutate(record: dict[str, Any], changes: list[tuple[str, Any]], nested: list[tuple[str, str, Any]]) -> Any:
    out = copy.deepcopy(record)
    for name, value in changes:
        out[name] = value
    for list_name, name, value in nested:
        items = out.get(list_name)
        if isinstance(items, list) and items and isinstance(items[0], dict):
            items[0][name] = value
        else:
            out[list_name] = [{name: value}]
    return out


def same(record: Any) -> None:
    fast = fast_dossier(record)
    try:
        full = parse_dossier_full(record, "t[1]")
    except RecordError:
        assert fast is None, json.dumps(record, default=str)[:300]
        return
    if fast is not None:
        assert fast == full


def test_the_sample_records_with_sync_names_take_the_fast_path() -> None:
    taken = [fast_dossier(copy.deepcopy(record)) for record in BASE]
    assert [t is not None for t in taken] == ["MaHoSo" in record for record in BASE] == [True, True, True, False]
    for record, fast in zip(BASE, taken, strict=True):
        assert fast is None or fast == parse_dossier_full(record, "t[1]")


def test_english_aliases_defer_to_the_full_path() -> None:
    assert fast_dossier({"dossier_id": "A-1"}) is None
    assert fast_dossier({"MaHoSo": "A-1", "fees": [{"amount": "5"}]}) is None
    assert fast_dossier({"MaHoSo": "A-1", "DanhSachLePhi": [{"amount": "5"}]}) is None


@settings(max_examples=300, deadline=None)
@given(
    base=st.sampled_from(BASE),
    changes=st.lists(st.tuples(st.sampled_from(FIELDS), values), max_size=4),
    nested=st.lists(st.tuples(st.sampled_from(LISTS), st.sampled_from(NESTED), values), max_size=3),
)
def test_fast_path_equals_the_full_path(
    base: dict[str, Any], changes: list[tuple[str, Any]], nested: list[tuple[str, str, Any]]
) -> None:
    same(mutate(base, changes, nested))
