"""What Xen holds for each physical CPU: the C-states, the P-states, the cpufreq driver.

:func:`read_status` asks Xen (or the simulated hypervisor) through the read-back sysctls of
:mod:`pyxenplatform.readback`, one physical CPU at a time; :meth:`Hypervisor.status
<pyxenplatform.hypervisor.Hypervisor.status>` is the facade's door to it, ``pyxenplatform status``
the CLI's. A part Xen cannot report (no P-states without a cpufreq driver, say) is ``None`` with
the reason beside it: that is a normal answer, not an error; only a refusal of the caller
(:class:`~pyxenplatform.errors.PermissionDenied`) stops the whole read.
"""

from __future__ import annotations

import errno as errnos
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from .errors import HypercallError, PermissionDenied, XenPlatformError
from .hypercalls import PhysicalCpu
from .readback import (
    CpufreqPara,
    CxStat,
    PxStat,
    SysctlTransport,
    SysctlVersion,
    get_cpufreq_para,
    get_cx_stat,
    get_px_stat,
)
from .transport import Transport

_T = TypeVar("_T")


@dataclass(frozen=True)
class Unavailable:
    """Why Xen reported nothing for one part of a CPU's state (errno and the reason)."""

    errno: int
    message: str

    def to_json(self) -> dict[str, object]:
        return {"errno": self.errno, "errno_name": errnos.errorcode.get(self.errno, ""),
                "message": self.message}


@dataclass(frozen=True)
class CpuStatus:
    """What Xen holds for one physical CPU. Each part is ``None`` when Xen reported none, with
    the reason in ``*_unavailable``."""

    cpu: PhysicalCpu
    cx: CxStat | None
    px: PxStat | None
    cpufreq: CpufreqPara | None
    cx_unavailable: Unavailable | None = None
    px_unavailable: Unavailable | None = None
    cpufreq_unavailable: Unavailable | None = None

    @property
    def placeholder(self) -> bool:
        """Xen still shows its 2 placeholder C-states: Xen CPU 0's C-states are not uploaded."""
        return self.cx is not None and self.cx.placeholder

    def to_json(self) -> dict[str, object]:
        """The ``status --json`` entry of this CPU."""
        return {
            "xen_cpuid": self.cpu.xen_cpuid, "acpi_id": self.cpu.acpi_id,
            "apic_id": self.cpu.apic_id, "online": self.cpu.online,
            "cstates": _cx_json(self.cx), "cstates_unavailable": _why(self.cx_unavailable),
            "pstates": _px_json(self.px), "pstates_unavailable": _why(self.px_unavailable),
            "cpufreq": _cpufreq_json(self.cpufreq),
            "cpufreq_unavailable": _why(self.cpufreq_unavailable),
        }


def read_status(transport: Transport, cpus: Sequence[PhysicalCpu],
                version: SysctlVersion) -> list[CpuStatus]:
    """What Xen holds for each of ``cpus`` (offline ones: nothing, Xen answers EINVAL)."""
    if not isinstance(transport, SysctlTransport):
        raise XenPlatformError(f"{transport!r} cannot issue sysctls: no read-back through it")
    result = []
    for cpu in cpus:
        cx, cx_why = _ask(get_cx_stat, transport, cpu.xen_cpuid, version)
        px, px_why = _ask(get_px_stat, transport, cpu.xen_cpuid, version)
        para, para_why = _ask(get_cpufreq_para, transport, cpu.xen_cpuid, version)
        result.append(CpuStatus(cpu, cx, px, para, cx_why, px_why, para_why))
    return result


def _ask(read: Callable[[SysctlTransport, int, SysctlVersion], _T], transport: SysctlTransport,
         xen_cpuid: int, version: SysctlVersion) -> tuple[_T | None, Unavailable | None]:
    try:
        return read(transport, xen_cpuid, version), None
    except PermissionDenied:
        raise  # nothing else will work either
    except HypercallError as exc:
        return None, Unavailable(exc.errno or errnos.EIO, exc.hint or str(exc))


def _why(reason: Unavailable | None) -> dict[str, object] | None:
    return reason.to_json() if reason is not None else None


def _cx_json(cx: CxStat | None) -> dict[str, object] | None:
    if cx is None:
        return None
    states = [{"name": f"C{i}", "usage": usage, "residency_ns": residency}
              for i, (usage, residency) in enumerate(zip(cx.usage, cx.residency_ns))]
    return {"count": cx.count, "reported": cx.reported, "placeholder": cx.placeholder,
            "last": cx.last, "idle_time_ns": cx.idle_time_ns, "states": states}


def _px_json(px: PxStat | None) -> dict[str, object] | None:
    if px is None:
        return None
    states = [{"name": f"P{i}", "frequency_mhz": freq, "residency_ns": residency,
               "transitions": count}
              for i, (freq, residency, count)
              in enumerate(zip(px.frequencies_mhz, px.residency_ns, px.transitions))]
    return {"total": px.total, "usable": px.usable, "current": px.current, "last": px.last,
            "states": states}


def _cpufreq_json(para: CpufreqPara | None) -> dict[str, object] | None:
    if para is None:
        return None
    return {
        "driver": para.driver, "governor": para.governor,
        "frequencies_khz": list(para.available_frequencies_khz),
        "governors": list(para.available_governors), "affected_cpus": list(para.affected_cpus),
        "cpuinfo_khz": {"min": para.cpuinfo_min_khz, "max": para.cpuinfo_max_khz,
                        "cur": para.cpuinfo_cur_khz},
        "scaling_khz": {"min": para.scaling_min_khz, "max": para.scaling_max_khz,
                        "cur": para.scaling_cur_khz},
        "turbo_enabled": para.turbo_enabled,
    }


def describe(status: CpuStatus) -> list[str]:
    """Human lines for one CPU (``pyxenplatform status``)."""
    cpu = status.cpu
    lines = [f"Xen CPU {cpu.xen_cpuid} (ACPI id {cpu.acpi_id}, APIC id {cpu.apic_id}"
             f"{'' if cpu.online else ', offline'})"]
    if status.cx is not None:
        cx = status.cx
        if status.placeholder:
            lines.append(f"  C-states: {cx.reported} placeholders (Xen CPU 0's C-states not "
                         f"uploaded yet; {cx.count} held for this CPU)")
        else:
            usage = ", ".join(f"C{i} {u}x {r / 1e9:.3f} s"
                              for i, (u, r) in enumerate(zip(cx.usage, cx.residency_ns)))
            lines.append(f"  C-states: {cx.count} ({usage})")
    elif status.cx_unavailable:
        lines.append(f"  C-states: none reported ({status.cx_unavailable.message})")
    if status.cpufreq is not None:
        para = status.cpufreq
        lines.append(f"  cpufreq: driver {para.driver}, governor {para.governor or '-'}, "
                     f"{para.scaling_min_khz // 1000}-{para.scaling_max_khz // 1000} MHz")
    elif status.cpufreq_unavailable:
        lines.append(f"  cpufreq: none ({status.cpufreq_unavailable.message})")
    if status.px is not None:
        mhz = ", ".join(str(f) for f in status.px.frequencies_mhz)
        lines.append(f"  P-states: {status.px.total} ({mhz} MHz; {status.px.usable} usable)")
    elif status.px_unavailable:
        lines.append(f"  P-states: none ({status.px_unavailable.message})")
    return lines
