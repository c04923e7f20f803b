"""probes/run.py with faults injected, for the tests only.

    python tests/probe_faults_wrapper.py ID=FAULT... -- RUN_PY_ARGS...

FAULT is ``fail`` (preparing the probe raises ProbeError), ``fail-from-N``
(the same, from round N on) or ``hang`` (each sample runs a child that sleeps
for an hour). The faults replace the probes' prepare functions in this
process and nothing else, so what the tests see is the real runner handling
them: its time limit, killing the hung child, its signal handling. The
shipped probes (wheel, bundle) carry no switch for this.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

PROBES = Path(__file__).resolve().parent.parent / "probes"
HANG_MARKER = "reportgen-test-hang"  # on the hung child's command line: tests look for it
HANG = [sys.executable, "-c", "import time; time.sleep(3600)", HANG_MARKER]


def command(faults: list[str], args: list[str]) -> list[str]:
    """The command line that runs probes/run.py ``args`` with ``faults``."""
    return [sys.executable, __file__, *faults, "--", *args]


def main(argv: list[str]) -> int:
    split = argv.index("--")
    faults = dict(item.split("=", 1) for item in argv[:split])
    # Imported here, not at the top, so that tests can import the constants
    # above without loading the probes into the test process.
    sys.path.insert(0, str(PROBES))
    import probe_commands
    import run
    from probe_workloads import WORKLOADS, Context, Plan

    current = 0  # the round the runner is in, as it tells run_round
    real_run_round = run.run_round

    def run_round(round_no: int, probes: list[run.Probe], ctx: Context, clock: run.Clock,
                  progress: run.Progress) -> None:
        nonlocal current
        current = round_no
        real_run_round(round_no, probes, ctx, clock, progress)

    def hang(timeout: float) -> float:
        probe_commands.run(HANG, timeout)
        return 0.0

    def faulty(prepare: Callable[[Context], Plan], fault: str) -> Callable[[Context], Plan]:
        if fault == "hang":
            return lambda ctx: prepare(ctx)._replace(sample=hang)
        if fault == "fail":
            first = 1
        elif fault.startswith("fail-from-"):
            first = int(fault[len("fail-from-"):])
        else:
            raise SystemExit(f"probe_faults_wrapper.py: unknown fault {fault!r}")

        def prepared(ctx: Context) -> Plan:
            if current >= first:
                raise probe_commands.ProbeError("injected failure")
            return prepare(ctx)

        return prepared

    run.run_round = run_round
    ids = [w.id for w in WORKLOADS]
    for metric_id, fault in faults.items():
        if metric_id not in ids:
            raise SystemExit(f"probe_faults_wrapper.py: no metric {metric_id!r}")
        index = ids.index(metric_id)
        # in place: run.py holds the same list
        WORKLOADS[index] = WORKLOADS[index]._replace(
            prepare=faulty(WORKLOADS[index].prepare, fault))
    return run.main(argv[split + 1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
