"""A simulated Xen behind the :class:`~pyxenplatform.transport.Transport` interface.

It receives the address of a ``struct xen_platform_op`` exactly as privcmd
hands it to Xen, reads the op and every array its guest handles point to
through those addresses (as ``copy_from_guest`` does), applies Xen's rules --
including the C-states ``check_cx`` drops silently -- keeps per-CPU state,
and answers with Xen's errno.  It is the default behind ``--dry-run`` and the
REPL's playground:

>>> from pyxenplatform import Hypervisor
>>> hv = Hypervisor.simulated()
>>> [c.acpi_id for c in hv.physical_cpus()]
[0, 1]

Sources mirrored: Xen ``xen/arch/x86/platform_hypercall.c`` (dispatch,
get_cpuinfo; 4.21's cpufreq modes), ``xen/arch/x86/acpi/cpu_idle.c``
(set_cx_pminfo, check_cx, set_cx), ``xen/drivers/cpufreq/cpufreq.c``
(set_px_pminfo, set_cppc_pminfo, acpi_set_pdc_bits),
``xen/arch/x86/acpi/lib.c`` (arch_acpi_set_pdc_bits).
"""

from __future__ import annotations

import ctypes
import errno
import os
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, TypeVar

from . import abi
from .arena import Arena
from .cppc_rules import what_xen_keeps
from .cpu_rules import Platform, kept_cstates, pdc_answer
from .errors import ValidationError
from .hypercalls import MAX_XEN_CPUS, PhysicalCpu
from .model import CppcInfo, CState, CStateDependency, CxFlags, PsdDomain, Register

_S = TypeVar("_S", bound=ctypes.Structure)
CALL_HISTORY = 4096
U32 = 0xFFFF_FFFF

# Xen's cpufreq= choice: P-states (xen; hwp is the same mode), CPPC
# (amd-cppc, Xen 4.21+), or none.
CpufreqMode = Literal["xen", "amd-cppc", "none"]
# Xen-internal xen_processor_pmbits bit (xen/include/acpi/cpufreq/processor_perf.h, 4.21).
XEN_PROCESSOR_PM_CPPC = 0x100
CPPC_XEN = (4, 21)
# Module level: inside a class body, abi.__HYPERVISOR_* would be name-mangled.
PLATFORM_OP = abi.__HYPERVISOR_platform_op
XEN_VERSION = abi.__HYPERVISOR_xen_version


def copy_from_guest(ctype: type[_S], address: int, count: int = 1) -> list[_S]:
    """Read ``count`` structs at a guest address into Xen's own copies."""
    if address == 0 and count:
        raise OSError(errno.EFAULT, "NULL guest handle")
    raw = ctypes.string_at(address, ctypes.sizeof(ctype) * count)
    size = ctypes.sizeof(ctype)
    return [ctype.from_buffer_copy(raw, i * size) for i in range(count)]


def check_cpus(cpus: Sequence[PhysicalCpu], path: str = "cpus") -> None:
    """CPUs a real Xen could report: Xen CPU ids below NR_CPUS's ceiling (Xen
    ``xen/arch/Kconfig``: range 1..16383), u32 ACPI and APIC ids, no Xen CPU id
    or ACPI id twice (the second CPU would be unreachable)."""
    if len(cpus) > MAX_XEN_CPUS:
        raise ValidationError(path, f"{len(cpus)} CPUs: Xen supports at most {MAX_XEN_CPUS}")
    seen_xen: dict[int, int] = {}
    seen_acpi: dict[int, int] = {}
    for i, cpu in enumerate(cpus):
        where = f"{path}[{i}]"
        for name, value, limit in (("xen_cpuid", cpu.xen_cpuid, MAX_XEN_CPUS - 1),
                                   ("acpi_id", cpu.acpi_id, U32), ("apic_id", cpu.apic_id, U32)):
            if type(value) is not int or not 0 <= value <= limit:
                raise ValidationError(f"{where}.{name}", f"{value!r} is not in 0..{limit}")
        for name, seen, value in (("xen_cpuid", seen_xen, cpu.xen_cpuid),
                                  ("acpi_id", seen_acpi, cpu.acpi_id)):
            if seen.setdefault(value, i) != i:
                raise ValidationError(f"{where}.{name}", f"{value} is also {path}"
                                      f"[{seen[value]}]'s: each CPU needs its own")


