"""Power-info layer: Xen's rules, the loaders, the simulated Xen, the facade."""

from __future__ import annotations

import errno
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from pyxenplatform import (
    CoordType, CState, CStateDependency, CxFlags, CxInfo, Hypervisor, Pdc, PhysicalCpu, Platform, PowerTable,
    ProcessorPower, PsdDomain, PState, PxInfo, Register, SpaceId, ValidationError,
    load_table, table_from_mapping,
)
from pyxenplatform.cpu_rules import kept_cstates, pdc_answer
from pyxenplatform.rules import check_cx, check_px
from pyxenplatform.sim import SimulatedXen


def simulator(hv: Hypervisor) -> SimulatedXen:
    assert isinstance(hv.transport, SimulatedXen)
    return hv.transport

C1 = CState(1, 1, 1000, Register.ffh(0x00))
C2 = CState(2, 64, 500, Register.system_io(0x414))
C3 = CState(3, 96, 250, Register.system_io(0x415))
PX = PxInfo(Register(0x7F), Register(0x7F),
            (PState(2400, 35000, 10, 10, 0x1800, 0x1800),
             PState(1600, 20000, 10, 10, 0x1000, 0x1000)),
            PsdDomain(0, CoordType.SW_ALL, 1))


@pytest.mark.parametrize(("state", "path", "rule"), [
    (replace(C1, type=0), "cx.states[0].type", "C0 is not an idle state"),
    (replace(C1, type=4), "cx.states[0].type", "must be 1 (C1), 2 (C2) or 3 (C3)"),
    (replace(C2, register=Register.system_io(0)), "cx.states[0].register.address",
     "SYSTEM_IO register at address 0"),
    (replace(C1, register=Register(SpaceId.FIXED_HARDWARE, 1, 1, 1, 0)),
     "cx.states[0].register", "bit_width 1 (vendor Intel) and bit_offset 2"),
    (replace(C1, register=Register(SpaceId.SYSTEM_MEMORY, 8, 0, 1, 0x1000)),
     "cx.states[0].register.space_id", "SYSTEM_IO (1) or FIXED_HARDWARE (0x7f)"),
    (replace(C1, latency=2**32), "cx.states[0].latency", "does not fit"),
    (replace(C1, power=-1), "cx.states[0].power", "does not fit"),
    (replace(C2, register=replace(C2.register, access_size=5)),
     "cx.states[0].register.access_size", "GAS access size"),
])
def test_cstate_rules(state: CState, path: str, rule: str) -> None:
    with pytest.raises(ValidationError) as info:
        check_cx("cx", CxInfo((state,)))
    assert info.value.path == path
    assert rule in info.value.rule


def test_more_than_six_deep_states_and_two_c1_are_refused() -> None:
    with pytest.raises(ValidationError, match=r"states\[7\]: more than 6 states deeper"):
        check_cx("cx", CxInfo((C1,) + (C2,) * 7))
    check_cx("cx", CxInfo((C1,) + (C2,) * 6))  # exactly Xen's 8 slots
    with pytest.raises(ValidationError, match=r"states\[1\].type: a second C1"):
        check_cx("cx", CxInfo((C1, C1)))


def test_cpu_dependent_rules_warn() -> None:
    warnings = check_cx("cx", CxInfo((C1, C2), CxFlags(has_cst=False)))
    assert any("MWAIT" in w for w in warnings)
    assert any("ARAT" in w for w in warnings)
    assert any("has_cst false" in w for w in warnings)


@pytest.mark.parametrize(("px", "path", "rule"), [
    (replace(PX, ppc=2), "px.ppc", "does not index a P-state (0..1)"),
    (replace(PX, states=PX.states[:1]), "px.states", "needs at least 2"),
    (replace(PX, psd=replace(PX.psd, num_entries=4)), "px.psd.num_entries", "has 5 entries"),
    (replace(PX, psd=replace(PX.psd, revision=1)), "px.psd.revision", "revision 0"),
    (replace(PX, psd=replace(PX.psd, coord_type=0xFB)), "px.psd.coord_type", "SW_ALL"),
    (replace(PX, status_register=Register(SpaceId.SYSTEM_IO, 16, 0, 2, 0xB2)),
     "px.status_register.space_id", "must equal control_register.space_id"),
    (replace(PX, control_register=Register(0x7F, 256)), "px.control_register.bit_width",
     "u8"),
])
def test_pstate_rules(px: PxInfo, path: str, rule: str) -> None:
    with pytest.raises(ValidationError) as info:
        check_px("px", px)
    assert (info.value.path, rule in info.value.rule) == (path, True), info.value.rule


