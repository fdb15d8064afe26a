"""Unit-subtree scope of a token: which records of a batch it may write (the rest are rejected per record).

Decision (documented in docs/ingestion.md): a record outside the token's subtree is **rejected with a per-record
reason** (and quarantined); the in-scope records of the same request are stored. A whole request is refused
(403) only when the token's scope does not cover the kind at all (``procedures`` need the ``catalogue`` scope).

A unit is in the subtree of the token unit ``R`` when ``unit_closure`` says so; a unit not loaded yet is in it when
its code is ``R`` or starts with ``R.`` (DVCQG codes are hierarchical: ``H44.12``). What is checked per kind:

- dossiers: the dossier's unit (``MaCoQuanThucHien``/``MaDonVi``, else the ``MaHoSo`` prefix resolved through
  ``units.MaDinhDanh``) **and**, when it is stored already, the stored version's unit — a token cannot take
  over another province's dossier. A dossier whose unit cannot be told is rejected.
- progress: the stored dossier's unit, else the ``MaHoSo`` prefix resolved as above.
- petitions: the first receiver ``MaDonVi`` or any transfer receiver ``MaDonViNhan`` (a PAKN sent to VPCP and
  transferred to a province is that province's), and likewise for the stored version.
- units: the unit itself is the token unit, or its parent is in the subtree (and a stored unit must be in it).
- publications: the issuing unit ``MaDonVi``.
"""

from __future__ import annotations

from collections.abc import Iterable

import duckdb

from chiso766.access.tokens import ALL_UNITS, Token
from chiso766.errors import Problem
from chiso766.records import Parsed

__all__ = ["KIND_SCOPES", "ScopeGuard", "kind_allowed"]

# the scopes that may write each kind
KIND_SCOPES: dict[str, tuple[str, ...]] = {
    "units": ("ingest", "catalogue"),
    "publications": ("ingest", "catalogue"),
    "dossiers": ("ingest", "catalogue"),
    "progress": ("ingest", "catalogue"),
    "petitions": ("ingest", "catalogue"),
    "procedures": ("catalogue",),
}

_UNIT_FIELD = {
    "dossiers": "MaCoQuanThucHien",
    "progress": "MaHoSo",
    "petitions": "MaDonVi",
    "units": "MaDonViCha",
    "publications": "MaDonVi",
    "procedures": "MATTHC",
}


def kind_allowed(token: Token, kind: str) -> bool:
    return token.scope in KIND_SCOPES.get(kind, ())


