"""The verdict rules on simulated data: how often they cry wolf, how often they
catch a real slowdown.  Seeded, so the rates printed are the same every run."""

from __future__ import annotations

import numpy as np
import pytest

from reportgen.analyse import compare
from reportgen.core.model import Metric, Thresholds

PAIRS = 1000
ROUNDS, PER_ROUND = 5, 5
WITHIN_CV, BETWEEN_CV = 0.02, 0.06
# Bootstrap draws per comparison.  Builds use stats.BOOTSTRAP_RESAMPLES (2000);
# a difference verdict rests on the rank test and the median, not the interval,
# and 2000 draws gave the same two rates here (3.0% and 99.1%) in four times the time.
RESAMPLES = 400


def simulated(rng: np.random.Generator, true_value: float) -> Metric:
    """5 rounds x 5 samples: each round's level moves by BETWEEN_CV, each
    sample around its round's level by WITHIN_CV."""
    levels = true_value * (1 + BETWEEN_CV * rng.standard_normal(ROUNDS))
    samples = levels[:, None] * (1 + WITHIN_CV * rng.standard_normal((ROUNDS, PER_ROUND)))
    rounds = tuple(r for r in range(1, ROUNDS + 1) for _ in range(PER_ROUND))
    return Metric("sim", "sim", "ms", "lower", tuple(samples.ravel().tolist()), rounds=rounds)


def verdicts(slowdown: float, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    return [compare.compare(simulated(rng, 100.0), simulated(rng, 100.0 * slowdown), "b",
                            Thresholds(), resamples=RESAMPLES).verdict for _ in range(PAIRS)]


@pytest.fixture(scope="module")
def rates() -> dict[str, float]:
    aa = verdicts(1.0, 20261127)
    slow = verdicts(1.25, 20261128)
    return {"A/A difference": sum(v in ("worse", "better") for v in aa) / PAIRS,
            "1.25x worse": slow.count("worse") / PAIRS}


def show(rates: dict[str, float], key: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Print the rate even without -s: it is what the test is about."""
    with capsys.disabled():
        print(f"\n{key}: {rates[key]:.1%} of {PAIRS} simulated pairs ({ROUNDS} rounds x "
              f"{PER_ROUND} samples, within-round CV {WITHIN_CV:.0%}, between-round CV "
              f"{BETWEEN_CV:.0%})")


def test_aa_pairs_rarely_show_a_difference(rates: dict[str, float],
                                           capsys: pytest.CaptureFixture[str]) -> None:
    show(rates, "A/A difference", capsys)
    assert rates["A/A difference"] <= 0.05


def test_a_true_quarter_slowdown_is_found(rates: dict[str, float],
                                          capsys: pytest.CaptureFixture[str]) -> None:
    show(rates, "1.25x worse", capsys)
    assert rates["1.25x worse"] >= 0.80
