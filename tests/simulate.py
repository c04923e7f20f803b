"""Simulated reports for the calibration of the verdicts (issue #19).

Each simulated report has the probes' ten metrics in two environments, a
baseline ``a`` and ``b``, with the samples of each round drawn from one of a
few noise shapes, and goes through the build's own comparison stage,
``analysis.analyse``: the test on round medians, the Benjamini-Hochberg
adjustment over the report's metrics, the drift rule, the bootstrap at the
build's resample count.  ``benchmarks/calibration`` prints the full table;
``tests/test_calibration.py`` runs a seeded subset.
"""

from __future__ import annotations

import datetime as dt
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from reportgen.analyse.analysis import analyse
from reportgen.core.model import (
    Environment,
    Metric,
    Report,
    Round,
    Section,
    SectionMetric,
    Source,
    Text,
)

# The probes' ten metrics: id, direction, samples per round in the standard profile.
SUITE = (("cpu.integer", "lower", 5), ("syscall.getpid", "lower", 5),
         ("process.fork_wait", "lower", 5), ("memory.dd_zero", "higher", 5),
         ("memory.sysbench.read.t1", "higher", 2), ("memory.sysbench.read.tN", "higher", 2),
         ("memory.sysbench.write.t1", "higher", 2), ("memory.sysbench.write.tN", "higher", 2),
         ("disk.write_fsync", "higher", 5), ("disk.cached_read", "higher", 5))
LONE = "syscall.getpid"  # the one metric slowed in the "lone" cases
ROUND_SECONDS = 60.0  # a round of the standard profile takes about a minute
START = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)



def _standard_rounds() -> int:
    """The standard profile's rounds, read from the probes themselves."""
    probes = str(Path(__file__).resolve().parent.parent / "probes")
    sys.path.insert(0, probes)
    try:
        import probe_workloads
    finally:
        sys.path.remove(probes)
    return int(probe_workloads.PROFILES["standard"].rounds)


STANDARD_ROUNDS = _standard_rounds()

Noise = tuple[np.ndarray, np.ndarray]  # log slowness of each round, of each sample in it
Shape = Callable[[np.random.Generator, int, int], Noise]


def lognormal(rng: np.random.Generator, rounds: int, per: int) -> Noise:
    """Rounds 6% apart (coefficient of variation), samples 2% within a round."""
    return 0.06 * rng.standard_normal(rounds), 0.02 * rng.standard_normal((rounds, per))


def heavy(rng: np.random.Generator, rounds: int, per: int) -> Noise:
    """Student t (3 degrees of freedom) at those spreads, with one round in
    twenty and one sample in twenty slowed by an exponential amount (mean 20%
    and 30%): the outliers a busy host gives."""
    levels = 0.06 * rng.standard_t(3, rounds) / math.sqrt(3)
    levels += (rng.random(rounds) < 0.05) * rng.exponential(0.20, rounds)
    within = 0.02 * rng.standard_t(3, (rounds, per)) / math.sqrt(3)
    within += (rng.random((rounds, per)) < 0.05) * rng.exponential(0.30, (rounds, per))
    return levels, within


def bimodal(rng: np.random.Generator, rounds: int, per: int) -> Noise:
    """Each round at one of two levels 1.45x apart, as the two-thread memory
    metrics are when the host moves the vCPUs between cores."""
    levels = math.log(1.45) * (rng.random(rounds) < 0.5) + 0.01 * rng.standard_normal(rounds)
    return levels, 0.02 * rng.standard_normal((rounds, per))


def tiny_within(rng: np.random.Generator, rounds: int, per: int) -> Noise:
    """Almost no spread within a round (0.1%), 8% between rounds."""
    return 0.08 * rng.standard_normal(rounds), 0.001 * rng.standard_normal((rounds, per))


SHAPES: dict[str, Shape] = {"lognormal": lognormal, "heavy tails": heavy, "bimodal": bimodal,
                            "tiny within": tiny_within}


