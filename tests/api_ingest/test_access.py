"""Bearer tokens (hashed, revocable, scoped to a unit subtree), per-record scope rejections, the audit log, CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from chiso766.access.scope import ScopeGuard
from chiso766.access.tokens import authenticate, create_token, hash_token, list_tokens, revoke_token
from chiso766.cli.access_commands import register
from chiso766.errors import InputError
from chiso766.records import Parsed
from chiso766.store.db import Store
from chiso766.store.load import ingest_records
from tests.api_ingest.conftest import D1, UNITS, auth, dossiers, rows

URL = "/api/v1/ingest"


def test_tokens_are_stored_hashed_and_can_be_revoked(store: Store) -> None:
    token = create_token(store, "H44", "ingest", name="one-stop")
    assert token.startswith("c766_")
    [(stored_hash, unit, scope)] = rows(store, "SELECT token_hash, unit_code, scope FROM access_tokens")
    assert stored_hash == hash_token(token) and token not in repr(rows(store, "SELECT * FROM access_tokens"))
    assert (unit, scope) == ("H44", "ingest")
    found = authenticate(store, token)
    assert found is not None and found.name == "one-stop"
    assert authenticate(store, token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert authenticate(store, "garbage") is None
    assert revoke_token(store, found.token_id) and not revoke_token(store, found.token_id)
    assert authenticate(store, token) is None
    assert [t.revoked_at is not None for t in list_tokens(store)] == [True]
    with pytest.raises(InputError):
        create_token(store, "H44", "everything")
    with pytest.raises(InputError):
        create_token(store, "H44; DROP", "ingest")


def test_writes_need_a_live_token(client: TestClient, store: Store, token: str) -> None:
    assert client.post(f"{URL}/dossiers", json=dossiers()).status_code == 401
    assert client.post(f"{URL}/dossiers", json=dossiers(), headers={"Authorization": "Basic x"}).status_code == 401
    assert client.post(f"{URL}/dossiers", json=dossiers(), headers=auth("c766_nope")).status_code == 401
    [t] = list_tokens(store)
    revoke_token(store, t.token_id)
    r = client.post(f"{URL}/dossiers", json=dossiers(), headers=auth(token))
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
    assert rows(store, "SELECT count(*) FROM dossiers") == [(0,)]


def test_records_outside_the_subtree_are_rejected_one_by_one(
    client: TestClient, store: Store, token: str, other_token: str
) -> None:
    h45 = {"MaHoSo": "000.00.01.H45-260105-0001", "NgayTiepNhan": "20260105080000", "TrangThaiHoSo": "2"}
    unknown_prefix = {"MaHoSo": "ZZZ-260105-0001", "NgayTiepNhan": "20260105080000"}
    unloaded_commune = dict(h45, MaHoSo="X-1", MaCoQuanThucHien="H44.10999")  # not loaded yet: H44. prefix
    r = client.post(f"{URL}/dossiers", json=[dossiers()[0], h45, unknown_prefix, unloaded_commune],
                    headers=auth(token))  # fmt: skip
    assert r.status_code == 207
    body = r.json()
    assert (body["accepted"], body["rejected"]) == (2, 2)
    problems = {p["record_no"]: p for p in body["problems"]}
    assert "H44.01 H45" not in problems[2]["message_en"]
    assert "outside the token's scope" in problems[2]["message_en"] and "nằm ngoài phạm vi" in problems[2]["message_vi"]
    assert "cannot be told" in problems[3]["message_en"]
    assert rows(store, "SELECT dossier_id FROM dossiers ORDER BY 1") == [(D1,), ("X-1",)]
    # H45's token cannot take over an H44 dossier by sending it with its own unit, nor add its progress
    takeover = dict(dossiers()[0], MaCoQuanThucHien="H45.01", NgayCapNhat="20260301000000")
    assert client.post(f"{URL}/dossiers", json=[takeover], headers=auth(other_token)).status_code == 422
    progress = [{"MaHoSo": D1, "TrangThai": "8", "ThoiDiemXuLy": "20260301000000"}]
    assert client.post(f"{URL}/progress", json=progress, headers=auth(other_token)).status_code == 422
    assert client.post(f"{URL}/progress", json=progress, headers=auth(token)).status_code == 200
    assert rows(store, "SELECT unit_code FROM dossiers WHERE dossier_id = ?", D1) == [("H44.01",)]


def test_petitions_units_and_publications_follow_the_subtree(client: TestClient, store: Store, token: str) -> None:
    transferred = {"MaPAKN": "PAKN-1", "MaDonVi": "VPCP", "NgayGui": "20260110100000",
                   "TienTrinh": [{"TrangThai": "CHUYEN_XU_LY", "ThoiDiem": "20260111080000", "MaDonViGui": "VPCP",
                                  "MaDonViNhan": "H44.01"}]}  # fmt: skip
    elsewhere = {"MaPAKN": "PAKN-2", "MaDonVi": "H45.01", "NgayGui": "20260110100000"}
    r = client.post(f"{URL}/petitions", json=[transferred, elsewhere], headers=auth(token)).json()
    assert (r["accepted"], r["rejected"]) == (1, 1) and r["problems"][0]["field"] == "MaDonVi"
    units = [
        {"MaDonVi": "H44.10002", "MaDonViCha": "H44", "CapDonVi": "commune"},
        {"MaDonVi": "H45.10002", "MaDonViCha": "H45", "CapDonVi": "commune"},
        dict(UNITS[4], MaDonViCha="H44"),  # re-parenting H45.01 under H44: not H44's unit
    ]
    r = client.post(f"{URL}/units", json=units, headers=auth(token)).json()
    assert (r["accepted"], r["rejected"]) == (1, 2)
    assert rows(store, "SELECT parent_code FROM units WHERE unit_code = 'H45.01'") == [("H45",)]
    decisions = [{"SoQuyetDinh": "1/QĐ", "MaDonVi": "H44", "NgayQuyetDinh": "20260102"},
                 {"SoQuyetDinh": "2/QĐ", "MaDonVi": "H45", "NgayQuyetDinh": "20260102"}]  # fmt: skip
    r = client.post(f"{URL}/publications", json=decisions, headers=auth(token)).json()
    assert (r["accepted"], r["rejected"]) == (1, 1)


def test_the_catalogue_needs_the_catalogue_scope(client: TestClient, store: Store, token: str) -> None:
    procedure = {"MATTHC": "1.001234", "TENTTHC": "Cấp phiếu lý lịch tư pháp"}
    r = client.post(f"{URL}/procedures", json=[procedure], headers=auth(token))
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    national = create_token(store, "*", "catalogue")
    assert client.post(f"{URL}/procedures", json=[procedure], headers=auth(national)).status_code == 200
    assert rows(store, "SELECT procedure_code FROM procedures") == [("1.001234",)]


def test_every_write_and_refusal_is_audited(client: TestClient, store: Store, token: str) -> None:
    r = client.post(f"{URL}/dossiers", json=dossiers(), headers=auth(token)).json()
    client.post(f"{URL}/dossiers", json=dossiers())
    client.post(f"{URL}/procedures", json=[], headers=auth(token))
    [t] = [t for t in list_tokens(store) if t.unit_code == "H44"]
    assert rows(
        store,
        "SELECT actor, action, kind, unit_code, receipt_id, accepted, updated, unchanged, rejected, status, detail "
        "FROM audit_log ORDER BY logged_at",
    ) == [
        (f"token:{t.token_id}", "ingest", "dossiers", "H44", r["receipt_id"], 2, 0, 0, 0, 200, None),
        ("anonymous", "ingest_refused", "dossiers", None, None, None, None, None, None, 401, "unauthorized"),
        (f"token:{t.token_id}", "ingest_refused", "procedures", None, None, None, None, None, None, 403, "forbidden"),
    ]
    assert token not in repr(rows(store, "SELECT * FROM audit_log"))


def test_token_cli_create_list_revoke(tmp_path: Path) -> None:
    app = typer.Typer()
    register(app)
    runner = CliRunner()
    db = tmp_path / "s.duckdb"
    created = runner.invoke(app, ["token", "create", "--db", str(db), "--unit", "H44", "--scope", "ingest",
                                  "--name", "Một cửa"])  # fmt: skip
    assert created.exit_code == 0, created.output
    token = created.stdout.strip()
    with Store(db) as store:
        ingest_records(store, "units", UNITS, "u")
        found = authenticate(store, token)
        assert found is not None and (found.unit_code, found.scope, found.name) == ("H44", "ingest", "Một cửa")
    listed = runner.invoke(app, ["token", "list", "--db", str(db), "--json"])
    assert listed.exit_code == 0 and token not in listed.stdout and found.token_id in listed.stdout
    assert runner.invoke(app, ["token", "revoke", "--db", str(db), found.token_id]).exit_code == 0
    assert runner.invoke(app, ["token", "revoke", "--db", str(db), found.token_id]).exit_code == 2
    bad = runner.invoke(app, ["token", "create", "--db", str(db), "--unit", "H44", "--scope", "root"])
    assert bad.exit_code == 2 and "Unknown scope" in bad.stderr
    audit = runner.invoke(app, ["audit", "--db", str(db), "--json"])
    assert audit.exit_code == 0


def test_the_sql_shortcut_clears_only_records_the_guard_lets_through(store: Store) -> None:
    """``ScopeGuard.sql_clear`` (the bulk paths' shortcut) against the guard itself, for every token × record.
    Stored: dossier D1 of H44.01, and only a progress entry of D9. New records name a loaded unit in or out of the
    subtree, an H44 commune not loaded yet (let through by the guard's code-prefix rule, left to it by the
    shortcut) or no unit at all. Expected by hand: H44 clears new-H44.01, new-H44.10001 and the two D1 rows sent
    with an H44 unit; H45 clears new-H45.01 and D9 (new as a dossier); H44.01 clears new-H44.01 and
    D1-as-H44.01. Progress entries are cleared by the stored dossier's unit alone: the three D1 rows for H44 and
    H44.01, none for H45."""
    ingest_records(store, "dossiers", [dict(dossiers()[0])], "t")  # D1, H44.01
    ingest_records(store, "progress", [{"MaHoSo": "D9", "TrangThai": "2", "ThoiDiemXuLy": "20260105080000"}], "t")
    candidates = [
        (1, "N1", "H44.01"),
        (2, "N2", "H44.10001"),
        (3, "N3", "H45.01"),
        (4, "N4", "H44.10999"),  # not loaded
        (5, "N5", None),
        (6, D1, "H44.01"),
        (7, D1, "H44.10001"),  # D1 resent under another H44 unit
        (8, D1, "H45.01"),  # a takeover attempt
        (9, "D9", "H45.01"),  # only progress stored: a new dossier row
    ]
    con = store.connection
    con.execute("CREATE OR REPLACE TEMP TABLE _t AS SELECT * FROM (VALUES "
                + ", ".join(f"({no}, '{key}', {repr(unit) if unit else 'NULL'})" for no, key, unit in candidates)
                + ") v(no, dossier_id, unit_code)")  # fmt: skip
    expected = {"H44": {1, 2, 6, 7}, "H45": {3, 9}, "H44.01": {1, 6}}
    for root, cleared_by_hand in expected.items():
        guard = ScopeGuard(authenticate(store, create_token(store, root, "ingest")))  # type: ignore[arg-type]
        clear = guard.sql_clear("dossiers")
        assert clear is not None
        cleared = {no for (no,) in con.execute(f"SELECT no FROM _t m WHERE {clear[0]}", clear[1]).fetchall()}
        assert cleared == cleared_by_hand, root
        stand_ins = [(no, Parsed(key=key, main=(), unit_code=unit)) for no, key, unit in candidates]
        refused = guard(con, "dossiers", stand_ins, "t")
        assert not cleared & set(refused), root  # never clears what the guard refuses
        progress = guard.sql_clear("progress")
        assert progress is not None
        cleared_progress = {
            no for (no,) in con.execute(f"SELECT no FROM _t m WHERE {progress[0]}", progress[1]).fetchall()
        }
        assert cleared_progress == ({6, 7, 8} if root in ("H44", "H44.01") else set()), root
