"""``_CPC`` -> CppcInfo (pyxenplatform/firmware/cppc.py), on built values and the corpus.

The corpus machines with ``_CPC`` (AMD Zen desktops and laptops, Intel HWP
laptops, coreboot) are read through the AML reader; from files no register
can be read, so the FFH perf values are left out with a warning, and the
Integer entries (frequencies, coreboot's nominal perf) are taken as they are.
The machine reader is checked against fake ``/sys`` and ``/dev`` trees.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from pyxenplatform import CoordType, CppcInfo, PsdDomain, Register
from pyxenplatform.acpi import AcpiValue, FirmwareProcessor
from pyxenplatform.firmware import convert_processor
from pyxenplatform.firmware.cppc import MachineRegisters, RegisterReader, namespace_key
from pyxenplatform.model import PowerTable, SpaceId
from pyxenplatform.rules import check_table

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "acpi-corpus"


def gas(space: int, width: int, offset: int, access: int, address: int) -> bytes:
    """A Generic Register descriptor + end tag, as a _CPC Buffer holds it."""
    return (bytes([0x82, 12, 0, space, width, offset, access]) + address.to_bytes(8, "little")
            + b"\x79\x00")


NULL = gas(0, 0, 0, 0, 0)
CAP1 = 0xC00102B0


def zen_cpc(lowest_mhz: int = 400, nominal_mhz: int = 4501) -> tuple[AcpiValue, ...]:
    """The Zen 4 _CPC of the ASRock B650 PG Lightning (SSDT9), entry for entry."""
    return (23, 3, gas(0x7F, 8, 24, 4, CAP1), gas(0x7F, 8, 16, 4, CAP1),
            gas(0x7F, 8, 8, 4, CAP1), gas(0x7F, 8, 0, 4, CAP1), NULL,
            gas(0x7F, 8, 16, 4, 0xC00102B3), gas(0x7F, 8, 8, 4, 0xC00102B3),
            gas(0x7F, 8, 0, 4, 0xC00102B3), NULL, NULL, NULL,
            gas(0x7F, 64, 0, 4, 0xE7), gas(0x7F, 64, 0, 4, 0xE8),
            gas(0x7F, 2, 0, 4, 0xC00102B4), gas(0x7F, 1, 0, 4, 0xC00102B1), 1, NULL,
            gas(0x7F, 8, 24, 4, 0xC00102B3), NULL, lowest_mhz, nominal_mhz)


HW_PSD: AcpiValue = ((5, 0, 0, 0xFE, 2),)


def proc(objects: dict[str, AcpiValue]) -> FirmwareProcessor:
    return FirmwareProcessor("\\_SB.PLTF.C000", 0, None, objects, {})


def convert(objects: dict[str, AcpiValue], registers: RegisterReader | None = None,
            ) -> tuple[CppcInfo | None, list[str]]:
    entry, warnings = convert_processor(proc(objects), registers=registers)
    return (entry.cppc if entry else None), [f"{w.object}: {w.reason}" for w in warnings]


class FakeRegisters:
    """A register reader answering from a dict of (space, address) -> raw value."""

    def __init__(self, values: dict[tuple[int, int], int]) -> None:
        self.values = values
        self.asked: list[tuple[str, Register]] = []

    def __call__(self, path: str, reg: Register) -> int:
        self.asked.append((path, reg))
        try:
            return self.values[(reg.space_id, reg.address)]
        except KeyError:
            raise OSError(errno.EIO, "Input/output error") from None


def test_from_files_integers_kept_registers_left_out_with_warnings() -> None:
    cppc, warnings = convert({"_CPC": zen_cpc(), "_PSD": HW_PSD})
    assert cppc == CppcInfo(0, 0, 0, 0, PsdDomain(0, CoordType.HW_ALL, 2), 400, 4501)
    cpc_notes = [w for w in warnings if w.startswith("_CPC[")]
    assert cpc_notes == [
        f"_CPC[{i}]: {name} is an FFH register (MSR 0xc00102b0 bits {hi}:{lo}): only the "
        "running machine can read it; left out (0)"
        for i, name, hi, lo in ((2, "highest_perf", 31, 24), (3, "nominal_perf", 23, 16),
                                (4, "lowest_nonlinear_perf", 15, 8), (5, "lowest_perf", 7, 0))]


def test_registers_read_on_the_running_machine() -> None:
    # CPPC_CAP1 as a Ryzen reports it: highest 166, nominal 120, nonlinear 41, lowest 18.
    regs = FakeRegisters({(0x7F, CAP1): 0xA6_78_29_12})
    cppc, warnings = convert({"_CPC": zen_cpc(), "_PSD": HW_PSD}, regs)
    assert cppc == CppcInfo(166, 120, 41, 18, PsdDomain(0, CoordType.HW_ALL, 2), 400, 4501)
    assert not [w for w in warnings if w.startswith("_CPC")]
    assert {path for path, _ in regs.asked} == {"\\_SB.PLTF.C000"}
    # Only the four registers Xen takes were read, never the control ones.
    assert len(regs.asked) == 4


def test_unreadable_register_is_left_out_with_the_reason() -> None:
    cppc, warnings = convert({"_CPC": zen_cpc(), "_PSD": HW_PSD}, FakeRegisters({}))
    assert cppc is not None and cppc.highest_perf == 0
    assert "_CPC[2]: highest_perf is an FFH register (MSR 0xc00102b0 bits 31:24): cannot " \
           "read it (Input/output error); left out (0)" in warnings


@pytest.mark.parametrize(("value", "reason"), [
    ((21, 3) + (0,) * 19, "NumEntries 21 and Revision 3 with 21 entries"),
    ((17, 1) + (0,) * 15, "Revision 1"),
    ("not a package", "a String, not a _CPC Package"),
])
def test_bad_packages_are_not_converted(value: AcpiValue, reason: str) -> None:
    cppc, warnings = convert({"_CPC": value, "_PSD": HW_PSD})
    assert cppc is None
    assert any(w.startswith("_CPC: not converted") and reason in w for w in warnings), warnings


def test_revision_2_has_no_frequencies() -> None:
    cpc = (21, 2, 255, 200, 60, 20) + (NULL,) * 15
    cppc, _ = convert({"_CPC": cpc, "_PSD": HW_PSD})
    assert cppc == CppcInfo(255, 200, 60, 20, PsdDomain(0, CoordType.HW_ALL, 2))


def test_sw_psd_is_not_sent_with_cppc() -> None:
    cppc, warnings = convert({"_CPC": zen_cpc(), "_PSD": ((5, 0, 0, 0xFC, 2),)})
    assert cppc is None
    assert any("coordination is 0xfc" in w and "only HW_ALL" in w for w in warnings)


def test_no_psd_means_the_cpus_own_hw_domain() -> None:
    cppc, warnings = convert({"_CPC": zen_cpc()})
    assert cppc is not None and cppc.psd == PsdDomain(0, CoordType.HW_ALL, 1)
    assert "_CPC: no _PSD: sent with its own HW_ALL domain 0" in warnings


def test_converted_tables_pass_check() -> None:
    entry, _ = convert_processor(proc({"_CPC": zen_cpc(4501, 400), "_PSD": HW_PSD}))
    assert entry is not None and entry.cx is None and entry.px is None
    warnings = check_table(PowerTable((entry,)))
    assert any("resets both to 0" in w for w in warnings)


# ------------------------------------------------------------ the machine


def fake_machine(tmp_path: Path, *, xen: bool = False) -> MachineRegisters:
    sysfs, dev = tmp_path / "sys", tmp_path / "dev"
    node = sysfs / "devices" / "system" / "cpu" / "cpu3" / "firmware_node"
    node.mkdir(parents=True)
    (node / "path").write_text("\\_SB_.PLTF.C000\n")
    msr = dev / "cpu" / "3" / "msr"
    msr.parent.mkdir(parents=True)
    with open(msr, "wb") as f:  # a sparse file: the MSR number is the offset
        f.seek(CAP1)
        f.write((0xA6782912).to_bytes(8, "little"))
    (dev / "mem").write_bytes(bytes(0x1000) + (0x1234).to_bytes(4, "little") + bytes(12))
    ram = sysfs / "firmware" / "memmap" / "0"
    ram.mkdir(parents=True)
    for name, text in (("type", "ACPI Tables"), ("start", "0x1000"), ("end", "0x1007")):
        (ram / name).write_text(text + "\n")
    if xen:
        (sysfs / "hypervisor").mkdir()
        (sysfs / "hypervisor" / "type").write_text("xen\n")
    return MachineRegisters(sysfs, dev)


def test_machine_reads_msr_of_the_processors_cpu_read_only(tmp_path: Path) -> None:
    machine = fake_machine(tmp_path)
    reg = Register(SpaceId.FIXED_HARDWARE, 8, 24, 4, CAP1)
    assert machine("\\_SB.PLTF.C000", reg) == 0xA6782912  # the reader shifts, not the machine
    cppc, _ = convert({"_CPC": zen_cpc(), "_PSD": HW_PSD}, machine)
    assert cppc is not None and (cppc.highest_perf, cppc.lowest_perf) == (166, 18)
    with pytest.raises(OSError, match="no Linux CPU"):
        machine("\\_SB.PLTF.C001", reg)
    mem = Register(SpaceId.SYSTEM_MEMORY, 32, 0, 3, 0x1000)
    assert machine("\\_SB.PLTF.C000", mem) == 0x1234
    # Outside RAM and ACPI ranges (device registers): not read.
    with pytest.raises(OSError, match="device registers are not read"):
        machine("\\_SB.PLTF.C000", Register(SpaceId.SYSTEM_MEMORY, 32, 0, 3, 0x1008))


def test_machine_does_not_read_msrs_in_a_xen_dom0(tmp_path: Path) -> None:
    machine = fake_machine(tmp_path, xen=True)
    with pytest.raises(OSError, match="virtual CPU"):
        machine("\\_SB.PLTF.C000", Register(SpaceId.FIXED_HARDWARE, 8, 24, 4, CAP1))


def test_machine_opens_read_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    machine = fake_machine(tmp_path)
    flags: list[int] = []
    real_open = os.open

    def spy(path: object, flag: int, *args: int) -> int:
        flags.append(flag)
        return real_open(path, flag, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", spy)
    machine("\\_SB.PLTF.C000", Register(SpaceId.FIXED_HARDWARE, 8, 24, 4, CAP1))
    assert flags and all(f & os.O_ACCMODE == os.O_RDONLY for f in flags)


def test_namespace_key_pads_segments() -> None:
    assert namespace_key("\\_PR.CPU0") == namespace_key("\\_PR_.CPU0") == "\\_PR_.CPU0"


# ---------------------------------------------------------------- corpus

HW1 = PsdDomain(0, CoordType.HW_ALL, 1)
HW2 = PsdDomain(0, CoordType.HW_ALL, 2)
# machine -> (entries with CPPC, the first one's CppcInfo, the MSR its perf values live in)
CORPUS_CPC = {
    # Intel HWP desktop (Skylake): IA32_HWP_CAPABILITIES 0x771 and PLATFORM_INFO 0xce.
    "08-asus-maximus-viii-formula": (8, CppcInfo(0, 0, 0, 0, HW1), "MSR 0x771 bits 7:0"),
    # Intel HWP laptop (Raptor Lake).
    "10-thinkpad-x1-yoga-gen8": (64, CppcInfo(0, 0, 0, 0, HW1), "MSR 0x771 bits 7:0"),
    # coreboot: _CPC is a Method that patches Integers in: nominal perf 10, 1000 MHz.
    "11-starlabs-starlite-coreboot": (4, CppcInfo(0, 10, 0, 0, HW1, 0, 1000),
                                      "MSR 0x771 bits 7:0"),
    # AMD Zen 3 laptop and Zen 4 desktop: CPPC_CAP1 0xc00102b0, MHz as Integers.
    "23-lenovo-yoga6-13alc6": (16, CppcInfo(0, 0, 0, 0, HW2, 400, 1801),
                               "MSR 0xc00102b0 bits 31:24"),
    "24-asrock-b650-pg-lightning": (32, CppcInfo(0, 0, 0, 0, HW2, 400, 4501),
                                    "MSR 0xc00102b0 bits 31:24"),
}


def need_corpus() -> None:
    if not CORPUS.is_dir():
        pytest.skip(f"{CORPUS} not beside the checkout")


@pytest.mark.parametrize("machine", sorted(CORPUS_CPC))
def test_corpus_cpc_converts_from_files(machine: str) -> None:
    from pyxenplatform.firmware import load_firmware

    need_corpus()
    count, first, msr = CORPUS_CPC[machine]
    table = load_firmware(CORPUS / machine / "tables")
    with_cppc = [p for p in table.processors if p.cppc is not None]
    assert len(with_cppc) == count
    assert with_cppc[0].cppc == first
    notes = [w for w in table.warnings if w.object == "_CPC[2]"]
    assert len(notes) == count
    assert all(f"highest_perf is an FFH register ({msr}): only the running machine can "
               "read it; left out (0)" in w.reason for w in notes)
    # Every table passes the rules: perf values left out are warnings (Xen reads the MSR).
    warnings = check_table(table)
    assert any("Broken CPPC perf values" in w for w in warnings)


def test_the_ab350_dump_has_no_processor_to_convert() -> None:
    """The sixth machine with _CPC (Zen 1): its SSDT scopes \\_PR.C000..., which its
    dump's DSDT does not declare, so no processor (and no _CPC) is read."""
    from pyxenplatform.firmware import load_firmware

    need_corpus()
    table = load_firmware(CORPUS / "21-asrock-ab350-pro4" / "tables")
    assert table.processors == ()
    assert any("Scope \\_PR.C000 not found" in n for n in table.notes)