@dataclass(frozen=True)
class Case:
    """One cell of the table: a noise shape and what truly differs."""

    shape: str
    slowed: str = "none"  # "none" (A/A), "lone" (LONE only) or "all"
    factor: float = 1.0  # the true slowdown of what is slowed
    drift: float = 0.0  # slowness the machine gains per round-length of time
    sequential: bool = False  # all of a's rounds, then all of b's

    @property
    def name(self) -> str:
        what = "A/A" if self.slowed == "none" else f"{self.slowed} {self.factor}x"
        order = "sequential" if self.sequential else "alternated"
        drift = f", drift {self.drift:.0%}/round {order}" if self.drift else ""
        return f"{what}, {self.shape}{drift}"


def report(case: Case, rounds: int, rng: np.random.Generator) -> Report:
    """One simulated report; round k of a side starts at k round-lengths, the
    sides alternating or one after the other."""
    starts: dict[str, list[float]] = {"a": [], "b": []}
    for k in range(rounds):
        if case.sequential:
            starts["a"].append(k * ROUND_SECONDS)
            starts["b"].append((rounds + k) * ROUND_SECONDS)
        else:
            starts["a"].append(2 * k * ROUND_SECONDS)
            starts["b"].append((2 * k + 1) * ROUND_SECONDS)
    envs = tuple(_environment(label, case, starts[label], rng) for label in ("a", "b"))
    where = Source("simulated", 1, 1)
    sections = tuple(Section(m, (SectionMetric(m, m),), Text("", where)) for m, _, _ in SUITE)
    return Report(slug="sim", title="sim", date=dt.date(2026, 1, 1), author="",
                  intro=Text("", where), baseline="a", environments=envs, system=(),
                  sections=sections, conclusions=(), tier_headings={}, summary=Text("", where))


def _environment(label: str, case: Case, starts: list[float],
                 rng: np.random.Generator) -> Environment:
    metrics = {}
    for metric_id, better, per in SUITE:
        levels, within = SHAPES[case.shape](rng, len(starts), per)
        slowed = label == "b" and (case.slowed == "all" or
                                   (case.slowed == "lone" and metric_id == LONE))
        shift = math.log(case.factor) if slowed else 0.0
        drift = case.drift * np.asarray(starts) / ROUND_SECONDS
        slowness = (levels + drift + shift)[:, None] + within
        values = 100.0 * np.exp(slowness if better == "lower" else -slowness)
        metrics[metric_id] = Metric(metric_id, metric_id, "ms" if better == "lower" else "MB/s",
                                    better, tuple(values.ravel().tolist()),  # type: ignore[arg-type]
                                    rounds=tuple(k + 1 for k in range(len(starts))
                                                 for _ in range(per)))
    rounds = tuple(Round(k + 1, (START + dt.timedelta(seconds=s)).strftime("%Y-%m-%dT%H:%M:%SZ"))
                   for k, s in enumerate(starts))
    return Environment(label, label, rounds[0].started_at, {}, metrics, f"{label}.json",
                       rounds=rounds)


@dataclass(frozen=True)
class Tally:
    reports: int
    with_difference: int  # reports with any worse or better verdict
    lone_found: int  # reports where LONE is worse
    slowed_found: float  # share of slowed metrics called worse

    @property
    def difference_share(self) -> float:
        return self.with_difference / self.reports

    @property
    def lone_share(self) -> float:
        return self.lone_found / self.reports


def run(case: Case, rounds: int, reports: int, seed: int) -> Tally:
    """``reports`` simulated reports of ``case``, seeded, through analyse()."""
    rng = np.random.default_rng(seed)
    differences = lone = 0
    found = []
    for _ in range(reports):
        analysis = analyse(report(case, rounds, rng))
        verdicts = {c.metric_id: c.verdict for c in analysis.comparisons}
        differences += any(v in ("worse", "better") for v in verdicts.values())
        lone += verdicts[LONE] == "worse"
        if case.slowed == "all":
            found.append(sum(v == "worse" for v in verdicts.values()) / len(verdicts))
    return Tally(reports, differences, lone, float(np.mean(found)) if found else 0.0)
