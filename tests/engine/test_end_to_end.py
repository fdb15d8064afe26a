"""End to end through the real command line: records → ``chiso766 ingest`` → ``compute`` / ``rank`` / ``explain``.

Every call goes through the console entry point :func:`chiso766.cli.main.run` (``sys.argv`` patched, stdout and
stderr captured), on a DuckDB file made by ``chiso766 ingest`` from ``tests/data/engine_fixture`` (DESIGN
contract 2). Every expected number below was worked out by hand from the records; the arithmetic is in the
docstrings. Rule ids (D-…) are those of shared/spec/INTERPRETATIONS.md; M = shared/spec/METHODOLOGY.md.

Scores are rounded half up to 2 decimals (D-score-1); metric groups (CKMB, MDHL, MDSH) add the rounded
indicator scores, parameter groups (TDGQ, CLGQ, TTTT) round the sum of unrounded components (D-score-4).
linear(M) = M·r; target(M, t) = min(M, M·r/t). Periods: the closed month ``2026-03`` (Mar) and its quarter
``2026Q1`` (Q1); ``2026-02`` (Feb) is Mar's previous month.

The fixture
===========

Units (``units.json``)::

    H90     Tỉnh Thử Nghiệm   province (MaDinhDanh 000.00.00.H90)
    ├── H90.01  Sở Tư pháp      provincial_department
    ├── H90.02  Sở Xây dựng     provincial_department
    ├── H90.11  Xã An Bình      commune (MaDinhDanh 000.10.11.H90)
    ├── H90.12  Xã Bình Minh    commune
    └── H90.13  Xã Cát Tiên     commune
    H91     Tỉnh Đối Chứng    province
    └── H91.11  Xã Đông Hải     commune

Procedures (``procedures.json``; all "Đang công khai"; fee = a PHILEPHI amount with a non-zero digit)::

    P1 1.000001  level 1, agency H90.01, fee 200.000, citizen,  paper result, 7 components, DVC S1@H90.01 full public
                 legal basis effective 16/03/2026; "Công khai" clicked 05/03/2026
    P2 1.000002  level 1, agency H90.02, fee 500.000, company,  no paper,     7 components, DVC S2@H90.02 partial public
                 legal basis effective 05/03/2026; clicked 12/03/2026
    P3 1.000003  level 3 (xã), agency "UBND cấp xã" (no code), fee 10.000, citizen, paper, 7 components;
                 DVC S3a@H90.11 full, S3b@H90.12 full, S3c@H90.13 partial, S3d@H91.11 full (all public);
                 legal basis effective 02/02/2026; clicked 14/01/2026
    P4 1.000004  level 3, agency "UBND cấp xã", fee "0", citizen, paper, NO THANHPHANHOSO (incomplete), no DVC;
                 clicked 10/06/2025
    P5 2.000005  no level, agency H91.11, fee "0", company, no paper, 7 components, DVC S5@H91.11 partial public;
                 clicked 10/06/2025

Publication decisions (``publications.json``), both by H90: 01/QĐ-UBND 12/01/2026 {P3 new};
15/QĐ-UBND 02/03/2026 {P1 amended, P2 new}.

Catalogue ownership and authority (facts_catalogue Cat-owner / Cat-authority): P1, P2, P3 belong to H90 (an
agency in H90 or a QĐCB of H90); P4 has no owner, so both provinces own it; P5 belongs to H91. Authority:
H90.01 {P1}, H90.02 {P2}, every commune {P3, P4} (level 3), H91.11 also {P5}; H90 = {P1, P2, P3, P4},
H91 = {P3, P4, P5}. Citizen TTHC (4.5a): P1, P3, P4.

Working-day indexes (calendar table, "working days after a up to and including b" = idx(b) − idx(a)):
Mon 12/01 508, Wed 14/01 510, Mon 02/02 523, Mon 02/03 538, Tue 03/03 539, Thu 05/03 541, Fri 06/03 542,
Tue 10/03 544, Thu 12/03 546, Fri 13/03 547, Mon 16/03 548, Fri 20/03 552, Mon 23/03 553.

Dossiers (``dossiers.json``; times Vietnam local; ``progress.jsonl`` adds B2's history and a 9 for A2)::

    id   unit    TTHC ch  received     due          end (status)          fee list   paid  files / data
    A1   H90.01  P1   2   02/03 08:00  13/03 17:00  12/03 10:00 (10)      200000     1     comp res sohoa resync vneid
    A2   H90.01  P1   2   03/03 09:00  17/03 17:00  18/03 15:00 (10)      200000     1     comp res vneid
    A3   H90.01  P1   1   04/03 09:00  18/03 17:00  16/03 10:00 (9)       200000     0     comp; 2 supplement requests
    A4   H90.01  P1   1   10/03 09:00  20/03 17:00  still open (4)        200000     0     -
    A5   H90.01  P1   2   25/02 09:00  11/03 17:00  05/03 10:00 (10)      200000     2     comp(from store) res
    A6   H90.01  P1   1   13/01 09:00  27/01 17:00  20/01 10:00 (10)      0          0     comp res sohoa vneid
    B0   H90.02  P2   1   10/02 09:00  24/02 17:00  26/02 10:00 (10)      500000     0     comp
    B1   H90.02  P2   1   09/03 09:00  23/03 17:00  20/03 10:00 (10)      500000     0     comp sohoa; disliked
    B2   H90.02  P2   3   11/03 09:00  25/03 17:00  26/03 10:00 (10)      500000     0     -; 1 supplement (history)
    B3   H90.02  P2   ""  12/03 09:00  26/03 17:00  refused 13/03 10:00 (3)  0       0     comp
    V1   H90     P1   1   16/03 09:00  27/03 17:00  30/03 10:00 (10)      (none)     0     MaCSDL "1"
    C1a  H90.11  P3   2   02/03 10:00  03/03 17:00  03/03 11:00 (10)      10000      1     comp res sohoa resync vneid
    C1b  H90.11  P3   1   05/03 10:00  06/03 17:00  06/03 16:00 (10)      10000      1     comp res sohoa resync vneid
    C1c  (prefix 000.10.11.H90 → H90.11)
                 P4   1   09/03 10:00  10/03 17:00  10/03 15:00 (10)      (none)     0     comp res sohoa resync
    C2a  H90.12  P3   2   03/03 10:00  04/03 17:00  04/03 10:00 (10)      10000      1     comp res vneid
    C2b  H90.12  P3   1   06/03 10:00  09/03 17:00  10/03 09:00 (10)      10000      0     -
    C3a  H90.13  P3   2   03/03 11:00  04/03 17:00  04/03 11:00 (10)      10000      1     comp res vneid
    C3b  H90.13  P3   2   04/03 10:00  05/03 17:00  05/03 10:00 (10)      10000      1     comp res vneid
    C3c  H90.13  P3   1   06/03 11:00  09/03 17:00  10/03 10:00 (10)      10000      0     -
    C3d  H90.13  P3   1   09/03 11:00  10/03 17:00  11/03 09:00 (10)      10000      0     -
    E1   H91.11  P3   2   04/03 10:00  05/03 17:00  05/03 10:00 (10)      10000      1     comp res vneid
    E2   H91.11  P5   1   10/03 10:00  17/03 17:00  still open (4)        (none)     0     -
    E3   H91.11  P3   1   11/03 10:00  12/03 17:00  12/03 10:00 (10)      10000      0     comp res

2.1 verdicts, closed month (D-2.1-*): A1 12/03 ≤ 13/03 on time; A2 18/03 15:00 > 17/03 17:00 late (after_due);
A3 two supplement requests (05/03, 09/03) → late (multiple_supplements, D-2.1-3); A4 open → ends 31/03 23:59:59
> 20/03 late; A5 05/03 ≤ 11/03 on time; A6 on time; B0 26/02 > 24/02 late; B1 on time; B2 ends 26/03 10:00 but
its one request 12/03 09:00 → 13/03 09:00 pauses 24 h: 25/03 10:00 ≤ 25/03 17:00 on time (D-2.1-5); B3 refused
13/03 ≤ due on time; V1 30/03 > 27/03 late; C1a, C1b, C1c, C2a, C3a, C3b, E1, E3 on time; C2b 10/03 09:00 >
09/03 17:00, C3c 10/03 > 09/03, C3d 11/03 > 10/03 late; E2 open → late.

Per-dossier flags (4.1 paper TTHC ∧ result file; 4.2 component file ∧ (result file ∨ no paper); 4.3 sohoa;
4.4 store component ∨ result synced; 4.5b VNeID ∨ store ∨ MaCSDL 1; 3.6 den = fee TTHC ∧ fee list not all 0;
3.6 num = paid 1/2; 5.4 = on time ∧ no PAKN ∧ not disliked)::

         4.1 4.2 4.3 4.4 4.5b 3.6d 3.6n 5.4
    A1    x   x   x   x   x    x    x    -  (PAKN K1 is about A1)
    A2    x   x   -   -   x    x    x    -  (late)
    A3    -   -   -   -   -    x    -    -
    A4    -   -   -   -   -    x    -    -
    A5    x   x   -   x   x    x    x    x
    A6    x   x   x   -   x    -    -    x  (fees all 0)
    B0    -   x   -   -   -    x    -    -
    B1    -   x   x   -   -    x    -    -  (disliked)
    B2    -   -   -   -   -    x    -    x
    B3    -   x   -   -   -    -    -    x  (fees all 0)
    V1    -   -   -   -   x    x    -    -  (no fee list: still in 3.6's denominator, D-3.6-2)
    C1a   x   x   x   x   x    x    x    x
    C1b   x   x   x   x   x    x    x    x
    C1c   x   x   x   x   -    -    -    x  (P4 has no fee)
    C2a   x   x   -   -   x    x    x    x
    C2b   -   -   -   -   -    x    -    -
    C3a/b x   x   -   -   x    x    x    x
    C3c/d -   -   -   -   -    x    -    -
    E1    x   x   -   -   x    x    x    x
    E2    -   -   -   -   -    -    -    -
    E3    x   x   -   -   -    x    -    x

Populations: Mar P_proc (D-pop-1) = the 17 dossiers received in March + A5 (received 25/02, open on 01/03);
A6 and B0 ended before 01/03. Mar P_recv (1.4) = the 17 received in March. Q1 P_proc = P_recv = all 20 of H90's
subtree. Feb P_proc = P_recv = {A5, B0}.

PAKN (``petitions.json``), all received in March::

    K1 at H90.01, sent 02/03, about A1; DA_CONG_KHAI 10/03: 544 − 538 = 6 ≤ 15 on time; likes 2, dislikes 0
    K2 at H90.02, sent 03/03; TU_CHOI 06/03: 542 − 539 = 3 > 2 → late (reject_late)
    K3 at H90,    sent 05/03; DA_CONG_KHAI 12/03: 546 − 541 = 5 ≤ 15 on time; likes 0, dislikes 3 → not satisfied
    K4 sent to VPCP 09/03, transferred VPCP → H90.11 on 10/03 (clock restarts, D-5.2-2); CHO_CONG_KHAI 20/03:
       552 − 544 = 8 ≤ 15; DA_CONG_KHAI 23/03: 553 − 552 = 1 ≤ 2 → on time; likes 1 → satisfied
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable, Mapping
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import duckdb
import pytest

from chiso766.cli.main import run

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "engine_fixture"

MONTH, QUARTER, FEB = "2026-03", "2026Q1", "2026-02"
PROVINCE, DEPT_JUSTICE, DEPT_BUILDING = "H90", "H90.01", "H90.02"
COMMUNE_1, COMMUNE_2, COMMUNE_3 = "H90.11", "H90.12", "H90.13"
OTHER_PROVINCE, OTHER_COMMUNE = "H91", "H91.11"
P1, P3 = "1.000001", "1.000003"
AS_OF = "2026-03-13T12:00"

CODES: dict[str, str] = {
    "1.1": "PUBLISH_ON_TIME",
    "1.2": "PUBLIC_UPDATE_ON_TIME",
    "1.3": "PUBLIC_CONTENT_FULL",
    "1.4": "DOSSIER_SYNC",
    "2.1": "PROGRESS_ON_TIME",
    "3.1": "ONLINE_PROCEDURES",
    "3.2": "ONLINE_SERVICES_USED",
    "3.3": "ONLINE_DOSSIERS",
    "3.6": "PAYMENT_DOSSIERS_ONLINE",
    "3.5b": "PAYMENT_PROCEDURES_ONLINE",
    "3.5": "PAYMENT_PROCEDURES_INTEGRATED",
    "5.2": "PETITION_PROCESSING_ON_TIME",
    "5.3": "PETITION_HANDLING_SATISFACTION",
    "5.4": "DOSSIER_RECEIVING_SATISFACTION",
    "4.1": "ORIGINAL_RESULT_AVAILABLE",
    "4.2": "SO_HOA_GIAY_TO_GIAI_QUYET",
    "4.3": "REUSED_DIGITIZED_DATA",
    "4.4": "SYNCED_WITH_DVCQG_PERSONAL_STORAGE",
    "4.5a": "CITIZEN_DATA_CONNECTED_FORMALITY",
    "4.5b": "CITIZEN_DATA_CONNECTED_DOSSIER",
    "CT": "ELECTRONIC_CERTIFIED_COPY",
}
# Zero denominator → rate null (null_counts_zero); every other indicator publishes rate 0 (D-score-6).
NULL_RATE = {"1.1", "1.2", "1.3", "1.4", "4.1", "4.2", "4.3", "4.4", "4.5a", "4.5b"}
GROUPS = ("CKMB", "TDGQ", "CLGQ", "TTTT", "MDHL", "MDSH")

# (numerator, denominator, score) per indicator number; CT is the constant 2 (D-cli-2).
Expected = dict[str, tuple[int | None, int | None, float | int | None]]


# --- running the real command line ---------------------------------------------------------------------------
@dataclass(frozen=True)
class CliResult:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def cli(*args: str) -> CliResult:
    """``chiso766 ARGS`` through the console entry point; the exit status is that of ``SystemExit`` (0 if none)."""
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with pytest.MonkeyPatch.context() as mp, redirect_stdout(out), redirect_stderr(err):
        mp.setattr(sys, "argv", ["chiso766", *args])
        try:
            run()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    return CliResult(code, out.getvalue(), err.getvalue())


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture folder ingested once by ``chiso766 ingest --db FILE FOLDER``."""
    path = tmp_path_factory.mktemp("end_to_end") / "engine.duckdb"
    result = cli("ingest", "--db", str(path), str(FIXTURE))
    assert result.code == 0, result.err
    return path


