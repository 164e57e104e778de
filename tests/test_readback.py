"""Read-back sysctls against the simulated Xen: what Xen holds, the interface version, the bytes."""

from __future__ import annotations

import ctypes
import errno
import json
from pathlib import Path

import pytest

from pyxenplatform import CState, CxInfo, Hypervisor, Register, abi_sysctl
from pyxenplatform.errors import HypercallError, PermissionDenied
from pyxenplatform.readback import (
    SysctlVersion,
    get_cpufreq_para,
    get_cx_stat,
    get_px_stat,
)
from pyxenplatform.sim import SimulatedXen
from pyxenplatform.sources import load_table

EXAMPLES = Path(__file__).parents[1] / "examples"
CX = CxInfo((CState(1, 1, 1000, Register.ffh(0x00)), CState(2, 64, 500, Register.system_io(0x414))))


def test_placeholders_until_cpu0_has_its_cstates() -> None:
    hv = Hypervisor.simulated()
    sim, version = hv.transport, SysctlVersion()
    assert isinstance(sim, SimulatedXen)
    before = get_cx_stat(sim, 1, version)
    assert (before.count, before.reported, before.usage, before.placeholder) == (2, 2, (1, 1), True)
    hv.upload_cx(1, CX)  # ACPI id 1 is Xen CPU 1: Xen holds 3 states, still shows 2
    held = get_cx_stat(sim, 1, version)
    assert (held.count, held.reported, held.placeholder) == (3, 2, True)
    hv.upload_cx(0, CX)  # Xen CPU 0: Xen switches to ACPI idle for every CPU
    after = [get_cx_stat(sim, cpu, version) for cpu in (0, 1)]
    assert [(s.count, s.reported, s.placeholder) for s in after] == [(3, 3, False)] * 2


@pytest.mark.parametrize(("xen", "expected"), [(0x15, 0x15), (0x16, 0x16)])
def test_interface_version_found_and_remembered(xen: int, expected: int) -> None:
    sim = SimulatedXen()
    sim.sysctl_interface_version = xen
    seen: list[int] = []
    real_sysctl = sim.sysctl

    def recording(address: int) -> int:
        seen.append(abi_sysctl.xen_sysctl.from_address(address).interface_version)
        return real_sysctl(address)

    sim.sysctl = recording  # type: ignore[method-assign]
    version = SysctlVersion()
    get_cx_stat(sim, 0, version)
    get_cx_stat(sim, 1, version)
    assert version.value == expected
    # Newest first; on 4.17-4.20 one EACCES, once: then every call goes straight through.
    assert seen == ([0x16, 0x15, 0x15, 0x15, 0x15] if xen == 0x15 else [0x16] * 4)


def test_a_xen_taking_neither_version_is_named() -> None:
    sim = SimulatedXen()
    sim.sysctl_interface_version = 0x17
    with pytest.raises(PermissionDenied, match=r"interface version 0x16 and 0x15.*newer than 4\.22"):
        get_cx_stat(sim, 0, SysctlVersion())


def test_cxstat_bytes_are_what_xen_reads() -> None:
    sim = SimulatedXen()
    calls: list[bytes] = []
    real_sysctl = sim.sysctl

    def recording(address: int) -> int:
        calls.append(ctypes.string_at(address, ctypes.sizeof(abi_sysctl.xen_sysctl)))
        return real_sysctl(address)

    sim.sysctl = recording  # type: ignore[method-assign]
    get_cx_stat(sim, 1, SysctlVersion())
    max_cx, cxstat = calls
    # struct xen_sysctl: cmd 10 (get_pmstat), version; get_pmstat: type, cpuid; getcx.nr at 16.
    assert max_cx[:16] == bytes.fromhex("0a000000 16000000 21000000 01000000")
    assert cxstat[:20] == bytes.fromhex("0a000000 16000000 22000000 01000000 02000000")
    triggers, residencies = int.from_bytes(cxstat[32:40], "little"), int.from_bytes(cxstat[40:48], "little")
    assert residencies - triggers == 16  # two uint64 slots, in the arena after the op
    assert sim.arena.base_address < triggers < residencies


def test_pstates_need_a_cpufreq_driver() -> None:
    table = load_table(EXAMPLES / "px-pstates.toml")
    without = Hypervisor.simulated()
    without.upload_table(table)
    with pytest.raises(HypercallError) as caught:
        get_px_stat(without.transport, 0, SysctlVersion())  # type: ignore[arg-type]
    assert caught.value.errno == errno.ENODEV and "cpufreq driver" in str(caught.value)
    hv = Hypervisor.simulated(cpufreq_driver=True)
    assert hv.upload_table(table).ok
    px = get_px_stat(hv.transport, 0, SysctlVersion())  # type: ignore[arg-type]
    assert px.frequencies_mhz == tuple(s.core_frequency for s in table.processors[0].px.states)  # type: ignore[union-attr]
    para = get_cpufreq_para(hv.transport, 0, SysctlVersion())  # type: ignore[arg-type]
    assert (para.driver, para.governor) == ("acpi-cpufreq", "ondemand")
    assert para.available_frequencies_khz == tuple(1000 * f for f in px.frequencies_mhz)
    assert "ondemand" in para.available_governors


def test_status_of_every_cpu_as_json() -> None:
    hv = Hypervisor.simulated()
    hv.upload_cx(0, CX)
    document = json.loads(json.dumps([s.to_json() for s in hv.status()]))
    assert [c["acpi_id"] for c in document] == [0, 1]
    first = document[0]
    assert first["cstates"]["count"] == 3 and first["cstates"]["placeholder"] is False
    assert [s["name"] for s in first["cstates"]["states"]] == ["C0", "C1", "C2"]
    assert first["pstates"] is None and first["pstates_unavailable"]["errno_name"] == "ENODEV"
    assert document[1]["cstates"]["count"] == 2  # ACPI id 1 got nothing: Xen's default C0, C1
