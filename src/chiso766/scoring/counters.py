"""Indicator inputs of one unit × period (DESIGN contract 1) and their validation.

``{"level": "province" | "provincial_department" | "commune",
   "indicators": {CODE: {"numerator": n, "denominator": d}, ...}}``

Counts are non-negative integers with numerator ≤ denominator (D-score-2). An indicator with both counts null
is treated as absent, except constants, which need no counts. Optional extra inputs (e.g. ``bcqg_received``)
are accepted where a methodology's denominator rule names them, and an optional ``period_type`` tells which
divisor a denominator fallback uses.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from chiso766.domain.units import UnitLevel
from chiso766.errors import InputError, Problem
from chiso766.methodology.model import Methodology

ROOT_LEVEL = "province"
PERIOD_TYPES = ("day", "week", "month", "quarter", "half", "nine_months", "year", "range")
_COUNT_KEYS = ("numerator", "denominator")


@dataclass(frozen=True)
class IndicatorCounts:
    """Numerator and denominator of one indicator, plus named extra inputs."""

    numerator: int | None
    denominator: int | None
    extra: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class UnitCounters:
    """Everything the scoring core needs for one unit × period."""

    level: str
    indicators: Mapping[str, IndicatorCounts]
    period_type: str | None = None


def parse_level(value: Any, where: str = "counters") -> str:
    """Normalise a level word (contract words or the portal's ``departmentType`` words)."""
    if isinstance(value, str):
        try:
            level = UnitLevel.parse(value)
        except ValueError:
            pass
        else:
            if level is not UnitLevel.NATION:
                return level.value
    raise InputError.single(
        "invalid_counters",
        f"Cấp đơn vị không hợp lệ {value!r}; chấp nhận: province, provincial_department, district, commune",
        f"Invalid unit level {value!r}; expected province, provincial_department, district or commune",
        where=where,
        field="level",
    )


def parse_counters_json(text: str, methodology: Methodology, source: str = "counters") -> UnitCounters:
    """Parse contract-1 JSON text; malformed JSON is an :class:`InputError` naming the line and column."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError.single(
            "invalid_json",
            f"JSON không hợp lệ tại dòng {exc.lineno}, cột {exc.colno}: {exc.msg}",
            f"Malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}",
            where=source,
        ) from exc
    return parse_counters(doc, methodology, source)


def parse_counters(doc: Any, methodology: Methodology, source: str = "counters") -> UnitCounters:
    """Validate a decoded contract-1 document against ``methodology``; all problems are reported together."""
    problems: list[Problem] = []

    def bad(field_name: str, vi: str, en: str) -> None:
        problems.append(Problem(message_vi=vi, message_en=en, where=source, field=field_name))

    if not isinstance(doc, dict):
        raise InputError.single(
            "invalid_counters",
            "Tài liệu phải là một đối tượng JSON",
            "The document must be a JSON object",
            where=source,
        )
    level = parse_level(doc.get("level"), source) if "level" in doc else None
    if level is None:
        bad("level", "Thiếu trường bắt buộc", "Missing required field")
    period_type = doc.get("period_type")
    if period_type is not None and period_type not in PERIOD_TYPES:
        bad(
            "period_type",
            f"Loại kỳ không hợp lệ {period_type!r}; chấp nhận: {', '.join(PERIOD_TYPES)}",
            f"Invalid period type {period_type!r}; expected one of {', '.join(PERIOD_TYPES)}",
        )
    for key in doc:
        if key not in ("level", "indicators", "period_type", "unit", "period", "methodology", "source"):
            bad(str(key), "Trường không được phép", "Unknown field")
    raw_indicators = doc.get("indicators")
    if not isinstance(raw_indicators, dict):
        bad("indicators", "Phải là một đối tượng JSON {MÃ: {...}}", "Must be a JSON object {CODE: {...}}")
        raw_indicators = {}

    known = {i.code: i for i in methodology.indicators}
    parsed: dict[str, IndicatorCounts] = {}
    for code, entry in raw_indicators.items():
        prefix = f"indicators.{code}"
        indicator = known.get(code)
        if indicator is None:
            bad(
                prefix,
                f"Mã chỉ tiêu không xác định trong phương pháp {methodology.version}",
                f"Unknown indicator code in methodology {methodology.version}",
            )
            continue
        if not isinstance(entry, dict):
            bad(
                prefix,
                "Phải là đối tượng {numerator, denominator}",
                "Must be an object {numerator, denominator}",
            )
            continue
        allowed_extra = set(indicator.denominator_rule.inputs) if indicator.denominator_rule else set()
        counts: dict[str, int | None] = {}
        ok = True
        for key, value in entry.items():
            if key not in _COUNT_KEYS and key not in allowed_extra and key not in ("rate", "score", "max_score"):
                bad(f"{prefix}.{key}", "Trường không được phép", "Unknown field")
                ok = False
                continue
            if key in ("rate", "score", "max_score"):
                continue  # outputs echoed back are ignored
            try:
                counts[key] = _count(value)
            except ValueError:
                bad(
                    f"{prefix}.{key}",
                    f"Phải là số nguyên không âm, nhận được {value!r}",
                    f"Must be a non-negative integer, got {value!r}",
                )
                ok = False
        if not ok:
            continue
        numerator, denominator = counts.get("numerator"), counts.get("denominator")
        if numerator is None and denominator is None:
            if indicator.is_constant:
                parsed[code] = IndicatorCounts(None, None)
            continue  # absent (D-score-3)
        if numerator is None or denominator is None:
            missing = "numerator" if numerator is None else "denominator"
            bad(f"{prefix}.{missing}", "Thiếu tử số hoặc mẫu số", "Numerator or denominator missing")
            continue
        if numerator > denominator:
            bad(
                f"{prefix}.numerator",
                f"Tử số {numerator} lớn hơn mẫu số {denominator}",
                f"Numerator {numerator} is greater than denominator {denominator}",
            )
            continue
        extra = {k: v for k, v in counts.items() if k not in _COUNT_KEYS and v is not None}
        parsed[code] = IndicatorCounts(numerator, denominator, extra)
    if problems:
        raise InputError.of("invalid_counters", problems)
    assert level is not None
    return UnitCounters(level=level, indicators=parsed, period_type=period_type)


def _count(value: Any) -> int | None:
    """A count: a non-negative integer (``3`` or ``3.0``) or null; anything else raises ValueError."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, float) and value.is_integer() and value >= 0:
        return int(value)
    raise ValueError(value)
