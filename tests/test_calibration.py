"""The verdicts on simulated reports, through the build's own comparison
stage (tests/simulate.py): how often an A/A report shows a difference, how
often a real slowdown is found.  A seeded subset of the table that
``benchmarks/calibration`` prints in full (docs/formats.md quotes it).

Each cell holds few reports, so its bound carries the margin that size
needs: a cell fails only where its count would be below the 0.1% quantile
of a binomial at the required rate (0.1% above it for the A/A bound).
"""

from __future__ import annotations

import pytest
from scipy.stats import binom

from tests.simulate import STANDARD_ROUNDS, Case, run

REPORTS = 60  # per cell; the full table in benchmarks/calibration has 400
A_A_BOUND = 0.05  # largest share of A/A reports with any difference
POWER_BOUND = 0.80  # smallest share of reports that find the slowed metric
ROUNDS = STANDARD_ROUNDS  # the standard profile's, read from probes/probe_workloads.py

A_A = [Case("lognormal"), Case("heavy tails"), Case("bimodal"), Case("tiny within"),
       Case("lognormal", drift=0.01, sequential=True),
       Case("lognormal", drift=0.01, sequential=False)]
POWER = [Case("lognormal", "lone", 1.25), Case("heavy tails", "lone", 1.25),
         Case("bimodal", "lone", 1.5)]


def most(rate: float) -> int:
    return int(binom.ppf(0.999, REPORTS, rate))


def least(rate: float) -> int:
    return int(binom.ppf(0.001, REPORTS, rate))


@pytest.mark.parametrize("case", A_A, ids=lambda c: c.name)
def test_aa_reports_rarely_show_a_difference(case: Case) -> None:
    found = run(case, ROUNDS, REPORTS, seed=19_000 + A_A.index(case))
    assert found.with_difference <= most(A_A_BOUND), (case.name, found)


def test_sequential_drift_stays_quiet_at_twice_the_rounds() -> None:
    case = Case("lognormal", drift=0.01, sequential=True)
    found = run(case, 2 * ROUNDS, REPORTS, seed=19_100)
    assert found.with_difference <= most(A_A_BOUND), found


@pytest.mark.parametrize("case", POWER, ids=lambda c: c.name)
def test_a_lone_slowdown_is_found(case: Case) -> None:
    found = run(case, ROUNDS, REPORTS, seed=19_200 + POWER.index(case))
    assert found.lone_found >= least(POWER_BOUND), (case.name, found)


def test_every_slowed_metric_is_found_when_all_are_slowed() -> None:
    found = run(Case("lognormal", "all", 1.25), ROUNDS, REPORTS, seed=19_300)
    assert found.slowed_found >= 0.95, found


def test_a_huge_difference_survives_drift() -> None:
    found = run(Case("lognormal", "all", 66.0, drift=0.01, sequential=True), ROUNDS, 20,
                seed=19_400)
    assert found.slowed_found == 1.0, found