class ScopeGuard:
    """Called by :func:`chiso766.store.load.ingest_records` inside each batch transaction."""

    def __init__(self, token: Token) -> None:
        self.token = token
        self.root = token.unit_code
        self._loaded = False
        self._subtree: set[str] = set()
        self._known: set[str] = set()
        self._by_eid: dict[str, str] = {}

    # ---- unit structure (read once per guard, i.e. per request)

    def _load(self, con: duckdb.DuckDBPyConnection) -> None:
        if self._loaded:
            return
        self._known = {u for (u,) in con.execute("SELECT unit_code FROM units").fetchall()}
        self._subtree = {
            d for (d,) in con.execute("SELECT descendant FROM unit_closure WHERE ancestor = ?", [self.root]).fetchall()
        }
        self._by_eid = {
            eid: unit
            for eid, unit in con.execute(
                "SELECT electronic_id, min(unit_code) FROM units WHERE electronic_id IS NOT NULL GROUP BY 1"
            ).fetchall()
        }
        self._loaded = True

    def in_scope(self, unit: str | None) -> bool:
        if unit is None:
            return False
        if self.root == ALL_UNITS or unit == self.root or unit in self._subtree:
            return True
        return unit not in self._known and unit.startswith(self.root + ".")

    def _unit_of(self, unit: str | None, prefix: str | None) -> str | None:
        if unit is not None:
            return unit
        return None if prefix is None else self._by_eid.get(prefix)

    # ---- the check

    def sql_clear(self, kind: str, stored: str = "dossiers") -> tuple[str, list[object]] | None:
        """A SQL condition over a record ``m`` certified by the bulk paths (``m.dossier_id``, ``m.unit_code``)
        that holds only for records this guard lets through: the dossier's unit is the token unit or one of its
        loaded descendants, and so is a stored version's (or there is none); for progress entries, a stored
        dossier's. Records it does not clear are checked by :meth:`__call__` as usual. None: no shortcut.
        ``stored``: the table of stored dossiers to look in (any table holding at least the stored rows of the
        records' keys, e.g. those rows alone)."""
        if self.root == ALL_UNITS:
            return "true", []
        scope = "(SELECT ?::VARCHAR UNION ALL SELECT descendant FROM unit_closure WHERE ancestor = ?)"
        stored_in = f"EXISTS (SELECT 1 FROM {stored} d WHERE d.dossier_id = m.dossier_id AND d.unit_code IN {scope})"
        if kind == "dossiers":
            new_key = f"NOT EXISTS (SELECT 1 FROM {stored} d WHERE d.dossier_id = m.dossier_id)"
            return f"m.unit_code IN {scope} AND ({new_key} OR {stored_in})", [self.root] * 4
        if kind == "progress":
            return stored_in, [self.root] * 2
        return None

    def __call__(
        self, con: duckdb.DuckDBPyConnection, kind: str, parsed: list[tuple[int, Parsed]], source: str
    ) -> dict[int, list[Problem]]:
        """``record_no → problems`` for the records this token may not write."""
        if self.root == ALL_UNITS or not parsed:
            return {}
        self._load(con)
        keys = list(dict.fromkeys(p.key for _, p in parsed))
        stored = self._stored(con, kind, keys)
        refused: dict[int, list[Problem]] = {}
        for no, p in parsed:
            if kind == "progress":  # the stored dossier's unit, else the MaHoSo prefix
                units = stored.get(p.key) or [self._unit_of(None, p.id_prefix)]
                ok = any(self.in_scope(u) for u in units)
            else:
                units = self._units(kind, p)
                ok = any(self.in_scope(u) for u in units)
                if ok and p.key in stored:
                    ok = any(self.in_scope(u) for u in stored[p.key])
            if not ok:
                refused[no] = [self._problem(kind, p, units, source, no)]
        return refused

    def _units(self, kind: str, p: Parsed) -> list[str | None]:
        if kind == "units":
            assert p.main is not None
            return [p.key] if p.key == self.root else [p.main[2]]
        if kind == "petitions":
            return [p.unit_code, *p.extra_units]
        return [self._unit_of(p.unit_code, p.id_prefix)]

    def _stored(self, con: duckdb.DuckDBPyConnection, kind: str, keys: list[str]) -> dict[str, list[str | None]]:
        sql = {
            "dossiers": "SELECT dossier_id, unit_code, id_prefix FROM dossiers WHERE dossier_id IN (SELECT unnest(?))",
            "progress": "SELECT dossier_id, unit_code, id_prefix FROM dossiers WHERE dossier_id IN (SELECT unnest(?))",
            "units": "SELECT unit_code, unit_code, NULL FROM units WHERE unit_code IN (SELECT unnest(?))",
            "publications": "SELECT decision_id, unit_code, NULL FROM publications "
            "WHERE decision_id IN (SELECT unnest(?))",
            "petitions": "SELECT petition_id, unit_code, NULL FROM petitions WHERE petition_id IN (SELECT unnest(?)) "
            "UNION ALL SELECT petition_id, to_unit, NULL FROM petition_events "
            "WHERE to_unit IS NOT NULL AND petition_id IN (SELECT unnest(?))",
        }.get(kind)
        if sql is None:
            return {}
        params: list[object] = [keys] * sql.count("unnest(?)")
        out: dict[str, list[str | None]] = {}
        for key, unit, prefix in con.execute(sql, params).fetchall():
            out.setdefault(key, []).append(self._unit_of(unit, prefix))
        return out

    def _problem(self, kind: str, p: Parsed, units: Iterable[str | None], source: str, no: int) -> Problem:
        shown = ", ".join(u for u in units if u is not None)
        where = f"{source}[{no}] {p.key}"
        if not shown:
            return Problem(
                message_vi="Không xác định được đơn vị của bản ghi nên không kiểm tra được phạm vi của token",
                message_en="The record's unit cannot be told, so the token's scope cannot be checked",
                where=where,
                field=_UNIT_FIELD.get(kind),
            )
        return Problem(
            message_vi=f"Đơn vị {shown} nằm ngoài phạm vi của token (cây đơn vị {self.root})",
            message_en=f"Unit {shown} is outside the token's scope (unit subtree {self.root})",
            where=where,
            field=_UNIT_FIELD.get(kind),
        )
