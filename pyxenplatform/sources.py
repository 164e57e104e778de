"""Power tables from mappings, JSON and TOML: one schema for all of them.

::

    processors = [                      # one entry per group of processors
      { acpi_id = "all" | 3 | [0, 2] | "0x10",
        cx  = { flags = {bm_check, bm_control, has_cst},
                states = [ {type, latency, power, register, dependencies?} ] },
        px  = { control_register, status_register,
                states = [ {core_frequency, power, transition_latency,
                            bus_master_latency, control, status} ],
                ppc = 0, psd = {domain, coord_type, num_processors} },
        cppc = { highest_perf, nominal_perf, lowest_nonlinear_perf, lowest_perf,
                 lowest_mhz = 0, nominal_mhz = 0,
                 psd = {domain, coord_type = "HW_ALL", num_processors} },
        pdc = 0x3b | [0x3b, ...] }
    ]
    register = {space_id = "SYSTEM_IO" | "FIXED_HARDWARE" | <number>,
                bit_width, bit_offset, access_size, address}

Integers may be written as hex strings (``"0x414"``).  Unknown keys are
errors naming the path to the key (``processors[0].cx.states[2].latncy``).
Loaders only read: they never touch the hypervisor.  Full reference: README.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .errors import ValidationError
from .readers import check_depth, parse_json, parse_toml, read_table_bytes, show_key, show_value
from .model import (
    AcpiIds,
    CoordType,
    CppcInfo,
    CState,
    CStateDependency,
    CxFlags,
    CxInfo,
    Pdc,
    PowerTable,
    ProcessorPower,
    PsdDomain,
    PState,
    PxInfo,
    Register,
    SpaceId,
)

SPACE_ALIASES = {"FFH": SpaceId.FIXED_HARDWARE, "IO": SpaceId.SYSTEM_IO}
PSTATE_KEYS = ("core_frequency", "power", "transition_latency", "bus_master_latency",
               "control", "status")


def _fields(value: object, path: str, required: Sequence[str],
            optional: Sequence[str] = ()) -> Mapping[str, Any]:
    """``value`` as a mapping with exactly these keys (all ``required``, some ``optional``)."""
    if not isinstance(value, Mapping):
        raise ValidationError(path, f"must be a table/object, not {_kind(value)}")
    for key in value:
        if key not in required and key not in optional:
            allowed = ", ".join([*required, *optional])
            raise ValidationError(_join(path, show_key(key)), f"unknown key (expected: {allowed})")
    for key in required:
        if key not in value:
            raise ValidationError(_join(path, key), "missing (required)")
    return value


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _kind(value: object) -> str:
    return {dict: "a table", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), type(value).__name__)


# What a number written as a string may look like: ASCII digits only (int()
# would take "٣" or full-width digits), no spaces, at most 64 bits of hex.
_NUMBER = re.compile(r"[+-]?(?:0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+|[0-9_]+)")
MAX_NUMBER_CHARS = 100
MAX_BITS = 64  # no field of Xen's interface is wider


def _int(value: object, path: str) -> int:
    if isinstance(value, bool):
        raise ValidationError(path, "must be an integer, not a boolean")
    number: int | None = value if isinstance(value, int) else None
    if isinstance(value, str) and len(value) > MAX_NUMBER_CHARS:
        raise ValidationError(path, f"a string of {len(value)} characters where a number "
                              f"belongs: no field takes more than {MAX_BITS} bits")
    if isinstance(value, str) and _NUMBER.fullmatch(value):
        try:
            number = int(value.replace("_", ""), 0)
        except ValueError:
            pass
    if number is None:
        raise ValidationError(path, f"must be an integer (or a hex string like \"0x1f\"), "
                              f"not {show_value(value)}")
    if number.bit_length() > MAX_BITS:
        raise ValidationError(path, f"an integer of {number.bit_length()} bits: no field "
                              f"takes more than {MAX_BITS}")
    return number


def integer(value: object, path: str) -> int:
    """A number as a table writes it (int, or an ASCII decimal/hex string), at most 64 bits."""
    return _int(value, path)


def _str(value: object, path: str) -> str:
    if not isinstance(value, str):
        raise ValidationError(path, f"must be a string, not {_kind(value)}")
    return value


def _bool(value: object, path: str) -> bool:
    if not isinstance(value, bool):
        raise ValidationError(path, f"must be true or false, not {show_value(value)}")
    return value


def _list(value: object, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise ValidationError(path, f"must be a list, not {_kind(value)}")
    return value


def _named(value: object, path: str, names: Mapping[str, int], what: str) -> int:
    if isinstance(value, str) and not value.lower().startswith("0x"):
        key = value.upper().replace("-", "_")
        if key not in names:
            raise ValidationError(path, f"unknown {what} {show_value(value)} (names: "
                                  f"{', '.join(sorted(names))}, or a number)")
        return names[key]
    return _int(value, path)


def register(value: object, path: str) -> Register:
    m = _fields(value, path, ("space_id",), ("bit_width", "bit_offset", "access_size", "address"))
    spaces = {s.name: int(s) for s in SpaceId} | {k: int(v) for k, v in SPACE_ALIASES.items()}
    return Register(
        space_id=_named(m["space_id"], f"{path}.space_id", spaces, "address space"),
        bit_width=_int(m.get("bit_width", 0), f"{path}.bit_width"),
        bit_offset=_int(m.get("bit_offset", 0), f"{path}.bit_offset"),
        access_size=_int(m.get("access_size", 0), f"{path}.access_size"),
        address=_int(m.get("address", 0), f"{path}.address"),
    )


def _coord(value: object, path: str) -> int:
    return _named(value, path, {c.name: int(c) for c in CoordType}, "coordination type")


def cstate(value: object, path: str) -> CState:
    m = _fields(value, path, ("type", "latency", "power", "register"), ("dependencies",))
    deps = []
    for i, dep in enumerate(_list(m.get("dependencies", []), f"{path}.dependencies")):
        dpath = f"{path}.dependencies[{i}]"
        d = _fields(dep, dpath, ("domain", "coord_type", "num_processors"))
        deps.append(CStateDependency(_int(d["domain"], f"{dpath}.domain"),
                                     _coord(d["coord_type"], f"{dpath}.coord_type"),
                                     _int(d["num_processors"], f"{dpath}.num_processors")))
    return CState(
        type=_int(m["type"], f"{path}.type"),
        latency=_int(m["latency"], f"{path}.latency"),
        power=_int(m["power"], f"{path}.power"),
        register=register(m["register"], f"{path}.register"),
        dependencies=tuple(deps),
    )


def cx_info(value: object, path: str) -> CxInfo:
    m = _fields(value, path, ("states",), ("flags",))
    f = _fields(m.get("flags", {}), f"{path}.flags", (), ("bm_check", "bm_control", "has_cst"))
    defaults = CxFlags()
    flags = CxFlags(
        bm_check=_bool(f.get("bm_check", defaults.bm_check), f"{path}.flags.bm_check"),
        bm_control=_bool(f.get("bm_control", defaults.bm_control), f"{path}.flags.bm_control"),
        has_cst=_bool(f.get("has_cst", defaults.has_cst), f"{path}.flags.has_cst"),
    )
    states = _list(m["states"], f"{path}.states")
    return CxInfo(tuple(cstate(s, f"{path}.states[{i}]") for i, s in enumerate(states)), flags)


def px_info(value: object, path: str) -> PxInfo:
    m = _fields(value, path, ("control_register", "status_register", "states", "psd"), ("ppc",))
    states = []
    for i, st in enumerate(_list(m["states"], f"{path}.states")):
        spath = f"{path}.states[{i}]"
        s = _fields(st, spath, PSTATE_KEYS)
        states.append(PState(*(_int(s[k], f"{spath}.{k}") for k in PSTATE_KEYS)))
    return PxInfo(
        control_register=register(m["control_register"], f"{path}.control_register"),
        status_register=register(m["status_register"], f"{path}.status_register"),
        states=tuple(states),
        psd=psd_domain(m["psd"], f"{path}.psd"),
        ppc=_int(m.get("ppc", 0), f"{path}.ppc"),
    )


def psd_domain(value: object, path: str) -> PsdDomain:
    p = _fields(value, path, ("domain", "coord_type", "num_processors"),
                ("num_entries", "revision"))
    return PsdDomain(
        domain=_int(p["domain"], f"{path}.domain"),
        coord_type=_coord(p["coord_type"], f"{path}.coord_type"),
        num_processors=_int(p["num_processors"], f"{path}.num_processors"),
        num_entries=_int(p.get("num_entries", 5), f"{path}.num_entries"),
        revision=_int(p.get("revision", 0), f"{path}.revision"),
    )


CPPC_PERF_KEYS = ("highest_perf", "nominal_perf", "lowest_nonlinear_perf", "lowest_perf")
CPPC_MHZ_KEYS = ("lowest_mhz", "nominal_mhz")


def cppc_info(value: object, path: str) -> CppcInfo:
    """``cppc``: Xen's ``xen_processor_cppc.cpc`` member names, plus ``psd``."""
    m = _fields(value, path, (*CPPC_PERF_KEYS, "psd"), CPPC_MHZ_KEYS)
    perf = {k: _int(m[k], f"{path}.{k}") for k in CPPC_PERF_KEYS}
    mhz = {k: _int(m.get(k, 0), f"{path}.{k}") for k in CPPC_MHZ_KEYS}
    return CppcInfo(**perf, **mhz, psd=psd_domain(m["psd"], f"{path}.psd"))


