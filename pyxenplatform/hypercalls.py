"""platform_op sub-ops, built in a transport's arena and issued through it.

Each function here builds one ``struct xen_platform_op`` (and its arrays) in
hypercall-safe memory, issues it, and turns an ``OSError`` into a
:class:`~pyxenplatform.errors.HypercallError` that names the op and the ACPI
id.  The read-only ones (``get_cpuinfo``, ``get_cpu_version``...) make the
binding useful at the REPL.
"""

from __future__ import annotations

import ctypes
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from . import abi
from .errors import hypercall_error
from .arena import Fixed, sizeof_aligned
from .transport import Transport, send_image

# cmd number -> XENPF_ name, for messages.  Skipped: the alias XENPF_settime
# and the XENPF_ macros that are not sub-op numbers.
_NOT_OPS = ("XENPF_settime", "XENPF_INTERFACE_VERSION", "XENPF_ACPI_SLEEP_EXTENDED")
OP_NAMES = {
    value: name
    for name, value in vars(abi).items()
    if name.startswith("XENPF_") and isinstance(value, int) and name not in _NOT_OPS
}
PM_TYPE_NAMES = {
    abi.XEN_PM_CX: "XEN_PM_CX",
    abi.XEN_PM_PX: "XEN_PM_PX",
    abi.XEN_PM_TX: "XEN_PM_TX",
    abi.XEN_PM_PDC: "XEN_PM_PDC",
    abi.XEN_PM_CPPC: "XEN_PM_CPPC",
}


def begin_op(transport: Transport, cmd: int, extra: int = 0) -> abi.xen_platform_op:
    """Start a call: a zeroed op (``cmd``, interface version) plus ``extra`` bytes."""
    arena = transport.arena
    arena.begin(sizeof_aligned(abi.xen_platform_op) + extra)
    op = arena.new(abi.xen_platform_op)
    op.cmd = cmd
    op.interface_version = abi.XENPF_INTERFACE_VERSION
    return op


def op_name(op: abi.xen_platform_op) -> str:
    """``XENPF_set_processor_pminfo(XEN_PM_CX)``-style name of an op, for errors."""
    name = OP_NAMES.get(op.cmd, f"platform_op {op.cmd}")
    if op.cmd == abi.XENPF_set_processor_pminfo:
        pm_type = op.u.set_pminfo.type
        name += f"({PM_TYPE_NAMES.get(pm_type, pm_type)})"
    return name


def issue(transport: Transport, op: abi.xen_platform_op, acpi_id: int | None = None) -> int:
    """Issue ``op`` (built by :func:`begin_op`); Xen's result or a HypercallError."""
    try:
        return transport.platform_op(ctypes.addressof(op))
    except OSError as exc:
        raise hypercall_error(exc, op_name(op), acpi_id=acpi_id) from exc


# Xen's NR_CPUS ceiling (xen/arch/Kconfig: "range 1 16383"): Xen CPU ids are below it.
MAX_XEN_CPUS = 16383


@dataclass(frozen=True)
class PhysicalCpu:
    """A physical CPU as Xen sees it (``XENPF_get_cpuinfo``)."""

    xen_cpuid: int
    acpi_id: int
    apic_id: int
    online: bool


@dataclass(frozen=True)
class CpuInfo:
    """One ``XENPF_get_cpuinfo`` answer; ``cpu`` is ``None`` if not present."""

    max_present: int
    cpu: PhysicalCpu | None


# XENPF_get_cpuinfo packed once: a 4,096-CPU host asks 4,096 times.  The op
# is cmd, interface_version, then u.pcpu_info: xen_cpuid (at 8), max_present,
# flags, apic_id, acpi_id (at 12..28, written by Xen), zeros to the op's size.
_CPUINFO_OP = Fixed(struct.pack("<II", abi.XENPF_get_cpuinfo, abi.XENPF_INTERFACE_VERSION)
                    .ljust(ctypes.sizeof(abi.xen_platform_op), b"\0"))
_CPUINFO_XEN_CPUID_AT = 8
_CPUINFO_ANSWER = struct.Struct("<IIII")  # max_present, flags, apic_id, acpi_id
_CPUINFO_ANSWER_AT = 12


def get_cpuinfo(transport: Transport, xen_cpuid: int) -> CpuInfo:
    """``XENPF_get_cpuinfo`` for one Xen CPU id."""
    max_present, cpu = _cpuinfo(transport, xen_cpuid)
    return CpuInfo(max_present, cpu)


