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


def memmap(tmp_path: Path, *ranges: tuple[int, int, str]) -> str:
    """A fake /sys/firmware/memmap."""
    root = tmp_path / "memmap"
    for i, (start, end, kind) in enumerate(ranges):
        entry = root / str(i)
        entry.mkdir(parents=True)
        (entry / "start").write_text(f"{start:#x}\n")
        (entry / "end").write_text(f"{end:#x}\n")
        (entry / "type").write_text(kind + "\n")
    return str(root)


def test_devmem_reads_the_file_read_only_and_keeps_writes_inside(tmp_path: Path) -> None:
    image = tmp_path / "mem"
    image.write_bytes(bytes(range(256)) * 16)
    memory = DevMem(str(image), memmap(tmp_path, (0, 0xFFF, "System RAM"),
                                       (1 << 40, (1 << 40) + 0xFF, "ACPI Non-volatile Storage")))
    assert memory.read(0, 0x10, 2) == (b"\x10\x11", "memory")
    memory.write(0, 0x10, b"\xff")
    assert memory.read(0, 0x10, 2) == (b"\xff\x11", "memory")
    assert image.read_bytes()[0x10] == 0x10  # never written through
    assert memory.read(1, 0x10, 1) == (b"\x00", "zeros")  # only SystemMemory comes from the file
    assert memory.read(0, 1 << 40, 2) == (b"\x00\x00", "unreadable")  # short read
    memory.close()


def test_devmem_unavailable_falls_back_to_zeros(tmp_path: Path) -> None:
    memory = DevMem(str(tmp_path / "absent"), memmap(tmp_path, (0, 0xFFF, "System RAM")))
    assert memory.read(0, 0, 4) == (bytes(4), "unreadable")


def test_devmem_never_reads_device_registers(tmp_path: Path) -> None:
    """MMIO reads can have side effects: only RAM, ACPI tables and NVS are read."""
    image = tmp_path / "mem"
    image.write_bytes(b"\x01" * 0x3000)
    memory = DevMem(str(image), memmap(tmp_path, (0, 0xFFF, "System RAM"),
                                       (0x1000, 0x1FFF, "Reserved")))
    assert memory.read(0, 0x10, 1) == (b"\x01", "memory")
    assert memory.read(0, 0x1010, 1) == (b"\x00", "unreadable")
    assert memory.read(0, 0xFFE, 4) == (bytes(4), "unreadable")  # straddles into Reserved


def test_reads_name_the_source_of_machine_values(tmp_path: Path) -> None:
    image = tmp_path / "mem"
    image.write_bytes(bytes(0x7000) + b"\x03")
    body = (op(0x5B80, name("GNVS"), b"\x00", integer(0x7000), integer(1))
            + op(0x5B81) + pkg(name("GNVS") + b"\x01" + b"PPCV\x08")
            + scope("\\_PR", processor("CPU0", 0, method("_PPC", ret(name("\\PPCV")))
                                       + name_op("_PSD", package()))))
    memory = DevMem(str(image), memmap(tmp_path, (0, 0xFFFF, "ACPI Non-volatile Storage")))
    cpu = evaluate_tables([("dsdt.dat", table(body))], backend=memory).processors[0]
    assert cpu.objects["_PPC"] == 3
    assert [(r.region, r.source) for r in cpu.reads["_PPC"]] == [("\\GNVS", "memory")]
