"""The faster engine SQL gives exactly the rows of the previous algorithm on generated data.

The dossier facts are judged once per distinct judging instant (a dossier's final facts stand for every period
where it is settled); the previous SQL judged every (period, dossier) row at the period's horizon. Both are run
on the same stores, over many periods and horizons (closed, provisional mid-day), and must agree row for row.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

import duckdb
import pytest
from bench.synth import SynthConfig, generate

from chiso766.domain.periods import VN_TZ, Period, parse_period, periods_of_year
from chiso766.engine.counters import DOSSIER_INDICATORS, fact_sums_sql
from chiso766.engine.facts_catalogue import catalogue_facts_sql, dossier_arrivals_sql, dossier_usage_sql
from chiso766.engine.facts_dossiers import dossier_facts_sql
from chiso766.engine.structure import load_calendar_table, load_period_structure, rebuild_unit_closure
from chiso766.store.db import Store
from tests.engine.legacy_counters import fact_sums_sql as legacy_fact_sums_sql
from tests.engine.legacy_facts_catalogue import catalogue_facts_sql as legacy_catalogue_facts_sql
from tests.engine.legacy_facts_dossiers import dossier_facts_sql as legacy_dossier_facts_sql
from tests.engine.legacy_usage import dossier_usage_sql as legacy_dossier_usage_sql
from tests.engine.synthetic import batches, differences, ingest_batches

Q3_AND_LONGER = [
    p
    for p in periods_of_year(2026)
    if p.type.value != "day" or parse_period("2026-07-01").start <= p.start < parse_period("2026-10-01").start
]


def _check(con: duckdb.DuckDBPyConnection, periods: Sequence[Period], as_of: datetime | None, scoped: bool) -> None:
    load_period_structure(con, periods, as_of)
    scope = None
    if scoped:  # the incremental path: a scope table of some dossiers
        con.execute(
            "CREATE OR REPLACE TABLE eq_scope AS SELECT dossier_id FROM dossiers WHERE hash(dossier_id) % 7 = 0"
        )
        scope = "eq_scope"
    new_sql = dossier_facts_sql(scope_table=scope)
    old_sql = legacy_dossier_facts_sql(scope_table=scope)
    n_new, n_old, different = differences(con, new_sql, old_sql)
    assert n_new == n_old > 0
    assert different == 0
    # the rewrite must really route rows three ways on this data (else the test proves little)
    routes = con.execute(
        "SELECT COUNT(*) FILTER (WHERE finished), COUNT(*) FILTER (WHERE NOT finished) FROM eq_new"
    ).fetchone()
    assert routes is not None and routes[0] > 0 and routes[1] > 0


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize(
    "as_of",
    [None, datetime(2026, 9, 25, 12, 0, tzinfo=VN_TZ), datetime(2026, 8, 3, 0, 0, tzinfo=VN_TZ)],
)
def test_dossier_facts_equal_the_previous_algorithm_on_generated_records(seed: int, as_of: datetime | None) -> None:
    one, two = batches(seed)
    with Store() as store:
        ingest_batches(store, one, two)
        con = store.connection
        load_calendar_table(con)
        rebuild_unit_closure(con)
        _check(con, Q3_AND_LONGER, as_of, scoped=False)
        _check(con, Q3_AND_LONGER, as_of, scoped=True)


@pytest.mark.parametrize("as_of", [None, datetime(2026, 6, 10, 15, 30, tzinfo=VN_TZ)])
def test_dossier_facts_equal_the_previous_algorithm_on_the_benchmark_generator(as_of: datetime | None) -> None:
    """The benchmark's synthetic year (supplements from both routes, late returns, refusals, PAKN links), every
    period of 2026."""
    with Store() as store:
        con = store.connection
        generate(con, SynthConfig(n=6_000, seed=7, procedures=200, commune_procedures=10, petition_rate=0.02))
        load_calendar_table(con)
        rebuild_unit_closure(con)
        _check(con, periods_of_year(2026), as_of, scoped=False)


@pytest.mark.parametrize("weighted", [False, True])
def test_fact_sums_equal_the_previous_roll_up(weighted: bool) -> None:
    """The pooled dossier sums (own + proper descendants) equal the previous one-join roll-up, also with ±1
    weights (the incremental deltas), on the benchmark generator's facts over every period of 2026; the tree
    here has parents with their own dossiers (the fixture-like case) because some dossiers are moved to roots."""
    with Store() as store:
        con = store.connection
        generate(con, SynthConfig(n=6_000, seed=11, procedures=200, commune_procedures=10))
        con.execute("UPDATE dossiers SET unit_code = split_part(unit_code, '.', 1) WHERE hash(dossier_id) % 9 = 0")
        load_calendar_table(con)
        rebuild_unit_closure(con)
        load_period_structure(con, periods_of_year(2026))
        con.execute(
            f"CREATE TABLE facts AS SELECT *, CASE WHEN hash(dossier_id) % 3 = 0 THEN -1 ELSE 1 END AS w "
            f"FROM ({dossier_facts_sql()}) f"
        )
        weight = "f.w" if weighted else "1"
        new = fact_sums_sql("facts", "unit_code", "TRUE", DOSSIER_INDICATORS, weight=weight)
        old = legacy_fact_sums_sql("facts", "unit_code", "TRUE", DOSSIER_INDICATORS, weight=weight)
        cast = (
            "SELECT period_id, unit_code, indicator_code, CAST(numerator AS BIGINT), CAST(denominator AS BIGINT) FROM"
        )
        n_new, n_old, different = differences(con, f"{cast} ({new}) x", f"{cast} ({old}) x")
        assert n_new == n_old > 0 and different == 0
        roots = con.execute("SELECT COUNT(*) FROM facts WHERE unit_code NOT LIKE '%.%'").fetchone()
        assert roots is not None and roots[0] > 0


@pytest.mark.parametrize(
    "as_of", [None, datetime(2026, 6, 10, 15, 30, tzinfo=VN_TZ), datetime(2026, 8, 3, tzinfo=VN_TZ)]
)
@pytest.mark.parametrize("weighted", [False, True])
def test_dossier_usage_equals_the_previous_range_join(as_of: datetime | None, weighted: bool) -> None:
    """Arrivals matched to closed periods by day (and to provisional ones by instant) give the previous counts,
    over every period of 2026 and ranges, also with ±1 weights."""
    with Store() as store:
        con = store.connection
        generate(con, SynthConfig(n=6_000, seed=13, procedures=200, commune_procedures=10))
        load_calendar_table(con)
        rebuild_unit_closure(con)
        ranges = [
            Period.of_range(date(2026, 8, 3), date(2026, 8, 20)),
            Period.of_range(date(2026, 6, 10), date(2026, 6, 10)),
        ]
        load_period_structure(con, [*periods_of_year(2026), *ranges], as_of)
        con.execute(
            f"CREATE TABLE arrivals AS SELECT *, CASE WHEN hash(dossier_id) % 3 = 0 THEN -1 ELSE 1 END AS w "
            f"FROM ({dossier_arrivals_sql()}) a"
        )
        weight = "w" if weighted else None
        n_new, n_old, different = differences(
            con, dossier_usage_sql("arrivals", weight=weight), legacy_dossier_usage_sql("arrivals", weight=weight)
        )
        assert n_new == n_old > 0 and different == 0


@pytest.mark.parametrize(
    "as_of", [None, datetime(2026, 9, 25, 12, 0, tzinfo=VN_TZ), datetime(2026, 8, 3, tzinfo=VN_TZ)]
)
@pytest.mark.parametrize("seed", [7, 8])
def test_catalogue_facts_equal_the_previous_sql(seed: int, as_of: datetime | None) -> None:
    """Every catalogue fact (1.1–4.5a, static and dated) as the previous SQL gives it, on the benchmark
    generator's year (QĐCB, clicks, dossiers) over Q3's days, every longer period and ranges, closed and
    provisional."""
    with Store() as store:
        con = store.connection
        generate(con, SynthConfig(n=6_000, seed=seed, procedures=200, commune_procedures=10, petition_rate=0.02))
        load_calendar_table(con)
        rebuild_unit_closure(con)
        ranges = [
            Period.of_range(date(2026, 8, 3), date(2026, 8, 20)),
            Period.of_range(date(2026, 3, 1), date(2026, 9, 2)),
        ]
        load_period_structure(con, [*Q3_AND_LONGER, *ranges], as_of)
        n_new, n_old, different = differences(con, catalogue_facts_sql(), legacy_catalogue_facts_sql())
        assert n_new == n_old > 0 and different == 0
        due = con.execute("SELECT COUNT(*) FROM eq_new WHERE reason = 'not_made_public'").fetchone()
        assert due is not None and due[0] > 0
