"""The read API (``/api/v1/...``): the JSON twin of every dashboard page, built by the same view functions.

Each ``*_view`` function returns one JSON-ready document; the page of the same name renders exactly that
document, so the numbers on a page always equal its JSON twin. Scores come from :class:`Scoreboard` (cached
per data version); record-level lists go through :meth:`Scoreboard.explain` and need a login scoped to the
unit's subtree (:mod:`chiso766.web.auth`), and every such read is audit-logged. Numbers are JSON numbers with
2 decimals (null stays null, never 0). Exports of every table: ``/api/v1/export/...`` (CSV, Excel).

The public documents (national, unit) are kept in a bounded LRU per application (:class:`ViewCache`, on
``app.state.view_cache``) keyed by the data version (``board.state().version``) and the request's parameters,
so repeated reads within one data version skip the recomputation; a new version empties it. Only public
aggregate content goes in it, never anything that depends on the login (the record views are not cached).
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Annotated, Any, TypeVar
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, FastAPI, Query, Request, Response
from fastapi.responses import JSONResponse

from chiso766.api.app import board_of, settings_of
from chiso766.domain.periods import VN_TZ, Period, parse_period
from chiso766.engine.compute import PeriodScores, UnitInfo, rank_within, within_calendar
from chiso766.engine.explain import REASON_LABELS
from chiso766.errors import Chiso766Error, InputError
from chiso766.exports import reports
from chiso766.exports.writers import table_csv, table_xlsx, workbook_xlsx
from chiso766.scoring.core import json_number
from chiso766.scoring.rounding import half_up
from chiso766.service.scoreboard import DataState, Scoreboard
from chiso766.web import auth

router = APIRouter()
T = TypeVar("T")
VIEW_CACHE_SIZE = 256  # entries (documents and rendered pages); settings.extra["view_cache_size"] overrides

MOVERS = 5
ME_WINDOW = 5
TREND_MAX = 12
RECORDS_LIMIT = 1000
# Display bands of a total (dashboard colours only; the methodology defines no bands).
BANDS: tuple[tuple[int, str, str, str], ...] = (
    (80, "good", "Tốt (≥ 80)", "Good (≥ 80)"),
    (65, "fair", "Khá (65–80)", "Fair (65–80)"),
    (50, "average", "Trung bình (50–65)", "Average (50–65)"),
    (0, "weak", "Yếu (< 50)", "Weak (< 50)"),
)
LEVEL_LABELS: Mapping[str, tuple[str, str]] = {
    "province": ("Tỉnh, thành phố", "Province"),
    "provincial_department": ("Sở, ban, ngành", "Department"),
    "district": ("Cấp huyện", "District"),
    "commune": ("Xã, phường, đặc khu", "Commune"),
}


# --- request helpers ---------------------------------------------------------------------------------------
def lang_of(request: Request) -> str:
    """``?lang=en|vi`` wins, then the ``lang`` cookie; Vietnamese by default."""
    asked = request.query_params.get("lang") or request.cookies.get("lang") or "vi"
    return "en" if asked == "en" else "vi"


def period_of(board: Scoreboard, raw: str | None) -> Period:
    return parse_period(raw) if raw else board.default_period()


def account_of(request: Request) -> auth.Account | None:
    """The logged-in account from the signed session cookie (None when absent, forged or expired)."""
    settings = settings_of(request)
    return auth.read_session(settings.session_secret, request.cookies.get(auth.COOKIE), board_of(request).now())


def _num(value: Decimal | Fraction | int | None) -> int | float | None:
    return json_number(value)


def band_of(total: Decimal | float | None) -> str | None:
    if total is None:
        return None
    for floor, key, _, _ in BANDS:
        if total >= floor:
            return key
    return BANDS[-1][1]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value is not None else None


def period_doc(board: Scoreboard, period: Period, provisional: bool) -> dict[str, Any]:
    return {
        "id": period.id,
        "type": period.type.value,
        "label_vi": period.label_vi,
        "label_en": period.label_en,
        "start": period.start.isoformat(),
        "end": (period.last_day).isoformat(),
        "provisional": provisional,
    }


def _previous(board: Scoreboard, period: Period, procedure: str | None) -> PeriodScores | None:
    """The previous same-type period's scores, or None when outside the calendar."""
    try:
        return board.previous(period, procedure)
    except InputError:
        return None


