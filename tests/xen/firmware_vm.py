"""A Xen VM whose firmware carries per-CPU power objects, and Xen's own view of what it holds.

The VM: 4 physical CPUs, dom0 with one vCPU (``dom0_max_vcpus=1``), and the SSDT of
``percpu-power.asl`` added to QEMU's ACPI tables, compiled with ``iasl`` at test time.

Xen's view: ``xenpm get-cpuidle-states`` on Xen 4.17 prints only how many C-states a CPU has and
their residencies, so the latency and entry method Xen holds per state come from Xen's ``c`` debug
key (``cpu_idle.c`` ``dump_cx``/``print_acpi_power``), sent with ``XEN_SYSCTL_debug_keys`` and read
on the serial console.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from .vm import DEFAULT_XEN_CMDLINE, XenVM

ASL = Path(__file__).with_name("percpu-power.asl")
PHYSICAL_CPUS = 4
FIRMWARE_XEN_CMDLINE = DEFAULT_XEN_CMDLINE + " dom0_max_vcpus=1"

# XEN_SYSCTL_debug_keys (sysctl.h: cmd 7) with the key in the same /dev/xen/hypercall page: a
# 136-byte xen_sysctl {u32 cmd, u32 interface_version (0x15 on Xen 4.17), u.debug_keys {u64 keys
# handle, u32 nr_keys}} passed by IOCTL_PRIVCMD_HYPERCALL as __HYPERVISOR_sysctl (35).
DEBUG_KEY_SCRIPT = """\
import ctypes, fcntl, mmap, os, struct, sys
privcmd = os.open("/dev/xen/privcmd", os.O_RDWR)
page = mmap.mmap(os.open("/dev/xen/hypercall", os.O_RDWR), mmap.PAGESIZE)
base = ctypes.addressof(ctypes.c_char.from_buffer(page))
key = sys.argv[1].encode()
page[512:512 + len(key)] = key
page[:136] = struct.pack("<IIQI", 7, 0x15, base + 512, len(key)).ljust(136, b"\\0")
print(fcntl.ioctl(privcmd, 0x305000, bytearray(struct.pack("<6Q", 35, base, 0, 0, 0, 0))))
"""

# One line per C-state of print_acpi_power (Xen 4.17 cpu_idle.c):
#   "   *C1:\ttype[C1] latency[  1] usage[       5] method[  FFH] duration[...]"
_STATE = re.compile(r"C(\d+):\s+type\[C(\d)\] latency\[\s*(\d+)\] usage\[[^\]]*\] method\[\s*(\w+)\]")


def require_iasl() -> str:
    """iasl's path; skip without it, or fail when CI requires the real-Xen tests."""
    iasl = shutil.which("iasl")
    if iasl:
        return iasl
    message = "the firmware VM needs iasl (Debian acpica-tools) to compile its SSDT"
    if os.environ.get("PYXENPLATFORM_XEN_TESTS") == "require":
        pytest.fail(f"{message} [PYXENPLATFORM_XEN_TESTS=require]", pytrace=False)
    pytest.skip(message)


def compile_ssdt(folder: Path) -> Path:
    """percpu-power.asl compiled into `folder`; the .aml path."""
    output = folder / "percpu-power"
    done = subprocess.run([require_iasl(), "-p", str(output), str(ASL)],
                          capture_output=True, text=True, check=False)
    aml = output.with_suffix(".aml")
    assert done.returncode == 0 and aml.exists(), done.stdout + done.stderr
    return aml


def boot_firmware_vm(ssdt: Path) -> XenVM:
    # Xen 4.17: the debug-key sysctl above is that release's interface version.
    return XenVM.boot(release="4.17", cpus=PHYSICAL_CPUS, xen_cmdline=FIRMWARE_XEN_CMDLINE,
                      acpi_tables=[ssdt])


State = tuple[int, int, str]  # C-state type, latency (us), Xen's entry method name


def xen_cx_dump(vm: XenVM, timeout: float = 30.0) -> dict[int, list[State]]:
    """Per Xen CPU id, the C-states Xen holds (C1 up): type, latency, entry method."""
    vm.write_file("/tmp/debug_key.py", DEBUG_KEY_SCRIPT)
    start = len(vm.console_log)
    result = vm.run("python3 /tmp/debug_key.py c")
    assert result.returncode == 0 and result.stdout.strip() == "0", result.output
    deadline = time.monotonic() + timeout
    while True:
        text = vm.console_log[start:]
        blocks = re.split(r"==cpu(\d+)==", text)
        # The last CPU's block is complete once its C0 line (printed after C1..Cn) is there.
        if len(blocks) == 2 * PHYSICAL_CPUS + 1 and re.search(r"C0:\s+usage", blocks[-1]):
            break
        assert time.monotonic() < deadline, f"no complete 'c' key dump on the console:\n{text}"
        time.sleep(0.5)
    dump: dict[int, list[State]] = {}
    for cpu, body in zip(blocks[1::2], blocks[2::2]):
        dump[int(cpu)] = [(int(t), int(latency), method)
                          for _, t, latency, method in _STATE.findall(body)]
    return dump


def xenpm_total_cstates(vm: XenVM, xen_cpuid: int) -> tuple[int, str]:
    """``xenpm get-cpuidle-states N``: Xen's count of C-states (C0 included), and the output."""
    result = vm.run(f"xenpm get-cpuidle-states {xen_cpuid}")
    assert result.returncode == 0, result.output
    found = re.search(r"total C-states\s*:\s*(\d+)", result.stdout)
    assert found, result.stdout
    return int(found.group(1)), result.stdout
