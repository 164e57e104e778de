"""The simulated Xen's answers to the read-back sysctls, through the same bytes as Xen's.

:meth:`SimulatedXen.sysctl <pyxenplatform.sim.SimulatedXen.sysctl>` hands the address of a
``struct xen_sysctl`` here; it is read with ``copy_from_guest`` and answered by writing the
struct and the arrays its guest handles point to, as Xen does. Mirrored:
``xen/common/sysctl.c`` (``do_sysctl``: the interface version first, EACCES; copy-back on
success, and on EAGAIN for pm_op), ``xen/drivers/acpi/pmstat.c`` (``do_get_pm_info``,
``get_cpufreq_para``), ``xen/arch/x86/acpi/cpu_idle.c`` (``pmstat_get_cx_nr``: 2 default
states before any upload; ``pmstat_get_cx_stat``: 2 placeholder states until CPU 0's are in).

Usage and residency are zero (nothing idles here), except the placeholders' usage of 1.
"""

from __future__ import annotations

import ctypes
import errno
import os
from typing import TYPE_CHECKING

from . import abi
from . import abi_sysctl as sc

if TYPE_CHECKING:
    from .sim import CpuPowerState, SimulatedXen

DEFAULT_STATES = 2  # cpuidle_init_cpu: C0 and a halt C1 until dom0 uploads


def _fail(err: int) -> OSError:
    return OSError(err, os.strerror(err))


def sysctl_interface_version(xen_version: tuple[int, int]) -> int:
    """``XEN_SYSCTL_INTERFACE_VERSION`` of a Xen release: 0x15 up to 4.20, 0x16 from 4.21."""
    return 0x16 if xen_version >= (4, 21) else 0x15


def answer(sim: SimulatedXen, address: int) -> int:
    """``do_sysctl`` for the read-back sub-ops; other sysctls get ENOSYS."""
    op = sc.xen_sysctl.from_buffer_copy(ctypes.string_at(address, ctypes.sizeof(sc.xen_sysctl)))
    if op.interface_version != sim.sysctl_interface_version:
        raise _fail(errno.EACCES)
    try:
        if op.cmd == sc.XEN_SYSCTL_get_pmstat:
            _get_pmstat(sim, op.u.get_pmstat)
        elif op.cmd == sc.XEN_SYSCTL_pm_op:
            _pm_op(sim, op.u.pm_op)
        else:
            raise _fail(errno.ENOSYS)
    except OSError as exc:
        if exc.errno == errno.EAGAIN:
            ctypes.memmove(address, ctypes.addressof(op), ctypes.sizeof(op))
        raise
    ctypes.memmove(address, ctypes.addressof(op), ctypes.sizeof(op))  # copy-back
    return 0


def _held(sim: SimulatedXen, xen_cpuid: int) -> CpuPowerState:
    cpu = next((c for c in sim.cpus if c.xen_cpuid == xen_cpuid), None)
    if cpu is None or not cpu.online:
        raise _fail(errno.EINVAL)
    return sim.state[xen_cpuid]


def _px_ready(sim: SimulatedXen, held: CpuPowerState) -> None:
    """``do_get_pm_info``/``do_pm_op``'s P-state checks."""
    if not sim.pm_bits & abi.XEN_PROCESSOR_PM_PX or not sim.cpufreq_driver:  # no driver.init
        raise _fail(errno.ENODEV)
    if not held.px_initialised:
        raise _fail(errno.EINVAL)


def _get_pmstat(sim: SimulatedXen, pmstat: sc.xen_sysctl_get_pmstat) -> None:
    held = _held(sim, pmstat.cpuid)
    category = pmstat.type & sc.PMSTAT_CATEGORY_MASK
    if category == sc.PMSTAT_CX:
        if not sim.pm_bits & abi.XEN_PROCESSOR_PM_CX:
            raise _fail(errno.ENODEV)
    elif category == sc.PMSTAT_PX:
        _px_ready(sim, held)
    else:
        raise _fail(errno.ENODEV)
    count = len(held.slots) if held.slots else DEFAULT_STATES
    if pmstat.type == sc.PMSTAT_get_max_cx:
        pmstat.u.getcx.nr = count
    elif pmstat.type == sc.PMSTAT_get_cxstat:
        _cx_stat(sim, pmstat.u.getcx, count)
    elif pmstat.type == sc.PMSTAT_get_max_px:
        pmstat.u.getpx.total = len(held.px_frequencies)
    elif pmstat.type == sc.PMSTAT_get_pxstat:
        _px_stat(pmstat.u.getpx, held)
    else:
        raise _fail(errno.ENOSYS)


