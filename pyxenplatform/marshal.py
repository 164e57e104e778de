"""Power-info dataclasses -> ``abi`` structs, built inside a transport's arena.

Each ``build_*`` function begins one call in the arena, writes the op and
every array its guest handles point to (``states``, ``dp``, the ``_PDC``
words) into the same hypercall-safe pages, and returns the op, ready for
:func:`pyxenplatform.hypercalls.issue`.  Nothing is copied twice.
"""

from __future__ import annotations

import ctypes

from . import abi
from .hypercalls import begin_op
from .model import CppcInfo, CxInfo, Pdc, PsdDomain, PxInfo, Register
from .rules import SHARED_TYPE
from .arena import align, sizeof_aligned
from .transport import Transport

CX_SIZE = ctypes.sizeof(abi.xen_processor_cx)
CSD_SIZE = ctypes.sizeof(abi.xen_processor_csd)
PX_SIZE = ctypes.sizeof(abi.xen_processor_px)

# Which parts of a Px upload are present (xen/include/public/platform.h).
PX_ALL = abi.XEN_PX_PCT | abi.XEN_PX_PSS | abi.XEN_PX_PPC | abi.XEN_PX_PSD
# A CPPC upload carries both: Xen initialises the CPU only then (set_cppc_pminfo).
CPPC_ALL = abi.XEN_CPPC_CPC | abi.XEN_CPPC_PSD


def _pminfo(transport: Transport, acpi_id: int, pm_type: int, extra: int) -> abi.xen_platform_op:
    op = begin_op(transport, abi.XENPF_set_processor_pminfo, extra)
    op.u.set_pminfo.id = acpi_id
    op.u.set_pminfo.type = pm_type
    return op


def _cx_extra(cx: CxInfo) -> int:
    deps = sum(align(CSD_SIZE * len(s.dependencies)) for s in cx.states)
    return CX_SIZE * len(cx.states) + deps


def build_cx(transport: Transport, acpi_id: int, cx: CxInfo) -> abi.xen_platform_op:
    """``XEN_PM_CX``: the op and its ``xen_processor_cx[count]`` (and ``_CSD`` arrays)."""
    op = _pminfo(transport, acpi_id, abi.XEN_PM_CX, _cx_extra(cx))
    power = op.u.set_pminfo.u.power
    power.count = len(cx.states)
    power.flags.bm_check = cx.flags.bm_check
    power.flags.bm_control = cx.flags.bm_control
    power.flags.has_cst = cx.flags.has_cst
    if not cx.states:
        return op
    states = transport.arena.new_array(abi.xen_processor_cx, len(cx.states))
    power.states.p = ctypes.addressof(states)
    for dst, src in zip(states, cx.states):
        _set_power_register(dst.reg, src.register)
        dst.type = src.type
        dst.latency = src.latency
        dst.power = src.power
        dst.dpcnt = len(src.dependencies)
        if src.dependencies:
            deps = transport.arena.new_array(abi.xen_processor_csd, len(src.dependencies))
            dst.dp.p = ctypes.addressof(deps)
            for d, dep in zip(deps, src.dependencies):
                d.domain, d.coord_type, d.num = dep.domain, dep.coord_type, dep.num_processors
    return op


def _set_power_register(dst: abi.xen_power_register, reg: Register) -> None:
    dst.space_id = reg.space_id
    dst.bit_width = reg.bit_width
    dst.bit_offset = reg.bit_offset
    dst.access_size = reg.access_size
    dst.address = reg.address


def _set_pct_register(dst: abi.xen_pct_register, reg: Register) -> None:
    # _PCT holds Generic Register resource descriptors (ACPI 6.5, 6.4.3.7);
    # their "access size" byte is xen_pct_register.reserved.
    dst.descriptor = abi.ACPI_RESOURCE_GENERIC_REGISTER
    dst.length = abi.ACPI_RESOURCE_GENERIC_REGISTER_LENGTH
    dst.space_id = reg.space_id
    dst.bit_width = reg.bit_width
    dst.bit_offset = reg.bit_offset
    dst.reserved = reg.access_size
    dst.address = reg.address


def build_px(transport: Transport, acpi_id: int, px: PxInfo,
             flags: int = PX_ALL) -> abi.xen_platform_op:
    """``XEN_PM_PX`` with the parts ``flags`` names (all four by default)."""
    with_pss = bool(flags & abi.XEN_PX_PSS)
    op = _pminfo(transport, acpi_id, abi.XEN_PM_PX, PX_SIZE * len(px.states) if with_pss else 0)
    perf = op.u.set_pminfo.u.perf
    perf.flags = flags
    if flags & abi.XEN_PX_PCT:
        _set_pct_register(perf.control_register, px.control_register)
        _set_pct_register(perf.status_register, px.status_register)
    if with_pss:
        states = transport.arena.new_array(abi.xen_processor_px, len(px.states))
        perf.state_count = len(px.states)
        perf.states.p = ctypes.addressof(states)
        for dst, src in zip(states, px.states):
            dst.core_frequency = src.core_frequency
            dst.power = src.power
            dst.transition_latency = src.transition_latency
            dst.bus_master_latency = src.bus_master_latency
            dst.control = src.control
            dst.status = src.status
    if flags & abi.XEN_PX_PPC:
        perf.platform_limit = px.ppc
    if flags & abi.XEN_PX_PSD:
        _set_psd(perf.domain_info, px.psd)
        perf.shared_type = SHARED_TYPE[px.psd.coord_type]
    return op


def _set_psd(info: abi.xen_psd_package, psd: PsdDomain) -> None:
    info.num_entries = psd.num_entries
    info.revision = psd.revision
    info.domain = psd.domain
    info.coord_type = psd.coord_type
    info.num_processors = psd.num_processors


def build_cppc(transport: Transport, acpi_id: int, cppc: CppcInfo) -> abi.xen_platform_op:
    """``XEN_PM_CPPC`` with ``_CPC`` and ``_PSD`` (Xen 4.21+); ``pad`` stays zero
    (Xen refuses anything else).  No arrays: it all fits in the op."""
    op = _pminfo(transport, acpi_id, abi.XEN_PM_CPPC, 0)
    data = op.u.set_pminfo.u.cppc_data
    data.flags = CPPC_ALL
    cpc = data.cpc
    cpc.highest_perf = cppc.highest_perf
    cpc.nominal_perf = cppc.nominal_perf
    cpc.lowest_nonlinear_perf = cppc.lowest_nonlinear_perf
    cpc.lowest_perf = cppc.lowest_perf
    cpc.lowest_mhz = cppc.lowest_mhz
    cpc.nominal_mhz = cppc.nominal_mhz
    _set_psd(data.domain_info, cppc.psd)
    data.shared_type = SHARED_TYPE[cppc.psd.coord_type]
    return op


def build_pdc(transport: Transport, acpi_id: int,
              pdc: Pdc) -> tuple[abi.xen_platform_op, ctypes.Array[ctypes.c_uint32]]:
    """``XEN_PM_PDC``: the op and its buffer ``[revision, count, capabilities...]``.

    Xen writes the capabilities it lets the firmware see back into word 2.
    """
    words = (pdc.revision, len(pdc.capabilities), *pdc.capabilities)
    extra = sizeof_aligned(ctypes.c_uint32 * len(words))
    op = _pminfo(transport, acpi_id, abi.XEN_PM_PDC, extra)
    buf = transport.arena.new_array(ctypes.c_uint32, len(words))
    buf[:] = list(words)
    op.u.set_pminfo.u.pdc.p = ctypes.addressof(buf)
    return op, buf