def _with_previous(board: Scoreboard, period: Period, procedure: str | None) -> PeriodScores:
    """The period's scores, computing its previous same-type period in the same engine pass when needed."""
    before = period.previous()
    if within_calendar(before):
        return board.scores_many([period, before], procedure)[0]
    return board.scores(period, procedure)


def state_doc(board: Scoreboard, state: DataState | None = None) -> dict[str, Any]:
    state = state if state is not None else board.state()
    return {
        "version": state.version,
        "updated_at": _iso(state.updated_at),
        "as_of": _iso(state.as_of),
        "records_through": _iso(state.records_through),
    }


def groups_meta(board: Scoreboard) -> list[dict[str, Any]]:
    return [
        {"code": g.code, "number": g.number, "name_vi": g.name_vi, "name_en": g.name_en, "max": _num(g.max_points)}
        for g in sorted(board.methodology.groups, key=lambda g: g.display_order)
    ]


def periods_offered(board: Scoreboard) -> list[dict[str, Any]]:
    """The live periods plus the previous same-type period of each closed-type one (inside the calendar)."""
    now = board.now()
    seen: dict[str, Period] = {}
    for p in board.tracked():
        seen[p.id] = p
        before = p.previous()
        if p.type.value in ("month", "quarter", "year") and within_calendar(before):
            seen.setdefault(before.id, before)
    ordered = sorted(seen.values(), key=lambda p: (p.type.value, p.start), reverse=True)
    return [period_doc(board, p, p.is_provisional(now)) for p in ordered]


# --- cache of public views ----------------------------------------------------------------------------------
class ViewCache:
    """A bounded LRU of public views (documents, rendered pages) of one data version.

    Keys are tuples of the request's parameters; the data version is checked on every call: a newer version
    empties the cache, an older one (a reader that started before a refresh) neither reads nor writes it. Put
    only content that is the same for every visitor in it (no login-dependent parts)."""

    def __init__(self, size: int = VIEW_CACHE_SIZE) -> None:
        self.size = max(0, size)
        self._lock = threading.Lock()
        self._items: OrderedDict[tuple[Hashable, ...], Any] = OrderedDict()
        self._version: int | None = None
        self.hits = 0
        self.misses = 0

    def _current(self, version: int) -> bool:
        """Whether ``version`` is the cached one (a newer version first empties the cache). Holds the lock."""
        if self._version is None or version > self._version:
            self._items.clear()
            self._version = version
        return version == self._version

    def get(self, version: int, key: tuple[Hashable, ...]) -> Any:
        """The value stored for ``key`` at ``version``, or None."""
        with self._lock:
            if not self._current(version) or key not in self._items:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return self._items[key]

    def put(self, version: int, key: tuple[Hashable, ...], value: Any) -> None:
        with self._lock:
            if self.size == 0 or not self._current(version):
                return
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def get_or_build(self, version: int, key: tuple[Hashable, ...], build: Callable[[], T]) -> T:
        """The cached value of ``key`` at ``version``, else ``build()`` (stored). Errors are never cached."""
        found = self.get(version, key)
        if found is not None:
            cached: T = found
            return cached
        value = build()
        self.put(version, key, value)
        return value

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)


def views_of(request: Request) -> ViewCache:
    """The application's cache of public views (made on first use when ``setup`` did not run)."""
    state = request.app.state
    cache = getattr(state, "view_cache", None)
    if not isinstance(cache, ViewCache):
        cache = ViewCache(int(settings_of(request).extra.get("view_cache_size", VIEW_CACHE_SIZE)))
        state.view_cache = cache
    return cache


def _fresh_state(doc: dict[str, Any], board: Scoreboard, state: DataState) -> dict[str, Any]:
    """A shallow copy of a cached document with the current ``state`` (``as_of`` moves without a new version)."""
    return {**doc, "state": state_doc(board, state)}


def national_doc(
    request: Request, board: Scoreboard, period: Period, procedure: str | None = None, me: str | None = None
) -> dict[str, Any]:
    """:func:`national_view`, cached per data version (public content only). Do not mutate the result."""
    state = board.state()
    key: tuple[Hashable, ...] = ("national", period.id, procedure, me)
    doc = views_of(request).get_or_build(state.version, key, lambda: national_view(board, period, procedure, me))
    return _fresh_state(doc, board, state)


