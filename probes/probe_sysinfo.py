"""System information: CPU, memory, OS, virtualization and tool versions.

Reading (files, sysctl, commands) is kept apart from deciding (pure
functions over what was read), so the decisions are tested with fixtures.
"""
from __future__ import annotations

import os
import platform
from typing import Callable

import probe_commands as commands
import probe_parsers as parsers
from probe_commands import version_line

FREEBSD_SYSCTLS = [
    "hw.model", "hw.ncpu", "kern.smp.cores", "hw.physmem", "hw.machine_arch",
    "kern.ostype", "kern.osrelease", "kern.version", "kern.vm_guest", "hw.hv_vendor",
    "security.jail.jailed",
]

# Hypervisor names as FreeBSD's kern.vm_guest, hw.hv_vendor (the CPUID
# signature), systemd-detect-virt and DMI/ACPI spell them -> one display name.
VM_NAMES = {
    "bhyve": "bhyve", "bhyve bhyve": "bhyve", "kvm": "KVM", "kvmkvmkvm": "KVM",
    "linux kvm hv": "KVM", "qemu": "QEMU/TCG", "tcgtcgtcgtcg": "QEMU/TCG",
    "xen": "Xen", "xenvmmxenvmm": "Xen", "vmware": "VMware", "vmwarevmware": "VMware",
    "hv": "Hyper-V", "microsoft": "Hyper-V", "microsoft hv": "Hyper-V",
    "vbox": "VirtualBox", "oracle": "VirtualBox", "vboxvboxvbox": "VirtualBox",
    "parallels": "Parallels", "nvmm": "NVMM", "acrn": "ACRN", "apple": "Apple Virtualization",
    "amazon": "KVM (AWS Nitro)", "google": "KVM (Google)", "firecracker": "Firecracker",
    "generic": "unknown hypervisor",
}

# Who built the virtual machine, from DMI/SMBIOS vendor or ACPI OEM id.
MACHINE_MARKERS = [
    ("FIRECK", "Firecracker"), ("BHYVE", "bhyve"), ("QEMU", "QEMU"), ("BOCHS", "QEMU"),
    ("VMWARE", "VMware"), ("INNOTEK", "VirtualBox"), ("VBOX", "VirtualBox"),
    ("XEN", "Xen"), ("AMAZON EC2", "KVM (AWS Nitro)"), ("GOOGLE", "KVM (Google)"),
    ("PARALLELS", "Parallels"), ("MICROSOFT CORPORATION VIRTUAL MACHINE", "Hyper-V"), ("MSFTVM", "Hyper-V"),
]

CONTAINER_MARKERS = [("/.dockerenv", "docker"), ("/run/.containerenv", "podman")]


def vm_name(raw: str) -> str | None:
    key = raw.strip().lower()
    if key in ("", "none"):
        return None
    return VM_NAMES.get(key, raw.strip())


def machine_name(evidence: list[str]) -> str | None:
    for text in evidence:
        upper = text.upper()
        for marker, name in MACHINE_MARKERS:
            if marker in upper:
                return name
    return None


def combine(machine: str | None, accel: str | None) -> str | None:
    """One technology name: "QEMU + bhyve" for QEMU on a hardware accelerator."""
    if machine == "QEMU" and accel and accel not in ("QEMU/TCG", "QEMU"):
        return "QEMU + " + accel
    if machine == "QEMU":
        return "QEMU/TCG" if accel == "QEMU/TCG" else "QEMU"
    return machine or accel


def freebsd_virtualization(sysctl: dict[str, str], smbios: list[str]) -> dict[str, str]:
    """Role and technology from FreeBSD sysctls and SMBIOS strings (kenv)."""
    if sysctl.get("security.jail.jailed") == "1":
        return {"role": "container", "technology": "jail",
                "detected_by": "security.jail.jailed"}
    accel = vm_name(sysctl.get("hw.hv_vendor", "")) or vm_name(sysctl.get("kern.vm_guest", ""))
    if accel is None:
        return {"role": "host", "detected_by": "kern.vm_guest"}
    by = ["kern.vm_guest"] + (["hw.hv_vendor"] if sysctl.get("hw.hv_vendor") else [])
    machine = machine_name(smbios)
    if machine:
        by.append("smbios")
    return {"role": "guest", "technology": combine(machine, accel) or accel,
            "detected_by": ", ".join(by)}


