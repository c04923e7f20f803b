#!/usr/bin/env python3
"""A Debian guest under QEMU, to measure against the machine it runs on.

    guest.py image --work DIR         make the guest image once (root: debootstrap, mkfs)
    guest.py run --work DIR -- CMD    boot it, wait for SSH, run CMD, stop it
    guest.py run --work DIR           boot it and keep it up until Ctrl-C
    guest.py stop --work DIR          stop a guest left running (after a kill -9)

While CMD runs, REPORTGEN_SSH_COMMAND holds the ssh command with the guest's
port, key and host key, so `reportgen probe --env guest=ssh:root@127.0.0.1`
reaches it.  The guest is stopped when CMD ends, and when this script gets
SIGINT, SIGTERM or SIGHUP (forwarded to CMD first, which then ends as it
would after a Ctrl-C).  Python's standard library only, like the probes:
one process that owns QEMU's lifetime is easier to make leak-proof than a
shell script with traps.

Errors a user can fix print one line and exit with status 2.
"""

from __future__ import annotations

import argparse
import ctypes
import errno
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn

PROG = "guest.py"
SUITE = "bookworm"
# What the probes need in the guest: python3 to run them, gcc and libc6-dev for
# their C helper; systemd-sysv and udev to boot, openssh-server to reach it.
PACKAGES = ("linux-image-amd64", "systemd-sysv", "udev", "openssh-server", "python3",
            "gcc", "libc6-dev", "procps")
# Timers that would wake up during a measurement and do unrelated work.
QUIET_UNITS = ("apt-daily.timer", "apt-daily-upgrade.timer", "e2scrub_all.timer",
               "fstrim.timer", "systemd-tmpfiles-clean.timer")
HOST_ALIAS = "qemu-guest"  # the name the guest's host key is recorded under
NEED_FREE = 4 << 30  # the unpacked system (~1 GiB) and the image it is copied into
DONE = "image.done"  # written last: the image is complete
KVM_TRIAL = 60.0  # seconds a KVM boot gets to answer on SSH before TCG is used
TOOLS = {  # command: the Debian package that has it
    "debootstrap": "debootstrap",
    "mkfs.ext4": "e2fsprogs",
    "ssh-keygen": "openssh-client",
    "ssh": "openssh-client",
    "qemu-system-x86_64": "qemu-system-x86",
}


class Failure(Exception):
    """A problem to report in one line; ``status`` 2 for what the user can fix."""

    def __init__(self, message: str, status: int = 2) -> None:
        super().__init__(message)
        self.status = status


class Stopped(Exception):
    """SIGINT, SIGTERM or SIGHUP arrived while nothing else was to be told."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def say(message: str) -> None:
    print(f"{PROG}: {message}", file=sys.stderr, flush=True)


# ---- checks shared by the commands ---------------------------------------------------


def need_tools(*names: str) -> None:
    for name in names:
        if shutil.which(name) is None:
            raise Failure(f"{name} not found: install it with `apt-get install -y {TOOLS[name]}`")


def need_root(what: str) -> None:
    if os.geteuid() != 0:
        raise Failure(f"{what} must run as root (debootstrap and the guest's files need it)")


def need_space(directory: Path, needed: int) -> None:
    free = shutil.disk_usage(directory).free
    if free < needed:
        raise Failure(f"no space: {gib(free)} free in {directory}, the image needs {gib(needed)}")


def gib(size: int) -> str:
    return f"{size / (1 << 30):.1f} GiB"


def need_free_port(port: int) -> None:
    """Refuse a port something listens on (or that is reserved), before QEMU tries it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError as exc:
            raise Failure(f"port {port} on 127.0.0.1 is busy ({exc.strerror}): "
                          "choose another with --port") from None


# ---- the Debian mirror --------------------------------------------------------------


def host_mirror(suite: str, etc: Path = Path("/etc/apt")) -> str:
    """The first 'deb' source of ``suite`` in this machine's apt configuration:
    sources.list (one-line style), then sources.list.d/*.list and *.sources (deb822)."""
    files = [etc / "sources.list", *sorted((etc / "sources.list.d").glob("*.list")),
             *sorted((etc / "sources.list.d").glob("*.sources"))]
    for path in files:
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        entries = deb822(text) if path.suffix == ".sources" else one_line(text)
        for uri, suites in entries:
            if suite in suites:
                return uri
    shown = ", ".join(str(p) for p in files if p.exists()) or f"{etc}/sources.list*"
    raise Failure(f"no Debian '{suite}' mirror found in {shown}: give one with "
                  "--mirror http://deb.debian.org/debian")


