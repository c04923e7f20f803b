"""A private OpenSSH server for the tests: 127.0.0.1, a free port, keys in a temp dir.

Nothing system-wide changes: host key, user key, authorized_keys, sshd_config
and the client's ssh_config all live in the directory given; the server runs
as an ordinary child process in the foreground (-D) and is stopped at the end.
Keys stand for kinds of machine: "user" logs in plainly, "nopython" and
"oldpython" get a forced command that runs the request with a PATH that has no
python3, or a python3 that claims to be 3.6; "noisy" prints a greeting on stdout
first, as some login scripts do; "other" is not authorized at all.
The client may set TMPDIR on the remote side (AcceptEnv), e.g. to a full disk.
"""

from __future__ import annotations

import getpass
import os
import shlex
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

SSHD = Path("/usr/sbin/sshd")


def missing() -> str | None:
    """Why the tests cannot start an sshd here, or None."""
    if not SSHD.exists():
        return f"{SSHD} is not installed (Debian: apt-get install openssh-server)"
    if shutil.which("ssh") is None or shutil.which("ssh-keygen") is None:
        return "the OpenSSH client is not installed (Debian: apt-get install openssh-client)"
    return None


@dataclass(frozen=True)
class Server:
    root: Path
    port: int
    user: str
    config: Path  # the client's ssh_config
    pid: int  # the listening sshd; each connection is served by processes under it

    @property
    def target(self) -> str:
        return f"{self.user}@127.0.0.1:{self.port}"

    def command(self, key: str = "user", *options: str) -> str:
        """An --ssh-command value: ssh with our config and that key, plus ``options``."""
        return shlex.join(["ssh", "-F", str(self.config), "-i", str(self.root / f"{key}_key"),
                           *options])

    def ssh(self, remote: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*shlex.split(self.command()), "-p", str(self.port),
                               f"{self.user}@127.0.0.1", remote], capture_output=True,
                              text=True, timeout=30, check=False, stdin=subprocess.DEVNULL)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _keygen(path: Path) -> None:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)],
                   check=True, stdin=subprocess.DEVNULL)


@contextmanager
def server(root: Path) -> Iterator[Server]:
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o700)
    for name in ("host", "user", "nopython", "oldpython", "noisy", "other"):
        _keygen(root / f"{name}_key")
    python = shutil.which("python3") or "/usr/bin/python3"
    old = root / "oldpython"
    old.mkdir()
    (old / "python3").write_text(f'#!/bin/sh\nexec {python} -c "import sys; '
                                 f'sys.version_info = (3, 6, 15); $2"\n')
    (old / "python3").chmod(0o755)
    run_with = 'command="PATH={} /bin/sh -c \\"$SSH_ORIGINAL_COMMAND\\"" '
    (root / "authorized_keys").write_text(
        (root / "user_key.pub").read_text()
        + run_with.format("/nonexistent") + (root / "nopython_key.pub").read_text()
        + run_with.format(f"{old}:/usr/bin:/bin") + (root / "oldpython_key.pub").read_text()
        + 'command="echo Welcome; /bin/sh -c \\"$SSH_ORIGINAL_COMMAND\\"" '
        + (root / "noisy_key.pub").read_text())
    (root / "authorized_keys").chmod(0o600)
    port = free_port()
    user = getpass.getuser()
    (root / "sshd_config").write_text(f"""\
ListenAddress 127.0.0.1
Port {port}
HostKey {root / 'host_key'}
AuthorizedKeysFile {root / 'authorized_keys'}
PidFile {root / 'sshd.pid'}
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
StrictModes no
UsePAM no
AcceptEnv PATH TMPDIR
Subsystem sftp internal-sftp
""")
    config = root / "ssh_config"
    config.write_text(f"""\
Host 127.0.0.1
    IdentitiesOnly yes
    IdentityAgent none
    UserKnownHostsFile {root / 'known_hosts'}
    StrictHostKeyChecking no
    LogLevel ERROR
""")
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(exist_ok=True)  # sshd's privilege-separation directory
    log = (root / "sshd.log").open("w")
    proc = subprocess.Popen([str(SSHD), "-D", "-e", "-f", str(root / "sshd_config")],
                            stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    try:
        served = Server(root, port, user, config, proc.pid)
        _wait_until_up(served, proc)
        yield served
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def _wait_until_up(served: Server, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("sshd exited: " + (served.root / "sshd.log").read_text())
        if served.ssh("true").returncode == 0:
            return
        time.sleep(0.2)
    raise RuntimeError("sshd did not answer: " + (served.root / "sshd.log").read_text())
