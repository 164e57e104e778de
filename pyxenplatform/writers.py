"""Power tables out: the JSON and TOML that :mod:`pyxenplatform.sources` reads back.

``load_table`` of what :func:`dumps_toml` or :func:`dumps_json` writes gives
the same :class:`~pyxenplatform.model.PowerTable` (tested on every corpus
machine).  Addresses, ``_PSS`` control/status values are written in hex;
address spaces and coordination types by name.  The standard library reads
TOML (``tomllib``) but does not write it: :func:`dumps_toml` writes this
package's one schema, nothing more.
"""

from __future__ import annotations

import json
from typing import Any

from .model import (
    CoordType,
    CppcInfo,
    CState,
    CxInfo,
    PowerTable,
    ProcessorPower,
    PsdDomain,
    PState,
    PxInfo,
    Register,
    SpaceId,
)


class Hex(int):
    """An integer written in hex (a TOML ``0x..`` literal, a JSON ``"0x.."`` string)."""


def _named(value: int, names: type[SpaceId] | type[CoordType]) -> int | str:
    return names(value).name if value in names._value2member_map_ else value


def register_mapping(reg: Register) -> dict[str, object]:
    return {"space_id": _named(reg.space_id, SpaceId), "bit_width": reg.bit_width,
            "bit_offset": reg.bit_offset, "access_size": reg.access_size,
            "address": Hex(reg.address)}


def _cstate(state: CState) -> dict[str, object]:
    out: dict[str, object] = {"type": state.type, "latency": state.latency,
                              "power": state.power, "register": register_mapping(state.register)}
    if state.dependencies:
        out["dependencies"] = [{"domain": d.domain, "coord_type": _named(d.coord_type, CoordType),
                                "num_processors": d.num_processors} for d in state.dependencies]
    return out


def _cx(cx: CxInfo) -> dict[str, object]:
    flags = {"bm_check": cx.flags.bm_check, "bm_control": cx.flags.bm_control,
             "has_cst": cx.flags.has_cst}
    return {"flags": flags, "states": [_cstate(s) for s in cx.states]}


def _pstate(st: PState) -> dict[str, object]:
    return {"core_frequency": st.core_frequency, "power": st.power,
            "transition_latency": st.transition_latency,
            "bus_master_latency": st.bus_master_latency,
            "control": Hex(st.control), "status": Hex(st.status)}


def _psd(psd: PsdDomain) -> dict[str, object]:
    return {"domain": psd.domain, "coord_type": _named(psd.coord_type, CoordType),
            "num_processors": psd.num_processors, "num_entries": psd.num_entries,
            "revision": psd.revision}


def _px(px: PxInfo) -> dict[str, object]:
    return {"ppc": px.ppc, "psd": _psd(px.psd),
            "control_register": register_mapping(px.control_register),
            "status_register": register_mapping(px.status_register),
            "states": [_pstate(s) for s in px.states]}


def _cppc(cppc: CppcInfo) -> dict[str, object]:
    return {"highest_perf": cppc.highest_perf, "nominal_perf": cppc.nominal_perf,
            "lowest_nonlinear_perf": cppc.lowest_nonlinear_perf,
            "lowest_perf": cppc.lowest_perf, "lowest_mhz": cppc.lowest_mhz,
            "nominal_mhz": cppc.nominal_mhz, "psd": _psd(cppc.psd)}


def processor_mapping(proc: ProcessorPower) -> dict[str, object]:
    ids = proc.acpi_ids
    out: dict[str, object] = {"acpi_id": ids if ids == "all" else ids[0] if len(ids) == 1
                              else list(ids)}
    if proc.description:
        out["description"] = proc.description
    if proc.pdc is not None:
        out["pdc"] = [Hex(w) for w in proc.pdc.capabilities]
    if proc.cx is not None:
        out["cx"] = _cx(proc.cx)
    if proc.px is not None:
        out["px"] = _px(proc.px)
    if proc.cppc is not None:
        out["cppc"] = _cppc(proc.cppc)
    return out


def table_mapping(table: PowerTable) -> dict[str, object]:
    """The table as the schema's mapping (what ``table_from_mapping`` takes)."""
    out: dict[str, object] = {}
    if table.description:
        out["description"] = table.description
    out["processors"] = [processor_mapping(p) for p in table.processors]
    return out


def _json_ready(value: object) -> object:
    if isinstance(value, Hex):
        return f"{value:#x}"
    if isinstance(value, dict):
        return {k: _json_ready(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_ready(v) for v in value]
    return value


def json_mapping(table: PowerTable) -> dict[str, object]:
    """The table as JSON values (hex numbers as ``"0x.."`` strings)."""
    out = _json_ready(table_mapping(table))
    assert isinstance(out, dict)
    return out


def dumps_json(table: PowerTable) -> str:
    return json.dumps(json_mapping(table), indent=2) + "\n"


# ------------------------------------------------------------------- TOML


def _toml_str(text: str) -> str:
    # JSON's escapes are TOML basic-string escapes; TOML also forbids a raw DEL.
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Hex):
        return f"{value:#x}"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return _toml_str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"no TOML form for {type(value).__name__}")


def _toml_section(header: str, mapping: dict[str, Any]) -> list[str]:
    """``header`` with its keys; a list of tables is a multi-line array of inline
    tables, one state a line; ``cx``/``px`` get their own ``[section]`` after the
    keys (TOML puts sub-tables after a table's own keys)."""
    lines = [header]
    sections = {k: v for k, v in mapping.items()
                if k in ("cx", "px", "cppc") and isinstance(v, dict)}
    for key, value in mapping.items():
        if key in sections:
            continue
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            lines += [f"{key} = ["] + [f"  {_toml_value(v)}," for v in value] + ["]"]
        else:
            lines.append(f"{key} = {_toml_value(value)}")
    for key, value in sections.items():
        lines += ["", *_toml_section(f"[processors.{key}]", value)]
    return lines


def dumps_toml(table: PowerTable) -> str:
    mapping = table_mapping(table)
    lines: list[str] = []
    if "description" in mapping:
        lines.append(f"description = {_toml_value(mapping['description'])}")
    processors = mapping["processors"]
    assert isinstance(processors, list)
    if not processors:
        lines.append("processors = []")
    for proc in processors:
        lines += ["", *_toml_section("[[processors]]", proc)]
    return "\n".join(lines).lstrip("\n") + "\n"
