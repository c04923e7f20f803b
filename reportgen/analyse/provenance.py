"""Where a report's figures come from, as the site index says it.

Only the probes (probes/run.py) write ``probe_version`` into a results file;
`reportgen import` and hand-made files leave it out.  Environments measured
in alternating rounds (`reportgen probe --env ...`) show it in their rounds'
start times: sorted by time, no two rounds in a row belong to one
environment.  Both are read from the files, so the mark cannot claim more
than the data shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

from reportgen.core.model import Environment, Report


def provenance(report: Report) -> str:
    """One sentence: measured by the probes (which version, how many rounds,
    alternating or not), in part, or not at all."""
    envs = report.environments
    probed = [e for e in envs if e.probe_version]
    if not probed:
        return ("Not measured by reportgen's probes: no results file names a probe version "
                "(imported, or made by hand).")
    if len(probed) < len(envs):
        return ("Measured by reportgen's probes in part: "
                + ", ".join(e.label for e in probed) + " only.")
    versions = " and ".join(sorted({e.probe_version for e in envs}))
    counts = sorted({len(e.rounds) or 1 for e in envs})
    per_env = f"{counts[0]}" if len(counts) == 1 else f"{counts[0]} to {counts[-1]}"
    if alternating(envs):
        return (f"Measured by reportgen's probes (version {versions}) in alternating rounds, "
                f"{per_env} per environment.")
    rounds = "round" if counts == [1] else "rounds"
    return f"Measured by reportgen's probes (version {versions}), {per_env} {rounds} per environment."


def alternating(envs: Sequence[Environment]) -> bool:
    """Whether two or more environments' rounds, in order of their start times,
    never put two rounds of one environment next to each other."""
    starts = [(r.started_at, e.label) for e in envs for r in e.rounds]
    if len(envs) < 2 or any(not at for at, _ in starts) or len(starts) < 2 * len(envs):
        return False
    labels = [label for _, label in sorted(starts)]
    return all(a != b for a, b in pairwise(labels))
