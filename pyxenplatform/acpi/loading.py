"""``Load`` and ``LoadTable`` (ACPICA ``exconfig.c``).

A dump already holds every table the firmware loads at run time, so a Load of
a table that is already loaded is a logged no-op. A region that holds no
table fails the Load with AE_INVALID_TABLE_LENGTH, exactly as acpiexec does
(AcpiExLoadOp checks the header length first), which aborts the calling
method there too.
"""

from __future__ import annotations

from typing import Any

from .convert import deref_index
from .interpreter import Fault, Frame, Interpreter
from .parser import NAMEREF, Term
from .values import Buffer, DdbHandle, FieldUnit, Region

HEADER = 36


def _read_source(it: Interpreter, t: Term, f: Frame) -> bytes:
    source = t.args[0]
    obj: Any
    if source is not None and source.op == NAMEREF:
        obj = it.node(source, f).obj
    else:
        obj = deref_index(it.value(source, f))
    if type(obj) is Region:
        from .fields import region_bounds
        if obj.space != 0:
            raise Fault("Load from a region outside SystemMemory (AE_AML_OPERAND_TYPE)")
        region_bounds(it, obj)
        header, label = it.backend.read(0, obj.address, HEADER)
        it.note_read(obj.node.path, 0, obj.address, HEADER, label)
        length = int.from_bytes(header[4:8], "little")
        if length < HEADER:
            raise Fault(f"Load: region {obj.node.path} holds no table "
                        "(AE_INVALID_TABLE_LENGTH)")
        if length > 1 << 20:
            raise Fault(f"Load: table of {length} bytes is too large")
        data, label = it.backend.read(0, obj.address, length)
        it.note_read(obj.node.path, 0, obj.address, length, label)
        return data
    if type(obj) is FieldUnit:
        from .fields import read_field
        obj = read_field(it, obj)
    if type(obj) is Buffer:
        data = bytes(obj.data)
        if len(data) < HEADER:
            raise Fault("Load: buffer holds no table (AE_INVALID_TABLE_LENGTH)")
        length = int.from_bytes(data[4:8], "little")
        if length > len(data):
            raise Fault("Load: table longer than its buffer (AE_AML_BUFFER_LIMIT)")
        if length < HEADER:
            raise Fault("Load: buffer holds no table (AE_INVALID_TABLE_LENGTH)")
        return data[:length]
    raise Fault("Load needs an OperationRegion, field or Buffer (AE_AML_OPERAND_TYPE)")


def load_from_object(it: Interpreter, t: Term, f: Frame) -> Any:
    data = _read_source(it, t, f)
    where = f"{it.tables[f.table].source}: AML offset {t.off:#x}: Load"
    for table in it.tables:
        if table.data == data or table.data[:HEADER] == data[:HEADER]:
            it.warn(f"{where}: table {table.source} is already loaded; ignored")
            it.store(DdbHandle(it.tables.index(table)), t.args[1], f)
            return None
    if data[:4] not in (b"SSDT", b"OEM1", b"OEMx") and not data[:3] == b"OEM":
        raise Fault(f"Load: table signature {data[:4]!r} is not SSDT (AE_BAD_SIGNATURE)")
    if sum(data) & 0xFF:
        # Linux loads it with a warning (ACPICA 20200925 tbprint.c AcpiTbVerifyChecksum;
        # acconfig.h ACPI_CHECKSUM_ABORT FALSE). acpiexec alone is built with it TRUE
        # (generate/unix/acpiexec/Makefile) and fails the Load with AE_BAD_CHECKSUM.
        it.warn(f"{where}: table checksum is wrong; loaded anyway, as ACPICA does")
    depth, it.depth = it.depth, 0
    try:
        index = it.load_table(f"Load@{t.off:#x}", data, dynamic=True)
        from .references import resolve_pending
        resolve_pending(it)  # AcpiNsLoadTable resolves the new packages' named elements
    finally:
        it.depth = depth
    it.store(DdbHandle(index), t.args[1], f)
    return None


def load_table_op(it: Interpreter, t: Term, f: Frame) -> Any:
    """LoadTable(Signature, OemId, OemTableId, ...): ACPICA AcpiExLoadTableOp looks the
    table up among the tables it was given (AcpiTbFindTable): none matches -> 0; one
    matches -> it is loaded already, so AcpiNsLoadTable fails with AE_ALREADY_EXISTS."""
    from .convert import to_string
    names = [to_string(it.value(arg, f), it.width) for arg in t.args[:3]]
    for arg in t.args[3:]:
        it.value(arg, f)
    if len(names[0]) > 4 or len(names[1]) > 6 or len(names[2]) > 8:
        raise Fault("LoadTable: signature or OEM id too long (AE_AML_STRING_LIMIT)")
    key = (names[0].encode("latin-1").ljust(4, b"\x00"),
           names[1].encode("latin-1").ljust(6, b"\x00"),
           names[2].encode("latin-1").ljust(8, b"\x00"))
    for table in it.tables:
        data = table.data
        if (data[0:4], data[10:16], data[16:24]) == key:
            raise Fault(f"LoadTable: {table.source} is already loaded (AE_ALREADY_EXISTS)")
    return 0
