"""The dossier counters from the compact facts equal the sums over every (period, dossier) row.

``LiveIndex`` keeps only the judged rows, the final facts and each dossier's bounds
(:mod:`chiso766.engine.dossier_counts`); its counters must be exactly those of the full rows of
``dossier_facts_sql`` (which ``tests/engine/test_engine_equivalence.py`` ties to the previous SQL), over day,
week, month, …, range periods, closed and provisional, pooled and unpooled, and as ±1 deltas.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

import duckdb
import pytest
from bench.synth import SynthConfig, generate

from chiso766.domain.periods import VN_TZ, Period, parse_period, periods_of_year
from chiso766.engine.counters import DOSSIER_INDICATORS, fact_sums_sql, pooled_sums_sql
from chiso766.engine.dossier_counts import dossier_delta_sql, dossier_wide_sql
from chiso766.engine.facts_dossiers import dossier_bounds_sql, dossier_facts_sql
from chiso766.engine.structure import load_calendar_table, load_period_structure, rebuild_unit_closure
from chiso766.store.db import Store
from tests.engine.synthetic import batches, differences, ingest_batches

CODES = [code for code, _num, _den in DOSSIER_INDICATORS]
RANGES = [
    Period.of_range(date(2026, 8, 3), date(2026, 8, 20)),
    Period.of_range(date(2026, 6, 30), date(2026, 7, 1)),
    Period.of_range(date(2026, 9, 30), date(2026, 9, 30)),
]
Q3_AND_LONGER = [
    p
    for p in periods_of_year(2026)
    if p.type.value != "day" or parse_period("2026-07-01").start <= p.start < parse_period("2026-10-01").start
] + RANGES


def _long(sql: str) -> str:
    return (
        "SELECT period_id, unit_code, indicator_code, CAST(numerator AS BIGINT) AS n, "
        f"CAST(denominator AS BIGINT) AS d FROM ({sql}) x WHERE numerator <> 0 OR denominator <> 0"
    )


def _wide(sql: str) -> str:
    columns = ", ".join(f"CAST(n_{i} AS BIGINT), CAST(d_{i} AS BIGINT)" for i in range(len(CODES)))
    return f"SELECT period_id, unit_code, {columns} FROM ({sql}) x"


def _check(con: duckdb.DuckDBPyConnection, periods: Sequence[Period], as_of: datetime | None) -> None:
    load_period_structure(con, periods, as_of)
    con.execute(f"CREATE OR REPLACE TEMP TABLE t_rows AS {dossier_facts_sql()}")
    con.execute(f"CREATE OR REPLACE TEMP TABLE t_facts AS {dossier_facts_sql(output='compact')}")
    con.execute(f"CREATE OR REPLACE TEMP TABLE t_bounds AS {dossier_bounds_sql()}")
    sizes = con.execute(
        "SELECT (SELECT COUNT(*) FROM t_rows), (SELECT COUNT(*) FROM t_facts WHERE period_id <> '*'), "
        "(SELECT COUNT(*) FROM t_facts WHERE period_id = '*'), (SELECT COUNT(*) FROM t_bounds)"
    ).fetchone()
    assert sizes is not None and sizes[0] > sizes[1] + sizes[2] and min(sizes) > 0  # all three routes occur
    for online in ("online", "online_with_e_result"):
        new_wide = dossier_wide_sql("t_facts", "t_bounds", DOSSIER_INDICATORS, online)
        old = _long(fact_sums_sql("t_rows", "unit_code", "TRUE", DOSSIER_INDICATORS, online))
        new = _long(pooled_sums_sql(new_wide, CODES, ordered=True))
        n_new, n_old, different = differences(con, new, old)
        assert n_new == n_old > 0 and different == 0, (online, n_new, n_old, different)
    # unpooled, units outside the tree included: the same per-(period, unit) sums as the rows'
    rows_wide = (
        "SELECT f.period_id, f.unit_code, "
        + ", ".join(
            f"COUNT(CASE WHEN ({num.format(online='online')}) THEN 1 END) AS n_{i}, "
            f"COUNT(CASE WHEN ({den}) THEN 1 END) AS d_{i}"
            for i, (_code, num, den) in enumerate(DOSSIER_INDICATORS)
        )
        + " FROM t_rows f GROUP BY f.period_id, f.unit_code"
    )
    n_new, n_old, different = differences(
        con, _wide(dossier_wide_sql("t_facts", "t_bounds", DOSSIER_INDICATORS)), _wide(rows_wide)
    )
    assert n_new == n_old > 0 and different == 0


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize(
    "as_of",
    [
        None,
        datetime(2026, 9, 25, 12, 0, tzinfo=VN_TZ),
        datetime(2026, 8, 3, 0, 0, tzinfo=VN_TZ),  # a local midnight: a day period's end and the next's start
        datetime(2026, 7, 15, 8, 30, 0, tzinfo=VN_TZ),
    ],
)
def test_compact_counts_equal_the_row_sums(seed: int, as_of: datetime | None) -> None:
    one, two = batches(seed)
    with Store() as store:
        ingest_batches(store, one, two)
        con = store.connection
        load_calendar_table(con)
        rebuild_unit_closure(con)
        _check(con, Q3_AND_LONGER, as_of)


@pytest.mark.parametrize("as_of", [None, datetime(2026, 6, 10, 15, 30, tzinfo=VN_TZ)])
def test_compact_counts_equal_the_row_sums_on_the_benchmark_generator(as_of: datetime | None) -> None:
    """Every period of 2026 (and ranges) on the benchmark's synthetic year; some dossiers at parent units, some at
    no known unit."""
    with Store() as store:
        con = store.connection
        generate(con, SynthConfig(n=6_000, seed=7, procedures=200, commune_procedures=10, petition_rate=0.02))
        con.execute("UPDATE dossiers SET unit_code = split_part(unit_code, '.', 1) WHERE hash(dossier_id) % 9 = 0")
        # a unit nobody resolves (NULL key) and a code outside the tree: counted nowhere, yet kept per key
        con.execute("UPDATE dossiers SET unit_code = NULL, id_prefix = 'NONE' WHERE hash(dossier_id) % 23 = 0")
        con.execute("UPDATE dossiers SET unit_code = 'ZZ.UNKNOWN' WHERE hash(dossier_id) % 29 = 0")
        # due dates at the edges of a local day: 23:59:59 (on time at that day's end) and midnight (late at it)
        for k, utc_time in ((0, "16:59:59"), (1, "17:00:00"), (2, "16:59:59.999999")):
            con.execute(
                f"UPDATE dossiers SET due_at = CAST(due_at AS DATE) + TIME '{utc_time}' "
                f"WHERE due_at IS NOT NULL AND hash(dossier_id, 'due') % 5 = {k}"
            )
        load_calendar_table(con)
        rebuild_unit_closure(con)
        _check(con, [*periods_of_year(2026), *RANGES], as_of)


def test_a_dossier_open_at_one_end_and_settled_at_a_later_one() -> None:
    """The generated data has dossiers that are open (unknown), then partly known (judged), then settled in
    later day periods: the three routes of one dossier add up to the rows' sums."""
    one, two = batches(1)
    with Store() as store:
        ingest_batches(store, one, two)
        con = store.connection
        load_calendar_table(con)
        rebuild_unit_closure(con)
        load_period_structure(con, [p for p in periods_of_year(2026) if p.type.value == "day"])
        con.execute(f"CREATE OR REPLACE TEMP TABLE t_rows AS {dossier_facts_sql()}")
        con.execute(f"CREATE OR REPLACE TEMP TABLE t_facts AS {dossier_facts_sql(output='compact')}")
        both = con.execute(
            "SELECT COUNT(*) FROM (SELECT dossier_id FROM t_rows GROUP BY dossier_id "
            "HAVING COUNT(CASE WHEN NOT finished THEN 1 END) > 0 AND COUNT(CASE WHEN finished THEN 1 END) > 0) x "
            "WHERE dossier_id IN (SELECT dossier_id FROM t_facts WHERE period_id = '*')"
        ).fetchone()
        assert both is not None and both[0] > 0
        _check(con, [p for p in periods_of_year(2026) if p.type.value == "day"][150:280], None)