def linux_virtualization(evidence: dict[str, str]) -> dict[str, str]:
    """Role and technology from what Linux exposes.

    evidence keys (each optional): flags (x86 cpuinfo flags), dmi (DMI
    vendor and product), acpi_oem (ACPI table OEM ids), detect_vm and
    detect_container (systemd-detect-virt --vm / --container), xen
    (/sys/hypervisor/type), container (a marker file's verdict).
    """
    by = []
    accel = vm_name(evidence.get("detect_vm", ""))
    if accel:
        by.append("systemd-detect-virt")
    elif evidence.get("xen"):
        accel = "Xen"
        by.append("/sys/hypervisor")
    flags = evidence.get("flags", "").split()
    if "hypervisor" in flags:
        by.append("cpuinfo hypervisor flag")
    # Every x86 hypervisor sets the CPUID hypervisor bit; without it a
    # vendor string in DMI (Microsoft, Amazon...) is bare-metal hardware.
    x86_bare = bool(flags) and "hypervisor" not in flags and not accel
    acpi_machine = machine_name([evidence.get("acpi_oem", "")])
    machine = None if x86_bare else acpi_machine or machine_name([evidence.get("dmi", "")])
    if machine:
        by.append("ACPI OEM id" if acpi_machine else "DMI")
    container = vm_name(evidence.get("detect_container", "")) or evidence.get("container")
    if machine or accel or "hypervisor" in flags:
        info = {"role": "guest",
                "technology": combine(machine, accel) or "unknown hypervisor",
                "detected_by": ", ".join(by)}
        if container:
            info["detected_by"] += f"; also {container.lower()} container markers"
        return info
    if container:
        return {"role": "container", "technology": container.lower(),
                "detected_by": "systemd-detect-virt" if evidence.get("detect_container")
                else "container marker file"}
    return {"role": "host", "detected_by": "no hypervisor flag, DMI or container marker"}


def _read(path: str, limit: int = 1 << 20) -> str:
    try:
        with open(path, "rb") as handle:
            return handle.read(limit).decode("utf-8", "replace")
    except OSError:
        return ""


def _acpi_oem_ids() -> str:
    """OEM ids of the ACPI tables (bytes 10-15 of each header; root only)."""
    ids = []
    for table in ("DSDT", "FACP", "APIC"):
        header = _read("/sys/firmware/acpi/tables/" + table, 16)
        if len(header) >= 16:
            ids.append(header[10:16].strip())
    return " ".join(ids)


def freebsd_system() -> dict[str, object]:
    sysctl = parsers.parse_sysctl(commands.output(["sysctl"] + FREEBSD_SYSCTLS))
    smbios = [commands.output(["kenv", "-q", name]).strip()
              for name in ("smbios.system.maker", "smbios.system.product")]
    info: dict[str, object] = {
        "cpu_model": sysctl.get("hw.model", ""),
        "os": sysctl.get("kern.ostype", "FreeBSD"),
        "os_release": sysctl.get("kern.osrelease", platform.release()),
        "kernel": parsers.first_line(sysctl.get("kern.version", "")) or platform.version(),
        "arch": sysctl.get("hw.machine_arch", platform.machine()),
        "virtualization": freebsd_virtualization(sysctl, smbios),
    }
    for key, name in (("cpu_threads", "hw.ncpu"), ("cpu_cores", "kern.smp.cores"),
                      ("memory_bytes", "hw.physmem")):
        if sysctl.get(name, "").isdigit():
            info[key] = int(sysctl[name])
    return info


def _container_marker() -> str:
    for path, name in CONTAINER_MARKERS:
        if os.path.exists(path):
            return name
    cgroup = _read("/proc/1/cgroup")
    for name in ("docker", "kubepods", "lxc", "containerd"):
        if name in cgroup:
            return name
    return ""


