"""Field units and buffer fields: creating them and moving their bits.

Field lists follow ACPI 6.5 §19.6.48 (Field), §19.6.64 (IndexField),
§19.6.7 (BankField). Accesses go through the region backend in units of the
field's access width, as ACPICA ``exfldio.c`` does, and fail with
AE_AML_REGION_LIMIT when a datum leaves its region (``AcpiExSetupRegion``).
Writes honour the update rule (Preserve / WriteAsOnes / WriteAsZeros) and
land in the backend's overlay, never on hardware.
"""

from __future__ import annotations

from typing import Any

from .convert import to_integer
from .interpreter import Fault, Frame, Interpreter
from .values import Buffer, BufferField, FieldUnit, Region

_ACCESS_BYTES = {0: 1, 1: 1, 2: 2, 3: 4, 4: 8, 5: 1}


def add_fields(it: Interpreter, f: Frame, entries: tuple[Any, ...], flags: int, kind: str,
               **links: Any) -> None:
    """Create the field units of one Field/IndexField/BankField list."""
    bit = 0
    access = flags & 0x0F
    for entry in entries:
        tag = entry[0]
        if tag == "reserved":
            bit += entry[1]
        elif tag == "access":
            access = entry[1] & 0x0F
            flags = (flags & 0xF0) | access
        elif tag == "named":
            seg, bits = entry[1], entry[2]
            if bits:
                unit = FieldUnit(it.ns.root, kind, bit, bits, flags,
                                 _access_bytes(access, bit, bits))
                unit.region = links.get("region")
                unit.index = links.get("index")
                unit.data = links.get("data")
                unit.bank = links.get("bank")
                unit.bank_value = links.get("bank_value", 0)
                from .stream import NamePath
                node = it.create(NamePath(False, 0, (seg,)), f, unit)
                if node is not None:
                    unit.node = node
            bit += bits


def _access_bytes(access: int, bit: int, bits: int) -> int:
    """The access width in bytes. AnyAcc means byte access in ACPICA
    (AcpiExDecodeFieldAccess; its AcpiExGenerateAccess is #ifdef'd out)."""
    return _ACCESS_BYTES.get(access, 1)


def _bits_out(data: bytes, shift: int, bits: int) -> int:
    return (int.from_bytes(data, "little") >> shift) & ((1 << bits) - 1)


def _result(it: Interpreter, value: int, bits: int) -> Any:
    size = (bits + 7) // 8
    if size > it.width // 8:
        return Buffer(value.to_bytes(size, "little"))
    return value


def region_bounds(it: Interpreter, region: Region) -> None:
    """Evaluate a region's address and length at its first use (AcpiDsGetRegionArguments)."""
    if region.terms is None:
        return
    offset, length = region.terms
    frame = Frame(region.scope, region.table, [])
    region.terms = None
    region.address = it.integer(offset, frame)
    region.length = it.integer(length, frame)


def _region_io(it: Interpreter, unit: FieldUnit, first: int, count: int,
               data: bytes | None) -> bytes:
    region = unit.region
    if region is None:
        raise Fault("field has no region")
    if unit.kind == "bank" and unit.bank is not None:
        it.store_node(unit.bank_value, unit.bank)
    if region.terms is not None:
        region_bounds(it, region)
    if first + count > region.length:
        raise Fault(f"field {unit.node.path} at byte {first:#x}+{count} is beyond region "
                    f"{region.node.path} of length {region.length:#x} (AE_AML_REGION_LIMIT)")
    address = region.address + first
    if region.space == 1 and address + count - 1 > 0xFFFF:
        # ACPICA AcpiHwValidateIoRequest: I/O ports end at 64K.
        raise Fault(f"SystemIO port {address:#x}+{count} is above 64K (AE_LIMIT)")
    if data is not None:
        it.backend.write(region.space, address, data)
        return data
    raw, label = it.backend.read(region.space, address, count)
    if it.reads is not None:
        it.note_read(region.node.path, region.space, address, count, label)
    return raw


def _index_io(it: Interpreter, unit: FieldUnit, first: int, count: int,
              data: bytes | None) -> bytes:
    """IndexField: per datum, write the byte offset to Index, then move Data."""
    index, target = unit.index, unit.data
    if index is None or target is None:
        raise Fault("IndexField without its registers")
    width = unit.access_bytes
    out = bytearray()
    for pos in range(first, first + count, width):
        it.store_node(pos, index)
        if data is not None:
            it.store_node(int.from_bytes(data[pos - first:pos - first + width], "little"), target)
        else:
            value = it.read_node(target)
            value = to_integer(value, 64)
            out += (value & ((1 << (8 * width)) - 1)).to_bytes(width, "little")
    return bytes(out) if data is None else data


def read_field(it: Interpreter, unit: FieldUnit | BufferField) -> Any:
    """The value of a field: Integer, or Buffer when wider than an Integer."""
    if type(unit) is BufferField:
        buf = unit.buffer.data
        first = unit.bit_offset // 8
        last = (unit.bit_offset + unit.bit_length + 7) // 8
        value = _bits_out(bytes(buf[first:last]), unit.bit_offset % 8, unit.bit_length)
        return _result(it, value, unit.bit_length)
    assert type(unit) is FieldUnit
    first, count, shift = unit.span
    io = _index_io if unit.kind == "index" else _region_io
    raw = io(it, unit, first, count, None)
    bits = unit.bit_length
    value = (int.from_bytes(raw, "little") >> shift) & ((1 << bits) - 1)
    return value if bits <= it.width else _result(it, value, bits)


def _as_bits(it: Interpreter, value: Any, bits: int) -> int:
    if type(value) is Buffer:
        number = int.from_bytes(value.data, "little")
    elif type(value) is str:
        number = int.from_bytes(value.encode("latin-1"), "little")
    else:
        number = to_integer(value, it.width)
    return number & ((1 << bits) - 1)


def write_field(it: Interpreter, unit: FieldUnit | BufferField, value: Any) -> None:
    """Write ``value`` into a field (ACPICA AcpiExWriteDataToField)."""
    number = _as_bits(it, value, unit.bit_length)
    mask = ((1 << unit.bit_length) - 1)
    if type(unit) is BufferField:
        buf = unit.buffer.data
        first = unit.bit_offset // 8
        last = (unit.bit_offset + unit.bit_length + 7) // 8
        shift = unit.bit_offset % 8
        old = int.from_bytes(buf[first:last], "little")
        new = (old & ~(mask << shift)) | (number << shift)
        buf[first:last] = new.to_bytes(last - first, "little")
        return
    assert type(unit) is FieldUnit
    first, count, shift = unit.span
    io = _index_io if unit.kind == "index" else _region_io
    rule = (unit.flags >> 5) & 3
    if shift == 0 and unit.bit_length == 8 * count:
        old = 0  # the field covers its whole datum: nothing to preserve
    elif rule == 0:
        old = int.from_bytes(io(it, unit, first, count, None), "little")
    elif rule == 1:
        old = (1 << (8 * count)) - 1
    else:
        old = 0
    new = (old & ~(mask << shift)) | (number << shift)
    io(it, unit, first, count, new.to_bytes(count, "little"))
