"""``pyxenplatform show``: each op as Xen reads it.

The default view diffs clean: no process addresses (a guest handle is shown
as the array it points to, ``-> states[0..2]``), numbers in decimal with their
units (MHz, mW, µs), and names for types, address spaces and coordination
types.  ``--hex`` keeps the raw view: every field in hex as the C struct holds
it, handles as the addresses Xen follows, and the bytes of the hypercall buffer.

Units and names follow Xen's ``public/platform.h`` comments and the ACPI
spec (``_CST``: latency µs, power mW; ``_PSS``: MHz, mW, µs).
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable

from . import abi
from .model import CoordType, SpaceId
from .sim import copy_from_guest

Struct = ctypes.Structure | ctypes.Union

# field name -> unit, for the fields that carry one (platform.h / ACPI spec).
UNITS = {"latency": "µs", "power": "mW", "core_frequency": "MHz",
         "transition_latency": "µs", "bus_master_latency": "µs",
         "lowest_mhz": "MHz", "nominal_mhz": "MHz"}
# Fields that are bit patterns or addresses: hex reads better than decimal.
HEX_FIELDS = {"address", "control", "status", "interface_version", "descriptor"}
PM_TYPES = {abi.XEN_PM_CX: "XEN_PM_CX", abi.XEN_PM_PX: "XEN_PM_PX",
            abi.XEN_PM_TX: "XEN_PM_TX", abi.XEN_PM_PDC: "XEN_PM_PDC",
            abi.XEN_PM_CPPC: "XEN_PM_CPPC"}
PX_FLAGS = {abi.XEN_PX_PCT: "PCT", abi.XEN_PX_PSS: "PSS", abi.XEN_PX_PPC: "PPC",
            abi.XEN_PX_PSD: "PSD"}
SHARED_TYPES = {abi.XEN_CPUPERF_SHARED_TYPE_HW: "HW", abi.XEN_CPUPERF_SHARED_TYPE_ALL: "ALL",
                abi.XEN_CPUPERF_SHARED_TYPE_ANY: "ANY"}


def _name(names: dict[int, str]) -> Callable[[int], str]:
    return lambda v: f"{v} ({names[v]})" if v in names else str(v)


def _enum_name(enum: type[SpaceId] | type[CoordType]) -> Callable[[int], str]:
    return _name({int(m): m.name for m in enum})


def _flags(names: dict[int, str]) -> Callable[[int], str]:
    return lambda v: f"{v:#x} ({'|'.join(n for b, n in names.items() if v & b) or 'none'})"


# (struct, field) -> how to show it; checked before the generic rules.
NAMED: dict[tuple[type[Struct], str], Callable[[int], str]] = {
    (abi.xen_power_register, "space_id"): _enum_name(SpaceId),
    (abi.xen_pct_register, "space_id"): _enum_name(SpaceId),
    (abi.xen_processor_cx, "type"): lambda v: f"{v} (C{v})",
    (abi.xen_processor_csd, "coord_type"): _enum_name(CoordType),
    (abi.xen_psd_package, "coord_type"): _enum_name(CoordType),
    (abi.xen_processor_performance, "flags"): _flags(PX_FLAGS),
    (abi.xen_processor_performance, "shared_type"): _name(SHARED_TYPES),
    (abi.xenpf_set_processor_pminfo, "type"): _name(PM_TYPES),
    (abi.xen_processor_cppc, "flags"): _flags({abi.XEN_CPPC_PSD: "PSD", abi.XEN_CPPC_CPC: "CPC"}),
    (abi.xen_processor_cppc, "shared_type"): _name(SHARED_TYPES),
}


def describe_op(op: abi.xen_platform_op, raw: bool = False) -> list[str]:
    """Every field Xen reads for a set_pminfo op, arrays followed through their handles.

    ``raw``: the ``--hex`` view (hex values, handle addresses)."""
    fields = _raw_fields if raw else _fields
    info = op.u.set_pminfo
    lines = [f"cmd = {op.cmd} (XENPF_set_processor_pminfo)",
             f"interface_version = {op.interface_version:#x}",
             f"u.set_pminfo.id = {info.id}",
             f"u.set_pminfo.type = {info.type}" if raw else
             f"u.set_pminfo.type = {NAMED[abi.xenpf_set_processor_pminfo, 'type'](info.type)}"]
    if info.type == abi.XEN_PM_CX:
        power = info.u.power
        lines += fields("u.set_pminfo.u.power", power, {"states": f"states[{_span(power.count)}]"})
        for i, st in enumerate(copy_from_guest(abi.xen_processor_cx, power.states.p,
                                               power.count)):
            lines += fields(f"states[{i}]", st, {"dp": f"dp[{_span(st.dpcnt)}]"})
    elif info.type == abi.XEN_PM_PX:
        perf = info.u.perf
        count = perf.state_count if perf.flags & abi.XEN_PX_PSS else 0
        lines += fields("u.set_pminfo.u.perf", perf, {"states": f"states[{_span(count)}]"})
        for i, px in enumerate(copy_from_guest(abi.xen_processor_px, perf.states.p, count)):
            lines += fields(f"states[{i}]", px, {})
    elif info.type == abi.XEN_PM_CPPC:
        lines += fields("u.set_pminfo.u.cppc_data", info.u.cppc_data, {})
    elif info.type == abi.XEN_PM_PDC:
        head = (ctypes.c_uint32 * 2).from_address(info.u.pdc.p)
        words = (ctypes.c_uint32 * (2 + head[1])).from_address(info.u.pdc.p)
        text = ", ".join(f"{w:#x}" for w in words)
        lines += [f"u.set_pminfo.u.pdc.p -> [{text}]" if raw else
                  f"u.set_pminfo.u.pdc -> pdc[0..{len(words) - 1}] = [{text}] "
                  "(revision, count, capability words)"]
    return lines


def _span(count: int) -> str:
    return f"0..{count - 1}" if count else "empty"


def _fields(prefix: str, obj: Struct, handles: dict[str, str]) -> list[str]:
    """Decimal with units and names; a handle names the array it points to."""
    lines = []
    for name, *_ in obj._fields_:
        value = getattr(obj, name)
        if isinstance(value, ctypes.Array):  # cppc_data.pad
            lines.append(f"{prefix}.{name} = {list(value)}")
        elif _is_handle(value):
            target = handles.get(name, "an array")
            pointer = getattr(value, "p")
            lines.append(f"{prefix}.{name} -> {target if pointer else 'none (NULL)'}")
        elif isinstance(value, (ctypes.Structure, ctypes.Union)):
            lines += _fields(f"{prefix}.{name}", value, handles)
        else:
            lines.append(f"{prefix}.{name} = {_value(type(obj), name, value)}")
    return lines


def _is_handle(value: object) -> bool:
    return isinstance(value, ctypes.Structure) and type(value).__name__.startswith(
        "XEN_GUEST_HANDLE")


def _value(struct: type[Struct], name: str, value: object) -> str:
    if not isinstance(value, int):
        return repr(value)
    named = NAMED.get((struct, name))
    if named is not None:
        return named(value)
    if name in HEX_FIELDS:
        return f"{value:#x}"
    unit = UNITS.get(name)
    return f"{value} {unit}" if unit else str(value)


def _raw_fields(prefix: str, obj: Struct, handles: dict[str, str]) -> list[str]:
    """The ``--hex`` view: every field in hex, handles as addresses."""
    lines = []
    for name, *_ in obj._fields_:
        value = getattr(obj, name)
        if isinstance(value, (ctypes.Structure, ctypes.Union)):
            lines += _raw_fields(f"{prefix}.{name}", value, handles)
        elif isinstance(value, ctypes.Array):  # cppc_data.pad
            lines.append(f"{prefix}.{name} = {list(value)}")
        else:
            lines.append(f"{prefix}.{name} = {value:#x}" if isinstance(value, int)
                         else f"{prefix}.{name} = {value!r}")
    return lines


def hexdump(data: bytes, base: int) -> str:
    """16 bytes a line, with offsets from the op (the address in the header)."""
    rows = [f"  arena at {base:#x}, {len(data)} bytes:"]
    for off in range(0, len(data), 16):
        chunk = data[off:off + 16]
        rows.append(f"  {off:04x}  {chunk.hex(' ')}")
    return "\n".join(rows)
