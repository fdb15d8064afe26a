"""One error shape for the whole project: every message in Vietnamese and English.

Edges (CLI, API) turn a :class:`Chiso766Error` into one line (CLI) or one JSON object (API):
``{"error": {"code", "message_vi", "message_en", "problems": [{"where", "field", "message_vi", "message_en"}]}}``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where it is (file, record, indicator…), which field, and why."""

    message_vi: str
    message_en: str
    where: str | None = None
    field: str | None = None

    def line(self) -> str:
        """One human line: ``where › field: vi / en``."""
        place = " › ".join(p for p in (self.where, self.field) if p)
        prefix = f"{place}: " if place else ""
        return f"{prefix}{self.message_vi} / {self.message_en}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "where": self.where,
            "field": self.field,
            "message_vi": self.message_vi,
            "message_en": self.message_en,
        }


@dataclass
class Chiso766Error(Exception):
    """Base error. ``code`` is a stable machine-readable id (e.g. ``invalid_counters``)."""

    code: str
    message_vi: str
    message_en: str
    problems: list[Problem] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(self.line())

    def line(self) -> str:
        """The whole error on one line (first problem shown when there is one)."""
        if len(self.problems) == 1:
            return self.problems[0].line()
        head = f"{self.message_vi} / {self.message_en}"
        if self.problems:
            return f"{head} ({len(self.problems)}): " + "; ".join(p.line() for p in self.problems)
        return head

    def as_dict(self) -> dict[str, Any]:
        return {
            "error": {
                "code": self.code,
                "message_vi": self.message_vi,
                "message_en": self.message_en,
                "problems": [p.as_dict() for p in self.problems],
            }
        }


class InputError(Chiso766Error):
    """Bad input from a user or a file (exit status 2 on the CLI, 4xx on the API)."""

    @classmethod
    def of(
        cls,
        code: str,
        problems: Iterable[Problem],
        message_vi: str = "Dữ liệu đầu vào không hợp lệ",
        message_en: str = "Invalid input",
    ) -> InputError:
        return cls(code=code, message_vi=message_vi, message_en=message_en, problems=list(problems))

    @classmethod
    def single(
        cls,
        code: str,
        message_vi: str,
        message_en: str,
        *,
        where: str | None = None,
        field: str | None = None,
    ) -> InputError:
        problem = Problem(message_vi=message_vi, message_en=message_en, where=where, field=field)
        return cls(code=code, message_vi=message_vi, message_en=message_en, problems=[problem])


class ResourceError(Chiso766Error):
    """The work needs more than the machine's configured limits allow (exit status 3 on the CLI, 503 on the API)."""

    @classmethod
    def out_of_memory(cls, setting: str = "CHISO766_MEMORY_LIMIT") -> ResourceError:
        """DuckDB stopped at its memory limit although it spills what it can to disk (``Store``'s memory_limit)."""
        return cls(
            code="out_of_memory",
            message_vi=(
                f"Không đủ bộ nhớ trong giới hạn đã đặt; hãy tăng {setting} (ví dụ 8GB) "
                "hoặc giảm số kỳ / lượng dữ liệu xử lý một lần"
            ),
            message_en=(
                f"Out of memory within the configured limit; raise {setting} (e.g. 8GB) "
                "or process fewer periods / less data at once"
            ),
        )


class MethodologyError(Chiso766Error):
    """A methodology file is invalid; ``problems`` lists every problem found, not only the first."""


_PYDANTIC_VI: dict[str, str] = {
    "missing": "Thiếu trường bắt buộc",
    "extra_forbidden": "Trường không được phép",
    "enum": "Giá trị không thuộc danh sách cho phép",
    "literal_error": "Giá trị không thuộc danh sách cho phép",
    "int_parsing": "Phải là số nguyên",
    "int_type": "Phải là số nguyên",
    "int_from_float": "Phải là số nguyên",
    "float_parsing": "Phải là số",
    "float_type": "Phải là số",
    "fraction_parsing": "Phải là số",
    "fraction_type": "Phải là số",
    "decimal_parsing": "Phải là số",
    "string_type": "Phải là chuỗi ký tự",
    "bool_type": "Phải là giá trị đúng/sai",
    "bool_parsing": "Phải là giá trị đúng/sai",
    "list_type": "Phải là danh sách",
    "tuple_type": "Phải là danh sách",
    "dict_type": "Phải là đối tượng (ánh xạ khóa → giá trị)",
    "model_type": "Phải là đối tượng (ánh xạ khóa → giá trị)",
    "greater_than_equal": "Giá trị quá nhỏ",
    "less_than_equal": "Giá trị quá lớn",
    "value_error": "Giá trị không hợp lệ",
}


def problems_from_pydantic(exc: Any, where: str | None = None, prefix: str = "") -> list[Problem]:
    """Turn a ``pydantic.ValidationError`` into bilingual :class:`Problem` rows (one per error)."""
    problems: list[Problem] = []
    for err in exc.errors(include_url=False):
        loc = ".".join(str(part) for part in err.get("loc", ()))
        field_name = ".".join(p for p in (prefix, loc) if p) or None
        kind = str(err.get("type", ""))
        expected = (err.get("ctx") or {}).get("expected")
        vi = _PYDANTIC_VI.get(kind, "Giá trị không hợp lệ")
        if expected:
            vi = f"{vi}: {str(expected).replace(' or ', ' hoặc ')}"
        if kind not in ("missing",) and "input" in err and not isinstance(err["input"], dict | list):
            shown = repr(err["input"])
            shown = shown if len(shown) <= 60 else shown[:57] + "..."
            vi = f"{vi} (nhận được {shown})"
            en = f"{err.get('msg', 'invalid value')} (got {shown})"
        else:
            en = str(err.get("msg", "invalid value"))
        problems.append(Problem(message_vi=vi, message_en=en, where=where, field=field_name))
    return problems