def test_what_xen_keeps_depends_on_the_cpu() -> None:
    flags = CxFlags()
    slots, dropped = kept_cstates([C1, C2, C3], flags, Platform())
    assert [s.type if s else 0 for s in slots] == [0, 1, 2, 3] and dropped == []
    amd = Platform(vendor="AuthenticAMD", family=0x17, arat=False, mwait_substates=None)
    slots, dropped = kept_cstates([C1, C2, C3], flags, amd)
    assert [s.type if s else 0 for s in slots] == [0, 1]  # C1 is Xen's HALT C1
    assert [why for _, why in dropped] == [
        "the CPU has no MWAIT", "no timer keeps running in C2/C3 (no ARAT, no broadcast)",
        "no timer keeps running in C2/C3 (no ARAT, no broadcast)"]
    no_cst = kept_cstates([C1, C3], CxFlags(has_cst=False), Platform())[1]
    assert [why for _, why in no_cst] == ["C2/C3 without bus-master control needs has_cst"]
    c2_substate_1 = replace(C2, register=Register.ffh(0x11))
    assert kept_cstates([C1, c2_substate_1], flags, Platform())[1] == [
        (c2_substate_1, "the CPU has no MWAIT sub-state 0x11")]  # as Xen under QEMU does
    assert kept_cstates([C1, c2_substate_1], flags,
                        Platform(mwait_substates=0x00002220))[1] == []
    deep = kept_cstates([C1] + [C2] * 7, flags, Platform())
    assert len(deep[0]) == 8 and deep[1][0][1].startswith("C2 data ignored")


def test_simulated_xen_holds_per_cpu_state_and_answers_errnos() -> None:
    cpus = [PhysicalCpu(0, 2, 0, True), PhysicalCpu(1, 4, 2, True)]
    hv = Hypervisor.simulated(cpus)
    assert [c.acpi_id for c in hv.physical_cpus()] == [2, 4]
    assert hv.upload_cx(4, CxInfo((C1, C2))).kept == (0, 1, 2)
    assert hv.upload_cx(2, CxInfo((C1,))).kept == (0, 1)
    sim = simulator(hv)
    assert sim.held(4).cstate_types == [0, 1, 2] and sim.held(2).cstate_types == [0, 1]
    assert hv.upload_cx(0, CxInfo((C1,))).errno == errno.EINVAL  # no CPU has ACPI id 0
    assert hv.upload_px(2, PX).errno == errno.ENODEV  # no cpufreq driver, as under QEMU
    with_driver = Hypervisor.simulated(cpus, cpufreq_driver=True)
    assert with_driver.upload_px(2, PX).ok
    again = with_driver.upload_px(2, replace(PX, ppc=1))
    assert again.ok and again.sent["flags"] == ("PPC",)
    mwait_idle = Hypervisor.simulated(cpus, idle_driver="mwait-idle")
    ignored = mwait_idle.upload_cx(2, CxInfo((C1, C2)))
    assert ignored.ok and ignored.kept is None
    assert "mwait-idle owns idle" in ignored.dropped[0]


def test_upload_refuses_invalid_data_before_sending() -> None:
    hv = Hypervisor.simulated()
    with pytest.raises(ValidationError):
        hv.upload_cx(0, CxInfo((replace(C1, type=0),)))
    with pytest.raises(ValidationError):
        hv.upload_pdc(0, Pdc((), revision=1))
    with pytest.raises(ValidationError):
        hv.upload_cx(-1, CxInfo((C1,)))
    assert not simulator(hv).calls  # nothing reached the hypervisor