def unit_doc(
    request: Request,
    board: Scoreboard,
    code: str,
    period: Period,
    procedure: str | None = None,
    full_trend: bool = False,
) -> dict[str, Any]:
    """:func:`unit_view`, cached per data version (public content only). Do not mutate the result."""
    state = board.state()
    key: tuple[Hashable, ...] = ("unit", code, period.id, procedure, full_trend)
    doc = views_of(request).get_or_build(
        state.version, key, lambda: unit_view(board, code, period, procedure, full_trend)
    )
    return _fresh_state(doc, board, state)


def procedures_of(request: Request, board: Scoreboard, limit: int = 500) -> list[tuple[str, str | None]]:
    """The procedure selector's (code, name) list, cached per data version."""

    def build() -> list[tuple[str, str | None]]:
        with board.lock:
            rows = board.store.connection.execute(
                "SELECT procedure_code, name FROM procedures ORDER BY procedure_code LIMIT ?", [limit]
            ).fetchall()
        return [(str(r[0]), r[1]) for r in rows]

    return views_of(request).get_or_build(board.state().version, ("procedures", limit), build)


# --- national ----------------------------------------------------------------------------------------------
def national_view(
    board: Scoreboard, period: Period, procedure: str | None = None, me: str | None = None
) -> dict[str, Any]:
    """All root units (provinces) ranked: total, six groups, change of score and rank, band, movers, me ±5."""
    result = _with_previous(board, period, procedure)
    before = _previous(board, period, procedure)
    rows: list[dict[str, Any]] = []
    for rank, code, score in rank_within(result, "province", None, None):
        unit = result.units[code]
        prev = before.scores.get(code) if before is not None else None
        prev_rank = before.ranks.get(code) if before is not None else None
        rows.append(
            {
                "rank": rank,
                "unit": code,
                "name": unit.name,
                "total": _num(score.total),
                "band": band_of(score.total),
                "groups": {g: _num(s.score) for g, s in score.groups.items()},
                "previous_total": _num(prev.total) if prev is not None else None,
                "change": _num(score.total - prev.total) if prev is not None else None,
                "previous_rank": prev_rank,
                "rank_change": (prev_rank - rank) if prev_rank is not None and rank is not None else None,
            }
        )
    moved = [r for r in rows if r["change"] is not None]
    up = sorted(moved, key=lambda r: (-r["change"], r["unit"]))[:MOVERS]
    down = sorted(moved, key=lambda r: (r["change"], r["unit"]))[:MOVERS]
    window: list[dict[str, Any]] = []
    if me is not None:
        board.unit(me)  # unknown code → 404
        at = next((i for i, r in enumerate(rows) if r["unit"] == me), None)
        if at is not None:
            window = rows[max(0, at - ME_WINDOW) : at + ME_WINDOW + 1]
    national = result.national
    return {
        "period": period_doc(board, period, result.provisional),
        "previous_period": before.period.id if before is not None else None,
        "procedure": procedure,
        "methodology": board.methodology.version,
        "groups_meta": groups_meta(board),
        "national": {
            "total": _num(national.total) if national else None,
            "groups": {g: _num(v) for g, v in national.groups.items()} if national else {},
            "provinces": national.provinces if national else 0,
        },
        "cohort_size": len(rows),
        "rows": rows,
        "movers": {"up": [r for r in up if r["change"] > 0], "down": [r for r in down if r["change"] < 0]},
        "me": me,
        "me_window": window,
        "state": state_doc(board),
    }


# --- unit --------------------------------------------------------------------------------------------------
def _descendants(units: Mapping[str, UnitInfo], code: str) -> set[str]:
    children: dict[str, list[str]] = {}
    for c, u in units.items():
        if u.parent_code is not None:
            children.setdefault(u.parent_code, []).append(c)
    out: set[str] = set()
    stack = [code]
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in out:
                out.add(child)
                stack.append(child)
    return out


def _peer_average(result: PeriodScores, unit: UnitInfo) -> dict[str, Decimal]:
    """Half-up mean of the group scores of ``unit``'s cohort inside its province (a child's comparison)."""
    peers = [
        s
        for c, s in result.scores.items()
        if result.units[c].level == unit.level and result.units[c].root_code == unit.root_code
    ]
    if not peers:
        return {}
    codes = next(iter(peers)).groups.keys()
    return {g: half_up(sum((Fraction(p.groups[g].score) for p in peers), Fraction(0)) / len(peers)) for g in codes}


