"""Region backends: zero-filled with a write overlay, and /dev/mem read-only."""

from __future__ import annotations

from pathlib import Path

from pyxenplatform.acpi import evaluate_tables
from pyxenplatform.acpi.regions import DevMem, ZeroMemory

from .amlbuild import integer, method, name, name_op, op, package, pkg, processor, ret, scope, \
    table


def test_zero_memory_overlay() -> None:
    memory = ZeroMemory()
    assert memory.read(0, 0x100, 4) == (bytes(4), "zeros")
    memory.write(0, 0x101, b"\xaa")
    assert memory.read(0, 0x100, 4) == (b"\x00\xaa\x00\x00", "zeros")
    assert memory.read(1, 0x101, 1) == (b"\x00", "zeros")  # per address space


def test_devmem_reads_the_file_read_only_and_keeps_writes_inside(tmp_path: Path) -> None:
    image = tmp_path / "mem"
    image.write_bytes(bytes(range(256)) * 16)
    memory = DevMem(str(image))
    assert memory.read(0, 0x10, 2) == (b"\x10\x11", "memory")
    memory.write(0, 0x10, b"\xff")
    assert memory.read(0, 0x10, 2) == (b"\xff\x11", "memory")
    assert image.read_bytes()[0x10] == 0x10  # never written through
    assert memory.read(1, 0x10, 1) == (b"\x00", "zeros")  # only SystemMemory comes from the file
    assert memory.read(0, 1 << 40, 2) == (b"\x00\x00", "unreadable")  # short read
    memory.close()


def test_devmem_unavailable_falls_back_to_zeros(tmp_path: Path) -> None:
    memory = DevMem(str(tmp_path / "absent"))
    assert memory.read(0, 0, 4) == (bytes(4), "unreadable")


def test_reads_name_the_source_of_machine_values(tmp_path: Path) -> None:
    image = tmp_path / "mem"
    image.write_bytes(bytes(0x7000) + b"\x03")
    body = (op(0x5B80, name("GNVS"), b"\x00", integer(0x7000), integer(1))
            + op(0x5B81) + pkg(name("GNVS") + b"\x01" + b"PPCV\x08")
            + scope("\\_PR", processor("CPU0", 0, method("_PPC", ret(name("\\PPCV")))
                                       + name_op("_PSD", package()))))
    memory = DevMem(str(image))
    cpu = evaluate_tables([("dsdt.dat", table(body))], backend=memory).processors[0]
    assert cpu.objects["_PPC"] == 3
    assert [(r.region, r.source) for r in cpu.reads["_PPC"]] == [("\\GNVS", "memory")]
