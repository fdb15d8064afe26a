"""Field-by-field differences between two methodology versions (``chiso766 methodology diff``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chiso766.methodology.model import Methodology

_IGNORED = {"display_order"}


@dataclass(frozen=True)
class Difference:
    """One difference: what (``indicator``/``group``/``methodology``), which code and field, values in A and B."""

    kind: str
    code: str
    field: str
    first: Any
    second: Any


def diff_methodologies(a: Methodology, b: Methodology) -> list[Difference]:
    """Every difference in groups, indicators and the national-average rule (texts included)."""
    out: list[Difference] = []
    for kind, left, right in (
        ("group", {g.code: g.model_dump() for g in a.groups}, {g.code: g.model_dump() for g in b.groups}),
        (
            "indicator",
            {i.code: i.model_dump() for i in a.indicators},
            {i.code: i.model_dump() for i in b.indicators},
        ),
    ):
        for code in sorted(set(left) | set(right)):
            if code not in right:
                out.append(Difference(kind, code, "*", "present", None))
            elif code not in left:
                out.append(Difference(kind, code, "*", None, "present"))
            else:
                out.extend(_fields(kind, code, left[code], right[code]))
    if a.national_average != b.national_average:
        out.append(
            Difference(
                "methodology",
                "*",
                "national_average",
                a.national_average.model_dump(),
                b.national_average.model_dump(),
            )
        )
    return out


def _fields(kind: str, code: str, left: dict[str, Any], right: dict[str, Any]) -> list[Difference]:
    diffs: list[Difference] = []
    for key in sorted(set(left) | set(right)):
        if key in _IGNORED:
            continue
        if left.get(key) != right.get(key):
            diffs.append(Difference(kind, code, key, left.get(key), right.get(key)))
    return diffs