def _ranked_children(result: PeriodScores, within: set[str], cohort: str) -> list[dict[str, Any]]:
    return [
        {
            "rank": rank,
            "unit": code,
            "name": result.units[code].name,
            "total": _num(score.total),
            "band": band_of(score.total),
            "groups": {g: _num(s.score) for g, s in score.groups.items()},
        }
        for rank, code, score in rank_within(result, cohort, None, within)
    ]


def trend_periods(board: Scoreboard, period: Period, full: bool) -> list[Period]:
    """Same-type periods ending with ``period``: the live ones (and the previous), or up to 12 with ``full``."""
    tracked = {p.id for p in board.tracked()}
    out = [period]
    current = period
    while len(out) < TREND_MAX:
        current = current.previous()
        if not within_calendar(current):
            break
        if not full and current.id not in tracked and len(out) > 1:
            break
        out.append(current)
    return list(reversed(out))


def unit_view(
    board: Scoreboard, code: str, period: Period, procedure: str | None = None, full_trend: bool = False
) -> dict[str, Any]:
    """One unit: total, rank / cohort, six group cards vs the national (province) or provincial (child) average,
    the indicator table with formulas, departments and communes ranked separately, trend and rank history."""
    unit = board.unit(code)
    if full_trend:
        board.scores_many(trend_periods(board, period, True), procedure)  # one engine pass for the whole trend
    result = _with_previous(board, period, procedure)
    score = result.scores.get(code)
    if score is None:
        raise InputError.single(
            "unknown_unit", f"Không có điểm của đơn vị '{code}'", f"No score for unit '{code}'", field="unit"
        )
    before = _previous(board, period, procedure)
    prev = before.scores.get(code) if before is not None else None
    if unit.is_root:
        compare = dict(result.national.groups) if result.national else {}
        compare_vi, compare_en = "bình quân cả nước", "national average"
    else:
        compare = _peer_average(result, unit)
        level_vi, level_en = LEVEL_LABELS.get(unit.level, (unit.level, unit.level))
        compare_vi, compare_en = f"bình quân {level_vi.lower()} của tỉnh", f"provincial {level_en.lower()} average"
    meta = board.methodology
    groups = []
    for g in sorted(meta.groups, key=lambda g: g.display_order):
        gs = score.groups[g.code]
        other = compare.get(g.code)
        groups.append(
            {
                "code": g.code,
                "number": g.number,
                "name_vi": g.name_vi,
                "name_en": g.name_en,
                "score": _num(gs.score),
                "max": _num(gs.max_score),
                "compare": _num(other),
                "diff": _num(gs.score - other) if other is not None else None,
            }
        )
    group_order = {g.code: g.display_order for g in meta.groups}
    indicators: list[dict[str, Any]] = []
    for ind in sorted(meta.indicators, key=lambda i: (group_order.get(i.group, 99), i.display_order)):
        got = score.indicators.get(ind.code)
        if got is None:
            continue
        indicators.append(
            {
                "code": ind.code,
                "number": ind.number,
                "group": ind.group,
                "name_vi": ind.name_vi,
                "name_en": ind.name_en,
                "numerator": got.numerator,
                "denominator": _num(got.denominator),
                "rate": _num(got.rate),
                "score": _num(got.score),
                "max": _num(got.max_score),
                "lost": _num(got.points_lost),
                "formula_vi": ind.formula_vi(),
                "formula_en": ind.formula_en(),
                "numerator_vi": ind.numerator_vi,
                "numerator_en": ind.numerator_en,
                "denominator_vi": ind.denominator_vi,
                "denominator_en": ind.denominator_en,
                "flags": list(got.flags),
            }
        )
    within = _descendants(result.units, code)
    parent = result.units.get(unit.parent_code) if unit.parent_code is not None else None
    trend: list[dict[str, Any]] = []
    trend_list = trend_periods(board, period, full_trend)
    for p, res in zip(trend_list, board.scores_many(trend_list, procedure), strict=True):
        s = res.scores.get(code)
        trend.append(
            {
                "period": p.id,
                "label_vi": p.label_vi,
                "label_en": p.label_en,
                "provisional": res.provisional,
                "total": _num(s.total) if s else None,
                "groups": {g: _num(v.score) for g, v in s.groups.items()} if s else {},
                "rank": res.ranks.get(code),
                "cohort_size": res.cohort_sizes.get(code, 0),
                "national": _num(res.national.total) if res.national else None,
            }
        )
    top = 10
    ranked: list[int] = [t["rank"] for t in trend if t["rank"] is not None]
    return {
        "unit": {
            "code": unit.code,
            "name": unit.name,
            "level": unit.level,
            "level_vi": LEVEL_LABELS.get(unit.level, (unit.level, unit.level))[0],
            "level_en": LEVEL_LABELS.get(unit.level, (unit.level, unit.level))[1],
            "parent": unit.parent_code,
            "parent_name": parent.name if parent is not None else None,
            "root": unit.root_code,
            "is_root": unit.is_root,
        },
        "period": period_doc(board, period, result.provisional),
        "procedure": procedure,
        "methodology": meta.version,
        "total": _num(score.total),
        "max_total": _num(score.max_total),
        "band": band_of(score.total),
        "rank": result.ranks.get(code),
        "cohort_size": result.cohort_sizes.get(code, 0),
        "previous": {
            "period": before.period.id,
            "total": _num(prev.total) if prev else None,
            "rank": before.ranks.get(code),
            "change": _num(score.total - prev.total) if prev else None,
        }
        if before is not None
        else None,
        "compare_vi": compare_vi,
        "compare_en": compare_en,
        "groups": groups,
        "indicators": indicators,
        "departments": _ranked_children(result, within, "provincial_department"),
        "communes": _ranked_children(result, within, "commune"),
        "trend": trend,
        "rank_history": {
            "top": top,
            "in_top": sum(1 for r in ranked if r <= top),
            "periods": len(ranked),
            "best": min(ranked, default=None),
        },
        "state": state_doc(board),
    }