def _cpuinfo(transport: Transport, xen_cpuid: int) -> tuple[int, PhysicalCpu | None]:
    try:
        pages = send_image(transport, _CPUINFO_OP, _CPUINFO_XEN_CPUID_AT, xen_cpuid)
    except OSError as exc:
        raise hypercall_error(exc, OP_NAMES[abi.XENPF_get_cpuinfo]) from exc
    max_present, flags, apic_id, acpi_id = _CPUINFO_ANSWER.unpack_from(pages, _CPUINFO_ANSWER_AT)
    if flags & abi.XEN_PCPU_FLAGS_INVALID:
        return max_present, None
    # PhysicalCpu(...) without the frozen dataclass's per-field __setattr__:
    # a 4,096-CPU host makes 4,096 of them per walk.  The same object.
    cpu = _new_object(PhysicalCpu)
    cpu.__dict__.update(xen_cpuid=xen_cpuid, acpi_id=acpi_id, apic_id=apic_id,
                        online=bool(flags & abi.XEN_PCPU_FLAGS_ONLINE))
    return max_present, cpu


_new_object = object.__new__


def iter_physical_cpus(transport: Transport) -> Iterator[PhysicalCpu]:
    """Every present physical CPU, by Xen CPU id, as Linux ``drivers/xen/pcpu.c`` walks them."""
    xen_cpuid, max_present = 0, 0
    while xen_cpuid <= max_present:
        max_present, cpu = _cpuinfo(transport, xen_cpuid)
        # CPUs can be hot-added while we walk; no Xen has more than
        # MAX_XEN_CPUS, whatever a (simulated or broken) answer says.
        max_present = min(max_present, MAX_XEN_CPUS - 1)
        if cpu is not None:
            yield cpu
        xen_cpuid += 1


def physical_cpus(transport: Transport) -> list[PhysicalCpu]:
    """The list of present physical CPUs (not dom0's vCPUs)."""
    return list(iter_physical_cpus(transport))


@dataclass(frozen=True)
class CpuVersion:
    """``XENPF_get_cpu_version``: vendor and family/model/stepping of a CPU."""

    xen_cpuid: int
    vendor_id: str
    family: int
    model: int
    stepping: int


def get_cpu_version(transport: Transport, xen_cpuid: int) -> CpuVersion | None:
    """``XENPF_get_cpu_version``; ``None`` for a CPU id that is not present."""
    op = begin_op(transport, abi.XENPF_get_cpu_version)
    ver = op.u.pcpu_version
    ver.xen_cpuid = xen_cpuid
    issue(transport, op)
    vendor = ver.vendor_id.decode("ascii", "replace")
    if not vendor:  # Xen leaves it zeroed for an absent CPU (platform_hypercall.c)
        return None
    return CpuVersion(xen_cpuid, vendor, ver.family, ver.model, ver.stepping)


def get_idletime(transport: Transport, xen_cpuids: list[int]) -> dict[int, int]:
    """``XENPF_getidletime``: nanoseconds each CPU has idled since boot.

    Xen answers it only when dom0's kernel controls CPU frequency
    (``cpufreq=dom0-kernel``); otherwise a HypercallError with ENOSYS.
    """
    nr_cpus = max(xen_cpuids, default=0) + 1
    bitmap_len = -(-nr_cpus // 8)
    extra = sizeof_aligned(ctypes.c_uint8 * bitmap_len) + 8 * nr_cpus
    op = begin_op(transport, abi.XENPF_getidletime, extra)
    bitmap = transport.arena.new_array(ctypes.c_uint8, bitmap_len)
    idletime = transport.arena.new_array(ctypes.c_uint64, nr_cpus)
    for cpu in xen_cpuids:
        bitmap[cpu // 8] |= 1 << (cpu % 8)
    req = op.u.getidletime
    req.cpumap_bitmap.p = ctypes.addressof(bitmap)
    req.cpumap_nr_cpus = nr_cpus
    req.idletime.p = ctypes.addressof(idletime)
    issue(transport, op)
    # Xen clears the bits of CPUs that do not exist.
    return {cpu: idletime[cpu] for cpu in xen_cpuids if bitmap[cpu // 8] >> (cpu % 8) & 1}


@runtime_checkable
class RawHypercalls(Protocol):
    """A transport that can issue any hypercall (``Privcmd``, ``SimulatedXen``)."""

    def hypercall(self, op: int, *args: int) -> int: ...


def xen_version(transport: Transport) -> tuple[int, int] | None:
    """Xen's (major, minor) from ``XENVER_version``; ``None`` if the transport
    cannot issue it or Xen refuses.  Asked only to explain a failure."""
    if not isinstance(transport, RawHypercalls):
        return None
    try:
        # XENVER_version takes no argument: the NULL handle is never read.
        version = transport.hypercall(abi.__HYPERVISOR_xen_version, abi.XENVER_version, 0)
    except OSError:
        return None
    return version >> 16, version & 0xFFFF
