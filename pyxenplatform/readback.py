"""Reading back what Xen holds: ``__HYPERVISOR_sysctl`` sub-ops, built in a transport's arena.

- ``XEN_SYSCTL_get_pmstat``: ``PMSTAT_get_max_cx`` / ``get_cxstat`` (the C-states Xen holds for a
  CPU, their usage and residency) and ``PMSTAT_get_max_px`` / ``get_pxstat`` (its P-states);
- ``XEN_SYSCTL_pm_op`` ``GET_CPUFREQ_PARA``: the cpufreq driver, governor and frequencies.

Each call builds one ``struct xen_sysctl`` and its arrays in hypercall-safe memory, as
:mod:`pyxenplatform.hypercalls` does for platform_op. Xen checks ``interface_version`` before
anything else and answers EACCES for a wrong one (``xen/common/sysctl.c`` ``do_sysctl``); it is
0x15 in 4.17-4.20 and 0x16 in 4.21+. :class:`SysctlVersion` tries the newest first, falls back on
EACCES and remembers what worked, so no Xen version query is needed and the first call costs one
extra hypercall on older Xen only. Semantics mirrored: ``xen/drivers/acpi/pmstat.c``
(``do_get_pm_info``, ``get_cpufreq_para``), ``xen/arch/x86/acpi/cpu_idle.c``
(``pmstat_get_cx_nr``, ``pmstat_get_cx_stat``).
"""

from __future__ import annotations

import ctypes
import errno
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from . import abi_sysctl as sc
from .errors import HypercallError, PermissionDenied, hypercall_error
from .arena import sizeof_aligned
from .transport import Transport

# Newest first: 4.21 and newer, then 4.17-4.20.
SYSCTL_VERSIONS = (0x16, 0x15)
MAX_CSTATES = 8  # ACPI_PROCESSOR_MAX_POWER: Xen never holds more (C0 included)
MAX_PSTATES = 255  # pm_px_stat.total is a uint8_t

_HINTS = {
    errno.ENODEV: "Xen does not manage this kind of power state (see cpufreq= on Xen's "
    "command line), or has no cpufreq driver for this CPU",
    errno.EINVAL: "no online physical CPU with this Xen CPU id, or no P-states were "
    "initialised for it",
    errno.EOPNOTSUPP: "Xen's HWP driver runs this CPU: it keeps no P-state table",
    errno.ENODATA: "Xen has no P-state statistics for this CPU yet",
}


@runtime_checkable
class SysctlTransport(Transport, Protocol):
    """A transport that can also issue ``__HYPERVISOR_sysctl`` on an arena address."""

    def sysctl(self, address: int) -> int: ...


class SysctlVersion:
    """Which ``XEN_SYSCTL_INTERFACE_VERSION`` this Xen takes: found on first use, then kept."""

    def __init__(self) -> None:
        self.value: int | None = None

    def __repr__(self) -> str:
        return f"<SysctlVersion {self.value:#x}>" if self.value else "<SysctlVersion unknown>"


def _begin(transport: SysctlTransport, cmd: int, extra: int) -> sc.xen_sysctl:
    arena = transport.arena
    arena.begin(sizeof_aligned(sc.xen_sysctl) + extra)
    op = arena.new(sc.xen_sysctl)
    op.cmd = cmd
    return op


def _issue(transport: SysctlTransport, op: sc.xen_sysctl, version: SysctlVersion, what: str,
           xen_cpuid: int) -> None:
    candidates = (version.value,) if version.value else SYSCTL_VERSIONS
    for candidate in candidates:
        op.interface_version = candidate
        try:
            transport.sysctl(ctypes.addressof(op))
        except OSError as exc:
            if exc.errno == errno.EACCES and candidate != candidates[-1]:
                continue  # the other interface version, or a real refusal: the next try tells
            if exc.errno != errno.EACCES:
                version.value = candidate  # Xen checks the version first: this one passed
            raise _error(exc, what, xen_cpuid, tried=candidates) from exc
        version.value = candidate
        return


def _error(exc: OSError, what: str, xen_cpuid: int, tried: tuple[int, ...]) -> HypercallError:
    err = exc.errno or errno.EIO
    op = f"{what} for Xen CPU {xen_cpuid}"
    if err == errno.EACCES:
        versions = " and ".join(f"{v:#x}" for v in tried)
        return PermissionDenied(err, op, hint=f"Xen refused sysctl interface version {versions}: "
                                "run as root in dom0, or this Xen is newer than 4.22")
    if err in _HINTS:
        return HypercallError(err, op, hint=_HINTS[err])
    return hypercall_error(exc, op)


