"""examples/qemu-guest/guest.py without booting anything, and the report it measured.

The script's checks run against the real thing where that is cheap (a port
somebody listens on, a PATH without the tools, a small tmpfs); its handling
of QEMU's lifetime runs against stand-ins: a fake ``qemu-system-x86_64``
that records its pid and sleeps, and a fake ``ssh`` that answers or not.
That is enough to show that Ctrl-C during the boot and during the command
leaves no QEMU behind; a real boot takes minutes (docs/guide.md).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from types import ModuleType

import pytest
from click.testing import CliRunner

from reportgen.analyse.provenance import alternating, provenance
from reportgen.cli import main
from reportgen.core.model import Environment, Round
from reportgen.read.report_yml import load_report
from tests import factories
from tests.golden import cwd

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "examples" / "qemu-guest" / "guest.py"
REPORT = ROOT / "reports" / "qemu-tcg"


def guest_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("qemu_guest", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def script(*args: str, path: str | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PATH=path if path is not None else os.environ["PATH"])
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True,
                          env=env, timeout=60, check=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def built(tmp_path: Path) -> Path:
    """A work directory that looks like a finished `guest.py image`."""
    work = tmp_path / "work"
    work.mkdir()
    for name in ("guest.img", "vmlinuz", "initrd.img", "id_ed25519", "known_hosts"):
        (work / name).write_bytes(b"")
    (work / "image.done").write_text("2026-12-07T19:00:00Z\n")
    return work


def fake(bin_dir: Path, name: str, body: str) -> None:
    path = bin_dir / name
    path.write_text(f"#!{sys.executable}\nimport os, sys, time, signal\n{body}\n")
    path.chmod(0o755)


@pytest.fixture
def fakes(tmp_path: Path) -> Path:
    """fake qemu and ssh first on PATH; qemu writes its pid to bin/qemu.pid and sleeps
    (on SIGTERM it writes bin/qemu.gone and exits), ssh answers when bin/ssh.ok exists."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake(bin_dir, "qemu-system-x86_64",
         f"def gone(signum, frame):\n"
         f"    open({str(bin_dir / 'qemu.gone')!r}, 'w').write(signal.Signals(signum).name)\n"
         f"    sys.exit(1)\n"
         f"signal.signal(signal.SIGTERM, gone)\n"
         f"open({str(bin_dir / 'qemu.pid')!r}, 'w').write(str(os.getpid()))\n"
         "time.sleep(600)")
    fake(bin_dir, "ssh", f"sys.exit(0 if os.path.exists({str(bin_dir / 'ssh.ok')!r}) else 255)")
    return bin_dir


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie has no cmdline; our children are reaped by guest.py, so it would be a leak too
    return Path(f"/proc/{pid}/cmdline").read_bytes() != b""


def wait_for(path: Path, seconds: float = 30.0) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if path.exists() and path.read_text():
            return path.read_text()
        time.sleep(0.05)
    raise AssertionError(f"{path} never appeared")


