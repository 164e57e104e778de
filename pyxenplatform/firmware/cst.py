"""``_CST`` -> :class:`~pyxenplatform.model.CxInfo`, as Linux and Xen take it.

Linux ``drivers/acpi/acpi_processor.c`` ``acpi_processor_evaluate_cst`` (v6.9+;
``processor_idle.c`` ``acpi_processor_get_power_info_cst`` before v5.6) reads
the package, ``processor_idle.c`` ``acpi_processor_power_verify`` decides which
states are valid, ``drivers/xen/xen-acpi-processor.c`` ``push_cxx_to_hypervisor``
re-encodes the registers for Xen, and Xen ``xen/arch/x86/acpi/cpu_idle.c``
``check_cx``/``set_cx`` drop what Xen cannot use.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from .. import abi
from ..errors import ValidationError
from ..model import CState, CxFlags, CxInfo, Register, SpaceId
from ..rules import (
    FFH_NATIVE_CSTATE_BEYOND_HALT,
    FFH_VENDOR_INTEL,
    MAX_DEEP_STATES,
    U32,
    check_cstate_data,
)
from .values import Notes, decode_gas, kind

# Linux include/acpi/processor.h: states[0..ACPI_PROCESSOR_MAX_POWER-1], slot 0 unused.
LINUX_MAX_POWER = 8


@dataclass(frozen=True)
class _LinuxCx:
    """A ``struct acpi_processor_cx`` as ``acpi_processor_evaluate_cst`` fills it."""

    index: int          # the _CST package element it came from
    type: int
    register: Register  # as firmware wrote it
    halt: bool          # FFH that is not "native C-state beyond halt": Linux uses HLT
    latency: int
    power: int


def _cst_package(value: object, note: Notes) -> tuple[object, ...] | None:
    """The C-state entries of a ``_CST`` package, or None if Linux refuses it whole."""
    if not isinstance(value, tuple) or len(value) < 2:
        note("_CST", f"{kind(value) if not isinstance(value, tuple) else 'a Package'} "
             "instead of a Package of a count and at least one C-state: Linux refuses it "
             "('Invalid _CST output', acpi_processor_evaluate_cst)")
        return None
    count = value[0]
    if not isinstance(count, int) or count < 1 or count != len(value) - 1:
        note("_CST", f"count {count!r} does not match its {len(value) - 1} entries: Linux "
             "refuses it ('Inconsistent _CST data', acpi_processor_evaluate_cst)")
        return None
    return value[1:]


def _cst_entry(index: int, element: object, note: Notes) -> _LinuxCx | None:
    """One ``_CST`` entry through Linux's per-entry checks, or None (skipped)."""
    where = f"_CST[{index}]"
    if not isinstance(element, tuple) or len(element) != 4:
        note(where, f"{kind(element)} instead of a Package of 4: Linux skips it")
        return None
    buf, ctype, latency, power = element
    if not isinstance(buf, bytes):
        note(where, f"register is {kind(buf)}, not a Buffer: Linux skips it")
        return None
    reg = decode_gas(buf)
    if reg is None:
        note(where, "register is not a Generic Register descriptor: skipped")
        return None
    if not isinstance(ctype, int):
        note(where, f"type is {kind(ctype)}, not an Integer: Linux skips it")
        return None
    return _entered(index, reg, ctype, latency, power, note)


def _entered(index: int, reg: Register, ctype: int, latency: object, power: object,
             note: Notes) -> _LinuxCx | None:
    """How Linux would enter the state (FFH, HLT, I/O port), or None (skipped)."""
    where = f"_CST[{index}]"
    halt = False
    if reg.space_id == SpaceId.FIXED_HARDWARE:
        # arch/x86/kernel/acpi/cstate.c acpi_processor_ffh_cstate_probe fails for
        # any FFH that is not "native C-state beyond halt"; C1 then falls back to HLT.
        if reg.bit_offset != FFH_NATIVE_CSTATE_BEYOND_HALT:
            if ctype != abi.ACPI_STATE_C1:
                note(where, f"FFH register with bit_offset {reg.bit_offset}, not 2 (native "
                     "C-state beyond halt): Linux skips it ('declares FIXED_HARDWARE "
                     "C-state but not supported in hardware')")
                return None
            halt = True
    elif reg.space_id != SpaceId.SYSTEM_IO:
        note(where, f"address space {reg.space_id:#x} is neither SystemIO nor FFH: Linux "
             "skips it")
        return None
    for name, value in (("latency", latency), ("power", power)):
        if not isinstance(value, int):
            note(where, f"{name} is {kind(value)}, not an Integer: Linux skips it")
            return None
    assert isinstance(latency, int) and isinstance(power, int)
    return _LinuxCx(index, ctype, reg, halt, latency, power)


def _linux_cstates(entries: Sequence[object], note: Notes) -> list[_LinuxCx]:
    """``acpi_processor_evaluate_cst``'s array: entries in order, at most 7 slots."""
    states: list[_LinuxCx] = []
    last_index = 0
    for index, element in enumerate(entries, start=1):
        if last_index >= LINUX_MAX_POWER - 1:
            note(f"_CST[{index}]" + (f"..[{len(entries)}]" if index < len(entries) else ""),
                 f"no room: Linux keeps at most {LINUX_MAX_POWER - 1} C-states")
            break
        state = _cst_entry(index, element, note)
        # A first entry that is not C1 leaves slot 1 free for C1 (Linux does
        # this once the type is read, even if the entry is skipped later).
        if index == 1 and _entry_type(element) not in (None, abi.ACPI_STATE_C1):
            last_index = 1
        if state is not None:
            states.append(state)
            last_index += 1
    return states