def one_line(text: str) -> list[tuple[str, list[str]]]:
    """``deb [options] URI SUITE COMPONENT...`` lines."""
    found = []
    for line in text.splitlines():
        line = re.sub(r"\[[^]]*\]", " ", line.split("#", 1)[0])
        words = line.split()
        if len(words) >= 3 and words[0] == "deb":
            found.append((words[1], [words[2]]))
    return found


def deb822(text: str) -> list[tuple[str, list[str]]]:
    """Stanzas of ``Types: deb``, ``URIs:``, ``Suites:`` (``Enabled: no`` skipped)."""
    found = []
    for stanza in re.split(r"\n\s*\n", text):
        fields: dict[str, str] = {}
        for line in stanza.splitlines():
            if line.startswith("#") or ":" not in line or line[:1].isspace():
                continue
            key, _, value = line.partition(":")
            fields[key.strip().lower()] = value.strip()
        if ("deb" in fields.get("types", "").split() and fields.get("uris")
                and fields.get("enabled", "yes").lower() != "no"):
            found.append((fields["uris"].split()[0], fields.get("suites", "").split()))
    return found


# ---- the work directory -------------------------------------------------------------


@dataclass(frozen=True)
class Work:
    """Everything of one guest, in one directory."""

    root: Path

    @property
    def image(self) -> Path:
        return self.root / "guest.img"

    @property
    def kernel(self) -> Path:
        return self.root / "vmlinuz"

    @property
    def initrd(self) -> Path:
        return self.root / "initrd.img"

    @property
    def key(self) -> Path:
        return self.root / "id_ed25519"

    @property
    def known_hosts(self) -> Path:
        return self.root / "known_hosts"

    @property
    def pidfile(self) -> Path:
        return self.root / "qemu.pid"

    @property
    def console(self) -> Path:
        return self.root / "console.log"

    @property
    def qemu_log(self) -> Path:
        return self.root / "qemu.log"

    @property
    def build(self) -> Path:
        return self.root / "build.tmp"

    def built(self) -> bool:
        return (self.root / DONE).is_file()

    def ssh_command(self, port: int) -> list[str]:
        """ssh to the guest: its port, the root key made for it, its host key pinned."""
        return ["ssh", "-p", str(port), "-i", str(self.key), "-o", "IdentitiesOnly=yes",
                "-o", f"HostKeyAlias={HOST_ALIAS}", "-o", f"UserKnownHostsFile={self.known_hosts}",
                "-o", "StrictHostKeyChecking=yes", "-o", "ConnectTimeout=20",
                "-o", "ServerAliveInterval=15", "-o", "LogLevel=ERROR"]


# ---- image ---------------------------------------------------------------------------


def make_image(work: Work, mirror: str | None, size_gib: int, extra: Sequence[str]) -> None:
    if work.built():
        say(f"reusing the guest image in {work.root} (delete {work.root / DONE} to make it again)")
        return
    need_tools("debootstrap", "mkfs.ext4", "ssh-keygen")
    need_root("guest.py image")
    work.root.mkdir(parents=True, exist_ok=True)
    remove_build(work)
    need_space(work.root, NEED_FREE)
    url = mirror or host_mirror(SUITE)
    rootfs = work.build / "rootfs"
    rootfs.mkdir(parents=True)
    started = time.monotonic()
    try:
        say(f"debootstrap {SUITE} from {url} into {rootfs} (log: {work.root / 'build.log'})")
        # Two stages, so that dpkg can be told not to fsync every file it unpacks (the
        # tree is copied into the image afterwards, and a failed build is started again).
        logged(work, ["debootstrap", "--foreign", "--variant=minbase", "--include=" + ",".join(
            [*PACKAGES, *extra]), SUITE, str(rootfs), url])
        unsafe_io = rootfs / "etc" / "dpkg" / "dpkg.cfg.d" / "build-unsafe-io"
        unsafe_io.parent.mkdir(parents=True, exist_ok=True)
        unsafe_io.write_text("force-unsafe-io\n")
        logged(work, ["chroot", str(rootfs), "/debootstrap/debootstrap", "--second-stage"])
        unsafe_io.unlink()
        configure(work, rootfs)
        image = work.build / "guest.img"
        say(f"mkfs.ext4 -d: {size_gib} GiB sparse image")
        with open(image, "wb") as f:
            f.truncate(size_gib << 30)
        logged(work, ["mkfs.ext4", "-q", "-F", "-L", "guestroot", "-d", str(rootfs), str(image)])
        for path in (image, work.build / "vmlinuz", work.build / "initrd.img"):
            os.replace(path, work.root / path.name)
        (work.root / DONE).write_text(time.strftime("%Y-%m-%dT%H:%M:%SZ\n", time.gmtime()))
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            raise Failure(f"no space left in {work.root} while making the image") from None
        raise
    finally:
        remove_build(work)
    say(f"made {work.image} in {time.monotonic() - started:.0f} s")


