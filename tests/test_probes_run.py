"""The probe runner end to end: probes/run.py in a child process, as users run it.

Sizes are shrunk with --scale and --samples so the whole file runs in a few
seconds; sysbench and a C compiler are used when present, never required.
Failing and hanging probes are injected by tests/probe_faults_wrapper.py,
which runs the same runner with those probes replaced.
"""

import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from reportgen.analyse.compare import MIN_ROUNDS
from tests.probe_faults_wrapper import HANG_MARKER, command

ROOT = Path(__file__).resolve().parent.parent
RUN = ROOT / "probes" / "run.py"
SCHEMA = json.loads((ROOT / "reportgen" / "read" / "schemas" / "results.schema.json").read_text())
SMALL = ["--profile", "quick", "--rounds", "2", "--samples", "2", "--warmup", "0",
         "--scale", "0.01"]
ALL_IDS = [
    "cpu.integer", "syscall.getpid", "process.fork_wait", "memory.dd_zero",
    "memory.sysbench.read.t1", "memory.sysbench.read.tN",
    "memory.sysbench.write.t1", "memory.sysbench.write.tN",
    "disk.write_fsync", "disk.cached_read",
]


@pytest.fixture(scope="module")
def helper_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One C helper cache for the module: built once, never in ~/.cache."""
    return tmp_path_factory.mktemp("helper-cache")


@pytest.fixture
def env(tmp_path: Path, helper_cache: Path) -> dict[str, str]:
    """A child environment whose temporary directory we can inspect."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    return dict(os.environ, TMPDIR=str(tmp), REPORTGEN_PROBES_CACHE=str(helper_cache))


def run(args: list[str], env: dict[str, str], timeout: float = 60,
        faults: list[str] | None = None) -> subprocess.CompletedProcess:
    """probes/run.py ``args``; with ``faults`` (ID=FAULT), through the tests' wrapper."""
    argv = command(faults, args) if faults else [sys.executable, str(RUN), *args]
    return subprocess.run(argv, env=env, cwd=ROOT.parent,
                          capture_output=True, text=True, timeout=timeout, check=False)


def load_valid(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text())
    jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker()
                                    ).validate(data)
    return data


