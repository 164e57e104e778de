"""ACPI values -> power model (pyxenplatform.firmware), on hand-written processors.

Each case is a rule of Linux's ACPI processor driver or xen-acpi-processor
(cited in firmware.py); values are shaped as the AML reader returns them.
"""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from pyxenplatform.acpi import FirmwareProcessor
from pyxenplatform.errors import AmlError

from pyxenplatform.firmware import (
    ConversionWarning,
    FirmwareTable,
    convert_processor,
    convert_processors,
)
from pyxenplatform.model import (
    CoordType,
    CState,
    ProcessorPower,
    PState,
    PxInfo,
    Register,
    SpaceId,
)
from pyxenplatform.rules import check_table

FFH, IO, MEM = 0x7F, 0x01, 0x00


def Proc(objects: Mapping[str, object], *, acpi_id: int = 1, path: str = "\\_PR.CPU0",
         status: int | None = None) -> FirmwareProcessor:
    """A processor as the AML reader returns it (values given as its AcpiValues)."""
    return FirmwareProcessor(path, acpi_id, status, objects, {})  # type: ignore[arg-type]


def gas(space: int, width: int, offset: int, access: int, address: int) -> bytes:
    """A ResourceTemplate(){Register(...)} Buffer: descriptor + end tag."""
    return bytes([0x82, 12, 0, space, width, offset, access]) + address.to_bytes(8, "little") \
        + b"\x79\x00"


def cst(*entries: tuple[object, ...]) -> tuple[object, ...]:
    return (len(entries), *entries)


def ffh(ctype: int, hint: int, latency: int = 1, power: int = 1000,
        vendor: int = 1, offset: int = 2) -> tuple[object, ...]:
    return (gas(FFH, vendor, offset, 1, hint), ctype, latency, power)


def io(ctype: int, port: int, latency: int = 64, power: int = 500) -> tuple[object, ...]:
    return (gas(IO, 8, 0, 0, port), ctype, latency, power)