# --- drill-down ----------------------------------------------------------------------------------------------
def drill_view(
    board: Scoreboard, code: str, indicator: str, period: Period, procedure: str | None = None
) -> dict[str, Any]:
    """Indicator → contributing sub-units → procedures → reasons, with the points each group costs (public)."""
    unit = board.unit(code)
    doc = board.explain(code, indicator, period, limit=0, procedure=procedure)
    doc.pop("records", None)
    ind = board.methodology.indicator(indicator)
    result = board.scores(period, procedure)
    got = result.scores[code].indicators.get(indicator) if code in result.scores else None
    doc.update(
        {
            "unit_name": unit.name,
            "unit_level": unit.level,
            "parent": unit.parent_code,
            "number": ind.number,
            "group": ind.group,
            "formula_vi": ind.formula_vi(),
            "formula_en": ind.formula_en(),
            "numerator_vi": ind.numerator_vi,
            "numerator_en": ind.numerator_en,
            "denominator_vi": ind.denominator_vi,
            "denominator_en": ind.denominator_en,
            "rate": _num(got.rate) if got else None,
            "lost": _num(got.points_lost) if got else None,
            "period": period_doc(board, period, result.provisional),
            "procedure": procedure,
            "state": state_doc(board),
        }
    )
    return doc


def records_view(
    board: Scoreboard,
    account: auth.Account | None,
    code: str,
    indicator: str,
    period: Period,
    procedure: str | None,
    path: str,
) -> dict[str, Any]:
    """The dossiers / PAKN that cost points (login scoped to the subtree; the read is audit-logged)."""
    units = board.units()
    board.unit(code)
    who = auth.require_scope(account, units, code)
    doc = board.explain(code, indicator, period, limit=RECORDS_LIMIT, procedure=procedure)
    names = {c: u.name for c, u in units.items()}
    for r in doc["records"]:
        r["unit_name"] = names.get(r["unit"])
        r["reason_vi"], r["reason_en"] = REASON_LABELS.get(r["reason"], (r["reason"], r["reason"]))
        at = r.get("at")
        r["at_local"] = (
            datetime.fromisoformat(at.rstrip("Z")).replace(tzinfo=UTC).astimezone(VN_TZ).isoformat(timespec="minutes")
            if at
            else None
        )
    with board.lock:
        auth.audit(
            board.store.connection,
            who,
            unit_code=code,
            indicator=indicator,
            period_id=period.id,
            procedure=procedure,
            path=path,
            records=len(doc["records"]),
        )
    doc["period"] = period_doc(board, period, period.is_provisional(board.now()))
    doc["procedure"] = procedure
    doc["unit_name"] = names.get(code)
    doc["user"] = who.username
    return doc