def logged(work: Work, argv: list[str]) -> None:
    """Run a step with its output in build.log; a failure is told by its last line."""
    log = work.root / "build.log"
    with open(log, "ab") as out:
        out.write(("$ " + shlex.join(argv) + "\n").encode())
        out.flush()
        # a signal stops it through us, its whole group (debootstrap runs dpkg)
        step = spawn(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
        try:
            status = step.wait()
        finally:
            end_group(step)
    if status != 0:
        lines = log.read_text(errors="replace").strip().splitlines()
        last = lines[-1] if lines else "(no output)"
        if "No space left" in "\n".join(lines[-20:]):
            raise Failure(f"no space left in {work.root} while making the image: {last}")
        raise Failure(f"{argv[0]} failed with status {status}: {last} (see {log})", status=1)


def configure(work: Work, rootfs: Path) -> None:
    """What debootstrap leaves out: fstab, network, the root key, a quiet system."""
    etc = rootfs / "etc"
    (etc / "hostname").write_text("qemu-guest\n")
    (etc / "fstab").write_text("/dev/vda / ext4 defaults,noatime 0 1\n")
    network = etc / "systemd" / "network"
    network.mkdir(parents=True, exist_ok=True)
    (network / "80-dhcp.network").write_text("[Match]\nType=ether\n\n[Network]\nDHCP=ipv4\n")
    wants = etc / "systemd" / "system" / "multi-user.target.wants"
    wants.mkdir(parents=True, exist_ok=True)
    link(wants / "systemd-networkd.service", "/lib/systemd/system/systemd-networkd.service")
    for unit in QUIET_UNITS:
        link(etc / "systemd" / "system" / unit, "/dev/null")
    if not work.key.exists():
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "root@qemu-guest",
                        "-f", str(work.key)], check=True, stdin=subprocess.DEVNULL)
    ssh_dir = rootfs / "root" / ".ssh"
    ssh_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    authorized = ssh_dir / "authorized_keys"
    authorized.write_text(work.key.with_suffix(".pub").read_text())
    authorized.chmod(0o600)
    host_key = etc / "ssh" / "ssh_host_ed25519_key.pub"
    if not host_key.exists():  # openssh-server's postinst makes them; make sure
        subprocess.run(["ssh-keygen", "-A", "-f", str(rootfs)], check=True)
    kind, key = host_key.read_text().split()[:2]
    work.known_hosts.write_text(f"{HOST_ALIAS} {kind} {key}\n")
    boot = rootfs / "boot"
    for pattern, name in (("vmlinuz-*", "vmlinuz"), ("initrd.img-*", "initrd.img")):
        found = sorted(boot.glob(pattern))
        if not found:
            raise Failure(f"debootstrap made no {boot / pattern}", status=1)
        shutil.copyfile(found[-1], work.build / name)
    for deb in (rootfs / "var" / "cache" / "apt" / "archives").glob("*.deb"):
        deb.unlink()


def link(path: Path, target: str) -> None:
    if path.is_symlink() or path.exists():
        path.unlink()
    path.symlink_to(target)


