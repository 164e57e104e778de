"""A tiny AML assembler for tests: enough encodings to write methods by hand.

Encodings: ACPI 6.5 §20.2 (PkgLength §20.2.4, NameString §20.2.2, data §20.2.3).
"""

from __future__ import annotations


def pkg(content: bytes) -> bytes:
    """PkgLength + content (the length counts itself)."""
    for size in (1, 2, 3, 4):
        total = len(content) + size
        if size == 1 and total < 0x40:
            return bytes([total]) + content
        if size > 1 and total < 1 << (4 + 8 * (size - 1)):
            lead = ((size - 1) << 6) | (total & 0x0F)
            rest = (total >> 4).to_bytes(size - 1, "little")
            return bytes([lead]) + rest + content
    raise ValueError("too long")


def name(path: str) -> bytes:
    """A NameString from ``\\A.B``-style text."""
    prefix = b""
    while path.startswith(("\\", "^")):
        prefix += path[0].encode()
        path = path[1:]
    segs = [s.ljust(4, "_").encode() for s in path.split(".")] if path else []
    if not segs:
        return prefix + b"\x00"
    if len(segs) == 1:
        return prefix + segs[0]
    if len(segs) == 2:
        return prefix + b"\x2e" + b"".join(segs)
    return prefix + b"\x2f" + bytes([len(segs)]) + b"".join(segs)


def integer(value: int) -> bytes:
    if value == 0:
        return b"\x00"
    if value == 1:
        return b"\x01"
    if value < 0x100:
        return b"\x0a" + value.to_bytes(1, "little")
    if value < 0x10000:
        return b"\x0b" + value.to_bytes(2, "little")
    if value < 1 << 32:
        return b"\x0c" + value.to_bytes(4, "little")
    return b"\x0e" + value.to_bytes(8, "little")


def string(text: str) -> bytes:
    return b"\x0d" + text.encode() + b"\x00"


def buffer(data: bytes, size: int | None = None) -> bytes:
    return b"\x11" + pkg(integer(len(data) if size is None else size) + data)


def package(*elements: bytes) -> bytes:
    return b"\x12" + pkg(bytes([len(elements)]) + b"".join(elements))


def name_op(path: str, value: bytes) -> bytes:
    return b"\x08" + name(path) + value


def method(path: str, body: bytes, args: int = 0, serialized: bool = False) -> bytes:
    return b"\x14" + pkg(name(path) + bytes([args | (8 if serialized else 0)]) + body)


def scope(path: str, body: bytes) -> bytes:
    return b"\x10" + pkg(name(path) + body)


def device(path: str, body: bytes) -> bytes:
    return b"\x5b\x82" + pkg(name(path) + body)


def processor(path: str, proc_id: int, body: bytes) -> bytes:
    return b"\x5b\x83" + pkg(name(path) + bytes([proc_id]) + b"\x10\x04\x00\x00\x06" + body)


def op(code: int, *args: bytes) -> bytes:
    head = bytes([code]) if code < 0x100 else bytes([code >> 8, code & 0xFF])
    return head + b"".join(args)


def if_(predicate: bytes, body: bytes, else_body: bytes | None = None) -> bytes:
    out = b"\xa0" + pkg(predicate + body)
    if else_body is not None:
        out += b"\xa1" + pkg(else_body)
    return out


def while_(predicate: bytes, body: bytes) -> bytes:
    return b"\xa2" + pkg(predicate + body)


def ret(value: bytes) -> bytes:
    return b"\xa4" + value


LOCAL = [bytes([0x60 + i]) for i in range(8)]
ARG = [bytes([0x68 + i]) for i in range(7)]
NULL = b"\x00"  # no target


def table(body: bytes, *, signature: bytes = b"DSDT", revision: int = 2,
          oem_table_id: bytes = b"TEST") -> bytes:
    """A complete table with a valid checksum."""
    length = 36 + len(body)
    header = bytearray(signature + length.to_bytes(4, "little") + bytes([revision, 0])
                       + b"PYXEN " + oem_table_id.ljust(8) + (1).to_bytes(4, "little")
                       + b"INTL" + (0x20200925).to_bytes(4, "little"))
    data = header + body
    data[9] = (-sum(data)) & 0xFF
    return bytes(data)