def pdc(value: object, path: str) -> Pdc:
    words = value if isinstance(value, list) else [value]
    return Pdc(tuple(_int(w, f"{path}[{i}]" if isinstance(value, list) else path)
                     for i, w in enumerate(words)))


def acpi_ids(value: object, path: str) -> AcpiIds:
    if value == "all":
        return "all"
    if isinstance(value, list):
        return tuple(_int(v, f"{path}[{i}]") for i, v in enumerate(value))
    return (_int(value, path),)


def processor(value: object, path: str) -> ProcessorPower:
    m = _fields(value, path, ("acpi_id",), ("cx", "px", "cppc", "pdc", "description"))
    return ProcessorPower(
        acpi_ids=acpi_ids(m["acpi_id"], f"{path}.acpi_id"),
        cx=cx_info(m["cx"], f"{path}.cx") if "cx" in m else None,
        px=px_info(m["px"], f"{path}.px") if "px" in m else None,
        pdc=pdc(m["pdc"], f"{path}.pdc") if "pdc" in m else None,
        cppc=cppc_info(m["cppc"], f"{path}.cppc") if "cppc" in m else None,
        description=_str(m.get("description", ""), f"{path}.description"),
    )


def table_from_mapping(data: object, *, source: str | None = None) -> PowerTable:
    """A :class:`PowerTable` from parsed JSON/TOML (or a Python literal)."""
    try:
        m = _fields(data, "", ("processors",), ("description",))
        procs = _list(m["processors"], "processors")
        return PowerTable(tuple(processor(p, f"processors[{i}]") for i, p in enumerate(procs)),
                          _str(m.get("description", ""), "description"))
    except ValidationError as exc:
        raise exc.in_source(source) if source else exc from None


def load_table(path: str | Path) -> PowerTable:
    """Load a ``.json`` or ``.toml`` table; errors name the file and the key path.

    Only a regular file of at most :data:`~pyxenplatform.readers.MAX_TABLE_BYTES`
    is read; see :mod:`pyxenplatform.readers` for the other bounds.
    """
    path = Path(path)
    source = str(path)
    parsers = {".toml": parse_toml, ".json": parse_json}
    parse = parsers.get(path.suffix)
    if parse is None:
        raise ValidationError("", "unknown format: name the file .json or .toml", source=source)
    data = parse(read_table_bytes(path), source)
    check_depth(data, source)
    return table_from_mapping(data, source=source)