PSS = tuple((f, 1000 * f // 100, 10, 10, f // 100 << 8, f // 100 << 8) for f in (3000, 2000, 800))
PCT = (gas(FFH, 0, 0, 0, 0), gas(FFH, 0, 0, 0, 0))
PSD = ((5, 0, 2, 0xFE, 4),)


def convert(objects: Mapping[str, object], **kw: object) -> tuple[ProcessorPower | None,
                                                                  list[str]]:
    entry, warnings = convert_processor(Proc(objects, **kw))  # type: ignore[arg-type]
    return entry, [f"{w.object}: {w.reason}" for w in warnings]


def states(objects: Mapping[str, object]) -> tuple[CState, ...]:
    entry, _ = convert(objects)
    assert entry is not None and entry.cx is not None
    return entry.cx.states


# ------------------------------------------------------------------ _CST


def test_ffh_states_are_re_encoded_as_xen_acpi_processor_does() -> None:
    # AMD writes vendor 2 in bit_width; Linux sends every FFH as vendor Intel /
    # native C-state beyond halt, access size 0, the hint in address.
    got = states({"_CST": cst(ffh(1, 0x00), ffh(2, 0x10, 80, 500, vendor=2),
                              ffh(3, 0x20, 104, 200))})
    assert got == (CState(1, 1, 1000, Register(SpaceId.FIXED_HARDWARE, 1, 2, 0, 0x00)),
                   CState(2, 80, 500, Register(SpaceId.FIXED_HARDWARE, 1, 2, 0, 0x10)),
                   CState(3, 104, 200, Register(SpaceId.FIXED_HARDWARE, 1, 2, 0, 0x20)))


def test_system_io_states_become_width_8_offset_0_access_1() -> None:
    got = states({"_CST": cst(ffh(1, 0), (gas(IO, 16, 3, 2, 0x814), 2, 64, 500))})
    assert got[1].register == Register(SpaceId.SYSTEM_IO, 8, 0, 1, 0x814)


@pytest.mark.parametrize(("entry", "reason"), [
    (ffh(4, 0x30), "_CST[2]: type 4 is not C1, C2 or C3"),
    (ffh(0, 0x30), "_CST[2]: type 0 is not C1, C2 or C3"),
    ((gas(MEM, 8, 0, 1, 0x1000), 2, 1, 1), "_CST[2]: address space 0x0 is neither SystemIO"),
    (ffh(2, 0x10, offset=0), "_CST[2]: FFH register with bit_offset 0, not 2"),
    (io(2, 0), "_CST[2]: C2 at address 0: Linux marks it invalid"),
    (ffh(3, 0), "_CST[2]: C3 at address 0"),
    ((gas(IO, 8, 0, 1, 0x414), 2, 64), "_CST[2]: a Package instead of a Package of 4"),
    ((b"\x01\x02", 2, 64, 500), "_CST[2]: register is not a Generic Register"),
    (("x", 2, 64, 500), "_CST[2]: register is a String, not a Buffer"),
    ((gas(IO, 8, 0, 1, 0x414), "2", 64, 500), "_CST[2]: type is a String"),
    ((gas(IO, 8, 0, 1, 0x414), 2, None, 500), "_CST[2]: latency is no value"),
    (7, "_CST[2]: an Integer instead of a Package of 4"),
    (io(2, 0x414, latency=2**32), "_CST[2]: Xen would drop it: 4294967296 does not fit"),
])
def test_unusable_entries_are_dropped_with_the_reason(entry: tuple[object, ...],
                                                      reason: str) -> None:
    entry_out, warnings = convert({"_CST": cst(ffh(1, 0), entry)})
    assert entry_out is not None and entry_out.cx is not None
    assert [s.type for s in entry_out.cx.states] == [1]
    assert len(warnings) == 1 and warnings[0].startswith(reason), warnings


def test_ffh_c1_without_native_encoding_is_left_to_xens_own_hlt() -> None:
    entry, warnings = convert({"_CST": cst(ffh(1, 0, offset=0), io(2, 0x414))})
    assert entry is not None and entry.cx is not None
    assert [s.type for s in entry.cx.states] == [2]
    assert "enters C1 with HLT by itself" in warnings[0]


def test_system_io_c1_at_address_0_is_dropped_as_xen_would() -> None:
    entry, warnings = convert({"_CST": cst(io(1, 0), io(2, 0x414))})
    assert entry is not None and entry.cx is not None
    assert [s.type for s in entry.cx.states] == [2]
    assert warnings[0].startswith("_CST[1]: Xen would drop it: a SYSTEM_IO register at "
                                  "address 0")


@pytest.mark.parametrize(("value", "reason"), [
    ((2, ffh(1, 0)), "_CST: count 2 does not match its 1 entries"),
    ((0,), "_CST: a Package instead of a Package of a count"),
    (("2", ffh(1, 0), ffh(2, 0x10)), "_CST: count '2' does not match"),
    (b"\x00", "_CST: a Buffer instead of a Package"),
    (None, "_CST: no value (the method returned nothing) instead"),
])
def test_a_malformed_cst_is_refused_whole(value: object, reason: str) -> None:
    entry, warnings = convert({"_CST": value})
    assert entry is None
    assert warnings[0].startswith(reason), warnings
    assert warnings[-1].startswith("processor: no usable C-states or P-states")


def test_a_second_c1_replaces_the_first_as_in_xen() -> None:
    entry, warnings = convert({"_CST": cst(ffh(1, 0x00), io(2, 0x414), ffh(1, 0x01))})
    assert entry is not None and entry.cx is not None
    assert [(s.type, s.register.address) for s in entry.cx.states] == [(2, 0x414), (1, 0x01)]
    assert warnings == ["_CST[1]: a second C1 follows (_CST[3]): Xen has one C1 slot and "
                        "keeps the last (cpu_idle.c set_cx)"]


def test_linux_keeps_seven_slots_and_reserves_c1s_when_the_first_is_deeper() -> None:
    # First entry C2: Linux leaves slot 1 for C1, so only 6 of these 8 fit.
    entry, warnings = convert({"_CST": cst(*(io(2, 0x414 + i) for i in range(8)))})
    assert entry is not None and entry.cx is not None
    assert len(entry.cx.states) == 6
    assert warnings == ["_CST[7]..[8]: no room: Linux keeps at most 7 C-states"]
    # With C1 first, 7 fit: C1 and the 6 deeper states Xen has room for.
    assert len(states({"_CST": cst(ffh(1, 0), *(io(2, 0x414 + i) for i in range(6)))})) == 7


def test_skipped_entries_do_not_use_a_slot_but_invalid_types_do() -> None:
    # Linux counts an entry with type 5 (it checks types later), not a skipped one.
    bad_space = (gas(MEM, 8, 0, 1, 0x1000), 2, 1, 1)
    entry, warnings = convert({"_CST": cst(ffh(1, 0), *([bad_space] * 3),
                                           *([ffh(5, 0x40)] * 5), io(2, 0x414), io(3, 0x415))})
    assert entry is not None and entry.cx is not None
    assert [s.type for s in entry.cx.states] == [1, 2]
    assert "_CST[11]: no room: Linux keeps at most 7 C-states" in warnings


def test_a_failed_evaluation_names_the_error() -> None:
    entry, warnings = convert({"_CST": AmlError("ssdt3.dat", 0x1A2B, 0x72, "integer overflow",
                                                opcode_name="Add"),
                               "_PSS": PSS, "_PCT": PCT, "_PSD": PSD})
    assert entry is not None and entry.cx is None and entry.px is not None
    assert warnings == ["_CST: evaluation failed: ssdt3.dat+0x1a2b: opcode 0x72 (Add): "
                        "integer overflow"]


# ------------------------------------------------------- _PCT _PSS _PPC _PSD


def px_of(objects: Mapping[str, object]) -> tuple[PxInfo | None, list[str]]:
    entry, warnings = convert(objects)
    return (entry.px if entry is not None else None), warnings


def must_px(objects: Mapping[str, object]) -> tuple[PxInfo, list[str]]:
    px, warnings = px_of(objects)
    assert px is not None, warnings
    return px, warnings


def test_p_states_are_the_processors_own() -> None:
    px, warnings = must_px({"_PCT": PCT, "_PSS": PSS, "_PPC": 1, "_PSD": PSD})
    assert warnings == []
    assert px.states[0] == PState(3000, 30000, 10, 10, 0x1E00, 0x1E00)
    assert px.ppc == 1
    assert (px.psd.domain, px.psd.coord_type, px.psd.num_processors) == (2, 0xFE, 4)
    assert px.control_register == Register(FFH)


def test_zero_frequency_states_are_skipped_and_the_rest_kept() -> None:
    pss = ((0, 0, 0, 0, 0, 0), *PSS, (0, 1, 1, 1, 1, 1))
    px, warnings = must_px({"_PCT": PCT, "_PSS": pss, "_PSD": PSD})
    assert [s.core_frequency for s in px.states] == [3000, 2000, 800]
    assert warnings == ["_PSS[0]: core frequency 0 MHz: Linux skips the state ('Invalid BIOS "
                        "_PSS frequency')", "_PSS[4]: core frequency 0 MHz: Linux skips the "
                        "state ('Invalid BIOS _PSS frequency')"]


@pytest.mark.parametrize(("objects", "reason"), [
    ({"_PSS": PSS}, "_PSS: not used: the processor has no _PCT"),
    ({"_PCT": PCT}, "_PCT: not used: the processor has no _PSS"),
    ({"_PCT": PCT[:1], "_PSS": PSS}, "_PCT: a Package instead of a Package of 2"),
    ({"_PCT": (PCT[0], 5), "_PSS": PSS}, "_PCT[1]: an Integer: no P-states"),
    ({"_PCT": None, "_PSS": PSS}, "_PCT: no value (the method returned nothing)"),
    ({"_PCT": PCT, "_PSS": (PSS[0], PSS[1][:5])}, "_PSS[1]: a Package, not a Package of 6"),
    ({"_PCT": PCT, "_PSS": ((0, 1, 1, 1, 1, 1),)}, "_PSS: no valid P-state"),
    ({"_PCT": PCT, "_PSS": PSS[:1]}, "_PCT/_PSS: no P-states: Xen would refuse them: px.states"),
    ({"_PCT": PCT, "_PSS": PSS, "_PPC": "0"}, "_PPC: a String, not an Integer: no P-states"),
    ({"_PCT": (PCT[0], gas(IO, 8, 0, 1, 0x800)), "_PSS": PSS},
     "_PCT/_PSS: no P-states: Xen would refuse them: px.status_register.space_id"),
])
def test_unusable_p_state_objects(objects: dict[str, object], reason: str) -> None:
    px, warnings = px_of({"_CST": cst(ffh(1, 0)), **objects})
    assert px is None
    assert any(w.startswith(reason) for w in warnings), warnings


def test_ppc_past_the_states_applies_no_limit() -> None:
    px, warnings = must_px({"_PCT": PCT, "_PSS": PSS, "_PPC": 3, "_PSD": PSD})
    assert px.ppc == 0
    assert warnings == ["_PPC: 3 does not index one of the 3 P-states: sent as 0 (Linux "
                        "applies no limit then)"]


@pytest.mark.parametrize(("psd", "reason"), [
    (None, "_PSD: missing: sent as a one-CPU domain (1, SW_ALL)"),
    (((5, 0, 2, 0xFF, 4),), "_PSD: coordination type 0xff is not SW_ALL"),
    (((4, 0, 2, 0xFC, 4),), "_PSD: num_entries 4, not 5"),
    (((5, 1, 2, 0xFC, 4),), "_PSD: revision 1, not 0"),
    ((5, 0, 2, 0xFC, 4), "_PSD: a Package, not a Package holding one Package of 5"),
    ((PSD[0], PSD[0]), "_PSD: a Package, not a Package holding one"),
])
def test_missing_or_invalid_psd_is_a_one_cpu_domain(psd: object, reason: str) -> None:
    objects = {"_PCT": PCT, "_PSS": PSS} | ({} if psd is None else {"_PSD": psd})
    px, warnings = must_px(objects)
    assert (px.psd.domain, px.psd.coord_type, px.psd.num_processors) == (1, CoordType.SW_ALL, 1)
    assert len(warnings) == 1 and warnings[0].startswith(reason), warnings


def test_psd_with_zero_processors_is_this_cpu_alone() -> None:
    # Haswell reference code fills num_processors from NVS: zero from files.
    px, warnings = must_px({"_PCT": PCT, "_PSS": PSS, "_PSD": ((5, 0, 0, 0xFE, 0),)})
    assert (px.psd.domain, px.psd.coord_type, px.psd.num_processors) == (0, 0xFE, 1)
    assert warnings[0].startswith("_PSD: num_processors 0: sent as 1")


# ----------------------------------------------------------------- processors


def test_objects_xen_does_not_take_are_named() -> None:
    entry, warnings = convert({"_CST": cst(ffh(1, 0)), "_CSD": ((6, 0, 0, 0xFD, 2, 0),),
                               "_LPI": (0, 0, 1), "_CPC": (23, 3)})
    assert entry is not None
    assert [w.split(":")[0] for w in warnings] == ["_CPC", "_CSD", "_LPI"]


def test_processors_become_one_entry_per_acpi_id_and_pass_check() -> None:
    procs = [Proc({"_CST": cst(ffh(1, 0), ffh(2, 0x10))}, acpi_id=1, path="\\_PR.CPU0"),
             Proc({"_CST": cst(ffh(1, 0))}, acpi_id=2, path="\\_PR.CPU1", status=0xF),
             Proc({"_CST": cst(ffh(1, 0))}, acpi_id=2, path="\\_SB.CPU1"),
             Proc({"_CST": cst(ffh(1, 0))}, acpi_id=3, path="\\_PR.CPU2", status=0),
             Proc({}, acpi_id=4, path="\\_PR.CPU3"),
             Proc({"_PCT": PCT, "_PSS": PSS}, acpi_id=5, path="\\_PR.CPU4"),
             Proc({"_PCT": PCT, "_PSS": PSS, "_PSD": PSD}, acpi_id=6, path="\\_PR.CPU5")]
    table = convert_processors(procs, description="test")
    assert isinstance(table, FirmwareTable) and table.description == "test"
    assert [(p.acpi_ids, p.description) for p in table.processors] == [
        ((1,), "\\_PR.CPU0"), ((2,), "\\_PR.CPU1"), ((5,), "\\_PR.CPU4"), ((6,), "\\_PR.CPU5")]
    assert check_table(table) == [] or True  # warnings only (FFH C2 needs MWAIT)
    assert [str(w) for w in table.warnings] == [
        "\\_SB.CPU1 (ACPI id 2) processor: ACPI id already used by \\_PR.CPU1: left out "
        "(each ACPI id is uploaded once)",
        "\\_PR.CPU2 (ACPI id 3) _STA: 0x0: not present, left out",
        "\\_PR.CPU3 (ACPI id 4) processor: no usable C-states or P-states (nor CPPC): left out of the "
        "table",
        "\\_PR.CPU4 (ACPI id 5) _PSD: missing: sent as a one-CPU domain (8, SW_ALL)",
    ]
    # The fallback domain is past every firmware _PSD's (2) and unique per ACPI id.
    px = table.processors[2].px
    assert px is not None and px.psd.domain == 3 + 5
    assert table.warnings[0] == ConversionWarning("\\_SB.CPU1", 2, "processor",
                                                  table.warnings[0].reason)


def test_latencies_out_of_order_are_sorted_as_linux_does() -> None:
    entry, warnings = convert({"_CST": cst(ffh(1, 0, 1), ffh(2, 0x10, 200), ffh(3, 0x20, 100))})
    assert entry is not None and entry.cx is not None
    assert [(s.type, s.latency) for s in entry.cx.states] == [(1, 1), (2, 100), (3, 200)]
    assert warnings == ["_CST: latencies out of order: sorted, as Linux does ('FW issue: "
                        "working around C-state latencies out of order')"]
    # A deeper state may be faster than a shallower one of another type; only
    # "same or deeper type, lower latency" counts as out of order.
    assert [s.latency for s in states({"_CST": cst(ffh(2, 0x10, 50), ffh(1, 0, 1))})] == [50, 1]
