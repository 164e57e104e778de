"""Generic Register descriptors (ACPI 6.5 §6.4.3.7) inside resource-template Buffers."""

from __future__ import annotations

from dataclasses import dataclass

GENERIC_REGISTER_TAG = 0x82
END_TAG = 0x79


@dataclass(frozen=True)
class GenericRegister:
    """One Generic Register descriptor: how a _CST entry or _PCT register is accessed."""

    space_id: int
    bit_width: int
    bit_offset: int
    access_size: int  # the descriptor's access-size byte (0 = undefined, 1 byte ... 4 qword)
    address: int


def decode_register(buf: bytes) -> GenericRegister | None:
    """The register of a Buffer holding exactly one Generic Register descriptor + End Tag.

    Layout: 0x82, length 0x000C (LE16), space id, bit width, bit offset, access size,
    address (LE64), then an End Tag (0x79, checksum). Anything else gives None.
    """
    if len(buf) < 17 or buf[0] != GENERIC_REGISTER_TAG:
        return None
    if int.from_bytes(buf[1:3], "little") != 12:
        return None
    if buf[15] != END_TAG or len(buf) != 17:
        return None
    return GenericRegister(space_id=buf[3], bit_width=buf[4], bit_offset=buf[5],
                           access_size=buf[6], address=int.from_bytes(buf[7:15], "little"))