def test_table_is_validated_whole_before_the_first_hypercall() -> None:
    good = ProcessorPower((0,), cx=CxInfo((C1,)))
    bad = ProcessorPower((1,), cx=CxInfo((replace(C2, register=Register.system_io(0)),)))
    hv = Hypervisor.simulated()
    with pytest.raises(ValidationError, match=r"processors\[1\].cx.states\[0\]"):
        hv.upload_table(PowerTable((good, bad)))
    assert not simulator(hv).calls


def test_table_all_explicit_override_and_cpu0_warning() -> None:
    cpus = [PhysicalCpu(0, 6, 0, True), PhysicalCpu(1, 2, 2, True), PhysicalCpu(2, 4, 4, True)]
    table = PowerTable((ProcessorPower("all", cx=CxInfo((C1, C2))),
                        ProcessorPower((4,), cx=CxInfo((C1,)))))
    hv = Hypervisor.simulated(cpus)
    result = hv.upload_table(table)
    assert [(r.acpi_id, r.kept) for r in result.results] == [
        (6, (0, 1, 2)), (2, (0, 1, 2)), (4, (0, 1))]
    partial = hv.upload_table(PowerTable((ProcessorPower((2,), cx=CxInfo((C1,))),)))
    assert any("Xen CPU 0" in w for w in partial.warnings)
    clash = PowerTable((ProcessorPower((2,), cx=CxInfo((C1,))),
                        ProcessorPower((2,), cx=CxInfo((C1,)))))
    with pytest.raises(ValidationError, match="already gets cx from processors"):
        hv.upload_table(clash)


TABLE: dict[str, Any] = {"processors": [
    {"acpi_id": [2, "0x4"], "pdc": ["0x3b"],
     "cx": {"flags": {"has_cst": True},
            "states": [{"type": 1, "latency": 1, "power": 1000, "register": {
                "space_id": "FIXED_HARDWARE", "bit_width": 1, "bit_offset": 2,
                "access_size": 1, "address": "0x00"}},
                {"type": 2, "latency": 64, "power": 500, "register": {
                    "space_id": 1, "bit_width": 8, "address": "0x414"},
                 "dependencies": [{"domain": 0, "coord_type": "SW_ANY", "num_processors": 2}]}]},
     "px": {"control_register": {"space_id": "FFH"}, "status_register": {"space_id": "FFH"},
            "states": [{"core_frequency": 2400, "power": 35000, "transition_latency": 10,
                        "bus_master_latency": 10, "control": "0x1800", "status": "0x1800"},
                       {"core_frequency": 1600, "power": 20000, "transition_latency": 10,
                        "bus_master_latency": 10, "control": "0x1000", "status": "0x1000"}],
            "ppc": 0, "psd": {"domain": 0, "coord_type": "SW_ALL", "num_processors": 1}}},
]}
TOML = """
[[processors]]
acpi_id = [2, 0x4]
pdc = [0x3b]
[processors.cx.flags]
has_cst = true
[[processors.cx.states]]
type = 1
latency = 1
power = 1000
register = { space_id = "FIXED_HARDWARE", bit_width = 1, bit_offset = 2, access_size = 1, address = 0x00 }
[[processors.cx.states]]
type = 2
latency = 64
power = 500
register = { space_id = 1, bit_width = 8, address = 0x414 }
dependencies = [{ domain = 0, coord_type = "SW_ANY", num_processors = 2 }]
[processors.px]
control_register = { space_id = "FFH" }
status_register = { space_id = "FFH" }
ppc = 0
psd = { domain = 0, coord_type = "SW_ALL", num_processors = 1 }
[[processors.px.states]]
core_frequency = 2400
power = 35000
transition_latency = 10
bus_master_latency = 10
control = 0x1800
status = 0x1800
[[processors.px.states]]
core_frequency = 1600
power = 20000
transition_latency = 10
bus_master_latency = 10
control = 0x1000
status = 0x1000
"""