@pytest.fixture
def reaper() -> Iterator[list[int]]:
    """Pids to kill after the test whatever happened, so a failure leaks nothing."""
    pids: list[int] = []
    yield pids
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def start_run(built: Path, fakes: Path, *command: str) -> subprocess.Popen[str]:
    """guest.py run in a process group of its own, as a shell runs a foreground job."""
    env = dict(os.environ, PATH=f"{fakes}:{os.environ['PATH']}")
    argv = [sys.executable, str(SCRIPT), "run", "--work", str(built), "--port", str(free_port()),
            "--accel", "tcg"]
    if command:
        argv += ["--", *command]
    return subprocess.Popen(argv, env=env, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


# ---- arguments and errors ------------------------------------------------------------


@pytest.mark.parametrize(("args", "message"), [
    ((), "guest.py: the following arguments are required: {image,run,stop} (see guest.py --help)"),
    (("run",), "guest.py: the following arguments are required: --work (see guest.py --help)"),
    (("run", "--work", "w", "--accel", "hvf"),
     ("guest.py: argument --accel: invalid choice: 'hvf' (choose from 'auto', 'tcg', 'kvm') "
     "(see guest.py --help)")),
    (("run", "--work", "w", "--port", "70000"), "guest.py: --port 70000: not a TCP port"),
    (("run", "--work", "w", "--cpus", "0"),
     "guest.py: --cpus must be 1 or more, --memory 256 MiB or more, --boot-timeout positive"),
    (("image", "--work", "w", "--size", "0"), "guest.py: --size 0: give 1 to 64 GiB"),
    (("run", "--work", "nowhere"),
     ("guest.py: no guest image in {cwd}/nowhere: make it first with "
     "`guest.py image --work {cwd}/nowhere`")),
])
def test_bad_arguments(args: tuple[str, ...], message: str, tmp_path: Path) -> None:
    with cwd(tmp_path):
        done = script(*args)
    assert (done.returncode, done.stderr) == (2, message.replace("{cwd}", str(tmp_path)) + "\n")
    assert list(tmp_path.iterdir()) == []


def test_missing_package_for_the_image(tmp_path: Path) -> None:
    done = script("image", "--work", str(tmp_path / "w"), path=str(tmp_path))
    assert (done.returncode, done.stderr) == (
        2, "guest.py: debootstrap not found: install it with `apt-get install -y debootstrap`\n")
    assert not (tmp_path / "w").exists()


def test_missing_package_for_the_boot(built: Path, tmp_path: Path) -> None:
    done = script("run", "--work", str(built), path=str(tmp_path))
    assert (done.returncode, done.stderr) == (
        2, ("guest.py: qemu-system-x86_64 not found: install it with "
           "`apt-get install -y qemu-system-x86`\n"))


def test_busy_port_refused_before_qemu_starts(built: Path, fakes: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = script("run", "--work", str(built), "--port", str(port), "--", "true",
                      path=f"{fakes}:{os.environ['PATH']}")
    assert (done.returncode, done.stderr) == (
        2, (f"guest.py: port {port} on 127.0.0.1 is busy (Address already in use): "
           "choose another with --port\n"))
    assert not (fakes / "qemu.pid").exists()
    assert not (built / "qemu.pid").exists()


def test_no_space_for_the_image(tmp_path: Path, fakes: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    small = tmp_path / "small"
    small.mkdir()
    mount = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(small)],
                           capture_output=True, text=True, check=False)
    if mount.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mount.stderr.strip()}")
    try:
        for tool in ("debootstrap", "mkfs.ext4", "ssh-keygen"):  # never reached
            fake(fakes, tool, "sys.exit(99)")
        done = script("image", "--work", str(small / "w"), path=f"{fakes}:{os.environ['PATH']}")
        assert (done.returncode, done.stderr) == (
            2, f"guest.py: no space: 0.0 GiB free in {small}/w, the image needs 4.0 GiB\n")
        assert sorted(p.name for p in (small / "w").iterdir()) == []
    finally:
        subprocess.run(["umount", str(small)], check=True)


def test_mirror_from_the_hosts_apt_sources(tmp_path: Path) -> None:
    guest = guest_module()
    etc = tmp_path / "apt"
    (etc / "sources.list.d").mkdir(parents=True)
    # a one-line source of another suite, a disabled deb822 stanza, then the one to use
    (etc / "sources.list").write_text(
        "# deb http://old.example/debian bookworm main\n"
        "deb [arch=amd64 signed-by=/k.gpg] https://apt.example/x stable main\n")
    (etc / "sources.list.d" / "debian.sources").write_text(
        "Types: deb\nURIs: http://off.example/debian\nSuites: bookworm\nEnabled: no\n\n"
        "Types: deb-src deb\n# a comment\nURIs: http://mirror.example/debian\n"
        "Suites: bookworm bookworm-updates\nComponents: main\n")
    assert guest.host_mirror("bookworm", etc) == "http://mirror.example/debian"
    assert guest.host_mirror("stable", etc) == "https://apt.example/x"
    with pytest.raises(guest.Failure, match=r"no Debian 'trixie' mirror found in .*sources.list, "
                                            r".*debian.sources: give one with --mirror "):
        guest.host_mirror("trixie", etc)


def test_kvm_needs_the_cpu_flags_not_the_device() -> None:
    guest = guest_module()
    epyc = (ROOT / "tests" / "fixtures" / "probes" / "linux-cpuinfo-x86_64-epyc.txt").read_text()
    assert not guest.hardware_virtualization(epyc)  # this machine's kind: no vmx, no svm
    assert guest.hardware_virtualization(epyc.replace(" fpu ", " fpu vmx ", 1))
    assert guest.hardware_virtualization("flags\t\t: fpu svm lm\n")
    assert not guest.hardware_virtualization("flags\t\t: fpu svmx lm\n")