_CACHE: dict[tuple[str, ...], CliResult] = {}


@pytest.fixture(scope="module")
def call(db: Path) -> Callable[..., Any]:
    """``call(command, *args)`` → the parsed ``--json`` output of ``chiso766 command --db DB *args`` (cached)."""

    def run_json(command: str, *args: str) -> Any:
        key = (str(db), command, *args)
        if key not in _CACHE:
            _CACHE[key] = cli(command, *args, "--db", str(db), "--json")
        result = _CACHE[key]
        assert result.code == 0, result.err
        return result.json()

    return run_json


def compute(call: Callable[..., Any], unit: str, period: str, *extra: str) -> dict[str, Any]:
    doc: dict[str, Any] = call("compute", "--unit", unit, "--period", period, *extra)
    return doc


def half_up_rate(numerator: int, denominator: int) -> float:
    exact = Fraction(100 * numerator, denominator)
    value = (Decimal(exact.numerator) / Decimal(exact.denominator)).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return float(value)


def assert_scores(doc: Mapping[str, Any], expected: Expected, groups: Mapping[str, float], total: float) -> None:
    """Exactly the expected indicators, each with its numerator, denominator, rate and score; groups; total."""
    indicators = doc["indicators"]
    assert set(indicators) == {CODES[k] for k in expected}
    for number, (numerator, denominator, score) in expected.items():
        row = indicators[CODES[number]]
        got = (row["numerator"], row["denominator"], row["score"])
        assert got == (numerator, denominator, score), f"{number} {CODES[number]}: {got}"
        if number == "CT":
            assert row["rate"] == 100
        elif denominator:
            assert numerator is not None
            assert row["rate"] == half_up_rate(numerator, denominator), number
        else:
            assert row["rate"] == (None if number in NULL_RATE else 0), number
    assert {g: doc["groups"][g]["score"] for g in GROUPS} == dict(groups)
    assert doc["total"] == total


