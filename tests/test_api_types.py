"""The library API checks types and sizes as the file loaders do (issue 13).

A value of the wrong type used to pass the rules (they compare with ``==``:
``1.0 == 1``) and then fail in marshalling, or worse pack silently wrong
(``has_cst=2`` is one bit: 0).  Each bad value must be refused with a
ValidationError naming the field path and the rule, before anything is sent;
each good one must still be accepted.  Sizes beyond Xen's limits are refused
with the limit's source named.
"""

from __future__ import annotations

import time
from collections.abc import Callable
import dataclasses
from typing import Any

import pytest

import pyxenplatform as typed
from pyxenplatform import CoordType, Hypervisor, SpaceId, ValidationError
from pyxenplatform.rules import MAX_ACPI_IDS, MAX_PSTATES, check_table
from pyxenplatform.sim import SimulatedXen

# Untyped on purpose: these tests pass what an untyped caller (or a script
# building objects from its own data) can pass.
CState: Any = typed.CState
CStateDependency: Any = typed.CStateDependency
CxFlags: Any = typed.CxFlags
CxInfo: Any = typed.CxInfo
Pdc: Any = typed.Pdc
PowerTable: Any = typed.PowerTable
ProcessorPower: Any = typed.ProcessorPower
PsdDomain: Any = typed.PsdDomain
PState: Any = typed.PState
PxInfo: Any = typed.PxInfo
Register: Any = typed.Register
replace: Any = dataclasses.replace

C1 = CState(1, 1, 1000, Register.ffh(0x00))
C2 = CState(2, 64, 500, Register.system_io(0x414))
CX = CxInfo((C1, C2))
P0 = PState(2400, 35000, 10, 10, 0x1800, 0x1800)
P1 = PState(1600, 20000, 10, 10, 0x1000, 0x1000)
PX = PxInfo(Register(0x7F), Register(0x7F), (P0, P1), PsdDomain(0, CoordType.SW_ALL, 1))
PDC = Pdc((0xBBF,))



def refused(upload: Callable[[Hypervisor], object], path: str, rule: str) -> None:
    hv = Hypervisor.simulated()
    sim = hv.transport
    assert isinstance(sim, SimulatedXen)
    with pytest.raises(ValidationError) as info:
        upload(hv)
    assert (info.value.path, rule in info.value.rule) == (path, True), info.value
    assert not sim.calls, "something was sent after a ValidationError"


@pytest.mark.parametrize(("cx", "path", "rule"), [
    (CxInfo((replace(C1, type=1.0),)), "cx.states[0].type", "must be an integer, not float"),
    (CxInfo((replace(C1, type=True),)), "cx.states[0].type", "must be an integer, not bool"),
    (CxInfo((replace(C1, latency="1"),)), "cx.states[0].latency", "not str"),
    (CxInfo((replace(C1, power=1e3),)), "cx.states[0].power", "not float"),
    (CxInfo((replace(C2, register=Register(1.0, 8, 0, 1, 0x414)),)),
     "cx.states[0].register.space_id", "not float"),
    (CxInfo((replace(C2, register=Register(1, 8, 0, 1, 1060.0)),)),
     "cx.states[0].register.address", "not float"),
    (CxInfo((C1,), CxFlags(has_cst=2)), "cx.flags.has_cst", "must be true or false"),
    (CxInfo((C1,), CxFlags(bm_check=1)), "cx.flags.bm_check", "must be true or false"),
    (CxInfo((C1,), CxFlags(bm_control=None)), "cx.flags.bm_control", "true or false"),
    (CxInfo((C1,), {"has_cst": True}), "cx.flags", "must be a CxFlags, not dict"),
    (CxInfo([C1, C2]), "cx.states", "must be a tuple, not list"),
    (CxInfo(({"type": 1},)), "cx.states[0]", "must be a CState, not dict"),
    (CxInfo((replace(C1, register=(0x7F, 1, 2, 1, 0)),)), "cx.states[0].register",
     "must be a Register, not tuple"),
    (CxInfo((replace(C2, dependencies=[CStateDependency(0, 0xFD, 2)]),)),
     "cx.states[0].dependencies", "must be a tuple, not list"),
    (CxInfo((replace(C2, dependencies=(CStateDependency(0, 0xFD, 2.0),)),)),
     "cx.states[0].dependencies[0].num_processors", "not float"),
    ((C1, C2), "cx", "must be a CxInfo, not tuple"),
])
def test_upload_cx_refuses_bad_types(cx: Any, path: str, rule: str) -> None:
    refused(lambda hv: hv.upload_cx(0, cx), path, rule)


@pytest.mark.parametrize(("px", "path", "rule"), [
    (replace(PX, psd=PsdDomain(0, CoordType.SW_ALL, 1, num_entries=5.0)),
     "px.psd.num_entries", "not float"),
    (replace(PX, psd=PsdDomain(0, CoordType.SW_ALL, 1, revision=0.0)),
     "px.psd.revision", "not float"),
    (replace(PX, psd=PsdDomain(0, 252.0, 1)), "px.psd.coord_type", "not float"),
    (replace(PX, psd=PsdDomain(0, CoordType.SW_ALL, True)), "px.psd.num_processors",
     "not bool"),
    (replace(PX, psd=(0, 0xFC, 1)), "px.psd", "must be a PsdDomain, not tuple"),
    (replace(PX, ppc=0.0), "px.ppc", "not float"),
    (replace(PX, ppc=False), "px.ppc", "not bool"),
    (replace(PX, states=[P0, P1]), "px.states", "must be a tuple, not list"),
    (replace(PX, states=(P0, replace(P1, core_frequency=1600.0))),
     "px.states[1].core_frequency", "not float"),
    (replace(PX, states=(P0, (1600, 20000, 10, 10, 0x1000, 0x1000))), "px.states[1]",
     "must be a PState, not tuple"),
    (replace(PX, control_register=Register(0x7F, bit_width=1.0)),
     "px.control_register.bit_width", "not float"),
])
def test_upload_px_refuses_bad_types(px: Any, path: str, rule: str) -> None:
    refused(lambda hv: hv.upload_px(0, px), path, rule)


