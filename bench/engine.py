"""Engine benchmark: full recompute, scoring and the incremental day, against a hand-written reference pass.

Run ``python -m bench.engine [--n 1000000] [--seed 1] [--db PATH | --memory]``. Every measurement is one JSON
object on stdout (DESIGN contract 3); progress goes to stderr. Everything is measured in this process, in the
same run, on the same synthetic store (:mod:`bench.synth`):

``synth``                        generating the store (not a target; for context)
``reference``                    one hand-written GROUP BY over ``dossiers`` (unit × month: count, on time,
                                 online, paid online) — the yardstick of the full-recompute target
``full_recompute``               facts + counters of every unit × every period of 2026 (438 periods):
                                 ``LiveIndex.rebuild`` (else ``Engine.prepare`` when ``live.py`` is absent)
``score_all_units_one_period``   ``Engine.period_scores`` for one month: every unit scored in Python, ranked
``incremental_day``              one more day of dossiers (N/365, with their ``changes`` rows) and
                                 ``LiveIndex.apply_changes()``; the insert is not timed
``stage:*``                      with ``--profile``: the facts/counters stages run one by one (a second
                                 recompute; for finding the slow step, not a target)
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb

import chiso766
from bench.synth import YEAR, SynthConfig, add_day, generate
from chiso766.domain.periods import VN_TZ, Period, PeriodType, periods_of_year
from chiso766.engine.compute import Engine
from chiso766.methodology.loader import load_methodology
from chiso766.service.scoreboard import tracked_periods
from chiso766.store.db import Store

TARGET_PER_SECOND = 3_000_000  # DESIGN Targets: full recompute ≥ 3 M dossiers/s …
TARGET_RATIO = 3.0  # … and within 3× the reference pass
TARGET_INCREMENTAL_SECONDS = 1.0  # one more day current within 1 s at 10 M dossiers of history
INCREMENTAL_TARGET_N = 10_000_000

try:  # the incremental engine (another engineer's module); the bench works without it
    from chiso766.engine.live import LiveIndex

    HAVE_LIVE = True
except ImportError:  # pragma: no cover - depends on the tree
    HAVE_LIVE = False


def peak_rss_mb() -> float:
    """Peak resident set of this process so far (Linux reports KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def rss_mb() -> float | None:
    """Current resident set (``/proc/self/status``), or None where unavailable."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


class Reporter:
    """Prints one JSON object per measurement with the common fields."""

    def __init__(self, common: dict[str, Any]) -> None:
        self.common = common
        self.lines: list[dict[str, Any]] = []

    def emit(self, name: str, seconds: float | None, **fields: Any) -> dict[str, Any]:
        doc: dict[str, Any] = {"name": name, "n": self.common["n"], "seconds": _round(seconds)}
        doc.setdefault("per_second", None)
        doc.setdefault("ratio_to_reference", None)
        doc.update(fields)
        doc["peak_rss_mb"] = peak_rss_mb()
        doc["rss_mb"] = rss_mb()
        doc.update(self.common)
        print(json.dumps(doc, ensure_ascii=False, default=str), flush=True)
        self.lines.append(doc)
        return doc


def _round(x: float | None, digits: int = 4) -> float | None:
    return None if x is None else round(x, digits)


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


LAST_CPU_SECONDS: list[float] = [0.0]  # CPU time (all threads) of the last ``timed`` call


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Wall seconds of ``fn()`` and its result; its process CPU seconds (every DuckDB thread) go to
    ``LAST_CPU_SECONDS`` — steadier than wall time on a shared machine."""
    started, cpu_started = time.perf_counter(), cpu_seconds()
    result = fn()
    LAST_CPU_SECONDS[0] = cpu_seconds() - cpu_started
    return time.perf_counter() - started, result


def count(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    rows = con.execute(sql).fetchall()
    return int(rows[0][0]) if rows else 0


def table_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return count(con, f"SELECT COUNT(*) FROM information_schema.tables WHERE table_name = '{name}'") > 0


# --- the reference pass ---------------------------------------------------------------------------------------
REFERENCE_SQL = """
CREATE OR REPLACE TEMP TABLE bench_reference AS
SELECT unit_code,
       date_trunc('month', received_at + INTERVAL 7 HOUR) AS month,
       COUNT(*) AS dossiers,
       COUNT(*) FILTER (WHERE processing_end_at IS NOT NULL AND processing_end_at <= due_at) AS on_time,
       COUNT(*) FILTER (WHERE channel = '2') AS online,
       COUNT(*) FILTER (WHERE payment_code IN ('1', '2')) AS paid_online
FROM dossiers
WHERE received_at IS NOT NULL
GROUP BY 1, 2
"""


def measure_reference(con: duckdb.DuckDBPyConnection, repeats: int = 3) -> tuple[float, int]:
    """Best of ``repeats`` runs of the reference aggregate (warm cache, like the engine run after it)."""
    best = float("inf")
    for _ in range(repeats):
        seconds, _ = timed(lambda: con.execute(REFERENCE_SQL))
        best = min(best, seconds)
    return best, count(con, "SELECT COUNT(*) FROM bench_reference")


# --- the engine -----------------------------------------------------------------------------------------------
def selected_periods(spec: str, day: date | None = None) -> list[Period]:
    """``all`` (438), ``live`` (what the server keeps live at noon of ``day``: year, halves, M9, quarters and
    months so far, that ISO week and that day; ``Scoreboard``'s ``tracked_periods``) or period types."""
    if spec == "all":
        return periods_of_year(YEAR)
    if spec == "live":
        day = day or date(YEAR, 12, 31)
        return tracked_periods(datetime(day.year, day.month, day.day, 12, tzinfo=VN_TZ))
    return periods_of_year(YEAR, [PeriodType(t.strip()) for t in spec.split(",") if t.strip()])


def counters_table(con: duckdb.DuckDBPyConnection) -> str:
    return "mat_counters" if table_exists(con, "mat_counters") else "counters"


def expose_counters(con: duckdb.DuckDBPyConnection) -> Callable[[], None]:
    """``Engine.period_scores`` reads ``counters``: after a LiveIndex rebuild, show ``mat_counters`` under that
    name for the scoring step (a temp view, dropped again so a later rebuild can create its own table)."""
    if table_exists(con, "counters") or not table_exists(con, "mat_counters"):
        return lambda: None
    con.execute("CREATE OR REPLACE TEMP VIEW counters AS SELECT * FROM mat_counters")

    def restore() -> None:
        con.execute("DROP VIEW IF EXISTS counters")

    return restore


def profile_stages(
    store: Store, reporter: Reporter, periods: Sequence[Period], reference_seconds: float, n: int
) -> None:
    """Run the recompute's stages one by one into scratch tables and time each (``--profile``)."""
    from chiso766.engine.counters import counters_sql
    from chiso766.engine.facts_catalogue import catalogue_facts_sql
    from chiso766.engine.facts_dossiers import dossier_facts_sql
    from chiso766.engine.facts_petitions import petition_facts_sql
    from chiso766.engine.structure import load_period_structure

    con = store.connection
    methodology = load_methodology()
    load_period_structure(con, periods)
    stages = (
        ("dossier_facts", dossier_facts_sql()),
        ("petition_facts", petition_facts_sql()),
        ("catalogue_facts", catalogue_facts_sql()),
        ("counters", counters_sql(methodology)),
    )
    # counters_sql reads the facts tables by their plain names; LiveIndex keeps its own as mat_*, untouched
    for name, sql in stages:
        log(f"profile: {name} …")
        con.execute(f"DROP TABLE IF EXISTS {name}")
        started = time.perf_counter()
        con.execute(f"CREATE TABLE {name} AS {sql}")
        seconds = time.perf_counter() - started
        rows = count(con, f"SELECT COUNT(*) FROM {name}")
        reporter.emit(
            f"stage:{name}",
            seconds,
            rows=rows,
            ratio_to_reference=_round(seconds / reference_seconds, 2),
            per_second=round(n / seconds) if seconds > 0 else None,
            periods=len(periods),
        )
    for name, _ in stages:
        con.execute(f"DROP TABLE IF EXISTS {name}")


def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    cfg = SynthConfig(n=args.n, seed=args.seed, commune_procedures=args.commune_procedures)
    tmp: tempfile.TemporaryDirectory[str] | None = None
    if args.memory:
        db_path = ":memory:"
    elif args.db:
        db_path = args.db
        if Path(db_path).exists():
            raise SystemExit(f"{db_path} exists; the bench fills a new store (remove it or choose another path)")
    else:
        tmp = tempfile.TemporaryDirectory(prefix="chiso766-bench-")
        db_path = str(Path(tmp.name) / "bench.duckdb")
    store = Store(db_path, memory_limit=args.memory_limit)
    con = store.connection
    if args.threads:
        con.execute(f"SET threads = {int(args.threads)}")
    threads = count(con, "SELECT current_setting('threads')")
    periods = selected_periods(args.periods, date.fromisoformat(args.day))
    reporter = Reporter(
        {
            "n": args.n,
            "seed": args.seed,
            "duckdb_version": duckdb.__version__,
            "chiso766_version": chiso766.__version__,
            "python": platform.python_version(),
            "threads": threads,
            "memory_limit": store.memory_limit,
            "db": "memory" if db_path == ":memory:" else "file",
            "engine": "LiveIndex" if HAVE_LIVE else "Engine",
        }
    )
    try:
        # 1. synthetic store
        log(f"generating {cfg.n:,} dossiers (seed {cfg.seed}) into {db_path} …")
        seconds, summary = timed(lambda: generate(con, cfg))
        if db_path != ":memory:":
            con.execute("CHECKPOINT")
        reporter.emit(
            "synth",
            seconds,
            per_second=round(cfg.n / seconds),
            commune_procedures=cfg.commune_procedures,
            **summary.__dict__,
        )
        dossiers = summary.dossiers

        # 2. reference
        log("reference pass …")
        ref_seconds, ref_rows = measure_reference(con)
        reporter.emit("reference", ref_seconds, per_second=round(dossiers / ref_seconds), rows=ref_rows, repeats=3)

        # 3. full recompute
        methodology = load_methodology(args.methodology)
        log(f"full recompute of {len(periods)} periods × every unit …")
        live = LiveIndex(store, methodology) if HAVE_LIVE else None
        if live is not None:
            seconds, _ = timed(lambda: live.rebuild(periods))
        else:
            engine = Engine(store, methodology)
            seconds, _ = timed(lambda: engine.prepare(periods))
        prefix = "mat_" if live is not None else ""
        reporter.emit(
            "full_recompute",
            seconds,
            per_second=round(dossiers / seconds),
            ratio_to_reference=_round(seconds / ref_seconds, 2),
            cpu_seconds=_round(LAST_CPU_SECONDS[0], 2),
            periods=len(periods),
            units=summary.units,
            dossier_fact_rows=count(con, f"SELECT COUNT(*) FROM {prefix}dossier_facts"),
            catalogue_fact_rows=count(con, f"SELECT COUNT(*) FROM {prefix}catalogue_facts"),
            counter_rows=count(con, f"SELECT COUNT(*) FROM {prefix}counters"),
            target={"per_second_min": TARGET_PER_SECOND, "ratio_to_reference_max": TARGET_RATIO},
            meets_target=dossiers / seconds >= TARGET_PER_SECOND and seconds / ref_seconds <= TARGET_RATIO,
        )

        # 4. scoring every unit for one month
        month = next((p for p in periods if p.type is PeriodType.MONTH), periods[0])
        engine = Engine(store, methodology)
        restore = expose_counters(con)
        try:
            log(f"scoring every unit for {month.id} …")
            seconds, result = timed(lambda: engine.period_scores(month))
        finally:
            restore()
        reporter.emit(
            "score_all_units_one_period",
            seconds,
            per_second=round(len(result.scores) / seconds) if seconds > 0 else None,
            period=month.id,
            units_scored=len(result.scores),
        )

        # 5. incremental day
        if live is None:
            reporter.emit("incremental_day", None, skipped=True, reason="chiso766.engine.live is not available")
        else:
            day = date.fromisoformat(args.day)
            log(f"adding one more day ({day}) and applying the changes …")
            added = add_day(con, cfg, day)
            seconds, report = timed(lambda: live.apply_changes())
            reporter.emit(
                "incremental_day",
                seconds,
                per_second=round(added / seconds) if seconds > 0 else None,
                cpu_seconds=_round(LAST_CPU_SECONDS[0], 2),
                day=day.isoformat(),
                new_dossiers=added,
                history_dossiers=dossiers,
                report={k: v for k, v in report.__dict__.items()},
                target={"seconds_max": TARGET_INCREMENTAL_SECONDS, "at_n": INCREMENTAL_TARGET_N},
                meets_target=seconds <= TARGET_INCREMENTAL_SECONDS,
            )

        # 6. optional per-stage profile (a second recompute, stage by stage)
        if args.profile:
            profile_stages(store, reporter, periods, ref_seconds, dossiers)
    finally:
        store.close()
        if tmp is not None:
            tmp.cleanup()
    return reporter.lines


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.engine", description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=1_000_000, help="dossiers in the synthetic year (default 1,000,000)")
    p.add_argument("--seed", type=int, default=1)
    where = p.add_mutually_exclusive_group()
    where.add_argument("--db", help="DuckDB file to create (default: a temp dir, removed afterwards)")
    where.add_argument("--memory", action="store_true", help="use an in-memory DuckDB instead of a file")
    p.add_argument(
        "--periods",
        default="all",
        help="'all' (the 438 calendar periods of 2026), 'live' (the periods the server keeps live on --day) or "
        "comma-separated types, e.g. 'month,quarter,year'",
    )
    p.add_argument(
        "--commune-procedures",
        type=int,
        default=SynthConfig.commune_procedures,
        help="commune-level TTHC in the synthetic catalogue (catalogue cost grows with it × communes × periods)",
    )
    p.add_argument("--day", default=f"{YEAR}-12-31", help="the day the incremental batch is received on")
    p.add_argument("--methodology", default=None, help="methodology version (default: the shipped default)")
    p.add_argument("--threads", type=int, default=0, help="DuckDB threads (default: DuckDB's choice)")
    p.add_argument(
        "--memory-limit",
        default=None,
        help="DuckDB memory limit, e.g. 4GB (default: $CHISO766_MEMORY_LIMIT, else the store's default)",
    )
    p.add_argument("--profile", action="store_true", help="also time each facts/counters stage separately")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    run(parse_args(argv))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