# --- 1. one closed month and its quarter, at three levels -----------------------------------------------------
def test_ingest_stores_every_fixture_record_and_replay_changes_nothing(
    db: Path, call: Callable[..., Any], tmp_path: Path
) -> None:
    """8 units, 5 procedures, 2 QĐCB, 23 dossiers, 4 PAKN; a second ingest of the folder changes no score."""
    with duckdb.connect(str(db), read_only=True) as con:
        counts = {
            table: con.execute(f"SELECT COUNT(*) FROM {table}").fetchone()
            for table in ("units", "procedures", "publications", "dossiers", "petitions")
        }
    assert counts == {"units": (8,), "procedures": (5,), "publications": (2,), "dossiers": (23,), "petitions": (4,)}

    again = tmp_path / "replayed.duckdb"
    assert cli("ingest", "--db", str(again), str(FIXTURE)).code == 0
    assert cli("ingest", "--db", str(again), str(FIXTURE)).code == 0
    replayed = cli("compute", "--db", str(again), "--unit", PROVINCE, "--period", MONTH, "--json")
    assert replayed.code == 0, replayed.err
    assert replayed.json() == compute(call, PROVINCE, MONTH)


def test_province_month(call: Callable[..., Any]) -> None:
    """H90, March 2026 (closed): the pooled union of H90 and its five children.

    CKMB 12.50:
      1.1 QĐCB 15/QĐ-UBND (02/03, idx 538) in March: P1 effective 16/03 (548): 548 − 538 = 10 ≥ 5 on time;
          P2 effective 05/03 (541): 3 < 5 late → 1/2 → 6 × 1/2 = 3.00
      1.2 clicks in March: P1 05/03 (541) − 538 = 3 ≤ 5 on time; P2 12/03 (546) − 538 = 8 > 5 late → 1/2 → 2.00
      1.3 public TTHC owned by H90: P1, P2, P3 complete, P4 incomplete → 3/4 → 2 × 3/4 = 1.50
      1.4 received in March: 17 (all but A5), synced = received (D-1.4-1) → 17/17 → 6.00
    TDGQ 12.22: 2.1 on time A1 A5 B1 B2 B3 C1a C1b C1c C2a C3a C3b = 11 of P_proc 18 → 20 × 11/18 = 12.2222
    CLGQ 9.74:
      3.1 authority P1 P2 P3 P4; public DVC for P1 (S1), P2 (S2), P3 (S3a-c) → 3/4: target(2, .8) = 1.875 (1.88)
      3.2 DVC S1 S2 S3a S3b S3c; online dossiers received in March: A1 A2 → S1, C1a → S3a, C2a → S3b,
          C3a C3b → S3c; S2 none → 4/5 → 4 × 4/5 = 3.20
      3.3 online A1 A2 A5 C1a C2a C3a C3b = 7/18: target(6, .5) = 6 × (7/18) / .5 = 4.6667
      group round(1.875 + 3.2 + 4.6667) = round(9.7417) = 9.74
    TTTT 6.67:
      3.6 fee dossiers 16 (18 − B3 all-zero − C1c no-fee TTHC); paid A1 A2 A5 C1a C1b C2a C3a C3b = 8 → 6 × 8/16 = 3
      3.5 fee TTHC P1 P2 P3 each with a non-zero fee dossier in March (A1, B1, C1a) → 3/3 → 2
      3.5b fee TTHC with dossiers: P1 (paid A1), P2 (B1 B2 unpaid), P3 (paid C1a) → 2/3: 2 × (2/3)/.8 = 1.6667
      group round(3 + 2 + 1.6667) = 6.67
    MDHL 10.83: 5.2 K1 K3 K4 on time, K2 late → 3/4 → 4.50; 5.3 K1 K4 satisfied (K2 late, K3 disliked) → 2/4
      → 3.00; 5.4 on time 11 − A1 (PAKN) − B1 (disliked) = 9/18: target(6, .9) = 6 × .5/.9 = 3.3333 → 3.33
    MDSH 11.57: 4.1 A1 A2 A5 C1a C1b C1c C2a C3a C3b = 9/18 → 6 × .5 = 3.00; 4.2 those 9 + B1 B3 = 11/18 →
      4 × 11/18 = 2.4444 → 2.44; 4.3 A1 B1 C1a C1b C1c = 5/18 → 2 × (5/18)/.8 = 0.6944 → 0.69; 4.4 A1 A5 C1a
      C1b C1c = 5/18 → 4 × 5/18 = 1.1111 → 1.11; 4.5a citizen TTHC P1 (A1 VNeID) P3 (C1a) hit, P4 (C1c: no
      VNeID/store/CSDL) miss → 2/3 → 1.3333 → 1.33; 4.5b A1 A2 A5 V1 C1a C1b C2a C3a C3b = 9/18 → 1.00; CT 2
      → 3.00 + 2.44 + 0.69 + 1.11 + 1.33 + 1.00 + 2 = 11.57
    Total 12.50 + 12.22 + 9.74 + 6.67 + 10.83 + 11.57 = 63.53; rank 1 of the 2 provinces (H91 61.78).
    """
    doc = compute(call, PROVINCE, MONTH)
    expected: Expected = {
        "1.1": (1, 2, 3),
        "1.2": (1, 2, 2),
        "1.3": (3, 4, 1.5),
        "1.4": (17, 17, 6),
        "2.1": (11, 18, 12.22),
        "3.1": (3, 4, 1.88),
        "3.2": (4, 5, 3.2),
        "3.3": (7, 18, 4.67),
        "3.6": (8, 16, 3),
        "3.5": (3, 3, 2),
        "3.5b": (2, 3, 1.67),
        "5.2": (3, 4, 4.5),
        "5.3": (2, 4, 3),
        "5.4": (9, 18, 3.33),
        "4.1": (9, 18, 3),
        "4.2": (11, 18, 2.44),
        "4.3": (5, 18, 0.69),
        "4.4": (5, 18, 1.11),
        "4.5a": (2, 3, 1.33),
        "4.5b": (9, 18, 1),
        "CT": (None, None, 2),
    }
    groups = {"CKMB": 12.5, "TDGQ": 12.22, "CLGQ": 9.74, "TTTT": 6.67, "MDHL": 10.83, "MDSH": 11.57}
    assert_scores(doc, expected, groups, 63.53)
    assert doc["indicators"]["PROGRESS_ON_TIME"]["rate"] == 61.11  # 100 × 11/18 = 61.111…
    assert (doc["unit"], doc["period"], doc["level"], doc["provisional"]) == (PROVINCE, MONTH, "province", False)
    assert (doc["rank"], doc["cohort_size"]) == (1, 2)
    assert doc["methodology"] == "portal-2026"


def test_department_month(call: Callable[..., Any]) -> None:
    """H90.01 Sở Tư pháp, March 2026: its own dossiers A1–A5 and PAKN K1.

    CKMB 12.50: 1.1 1/2 → 3.00, 1.2 1/2 → 2.00, 1.3 3/4 → 1.50 inherited from H90; 1.4 A1–A4 → 4/4 → 6
    TDGQ 8.00: 2.1 A1, A5 on time; A2 (after due), A3 (2 supplements), A4 (open past due) late → 20 × 2/5 = 8
    CLGQ 10.00: 3.1 {P1} has S1 → 1/1, rate 100 but 0 points for a child (D-score-5); 3.2 S1 used by A1 → 1/1
      → 4; 3.3 A1 A2 A5 online → 3/5 = 60 % ≥ 50 % → 6 → round(0 + 4 + 6) = 10
    TTTT 7.60: 3.6 A1–A5 fee-bearing, paid A1 A2 A5 → 6 × 3/5 = 3.6; 3.5 P1 1/1 → 2; 3.5b P1 paid → 1/1 → 2
    MDHL 13.33: 5.2 K1 on time 1/1 → 6; 5.3 K1 satisfied 1/1 → 6; 5.4 only A5 (A1 has K1; A2–A4 late) → 1/5
      → 6 × .2/.9 = 1.3333 → 1.33
    MDSH 13.30: 4.1 A1 A2 A5 → 3/5 → 3.60; 4.2 same → 4 × 3/5 = 2.40; 4.3 A1 → 1/5 → 2 × .2/.8 = 0.50;
      4.4 A1 (result synced) A5 (store) → 2/5 → 1.60; 4.5a {P1} hit by A1 → 1/1 → 2; 4.5b A1 A2 A5 → 3/5 →
      1.20; CT 2 → 3.6 + 2.4 + 0.5 + 1.6 + 2 + 1.2 + 2 = 13.30
    Total 12.50 + 8 + 10 + 7.60 + 13.33 + 13.30 = 64.73; rank 1 of 2 departments (H90.02 44.44).
    """
    doc = compute(call, DEPT_JUSTICE, MONTH)
    expected: Expected = {
        "1.1": (1, 2, 3),
        "1.2": (1, 2, 2),
        "1.3": (3, 4, 1.5),
        "1.4": (4, 4, 6),
        "2.1": (2, 5, 8),
        "3.1": (1, 1, 0),
        "3.2": (1, 1, 4),
        "3.3": (3, 5, 6),
        "3.6": (3, 5, 3.6),
        "3.5": (1, 1, 2),
        "3.5b": (1, 1, 2),
        "5.2": (1, 1, 6),
        "5.3": (1, 1, 6),
        "5.4": (1, 5, 1.33),
        "4.1": (3, 5, 3.6),
        "4.2": (3, 5, 2.4),
        "4.3": (1, 5, 0.5),
        "4.4": (2, 5, 1.6),
        "4.5a": (1, 1, 2),
        "4.5b": (3, 5, 1.2),
        "CT": (None, None, 2),
    }
    groups = {"CKMB": 12.5, "TDGQ": 8, "CLGQ": 10, "TTTT": 7.6, "MDHL": 13.33, "MDSH": 13.3}
    assert_scores(doc, expected, groups, 64.73)
    assert (doc["level"], doc["rank"], doc["cohort_size"]) == ("provincial_department", 1, 2)


