"""Advice for one unit × period and what-if: exact actions ordered by recoverable points, new scores and rank.

Built on :class:`~chiso766.service.scoreboard.Scoreboard` (scores, counters, explain, prepared facts) and the
solver (:mod:`chiso766.advisor.solve`). Each indicator gets one actionable kind of step (``ACTIONS``): records that
can still be fixed (``convert``: a result file, digitisation, a sync) or that only new records can bring (``add``:
online submission, online payment, on-time processing). Points, thresholds and rounding all come from the
methodology through the scoring core. Indicators a child unit inherits from its province (1.1–1.3) are listed
but left out of the child's plan: only the province can act on them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from chiso766.advisor.solve import Change, IndicatorAdvice, Mode, Step, advise_indicator, apply_changes, plan
from chiso766.domain.periods import Period, parse_period
from chiso766.engine.compute import PeriodScores
from chiso766.errors import InputError
from chiso766.methodology.model import ChildRule, Methodology
from chiso766.presentation.format import fmt_count, fmt_points
from chiso766.scoring import UnitCounters, UnitScore, score_unit
from chiso766.scoring.core import json_number
from chiso766.service.scoreboard import Scoreboard

# code → (actionable mode, Vietnamese action with {k}, English action with {k})
ACTIONS: Mapping[str, tuple[Mode, str, str]] = {
    "PUBLISH_ON_TIME": ("add", "công bố đúng hạn thêm {k} TTHC", "publish {k} more procedures on time"),
    "PUBLIC_UPDATE_ON_TIME": ("add", "công khai đúng hạn thêm {k} TTHC", "make {k} more procedures public on time"),
    "PUBLIC_CONTENT_FULL": ("convert", "bổ sung đủ nội dung cho {k} TTHC", "complete the content of {k} procedures"),
    "DOSSIER_SYNC": ("convert", "đồng bộ {k} hồ sơ lên Cổng DVCQG", "sync {k} dossiers to the national portal"),
    "PROGRESS_ON_TIME": ("add", "cần thêm {k} hồ sơ xử lý đúng hạn", "{k} more dossiers processed on time"),
    "ONLINE_PROCEDURES": ("convert", "cung cấp DVCTT cho {k} TTHC", "offer online services for {k} procedures"),
    "ONLINE_SERVICES_USED": (
        "convert",
        "phát sinh hồ sơ trực tuyến trên {k} DVCTT",
        "get online dossiers on {k} more online services",
    ),
    "ONLINE_DOSSIERS": ("add", "cần thêm {k} hồ sơ nộp trực tuyến", "{k} more dossiers submitted online"),
    "PAYMENT_DOSSIERS_ONLINE": ("add", "cần thêm {k} hồ sơ thanh toán trực tuyến", "{k} more dossiers paid online"),
    "PAYMENT_PROCEDURES_ONLINE": (
        "convert",
        "phát sinh thanh toán trực tuyến ở {k} TTHC có phí",
        "get an online payment on {k} more fee-bearing procedures",
    ),
    "PAYMENT_PROCEDURES_INTEGRATED": (
        "convert",
        "tích hợp thanh toán trực tuyến cho {k} TTHC",
        "integrate online payment for {k} procedures",
    ),
    "ORIGINAL_RESULT_AVAILABLE": (
        "convert",
        "cấp kết quả điện tử cho {k} hồ sơ",
        "issue an electronic result for {k} dossiers",
    ),
    "SO_HOA_GIAY_TO_GIAI_QUYET": (
        "convert",
        "số hóa thành phần và kết quả {k} hồ sơ",
        "digitise components and result of {k} dossiers",
    ),
    "REUSED_DIGITIZED_DATA": (
        "add",
        "cần thêm {k} hồ sơ tái sử dụng dữ liệu số hóa",
        "{k} more dossiers re-using digitised data",
    ),
    "SYNCED_WITH_DVCQG_PERSONAL_STORAGE": (
        "convert",
        "đồng bộ kết quả {k} hồ sơ vào kho dữ liệu cá nhân",
        "sync the result of {k} dossiers to the personal data store",
    ),
    "CITIZEN_DATA_CONNECTED_FORMALITY": (
        "convert",
        "kết nối dữ liệu dân cư cho {k} TTHC",
        "connect {k} procedures to population data",
    ),
    "CITIZEN_DATA_CONNECTED_DOSSIER": (
        "add",
        "cần thêm {k} hồ sơ sử dụng dữ liệu dân cư",
        "{k} more dossiers using population data",
    ),
    "PETITION_PROCESSING_ON_TIME": ("add", "xử lý đúng hạn thêm {k} PAKN", "handle {k} more petitions on time"),
    "PETITION_HANDLING_SATISFACTION": (
        "add",
        "thêm {k} PAKN xử lý đúng hạn, được hài lòng",
        "{k} more petitions handled on time to satisfaction",
    ),
    "DOSSIER_RECEIVING_SATISFACTION": (
        "add",
        "cần thêm {k} hồ sơ đúng hạn, không bị phản ánh",
        "{k} more dossiers on time and without complaint",
    ),
}


def action_of(methodology: Methodology, code: str) -> tuple[Mode, str, str]:
    """The actionable mode and phrases of an indicator (a generic phrase for codes of other methodologies)."""
    if code in ACTIONS:
        return ACTIONS[code]
    ind = methodology.indicator(code)
    return ("convert", f"khắc phục {{k}} trường hợp: {ind.numerator_vi}", f"fix {{k}} cases: {ind.numerator_en}")


def step_text(methodology: Methodology, step: Step, gain: Decimal | None = None) -> tuple[str, str]:
    """ "cần thêm 1.240 hồ sơ nộp trực tuyến để đạt ngưỡng 50 % → +0,85 điểm" and its English."""
    _, vi, en = action_of(methodology, step.indicator)
    if step.mode != action_of(methodology, step.indicator)[0]:
        vi = "khắc phục {k} trường hợp chưa đạt" if step.mode == "convert" else "cần thêm {k} trường hợp đạt"
        en = "fix {k} missed records" if step.mode == "convert" else "{k} more qualifying records"
    ind = methodology.indicator(step.indicator)
    value = step.gain if gain is None else gain
    suffix_vi = suffix_en = ""
    if step.target == "threshold" and ind.scoring.threshold is not None:
        pct = fmt_points(ind.scoring.threshold * 100).removesuffix(",00")
        suffix_vi, suffix_en = f" để đạt ngưỡng {pct} %", f" to reach the {pct.replace(',', '.')} % threshold"
    elif step.target == "full":
        suffix_vi, suffix_en = " để đạt điểm tối đa", " for full points"
    elif step.target == "half":
        suffix_vi, suffix_en = " để lấy lại một nửa số điểm còn thiếu", " to recover half of the missing points"
    k_vi, k_en = fmt_count(step.quantity), fmt_count(step.quantity, "en")
    return (
        f"{vi.format(k=k_vi)}{suffix_vi} → +{fmt_points(value)} điểm",
        f"{en.format(k=k_en)}{suffix_en} → +{fmt_points(value, 'en')} points",
    )


def rank_in_cohort(result: PeriodScores, unit_code: str, total: Decimal) -> int:
    """Competition rank ``unit_code`` would have with ``total`` while every other unit keeps its score."""
    level = result.units[unit_code].level
    better = sum(
        1
        for code, s in result.scores.items()
        if code != unit_code and result.units[code].level == level and s.total > total
    )
    return better + 1


def _step_json(methodology: Methodology, step: Step) -> dict[str, Any]:
    vi, en = step_text(methodology, step)
    return {
        "target": step.target,
        "mode": step.mode,
        "quantity": step.quantity,
        "gain": json_number(step.gain),
        "indicator_gain": json_number(step.indicator_gain),
        "total_after": json_number(step.score_after),
        "rate_after": json_number(step.rate_after),
        "text_vi": vi,
        "text_en": en,
    }


def _best_step(adv: IndicatorAdvice, mode: Mode) -> Step | None:
    """The step a plan takes: the threshold or full step when one exists, else the next gain."""
    mine = [s for s in adv.steps if s.mode == mode]
    for target in ("threshold", "full", "half", "next"):
        for s in mine:
            if s.target == target:
                return s
    return None


@dataclass(frozen=True)
class UnitContext:
    period: Period
    scores: PeriodScores
    score: UnitScore
    counters: UnitCounters


def context(board: Scoreboard, unit_code: str, period: Period | str) -> UnitContext:
    p = parse_period(period) if isinstance(period, str) else period
    board.unit(unit_code)
    result = board.scores(p)
    if unit_code not in result.scores:
        raise InputError.single(
            "unknown_unit", f"Không có đơn vị '{unit_code}'", f"No unit '{unit_code}'", where=unit_code, field="unit"
        )
    return UnitContext(p, result, result.scores[unit_code], board.unit_counters(p, unit_code))


def advise(
    board: Scoreboard, unit_code: str, period: Period | str, *, top: int = 5, records: int = 10
) -> dict[str, Any]:
    """The advice document: indicators by recoverable points with exact steps, where the loss comes from
    (sub-units, procedures, records) for the ``top`` ones, and a plan whose gains add up exactly."""
    ctx = context(board, unit_code, period)
    m = board.methodology
    unit = board.unit(unit_code)
    rows: list[tuple[IndicatorAdvice, Step | None, bool]] = []
    for ind in m.indicators:
        if ind.is_constant:
            continue
        inherited = not unit.is_root and ind.children is ChildRule.INHERIT
        mode = action_of(m, ind.code)[0]
        adv = advise_indicator(m, ctx.counters, ind.code, (mode,))
        rows.append((adv, None if inherited else _best_step(adv, mode), inherited))
    rows.sort(key=lambda r: (r[2], -r[0].recoverable, -(r[0].max_score - Fraction(r[0].score or 0)), r[0].code))

    indicators: list[dict[str, Any]] = []
    choices: dict[str, Step] = {}
    for position, (adv, best, inherited) in enumerate(rows):
        ind = m.indicator(adv.code)
        found = ctx.score.indicators.get(adv.code)
        doc: dict[str, Any] = {
            "code": adv.code,
            "number": ind.number,
            "group": ind.group,
            "name_vi": ind.name_vi,
            "name_en": ind.name_en,
            "numerator": adv.numerator,
            "denominator": json_number(adv.denominator),
            "rate": json_number(found.rate) if found else None,
            "score": json_number(adv.score),
            "max_score": json_number(adv.max_score),
            "points_lost": json_number(found.points_lost) if found else json_number(ind.max_points),
            "recoverable": json_number(adv.recoverable),
            "misses": adv.misses,
            "inherited": inherited,
            "steps": [_step_json(m, s) for s in adv.steps],
        }
        if position < top and adv.misses > 0 and not inherited and adv.recoverable > 0:
            why = board.explain(unit_code, adv.code, ctx.period, limit=records)
            doc["by_subunit"] = why["by_subunit"][:5]
            doc["by_procedure"] = why["by_procedure"][:5]
            doc["records"] = why["records"]
            doc["records_total"] = why["records_total"]
            doc["record_kind"] = why.get("record_kind")
        if best is not None and len(choices) < top and adv.recoverable > 0:
            choices[adv.code] = best
        indicators.append(doc)

    steps = plan(m, ctx.counters, choices)
    final = steps[-1][2] if steps else ctx.score.total
    plan_doc = []
    for step, gain, after in steps:
        vi, en = step_text(m, step, gain)
        plan_doc.append(
            {
                "indicator": step.indicator,
                "mode": step.mode,
                "target": step.target,
                "quantity": step.quantity,
                "gain": json_number(gain),
                "total_after": json_number(after),
                "change": {"numerator": step.change().numerator, "denominator": step.change().denominator},
                "text_vi": vi,
                "text_en": en,
            }
        )
    return {
        **_head(ctx, unit_code, board),
        "indicators": indicators,
        "plan": plan_doc,
        "plan_total": json_number(final),
        "plan_gain": json_number(final - ctx.score.total),
        "plan_rank": rank_in_cohort(ctx.scores, unit_code, final),
    }


def _head(ctx: UnitContext, unit_code: str, board: Scoreboard) -> dict[str, Any]:
    info = ctx.scores.units[unit_code]
    return {
        "unit": unit_code,
        "unit_name": info.name,
        "level": info.level,
        "period": ctx.period.id,
        "period_label": ctx.period.label_vi,
        "provisional": ctx.scores.provisional,
        "methodology": board.methodology.version,
        "total": json_number(ctx.score.total),
        "max_total": json_number(ctx.score.max_total),
        "rank": ctx.scores.ranks.get(unit_code),
        "cohort_size": ctx.scores.cohort_sizes.get(unit_code, 0),
        "groups": {
            g: {"score": json_number(s.score), "max_score": json_number(s.max_score)}
            for g, s in ctx.score.groups.items()
        },
    }


# --- what-if ---------------------------------------------------------------------------------------------------


def resolve_changes(
    board: Scoreboard, unit_code: str, period: Period, dossiers: Sequence[str] = (), overdue: int = 0
) -> tuple[list[str], list[Change]]:
    """Counter changes if the given dossiers (or the ``overdue`` first late ones of the unit's subtree, by due
    date) had been processed on time: 2.1 numerator + 1 for each late one, 5.4 numerator + 1 for each one that
    would then be satisfied (no PAKN, not disliked). Unknown ids or ids outside the subtree are an error."""
    with board.prepared(period) as engine:
        con = engine.con
        base = """
            SELECT f.dossier_id, f.on_time, (NOT f.has_petition AND NOT COALESCE(d.disliked, FALSE)) AS could_satisfy
            FROM dossier_facts f
            JOIN unit_closure c ON c.descendant = f.unit_code AND c.ancestor = ?
            LEFT JOIN dossiers d ON d.dossier_id = f.dossier_id
            WHERE f.period_id = ? AND f.in_proc"""
        picked: list[tuple[str, bool, bool]] = []
        if dossiers:
            rows = con.execute(base + " AND f.dossier_id IN (SELECT UNNEST(?))", [unit_code, period.id, list(dossiers)])
            found = {r[0]: r for r in rows.fetchall()}
            missing = [d for d in dossiers if d not in found]
            if missing:
                raise InputError.single(
                    "unknown_dossier",
                    f"Hồ sơ không thuộc {unit_code} trong kỳ {period.id}: {', '.join(missing[:10])}",
                    f"Dossiers not in {unit_code} for period {period.id}: {', '.join(missing[:10])}",
                    where="resolve",
                    field="dossiers",
                )
            picked += [found[d] for d in dict.fromkeys(dossiers)]
        if overdue > 0:
            rows = con.execute(
                base + " AND NOT f.on_time ORDER BY f.due_at NULLS LAST, f.dossier_id LIMIT ?",
                [unit_code, period.id, int(overdue)],
            )
            have = {p[0] for p in picked}
            picked += [r for r in rows.fetchall() if r[0] not in have]
    late = [p for p in picked if not p[1]]
    changes = [
        Change("PROGRESS_ON_TIME", len(late)),
        Change("DOSSIER_RECEIVING_SATISFACTION", sum(1 for p in late if p[2])),
    ]
    known = set(board.methodology.indicator_codes())
    return [p[0] for p in picked], [c for c in changes if c.indicator in known and c.numerator]


def _score_doc(score: UnitScore) -> dict[str, Any]:
    return score.to_json()


def whatif(
    board: Scoreboard,
    unit_code: str,
    period: Period | str,
    *,
    changes: Sequence[Change] = (),
    resolve: Sequence[str] = (),
    resolve_overdue: int = 0,
) -> dict[str, Any]:
    """New scores and rank of a unit after ``changes`` to its counters and/or resolving dossiers on time.

    Counter changes apply to the unit alone; resolved dossiers also move every ancestor (pooled counts), whose
    new totals and ranks are listed under ``ancestors``. Other units keep their scores."""
    ctx = context(board, unit_code, period)
    m = board.methodology
    resolved: list[str] = []
    resolve_ch: list[Change] = []
    if resolve or resolve_overdue:
        resolved, resolve_ch = resolve_changes(board, unit_code, ctx.period, resolve, resolve_overdue)
    after_counters = apply_changes(m, ctx.counters, [*changes, *resolve_ch])
    after = score_unit(m, after_counters)
    before = ctx.score
    changed = [
        {
            "code": code,
            "numerator": [ind.numerator, after.indicators[code].numerator],
            "denominator": [json_number(ind.denominator), json_number(after.indicators[code].denominator)],
            "score": [json_number(ind.score), json_number(after.indicators[code].score)],
        }
        for code, ind in before.indicators.items()
        if code in after.indicators
        and (ind.numerator, ind.denominator) != (after.indicators[code].numerator, after.indicators[code].denominator)
    ]
    ancestors = []
    if resolve_ch:
        parent = ctx.scores.units[unit_code].parent_code
        while parent is not None and parent in ctx.scores.scores:
            a_before = ctx.scores.scores[parent]
            a_after = score_unit(m, apply_changes(m, board.unit_counters(ctx.period, parent), resolve_ch))
            ancestors.append(
                {
                    "unit": parent,
                    "unit_name": ctx.scores.units[parent].name,
                    "total": [json_number(a_before.total), json_number(a_after.total)],
                    "rank": [ctx.scores.ranks.get(parent), rank_in_cohort(ctx.scores, parent, a_after.total)],
                    "cohort_size": ctx.scores.cohort_sizes.get(parent, 0),
                }
            )
            parent = ctx.scores.units[parent].parent_code
    return {
        **_head(ctx, unit_code, board),
        "changes": [
            {"indicator": c.indicator, "numerator": c.numerator, "denominator": c.denominator}
            for c in [*changes, *resolve_ch]
        ],
        "resolved_dossiers": resolved,
        "before": _score_doc(before),
        "after": _score_doc(after),
        "total_after": json_number(after.total),
        "gain": json_number(after.total - before.total),
        "rank_after": rank_in_cohort(ctx.scores, unit_code, after.total),
        "changed_indicators": changed,
        "ancestors": ancestors,
        "summary_vi": (
            f"Tổng điểm {fmt_points(before.total)} → {fmt_points(after.total)}; "
            f"xếp hạng {ctx.scores.ranks.get(unit_code) or '—'} → {rank_in_cohort(ctx.scores, unit_code, after.total)}"
            f"/{ctx.scores.cohort_sizes.get(unit_code, 0)}"
        ),
    }


def parse_changes(doc: Any) -> list[Change]:
    """Changes from JSON ``[{"indicator", "numerator", "denominator"}]`` (deltas); errors name the entry."""
    if doc is None:
        return []
    if not isinstance(doc, list):
        raise InputError.single(
            "invalid_changes", "Phải là một danh sách", "Must be a list", where="changes", field="changes"
        )
    out: list[Change] = []
    for i, entry in enumerate(doc):
        if not isinstance(entry, dict) or not isinstance(entry.get("indicator"), str):
            raise InputError.single(
                "invalid_changes",
                "Mỗi thay đổi cần 'indicator' (mã chỉ tiêu)",
                "Each change needs 'indicator' (an indicator code)",
                where=f"changes[{i}]",
                field="indicator",
            )
        values = {}
        for key in ("numerator", "denominator"):
            v = entry.get(key, 0)
            if not isinstance(v, int) or isinstance(v, bool):
                raise InputError.single(
                    "invalid_changes",
                    f"'{key}' phải là số nguyên (thay đổi cộng thêm), nhận được {v!r}",
                    f"'{key}' must be an integer delta, got {v!r}",
                    where=f"changes[{i}]",
                    field=key,
                )
            values[key] = v
        out.append(Change(entry["indicator"], values["numerator"], values["denominator"]))
    return out