def test_json_toml_and_literals_load_to_equal_tables(tmp_path: Path) -> None:
    (tmp_path / "t.json").write_text(json.dumps(TABLE))
    (tmp_path / "t.toml").write_text(TOML)
    from_json, from_toml = load_table(tmp_path / "t.json"), load_table(tmp_path / "t.toml")
    c2 = replace(C2, register=Register(1, 8, 0, 0, 0x414),
                 dependencies=(CStateDependency(0, CoordType.SW_ANY, 2),))
    px = replace(PX, control_register=Register(0x7F), status_register=Register(0x7F))
    by_hand = PowerTable((ProcessorPower((2, 4), cx=CxInfo((C1, c2), CxFlags(has_cst=True)),
                                         px=px, pdc=Pdc((0x3B,))),))
    assert from_json == from_toml == table_from_mapping(TABLE) == by_hand


@pytest.mark.parametrize(("mutate", "path", "rule"), [
    (lambda t: t["processors"][0]["cx"]["states"][1].update(latncy=3),
     "processors[0].cx.states[1].latncy", "unknown key"),
    (lambda t: t["processors"][0]["cx"]["states"][0].pop("power"),
     "processors[0].cx.states[0].power", "missing (required)"),
    (lambda t: t["processors"][0]["cx"]["states"][0]["register"].update(address="0xZZ"),
     "processors[0].cx.states[0].register.address", "hex string"),
    (lambda t: t["processors"][0]["cx"]["states"][0]["register"].update(space_id="DRAM"),
     "processors[0].cx.states[0].register.space_id", "unknown address space"),
    (lambda t: t["processors"][0]["cx"]["flags"].update(has_cst=1),
     "processors[0].cx.flags.has_cst", "true or false"),
    (lambda t: t["processors"][0].update(acpi_id=True),
     "processors[0].acpi_id", "not a boolean"),
    (lambda t: t.update(extra=1), "extra", "unknown key"),
])
def test_loader_errors_name_the_path(mutate: Any, path: str, rule: str) -> None:
    table = json.loads(json.dumps(TABLE))
    mutate(table)
    with pytest.raises(ValidationError) as info:
        table_from_mapping(table, source="t.json")
    assert (info.value.path, info.value.source) == (path, "t.json")
    assert rule in info.value.rule
    assert str(info.value).startswith(f"t.json: {path}: ")


def test_bad_files_name_the_file(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text("{processors: [")
    with pytest.raises(ValidationError, match=r"bad.json: not valid JSON"):
        load_table(tmp_path / "bad.json")
    (tmp_path / "t.yaml").write_text("x")
    with pytest.raises(ValidationError, match="name the file .json or .toml"):
        load_table(tmp_path / "t.yaml")


def test_reprs_read_well_at_the_repl() -> None:
    assert repr(C1) == "CState(C1, latency=1us, power=1000mW, register=FFH(mwait=0x0))"
    assert repr(Register.system_io(0x414)) == "SystemIO(0x414, width=8)"
    assert "SYSTEM_MEMORY" in repr(Register(0, 8, 0, 1, 0x10))


def test_pdc_answer_follows_xens_masks() -> None:
    cx_px = 1 | 2  # XEN_PROCESSOR_PM_CX | XEN_PROCESSOR_PM_PX
    # Measured on Xen 4.17 under QEMU: 0xbbf comes back as 0x9e.
    assert pdc_answer(0xBBF, Platform(), cx_px) == 0x9E
    # With Cx only, the P-state bits (0x821) pass through and the C bits are
    # Xen's: C_CAPABILITY_SMP 0x31a without the FFH bits 0x300 = 0x1a.
    assert pdc_answer(0x821, Platform(), 1) == 0x821 | 0x1A
    # A CPU with EIST and MWAIT as Xen sees it: the T group 0x84 passes through,
    # plus C_CAPABILITY_SMP 0x31a and EST_CAPABILITY_SWSMP 0x82b.
    rich = Platform(eist=True, pdc_mwait=True)
    assert pdc_answer(0xBBF, rich, cx_px) == 0x84 | 0x31A | 0x82B
    hv = Hypervisor.simulated()
    assert hv.upload_pdc(0, Pdc((0xBBF,))).pdc_out == 0x9E
    assert hv.upload_pdc(0xFFFF_FFFF, Pdc((0xBBF,))).ok  # ~0: the boot CPU