def test_commune_month(call: Callable[..., Any]) -> None:
    """H90.11 Xã An Bình, March 2026: C1a, C1b, C1c (C1c found by its MaHoSo prefix, D-gen-3) and PAKN K4.

    CKMB 12.50: inherited 1.1 3.00, 1.2 2.00, 1.3 1.50; 1.4 3/3 → 6
    TDGQ 20: 2.1 all three on time → 3/3 → 20
    CLGQ 8.00: 3.1 {P3, P4}, P3 has S3a → 1/2 (rate 50), 0 points; 3.2 S3a used by C1a → 1/1 → 4; 3.3 only C1a
      online → 1/3: 6 × (1/3)/.5 = 4 → round(0 + 4 + 4) = 8
    TTTT 10: 3.6 C1a C1b (P3; C1c's P4 has no fee) both paid → 2/2 → 6; 3.5 P3 → 1/1 → 2; 3.5b 1/1 → 2
    MDHL 18: 5.2 K4 (transferred from VPCP, on time) 1/1 → 6; 5.3 1/1 → 6; 5.4 3/3 → 6
    MDSH 20.33: 4.1 3/3 → 6; 4.2 3/3 → 4; 4.3 3/3 → 2; 4.4 3/3 → 4; 4.5a P3 hit, P4 not (C1c uses no
      population data) → 1/2 → 1; 4.5b C1a C1b → 2/3 → 1.3333 → 1.33; CT 2 → 20.33
    Total 12.50 + 20 + 8 + 10 + 18 + 20.33 = 88.83; rank 1 of the 4 communes.
    """
    doc = compute(call, COMMUNE_1, MONTH)
    expected: Expected = {
        "1.1": (1, 2, 3),
        "1.2": (1, 2, 2),
        "1.3": (3, 4, 1.5),
        "1.4": (3, 3, 6),
        "2.1": (3, 3, 20),
        "3.1": (1, 2, 0),
        "3.2": (1, 1, 4),
        "3.3": (1, 3, 4),
        "3.6": (2, 2, 6),
        "3.5": (1, 1, 2),
        "3.5b": (1, 1, 2),
        "5.2": (1, 1, 6),
        "5.3": (1, 1, 6),
        "5.4": (3, 3, 6),
        "4.1": (3, 3, 6),
        "4.2": (3, 3, 4),
        "4.3": (3, 3, 2),
        "4.4": (3, 3, 4),
        "4.5a": (1, 2, 1),
        "4.5b": (2, 3, 1.33),
        "CT": (None, None, 2),
    }
    groups = {"CKMB": 12.5, "TDGQ": 20, "CLGQ": 8, "TTTT": 10, "MDHL": 18, "MDSH": 20.33}
    assert_scores(doc, expected, groups, 88.83)
    assert (doc["level"], doc["rank"], doc["cohort_size"]) == ("commune", 1, 4)


def test_province_quarter(call: Callable[..., Any]) -> None:
    """H90, Q1 2026: March's 18 dossiers plus A6 (January, on time) and B0 (February, late), and QĐCB 01/QĐ-UBND.

    CKMB 14.17: 1.1 adds P3 (QĐCB 12/01, idx 508; effective 02/02, idx 523: 15 ≥ 5 on time) → 2/3 → 4.00;
      1.2 adds P3 (click 14/01, 510 − 508 = 2 ≤ 5) → 2/3 → 4 × 2/3 = 2.6667 → 2.67; 1.3 3/4 → 1.50;
      1.4 20/20 → 6 → 4 + 2.67 + 1.50 + 6 = 14.17
    TDGQ 12.00: 2.1 11 + A6 = 12/20 → 12
    CLGQ 9.28: 3.1 1.875; 3.2 4/5 → 3.2 (A6, B0 are not online); 3.3 7/20 → 6 × .35/.5 = 4.2 →
      round(1.875 + 3.2 + 4.2) = round(9.275) = 9.28
    TTTT 6.49: 3.6 16 + B0 = 17 fee dossiers (A6 all zero), paid 8 → 6 × 8/17 = 2.8235; 3.5 3/3 → 2; 3.5b
      P2 still unpaid (B0 too) → 2/3 → 1.6667 → round(2.8235 + 2 + 1.6667) = round(6.4902) = 6.49
    MDHL 10.83: 5.2 3/4 → 4.50; 5.3 2/4 → 3.00; 5.4 9 + A6 = 10/20 → 3.33
    MDSH 11.68: 4.1 9 + A6 = 10/20 → 3.00; 4.2 11 + A6 + B0 = 13/20 → 2.60; 4.3 5 + A6 = 6/20 → 2 × .3/.8 =
      0.75; 4.4 5/20 → 1.00; 4.5a 2/3 → 1.33; 4.5b 9 + A6 = 10/20 → 1.00; CT 2 → 11.68
    Total 14.17 + 12 + 9.28 + 6.49 + 10.83 + 11.68 = 64.45.
    """
    doc = compute(call, PROVINCE, QUARTER)
    expected: Expected = {
        "1.1": (2, 3, 4),
        "1.2": (2, 3, 2.67),
        "1.3": (3, 4, 1.5),
        "1.4": (20, 20, 6),
        "2.1": (12, 20, 12),
        "3.1": (3, 4, 1.88),
        "3.2": (4, 5, 3.2),
        "3.3": (7, 20, 4.2),
        "3.6": (8, 17, 2.82),
        "3.5": (3, 3, 2),
        "3.5b": (2, 3, 1.67),
        "5.2": (3, 4, 4.5),
        "5.3": (2, 4, 3),
        "5.4": (10, 20, 3.33),
        "4.1": (10, 20, 3),
        "4.2": (13, 20, 2.6),
        "4.3": (6, 20, 0.75),
        "4.4": (5, 20, 1),
        "4.5a": (2, 3, 1.33),
        "4.5b": (10, 20, 1),
        "CT": (None, None, 2),
    }
    groups = {"CKMB": 14.17, "TDGQ": 12, "CLGQ": 9.28, "TTTT": 6.49, "MDHL": 10.83, "MDSH": 11.68}
    assert_scores(doc, expected, groups, 64.45)
    assert (doc["period"], doc["provisional"], doc["rank"], doc["cohort_size"]) == (QUARTER, False, 1, 2)


