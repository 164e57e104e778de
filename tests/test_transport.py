"""The transport: device opening, errors with hints, hypercall-safe arenas."""

from __future__ import annotations

import ctypes
import errno
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pyxenplatform import Hypervisor, PermissionDenied, PrivcmdUnavailable, abi
from pyxenplatform.errors import HypercallError, hypercall_error
from pyxenplatform.transport import Arena, HypercallMemory, Privcmd


def test_missing_device_says_not_dom0(tmp_path: Path) -> None:
    with pytest.raises(PrivcmdUnavailable) as info:
        Privcmd(tmp_path / "no-privcmd")
    assert info.value.errno == errno.ENOENT
    assert "not running in a Xen dom0" in str(info.value)
    assert "xen-privcmd" in str(info.value)
    assert isinstance(info.value, OSError)


def test_environment_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "elsewhere"
    monkeypatch.setenv("PYXENPLATFORM_PRIVCMD", str(target))
    with pytest.raises(PrivcmdUnavailable) as info:
        Privcmd()
    assert str(target) in str(info.value)


def test_not_a_device_is_refused_before_any_ioctl(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.touch()
    with pytest.raises(PrivcmdUnavailable) as info:
        Privcmd(plain)
    assert info.value.errno == errno.ENOTTY
    assert info.value.op == f"open {plain} (from the caller)"
    assert "a regular file, not the privcmd character device" in str(info.value)


def test_a_character_device_that_is_not_privcmd_is_enotty() -> None:
    with Hypervisor(Privcmd("/dev/null")) as hv, pytest.raises(PrivcmdUnavailable) as info:
        hv.physical_cpus()
    assert info.value.errno == errno.ENOTTY
    assert info.value.op == "XENPF_get_cpuinfo"
    assert "not a privcmd device" in str(info.value)


def test_close_releases_the_descriptor() -> None:
    dev = Privcmd("/dev/null")
    fd = dev._fd
    assert fd is not None
    os.fstat(fd)
    dev.close()
    with pytest.raises(OSError):
        os.fstat(fd)
    dev.close()  # twice is fine
    assert "closed" in repr(dev)


def test_errno_mapping_keeps_errno_and_names_op_and_id() -> None:
    exc = hypercall_error(OSError(errno.EPERM, "x"), "XENPF_set_processor_pminfo(XEN_PM_CX)",
                          acpi_id=7)
    assert isinstance(exc, PermissionDenied) and exc.errno == errno.EPERM
    assert "for ACPI id 7" in str(exc) and "root in dom0" in str(exc)
    enodev = hypercall_error(OSError(errno.ENODEV, "x"), "XENPF_set_processor_pminfo(XEN_PM_PX)")
    assert "no cpufreq driver" in str(enodev)
    assert type(enodev) is HypercallError


def test_import_opens_nothing() -> None:
    code = ("import os, pyxenplatform\n"
            "fds = [f'/proc/self/fd/{n}' for n in os.listdir('/proc/self/fd')]\n"
            "links = [os.readlink(p) for p in fds if os.path.lexists(p)]\n"
            "lck = [l for l in open('/proc/self/status') if l.startswith('VmLck')][0]\n"
            "print(any('xen' in l for l in links), lck.split()[1])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["False", "0"]


def test_arena_objects_live_in_locked_pages_and_are_zeroed_on_reuse() -> None:
    arena = Arena(hypercall_device=None)
    arena.begin(256)
    op = arena.new(abi.xen_platform_op)
    states = arena.new_array(abi.xen_processor_cx, 2)
    memory = arena.memory
    assert memory is not None and arena.kind == "locked anonymous"
    base = memory.address
    assert base <= ctypes.addressof(op) < ctypes.addressof(states) < base + memory.size
    assert ctypes.addressof(states) % 8 == 0
    op.cmd = 54
    states[1].latency = 99
    assert arena.contents()[:4] == (54).to_bytes(4, "little")
    arena.begin(256)  # the next call reuses the same pages, zeroed
    assert arena.memory is memory
    again = arena.new(abi.xen_platform_op)
    assert ctypes.addressof(again) == base and again.cmd == 0
    assert memory.map[: 136 + 96] == bytes(136 + 96)


def test_arena_refuses_to_overflow_its_reservation() -> None:
    arena = Arena(hypercall_device=None)
    arena.begin(ctypes.sizeof(abi.xen_platform_op))
    arena.new(abi.xen_platform_op)
    with pytest.raises(RuntimeError, match="arena overflow"):
        arena.new(abi.xen_processor_cx)


def test_arena_grows_for_a_bigger_call() -> None:
    arena = Arena(hypercall_device=None)
    arena.begin(100)
    assert arena.memory is not None and arena.memory.size == 4096
    arena.begin(5000)
    assert arena.memory.size == 8192


def test_locked_memory_shows_in_vmlck() -> None:
    def vmlck() -> int:
        line = [x for x in Path("/proc/self/status").read_text().splitlines()
                if x.startswith("VmLck")][0]
        return int(line.split()[1])

    before = vmlck()
    memory = HypercallMemory(3 * 4096, hypercall_device=None)
    assert vmlck() - before == 12
    memory.close()
    assert vmlck() == before


def test_hypercall_device_is_preferred_when_present(tmp_path: Path) -> None:
    # A file standing in for /dev/xen/hypercall: its pages are what we map.
    device = tmp_path / "hypercall"
    device.write_bytes(bytes(4096))
    memory = HypercallMemory(100, hypercall_device=str(device))
    assert memory.kind == "/dev/xen/hypercall"
    memory.map[:4] = b"\x01\x02\x03\x04"
    memory.map.flush()
    assert device.read_bytes()[:4] == b"\x01\x02\x03\x04"
    memory.close()


def test_a_fork_child_gets_pages_of_its_own() -> None:
    # The arena's pages are MADV_DONTFORK: a child touching the parent's
    # would die of SIGSEGV.  It must map its own and carry on.
    hv = Hypervisor.simulated()
    assert hv.physical_cpus()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through its exit status
        try:
            os._exit(0 if len(hv.physical_cpus()) == 2 else 1)
        finally:
            os._exit(2)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status
    assert hv.physical_cpus()  # the parent's pages still work


def test_threads_sharing_a_hypervisor_do_not_interleave_calls() -> None:
    import threading
    import time

    from pyxenplatform import CState, CxInfo, PhysicalCpu, Register, SimulatedXen

    class YieldingXen(SimulatedXen):
        """Gives other threads the CPU between being called and reading the op."""

        def platform_op(self, address: int) -> int:
            time.sleep(0.0005)
            return super().platform_op(address)

    cpus = [PhysicalCpu(i, 10 + i, i, True) for i in range(4)]
    sim = YieldingXen(cpus)
    hv = Hypervisor(sim)
    tables = {10 + i: CxInfo((CState(1, 1, 1000, Register.ffh(0)),)
                             + (CState(2, 64, 500, Register.system_io(0x414)),) * i)
              for i in range(4)}
    failures: list[str] = []

    def upload(acpi_id: int) -> None:
        for _ in range(50):
            result = hv.upload_cx(acpi_id, tables[acpi_id])
            held = sim.held(acpi_id).cstate_types
            if not result.ok or len(held) != 2 + acpi_id - 10:
                failures.append(f"ACPI id {acpi_id}: {result.error} {held}")

    threads = [threading.Thread(target=upload, args=(a,)) for a in tables]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
