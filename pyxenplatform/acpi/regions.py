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


class DevMem(ZeroMemory):
    """The running machine: SystemMemory from ``/dev/mem`` opened O_RDONLY, never written.

    If ``/dev/mem`` cannot be read at an address (no root, CONFIG_STRICT_DEVMEM),
    that read falls back to zeros and is labelled ``unreadable``.
    """

    label = "memory"

    def __init__(self, path: str = "/dev/mem") -> None:
        super().__init__()
        self.path = path
        self.fd: int | None = None
        self.failed = False

    def base(self, space: int, address: int, length: int) -> tuple[bytes, str]:
        if space != SYSTEM_MEMORY:
            return bytes(length), "zeros"
        try:
            if self.fd is None:
                if self.failed:
                    raise OSError("unavailable")
                self.fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
            data = os.pread(self.fd, length, address)
            if len(data) != length:
                raise OSError("short read")
            return data, self.label
        except OSError:
            if self.fd is None:
                self.failed = True
            return bytes(length), "unreadable"

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
