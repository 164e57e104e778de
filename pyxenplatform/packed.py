"""The bytes of a whole ``set_pminfo`` call, packed once per power-info object.

:mod:`~pyxenplatform.marshal` builds an op field by field in ctypes objects
inside the arena: readable, and what ``show`` uses.  Done on every upload it
cost a fifth of the hot path.  Here the same bytes are packed with
precompiled ``struct`` formats into an *image*: the op at offset 0 with ACPI
id 0, then its arrays at the offsets the arena would give them, every guest
handle holding its array's offset from the op.  An upload copies the image
into the arena (:meth:`~pyxenplatform.arena.Arena.load`), which writes
the ACPI id, and rebases the handles.  :mod:`~pyxenplatform.prepared` keeps
each image on its frozen, checked object, so each distinct table is packed once.

``tests/test_packed.py`` checks, byte for byte, that every image equals what
the ctypes builders write.  Only validated objects may be packed.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

from . import abi
from .model import CxInfo, Pdc, PxInfo, Register
from .rules import SHARED_TYPE

OP_SIZE = 136      # sizeof(struct xen_platform_op) (tests/test_abi_layout.py)
CX_SIZE = 48       # sizeof(struct xen_processor_cx)
CSD_SIZE = 12      # sizeof(struct xen_processor_csd)
PX_SIZE = 48       # sizeof(struct xen_processor_px)
ID_OFFSET = 8      # xen_platform_op.u.set_pminfo.id (and u.pcpu_info.xen_cpuid)

_HEAD = struct.Struct("<IIII")                  # cmd, interface_version, id, type
_POWER = struct.Struct("<IIQ")                  # count, flags, states handle (at 16)
_CX = struct.Struct("<IIIIQB3xIIIQ")            # reg, type, latency, power, dpcnt, dp
_CSD = struct.Struct("<III")                    # domain, coord_type, num
_PCT = struct.Struct("<B1xHBBBBQ")              # a _PCT Generic Register descriptor
_PERF_HEAD = struct.Struct("<II")               # flags, platform_limit (at 16)
_PSS = struct.Struct("<I4xQ")                   # state_count, states handle (at 56)
_PSD = struct.Struct("<QQQQQI")                 # domain_info, shared_type (at 72)
_PX = struct.Struct("<QQQQQQ")
_HANDLE = struct.Struct("<Q")

# Which parts of a Px upload are present (xen/include/public/platform.h).
PX_ALL = abi.XEN_PX_PCT | abi.XEN_PX_PSS | abi.XEN_PX_PPC | abi.XEN_PX_PSD


def _align(nbytes: int) -> int:
    return -(-nbytes // 8) * 8  # the arena's alignment (transport.align)


class Image:
    """One call's bytes, relocatable: ``data`` with handles as offsets from the op.

    :meth:`at` gives the bytes for an arena at ``base``: the handles rebased.
    The last result is kept (an arena's pages rarely move), as one tuple so
    that threads sharing an object never see a half-updated pair.
    """

    __slots__ = ("data", "size", "handles", "last")

    def __init__(self, data: bytes, handles: Sequence[int] = ()) -> None:
        self.data = data
        self.size = len(data)
        self.handles = tuple(handles)
        self.last: tuple[int, bytes] = (0, data)

    def at(self, base: int) -> bytes:
        last_base, last = self.last
        if last_base == base:
            return last
        if not self.handles:
            self.last = (base, self.data)
            return self.data
        data = bytearray(self.data)
        for offset in self.handles:
            target: int = _HANDLE.unpack_from(data, offset)[0]
            _HANDLE.pack_into(data, offset, base + target)
        resolved = bytes(data)
        self.last = (base, resolved)
        return resolved


def _op(pm_type: int, extra: int) -> bytearray:
    buf = bytearray(OP_SIZE + extra)
    _HEAD.pack_into(buf, 0, abi.XENPF_set_processor_pminfo, abi.XENPF_INTERFACE_VERSION, 0,
                    pm_type)
    return buf


def cx_image(cx: CxInfo) -> Image:
    """``XEN_PM_CX`` as :func:`~pyxenplatform.marshal.build_cx` writes it."""
    states = cx.states
    deps_at = OP_SIZE + CX_SIZE * len(states)
    extra = CX_SIZE * len(states) + sum(_align(CSD_SIZE * len(s.dependencies)) for s in states)
    buf = _op(abi.XEN_PM_CX, extra)
    flags = int(cx.flags.bm_control) | int(cx.flags.bm_check) << 1 | int(cx.flags.has_cst) << 2
    _POWER.pack_into(buf, 16, len(states), flags, OP_SIZE if states else 0)
    handles = [24] if states else []
    used = deps_at
    for i, s in enumerate(states):
        r, at, dp = s.register, OP_SIZE + CX_SIZE * i, 0
        if s.dependencies:
            dp = _align(used)
            for j, d in enumerate(s.dependencies):
                _CSD.pack_into(buf, dp + CSD_SIZE * j, d.domain, d.coord_type, d.num_processors)
            used = dp + CSD_SIZE * len(s.dependencies)
            handles.append(at + 40)
        _CX.pack_into(buf, at, r.space_id, r.bit_width, r.bit_offset, r.access_size, r.address,
                      s.type, s.latency, s.power, len(s.dependencies), dp)
    return Image(bytes(buf[:used]), handles)


def _pct(buf: bytearray, offset: int, reg: Register) -> None:
    # The "access size" byte of a Generic Register descriptor is xen_pct_register.reserved.
    _PCT.pack_into(buf, offset, abi.ACPI_RESOURCE_GENERIC_REGISTER,
                   abi.ACPI_RESOURCE_GENERIC_REGISTER_LENGTH, reg.space_id, reg.bit_width,
                   reg.bit_offset, reg.access_size, reg.address)


def px_image(px: PxInfo, flags: int = PX_ALL) -> Image:
    """``XEN_PM_PX`` with the parts ``flags`` names, as ``build_px`` writes it."""
    with_pss = bool(flags & abi.XEN_PX_PSS)
    buf = _op(abi.XEN_PM_PX, PX_SIZE * len(px.states) if with_pss else 0)
    _PERF_HEAD.pack_into(buf, 16, flags, px.ppc if flags & abi.XEN_PX_PPC else 0)
    if flags & abi.XEN_PX_PCT:
        _pct(buf, 24, px.control_register)
        _pct(buf, 40, px.status_register)
    handles = []
    if with_pss:
        _PSS.pack_into(buf, 56, len(px.states), OP_SIZE)
        handles.append(64)
        for i, s in enumerate(px.states):
            _PX.pack_into(buf, OP_SIZE + PX_SIZE * i, s.core_frequency, s.power,
                          s.transition_latency, s.bus_master_latency, s.control, s.status)
    if flags & abi.XEN_PX_PSD:
        d = px.psd
        _PSD.pack_into(buf, 72, d.num_entries, d.revision, d.domain, d.coord_type,
                       d.num_processors, SHARED_TYPE[d.coord_type])
    return Image(bytes(buf), handles)


class PdcImage(Image):
    """A ``_PDC`` call's image and the words it sends."""

    __slots__ = ("words",)

    def __init__(self, data: bytes, handles: Sequence[int], words: tuple[int, ...]) -> None:
        super().__init__(data, handles)
        self.words = words


def pdc_image(pdc: Pdc) -> PdcImage:
    """``XEN_PM_PDC`` and its words ``[revision, count, capabilities...]``, as ``build_pdc``."""
    words = (pdc.revision, len(pdc.capabilities), *pdc.capabilities)
    buf = _op(abi.XEN_PM_PDC, 4 * len(words))
    _HANDLE.pack_into(buf, 16, OP_SIZE)
    struct.pack_into(f"<{len(words)}I", buf, OP_SIZE, *words)
    return PdcImage(bytes(buf), (16,), words)