@dataclass(frozen=True)
class CxStat:
    """``PMSTAT_get_max_cx`` + ``PMSTAT_get_cxstat`` for one CPU; C0 first in the tuples.

    ``count`` is how many C-states Xen holds (C0 included). ``reported`` is how many
    ``get_cxstat`` reports: 2 placeholder states (C0, C1, usage 1, all idle time in C1) until
    dom0 has uploaded Xen CPU 0's C-states, which is when Xen switches to ACPI idle
    (``pmstat_get_cx_stat``: ``pm_idle_save == NULL``). ``placeholder`` says it shows those.
    """

    xen_cpuid: int
    count: int
    reported: int
    last: int
    idle_time_ns: int
    usage: tuple[int, ...]
    residency_ns: tuple[int, ...]

    @property
    def placeholder(self) -> bool:
        return (self.reported == 2 and self.usage[1:] == (1,)
                and self.residency_ns[1:] == (self.idle_time_ns,))


def get_cx_stat(transport: SysctlTransport, xen_cpuid: int, version: SysctlVersion) -> CxStat:
    """What Xen holds for one CPU's C-states (two sysctls)."""
    op = _begin(transport, sc.XEN_SYSCTL_get_pmstat, 0)
    pmstat = op.u.get_pmstat
    pmstat.type, pmstat.cpuid = sc.PMSTAT_get_max_cx, xen_cpuid
    _issue(transport, op, version, "XEN_SYSCTL_get_pmstat(PMSTAT_get_max_cx)", xen_cpuid)
    count = min(pmstat.u.getcx.nr, MAX_CSTATES)  # bounded: a buffer of this many follows
    slots = max(count, 2)  # placeholders are 2 even when Xen holds none
    array = sizeof_aligned(ctypes.c_uint64 * slots)
    op = _begin(transport, sc.XEN_SYSCTL_get_pmstat, 2 * array)
    triggers = transport.arena.new_array(ctypes.c_uint64, slots)
    residencies = transport.arena.new_array(ctypes.c_uint64, slots)
    pmstat = op.u.get_pmstat
    pmstat.type, pmstat.cpuid = sc.PMSTAT_get_cxstat, xen_cpuid
    getcx = pmstat.u.getcx
    getcx.nr = slots  # in: buffer size; out: states reported (nr_pc/nr_cc 0: none wanted)
    getcx.triggers.p = ctypes.addressof(triggers)
    getcx.residencies.p = ctypes.addressof(residencies)
    _issue(transport, op, version, "XEN_SYSCTL_get_pmstat(PMSTAT_get_cxstat)", xen_cpuid)
    shown = min(getcx.nr, slots)
    return CxStat(xen_cpuid, count, getcx.nr, getcx.last, getcx.idle_time,
                  tuple(triggers[:shown]), tuple(residencies[:shown]))


@dataclass(frozen=True)
class PxStat:
    """``PMSTAT_get_pxstat``: the P-states Xen holds for one CPU, fastest first."""

    xen_cpuid: int
    total: int
    usable: int  # total minus the platform limit (_PPC)
    last: int
    current: int
    frequencies_mhz: tuple[int, ...]
    residency_ns: tuple[int, ...]
    transitions: tuple[int, ...]  # times each state was entered