@pytest.mark.parametrize(("pdc", "path", "rule"), [
    (Pdc((0xBBF,), revision=1.0), "pdc.revision", "not float"),
    (Pdc((0xBBF,), revision=True), "pdc.revision", "not bool"),
    (Pdc([0xBBF]), "pdc.capabilities", "must be a tuple, not list"),
    (Pdc((3007.0,)), "pdc.capabilities[0]", "not float"),
    (Pdc((0xBBF, 0)), "pdc.capabilities", "reads only the first capability word"),
    (Pdc(0xBBF), "pdc.capabilities", "must be a tuple, not int"),
])
def test_upload_pdc_refuses_bad_types_and_sizes(pdc: Any, path: str, rule: str) -> None:
    refused(lambda hv: hv.upload_pdc(0, pdc), path, rule)


@pytest.mark.parametrize(("acpi_id", "rule"), [
    (0.0, "not float"), (True, "not bool"), ("0", "not str"), (2**32, "does not fit"),
])
def test_acpi_id_must_be_a_u32(acpi_id: Any, rule: str) -> None:
    refused(lambda hv: hv.upload_cx(acpi_id, CX), "acpi_id", rule)


def test_table_entries_are_checked_as_types() -> None:
    refused(lambda hv: hv.upload_table(PowerTable([ProcessorPower("all", cx=CX)])),
            "processors", "must be a tuple, not list")
    refused(lambda hv: hv.upload_table(PowerTable((ProcessorPower([0], cx=CX),))),
            "processors[0].acpi_id", "must be a tuple, not list")
    refused(lambda hv: hv.upload_table(PowerTable((ProcessorPower((0,), cx=PX),))),
            "processors[0].cx", "must be a CxInfo, not PxInfo")
    refused(lambda hv: hv.upload_table(PowerTable(({"acpi_ids": "all"},))),
            "processors[0]", "must be a ProcessorPower, not dict")


def test_good_values_are_still_accepted() -> None:
    hv = Hypervisor.simulated(cpufreq_driver=True)
    # IntEnum members are ints; bools are bools; an int subclass is an int.
    cx = CxInfo((C1, replace(C2, register=Register(SpaceId.SYSTEM_IO, 8, 0, 1, 0x414),
                             dependencies=(CStateDependency(0, CoordType.SW_ANY, 2),))),
                CxFlags(bm_check=True, bm_control=False, has_cst=True))
    assert hv.upload_cx(0, cx).ok
    assert hv.upload_px(0, replace(PX, psd=PsdDomain(0, CoordType.HW_ALL, 4))).ok
    assert hv.upload_pdc(0, Pdc((0xFFFF_FFFF,), revision=1)).ok
    many = tuple(replace(P0, core_frequency=3000 - i) for i in range(MAX_PSTATES))
    assert hv.upload_px(1, replace(PX, states=many, ppc=MAX_PSTATES - 1)).ok


def test_pstates_beyond_xens_byte_are_refused_quickly() -> None:
    start = time.perf_counter()
    for n in (MAX_PSTATES + 1, 100_000):
        refused(lambda hv: hv.upload_px(0, replace(PX, states=(P0,) * n)), "px.states",
                f"{n} entries: at most 255 (Xen counts P-states in a byte")
    refused(lambda hv: hv.upload_pdc(0, Pdc((0xBBF,) * 1_000_000)), "pdc.capabilities",
            "1000000 entries: at most 1 (Xen's acpi_set_pdc_bits reads only the first")
    assert time.perf_counter() - start < 5  # refused by length, not by a walk


def test_too_many_acpi_ids_are_refused() -> None:
    ids = tuple(range(MAX_ACPI_IDS + 1))
    with pytest.raises(ValidationError) as info:
        check_table(PowerTable((ProcessorPower(ids, cx=CX),)))
    assert info.value.path == "processors[0].acpi_id"
    assert "at most 16383 (Xen has at most 16383 CPUs: NR_CPUS" in info.value.rule
    check_table(PowerTable((ProcessorPower(ids[:-1], cx=CX),)))  # the limit itself is fine
    entries = tuple(ProcessorPower((i,), pdc=PDC) for i in range(3 * MAX_ACPI_IDS + 1))
    with pytest.raises(ValidationError, match="entries: at most 49149"):
        check_table(PowerTable(entries))


def test_a_memo_never_hides_a_later_bad_object() -> None:
    hv = Hypervisor.simulated()
    assert hv.upload_cx(0, CX).ok and hv.upload_cx(0, CX).ok  # checked once, remembered
    # An equal-looking object with a bad type is a different object: checked afresh.
    refused(lambda hv: hv.upload_cx(0, CxInfo(CX.states, CxFlags(has_cst=1))),
            "cx.flags.has_cst", "true or false")
    # A refusal is not remembered: the same bad object is refused every time.
    bad_cx = CxInfo((replace(C1, type=1.0),))
    for _ in range(2):
        refused(lambda hv: hv.upload_cx(0, bad_cx), "cx.states[0].type", "not float")
