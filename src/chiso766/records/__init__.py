"""Input records → store rows: one parser per kind (INPUT_FORMAT names, plus English snake_case aliases).

:func:`parse_record` turns one record (a dict from JSON) into a :class:`Parsed` (rows per store table) or raises
:class:`RecordError` carrying every bilingual problem of that record.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chiso766.errors import InputError, Problem
from chiso766.records.base import KindSpec, Parsed, RecordError, record_key, strip_personal
from chiso766.records.dossiers import DOSSIERS, PROGRESS
from chiso766.records.petitions import PETITIONS
from chiso766.records.procedures import PROCEDURES
from chiso766.records.publications import PUBLICATIONS
from chiso766.records.units import UNITS

__all__ = [
    "KINDS",
    "KIND_ORDER",
    "KindSpec",
    "Parsed",
    "RecordError",
    "kind_spec",
    "parse_record",
    "record_key",
    "strip_personal",
]

# The order a records folder is loaded in: structure first, then what refers to it.
KIND_ORDER = ("units", "procedures", "publications", "dossiers", "progress", "petitions")
KINDS: dict[str, KindSpec] = {
    spec.kind: spec for spec in (UNITS, PROCEDURES, PUBLICATIONS, DOSSIERS, PROGRESS, PETITIONS)
}


def kind_spec(kind: str) -> KindSpec:
    """The spec of a record kind; :class:`InputError` naming the accepted kinds otherwise."""
    spec = KINDS.get(kind)
    if spec is None:
        listed = ", ".join(KIND_ORDER)
        raise InputError.single(
            "unknown_kind",
            f"Loại bản ghi '{kind}' không hợp lệ (chấp nhận: {listed})",
            f"Unknown record kind '{kind}' (accepted: {listed})",
            field="kind",
        )
    return spec


def parse_record(kind: str, record: Any, source: str, record_no: int) -> Parsed:
    """Parse record number ``record_no`` (1-based) of ``source``; :class:`RecordError` with all its problems."""
    spec = kind_spec(kind)
    where = f"{source}[{record_no}]"
    if not isinstance(record, Mapping):
        raise RecordError.of_record(
            [
                Problem(
                    message_vi=f"Bản ghi phải là đối tượng JSON, nhận được {type(record).__name__}",
                    message_en=f"Record must be a JSON object, got {type(record).__name__}",
                    where=where,
                )
            ],
            None,
        )
    return spec.parse(record, where)
