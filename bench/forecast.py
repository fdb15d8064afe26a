"""Backtest of the advisor's period-end forecast on a generated store (issue "Advisor" item 3).

For each province, the forecast made with the clock at ``--cut`` is compared with the period's actual closed
score (clock after the period). Prints one JSON object (DESIGN contract 3 style) with the mean absolute error of
the total, the same for the naive "no change" forecast, the worst error and the share of actual totals inside the
forecast range. Usage::

    chiso766 generate --scale nation --dossiers 150000 --seed 766 --out /tmp/g --now 2026-11-20T10:00
    chiso766 ingest --db /tmp/g.duckdb /tmp/g
    python -m bench.forecast --db /tmp/g.duckdb --period 2026-10 --cut 2026-10-15T12:00
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import sys
import time
from datetime import datetime, timedelta

from chiso766.advisor.forecast import backtest
from chiso766.domain.periods import VN_TZ, parse_period
from chiso766.methodology import load_methodology
from chiso766.service import Scoreboard
from chiso766.store.db import Store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--period", default="2026-10")
    parser.add_argument("--cut", action="append", help="yyyy-mm-ddTHH:MM (VN time); repeatable")
    parser.add_argument("--window", type=int, default=10)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    period = parse_period(args.period)
    method = load_methodology("portal-2026")
    cuts = args.cut or [(period.start + timedelta(days=d)).isoformat() + "T12:00" for d in (7, 14, 21)]
    with Store(args.db) as store:
        after = datetime.combine(period.end, datetime.min.time(), VN_TZ) + timedelta(hours=12)
        board_end = Scoreboard(store, method, clock=lambda: after)
        roots = sorted(c for c, u in board_end.units().items() if u.is_root)
        for cut_text in cuts:
            cut = datetime.fromisoformat(cut_text).replace(tzinfo=VN_TZ)
            board_at = Scoreboard(store, method, clock=lambda cut=cut: cut)  # type: ignore[misc]
            started = time.perf_counter()
            result = backtest(board_at, board_end, roots, period, window=args.window)
            seconds = time.perf_counter() - started
            doc = {
                "name": "forecast_backtest",
                "period": period.id,
                "cut": cut.isoformat(),
                "n": len(roots),
                "seconds": round(seconds, 2),
                "per_second": round(len(roots) / seconds, 2),
                "ratio_to_reference": None,
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                "mae": result["mae"],
                "naive_mae": result["naive_mae"],
                "max_error": result["max_error"],
                "coverage": result.get("coverage"),
            }
            sys.stdout.write(json.dumps(doc) + "\n")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
