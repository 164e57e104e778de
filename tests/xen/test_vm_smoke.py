"""The harness itself: the VM is a real Xen dom0, and commands come back exactly.

These prove the ground the package's real-Xen tests stand on, with nothing from the package: if
one of these fails, a failure elsewhere in tests/xen says nothing about pyxenplatform.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from .prepare import DEFAULT_RELEASE
from .vm import REPO, CommandTimeout, XenVM, XenVMError

pytestmark = pytest.mark.xen
# The harness is the same whatever Xen boots: these run on the default release only (CI time);
# booting, the control domain, a raw hypercall and xenpm are proved on every release.
ONLY_DEFAULT = pytest.mark.xen_releases(DEFAULT_RELEASE)

# XENPF_get_cpuinfo (platform_op cmd 55) for Xen CPU 0, by hand: a 136-byte xen_platform_op in a
# page of /dev/xen/hypercall (memory Xen may read), its address in a privcmd_hypercall
# {u64 op = 7 (__HYPERVISOR_platform_op); u64 arg[5]} passed to IOCTL_PRIVCMD_HYPERCALL.
RAW_HYPERCALL = """\
import ctypes, fcntl, mmap, os, struct
privcmd = os.open("/dev/xen/privcmd", os.O_RDWR)
page = mmap.mmap(os.open("/dev/xen/hypercall", os.O_RDWR), mmap.PAGESIZE)
page[:136] = struct.pack("<II", 55, 0x03000001).ljust(136, b"\\0")  # cmd, version, xen_cpuid=0
address = ctypes.addressof(ctypes.c_char.from_buffer(page))
rc = fcntl.ioctl(privcmd, 0x305000, bytearray(struct.pack("<6Q", 7, address, 0, 0, 0, 0)))
xen_cpuid, max_present, flags, apic_id, acpi_id = struct.unpack_from("<5I", page, 8)
print(rc, max_present, flags)
"""


def test_boot_time(xen_vm: XenVM) -> None:
    print(f"boot: {xen_vm.boot_seconds:.1f} s")
    assert f"(XEN) Xen version {xen_vm.release}." in xen_vm.console_log


def test_dom0_is_the_control_domain(xen_vm: XenVM) -> None:
    result = xen_vm.run("cat /proc/xen/capabilities")
    assert (result.returncode, result.stdout.strip()) == (0, "control_d"), result.output


@ONLY_DEFAULT
def test_privcmd_devices_are_root_only(xen_vm: XenVM) -> None:
    result = xen_vm.run("stat -c '%n %F %a' /dev/xen/privcmd /dev/xen/hypercall")
    assert result.stdout.splitlines() == [
        "/dev/xen/privcmd character special file 600",
        "/dev/xen/hypercall character special file 600",
    ], result.output


def test_xenpm_reads_cpuidle_states(xen_vm: XenVM) -> None:
    result = xen_vm.run("xenpm get-cpuidle-states")
    print(result.stdout)
    assert result.returncode == 0, result.output
    assert result.stdout.count("cpu id") == 2  # one block per physical CPU (-smp 2)


def test_raw_hypercall_from_python(xen_vm: XenVM) -> None:
    xen_vm.write_file("/tmp/raw_hypercall.py", RAW_HYPERCALL)
    result = xen_vm.run("python3 /tmp/raw_hypercall.py")
    assert result.returncode == 0, result.output
    rc, max_present, flags = map(int, result.stdout.split())
    assert (rc, max_present) == (0, 1)  # two CPUs: ids 0 and 1
    assert flags & 1 and not flags & 2  # XEN_PCPU_FLAGS_ONLINE, not INVALID


@ONLY_DEFAULT
def test_nobody_cannot_open_privcmd(xen_vm: XenVM) -> None:
    script = "import os\ntry:\n os.open('/dev/xen/privcmd', os.O_RDWR)\nexcept OSError as e:\n print(e.errno)"
    xen_vm.write_file("/tmp/open_privcmd.py", script)
    result = xen_vm.run("id -u; python3 /tmp/open_privcmd.py", user="nobody")
    assert result.stdout.split() == ["65534", "13"], result.output  # EACCES


@ONLY_DEFAULT
def test_command_environment(xen_vm: XenVM) -> None:
    result = xen_vm.run(
        'python3 -c "import os, sys; print(os.path.realpath(sys.executable), os.getcwd(), '
        'os.environ[\'X\'])"; '
        "echo to-stderr >&2; touch /tmp/pyxen-writable; exit 3",  # not /tmp/x: a clone may be there
        user="nobody",
        env={"X": "from-host"},
    )
    assert result.returncode == 3
    # The same interpreter (a venv's python and python3 are two names of one binary).
    assert result.stdout.split() == [os.path.realpath(sys.executable), str(REPO), "from-host"]
    assert result.stderr == "to-stderr\n"
    # The package is importable as in the host's test run.
    result = xen_vm.run("python3 -c 'import tests.xen.prepare as p; print(p.__file__)'")
    assert result.stdout.strip() == str(REPO / "tests" / "xen" / "prepare.py"), result.output


@ONLY_DEFAULT
def test_timeout_kills_the_command_not_the_vm(xen_vm: XenVM) -> None:
    with pytest.raises(CommandTimeout) as caught:
        # 10 s, not 1: under load a shell in dom0 may need seconds to print its first line.
        xen_vm.run("echo started; sleep 60", timeout=10)
    assert caught.value.result.stdout == "started\n"
    assert xen_vm.run("echo alive").stdout == "alive\n"


def test_boot_failure_shows_the_console() -> None:
    children = _children()
    start = time.monotonic()
    with pytest.raises(XenVMError, match=r"timed out waiting for dom0 to boot(.|\n)*\(XEN\)"):
        XenVM.boot(timeout=3)
    assert time.monotonic() - start < 15
    assert _children() == children  # its QEMU is gone


def _children() -> set[int]:
    """Our child processes (the session VM's QEMU among them)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == os.getpid():  # fields: state, ppid, ...
            found.add(int(stat.parent.name))
    return found