def test_department_quarter(call: Callable[..., Any]) -> None:
    """H90.01, Q1 2026: A1–A6 (A6 in January, on time, fees all 0, VNeID, sohoa).

    CKMB 14.17 (inherited 4.00 + 2.67 + 1.50; 1.4 6/6 → 6)
    TDGQ 10: 2.1 A1 A5 A6 → 3/6 → 10
    CLGQ 10: 3.1 1/1 → 0 (child); 3.2 1/1 → 4; 3.3 A1 A2 A5 → 3/6 = 50 % → 6
    TTTT 7.60: 3.6 A1–A5 (A6 all zero) paid 3 → 3/5 → 3.6; 3.5 → 2; 3.5b → 2
    MDHL 14.22: 5.2 6; 5.3 6; 5.4 A5 A6 → 2/6 → 6 × (1/3)/.9 = 2.2222 → 2.22
    MDSH 14.16: 4.1 A1 A2 A5 A6 → 4/6 → 4.00; 4.2 4/6 → 2.6667 → 2.67; 4.3 A1 A6 → 2/6 → 2 × (1/3)/.8 =
      0.8333 → 0.83; 4.4 A1 A5 → 2/6 → 1.3333 → 1.33; 4.5a 1/1 → 2; 4.5b A1 A2 A5 A6 → 4/6 → 1.33; CT 2
      → 4 + 2.67 + 0.83 + 1.33 + 2 + 1.33 + 2 = 14.16
    Total 14.17 + 10 + 10 + 7.60 + 14.22 + 14.16 = 70.15.
    """
    doc = compute(call, DEPT_JUSTICE, QUARTER)
    expected: Expected = {
        "1.1": (2, 3, 4),
        "1.2": (2, 3, 2.67),
        "1.3": (3, 4, 1.5),
        "1.4": (6, 6, 6),
        "2.1": (3, 6, 10),
        "3.1": (1, 1, 0),
        "3.2": (1, 1, 4),
        "3.3": (3, 6, 6),
        "3.6": (3, 5, 3.6),
        "3.5": (1, 1, 2),
        "3.5b": (1, 1, 2),
        "5.2": (1, 1, 6),
        "5.3": (1, 1, 6),
        "5.4": (2, 6, 2.22),
        "4.1": (4, 6, 4),
        "4.2": (4, 6, 2.67),
        "4.3": (2, 6, 0.83),
        "4.4": (2, 6, 1.33),
        "4.5a": (1, 1, 2),
        "4.5b": (4, 6, 1.33),
        "CT": (None, None, 2),
    }
    groups = {"CKMB": 14.17, "TDGQ": 10, "CLGQ": 10, "TTTT": 7.6, "MDHL": 14.22, "MDSH": 14.16}
    assert_scores(doc, expected, groups, 70.15)


def test_commune_quarter(call: Callable[..., Any]) -> None:
    """H90.11, Q1 2026: the same three March dossiers; only the inherited CKMB changes.

    CKMB 14.17 = 1.1 2/3 → 4.00 + 1.2 2/3 → 2.67 + 1.3 3/4 → 1.50 + 1.4 3/3 → 6; every other indicator as in
    March → total 88.83 − 12.50 + 14.17 = 90.50.
    """
    doc = compute(call, COMMUNE_1, QUARTER)
    expected: Expected = {
        "1.1": (2, 3, 4),
        "1.2": (2, 3, 2.67),
        "1.3": (3, 4, 1.5),
        "1.4": (3, 3, 6),
        "2.1": (3, 3, 20),
        "3.1": (1, 2, 0),
        "3.2": (1, 1, 4),
        "3.3": (1, 3, 4),
        "3.6": (2, 2, 6),
        "3.5": (1, 1, 2),
        "3.5b": (1, 1, 2),
        "5.2": (1, 1, 6),
        "5.3": (1, 1, 6),
        "5.4": (3, 3, 6),
        "4.1": (3, 3, 6),
        "4.2": (3, 3, 4),
        "4.3": (3, 3, 2),
        "4.4": (3, 3, 4),
        "4.5a": (1, 2, 1),
        "4.5b": (2, 3, 1.33),
        "CT": (None, None, 2),
    }
    groups = {"CKMB": 14.17, "TDGQ": 20, "CLGQ": 8, "TTTT": 10, "MDHL": 18, "MDSH": 20.33}
    assert_scores(doc, expected, groups, 90.5)


# --- 2. pooled roll-up ---------------------------------------------------------------------------------------
def test_province_counts_are_the_union_of_its_own_and_descendants_records(call: Callable[..., Any]) -> None:
    """Ratio of sums: H90's dossier / PAKN counts = Σ over H90 itself and its five children; DISTINCT for TTHC.

    2.1 March: H90.01 2/5, H90.02 3/3, H90.11 3/3, H90.12 1/2, H90.13 2/4, and H90's own V1 0/1 (late) →
    pooled (2+3+3+1+2+0)/(5+3+3+2+4+1) = 11/18 → 12.22. The average of the children's rates would give
    another score: (40 + 100 + 100 + 50 + 50) / 5 = 68 % → 13.60 (with H90's own 0 %: 56.67 % → 11.33).
    Own counts of H90 come from the province-only records: V1 (2.1 0/1, 1.4 1/1, 4.5b 1/1) and PAKN K3 (5.2 1/1,
    5.3 0/1); they are H90's pooled counts minus the children's.
    Catalogue items pool by DISTINCT procedure / service: 3.5 = 3/3 at H90, while the children hold 1/1 each
    (H90.01 P1, H90.02 P2, and P3 at three communes) — a sum would give 5/5.
    """
    children = [DEPT_JUSTICE, DEPT_BUILDING, COMMUNE_1, COMMUNE_2, COMMUNE_3]
    parent = compute(call, PROVINCE, MONTH)["indicators"]
    kids = [compute(call, u, MONTH)["indicators"] for u in children]
    # H90's own records: V1 (received 16/03, channel 1, late, fee TTHC without a fee list, MaCSDL 1) and K3.
    own = {
        "1.4": (1, 1),
        "2.1": (0, 1),
        "3.3": (0, 1),
        "3.6": (0, 1),
        "5.2": (1, 1),
        "5.3": (0, 1),
        "5.4": (0, 1),
        "4.1": (0, 1),
        "4.2": (0, 1),
        "4.3": (0, 1),
        "4.4": (0, 1),
        "4.5b": (1, 1),
    }
    for number, (own_n, own_d) in own.items():
        code = CODES[number]
        pooled = (sum(k[code]["numerator"] for k in kids) + own_n, sum(k[code]["denominator"] for k in kids) + own_d)
        assert (parent[code]["numerator"], parent[code]["denominator"]) == pooled, number

    on_time = [(k["PROGRESS_ON_TIME"]["numerator"], k["PROGRESS_ON_TIME"]["denominator"]) for k in kids]
    assert on_time == [(2, 5), (3, 3), (3, 3), (1, 2), (2, 4)]
    average_of_rates = sum(Fraction(n, d) for n, d in on_time) / len(on_time)
    assert average_of_rates == Fraction(68, 100)
    assert float(20 * average_of_rates) == 13.6
    assert parent["PROGRESS_ON_TIME"]["score"] == 12.22 != 13.6

    assert [k["PAYMENT_PROCEDURES_INTEGRATED"]["denominator"] for k in kids] == [1, 1, 1, 1, 1]
    assert (
        parent["PAYMENT_PROCEDURES_INTEGRATED"]["numerator"],
        parent["PAYMENT_PROCEDURES_INTEGRATED"]["denominator"],
    ) == (3, 3)
    # 3.2 counts services: S1 (H90.01, used), S2 (H90.02, unused), S3a/S3b/S3c (communes, used) → 4/5.
    assert [(k["ONLINE_SERVICES_USED"]["numerator"], k["ONLINE_SERVICES_USED"]["denominator"]) for k in kids] == [
        (1, 1),
        (0, 1),
        (1, 1),
        (1, 1),
        (1, 1),
    ]
    assert (parent["ONLINE_SERVICES_USED"]["numerator"], parent["ONLINE_SERVICES_USED"]["denominator"]) == (4, 5)


