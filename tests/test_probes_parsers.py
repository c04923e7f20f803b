"""Parsers and decisions of the probes, driven by fixture files.

FreeBSD outputs (sysctl, kenv, mount -p, BSD dd, sysbench) are fixtures so
that these tests run on Linux CI; Linux ones were taken from a real machine.
"""

import importlib
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "probes"))

parsers = importlib.import_module("probe_parsers")
sysinfo = importlib.import_module("probe_sysinfo")

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "probes"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


def test_sysctl_host_values_and_multiline_version() -> None:
    values = parsers.parse_sysctl(fixture("freebsd-16-host.sysctl.txt"))
    assert values["hw.model"] == "Intel(R) Core(TM) i9-9900K CPU @ 3.60GHz"
    assert values["hw.ncpu"] == "16"
    assert values["kern.smp.cores"] == "8"
    assert values["hw.physmem"] == "68572766208"
    assert values["kern.vm_guest"] == "none"
    assert values["hw.hv_vendor"] == ""
    version = values["kern.version"].splitlines()
    assert version[0].startswith("FreeBSD 16.0-CURRENT #0")
    assert version[1].strip().endswith("/sys/GENERIC")


@pytest.mark.parametrize(("name", "smbios", "role", "technology"), [
    ("freebsd-16-host.sysctl.txt", [], "host", None),
    ("freebsd-15-guest-qemu-bhyve.sysctl.txt",
     fixture("freebsd-15-guest-qemu-bhyve.kenv.txt").splitlines(), "guest", "QEMU + bhyve"),
    ("freebsd-15-guest-qemu-bhyve.sysctl.txt", ["FreeBSD", "BHYVE"], "guest", "bhyve"),
    ("freebsd-15-guest-qemu-bhyve.sysctl.txt", [], "guest", "bhyve"),
    ("freebsd-14-jail.sysctl.txt", [], "container", "jail"),
])
def test_freebsd_virtualization(name: str, smbios: list[str], role: str,
                                technology: str | None) -> None:
    virt = sysinfo.freebsd_virtualization(parsers.parse_sysctl(fixture(name)), smbios)
    assert virt["role"] == role
    assert virt.get("technology") == technology
    assert virt["detected_by"]


def test_freebsd_kvm_and_tcg_signatures() -> None:
    kvm = {"kern.vm_guest": "kvm", "hw.hv_vendor": "KVMKVMKVM"}
    assert sysinfo.freebsd_virtualization(kvm, ["QEMU"])["technology"] == "QEMU + KVM"
    tcg = {"kern.vm_guest": "generic", "hw.hv_vendor": "TCGTCGTCGTCG"}
    assert sysinfo.freebsd_virtualization(tcg, ["QEMU"])["technology"] == "QEMU/TCG"


CASES = json.loads(fixture("linux-virtualization-cases.json"))


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_linux_virtualization(case: dict) -> None:
    virt = sysinfo.linux_virtualization(case["evidence"])
    assert virt["role"] == case["role"]
    assert virt.get("technology") == case["technology"]


def test_cpuinfo_x86() -> None:
    info = parsers.parse_cpuinfo(fixture("linux-cpuinfo-x86_64-epyc.txt"))
    assert info["cpu_model"] == "AMD EPYC"
    assert info["cpu_threads"] == 2
    assert info["cpu_cores"] == 2
    assert "hypervisor" in info["flags"]


def test_cpuinfo_aarch64_has_no_model_name_or_flags() -> None:
    info = parsers.parse_cpuinfo(fixture("linux-cpuinfo-aarch64.txt"))
    assert info["cpu_threads"] == 2
    assert info["cpu_cores"] == 2
    assert "cpu_model" not in info
    assert info["flags"] == []


def test_meminfo_and_os_release() -> None:
    assert parsers.parse_meminfo(fixture("linux-meminfo.txt")) == 24683656 * 1024
    release = parsers.parse_os_release(fixture("linux-os-release.txt"))
    assert release["PRETTY_NAME"] == "Debian GNU/Linux 12 (bookworm)"


@pytest.mark.parametrize(("name", "rate"), [
    ("sysbench-1.0.20-linux-read-t1.txt", 5194.91),
    ("sysbench-1.0.20-linux-write-t2.txt", 4895.40),
    ("sysbench-1.0.20-freebsd-read-t8.txt", 28445.77),
    ("sysbench-0.4.12-memory.txt", 2379.44),
])
def test_sysbench_memory_rate(name: str, rate: float) -> None:
    assert parsers.parse_sysbench_memory(fixture(name)) == rate


def test_sysbench_rate_missing_is_an_error() -> None:
    with pytest.raises(ValueError, match="transferred"):
        parsers.parse_sysbench_memory("FATAL: unknown test 'memory'\n")


def test_sysbench_version() -> None:
    assert parsers.parse_sysbench_version("sysbench 1.0.20\n") == "1.0.20"
    head = fixture("sysbench-1.0.20-freebsd-read-t8.txt").splitlines()[0]
    assert parsers.parse_sysbench_version(head) == "1.0.20"
    assert parsers.parse_sysbench_version("command not found") is None


@pytest.mark.parametrize(("name", "seconds"), [
    ("dd-gnu.txt", 0.0102507), ("dd-freebsd.txt", 0.021306),
])
def test_dd_statistics(name: str, seconds: float) -> None:
    assert parsers.parse_dd_output(fixture(name)) == (268435456, seconds)


def test_filesystem_of_freebsd_and_linux_mounts() -> None:
    bsd = parsers.parse_mounts(fixture("freebsd-mount-p.txt"))
    assert parsers.filesystem_of("/tmp/reportgen-probes-x", bsd) == "tmpfs"
    assert parsers.filesystem_of("/data/bench", bsd) == "ufs"
    assert parsers.filesystem_of("/database", bsd) == "zfs"  # not /data: whole components
    assert parsers.filesystem_of("/home/me", bsd) == "zfs"
    linux = parsers.parse_mounts(fixture("linux-mounts.txt"))
    assert parsers.filesystem_of("/proc/self", linux) == "proc"
    assert parsers.filesystem_of("/", linux) is not None


def test_mount_paths_with_escaped_spaces() -> None:
    mounts = parsers.parse_mounts("/dev/sdb1 /mnt/my\\040disk ext4 rw 0 0\n")
    assert parsers.filesystem_of("/mnt/my disk/x", mounts) == "ext4"


def test_describe_environment() -> None:
    system = {"os": "FreeBSD", "os_release": "15.0-RELEASE", "cpu_threads": 8,
              "virtualization": {"role": "guest", "technology": "QEMU + bhyve"}}
    assert sysinfo.describe(system) == "FreeBSD 15.0-RELEASE, QEMU + bhyve guest, 8 CPUs"
    linux = {"os": "Linux", "os_release": "Debian GNU/Linux 12 (bookworm)", "cpu_threads": 2,
             "virtualization": {"role": "host"}}
    assert sysinfo.describe(linux) == "Debian GNU/Linux 12 (bookworm), host, 2 CPUs"