# ---- QEMU's lifetime, with stand-ins ---------------------------------------------------


def test_ctrl_c_during_boot_stops_qemu(built: Path, fakes: Path, reaper: list[int]) -> None:
    run = start_run(built, fakes, "true")
    qemu = int(wait_for(fakes / "qemu.pid"))
    reaper.append(qemu)
    assert int(wait_for(built / "qemu.pid")) == qemu  # the pidfile names it while it runs
    os.killpg(run.pid, signal.SIGINT)  # what the terminal does on Ctrl-C
    _, err = run.communicate(timeout=60)
    assert run.returncode == 130, err
    assert err.splitlines()[-2:] == ["guest.py: stopped by SIGINT", "guest.py: guest stopped"]
    assert (fakes / "qemu.gone").read_text() == "SIGTERM"  # stopped before guest.py ended
    assert not alive(qemu)
    assert not (built / "qemu.pid").exists()


def test_ctrl_c_during_the_command(built: Path, fakes: Path, tmp_path: Path,
                                   reaper: list[int]) -> None:
    (fakes / "ssh.ok").write_text("")
    seen = tmp_path / "seen"
    command = tmp_path / "command.py"
    command.write_text(
        "import os, signal, sys, time\n"
        f"seen = {str(seen)!r}\n"
        "def stop(signum, frame):\n"
        "    open(seen + '.signals', 'a').write(signal.Signals(signum).name + '\\n')\n"
        "    time.sleep(0.5)  # as reportgen probe removes its remote directory\n"
        "    sys.exit(130)\n"
        "signal.signal(signal.SIGINT, stop)\n"
        "open(seen + '.env', 'w').write(os.environ['REPORTGEN_SSH_COMMAND'])\n"
        "open(seen, 'w').write(str(os.getpid()))\n"
        "time.sleep(600)\n")
    run = start_run(built, fakes, sys.executable, str(command))
    child = int(wait_for(seen))
    reaper.append(child)
    qemu = int((fakes / "qemu.pid").read_text())
    reaper.append(qemu)
    os.killpg(run.pid, signal.SIGINT)
    _, err = run.communicate(timeout=60)
    assert run.returncode == 130, err
    assert Path(f"{seen}.signals").read_text() == "SIGINT\n"  # once, not twice
    assert err.splitlines()[-1] == "guest.py: guest stopped"
    assert (fakes / "qemu.gone").read_text() == "SIGTERM"
    assert not alive(child) and not alive(qemu)
    ssh = Path(f"{seen}.env").read_text()
    assert f"-i {built}/id_ed25519" in ssh and "-o HostKeyAlias=qemu-guest" in ssh
    assert ssh.startswith("ssh -p ")


def test_command_status_and_qemu_gone_after_a_normal_end(built: Path, fakes: Path,
                                                        reaper: list[int]) -> None:
    (fakes / "ssh.ok").write_text("")
    run = start_run(built, fakes, sys.executable, "-c", "raise SystemExit(3)")
    _, err = run.communicate(timeout=60)
    reaper.append(int((fakes / "qemu.pid").read_text()))
    assert run.returncode == 3, err
    assert "guest.py: guest up after" in err
    assert (fakes / "qemu.gone").read_text() == "SIGTERM"
    assert not alive(reaper[-1])


def test_qemu_follows_a_killed_script(built: Path, fakes: Path, reaper: list[int]) -> None:
    run = start_run(built, fakes, "true")
    qemu = int(wait_for(fakes / "qemu.pid"))
    reaper.append(qemu)
    run.kill()  # SIGKILL: no cleanup of ours runs; the kernel's parent-death signal does
    run.communicate(timeout=60)
    deadline = time.monotonic() + 10
    while alive(qemu) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(qemu)