# --- 3. inheritance of 1.1–1.3 and the 3.1 child rule ---------------------------------------------------------
def test_children_inherit_1_1_to_1_3_and_get_zero_on_3_1(call: Callable[..., Any]) -> None:
    """1.1–1.3 are copied from the root unchanged; 3.1's rate is published for children but scores 0 (M §2).

    H90's children all show 1.1 1/2 → 3, 1.2 1/2 → 2, 1.3 3/4 → 1.5 (March) though none issued a QĐCB.
    H91.11 shows H91's: 1.1 0/0 → null, 1.2 0/0 → null, 1.3 {P4 incomplete, P5 complete} 1/2 → 1.
    3.1: H90 3/4 → 1.88; H90.01 {P1} 1/1 rate 100 → 0; H90.02 {P2} 1/1 → 0; communes {P3, P4} 1/2 rate 50 → 0;
    H91 {P3, P4, P5} 2/3 → 2 × (2/3)/.8 = 1.6667 → 1.67, H91.11 2/3 rate 66.67 → 0.
    """
    inherited = ("PUBLISH_ON_TIME", "PUBLIC_UPDATE_ON_TIME", "PUBLIC_CONTENT_FULL")

    def triple(doc: Mapping[str, Any], code: str) -> tuple[Any, ...]:
        row = doc["indicators"][code]
        return row["numerator"], row["denominator"], row["rate"], row["score"]

    root = compute(call, PROVINCE, MONTH)
    assert [triple(root, c) for c in inherited] == [(1, 2, 50, 3), (1, 2, 50, 2), (3, 4, 75, 1.5)]
    for unit in (DEPT_JUSTICE, DEPT_BUILDING, COMMUNE_1, COMMUNE_2, COMMUNE_3):
        child = compute(call, unit, MONTH)
        assert [triple(child, c) for c in inherited] == [triple(root, c) for c in inherited], unit
    other = compute(call, OTHER_COMMUNE, MONTH)
    assert [triple(other, c) for c in inherited] == [(0, 0, None, None), (0, 0, None, None), (1, 2, 50, 1)]
    assert [triple(compute(call, OTHER_PROVINCE, MONTH), c) for c in inherited] == [triple(other, c) for c in inherited]

    online = {u: triple(compute(call, u, MONTH), "ONLINE_PROCEDURES") for u in (PROVINCE, OTHER_PROVINCE)}
    assert online == {PROVINCE: (3, 4, 75, 1.88), OTHER_PROVINCE: (2, 3, 66.67, 1.67)}
    children_31 = {
        u: triple(compute(call, u, MONTH), "ONLINE_PROCEDURES")
        for u in (DEPT_JUSTICE, DEPT_BUILDING, COMMUNE_1, COMMUNE_2, COMMUNE_3, OTHER_COMMUNE)
    }
    assert children_31 == {
        DEPT_JUSTICE: (1, 1, 100, 0),
        DEPT_BUILDING: (1, 1, 100, 0),
        COMMUNE_1: (1, 2, 50, 0),
        COMMUNE_2: (1, 2, 50, 0),
        COMMUNE_3: (1, 2, 50, 0),
        OTHER_COMMUNE: (2, 3, 66.67, 0),
    }


# --- 4. ranks and the national average ------------------------------------------------------------------------
def test_ranks_within_cohorts_tie_and_national_average(call: Callable[..., Any]) -> None:
    """Competition ranks per cohort (D-cli-1); H90.12 and H90.13 tie at 63.83 with different counts.

    H90.12 (C2a on time, C2b late; C2a online, paid, digitised, VNeID) and H90.13 (the same profile twice:
    C3a C3b like C2a, C3c C3d like C2b) have equal rates: 2.1 1/2 = 2/4 → 10; 3.3 1/2 = 2/4 → 6; 3.6 1/2 = 2/4
    → 3; 5.4 1/2 = 2/4 → 3.33; 4.1 → 3; 4.2 → 2; 4.5b → 1; 1.4 2/2 = 4/4 → 6; 3.2, 3.5, 3.5b 1/1; 4.5a 1/2 → 1;
    no PAKN → 5.2 = 5.3 = 6. Totals: CKMB 12.50 + TDGQ 10 + CLGQ (0 + 4 + 6) 10 + TTTT (3 + 2 + 2) 7 + MDHL
    (6 + 6 + 3.33) 15.33 + MDSH (3 + 2 + 0 + 0 + 1 + 1 + 2) 9 = 63.83 each.
    H91.11 (E1 on time, E2 open → late, E3 on time): CKMB 1.3 1/2 → 1 + 1.4 3/3 → 6 = 7; TDGQ 2/3 → 13.33;
    CLGQ 0 + 3.2 (S3d used, S5 not) 1/2 → 2 + 3.3 1/3 → 4 = 6; TTTT 3.6 1/2 → 3 + 2 + 2 = 7; MDHL 6 + 6 + 5.4
    2/3 → 4.44 = 16.44; MDSH 4.1 2/3 → 4 + 4.2 2/3 → 2.67 + 0 + 0 + 4.5a 1/2 → 1 + 4.5b 1/3 → 0.67 + 2 =
    10.34 → 60.11. H91 = the same with 3.1 2/3 → 1.6667 in CLGQ: round(1.6667 + 2 + 4) = 7.67 → 61.78.
    Communes: H90.11 88.83 → 1, H90.12 and H90.13 63.83 → 2, 2, H91.11 60.11 → 4 (cohort 4).
    Departments: H90.01 64.73 → 1, H90.02 44.44 → 2. Provinces: H90 63.53 → 1, H91 61.78 → 2.
    National = Σ over axes of the half-up mean of the provinces (M §1): CKMB (12.50 + 7)/2 = 9.75; TDGQ
    (12.22 + 13.33)/2 = 12.775 → 12.78; ONLINE_SERVICE (9.74 + 6.67 + 7.67 + 7)/2 = 15.54; MDHL
    (10.83 + 16.44)/2 = 13.635 → 13.64; MDSH (11.57 + 10.34)/2 = 10.955 → 10.96 → 62.67, whereas the mean of
    the totals (63.53 + 61.78)/2 = 62.655 would round to 62.66.
    """
    communes = call("rank", "--period", MONTH, "--cohort", "commune")
    rows = [(u["rank"], u["unit"], u["total"]) for u in communes["units"]]
    assert rows == [(1, COMMUNE_1, 88.83), (2, COMMUNE_2, 63.83), (2, COMMUNE_3, 63.83), (4, OTHER_COMMUNE, 60.11)]
    assert (communes["cohort"], communes["cohort_size"], communes["provisional"]) == ("commune", 4, False)
    tied = {u["unit"]: u["groups"] for u in communes["units"] if u["rank"] == 2}
    assert (
        tied[COMMUNE_2]
        == tied[COMMUNE_3]
        == {
            "CKMB": 12.5,
            "TDGQ": 10,
            "CLGQ": 10,
            "TTTT": 7,
            "MDHL": 15.33,
            "MDSH": 9,
        }
    )
    assert compute(call, COMMUNE_2, MONTH)["indicators"]["PROGRESS_ON_TIME"]["denominator"] == 2
    assert compute(call, COMMUNE_3, MONTH)["indicators"]["PROGRESS_ON_TIME"]["denominator"] == 4
    for unit, rank in ((COMMUNE_2, 2), (COMMUNE_3, 2), (OTHER_COMMUNE, 4)):
        doc = compute(call, unit, MONTH)
        assert (doc["rank"], doc["cohort_size"]) == (rank, 4), unit

    within = call("rank", "--period", MONTH, "--cohort", "commune", "--within", PROVINCE)
    assert [(u["rank"], u["unit"]) for u in within["units"]] == [(1, COMMUNE_1), (2, COMMUNE_2), (2, COMMUNE_3)]
    assert (within["within"], within["cohort_size"]) == (PROVINCE, 3)
    alone = call("rank", "--period", MONTH, "--cohort", "commune", "--within", OTHER_PROVINCE)
    assert [(u["rank"], u["unit"], u["total"]) for u in alone["units"]] == [(1, OTHER_COMMUNE, 60.11)]
    assert alone["cohort_size"] == 1

    departments = call("rank", "--period", MONTH, "--cohort", "department")
    assert [(u["rank"], u["unit"], u["total"]) for u in departments["units"]] == [
        (1, DEPT_JUSTICE, 64.73),
        (2, DEPT_BUILDING, 44.44),
    ]
    assert departments["cohort_size"] == 2

    provinces = call("rank", "--period", MONTH)
    assert [(u["rank"], u["unit"], u["total"]) for u in provinces["units"]] == [
        (1, PROVINCE, 63.53),
        (2, OTHER_PROVINCE, 61.78),
    ]
    other = provinces["units"][1]["groups"]
    assert other == {"CKMB": 7, "TDGQ": 13.33, "CLGQ": 7.67, "TTTT": 7, "MDHL": 16.44, "MDSH": 10.34}
    assert provinces["national_average"] == 62.67
    assert compute(call, PROVINCE, MONTH)["national_average"] == 62.67