def linux_system() -> dict[str, object]:
    cpu = parsers.parse_cpuinfo(_read("/proc/cpuinfo"))
    release = parsers.parse_os_release(_read("/etc/os-release") or _read("/usr/lib/os-release"))
    dmi = " ".join(_read("/sys/class/dmi/id/" + name).strip()
                   for name in ("sys_vendor", "product_name", "bios_vendor"))
    evidence = {
        "flags": " ".join(cpu.get("flags", [])),  # type: ignore[arg-type]
        "dmi": dmi,
        "acpi_oem": _acpi_oem_ids(),
        "detect_vm": commands.output(["systemd-detect-virt", "--vm"]).strip(),
        "detect_container": commands.output(["systemd-detect-virt", "--container"]).strip(),
        "xen": _read("/sys/hypervisor/type").strip(),
        "container": _container_marker(),
    }
    info: dict[str, object] = {
        "os": "Linux",
        "os_release": release.get("PRETTY_NAME", platform.release()),
        "kernel": f"{platform.release()} {platform.version()}",
        "arch": platform.machine(),
        "virtualization": linux_virtualization(evidence),
    }
    for key in ("cpu_model", "cpu_cores", "cpu_threads"):
        if key in cpu:
            info[key] = cpu[key]
    memory = parsers.parse_meminfo(_read("/proc/meminfo"))
    if memory is not None:
        info["memory_bytes"] = memory
    return info


def generic_system() -> dict[str, object]:
    return {"os": platform.system(), "os_release": platform.release(),
            "kernel": platform.version(), "arch": platform.machine(),
            "cpu_threads": os.cpu_count() or 1,
            "virtualization": {"role": "unknown"}}


def dd_version(dd: str) -> str:
    line = version_line([dd, "--version"]) or ""
    if "coreutils" in line:
        return "GNU coreutils " + line.split()[-1]
    if "busybox" in line.lower():
        return "BusyBox"
    return "BSD"


def tool_versions(cc: str | None, sysbench: str | None, dd: str | None) -> dict[str, str]:
    tools = {"python": platform.python_version()}
    if cc:
        tools["cc"] = version_line([cc, "--version"]) or cc
    if sysbench:
        tools["sysbench"] = parsers.parse_sysbench_version(
            version_line([sysbench, "--version"]) or "") or "unknown"
    if dd:
        tools["dd"] = dd_version(dd)
    return tools


COLLECTORS: dict[str, Callable[[], dict[str, object]]] = {
    "FreeBSD": freebsd_system, "Linux": linux_system,
}


def collect(tools: dict[str, str]) -> dict[str, object]:
    """System information for the results file; never raises."""
    collector = COLLECTORS.get(platform.system(), generic_system)
    try:
        info = collector()
    except Exception as exc:  # noqa: BLE001 - a strange /proc must not cost the measurements
        info = generic_system()
        info["kernel"] = "{} (system information incomplete: {})".format(info["kernel"], exc)
    info["cpu_threads"] = info.get("cpu_threads") or os.cpu_count() or 1
    info["cpu_cores"] = info.get("cpu_cores") or info["cpu_threads"]
    info["tools"] = tools
    return {key: value for key, value in info.items() if value not in ("", None)}


def describe(system: dict[str, object]) -> str:
    """A default environment description, e.g. "FreeBSD 15.0-RELEASE, bhyve guest, 8 CPUs"."""
    virt = system.get("virtualization") or {}
    role = virt.get("role", "unknown") if isinstance(virt, dict) else "unknown"
    tech = virt.get("technology") if isinstance(virt, dict) else None
    where = f"{tech} {role}" if tech and role != "host" else role
    name, release = str(system.get("os", "?")), str(system.get("os_release", ""))
    os_text = release if name in release else (f"{name} {release}").strip()
    return "{}, {}, {} CPUs".format(os_text, where, system.get("cpu_threads", "?"))



MEMORY_FILESYSTEMS = ("tmpfs", "ramfs", "mfs", "md")


def filesystem_type(path: str) -> str | None:
    """File system type holding `path`: /proc/self/mounts or `mount -p`."""
    text = _read("/proc/self/mounts") or commands.output(["mount", "-p"])
    return parsers.filesystem_of(os.path.realpath(path), parsers.parse_mounts(text))