def _cx_stat(sim: SimulatedXen, getcx: sc.pm_cx_stat, count: int) -> None:
    # mwait-idle sets pm_idle_save when it starts: no placeholders then (mwait-idle.c).
    placeholder = sim.idle_driver == "acpi" and not sim.acpi_idle_active
    shown = min(getcx.nr, count)
    usage = [0] * shown
    if placeholder:  # "mimic the stat when detail info hasn't been registered by dom0"
        usage[:2] = [1, 1][:shown]
    getcx.nr = DEFAULT_STATES if placeholder else count
    getcx.last, getcx.idle_time, getcx.nr_pc, getcx.nr_cc = 0, 0, 0, 0
    _copy_to_guest(getcx.triggers.p, (ctypes.c_uint64 * shown)(*usage))
    _copy_to_guest(getcx.residencies.p, (ctypes.c_uint64 * shown)())


def _px_stat(getpx: sc.pm_px_stat, held: CpuPowerState) -> None:
    total = len(held.px_frequencies)
    shown = min(total, getpx.total)  # 4.20+: never more than the buffers hold
    if shown == total:
        _copy_to_guest(getpx.trans_pt.p, (ctypes.c_uint64 * (total * total))())
    values = (sc.pm_px_val * shown)(*(sc.pm_px_val(f, 0, 0) for f in held.px_frequencies[:shown]))
    _copy_to_guest(getpx.pt.p, values)
    getpx.total, getpx.usable = total, total - held.platform_limit
    getpx.last = getpx.cur = 0


def _pm_op(sim: SimulatedXen, pm_op: sc.xen_sysctl_pm_op) -> None:
    held = _held(sim, pm_op.cpuid)
    if pm_op.cmd != sc.GET_CPUFREQ_PARA:
        raise _fail(errno.ENOSYS)
    _px_ready(sim, held)
    para = pm_op.u.get_para
    khz = [mhz * 1000 for mhz in held.px_frequencies]
    governors = [b"userspace", b"performance", b"powersave", b"ondemand"]
    sizes = (1, len(khz), len(governors))
    if (para.cpu_num, para.freq_num, para.gov_num) != sizes:
        para.cpu_num, para.freq_num, para.gov_num = sizes
        raise _fail(errno.EAGAIN)
    _copy_to_guest(para.affected_cpus.p, (ctypes.c_uint32 * 1)(pm_op.cpuid))
    _copy_to_guest(para.scaling_available_frequencies.p, (ctypes.c_uint32 * len(khz))(*khz))
    names = b" ".join(governors).ljust(len(governors) * sc.CPUFREQ_NAME_LEN, b"\0")
    _copy_to_guest(para.scaling_available_governors.p, ctypes.create_string_buffer(names, len(names)))
    para.scaling_driver = b"acpi-cpufreq" if sim.platform.vendor == "GenuineIntel" else b"powernow"
    para.scaling_governor = b"ondemand"  # Xen's default governor
    usable = khz[held.platform_limit:] or khz
    para.cpuinfo_max_freq, para.cpuinfo_min_freq = max(khz), min(khz)
    para.scaling_max_freq, para.scaling_min_freq = max(usable), min(usable)
    para.cpuinfo_cur_freq = para.scaling_cur_freq = max(usable)


def _copy_to_guest(address: int, data: ctypes.Array[ctypes.c_uint64] | ctypes.Array[ctypes.c_uint32]
                   | ctypes.Array[sc.pm_px_val] | ctypes.Array[ctypes.c_char]) -> None:
    if address == 0 and ctypes.sizeof(data):
        raise _fail(errno.EFAULT)
    ctypes.memmove(address, ctypes.addressof(data), ctypes.sizeof(data))