# --- 5. --as-of inside the month and the previous block -------------------------------------------------------
def test_as_of_inside_the_month_is_provisional_and_judges_open_dossiers_at_as_of(call: Callable[..., Any]) -> None:
    """``--as-of 2026-03-13T12:00`` (Fri, idx 547): provisional; what is not known yet is not counted (D-gen-1).

    Known: the 16 dossiers received by then (V1 comes 16/03) + A5 → P_proc 17, P_recv 16.
    2.1: A2 (ends 18/03, unknown) is open: 13/03 12:00 ≤ 17/03 → on time; A4 open, 13/03 ≤ due 20/03 → on time
    (at the month end it is late, see test_province_month); B1 open → on time; B2 open, one supplement
    12/03 → 13/03 known: on time; A3 has two supplement requests known → late; C2b, C3c, C3d late →
    on time A1 A2 A4 A5 B1 B2 B3 C1a C1b C1c C2a C3a C3b = 13/17 → 20 × 13/17 = 15.2941 → 15.29.
    CKMB 12.50 (1.1 3, 1.2 2 — P2's click 12/03 09:00 is known —, 1.3 1.5, 1.4 16/16 → 6)
    CLGQ 10.02: 1.875 + 3.2 (4/5) + 3.3 7/17: 6 × (7/17)/.5 = 4.9412 → round(10.0162)
    TTTT 6.87: 3.6 8/15 (V1 not yet) → 3.2; 3.5 → 2; 3.5b 2/3 → 1.6667 → round(6.8667)
    MDHL 11.81: 5.2 3/4 → 4.50 (K4 in progress: 547 − 544 = 3 ≤ 15); 5.3 2/4 → 3; 5.4 13 − A1 − B1 = 11/17 →
      6 × (11/17)/.9 = 4.3137 → 4.31
    MDSH 11.96: 4.1 9/17 → 3.1765 → 3.18; 4.2 11/17 → 2.5882 → 2.59; 4.3 5/17 → 2 × (5/17)/.8 = 0.7353 → 0.74;
      4.4 5/17 → 1.1765 → 1.18; 4.5a 2/3 → 1.33; 4.5b 8/17 → 0.9412 → 0.94; CT 2
    Total 12.50 + 15.29 + 10.02 + 6.87 + 11.81 + 11.96 = 68.45. H91 at the same instant: E2 (open, due 17/03)
    is on time → 2.1 3/3 → 20, 5.4 3/3 → 6 → 61.78 − 13.33 + 20 − 4.44 + 6 = 70.01, so H90 ranks 2 of 2.
    National: 9.75 + (15.29 + 20)/2 = 17.645 → 17.65 + (16.89 + 14.67)/2 = 15.78 + (11.81 + 18)/2 = 14.905 →
    14.91 + (11.96 + 10.34)/2 = 11.15 → 69.24 (mean of totals: 69.23).
    previous = February (closed before the as-of): 60.43 (see test_closed_month_previous_block) → change
    68.45 − 60.43 = 8.02.
    """
    doc = compute(call, PROVINCE, MONTH, "--as-of", AS_OF)
    assert doc["provisional"] is True
    on_time = doc["indicators"]["PROGRESS_ON_TIME"]
    assert (on_time["numerator"], on_time["denominator"], on_time["score"]) == (13, 17, 15.29)
    sync = doc["indicators"]["DOSSIER_SYNC"]
    assert (sync["numerator"], sync["denominator"]) == (16, 16)
    assert {g: doc["groups"][g]["score"] for g in GROUPS} == {
        "CKMB": 12.5,
        "TDGQ": 15.29,
        "CLGQ": 10.02,
        "TTTT": 6.87,
        "MDHL": 11.81,
        "MDSH": 11.96,
    }
    assert doc["total"] == 68.45
    assert (doc["rank"], doc["cohort_size"], doc["national_average"]) == (2, 2, 69.24)
    assert doc["previous"] == {"period": FEB, "total": 60.43, "rank": 1, "change": 8.02}

    ranking = call("rank", "--period", MONTH, "--as-of", AS_OF)
    assert ranking["provisional"] is True
    assert [(u["rank"], u["unit"], u["total"]) for u in ranking["units"]] == [
        (1, OTHER_PROVINCE, 70.01),
        (2, PROVINCE, 68.45),
    ]

    # The same open dossier A4: not a miss at 13/03, late (after_due) once the month is closed.
    early = call("explain", PROVINCE, "PROGRESS_ON_TIME", "--period", MONTH, "--as-of", AS_OF)
    assert sorted((r["id"], r["reason"]) for r in early["records"]) == [
        ("H90.01-A3", "multiple_supplements"),
        ("H90.12-C2b", "after_due"),
        ("H90.13-C3c", "after_due"),
        ("H90.13-C3d", "after_due"),
    ]
    closed = call("explain", PROVINCE, "PROGRESS_ON_TIME", "--period", MONTH)
    assert ("H90.01-A4", "after_due") in {(r["id"], r["reason"]) for r in closed["records"]}


def test_closed_month_previous_block(call: Callable[..., Any]) -> None:
    """March closed: ``previous`` = February, computed from the same records (same-type period, D-gen-2).

    February for H90: P_proc = P_recv = {A5 (received 25/02, open at 28/02 23:59:59 ≤ due 11/03 → on time),
    B0 (26/02 > 24/02 → late)}; no QĐCB, click or PAKN in February.
    CKMB 7.50: 1.1 0/0 → null, 1.2 0/0 → null (count 0), 1.3 3/4 → 1.50, 1.4 2/2 → 6
    TDGQ 10: 2.1 1/2 → 10
    CLGQ 8.68: 3.1 1.875 + 3.2 S1 used by A5 → 1/5 → 0.8 + 3.3 1/2 → 6 → round(8.675) = 8.68
    TTTT 6.25: 3.6 A5 paid (code 2), B0 not → 1/2 → 3; 3.5 P1 (A5) and P2 (B0) non-zero → 2/2 → 2; 3.5b P1
      paid, P2 not → 1/2 → 2 × .5/.8 = 1.25 → round(6.25)
    MDHL 15.33: no PAKN → 5.2 = 5.3 = 6 (M §2: den 0 → full); 5.4 A5 → 1/2 → 3.33
    MDSH 12.67: 4.1 A5 → 1/2 → 3; 4.2 A5, B0 (P2 needs no result) → 2/2 → 4; 4.3 0/2 → 0; 4.4 A5 (store) 1/2
      → 2; 4.5a P1 hit by A5 (store component) of {P1, P3, P4} → 1/3 → 0.67; 4.5b 1/2 → 1; CT 2
    Total 7.50 + 10 + 8.68 + 6.25 + 15.33 + 12.67 = 60.43 (rank 1: H91 has no February records, 16.67).
    March − February = 63.53 − 60.43 = 3.10.
    """
    march = compute(call, PROVINCE, MONTH)
    assert march["previous"] == {"period": FEB, "total": 60.43, "rank": 1, "change": 3.1}
    february = compute(call, PROVINCE, FEB)
    expected: Expected = {
        "1.1": (0, 0, None),
        "1.2": (0, 0, None),
        "1.3": (3, 4, 1.5),
        "1.4": (2, 2, 6),
        "2.1": (1, 2, 10),
        "3.1": (3, 4, 1.88),
        "3.2": (1, 5, 0.8),
        "3.3": (1, 2, 6),
        "3.6": (1, 2, 3),
        "3.5": (2, 2, 2),
        "3.5b": (1, 2, 1.25),
        "5.2": (0, 0, 6),
        "5.3": (0, 0, 6),
        "5.4": (1, 2, 3.33),
        "4.1": (1, 2, 3),
        "4.2": (2, 2, 4),
        "4.3": (0, 2, 0),
        "4.4": (1, 2, 2),
        "4.5a": (1, 3, 0.67),
        "4.5b": (1, 2, 1),
        "CT": (None, None, 2),
    }
    groups = {"CKMB": 7.5, "TDGQ": 10, "CLGQ": 8.68, "TTTT": 6.25, "MDHL": 15.33, "MDSH": 12.67}
    assert_scores(february, expected, groups, 60.43)