def _entry_type(element: object) -> int | None:
    if isinstance(element, tuple) and len(element) == 4 and isinstance(element[0], bytes) \
            and isinstance(element[1], int):
        return element[1]
    return None


def _xen_register(state: _LinuxCx) -> Register:
    """``push_cxx_to_hypervisor``: what Linux tells Xen about the entry method.

    ``struct acpi_processor_cx`` keeps a u32 address, so the hint/port is truncated.
    """
    address = state.register.address & U32
    if state.register.space_id == SpaceId.SYSTEM_IO:
        return Register(SpaceId.SYSTEM_IO, 8, 0, 1, address)
    return Register(SpaceId.FIXED_HARDWARE, FFH_VENDOR_INTEL, FFH_NATIVE_CSTATE_BEYOND_HALT,
                    0, address)


def _linux_valid(state: _LinuxCx, note: Notes) -> bool:
    """``acpi_processor_power_verify``: C1 always, C2/C3 with an address."""
    where = f"_CST[{state.index}]"
    if state.type not in (abi.ACPI_STATE_C1, abi.ACPI_STATE_C2, abi.ACPI_STATE_C3):
        note(where, f"type {state.type} is not C1, C2 or C3: Xen takes no other "
             "(cpu_idle.c), and Linux marks it invalid (acpi_processor_power_verify)")
        return False
    if state.type != abi.ACPI_STATE_C1 and state.register.address & U32 == 0:
        note(where, f"C{state.type} at address 0: Linux marks it invalid "
             "(acpi_processor_power_verify)")
        return False
    return True


def _latencies_in_order(states: list[_LinuxCx], note: Notes) -> list[_LinuxCx]:
    """Linux v5.11+ ``acpi_processor_power_verify``: if a state is no shallower
    than the one before it but has a lower latency, the latencies are sorted
    (the states keep their places) -- "FW issue: working around C-state
    latencies out of order" (``acpi_cst_latency_sort``)."""
    buggy = any(b.type >= a.type and b.latency < a.latency for a, b in zip(states, states[1:]))
    if not buggy:
        return states
    note("_CST", "latencies out of order: sorted, as Linux does ('FW issue: working around "
         "C-state latencies out of order')")
    latencies = sorted(s.latency for s in states)
    return [replace(s, latency=lat) for s, lat in zip(states, latencies)]


def _for_xen(state: _LinuxCx, note: Notes) -> CState | None:
    """What ``push_cxx_to_hypervisor`` sends, unless Xen's ``check_cx`` would drop it."""
    where = f"_CST[{state.index}]"
    if state.halt:
        note(where, "C1 through an FFH register that is not 'native C-state beyond halt': "
             "Linux enters it with HLT, and Xen drops that register (cpu_idle.c check_cx) "
             "and enters C1 with HLT by itself")
        return None
    cstate = CState(state.type, state.latency, state.power, _xen_register(state))
    try:
        check_cstate_data(where, cstate)
    except ValidationError as exc:
        note(where, f"Xen would drop it: {exc.rule}")
        return None
    return cstate


def convert_cst(value: object, note: Notes) -> CxInfo | None:
    """A ``_CST`` value -> the C-states Linux would upload and Xen would keep."""
    entries = _cst_package(value, note)
    if entries is None:
        return None
    valid = [s for s in _linux_cstates(entries, note) if _linux_valid(s, note)]
    kept: list[tuple[int, CState]] = []
    for state in _latencies_in_order(valid, note):
        cstate = _for_xen(state, note)
        if cstate is not None:
            kept.append((state.index, cstate))
    kept = _xen_slots(_one_c1(kept, note), note)
    if not kept:
        note("_CST", "no usable C-state: no Cx data for this processor")
        return None
    # has_cst: the states come from _CST.  bm_control stays False: Linux sets it
    # from the FADT's PM2_CNT (acpi_processor.c acpi_processor_get_info), which
    # is not read here; Xen recomputes bm_check from the CPU.
    return CxInfo(tuple(c for _, c in kept), CxFlags(has_cst=True))


def _one_c1(kept: list[tuple[int, CState]], note: Notes) -> list[tuple[int, CState]]:
    """Xen's ``set_cx`` has one C1 slot and keeps the last C1 it is sent."""
    c1 = [i for i, c in kept if c.type == abi.ACPI_STATE_C1]
    for index in c1[:-1]:
        note(f"_CST[{index}]", f"a second C1 follows (_CST[{c1[-1]}]): Xen has one C1 slot "
             "and keeps the last (cpu_idle.c set_cx)")
    return [(i, c) for i, c in kept if c.type != abi.ACPI_STATE_C1 or i == c1[-1]]


def _xen_slots(kept: list[tuple[int, CState]], note: Notes) -> list[tuple[int, CState]]:
    """Xen has room for :data:`MAX_DEEP_STATES` states deeper than C1 (``set_cx``)."""
    out: list[tuple[int, CState]] = []
    deep = 0
    for index, cstate in kept:
        if cstate.type != abi.ACPI_STATE_C1:
            deep += 1
            if deep > MAX_DEEP_STATES:
                note(f"_CST[{index}]", f"more than {MAX_DEEP_STATES} states deeper than C1: "
                     "Xen ignores it (cpu_idle.c set_cx)")
                continue
        out.append((index, cstate))
    return out