def test_one_guest_per_work_dir_and_stop(built: Path, fakes: Path, reaper: list[int]) -> None:
    """A second run is refused while the first one's QEMU runs; `stop` ends that QEMU
    (as after a kill -9 of the first run), and the first run then says QEMU is gone."""
    run = start_run(built, fakes, "true")
    qemu = int(wait_for(fakes / "qemu.pid"))
    reaper.append(qemu)
    wait_for(built / "qemu.pid")
    again = script("run", "--work", str(built), "--port", str(free_port()), "--", "true",
                   path=f"{fakes}:{os.environ['PATH']}")
    assert (again.returncode, again.stderr) == (
        2, (f"guest.py: a guest from {built} is already running (QEMU pid {qemu}): "
           f"stop it with `guest.py stop --work {built}`\n"))
    stop = script("stop", "--work", str(built))
    assert (stop.returncode, stop.stderr) == (0, f"guest.py: stopped QEMU (pid {qemu})\n")
    _, err = run.communicate(timeout=60)
    assert run.returncode == 1, err
    assert "guest.py: QEMU exited with status 1 during boot: no message" in err
    assert not alive(qemu)
    again = script("stop", "--work", str(built))
    assert (again.returncode, again.stderr) == (0, f"guest.py: no guest running from {built}\n")


def test_sigterm_during_boot(built: Path, fakes: Path, reaper: list[int]) -> None:
    run = start_run(built, fakes, "true")
    qemu = int(wait_for(fakes / "qemu.pid"))
    reaper.append(qemu)
    os.kill(run.pid, signal.SIGTERM)  # to the script alone, as `kill` does
    _, err = run.communicate(timeout=60)
    assert run.returncode == 143, err
    assert err.splitlines()[-2:] == ["guest.py: stopped by SIGTERM", "guest.py: guest stopped"]
    assert (fakes / "qemu.gone").read_text() == "SIGTERM"
    assert not alive(qemu)


# ---- the report ----------------------------------------------------------------------


def test_qemu_report_builds_strict(tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "reports").mkdir(parents=True)
    shutil.copytree(REPORT, site / "reports" / "qemu-tcg")
    (site / "site.yml").write_text("title: T\nreports: [reports/*]\nformats: [html, txt]\n")
    with cwd(site):
        result = CliRunner().invoke(main, ["build", "--strict", "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    # the only warnings: samples that scatter (the host was busy), never the prose's
    warnings = [line for line in result.output.splitlines() if "warning:" in line]
    assert all("unstable samples" in line for line in warnings), warnings
    index = (tmp_path / "out" / "index.html").read_text()
    assert "Measured by reportgen&#39;s probes (version 0.2.0) in alternating rounds" in index


def test_provenance_of_the_examples() -> None:
    """Read off the files by hand: bhyve-smp's carry no probe_version (made from a post),
    firecracker-aa's say 0.1.0 and ran one after the other (run-a's five rounds end
    10:49:50, run-b's start later), qemu-tcg's were taken in turn."""
    marks = {slug: provenance(load_report(ROOT / "reports" / slug).report)
             for slug in ("bhyve-smp", "firecracker-aa")}
    assert marks == {
        "bhyve-smp": "Not measured by reportgen's probes: no results file names a probe "
                     "version (imported, or made by hand).",
        "firecracker-aa": "Measured by reportgen's probes (version 0.1.0), 5 rounds per "
                          "environment.",
    }
    files = {p.stem: json.loads(p.read_text()) for p in (REPORT / "results").glob("*.json")}
    starts = sorted((r["started_at"], label) for label, d in files.items() for r in d["rounds"])
    assert [label for _, label in starts][:4] == ["native", "guest", "native", "guest"]
    rounds = len(files["guest"]["rounds"])
    assert provenance(load_report(REPORT).report) == (
        "Measured by reportgen's probes (version 0.2.0) in alternating rounds, "
        f"{rounds} per environment.")


def test_alternating_needs_every_round_in_turn() -> None:
    def env(label: str, *starts: str) -> Environment:
        return replace(factories.environment(label),
                       rounds=tuple(Round(n, at) for n, at in enumerate(starts, start=1)))

    a = env("a", "2026-01-01T10:00:00Z", "2026-01-01T10:02:00Z")
    b = env("b", "2026-01-01T10:01:00Z", "2026-01-01T10:03:00Z")
    late = env("b", "2026-01-01T10:03:00Z", "2026-01-01T10:04:00Z")
    unknown = env("b", "", "")
    assert alternating([a, b])
    assert not alternating([a, late])  # a, a, b, b
    assert not alternating([a, unknown])
    assert not alternating([a])