# --- 6. one TTHC selected ---------------------------------------------------------------------------------------
def test_procedure_filter(call: Callable[..., Any]) -> None:
    """``--procedure 1.000001`` (P1) for H90, March (M §2 "Filtering by one TTHC").

    Filtered: 2.1 P1 dossiers A1 ✓ A2 ✗ A3 ✗ A4 ✗ A5 ✓ V1 ✗ → 2/6 → 20/3 = 6.6667 → 6.67; 3.2 S1 only → 1/1 →
    4; 3.3 A1 A2 A5 online → 3/6 → 6; 3.6 paid A1 A2 A5 of 6 → 3; 4.1 A1 A2 A5 → 3/6 → 3; 4.2 3/6 → 2;
    4.3 A1 → 1/6 → 2 × (1/6)/.8 = 0.4167 → 0.42; 4.4 A1 A5 → 2/6 → 1.33; 4.5b A1 A2 A5 V1 → 4/6 → 1.33.
    1.1–1.3 → 0/0 → null; 1.4 not filtered 17/17 → 6; 3.1 unchanged 3/4 → 1.875; 3.5 (3/3 → 2) and 3.5b
    (2/3 → 1.6667) stay province-wide; 4.5a, 5.2, 5.3 and 5.4 are left out of the output.
    Groups: CKMB 6; TDGQ 6.67; CLGQ round(1.875 + 4 + 6) = 11.88; TTTT round(3 + 2 + 1.6667) = 6.67; MDHL 0;
    MDSH 3 + 2 + 0.42 + 1.33 + 1.33 + 2 = 10.08 → total 41.30.
    """
    doc = compute(call, PROVINCE, MONTH, "--procedure", P1)
    expected: Expected = {
        "1.1": (0, 0, None),
        "1.2": (0, 0, None),
        "1.3": (0, 0, None),
        "1.4": (17, 17, 6),
        "2.1": (2, 6, 6.67),
        "3.1": (3, 4, 1.88),
        "3.2": (1, 1, 4),
        "3.3": (3, 6, 6),
        "3.6": (3, 6, 3),
        "3.5": (3, 3, 2),
        "3.5b": (2, 3, 1.67),
        "4.1": (3, 6, 3),
        "4.2": (3, 6, 2),
        "4.3": (1, 6, 0.42),
        "4.4": (2, 6, 1.33),
        "4.5b": (4, 6, 1.33),
        "CT": (None, None, 2),
    }
    groups = {"CKMB": 6, "TDGQ": 6.67, "CLGQ": 11.88, "TTTT": 6.67, "MDHL": 0, "MDSH": 10.08}
    assert_scores(doc, expected, groups, 41.3)
    absent = {"CITIZEN_DATA_CONNECTED_FORMALITY", "PETITION_PROCESSING_ON_TIME"}
    absent |= {"PETITION_HANDLING_SATISFACTION", "DOSSIER_RECEIVING_SATISFACTION"}
    assert absent.isdisjoint(doc["indicators"])


# --- 7. explain ------------------------------------------------------------------------------------------------
def _score_21(numerator: int, denominator: int) -> Decimal:
    return (Decimal(20 * numerator) / Decimal(denominator)).quantize(Decimal("0.01"), ROUND_HALF_UP)


def test_explain_progress_on_time_at_the_province(call: Callable[..., Any]) -> None:
    """The 7 late dossiers of H90 in March, grouped; a group's points = the gain of fixing exactly those.

    Current 2.1: 11/18 → 12.22. Fixing k dossiers gives 20 × (11 + k)/18, rounded:
      by sub-unit: H90.01 {A2, A3, A4} k=3 → 15.56 − 12.22 = 3.34; H90.13 {C3c, C3d} k=2 → 14.44 − 12.22 =
        2.22; H90 itself {V1} and H90.12 {C2b} k=1 → 13.33 − 12.22 = 1.11 each
      by procedure: P1 {A2, A3, A4, V1} k=4 → 16.67 − 12.22 = 4.45; P3 {C2b, C3c, C3d} k=3 → 3.34
      by reason: after_due {A2, A4, V1, C2b, C3c, C3d} k=6 → 18.89 − 12.22 = 6.67; multiple_supplements {A3} →
        1.11
    Here the sub-unit points add up to the whole loss, 3.34 + 2.22 + 1.11 + 1.11 = 7.78 = 20.00 − 12.22 (in
    general the separately rounded gains may differ from it by a cent).
    """
    doc = call("explain", PROVINCE, "PROGRESS_ON_TIME", "--period", MONTH)
    assert (doc["numerator"], doc["denominator"], doc["score"], doc["max_score"]) == (11, 18, 12.22, 20)
    assert doc["records_total"] == 7
    assert doc["record_kind"] == "dossier"
    by_subunit = [(g["key"], g["misses"], g["points"]) for g in doc["by_subunit"]]
    assert by_subunit == [(DEPT_JUSTICE, 3, 3.34), (COMMUNE_3, 2, 2.22), (PROVINCE, 1, 1.11), (COMMUNE_2, 1, 1.11)]
    by_procedure = [(g["key"], g["misses"], g["points"]) for g in doc["by_procedure"]]
    assert by_procedure == [(P1, 4, 4.45), (P3, 3, 3.34)]
    by_reason = [(g["key"], g["misses"], g["points"]) for g in doc["by_reason"]]
    assert by_reason == [("after_due", 6, 6.67), ("multiple_supplements", 1, 1.11)]
    for group in doc["by_subunit"] + doc["by_procedure"] + doc["by_reason"]:
        gain = _score_21(11 + group["misses"], 18) - _score_21(11, 18)
        assert Decimal(str(group["points"])) == gain, group
    assert sum(Decimal(str(g["points"])) for g in doc["by_subunit"]) == Decimal("20.00") - Decimal("12.22")
    records = sorted((r["id"], r["unit"], r["procedure"], r["reason"]) for r in doc["records"])
    assert records == [
        ("H90-V1", PROVINCE, P1, "after_due"),
        ("H90.01-A2", DEPT_JUSTICE, P1, "after_due"),
        ("H90.01-A3", DEPT_JUSTICE, P1, "multiple_supplements"),
        ("H90.01-A4", DEPT_JUSTICE, P1, "after_due"),
        ("H90.12-C2b", COMMUNE_2, P3, "after_due"),
        ("H90.13-C3c", COMMUNE_3, P3, "after_due"),
        ("H90.13-C3d", COMMUNE_3, P3, "after_due"),
    ]
    names = {g["key"]: g["name"] for g in doc["by_subunit"]}
    assert names[DEPT_JUSTICE] == "Sở Tư pháp"


# --- 8. bad input ----------------------------------------------------------------------------------------------
def test_unknown_unit_exits_2_with_a_bilingual_line(db: Path) -> None:
    """``compute --unit H99`` (no such unit): exit 2, one stderr line in Vietnamese and English naming H99."""
    result = cli("compute", "--db", str(db), "--unit", "H99", "--period", MONTH, "--json")
    assert result.code == 2
    assert result.out == ""
    lines = result.err.strip().splitlines()
    assert len(lines) == 1
    assert "H99" in lines[0]
    assert "Không có đơn vị" in lines[0] and "No unit" in lines[0]


@pytest.mark.parametrize("period", ["2026Q5", "2026-13", "tháng 3"])
def test_invalid_period_exits_2(db: Path, period: str) -> None:
    """An invalid period id: exit 2, one bilingual line naming the period field."""
    result = cli("compute", "--db", str(db), "--unit", PROVINCE, "--period", period, "--json")
    assert result.code == 2
    assert result.out == ""
    lines = result.err.strip().splitlines()
    assert len(lines) == 1
    assert "period" in lines[0] and period in lines[0]
    assert "Kỳ" in lines[0] and "Invalid period" in lines[0]


def test_ingest_with_a_rejected_record_exits_1(tmp_path: Path) -> None:
    """data_commands: ``ingest`` exits 1 when some records were rejected (the valid ones are stored).

    One unit with an unknown ``CapDonVi`` next to a valid one: the console entry must end with status 1.
    """
    (tmp_path / "units.json").write_text(
        json.dumps(
            [
                {"MaDonVi": "H92", "TenDonVi": "Tỉnh Lỗi", "MaDonViCha": "", "CapDonVi": "province"},
                {"MaDonVi": "H92.01", "MaDonViCha": "H92", "CapDonVi": "không rõ"},
            ],
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    result = cli("ingest", "--db", str(tmp_path / "bad.duckdb"), str(tmp_path / "units.json"))
    assert "H92.01" in result.err or "CapDonVi" in result.err
    assert result.code == 1