def remove_build(work: Work) -> None:
    """Remove the scratch tree, after unmounting whatever debootstrap left mounted in it
    (an interrupted debootstrap can leave proc and sys there)."""
    if not work.build.exists():
        return
    inside = str(work.build.resolve()) + "/"
    with open("/proc/self/mounts") as f:
        points = [line.split()[1].replace("\\040", " ") for line in f]
    for point in sorted((p for p in points if p.startswith(inside)), key=len, reverse=True):
        subprocess.run(["umount", "-l", point], check=False)
    shutil.rmtree(work.build)


# ---- run -----------------------------------------------------------------------------


def hardware_virtualization(cpuinfo: str) -> bool:
    """Whether the CPU flags offer VT-x or AMD-V.  /dev/kvm alone proves nothing:
    some KVM flavours (PVM) run without them, and a stock kernel does not boot there."""
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            flags = line.partition(":")[2].split()
            return "vmx" in flags or "svm" in flags
    return False


class Guest:
    """One QEMU process of ours: started in its own session, so that a Ctrl-C at
    the terminal reaches this script alone, and stopped by it."""

    def __init__(self, work: Work, port: int, cpus: int, memory: int) -> None:
        self.work, self.port, self.cpus, self.memory = work, port, cpus, memory
        self.process: subprocess.Popen[bytes] | None = None

    def argv(self, accel: str) -> list[str]:
        w = self.work
        return ["qemu-system-x86_64", "-name", HOST_ALIAS, "-nodefaults", "-no-user-config",
                "-accel", accel, "-cpu", "host" if accel == "kvm" else "max",
                "-smp", str(self.cpus), "-m", str(self.memory),
                "-kernel", str(w.kernel), "-initrd", str(w.initrd),
                "-append", "root=/dev/vda rw console=ttyS0 net.ifnames=0 quiet",
                "-drive", f"file={w.image},format=raw,if=virtio",
                "-netdev", f"user,id=net0,hostfwd=tcp:127.0.0.1:{self.port}-:22",
                "-device", "virtio-net-pci,netdev=net0", "-device", "virtio-rng-pci",
                "-display", "none", "-monitor", "none", "-serial", f"file:{w.console}",
                "-no-reboot"]

    def start(self, accel: str) -> None:
        with open(self.work.qemu_log, "wb") as log:
            self.process = spawn(self.argv(accel), stdin=subprocess.DEVNULL, stdout=log,
                                 stderr=subprocess.STDOUT)
        write_pidfile(self.work.pidfile, self.process.pid)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def wait_for_ssh(self, timeout: float) -> bool:
        """True when the guest answered on SSH within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        probe = [*self.work.ssh_command(self.port), "-o", "BatchMode=yes",
                 "root@127.0.0.1", "true"]
        while time.monotonic() < deadline:
            if not self.alive():
                raise Failure(self.exit_message(), status=1)
            try:
                answer = subprocess.run(probe, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL, timeout=60, check=False)
                if answer.returncode == 0:
                    return True
            except subprocess.TimeoutExpired:
                pass  # the guest took the connection but did not answer yet
            time.sleep(2)
        return False

    def exit_message(self) -> str:
        assert self.process is not None
        text = self.work.qemu_log.read_text(errors="replace")
        if "Could not set up host forwarding rule" in text:
            return f"port {self.port} on 127.0.0.1 is busy (QEMU could not forward it): " \
                   "choose another with --port"
        last = (text.strip().splitlines() or ["no message"])[-1]
        status = self.process.returncode
        how = (f"was stopped by {signal.Signals(-status).name}" if status < 0
               else f"exited with status {status}")
        return f"QEMU {how} during boot: {last}"

    def stop(self) -> None:
        """SIGTERM (QEMU exits at once, as if unplugged), SIGKILL if it has not after 15 s."""
        if self.process is not None:
            if self.process.poll() is None:
                self.process.terminate()
                try:
                    self.process.wait(15)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
            self.process = None
        self.work.pidfile.unlink(missing_ok=True)


def end_group(process: subprocess.Popen[bytes]) -> None:
    """Stop what is left of a child's process group: SIGTERM, then SIGKILL."""
    for signum, grace in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 0.0)):
        try:
            os.killpg(process.pid, signum)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            try:
                os.killpg(process.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)
    process.wait()