def test_delta_is_new_minus_old() -> None:
    """``dossier_delta_sql`` (the incremental change) equals the row sums of the dossiers only in ``new``."""
    with Store() as store:
        con = store.connection
        generate(con, SynthConfig(n=3_000, seed=5, procedures=100, commune_procedures=10, petition_rate=0.02))
        load_calendar_table(con)
        rebuild_unit_closure(con)
        load_period_structure(con, periods_of_year(2026), datetime(2026, 11, 3, 9, 0, tzinfo=VN_TZ))
        con.execute(f"CREATE OR REPLACE TEMP TABLE t_rows AS {dossier_facts_sql()}")
        con.execute(f"CREATE OR REPLACE TEMP TABLE t_facts AS {dossier_facts_sql(output='compact')}")
        con.execute(f"CREATE OR REPLACE TEMP TABLE t_bounds AS {dossier_bounds_sql()}")
        kept = "WHERE hash(dossier_id) % 3 = 0"
        con.execute(f"CREATE OR REPLACE TEMP TABLE o_facts AS SELECT * FROM t_facts {kept}")
        con.execute(f"CREATE OR REPLACE TEMP TABLE o_bounds AS SELECT * FROM t_bounds {kept}")
        con.execute("CREATE OR REPLACE TEMP TABLE d_rows AS SELECT * FROM t_rows WHERE hash(dossier_id) % 3 <> 0")
        delta = pooled_sums_sql(
            dossier_delta_sql(("t_facts", "t_bounds"), ("o_facts", "o_bounds"), DOSSIER_INDICATORS), CODES
        )
        old = fact_sums_sql("d_rows", "unit_code", "TRUE", DOSSIER_INDICATORS)
        n_new, n_old, different = differences(con, _long(delta), _long(old))
        assert n_new == n_old > 0 and different == 0
