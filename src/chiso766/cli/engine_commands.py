"""``compute``, ``rank`` and ``explain``: thin commands over :mod:`chiso766.engine` (DESIGN contract 2)."""

from __future__ import annotations

import json
import re
import sys
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from chiso766.cli import render
from chiso766.domain.periods import VN_TZ, Period, parse_period
from chiso766.engine.compute import Engine, PeriodScores, compute_json, rank_within, within_calendar
from chiso766.engine.counters import FactsOptions
from chiso766.engine.explain import explain
from chiso766.errors import InputError
from chiso766.methodology import DEFAULT_VERSION, load_methodology
from chiso766.presentation import fmt_count, fmt_points
from chiso766.store.db import Store

DbOption = Annotated[Path, typer.Option("--db", help="Tệp DuckDB / DuckDB file")]
PeriodOption = Annotated[str, typer.Option("--period", help="2026, 2026Q3, 2026-08, 2026W33, 2026H1, 2026M9, …")]
AsOfOption = Annotated[
    str | None,
    typer.Option("--as-of", help="Thời điểm 'hiện tại' / 'now': 2026-08-20T10:00, 20260820100000 hoặc 2026-08-20"),
]
MethodologyOption = Annotated[str, typer.Option("--methodology", "-m", help="Phiên bản / version")]
JsonOption = Annotated[bool, typer.Option("--json", help="In JSON / print JSON")]
PopulationCodesOption = Annotated[
    str, typer.Option("--population-db-codes", help="Mã CSDL dân cư (D-4.5b-1), phân cách bằng dấu phẩy")
]

COHORT_WORDS = {
    "province": "province",
    "department": "provincial_department",
    "provincial_department": "provincial_department",
    "district": "district",
    "commune": "commune",
}


def parse_as_of(value: str | None) -> datetime | None:
    """An instant in Vietnam local time; a bare date means the end of that day (midnight after it)."""
    if value is None or value == "":
        return None
    text = value.strip()
    try:
        if re.fullmatch(r"\d{14}", text):
            return datetime.strptime(text, "%Y%m%d%H%M%S").replace(tzinfo=VN_TZ)
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return datetime.combine(date.fromisoformat(text) + timedelta(days=1), time(0), tzinfo=VN_TZ)
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise InputError.single(
            "invalid_as_of",
            f"Thời điểm không hợp lệ '{value}' (ví dụ 2026-08-20T10:00, 20260820100000, 2026-08-20)",
            f"Invalid instant '{value}' (e.g. 2026-08-20T10:00, 20260820100000, 2026-08-20)",
            field="as_of",
        ) from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=VN_TZ)


def _open(db: Path) -> Store:
    if not db.exists():
        raise InputError.single(
            "file_not_found",
            "Không tìm thấy tệp cơ sở dữ liệu (hãy chạy `chiso766 ingest` trước)",
            "Database file not found (run `chiso766 ingest` first)",
            where=str(db),
        )
    return Store(db)


def _scores(
    store: Store,
    methodology: str,
    period: Period,
    as_of: datetime | None,
    procedure: str | None,
    population_codes: str,
    with_previous: bool = False,
) -> tuple[Engine, PeriodScores, PeriodScores | None]:
    codes = tuple(c.strip() for c in population_codes.split(",") if c.strip())
    engine = Engine(store, load_methodology(methodology), FactsOptions(population_db_codes=codes))
    with_previous = with_previous and within_calendar(period.previous())
    periods = [period, period.previous()] if with_previous else [period]
    engine.prepare(periods, as_of, procedure)
    current = engine.period_scores(period, as_of)
    previous = engine.period_scores(periods[1], as_of) if with_previous else None
    return engine, current, previous


