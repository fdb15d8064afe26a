"""Load and validate methodology files, reporting every problem at once.

A file is YAML. It may ``extends: OTHER-VERSION`` and then list only what differs: an indicator or group entry
whose ``code`` exists in the base replaces the fields it names; a new code is added; ``remove: true`` drops it.
"""

from __future__ import annotations

import copy
import logging
from collections import Counter
from collections.abc import Iterable
from fractions import Fraction
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from chiso766.errors import MethodologyError, Problem, problems_from_pydantic
from chiso766.methodology.model import (
    Group,
    Indicator,
    Methodology,
    NationalAverage,
    Rounding,
    ScoringFunction,
    ZeroDenominator,
)

log = logging.getLogger(__name__)

DEFAULT_VERSION = "portal-2026"
TOTAL_POINTS = Fraction(100)
_DATA = "chiso766.methodology"
M = TypeVar("M", bound=BaseModel)


def available_versions() -> list[str]:
    """The methodology versions shipped with the package."""
    folder = resources.files(_DATA) / "data"
    return sorted(p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml"))


def load_methodology(name_or_path: str | Path | None = None) -> Methodology:
    """A shipped version by name (default ``portal-2026``) or a YAML file by path; validated."""
    if name_or_path is None:
        name_or_path = DEFAULT_VERSION
    if isinstance(name_or_path, str) and name_or_path in available_versions():
        return _load_shipped(name_or_path)
    path = Path(name_or_path)
    if not path.is_file():
        raise MethodologyError(
            code="unknown_methodology",
            message_vi=f"Không tìm thấy phương pháp tính '{name_or_path}'. "
            f"Các phiên bản có sẵn: {', '.join(available_versions())}",
            message_en=f"Unknown methodology '{name_or_path}'. Available versions: {', '.join(available_versions())}",
        )
    raw = _resolve(_read_yaml(path.read_text(encoding="utf-8"), str(path)), str(path), path.parent, set())
    return validate_methodology(raw, source=str(path))


@lru_cache(maxsize=16)
def _load_shipped(name: str) -> Methodology:
    source = f"methodology/data/{name}.yaml"
    raw = _resolve(_read_yaml(_shipped_text(name), source), source, None, set())
    return validate_methodology(raw, source=source)


def _shipped_text(name: str) -> str:
    return (resources.files(_DATA) / "data" / f"{name}.yaml").read_text(encoding="utf-8")


def _read_yaml(text: str, source: str) -> dict[str, Any]:
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" (dòng/line {mark.line + 1})" if mark is not None else ""
        raise MethodologyError(
            code="invalid_methodology",
            message_vi=f"Tệp phương pháp tính không phải YAML hợp lệ{at}: {source}",
            message_en=f"Methodology file is not valid YAML{at}: {source}",
        ) from exc
    if not isinstance(raw, dict):
        raise MethodologyError(
            code="invalid_methodology",
            message_vi=f"Tệp phương pháp tính phải là một ánh xạ YAML: {source}",
            message_en=f"Methodology file must be a YAML mapping: {source}",
        )
    return raw


def _resolve(raw: dict[str, Any], source: str, folder: Path | None, seen: set[str]) -> dict[str, Any]:
    """Apply ``extends`` recursively (a base is looked up beside the file, then among shipped versions)."""
    base_name = raw.get("extends")
    if base_name is None:
        return raw
    if not isinstance(base_name, str) or base_name in seen:
        raise MethodologyError(
            code="invalid_methodology",
            message_vi=f"'extends' không hợp lệ hoặc lặp vòng: {base_name!r} ({source})",
            message_en=f"Invalid or circular 'extends': {base_name!r} ({source})",
        )
    seen = seen | {base_name}
    if folder is not None and (folder / f"{base_name}.yaml").is_file():
        base_path = folder / f"{base_name}.yaml"
        base = _resolve(_read_yaml(base_path.read_text(encoding="utf-8"), str(base_path)), str(base_path), folder, seen)
    elif base_name in available_versions():
        base = _resolve(_read_yaml(_shipped_text(base_name), base_name), base_name, None, seen)
    else:
        raise MethodologyError(
            code="unknown_methodology",
            message_vi=f"Phiên bản gốc '{base_name}' (extends) không tồn tại ({source})",
            message_en=f"Base version '{base_name}' (extends) does not exist ({source})",
        )
    return merge_methodology(base, raw)


def merge_methodology(base: dict[str, Any], variant: dict[str, Any]) -> dict[str, Any]:
    """The base document with the variant's top-level fields, groups and indicators applied by code."""
    merged = copy.deepcopy(base)
    for key, value in variant.items():
        if key in ("groups", "indicators", "extends"):
            continue
        merged[key] = copy.deepcopy(value)
    merged["extends"] = variant["extends"]
    for key in ("groups", "indicators"):
        items: list[Any] = list(merged.get(key) or [])
        for change in variant.get(key) or []:
            if not isinstance(change, dict):
                items.append(change)
                continue
            index = next(
                (i for i, it in enumerate(items) if isinstance(it, dict) and it.get("code") == change.get("code")),
                None,
            )
            if change.get("remove") is True:
                if index is not None:
                    items.pop(index)
            elif index is None:
                items.append(copy.deepcopy(change))
            else:
                items[index] = {**items[index], **copy.deepcopy(change)}
        merged[key] = items
    return merged


def validate_methodology(raw: dict[str, Any], source: str = "<methodology>") -> Methodology:
    """Build a :class:`Methodology` from a resolved document or raise with **all** problems found."""
    problems: list[Problem] = []
    raw = dict(raw)
    raw.pop("extends", None)
    group_items = _as_list(raw.pop("groups", None), "groups", source, problems)
    indicator_items = _as_list(raw.pop("indicators", None), "indicators", source, problems)

    groups = _validate_items(group_items, Group, "groups", source, problems)
    indicators = _validate_items(indicator_items, Indicator, "indicators", source, problems)

    header: dict[str, Any] = {}
    for key, model in (("rounding", Rounding), ("national_average", NationalAverage)):
        try:
            header[key] = model.model_validate(raw.pop(key, {}) if key == "rounding" else raw.pop(key, None))
        except ValidationError as exc:
            problems.extend(problems_from_pydantic(exc, where=source, prefix=key))
    for key in ("version", "title_vi", "title_en", "description_vi", "description_en"):
        value = raw.pop(key, None)
        if not isinstance(value, str) or not value.strip():
            problems.append(
                Problem(
                    message_vi="Thiếu trường bắt buộc (chuỗi ký tự)",
                    message_en="Missing required field (a string)",
                    where=source,
                    field=key,
                )
            )
        header[key] = value
    schema = raw.pop("schema", 1)
    for unknown in sorted(raw):
        problems.append(
            Problem(
                message_vi="Trường không được phép",
                message_en="Unknown field",
                where=source,
                field=str(unknown),
            )
        )

    incomplete = {
        str(item.get("group"))
        for item in indicator_items
        if isinstance(item, dict) and item.get("code") not in indicators and item.get("group")
    }
    problems.extend(_semantic_problems(groups, indicators, header.get("national_average"), source, incomplete))
    if problems:
        raise MethodologyError(
            code="invalid_methodology",
            message_vi=f"Tệp phương pháp tính không hợp lệ: {source}",
            message_en=f"Invalid methodology file: {source}",
            problems=problems,
        )
    log.debug("methodology %s loaded from %s", header["version"], source)
    return Methodology.model_validate(
        {
            **header,
            "schema": schema,
            "groups": tuple(sorted(groups.values(), key=lambda g: g.display_order)),
            "indicators": tuple(sorted(indicators.values(), key=lambda i: i.display_order)),
            "source": source,
        }
    )


def _as_list(value: Any, key: str, source: str, problems: list[Problem]) -> list[Any]:
    if isinstance(value, list) and value:
        return value
    problems.append(
        Problem(
            message_vi="Phải là danh sách không rỗng",
            message_en="Must be a non-empty list",
            where=source,
            field=key,
        )
    )
    return []


def _validate_items(
    items: Iterable[Any], model: type[M], key: str, source: str, problems: list[Problem]
) -> dict[str, M]:
    """Validate each entry on its own so one bad entry does not hide the others' problems."""
    out: dict[str, M] = {}
    codes = Counter(it.get("code") for it in items if isinstance(it, dict))
    for position, item in enumerate(items):
        code = item.get("code") if isinstance(item, dict) else None
        where = f"{source} › {key[:-1]} {code}" if code else f"{source} › {key}[{position}]"
        if codes.get(code, 0) > 1 and code in out:
            problems.append(
                Problem(
                    message_vi=f"Mã trùng lặp '{code}'",
                    message_en=f"Duplicate code '{code}'",
                    where=where,
                    field="code",
                )
            )
            continue
        try:
            parsed = model.model_validate(item)
        except ValidationError as exc:
            problems.extend(problems_from_pydantic(exc, where=where))
            continue
        out[str(getattr(parsed, "code"))] = parsed  # noqa: B009 — generic over models with a code
    return out


def _semantic_problems(
    groups: dict[str, Group],
    indicators: dict[str, Indicator],
    national: NationalAverage | None,
    source: str,
    incomplete_groups: set[str],
) -> list[Problem]:
    """Cross-field checks; group sums are skipped for groups with an indicator that already failed."""
    problems: list[Problem] = []

    def add(where: str, field: str | None, vi: str, en: str) -> None:
        problems.append(Problem(message_vi=vi, message_en=en, where=where, field=field))

    total = sum((g.max_points for g in groups.values()), Fraction(0))
    if groups and total != TOTAL_POINTS:
        add(
            source,
            "groups.max_points",
            f"Tổng điểm tối đa các nhóm là {_fmt(total)}, phải bằng 100",
            f"Group maxima add to {_fmt(total)}, must be 100",
        )
    for ind in indicators.values():
        where = f"{source} › indicator {ind.code}"
        if ind.group not in groups:
            add(where, "group", f"Nhóm '{ind.group}' không tồn tại", f"Unknown group '{ind.group}'")
        fn, threshold, value = ind.scoring.function, ind.scoring.threshold, ind.scoring.value
        if ind.max_points < 0:
            add(where, "max_points", "Điểm tối đa không được âm", "Max points must not be negative")
        if fn is ScoringFunction.TARGET and (threshold is None or not 0 < threshold <= 1):
            add(
                where,
                "scoring.threshold",
                f"Ngưỡng phải nằm trong (0, 1], nhận được {_fmt(threshold) if threshold is not None else '—'}",
                f"Threshold must be in (0, 1], got {_fmt(threshold) if threshold is not None else 'none'}",
            )
        if fn is not ScoringFunction.TARGET and threshold is not None:
            add(
                where,
                "scoring.threshold",
                "Chỉ hàm 'target' mới có ngưỡng",
                "Only the 'target' function takes a threshold",
            )
        if fn is ScoringFunction.CONSTANT and (value is None or not 0 <= value <= ind.max_points):
            add(
                where,
                "scoring.value",
                f"Hàm 'constant' cần giá trị trong [0, {_fmt(ind.max_points)}]",
                f"The 'constant' function needs a value in [0, {_fmt(ind.max_points)}]",
            )
        redistributes = ind.zero_denominator is ZeroDenominator.REDISTRIBUTE
        if redistributes and not ind.redistribute_to:
            add(
                where,
                "redistribute_to",
                "Quy tắc 'redistribute' cần danh sách chỉ tiêu nhận điểm",
                "The 'redistribute' rule needs the indicators that receive the points",
            )
        if ind.redistribute_to and not redistributes:
            add(
                where,
                "redistribute_to",
                "Chỉ dùng 'redistribute_to' với zero_denominator: redistribute",
                "'redistribute_to' is only used with zero_denominator: redistribute",
            )
        for target in ind.redistribute_to:
            if target not in indicators or target == ind.code:
                add(
                    where,
                    "redistribute_to",
                    f"Chỉ tiêu nhận điểm '{target}' không hợp lệ",
                    f"Invalid receiving indicator '{target}'",
                )
            elif indicators[target].group != ind.group:
                add(
                    where,
                    "redistribute_to",
                    f"Chỉ tiêu nhận điểm '{target}' phải cùng nhóm {ind.group}",
                    f"Receiving indicator '{target}' must be in the same group {ind.group}",
                )
        if ind.rate_multiplier is not None and (
            ind.rate_multiplier not in indicators or ind.rate_multiplier == ind.code
        ):
            add(
                where,
                "rate_multiplier",
                f"Chỉ tiêu nhân tỷ lệ '{ind.rate_multiplier}' không tồn tại",
                f"Unknown rate multiplier indicator '{ind.rate_multiplier}'",
            )
    for code, group in groups.items():
        if code in incomplete_groups:
            continue
        members = [i for i in indicators.values() if i.group == code]
        points = sum((i.max_points for i in members), Fraction(0))
        if members and points != group.max_points:
            add(
                f"{source} › group {code}",
                "max_points",
                f"Tổng điểm các chỉ tiêu là {_fmt(points)}, khác điểm tối đa của nhóm {_fmt(group.max_points)}",
                f"Indicator points add to {_fmt(points)}, not the group maximum {_fmt(group.max_points)}",
            )
        if not members:
            add(
                f"{source} › group {code}",
                None,
                "Nhóm không có chỉ tiêu nào",
                "Group has no indicators",
            )
    if national is not None and groups:
        covered = Counter(g for axis in national.axes for g in axis.groups)
        for code in sorted(set(covered) | set(groups)):
            if covered.get(code, 0) != 1 or code not in groups:
                add(
                    source,
                    "national_average.axes",
                    f"Mỗi nhóm phải thuộc đúng một trục bình quân cả nước (nhóm '{code}')",
                    f"Each group must belong to exactly one national axis (group '{code}')",
                )
    return problems


def _fmt(x: Fraction) -> str:
    return str(x.numerator) if x.denominator == 1 else f"{float(x):g}"