def by_id(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {m["id"]: m for m in data["metrics"]}


def test_every_metric_small_run_validates(tmp_path: Path, env: dict[str, str]) -> None:
    out = tmp_path / "here.json"
    proc = run(["--label", "here", "-o", str(out), "--no-sysbench", *SMALL], env)
    assert proc.returncode == 0, proc.stderr
    data = load_valid(out)
    assert data["format"] == "reportgen-results/2"
    assert [r["round"] for r in data["rounds"]] == [1, 2]
    assert data["environment"]["label"] == "here"
    assert data["environment"]["description"]
    assert "hostname" not in data
    system = data["system"]
    for key in ("cpu_cores", "cpu_threads", "os", "os_release", "kernel", "arch",
                "virtualization", "tools"):
        assert key in system, key
    assert system["tools"]["python"]
    metrics = by_id(data)
    assert list(metrics) == ALL_IDS
    for metric in metrics.values():
        assert metric["status"] == "ok", metric
        assert len(metric["samples"]) == 4
        assert metric["sample_rounds"] == [1, 1, 2, 2]
        assert all(value > 0 for value in metric["samples"])
        assert metric["tool"] and isinstance(metric["params"], dict)
    assert metrics["memory.sysbench.read.t1"]["tool"].endswith("(sysbench missing)")
    assert metrics["memory.sysbench.write.tN"]["params"]["threads"] >= 1
    assert os.listdir(env["TMPDIR"]) == []  # nothing left behind
    lines = proc.stderr.splitlines()
    # the round ends with every probe's last sample, in order; then a summary each
    assert lines[-12].startswith("note: round 2/2 done in ")
    assert [line.split("  ")[0] for line in lines[-22:-12]] == [
        f"[{i}/10] {metric_id}" for i, metric_id in enumerate(ALL_IDS, 1)]
    assert all("  round 2/2  sample 2/2  " in line for line in lines[-22:-12])
    assert lines[-11].startswith("[1/10] cpu.integer  ok  median ")
    assert ", 4 samples in 2 rounds  " in lines[-11]


def test_rounds_interleave_the_metrics(tmp_path: Path, env: dict[str, str]) -> None:
    """Each round prepares and warms up every probe, then takes their samples in
    turn; the file records the rounds, in order, and the round of each sample."""
    out = tmp_path / "r.json"
    proc = run(["--label", "r", "-o", str(out), "--only", "cpu.integer", "memory.dd_zero",
                "--profile", "quick", "--rounds", "3", "--samples", "2", "--warmup", "1",
                "--scale", "0.01"], env)
    assert proc.returncode == 0, proc.stderr
    steps = [line.split("  ")[:3] for line in proc.stderr.splitlines()
             if "  round " in line]
    round_one = [" ".join(s) for s in steps if s[1] == "round 1/3"]
    assert round_one == [
        "[1/2] cpu.integer round 1/3 preparing",
        "[1/2] cpu.integer round 1/3 warm-up 1/1",
        "[1/2] cpu.integer round 1/3 sample 1/2",
        "[2/2] memory.dd_zero round 1/3 preparing",
        "[2/2] memory.dd_zero round 1/3 warm-up 1/1",
        "[2/2] memory.dd_zero round 1/3 sample 1/2",
        "[1/2] cpu.integer round 1/3 sample 2/2",
        "[2/2] memory.dd_zero round 1/3 sample 2/2",
    ]
    assert len(steps) == 3 * len(round_one)
    data = load_valid(out)
    assert [r["round"] for r in data["rounds"]] == [1, 2, 3]
    started = [r["started_at"] for r in data["rounds"]]
    assert started == sorted(started) and started[0] >= data["collected_at"]
    for metric in data["metrics"]:
        assert metric["sample_rounds"] == [1, 1, 2, 2, 3, 3]


def test_profile_sets_the_rounds(tmp_path: Path, env: dict[str, str]) -> None:
    out = tmp_path / "q.json"
    proc = run(["--label", "q", "-o", str(out), "--only", "memory.dd_zero", "--profile",
                "quick", "--samples", "1", "--warmup", "0", "--quiet"], env)
    assert proc.returncode == 0, proc.stderr
    data = load_valid(out)
    assert len(data["rounds"]) == 5  # quick takes the 5 rounds a verdict needs
    assert data["metrics"][0]["sample_rounds"] == [1, 2, 3, 4, 5]


def test_progress_names_probe_sample_and_elapsed(tmp_path: Path, env: dict[str, str]) -> None:
    proc = run(["--label", "p", "-o", str(tmp_path / "p.json"), "--only", "memory.dd_zero",
                *SMALL], env)
    assert proc.returncode == 0, proc.stderr
    assert any(line.startswith("[1/1] memory.dd_zero  round 1/2  sample 1/2  ")
               and line.endswith("s")
               for line in proc.stderr.splitlines()), proc.stderr


def test_progress_counts_in_words(tmp_path: Path, env: dict[str, str]) -> None:
    """One sample in one round is said so, not "1 samples in 1 rounds"."""
    proc = run(["--label", "w", "-o", str(tmp_path / "w.json"), "--only", "memory.dd_zero",
                "--profile", "quick", "--rounds", "1", "--samples", "1", "--warmup", "0",
                "--scale", "0.01"], env)
    assert proc.returncode == 0, proc.stderr
    (done,) = [line for line in proc.stderr.splitlines() if "  ok  median " in line]
    assert ", 1 sample in 1 round  " in done


def test_round_of_numbers_the_round_and_keeps_the_file_quiet(tmp_path: Path,
                                                             env: dict[str, str]) -> None:
    """One round of `reportgen probe --env`: its progress shows the alternating
    run's round, and its scratch file is not announced as written."""
    scratch = tmp_path / ".reportgen-rounds-x"
    scratch.mkdir()
    out = scratch / "a-3.json"
    proc = run(["--label", "a", "-o", str(out), "--only", "memory.dd_zero", "--profile",
                "quick", "--rounds", "1", "--samples", "1", "--warmup", "0", "--scale", "0.01",
                "--round-of", "3/5"], env)
    assert proc.returncode == 0, proc.stderr
    assert "[1/1] memory.dd_zero  round 3/5  sample 1/1  " in proc.stderr
    assert "note: round 3/5 done in " in proc.stderr
    assert str(scratch) not in proc.stderr and "wrote" not in proc.stderr
    assert [r["round"] for r in load_valid(out)["rounds"]] == [1]


def test_planned_rounds_come_from_the_profile() -> None:
    """What `reportgen probe --env` asks for the number of rounds."""
    module = _load_runner("probes_run_planned")
    for name, profile in module.PROFILES.items():
        assert module.planned_rounds(["--profile", name, "--only", "cpu.*"]) == profile.rounds
    assert module.planned_rounds([]) == module.PROFILES["standard"].rounds
    assert module.planned_rounds(["--profile", "quick", "--rounds", "7"]) == 7
    with pytest.raises(module.UsageError, match="invalid choice"):
        module.planned_rounds(["--profile", "fast"])


@pytest.mark.skipif(shutil.which("cc") is None and shutil.which("gcc") is None,
                    reason="no C compiler")
def test_c_helper_and_python_fallback_are_marked(tmp_path: Path, env: dict[str, str]) -> None:
    loops = ["--only", "cpu.*", "syscall.*", "process.*", *SMALL]
    run(["--label", "c", "-o", str(tmp_path / "c.json"), *loops], env)
    run(["--label", "py", "-o", str(tmp_path / "py.json"), "--python-fallback", *loops], env)
    c_tools = {m["tool"] for m in load_valid(tmp_path / "c.json")["metrics"]}
    py = load_valid(tmp_path / "py.json")["metrics"]
    assert c_tools == {"c-helper"}
    assert {m["tool"] for m in py} == {"python-fallback"}
    assert all(m["status"] == "ok" for m in py)
    assert "cc" in load_valid(tmp_path / "c.json")["system"]["tools"]


@pytest.mark.skipif(shutil.which("sysbench") is None, reason="sysbench not installed")
def test_sysbench_when_installed(tmp_path: Path, env: dict[str, str]) -> None:
    out = tmp_path / "s.json"
    proc = run(["--label", "s", "-o", str(out), "--only", "memory.sysbench.read.t1",
                "--rounds", "1", "--samples", "1", "--warmup", "0"], env)
    assert proc.returncode == 0, proc.stderr
    data = load_valid(out)
    metric = data["metrics"][0]
    assert metric["tool"] == "sysbench " + data["system"]["tools"]["sysbench"]
    assert metric["unit"] == "MiB/s" and metric["samples"][0] > 0


def test_failed_timeout_and_skipped_keep_the_others(tmp_path: Path, env: dict[str, str]) -> None:
    out = tmp_path / "mixed.json"
    proc = run(["--label", "mixed", "-o", str(out), "--timeout", "1.5",
                "--file-size", "1000000000000", "--only", "cpu.integer", "syscall.getpid",
                "process.fork_wait", "disk.write_fsync", "memory.dd_zero", *SMALL], env,
               faults=["cpu.integer=fail", "syscall.getpid=hang"])
    assert proc.returncode == 1, proc.stderr
    metrics = by_id(load_valid(out))
    assert metrics["cpu.integer"]["status"] == "failed"
    assert "injected failure" in metrics["cpu.integer"]["error"]
    assert metrics["syscall.getpid"]["status"] == "timeout"
    assert metrics["syscall.getpid"]["duration_s"] < 10
    assert metrics["disk.write_fsync"]["status"] == "skipped"
    assert "not enough free space" in metrics["disk.write_fsync"]["error"]
    assert metrics["syscall.getpid"]["error"].startswith("time limit reached after ")
    assert metrics["syscall.getpid"]["error"].endswith(" s (limit 1.5 s per round)")
    assert metrics["syscall.getpid"]["samples"] == []  # not tried again in round 2
    for kept in ("process.fork_wait", "memory.dd_zero"):
        assert metrics[kept]["status"] == "ok"
        assert metrics[kept]["sample_rounds"] == [1, 1, 2, 2]
    assert os.listdir(env["TMPDIR"]) == []


def test_failure_in_a_later_round_keeps_the_earlier_samples(tmp_path: Path,
                                                             env: dict[str, str]) -> None:
    out = tmp_path / "later.json"
    proc = run(["--label", "later", "-o", str(out), "--only", "cpu.integer", "memory.dd_zero",
                *SMALL, "--rounds", "3"], env, faults=["cpu.integer=fail-from-2"])
    assert proc.returncode == 1, proc.stderr
    metrics = by_id(load_valid(out))
    failed = metrics["cpu.integer"]
    assert (failed["status"], failed["sample_rounds"]) == ("failed", [1, 1])
    assert "injected failure" in failed["error"]
    assert "[1/2] cpu.integer  round 3/3" not in proc.stderr  # not tried again
    assert metrics["memory.dd_zero"]["sample_rounds"] == [1, 1, 2, 2, 3, 3]


def _pids_running(marker: str) -> list[str]:
    """Processes whose command line contains marker (Linux /proc only)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path("/proc", pid, "cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if marker.encode() in cmdline:
            found.append(pid)
    return found


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_interrupt_writes_json_and_cleans_up(tmp_path: Path, env: dict[str, str],
                                             signum: int) -> None:
    workdir = tmp_path / "work"
    workdir.mkdir()
    out = tmp_path / "int.json"
    proc = subprocess.Popen(
        command(["disk.cached_read=hang"],
                ["--label", "int", "-o", str(out), "--workdir", str(workdir),
                 "--only", "disk.*", "cpu.integer", *SMALL]),
        env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    watchdog = threading.Timer(60, proc.kill)
    watchdog.start()
    try:
        assert proc.stderr is not None
        for line in proc.stderr:  # the hung read: the data file exists now
            if "disk.cached_read  round 1/2  warm-up" in line:
                break
        assert list(workdir.iterdir()), "the run's private directory should exist"
        proc.send_signal(signum)
        rest = proc.stderr.read()
        code = proc.wait(timeout=30)
    finally:
        watchdog.cancel()
    assert code == 128 + signum, rest
    metrics = by_id(load_valid(out))
    # what round 1 measured before the signal stays, as ok
    assert metrics["cpu.integer"]["status"] == "ok"
    assert metrics["cpu.integer"]["sample_rounds"] == [1]
    assert metrics["disk.write_fsync"]["status"] == "ok"
    assert metrics["disk.cached_read"]["status"] == "skipped"
    assert metrics["disk.cached_read"]["error"] == "interrupted by " + signal.Signals(signum).name
    assert list(workdir.iterdir()) == []
    assert os.listdir(env["TMPDIR"]) == []
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".int.json")] == []
    if os.path.isdir("/proc"):
        assert _pids_running(HANG_MARKER) == []


@pytest.mark.parametrize(("args", "message"), [
    (["--label", "Guest"], "invalid label 'Guest'"),
    (["--label", "9x"], "invalid label '9x'"),
    (["--label", "g", "--only", "nope.*"], "--only nope.* matches no metric"),
    (["--label", "g", "--workdir", "/dev/null"], "is a device, not a directory"),
    (["--label", "g", "--workdir", str(RUN)], "is not a directory"),
    (["--label", "g", "--workdir", "/nonexistent/dir"], "No such file or directory"),
    (["--label", "g", "-o", "/nonexistent/dir/x.json"], "no such directory"),
    (["--label", "g", "--profile", "fast"], "invalid choice"),
    (["--label", "g", "--rounds", "0"], "--rounds must be positive"),
    (["--label", "g", "--round-of", "3"], "--round-of expects N/R"),
    ([], "--label is required"),
])
def test_usage_errors_are_one_line_exit_2(tmp_path: Path, env: dict[str, str],
                                           args: list[str], message: str) -> None:
    proc = subprocess.run([sys.executable, str(RUN), *args], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=30, check=False)
    assert proc.returncode == 2
    assert len(proc.stderr.splitlines()) == 1, proc.stderr
    assert message in proc.stderr
    assert list(tmp_path.iterdir()) == [tmp_path / "tmp"]  # nothing written


def test_hostname_only_on_request(tmp_path: Path, env: dict[str, str]) -> None:
    out = tmp_path / "h.json"
    run(["--label", "h", "-o", str(out), "--only", "memory.dd_zero", "--hostname", *SMALL], env)
    assert load_valid(out)["hostname"]


def test_main_in_process_restores_signal_handlers(tmp_path: Path, helper_cache: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """reportgen probe imports run.py by path and calls main(argv)."""
    monkeypatch.setenv("REPORTGEN_PROBES_CACHE", str(helper_cache))
    module = _load_runner("probes_run_under_test")
    stopping = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    before = [signal.getsignal(signum) for signum in stopping]
    out = tmp_path / "inproc.json"
    code = module.main(["--label", "inproc", "-o", str(out), "--only", "memory.dd_zero",
                        "--quiet", *SMALL])
    assert code == 0
    assert [signal.getsignal(signum) for signum in stopping] == before
    assert by_id(load_valid(out))["memory.dd_zero"]["status"] == "ok"
    assert module.main(["--label", "BAD"]) == 2


# --- through `reportgen probe`: the rounds a verdict needs ----------------------

TINY = ["--only", "memory.dd_zero", "--samples", "1", "--warmup", "0", "--scale", "0.01"]


def front(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    """`reportgen probe ARGS` in ``cwd``."""
    return subprocess.run([sys.executable, "-m", "reportgen", "probe", *args], cwd=cwd,
                          env=dict(env, PYTHONPATH=str(ROOT)), capture_output=True, text=True,
                          timeout=120, check=False)


def advice(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "verdicts need" in line]


def test_env_rounds_default_to_the_profile(tmp_path: Path, env: dict[str, str]) -> None:
    """Without --rounds, an alternating run takes the profile's rounds, as a
    run without --env does; its progress never names the scratch files."""
    rounds = _load_runner("probes_run_profiles").PROFILES["quick"].rounds
    done = front(["--env", "a=local", "--env", "b=local", "--profile", "quick", *TINY,
                  "-o", "out"], env, tmp_path)
    assert done.returncode == 0, done.stderr
    for label in ("a", "b"):
        data = load_valid(tmp_path / "out" / f"{label}.json")
        assert [r["round"] for r in data["rounds"]] == list(range(1, rounds + 1))
    lines = done.stderr.splitlines()
    assert [line for line in lines if line.startswith("round ")] == [
        f"round {n}/{rounds}: {label} (this machine)"
        for n in range(1, rounds + 1) for label in ("a", "b")]
    assert f"note: round {rounds}/{rounds} done in " in done.stderr
    assert ".reportgen-rounds-" not in done.stderr
    assert " 1 samples" not in done.stderr and " 1 rounds" not in done.stderr
    plural = "round" if rounds == 1 else "rounds"
    assert f"wrote out/a.json ({rounds} {plural})" in lines
    assert len(advice(done.stderr)) == (1 if rounds < MIN_ROUNDS else 0)


def test_env_run_short_of_rounds_says_so_once(tmp_path: Path, env: dict[str, str]) -> None:
    done = front(["--env", "a=local", "--env", "b=local", "--rounds", "1", *TINY, "-o", "out"],
                 env, tmp_path)
    assert done.returncode == 0, done.stderr
    assert ("wrote out/a.json (1 round)", "wrote out/b.json (1 round)") == tuple(
        done.stderr.splitlines()[-3:-1])
    assert advice(done.stderr) == [done.stderr.splitlines()[-1]] == [
        ("note: verdicts need at least 5 rounds per environment; out/a.json and out/b.json "
         "have 1 round each: to measure 5, run reportgen probe --env a=local --env b=local "
         "--only memory.dd_zero --samples 1 --warmup 0 --scale 0.01 -o out --rounds 5")]


def test_probe_short_of_rounds_says_so_once(tmp_path: Path, env: dict[str, str]) -> None:
    """After the last line of the run, one note with the command that measures enough."""
    done = front(["--label", "a", "--profile", "quick", "--rounds", "2", *TINY, "-o", "a.json"],
                 env, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines()[-2:] == [
        "note: wrote a.json",
        ("note: verdicts need at least 5 rounds per environment; a.json has 2 rounds: to "
         "measure 5, run reportgen probe --label a --profile quick --only memory.dd_zero "
         "--samples 1 --warmup 0 --scale 0.01 -o a.json --rounds 5")]
    assert len(advice(done.stderr)) == 1


def test_probe_with_enough_rounds_says_nothing_of_them(tmp_path: Path,
                                                       env: dict[str, str]) -> None:
    done = front(["--label", "a", "--rounds", str(MIN_ROUNDS), *TINY], env, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines()[-1] == "note: wrote a.json"
    assert advice(done.stderr) == []
    assert len(load_valid(tmp_path / "a.json")["rounds"]) == MIN_ROUNDS


def _load_runner(name: str) -> Any:
    """probes/run.py imported by path, as reportgen probe does."""
    spec = importlib.util.spec_from_file_location(name, RUN)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