def register(app: typer.Typer) -> None:
    """Add the engine commands to the ``chiso766`` app."""

    @app.command()
    def compute(
        db: DbOption,
        unit: Annotated[str, typer.Option("--unit", help="Mã đơn vị / unit code (MaDonVi)")],
        period: PeriodOption,
        as_of: AsOfOption = None,
        procedure: Annotated[str | None, typer.Option("--procedure", help="Lọc một TTHC / one MaTTHC")] = None,
        methodology: MethodologyOption = DEFAULT_VERSION,
        as_json: JsonOption = False,
        population_db_codes: PopulationCodesOption = "1",
    ) -> None:
        """Tính điểm một đơn vị × kỳ từ hồ sơ gốc / score one unit × period from raw records."""
        p = parse_period(period)
        with _open(db) as store:
            engine, current, previous = _scores(
                store, methodology, p, parse_as_of(as_of), procedure, population_db_codes, with_previous=True
            )
            doc = compute_json(current, unit, previous)
        if as_json:
            sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
            return
        console = Console(highlight=False, width=None if sys.stdout.isatty() else 130)
        title = f"{doc['unit_name'] or unit} ({unit}) · {p.label_vi}" + (" · tạm tính" if doc["provisional"] else "")
        render.unit_score(console, engine.methodology, current.scores[unit], title=title)
        console.print(f"Xếp hạng / rank: {doc['rank']}/{doc['cohort_size']}")

    @app.command()
    def rank(
        db: DbOption,
        period: PeriodOption,
        cohort: Annotated[str, typer.Option("--cohort", help="province | department | commune")] = "province",
        within: Annotated[str | None, typer.Option("--within", help="Chỉ trong đơn vị / within a unit")] = None,
        as_of: AsOfOption = None,
        methodology: MethodologyOption = DEFAULT_VERSION,
        as_json: JsonOption = False,
        population_db_codes: PopulationCodesOption = "1",
    ) -> None:
        """Xếp hạng đơn vị cùng cấp / rank a cohort (ties share a rank: 1, 2, 2, 4)."""
        level = COHORT_WORDS.get(cohort)
        if level is None:
            raise InputError.single(
                "invalid_cohort",
                f"Nhóm so sánh không hợp lệ '{cohort}' (province, department, commune)",
                f"Invalid cohort '{cohort}' (province, department, commune)",
                field="cohort",
            )
        p = parse_period(period)
        with _open(db) as store:
            _, current, previous = _scores(
                store, methodology, p, parse_as_of(as_of), None, population_db_codes, with_previous=True
            )
            descendants = None
            if within is not None:
                rows = store.connection.execute(
                    "SELECT descendant FROM unit_closure WHERE ancestor = ?", [within]
                ).fetchall()
                if not rows:
                    raise InputError.single(
                        "unknown_unit",
                        f"Không có đơn vị '{within}'",
                        f"No unit '{within}'",
                        field="within",
                    )
                descendants = [r[0] for r in rows]
            rows_out = rank_within(current, level, within, descendants)
            before = (
                {code: (r, s) for r, code, s in rank_within(previous, level, within, descendants)} if previous else {}
            )
        doc: list[dict[str, Any]] = []
        for r, code, s in rows_out:
            row: dict[str, Any] = {
                "rank": r,
                "unit": code,
                "name": current.units[code].name,
                "total": float(s.total),
                "groups": {g: float(v.score) for g, v in s.groups.items()},
            }
            if code in before:  # change against the previous period of the same type
                prev_rank, prev_score = before[code]
                row["previous"] = {
                    "period": previous.period.id if previous else None,
                    "rank": prev_rank,
                    "total": float(prev_score.total),
                    "change": float(s.total - prev_score.total),
                }
            doc.append(row)
        if as_json:
            out = {
                "period": p.id,
                "cohort": level,
                "within": within,
                "provisional": current.provisional,
                "cohort_size": len(doc),
                "national_average": float(current.national.total) if current.national else None,
                "units": doc,
            }
            sys.stdout.write(json.dumps(out, ensure_ascii=False, indent=2) + "\n")
            return
        console = Console(highlight=False, width=None if sys.stdout.isatty() else 130)
        table = Table(title=f"Xếp hạng {p.label_vi} — {level}" + (" (tạm tính)" if current.provisional else ""))
        for name in ("Hạng", "Mã", "Đơn vị", "CKMB", "TDGQ", "CLGQ", "TTTT", "MDHL", "MDSH", "Tổng", "± kỳ trước"):
            table.add_column(name, justify="right" if name not in ("Mã", "Đơn vị") else "left")
        for row in doc:
            g = row["groups"]
            change = row.get("previous", {}).get("change")
            table.add_row(
                f"{row['rank']}/{len(doc)}",
                row["unit"],
                row["name"] or "",
                *(fmt_points(_dec(g[k])) for k in ("CKMB", "TDGQ", "CLGQ", "TTTT", "MDHL", "MDSH")),
                fmt_points(_dec(row["total"])),
                ("+" if change and change > 0 else "") + fmt_points(_dec(change)),
            )
        console.print(table)
        if current.national is not None:
            console.print(f"Bình quân cả nước / national average: {fmt_points(current.national.total)}")

    @app.command(name="explain")
    def explain_command(
        unit: Annotated[str, typer.Argument(help="Mã đơn vị / unit code")],
        indicator: Annotated[str, typer.Argument(help="Mã chỉ tiêu / indicator code, e.g. PROGRESS_ON_TIME")],
        db: DbOption,
        period: PeriodOption,
        as_of: AsOfOption = None,
        methodology: MethodologyOption = DEFAULT_VERSION,
        limit: Annotated[int, typer.Option("--limit", help="Số hồ sơ tối đa / max records")] = 50,
        hits: Annotated[
            bool, typer.Option("--hits", help="Liệt kê bản ghi được tính vào tử số / list the numerator's records")
        ] = False,
        as_json: JsonOption = False,
        population_db_codes: PopulationCodesOption = "1",
    ) -> None:
        """Giải thích điểm bị mất / explain the points a unit loses on one indicator."""
        p = parse_period(period)
        with _open(db) as store:
            engine, current, _ = _scores(store, methodology, p, parse_as_of(as_of), None, population_db_codes)
            if unit not in current.units:
                raise InputError.single("unknown_unit", f"Không có đơn vị '{unit}'", f"No unit '{unit}'", field="unit")
            info = current.units[unit]
            counts = engine.unit_counters(p.id, info).indicators
            doc = explain(store.connection, engine.methodology, unit, info.level, indicator, p.id, counts, limit, hits)
        if as_json:
            sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
            return
        console = Console(highlight=False, width=None if sys.stdout.isatty() else 130)
        console.print(
            f"[bold]{doc['name_vi']}[/] ({indicator}) — {unit}, {p.label_vi}: "
            f"{fmt_count(doc['numerator'])}/{fmt_count(doc['denominator'])}, "
            f"{fmt_points(_dec(doc['score']))}/{fmt_points(_dec(doc['max_score']))} điểm"
        )
        for title, key in (
            ("Theo đơn vị trực thuộc", "by_subunit"),
            ("Theo TTHC", "by_procedure"),
            ("Theo lý do", "by_reason"),
        ):
            table = Table(title=title)
            for name in ("Mã", "Tên", "Số bản ghi", "Điểm có thể lấy lại"):
                table.add_column(name, justify="right" if name.startswith(("Số", "Điểm")) else "left")
            for row in doc[key][:15]:
                table.add_row(
                    str(row["key"]), row.get("name") or "", fmt_count(row["misses"]), fmt_points(_dec(row["points"]))
                )
            console.print(table)
        console.print(f"Bản ghi / records: {fmt_count(doc['records_total'])}")
        for rec in doc["records"][:limit]:
            console.print(f"  {rec['id']}  {rec['unit']}  {rec['procedure'] or ''}  {rec['reason']}")


def _dec(value: Any) -> Any:
    from decimal import Decimal

    return None if value is None else Decimal(str(value))