def spawn(argv: Sequence[str], **options: Any) -> subprocess.Popen[bytes]:
    """A child in a session of its own (a Ctrl-C at the terminal reaches this script
    only, which then decides), that gets SIGTERM should this script die."""
    return subprocess.Popen(argv, start_new_session=True,
                            preexec_fn=die_with_parent, **options)  # noqa: PLW1509 (no threads)


def die_with_parent() -> None:
    """In the child: SIGTERM when this script dies, even by SIGKILL (Linux prctl)."""
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def write_pidfile(path: Path, pid: int) -> None:
    scratch = path.with_name(path.name + ".tmp")
    scratch.write_text(f"{pid}\n")
    os.replace(scratch, path)


def running_qemu(work: Work) -> int | None:
    """The pid of a QEMU that the pidfile names and that runs this work dir's image."""
    try:
        pid = int(work.pidfile.read_text().strip())
        name = Path(f"/proc/{pid}/comm").read_text()  # the executable's name, 15 bytes at most
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (OSError, ValueError):
        return None
    if name.startswith("qemu-system") and any(str(work.image).encode() in w for w in cmdline):
        return pid
    return None


def stop_here(signum: int, frame: FrameType | None) -> None:
    raise Stopped(signum)


class Signals:
    """While a command runs, signals go on to it; otherwise they stop the script."""

    def __init__(self) -> None:
        self.child: subprocess.Popen[bytes] | None = None
        self.received = 0

    def install(self) -> None:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, self.handle)

    def handle(self, signum: int, frame: FrameType | None) -> None:
        self.received = signum
        if self.child is not None and self.child.poll() is None:
            # as a Ctrl-C at the terminal would: to the command's whole process group
            os.killpg(self.child.pid, signum)
            return
        raise Stopped(signum)

    @staticmethod
    def ignore() -> None:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN)


def run_guest(work: Work, args: argparse.Namespace) -> int:
    if not work.built():
        raise Failure(f"no guest image in {work.root}: make it first with "
                      f"`{PROG} image --work {work.root}`")
    need_tools("qemu-system-x86_64", "ssh")
    pid = running_qemu(work)
    if pid is not None:
        raise Failure(f"a guest from {work.root} is already running (QEMU pid {pid}): "
                      f"stop it with `{PROG} stop --work {work.root}`")
    need_free_port(args.port)
    work.pidfile.unlink(missing_ok=True)  # stale: its process is gone
    signals = Signals()
    signals.install()
    guest = Guest(work, args.port, args.cpus, args.memory)
    try:
        started = time.monotonic()
        accel = boot(guest, args.accel, args.boot_timeout)
        ssh = shlex.join(work.ssh_command(args.port))
        say(f"guest up after {time.monotonic() - started:.0f} s ({accel}); "
            f"reach it with: {ssh} root@127.0.0.1")
        if not args.command:
            say("press Ctrl-C to stop it")
            while guest.alive():
                time.sleep(1)
            return 1
        env = dict(os.environ, REPORTGEN_SSH_COMMAND=ssh)
        signals.child = spawn(args.command, env=env)
        status = signals.child.wait()
        return status if status >= 0 else 128 - status
    except Stopped as stop:
        say(f"stopped by {stop}")
        return 128 + stop.signum
    finally:
        Signals.ignore()  # the cleanup below is short and must not be cut
        if signals.child is not None and signals.child.poll() is None:
            os.killpg(signals.child.pid, signal.SIGTERM)
            signals.child.wait()
        was_up = guest.process is not None
        guest.stop()
        if was_up:
            say("guest stopped")


def boot(guest: Guest, accel: str, timeout: float) -> str:
    """Boot with KVM only when asked, or when the CPU offers VT-x/AMD-V and the guest
    answers within a minute; otherwise (and then) with TCG.  Returns the one used."""
    if accel == "auto":
        with open("/proc/cpuinfo") as f:
            if hardware_virtualization(f.read()) and os.access("/dev/kvm", os.R_OK | os.W_OK):
                say("trying KVM (the CPU offers hardware virtualization)")
                guest.start("kvm")
                try:
                    if guest.wait_for_ssh(KVM_TRIAL):
                        return "kvm"
                    say(f"no SSH answer within {KVM_TRIAL:.0f} s with KVM: "
                        "booting with TCG instead")
                except Failure as exc:  # QEMU gave up on KVM (this host's KVM refused a setting)
                    say(f"{exc}; booting with TCG instead")
                guest.stop()
            else:
                say("no vmx or svm CPU flag: booting with TCG (no hardware acceleration)")
        accel = "tcg"
    say(f"booting with {accel}; waiting up to {timeout:.0f} s for SSH")
    guest.start(accel)
    if not guest.wait_for_ssh(timeout):
        raise Failure(f"no SSH answer from the guest within {timeout:.0f} s "
                      f"(console: {guest.work.console})", status=1)
    return accel