def _fail(err: int) -> OSError:
    return OSError(err, os.strerror(err))


@dataclass
class CpuPowerState:
    """What the simulated Xen holds for one physical CPU."""

    slots: list[CState | None] = field(default_factory=list)
    dropped: list[tuple[CState, str]] = field(default_factory=list)
    px_frequencies: tuple[int, ...] = ()  # MHz, as the _PSS Xen keeps
    platform_limit: int = 0
    shared_type: int = 0
    px_initialised: bool = False
    cppc: CppcInfo | None = None  # as Xen stores it (a broken MHz pair reset to 0)
    cppc_initialised: bool = False

    @property
    def px_states(self) -> int:
        return len(self.px_frequencies)

    @property
    def cstate_types(self) -> list[int]:
        """Xen's C-state list as ``xenpm`` counts it: C0, C1, then the rest."""
        return [0 if s is None else s.type for s in self.slots]


def _to_cstate(cx: abi.xen_processor_cx) -> CState:
    reg = cx.reg
    deps = tuple(
        CStateDependency(d.domain, d.coord_type, d.num)
        for d in copy_from_guest(abi.xen_processor_csd, cx.dp.p, cx.dpcnt)
    ) if cx.dpcnt and cx.dp.p else ()
    return CState(cx.type, cx.latency, cx.power,
                  Register(reg.space_id, reg.bit_width, reg.bit_offset, reg.access_size,
                           reg.address), deps)


def _to_cppc(data: abi.xen_processor_cppc) -> CppcInfo:
    cpc, d = data.cpc, data.domain_info
    return CppcInfo(cpc.highest_perf, cpc.nominal_perf, cpc.lowest_nonlinear_perf,
                    cpc.lowest_perf,
                    PsdDomain(d.domain, d.coord_type, d.num_processors, d.num_entries, d.revision),
                    cpc.lowest_mhz, cpc.nominal_mhz)


