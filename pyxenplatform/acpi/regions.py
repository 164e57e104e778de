"""Operation region backends: where field reads get their bytes.

Nothing here writes to hardware. A write by AML lands in an in-memory
overlay (per address space, byte-granular); a later read of those bytes
returns what was written, as acpiexec's region buffers do
(``source/tools/acpiexec/aeregion.c`` AeRegionHandler keeps one zero-filled
buffer per address range and space, shared by overlapping regions).
"""

from __future__ import annotations

import os
from typing import Protocol

SYSTEM_MEMORY = 0


class RegionBackend(Protocol):
    """Reads ``length`` bytes of ``space`` at ``address``: (bytes, provenance label)."""

    def read(self, space: int, address: int, length: int) -> tuple[bytes, str]: ...

    def write(self, space: int, address: int, data: bytes) -> None: ...


class ZeroMemory:
    """Tables from files: every space reads as zeros (acpiexec's default fill), plus writes."""

    label = "zeros"

    def __init__(self) -> None:
        self.overlay: dict[int, dict[int, int]] = {}

    def base(self, space: int, address: int, length: int) -> tuple[bytes, str]:
        return bytes(length), self.label

    def read(self, space: int, address: int, length: int) -> tuple[bytes, str]:
        data, label = self.base(space, address, length)
        written = self.overlay.get(space)
        if written and (length > 1 or address in written):
            buf = bytearray(data)
            for i in range(length):
                byte = written.get(address + i)
                if byte is not None:
                    buf[i] = byte
            data = bytes(buf)
        return data, label

    def write(self, space: int, address: int, data: bytes) -> None:
        written = self.overlay.setdefault(space, {})
        for i, byte in enumerate(data):
            written[address + i] = byte


# e820 types that are memory, never device registers (Linux /sys/firmware/memmap/*/type).
READABLE_TYPES = frozenset({"System RAM", "ACPI Tables", "ACPI Non-volatile Storage"})
# The legacy BIOS area (0xE0000-0xFFFFF) is ROM or shadow RAM, never device registers, though
# e820 calls it "Reserved": Linux's /dev/mem lets the low 1 MB outside System RAM be read even
# under STRICT_DEVMEM (arch/x86/mm/init.c devmem_is_allowed), as dmidecode does at 0xF0000.
BIOS_AREA = (0xE0000, 0xFFFFF)


class DevMem(ZeroMemory):
    """The running machine: SystemMemory from ``/dev/mem`` opened O_RDONLY, never written.

    Only addresses inside RAM, ACPI Tables or ACPI NVS ranges of the firmware memory map
    (``/sys/firmware/memmap``) are read: a read of device registers (MMIO) can have side
    effects, so those, and any read ``/dev/mem`` refuses (no root, CONFIG_STRICT_DEVMEM),
    fall back to zeros labelled ``unreadable``.
    """

    label = "memory"

    def __init__(self, path: str = "/dev/mem", memmap: str = "/sys/firmware/memmap") -> None:
        super().__init__()
        self.path = path
        self.memmap = memmap
        self.fd: int | None = None
        self.failed = False
        self.ranges: list[tuple[int, int]] | None = None

    def _readable(self, address: int, length: int) -> bool:
        if self.ranges is None:
            self.ranges = _memory_ranges(self.memmap)
        end = address + length - 1
        return any(start <= address and end <= last
                   for start, last in (*self.ranges, BIOS_AREA))

    def base(self, space: int, address: int, length: int) -> tuple[bytes, str]:
        if space != SYSTEM_MEMORY:
            return bytes(length), "zeros"
        try:
            if not self._readable(address, length):
                raise OSError("not RAM, ACPI tables or ACPI NVS")
            if self.fd is None:
                if self.failed:
                    raise OSError("unavailable")
                try:
                    self.fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
                except OSError:
                    self.failed = True  # only a failed open stops later tries, not a refused range
                    raise
            data = os.pread(self.fd, length, address)
            if len(data) != length:
                raise OSError("short read")
            return data, self.label
        except OSError:
            return bytes(length), "unreadable"

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def _memory_ranges(memmap: str) -> list[tuple[int, int]]:
    """(first, last) address of each memory-type range of the firmware memory map."""
    ranges = []
    try:
        entries = os.listdir(memmap)
    except OSError:
        return []
    for entry in entries[:4096]:
        folder = os.path.join(memmap, entry)
        try:
            with open(os.path.join(folder, "type"), encoding="ascii") as f:
                kind = f.read().strip()
            if kind not in READABLE_TYPES:
                continue
            with open(os.path.join(folder, "start"), encoding="ascii") as f:
                start = int(f.read().strip(), 16)
            with open(os.path.join(folder, "end"), encoding="ascii") as f:
                last = int(f.read().strip(), 16)
        except (OSError, ValueError):
            continue
        ranges.append((start, last))
    return ranges
