"""The AML byte stream: package lengths, name strings and integer constants.

Encodings from ACPI 6.5 §20.2 (AML grammar): PkgLength (§20.2.4), NameString
(§20.2.2), ComputationalData (§20.2.3). Every reader is bounded by the end
offset it is given and raises :class:`StreamError` on truncated input; the
parser turns that into an ``AmlError`` naming table and offset.
"""

from __future__ import annotations

from typing import NamedTuple

ROOT_CHAR = 0x5C  # '\'
PARENT_PREFIX = 0x5E  # '^'
DUAL_NAME_PREFIX = 0x2E
MULTI_NAME_PREFIX = 0x2F
NULL_NAME = 0x00

_LEAD_CHARS = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_NAME_CHARS = _LEAD_CHARS | frozenset(b"0123456789")


class StreamError(Exception):
    """Malformed or truncated AML at ``offset`` (internal; wrapped in AmlError)."""

    def __init__(self, offset: int, detail: str) -> None:
        super().__init__(detail)
        self.offset = offset
        self.detail = detail


class NamePath(NamedTuple):
    """A parsed NameString: ``absolute`` (leading '\\'), ``parents`` ('^' count), ``segs``."""

    absolute: bool
    parents: int
    segs: tuple[str, ...]

    def __str__(self) -> str:
        prefix = "\\" if self.absolute else "^" * self.parents
        return prefix + ".".join(s.rstrip("_") or "_" for s in self.segs)


def pkg_length(data: bytes, pos: int, end: int) -> tuple[int, int]:
    """Decode a PkgLength at ``pos``: (length counted from ``pos``, offset after it)."""
    if pos >= end:
        raise StreamError(pos, "truncated PkgLength")
    lead = data[pos]
    count = lead >> 6
    if count == 0:
        return lead & 0x3F, pos + 1
    if pos + count >= end:
        raise StreamError(pos, "truncated PkgLength")
    value = lead & 0x0F
    for i in range(count):
        value |= data[pos + 1 + i] << (4 + 8 * i)
    return value, pos + 1 + count


def pkg_end(data: bytes, pos: int, end: int) -> tuple[int, int]:
    """A PkgLength at ``pos``: (end offset of the package, offset after the PkgLength)."""
    length, after = pkg_length(data, pos, end)
    stop = pos + length
    if stop > end or stop < after:
        raise StreamError(pos, f"PkgLength {length:#x} runs past its enclosing object")
    return stop, after


def name_seg(data: bytes, pos: int, end: int) -> str:
    """A 4-character NameSeg at ``pos`` (§20.2.2: LeadNameChar NameChar*3)."""
    if pos + 4 > end:
        raise StreamError(pos, "truncated NameSeg")
    seg = data[pos:pos + 4]
    if seg[0] not in _LEAD_CHARS or any(c not in _NAME_CHARS for c in seg[1:]):
        raise StreamError(pos, f"invalid NameSeg {seg!r}")
    return seg.decode("ascii")


def is_name_start(byte: int) -> bool:
    """Whether ``byte`` can start a NameString."""
    return byte in _LEAD_CHARS or byte in (ROOT_CHAR, PARENT_PREFIX, DUAL_NAME_PREFIX,
                                           MULTI_NAME_PREFIX)


def name_string(data: bytes, pos: int, end: int) -> tuple[NamePath, int]:
    """Decode a NameString at ``pos``: (the path, offset after it)."""
    absolute = False
    parents = 0
    if pos < end and data[pos] == ROOT_CHAR:
        absolute = True
        pos += 1
    else:
        while pos < end and data[pos] == PARENT_PREFIX:
            parents += 1
            pos += 1
    if pos >= end:
        raise StreamError(pos, "truncated NameString")
    lead = data[pos]
    if lead == NULL_NAME:
        return NamePath(absolute, parents, ()), pos + 1
    if lead == DUAL_NAME_PREFIX:
        pair: tuple[str, ...] = (name_seg(data, pos + 1, end), name_seg(data, pos + 5, end))
        return NamePath(absolute, parents, pair), pos + 9
    if lead == MULTI_NAME_PREFIX:
        if pos + 1 >= end:
            raise StreamError(pos, "truncated NameString")
        count = data[pos + 1]
        if count == 0:
            raise StreamError(pos, "MultiNamePath with zero segments")
        start = pos + 2
        segs = tuple(name_seg(data, start + 4 * i, end) for i in range(count))
        return NamePath(absolute, parents, segs), start + 4 * count
    return NamePath(absolute, parents, (name_seg(data, pos, end),)), pos + 4


def integer(data: bytes, pos: int, end: int, size: int) -> int:
    """A little-endian unsigned integer of ``size`` bytes at ``pos``."""
    if pos + size > end:
        raise StreamError(pos, f"truncated {size}-byte constant")
    return int.from_bytes(data[pos:pos + size], "little")


def string(data: bytes, pos: int, end: int) -> tuple[str, int]:
    """A String constant (§20.2.3: AsciiCharList NullChar): (text, offset after the NUL)."""
    stop = data.find(b"\x00", pos, end)
    if stop < 0:
        raise StreamError(pos, "String constant without its terminating NUL")
    raw = data[pos:stop]
    if any(c > 0x7F for c in raw):
        # ACPICA keeps the bytes as they are; latin-1 keeps them one char per byte.
        return raw.decode("latin-1"), stop + 1
    return raw.decode("ascii"), stop + 1
