"""Forecast and its backtest on generated records (tests/engine/synthetic.py: Jul–Sep 2026, units H90…/H91…).

The backtest forecasts August 2026 from a cut on 14/08 10:00 and compares with August closed (clock 05/09):
the same records, judged at the cut (D-gen-1: nothing after the cut is known) and after the period."""

from __future__ import annotations

from datetime import datetime

from chiso766.advisor.forecast import backtest, forecast
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