def stop_guest(work: Work) -> int:
    pid = running_qemu(work)
    if pid is None:
        say(f"no guest running from {work.root}")
        work.pidfile.unlink(missing_ok=True)
        return 0
    os.kill(pid, signal.SIGTERM)
    for _ in range(150):
        if not Path(f"/proc/{pid}").exists():
            break
        time.sleep(0.1)
    else:
        os.kill(pid, signal.SIGKILL)
    work.pidfile.unlink(missing_ok=True)
    say(f"stopped QEMU (pid {pid})")
    return 0


# ---- command line --------------------------------------------------------------------


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise Failure(f"{message} (see {PROG} --help)")


def parser() -> argparse.ArgumentParser:
    top = Parser(prog=PROG, description=__doc__.split("\n\n")[0])
    commands = top.add_subparsers(dest="action", required=True, parser_class=Parser,
                                  metavar="{image,run,stop}")
    image = commands.add_parser("image", help="make the guest image (as root)")
    run = commands.add_parser("run", help="boot the guest, run a command, stop the guest")
    stop = commands.add_parser("stop", help="stop a guest left running")
    for each in (image, run, stop):
        each.add_argument("--work", type=Path, required=True,
                          help="the guest's directory: image, kernel, keys, logs")
    image.add_argument("--mirror", help="Debian mirror URL (default: this machine's apt "
                                        f"source for {SUITE})")
    image.add_argument("--size", type=int, default=3, metavar="GIB",
                       help="size of the sparse disk image (default 3)")
    image.add_argument("--sysbench", action="store_true",
                       help="install sysbench too (measure with it only if the host has it)")
    run.add_argument("--port", type=int, default=10022,
                     help="local port forwarded to the guest's SSH (default 10022)")
    run.add_argument("--accel", choices=("auto", "tcg", "kvm"), default="auto",
                     help="auto: KVM only with vmx/svm CPU flags and an SSH answer within "
                          f"{KVM_TRIAL:.0f} s, else TCG (default)")
    run.add_argument("--cpus", type=int, default=2, help="vCPUs (default 2)")
    run.add_argument("--memory", type=int, default=2048, metavar="MIB",
                     help="memory (default 2048)")
    run.add_argument("--boot-timeout", type=float, default=600.0, metavar="SECONDS",
                     help="how long to wait for SSH (default 600)")
    run.add_argument("command", nargs=argparse.REMAINDER,
                     help="-- COMMAND...: run it with REPORTGEN_SSH_COMMAND set, then stop")
    return top


def main(argv: Sequence[str]) -> int:
    try:
        args = parser().parse_args(argv)
        work = Work(args.work.absolute())
        if args.action == "image":
            if not 1 <= args.size <= 64:
                raise Failure(f"--size {args.size}: give 1 to 64 GiB")
            for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
                signal.signal(signum, stop_here)
            make_image(work, args.mirror, args.size, ["sysbench"] if args.sysbench else [])
            return 0
        if args.action == "stop":
            return stop_guest(work)
        if args.command[:1] == ["--"]:
            args.command = args.command[1:]
        if not 1 <= args.port <= 65535:
            raise Failure(f"--port {args.port}: not a TCP port")
        if args.cpus < 1 or args.memory < 256 or args.boot_timeout <= 0:
            raise Failure("--cpus must be 1 or more, --memory 256 MiB or more, "
                          "--boot-timeout positive")
        return run_guest(work, args)
    except Failure as exc:
        say(str(exc))
        return exc.status
    except Stopped as stop:
        say(f"stopped by {stop}")
        return 128 + stop.signum


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