# --- routes ------------------------------------------------------------------------------------------------
Board = Annotated[Scoreboard, Depends(board_of)]
PeriodQ = Annotated[str | None, Query(description="Kỳ / period id: 2026, 2026Q1, 2026-03, 2026W13, 2026-03-25")]
ProcedureQ = Annotated[str | None, Query(description="Mã TTHC / procedure code filter")]


@router.get("/api/v1/state", tags=["scores"])
def api_state(board: Board) -> dict[str, Any]:
    """Data version and times (poll it to refresh pages when new records arrive)."""
    return state_doc(board)


@router.get("/api/v1/periods", tags=["scores"])
def api_periods(board: Board) -> dict[str, Any]:
    return {"default": board.default_period().id, "periods": periods_offered(board)}


@router.get("/api/v1/units", tags=["scores"])
def api_units(board: Board) -> dict[str, Any]:
    return {
        "units": [
            {"code": u.code, "name": u.name, "level": u.level, "parent": u.parent_code, "root": u.root_code}
            for u in sorted(board.units().values(), key=lambda u: u.code)
        ]
    }


@router.get("/api/v1/national", tags=["scores"])
def api_national(
    request: Request, board: Board, period: PeriodQ = None, procedure: ProcedureQ = None, me: str | None = None
) -> dict[str, Any]:
    """Provinces ranked for a period (JSON twin of the national page)."""
    return national_doc(request, board, period_of(board, period), procedure or None, me or None)


@router.get("/api/v1/units/{code}", tags=["scores"])
def api_unit(
    request: Request,
    board: Board,
    code: str,
    period: PeriodQ = None,
    procedure: ProcedureQ = None,
    trend: str | None = None,
) -> dict[str, Any]:
    """One unit × period (JSON twin of the unit page); ``trend=full`` for 12 periods."""
    return unit_doc(request, board, code, period_of(board, period), procedure or None, trend == "full")


@router.get("/api/v1/units/{code}/indicators/{indicator}", tags=["scores"])
def api_drill(
    board: Board, code: str, indicator: str, period: PeriodQ = None, procedure: ProcedureQ = None
) -> dict[str, Any]:
    """Where an indicator loses points: by sub-unit, procedure and reason (JSON twin of the drill-down page)."""
    return drill_view(board, code, indicator, period_of(board, period), procedure or None)


@router.get("/api/v1/units/{code}/indicators/{indicator}/records", tags=["records (login)"])
def api_records(
    request: Request, board: Board, code: str, indicator: str, period: PeriodQ = None, procedure: ProcedureQ = None
) -> dict[str, Any]:
    """The dossiers / PAKN that cost points (session cookie from ``POST /api/v1/login``; audit-logged)."""
    return records_view(
        board, account_of(request), code, indicator, period_of(board, period), procedure or None, request.url.path
    )


async def login_fields(request: Request) -> tuple[str, str]:
    """Username and password from a JSON or a form-encoded body."""
    body = await request.body()
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            doc = json.loads(body or b"{}")
        except ValueError:
            doc = {}
        fields = {k: str(v) for k, v in doc.items()} if isinstance(doc, dict) else {}
    else:
        fields = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
    return fields.get("username", "").strip(), fields.get("password", "")


def start_session(request: Request, response: Response, account: auth.Account) -> None:
    settings = settings_of(request)
    token = auth.sign_session(settings.session_secret, account, board_of(request).now())
    response.set_cookie(auth.COOKIE, token, max_age=auth.SESSION_HOURS * 3600, httponly=True, samesite="lax", path="/")


def check_login(board: Scoreboard, username: str, password: str) -> auth.Account:
    with board.lock:
        account = auth.authenticate(board.store.connection, username, password)
    if account is None:
        raise Chiso766Error("unauthorized", "Sai tên đăng nhập hoặc mật khẩu", "Wrong username or password")
    return account


@router.post("/api/v1/login", tags=["records (login)"])
async def api_login(request: Request) -> JSONResponse:
    """Log in with ``{"username", "password"}``; sets the signed session cookie."""
    username, password = await login_fields(request)
    account = check_login(board_of(request), username, password)
    response = JSONResponse({"username": account.username, "unit": account.unit_code})
    start_session(request, response, account)
    return response


@router.post("/api/v1/logout", tags=["records (login)"])
def api_logout() -> JSONResponse:
    response = JSONResponse({"ok": True})
    response.delete_cookie(auth.COOKIE, path="/")
    return response


