"""The parts of the firmware upload that need no AML: Linux's _PDC word, dom0's CPU flags, the
kernel's own uploader, and the CPUs a dry run simulates (from the MADT)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyxenplatform.cli_firmware import madt_cpus, simulated_cpus
from pyxenplatform.fwupload import (
    SIMULATED_CPU_FLAGS,
    dom0_cpu_flags,
    linux_capabilities,
)
from pyxenplatform.hypercalls import PhysicalCpu
from pyxenplatform.hypervisor import Hypervisor
from pyxenplatform.model import Pdc
from tests.acpi.support import machine_tables



@pytest.mark.parametrize(("flags", "word"), [
    # An Intel CPU with EIST, ACPI throttling and MWAIT: Linux's classic _PDC word.
    ({"est", "acpi", "monitor"}, 0xBBF),
    # No MWAIT (a PV dom0's vCPU usually hides it): no C1/C2C3 FFH.
    ({"est", "acpi"}, 0x8BF),
    ({"est", "acpi", "monitor", "hwp"}, 0x1BBF),
    # Nothing: C_CAPABILITY_SMP without FFH, and T_SWCOORD.
    (set(), 0x9A),
])
def test_linux_capability_word(flags: set[str], word: int) -> None:
    # arch/x86/include/asm/acpi.h arch_acpi_set_proc_cap_bits, bit by bit.
    assert linux_capabilities(flags) == word


def test_the_dry_run_word_is_answered_as_real_xen_under_qemu_answers() -> None:
    # Real Xen 4.17 under QEMU answered 0xbbf with 0x9e (tests/xen/test_real_xen.py).
    word = linux_capabilities(SIMULATED_CPU_FLAGS)
    assert word == 0xBBF
    assert Hypervisor.simulated().upload_pdc(0, Pdc((word,))).pdc_out == 0x9E


def test_dom0_cpu_flags_reads_the_first_flags_line(tmp_path: Path) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu est monitor\n\nprocessor\t: 1\n"
                       "flags\t\t: fpu\n")
    assert dom0_cpu_flags(cpuinfo) == {"fpu", "est", "monitor"}
    (tmp_path / "empty").write_text("")
    assert dom0_cpu_flags(tmp_path / "empty") == frozenset()


def _lapic(acpi_id: int, apic_id: int, enabled: bool) -> bytes:
    return bytes([0, 8, acpi_id, apic_id, int(enabled), 0, 0, 0])


def _x2apic(uid: int, apic_id: int, enabled: bool) -> bytes:
    return bytes([9, 16, 0, 0]) + apic_id.to_bytes(4, "little") + \
        int(enabled).to_bytes(4, "little") + uid.to_bytes(4, "little")


def test_madt_cpus_takes_enabled_entries_in_table_order() -> None:
    entries = _lapic(2, 0, True) + _lapic(3, 1, False) + _x2apic(300, 256, True) + \
        bytes([1, 12] + [0] * 10)  # an I/O APIC entry
    madt = b"APIC" + bytes(40) + entries
    assert madt_cpus(madt) == [PhysicalCpu(0, 2, 0, True), PhysicalCpu(1, 300, 256, True)]
    # A truncated or zero-length entry ends the walk instead of looping.
    assert madt_cpus(madt[:-3]) == madt_cpus(madt)
    assert madt_cpus(b"APIC" + bytes(40) + bytes([0, 0]) + _lapic(1, 1, True)) == []


def test_simulated_cpus_of_corpus_machines() -> None:
    # Intel DG965LV: 4 Local APIC entries, 2 enabled.
    assert [c.acpi_id for c in simulated_cpus(str(machine_tables("02-intel-dg965lv")))] == [1, 2]
    # Acer Extensa 4210 has two MADTs (apic1.dat, apic2.dat): the first is used.
    assert len(simulated_cpus(str(machine_tables("03-acer-extensa-4210")))) == 1
    # No MADT: ACPI ids 0 and 1.
    assert [c.acpi_id for c in simulated_cpus("/nonexistent")] == [0, 1]


def test_dev_mem_reads_the_legacy_bios_area(tmp_path: Path) -> None:
    # e820 calls 0xF0000-0xFFFFF "Reserved"; it is ROM, and the real-Xen test's SSDT reads the
    # BIOS model byte at 0xFFFFE there (tests/xen/percpu-power.asl).
    from pyxenplatform.acpi.regions import DevMem

    image = tmp_path / "mem"
    image.write_bytes(bytes(0xFFFFE) + b"\xfc\x00")
    memmap = tmp_path / "memmap" / "0"
    memmap.mkdir(parents=True)
    for name, value in (("start", "0xf0000"), ("end", "0xfffff"), ("type", "Reserved")):
        (memmap / name).write_text(value + "\n")
    memory = DevMem(str(image), str(tmp_path / "memmap"))
    # A refused range first (not memory in the map) must not stop later reads.
    assert memory.read(0, 0x1000, 1) == (b"\x00", "unreadable")
    assert memory.read(0, 0xFFFFE, 1) == (b"\xfc", "memory")
    assert memory.read(0, 0xFFFFF, 2) == (bytes(2), "unreadable")  # past the BIOS area
