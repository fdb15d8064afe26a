"""The 766 index rules as versioned data: typed model, shipped YAML versions and a validating loader."""

from chiso766.methodology.loader import (
    DEFAULT_VERSION,
    available_versions,
    load_methodology,
    merge_methodology,
    validate_methodology,
)
from chiso766.methodology.model import (
    Aggregation,
    ChildRule,
    Group,
    Indicator,
    Methodology,
    ProcedureFilter,
    ScoringFunction,
    ZeroDenominator,
)

__all__ = [
    "DEFAULT_VERSION",
    "Aggregation",
    "ChildRule",
    "Group",
    "Indicator",
    "Methodology",
    "ProcedureFilter",
    "ScoringFunction",
    "ZeroDenominator",
    "available_versions",
    "load_methodology",
    "merge_methodology",
    "validate_methodology",
]