class SimulatedXen:
    """A stand-in hypervisor: same interface as :class:`~pyxenplatform.transport.Privcmd`.

    ``cpus``: the physical CPUs (default two, ACPI ids 0 and 1).  ``platform``:
    the CPU facts ``check_cx`` depends on.  ``cpufreq_driver``: whether Xen has
    a cpufreq driver (else a full Px upload fails with ENODEV, as under QEMU).
    ``idle_driver="mwait-idle"``: Xen ignores Cx uploads and returns 0.
    ``cpufreq``: Xen's ``cpufreq=`` mode once its driver registered: from
    4.21, ``XEN_PM_PX`` is dropped (0) unless it is ``"xen"`` and
    ``XEN_PM_CPPC`` unless it is ``"amd-cppc"``.  ``xen_version``: before
    4.21 ``XEN_PM_CPPC`` is an unknown type (EINVAL).  ``pm_bits``: what Xen
    controls (``XEN_PROCESSOR_PM_*``, by default from ``cpufreq``), which
    decides the ``_PDC`` bits it rewrites.  ``ignored`` says why Xen dropped
    the last upload while answering 0, or is ``None``.
    """

    def __init__(
        self,
        cpus: Sequence[PhysicalCpu] | None = None,
        *,
        platform: Platform | None = None,
        cpufreq_driver: bool = False,
        idle_driver: Literal["acpi", "mwait-idle"] = "acpi",
        cpufreq: CpufreqMode = "xen",
        xen_version: tuple[int, int] = (4, 22),
        pm_bits: int | None = None,
    ) -> None:
        if cpufreq == "amd-cppc" and xen_version < CPPC_XEN:
            raise ValueError(f"Xen {xen_version[0]}.{xen_version[1]} has no amd-cppc "
                             "driver: CPPC mode needs Xen 4.21 or newer")
        self.cpus = list(cpus) if cpus is not None else [
            PhysicalCpu(xen_cpuid=i, acpi_id=i, apic_id=2 * i, online=True) for i in range(2)
        ]
        check_cpus(self.cpus)
        self.platform = platform or Platform(online_cpus=len(self.cpus))
        self.cpufreq_driver = cpufreq_driver
        self.idle_driver = idle_driver
        self.cpufreq: CpufreqMode = cpufreq
        self.xen_version = xen_version
        if pm_bits is None:  # Xen's xen_processor_pmbits after cpufreq_driver_init
            pm_bits = abi.XEN_PROCESSOR_PM_CX | {
                "xen": abi.XEN_PROCESSOR_PM_PX, "amd-cppc": XEN_PROCESSOR_PM_CPPC,
                "none": 0}[cpufreq]
        self.pm_bits = pm_bits
        self.ignored: str | None = None
        self.state = {cpu.xen_cpuid: CpuPowerState() for cpu in self.cpus}
        self._by_acpi_id = {cpu.acpi_id: cpu for cpu in self.cpus}
        self._by_xen_cpuid = {cpu.xen_cpuid: cpu for cpu in self.cpus}
        self._max_present = max(self._by_xen_cpuid, default=0)
        self.acpi_idle_active = False  # Xen switches once CPU 0 has its data
        # XEN_SYSCTL_INTERFACE_VERSION: 0x15 in 4.17-4.20, 0x16 from 4.21.
        self.sysctl_interface_version = 0x16 if xen_version >= (4, 21) else 0x15
        # set_px_pminfo ignores a second _PSS from 4.19.3 and 4.20.1 (4.17 replaces it).
        self.keeps_first_pss = xen_version >= (4, 20)
        # The latest set_pminfo calls, (op, acpi id, errno): bounded, so a
        # long-lived simulator does not grow.
        self.calls: deque[tuple[str, int | None, int]] = deque(maxlen=CALL_HISTORY)
        # Unlocked pages: a dry run needs no mlock (no RLIMIT_MEMLOCK, no root).
        self._arena = Arena(hypercall_device=None, locked=False)
        # Dispatch tables, built once: platform_op is the hot path.
        self._ops = {
            abi.XENPF_get_cpuinfo: self._get_cpuinfo,
            abi.XENPF_get_cpu_version: self._get_cpu_version,
            abi.XENPF_set_processor_pminfo: self._set_pminfo,
        }
        self._pm_types = {abi.XEN_PM_CX: self._set_cx, abi.XEN_PM_PX: self._set_px,
                          abi.XEN_PM_PDC: self._set_pdc}
        if xen_version >= CPPC_XEN:
            self._pm_types[abi.XEN_PM_CPPC] = self._set_cppc

    # -- Transport -------------------------------------------------------
    @property
    def arena(self) -> Arena:
        return self._arena

    def platform_op(self, address: int) -> int:
        (op,) = copy_from_guest(abi.xen_platform_op, address)
        if op.interface_version != abi.XENPF_INTERFACE_VERSION:
            raise _fail(errno.EACCES)
        guest = abi.xen_platform_op.from_address(address)  # copy_to_guest target
        handler = self._ops.get(op.cmd)
        if handler is None:
            raise _fail(errno.ENOSYS)
        return handler(op, guest)

    def hypercall(self, op: int, *args: int) -> int:
        """The hypercalls this Xen answers: platform_op and ``XENVER_version``."""
        if op == PLATFORM_OP:
            return self.platform_op(args[0])
        if op == XEN_VERSION and args and args[0] == abi.XENVER_version:
            return self.xen_version[0] << 16 | self.xen_version[1]
        raise _fail(errno.ENOSYS)

    def sysctl(self, address: int) -> int:
        """``__HYPERVISOR_sysctl``: the read-back sub-ops (:mod:`pyxenplatform.sim_sysctl`)."""
        from . import sim_sysctl  # only read-back needs it

        return sim_sysctl.answer(self, address)

    def close(self) -> None:
        self._arena.close()

    # -- helpers -----------------------------------------------------------
    def cpu_by_acpi_id(self, acpi_id: int) -> PhysicalCpu | None:
        """``get_cpu_id``: the CPU with this ACPI id, if Xen has one."""
        return self._by_acpi_id.get(acpi_id)

    def held(self, acpi_id: int) -> CpuPowerState:
        """What Xen holds for the CPU with ``acpi_id``."""
        cpu = self.cpu_by_acpi_id(acpi_id)
        if cpu is None:
            raise KeyError(f"no CPU with ACPI id {acpi_id}")
        return self.state[cpu.xen_cpuid]

    def outcome(self, acpi_id: int, kind: str) -> tuple[tuple[int, ...] | None, tuple[str, ...]]:
        """What the last accepted upload of ``kind`` left for ``acpi_id``: the C-state
        types held (C0 first; Cx only, else ``None``) and what Xen dropped, with why."""
        if self.ignored is not None:
            return None, (f"all: {self.ignored}",)
        if kind != "cx":
            return None, ()
        if self.idle_driver != "acpi":
            return None, (f"all: {self.idle_driver} owns idle, so Xen returned 0 "
                          "and changed nothing (cpu_idle.c set_cx_pminfo)",)
        held = self.held(acpi_id)
        return tuple(held.cstate_types), tuple(f"C{s.type}: {why}" for s, why in held.dropped)

    def cppc_changes(self, acpi_id: int, sent: CppcInfo) -> tuple[str, ...]:
        """What Xen changed in the ``_CPC`` data ``sent`` for ``acpi_id`` as it holds it."""
        held = self.held(acpi_id).cppc
        if held is None or held == sent:
            return ()
        return (f"lowest_mhz {sent.lowest_mhz}, nominal_mhz {sent.nominal_mhz}: Xen holds 0 "
                "for both (lowest_mhz above nominal_mhz; cpufreq.c set_cppc_pminfo)",)

    # -- sub-ops -----------------------------------------------------------
    def _get_cpuinfo(self, op: abi.xen_platform_op, guest: abi.xen_platform_op) -> int:
        info = guest.u.pcpu_info
        cpu = self._by_xen_cpuid.get(op.u.pcpu_info.xen_cpuid)
        info.max_present = self._max_present
        if cpu is None:
            info.flags = abi.XEN_PCPU_FLAGS_INVALID
        else:
            info.flags = abi.XEN_PCPU_FLAGS_ONLINE if cpu.online else 0
            info.apic_id, info.acpi_id = cpu.apic_id, cpu.acpi_id
        return 0

    def _get_cpu_version(self, op: abi.xen_platform_op, guest: abi.xen_platform_op) -> int:
        ver = guest.u.pcpu_version
        ver.max_present = self._max_present
        cpu = self._by_xen_cpuid.get(op.u.pcpu_version.xen_cpuid)
        if cpu is not None and cpu.online:
            ver.vendor_id = self.platform.vendor.encode()
            ver.family, ver.model, ver.stepping = self.platform.family, self.platform.model, 1
        return 0

    def _set_pminfo(self, op: abi.xen_platform_op, guest: abi.xen_platform_op) -> int:
        info = op.u.set_pminfo
        handler = self._pm_types.get(info.type)
        self.ignored = None
        err = 0
        try:
            if handler is None:
                raise _fail(errno.ENOSYS if info.type == abi.XEN_PM_TX else errno.EINVAL)
            return handler(info)
        except OSError as exc:
            err = exc.errno or errno.EIO
            raise
        finally:
            self.calls.append((f"set_pminfo/{info.type}", info.id, err))

    def _xen_cpu(self, acpi_id: int) -> PhysicalCpu:
        cpu = self.cpu_by_acpi_id(acpi_id)
        if cpu is None:
            raise _fail(errno.EINVAL)  # Xen logs "No CPU for ACPI ID"
        return cpu

    def _set_cx(self, info: abi.xenpf_set_processor_pminfo) -> int:
        power = info.u.power
        if self.idle_driver != "acpi":
            return 0  # mwait-idle owns idle: Xen returns 0 and changes nothing
        cpu = self._xen_cpu(info.id)
        raw = copy_from_guest(abi.xen_processor_cx, power.states.p, power.count)
        flags = CxFlags(bool(power.flags.bm_check), bool(power.flags.bm_control),
                        bool(power.flags.has_cst))
        slots, dropped = kept_cstates([_to_cstate(c) for c in raw], flags, self.platform)
        held = self.state[cpu.xen_cpuid]
        held.slots, held.dropped = slots, dropped
        if cpu.xen_cpuid == 0:
            self.acpi_idle_active = True
        return 0

    def _set_px(self, info: abi.xenpf_set_processor_pminfo) -> int:
        perf = info.u.perf
        if not self.pm_bits & abi.XEN_PROCESSOR_PM_PX:
            if self.xen_version < CPPC_XEN:
                raise _fail(errno.ENOSYS)
            # 4.21 do_platform_op: "Neglect Px-info when registered cpufreq
            # driver isn't in Px mode".
            self.ignored = (f"Xen's cpufreq driver is not in P-state mode (cpufreq="
                            f"{self.cpufreq}): Xen returned 0 and dropped the P-states "
                            "(platform_hypercall.c, Xen 4.21+)")
            return 0
        cpu = self._xen_cpu(info.id)
        held = self.state[cpu.xen_cpuid]
        if perf.flags & abi.XEN_PX_PCT and (
            perf.control_register.space_id != perf.status_register.space_id
        ):
            raise _fail(errno.EINVAL)
        # 4.19.3, 4.20.1, 4.21+ ignore a second _PSS (set_px_pminfo: "&& !pxpt->states").
        if perf.flags & abi.XEN_PX_PSS and not (self.keeps_first_pss and held.px_frequencies):
            if perf.state_count <= 1:
                raise _fail(errno.EINVAL)
            held.px_frequencies = tuple(p.core_frequency for p in copy_from_guest(
                abi.xen_processor_px, perf.states.p, perf.state_count))
        if perf.flags & abi.XEN_PX_PSD:
            if perf.shared_type not in (abi.XEN_CPUPERF_SHARED_TYPE_HW,
                                        abi.XEN_CPUPERF_SHARED_TYPE_ALL,
                                        abi.XEN_CPUPERF_SHARED_TYPE_ANY):
                raise _fail(errno.EINVAL)
            held.shared_type = perf.shared_type
        if perf.flags & abi.XEN_PX_PPC:
            held.platform_limit = perf.platform_limit
            if held.px_initialised:
                return 0  # cpufreq_limit_change
        all_parts = abi.XEN_PX_PCT | abi.XEN_PX_PSS | abi.XEN_PX_PPC | abi.XEN_PX_PSD
        if perf.flags == all_parts:
            if not self.cpufreq_driver:
                raise _fail(errno.ENODEV)  # cpufreq_cpu_init: no driver
            held.px_initialised = True
        return 0

    def _set_cppc(self, info: abi.xenpf_set_processor_pminfo) -> int:
        if not self.pm_bits & XEN_PROCESSOR_PM_CPPC:
            self.ignored = (f"Xen's cpufreq driver is not in CPPC mode (cpufreq="
                            f"{self.cpufreq}): Xen returned 0 and dropped the CPPC data "
                            "(platform_hypercall.c, Xen 4.21+)")
            return 0
        data = info.u.cppc_data
        cpu = self._xen_cpu(info.id)
        if any(data.pad):
            raise _fail(errno.EINVAL)
        # set_cppc_pminfo checks the sharing type whether or not XEN_CPPC_PSD is set.
        if data.shared_type != abi.XEN_CPUPERF_SHARED_TYPE_HW:
            raise _fail(errno.EINVAL)
        held = self.state[cpu.xen_cpuid]
        if data.flags & abi.XEN_CPPC_CPC:
            held.cppc = what_xen_keeps(_to_cppc(data))
        if data.flags == abi.XEN_CPPC_CPC | abi.XEN_CPPC_PSD:
            held.cppc_initialised = True  # cpufreq_cpu_init: the amd-cppc driver is there
        return 0

    def _set_pdc(self, info: abi.xenpf_set_processor_pminfo) -> int:
        address = info.u.pdc.p
        head = (ctypes.c_uint32 * 2).from_buffer_copy(ctypes.string_at(address, 8))
        if head[0] != abi.ACPI_PDC_REVISION_ID or head[1] == 0:
            raise _fail(errno.EINVAL)
        # arch_acpi_set_pdc_bits: ACPI id ~0 means the boot CPU; any other
        # must be an online CPU.
        if info.id != 0xFFFF_FFFF:
            cpu = self._xen_cpu(info.id)
            if not cpu.online:
                raise _fail(errno.EINVAL)
        word = ctypes.c_uint32.from_address(address + 8)  # copy_to_guest target
        word.value = pdc_answer(word.value, self.platform, self.pm_bits)
        return 0