# --- exports ---------------------------------------------------------------------------------------------------
def _check_format(fmt: str) -> str:
    if fmt not in ("csv", "xlsx"):
        raise InputError.single(
            "unknown_format", f"Định dạng không hỗ trợ '{fmt}' (csv, xlsx)", f"Unsupported format '{fmt}'", field="fmt"
        )
    return fmt


def file_response(content: bytes, filename: str) -> Response:
    media = (
        "text/csv; charset=utf-8"
        if filename.endswith(".csv")
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    return Response(content, media_type=media, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def table_response(table: reports.Table, fmt: str, lang: str, period_label: str, stem: str, made: datetime) -> Response:
    if _check_format(fmt) == "csv":
        return file_response(table_csv(table, lang), f"{stem}.csv")
    return file_response(table_xlsx(table, period_label=period_label, lang=lang, made=made), f"{stem}.xlsx")


def _label(doc: Mapping[str, Any], lang: str) -> str:
    period = doc["period"]
    return str(period["label_en"] if lang == "en" else period["label_vi"]) + (
        (" (provisional)" if lang == "en" else " (tạm tính)") if period["provisional"] else ""
    )


@router.get("/api/v1/export/national.{fmt}", tags=["exports"])
def export_national(
    request: Request, board: Board, fmt: str, period: PeriodQ = None, procedure: ProcedureQ = None
) -> Response:
    doc = national_doc(request, board, period_of(board, period), procedure or None)
    lang = lang_of(request)
    table = reports.national_table(doc)
    return table_response(table, fmt, lang, _label(doc, lang), f"chiso766-national-{doc['period']['id']}", board.now())


@router.get("/api/v1/export/units/{code}.xlsx", tags=["exports"])
def export_workbook(
    request: Request, board: Board, code: str, period: PeriodQ = None, procedure: ProcedureQ = None
) -> Response:
    """The unit × period workbook: overview, indicators, departments, communes, trend."""
    doc = unit_doc(request, board, code, period_of(board, period), procedure or None)
    lang = lang_of(request)
    tables = reports.unit_tables(doc)
    title = f"{doc['unit']['name'] or code} ({code})"
    content = workbook_xlsx(tables, title=title, period_label=_label(doc, lang), lang=lang, made=board.now())
    return file_response(content, f"chiso766-{code}-{doc['period']['id']}.xlsx")


@router.get("/api/v1/export/units/{code}/{table}.{fmt}", tags=["exports"])
def export_unit_table(
    request: Request,
    board: Board,
    code: str,
    table: str,
    fmt: str,
    period: PeriodQ = None,
    procedure: ProcedureQ = None,
) -> Response:
    """One table of the unit page: ``overview``, ``indicators``, ``departments``, ``communes``, ``trend``."""
    doc = unit_doc(request, board, code, period_of(board, period), procedure or None)
    lang = lang_of(request)
    found = reports.pick(reports.unit_tables(doc), table)
    stem = f"chiso766-{code}-{table}-{doc['period']['id']}"
    return table_response(found, fmt, lang, _label(doc, lang), stem, board.now())


@router.get("/api/v1/export/units/{code}/indicators/{indicator}/{table}.{fmt}", tags=["exports"])
def export_drill_table(
    request: Request,
    board: Board,
    code: str,
    indicator: str,
    table: str,
    fmt: str,
    period: PeriodQ = None,
    procedure: ProcedureQ = None,
) -> Response:
    """A drill-down table: ``subunits``, ``procedures``, ``reasons`` (public) or ``records`` (login)."""
    p = period_of(board, period)
    lang = lang_of(request)
    if table == "records":
        doc = records_view(board, account_of(request), code, indicator, p, procedure or None, request.url.path)
        found = reports.records_table(doc)
    else:
        doc = drill_view(board, code, indicator, p, procedure or None)
        found = reports.pick(reports.drill_tables(doc), table)
    stem = f"chiso766-{code}-{indicator}-{table}-{p.id}"
    return table_response(found, fmt, lang, _label(doc, lang), stem, board.now())


def setup(app: FastAPI) -> None:
    """Create the accounts and audit tables (people's logins for dossier-level reads)."""
    board: Scoreboard = app.state.board
    with board.lock:
        auth.ensure_tables(board.store.connection)
    app.state.view_cache = ViewCache(int(app.state.settings.extra.get("view_cache_size", VIEW_CACHE_SIZE)))
