"""Forecast and its backtest on generated records (tests/engine/synthetic.py: Jul–Sep 2026, units H90…/H91…).

The backtest forecasts August 2026 from a cut on 14/08 10:00 and compares with August closed (clock 05/09):
the same records, judged at the cut (D-gen-1: nothing after the cut is known) and after the period."""

from __future__ import annotations

from datetime import datetime

from chiso766.advisor.forecast import RANGE_SCALE, backtest, forecast, rate_spread, shrink
from chiso766.domain.periods import VN_TZ
from chiso766.methodology import load_methodology
from chiso766.service.scoreboard import Scoreboard
from chiso766.store.db import Store
from chiso766.store.load import ingest_records
from tests.engine.synthetic import batches

UNITS = ["H90", "H90.01", "H90.02", "H90.10", "H90.11", "H91"]


def _store() -> Store:
    store = Store()
    one, _ = batches(7, first=500)
    for kind in ("units", "procedures", "dossiers", "petitions"):
        ingest_records(store, kind, one[kind], f"synthetic-{kind}")
    return store


def test_forecast_range_and_closed_period() -> None:
    store = _store()
    m = load_methodology("portal-2026")
    at = Scoreboard(store, m, clock=lambda: datetime(2026, 8, 14, 10, tzinfo=VN_TZ))
    f = forecast(at, "H90", "2026-08")
    assert f.remaining_days == 11  # working days after Fri 14/08 up to Mon 31/08
    assert f.low.total <= f.central.total <= f.high.total
    for code, (n, d) in f.counters.items():
        now = f.current.indicators[code]
        assert d >= int(now.denominator or 0) and 0 <= n <= d
    # a closed period forecasts itself
    end = Scoreboard(store, m, clock=lambda: datetime(2026, 9, 5, 10, tzinfo=VN_TZ))
    closed = forecast(end, "H90", "2026-08")
    assert closed.central.total == closed.low.total == closed.high.total == end.scores("2026-08").scores["H90"].total
    store.close()


def test_backtest_reports_the_error_against_the_closed_period() -> None:
    store = _store()
    m = load_methodology("portal-2026")
    at = Scoreboard(store, m, clock=lambda: datetime(2026, 8, 14, 10, tzinfo=VN_TZ))
    end = Scoreboard(store, m, clock=lambda: datetime(2026, 9, 5, 10, tzinfo=VN_TZ))
    doc = backtest(at, end, UNITS, "2026-08")
    actual = end.scores("2026-08")
    assert [r["unit"] for r in doc["units"]] == UNITS
    for row in doc["units"]:
        assert row["actual"] == float(actual.scores[row["unit"]].total)
        assert round(row["forecast"] - row["actual"], 2) == row["error"]
    assert doc["mae"] == round(sum(abs(r["error"]) for r in doc["units"]) / len(UNITS), 4)
    assert 0 <= doc["coverage"] <= 1
    store.close()


def test_shrink_weighs_the_prior_by_kappa_times_its_denominator() -> None:
    # 40 records seen so far project 0.90; last period 0.70 on 100 records, κ = 0.5 → prior weight 50:
    # 40/90 × 0.90 + 50/90 × 0.70 = 0.7889 on 90 records of evidence
    rate, evidence = shrink(0.90, 40, (0.70, 100), 0.5)
    assert round(rate, 4) == 0.7889 and evidence == 90
    # κ = 4 (catalogue items used): the prior's 400 against 40 seen → 40/440 × 0.9 + 400/440 × 0.7 = 0.7182
    assert round(shrink(0.90, 40, (0.70, 100), 4.0)[0], 4) == 0.7182
    # no prior, an empty prior or κ = 0 (static catalogue): the projection stands
    assert shrink(0.9, 40, None, 0.5) == (0.9, 40)
    assert shrink(0.9, 40, (0.7, 0), 0.5) == (0.9, 40)
    assert shrink(0.9, 40, (0.7, 100), 0.0) == (0.9, 40)
    # nothing seen yet: the prior alone
    assert shrink(1.0, 0, (0.75, 8), 0.5) == (0.75, 4.0)


def test_rate_spread_is_binomial_on_the_evidence() -> None:
    # p = 0.8 on 99 records (+1): sqrt(0.16 / 100) = 0.04, times the calibrated scale
    assert round(rate_spread(0.8, 99), 6) == round(0.04 * RANGE_SCALE, 6)
    assert rate_spread(1.0, 10) == 0.0


def test_forecast_shrinks_toward_the_previous_period() -> None:
    """September forecast from a cut on 08/09: every projected rate lies between the structural projection
    and August's (closed) rate, the range contains the central total, and catalogue counts of items used move
    toward August's instead of staying at today's count."""
    store = _store()
    m = load_methodology("portal-2026")
    at = Scoreboard(store, m, clock=lambda: datetime(2026, 9, 8, 10, tzinfo=VN_TZ))
    f = forecast(at, "H90", "2026-09")
    august = at.scores("2026-08").scores["H90"]
    assert f.low.total <= f.central.total <= f.high.total
    used = "ONLINE_SERVICES_USED"
    now, before, proj = f.current.indicators[used], august.indicators[used], f.counters[used]
    if now.rate is not None and before.rate is not None and proj[1]:
        lo, hi = sorted((float(now.rate), float(before.rate)))
        assert lo / 100 - 0.01 <= proj[0] / proj[1] <= hi / 100 + 0.01
    store.close()