def get_px_stat(transport: SysctlTransport, xen_cpuid: int, version: SysctlVersion) -> PxStat:
    """What Xen holds for one CPU's P-states; HypercallError (EINVAL...) when it holds none."""
    op = _begin(transport, sc.XEN_SYSCTL_get_pmstat, 0)
    pmstat = op.u.get_pmstat
    pmstat.type, pmstat.cpuid = sc.PMSTAT_get_max_px, xen_cpuid
    _issue(transport, op, version, "XEN_SYSCTL_get_pmstat(PMSTAT_get_max_px)", xen_cpuid)
    total = min(pmstat.u.getpx.total, MAX_PSTATES)
    matrix = sizeof_aligned(ctypes.c_uint64 * (total * total or 1))
    op = _begin(transport, sc.XEN_SYSCTL_get_pmstat,
                matrix + sizeof_aligned(sc.pm_px_val * (total or 1)))
    trans = transport.arena.new_array(ctypes.c_uint64, total * total or 1)
    values = transport.arena.new_array(sc.pm_px_val, total or 1)
    pmstat = op.u.get_pmstat
    pmstat.type, pmstat.cpuid = sc.PMSTAT_get_pxstat, xen_cpuid
    getpx = pmstat.u.getpx
    getpx.total = total  # 4.20+: the buffers' size
    getpx.trans_pt.p = ctypes.addressof(trans)
    getpx.pt.p = ctypes.addressof(values)
    _issue(transport, op, version, "XEN_SYSCTL_get_pmstat(PMSTAT_get_pxstat)", xen_cpuid)
    shown = values[:min(getpx.total, total)]
    return PxStat(xen_cpuid, getpx.total, getpx.usable, getpx.last, getpx.cur,
                  tuple(v.freq for v in shown), tuple(v.residency for v in shown),
                  tuple(v.count for v in shown))


@dataclass(frozen=True)
class CpufreqPara:
    """``GET_CPUFREQ_PARA``: how Xen drives one CPU's frequency (frequencies in kHz)."""

    xen_cpuid: int
    driver: str
    governor: str  # "" when the driver has no governor (hwp)
    affected_cpus: tuple[int, ...]
    available_frequencies_khz: tuple[int, ...]
    available_governors: tuple[str, ...]
    cpuinfo_min_khz: int
    cpuinfo_max_khz: int
    cpuinfo_cur_khz: int
    scaling_min_khz: int
    scaling_max_khz: int
    scaling_cur_khz: int
    turbo_enabled: bool


def get_cpufreq_para(transport: SysctlTransport, xen_cpuid: int,
                     version: SysctlVersion) -> CpufreqPara:
    """``XEN_SYSCTL_pm_op(GET_CPUFREQ_PARA)``: first the sizes (Xen answers EAGAIN with them,
    as xenpm's ``xc_get_cpufreq_para`` relies on), then the arrays."""
    what = "XEN_SYSCTL_pm_op(GET_CPUFREQ_PARA)"
    op = _begin(transport, sc.XEN_SYSCTL_pm_op, 0)
    op.u.pm_op.cmd, op.u.pm_op.cpuid = sc.GET_CPUFREQ_PARA, xen_cpuid
    try:
        _issue(transport, op, version, what, xen_cpuid)
    except HypercallError as exc:
        if exc.errno != errno.EAGAIN:
            raise
    para = op.u.pm_op.u.get_para
    sizes = (min(para.cpu_num, 4096), min(para.freq_num, MAX_PSTATES), min(para.gov_num, 64))
    cpus, freqs, govs = sizes
    names = govs * sc.CPUFREQ_NAME_LEN
    op = _begin(transport, sc.XEN_SYSCTL_pm_op, sizeof_aligned(ctypes.c_uint32 * (cpus or 1))
                + sizeof_aligned(ctypes.c_uint32 * (freqs or 1)) + (names or 1))
    affected = transport.arena.new_array(ctypes.c_uint32, cpus or 1)
    available = transport.arena.new_array(ctypes.c_uint32, freqs or 1)
    governors = transport.arena.new_array(ctypes.c_char, names or 1)
    op.u.pm_op.cmd, op.u.pm_op.cpuid = sc.GET_CPUFREQ_PARA, xen_cpuid
    para = op.u.pm_op.u.get_para
    para.cpu_num, para.freq_num, para.gov_num = sizes
    para.affected_cpus.p = ctypes.addressof(affected)
    para.scaling_available_frequencies.p = ctypes.addressof(available)
    para.scaling_available_governors.p = ctypes.addressof(governors)
    _issue(transport, op, version, what, xen_cpuid)
    driver = para.scaling_driver.decode("ascii", "replace")
    return CpufreqPara(
        xen_cpuid, driver, para.scaling_governor.decode("ascii", "replace"),
        tuple(affected[:cpus]), tuple(available[:freqs]),
        tuple(governors.raw[:names].replace(b"\0", b" ").decode("ascii", "replace").split()),
        para.cpuinfo_min_freq, para.cpuinfo_max_freq, para.cpuinfo_cur_freq,
        para.scaling_min_freq, para.scaling_max_freq, para.scaling_cur_freq,
        bool(para.turbo_enabled),
    )
