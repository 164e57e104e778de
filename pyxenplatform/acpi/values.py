"""Runtime objects of the AML interpreter (ACPI 6.5 §19.3.5, object types of §19.6.97).

Integers are Python ``int`` and Strings ``str``; Buffers and Packages are
mutable (``Index`` and ``CreateField`` write into them), so they are small
classes. Named objects that are not data (methods, regions, fields, devices,
processors...) are the classes below, attached to namespace nodes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .namespace import Node
    from .parser import Term


class Buffer:
    """An AML Buffer: a mutable byte array."""

    __slots__ = ("data",)

    def __init__(self, data: bytes | bytearray) -> None:
        self.data = bytearray(data)

    def __repr__(self) -> str:
        return f"Buffer({bytes(self.data)!r})"


class Package:
    """An AML Package: a mutable list of objects (None = uninitialized element)."""

    __slots__ = ("items",)

    def __init__(self, items: list[Any]) -> None:
        self.items = items

    def __repr__(self) -> str:
        return f"Package({self.items!r})"


class NodeRef:
    """A reference to a named object: RefOf(Name) (``named`` False), or a NameString
    package element naming an object without a value, such as a Device (``named`` True)."""

    __slots__ = ("node", "named")

    def __init__(self, node: Node, named: bool = False) -> None:
        self.node = node
        self.named = named


class LiveValue:
    """A package element that *is* a named Integer or String (ACPICA shares the object):
    it shows the named object's current value, as a later Store updates it in place."""

    __slots__ = ("node", "captured")

    def __init__(self, node: Node, captured: int | str) -> None:
        self.node = node
        self.captured = captured

    @property
    def value(self) -> int | str:
        current = self.node.obj
        return current if type(current) is type(self.captured) else self.captured


class PendingName:
    """A NameString element of a package built by module-level code: ACPICA resolves
    these after every table is loaded (``AcpiDsResolvePackageElement``)."""

    __slots__ = ("path", "scope")

    def __init__(self, path: Any, scope: Node) -> None:
        self.path = path
        self.scope = scope


class SlotRef:
    """A reference to a method Local or Arg: RefOf(Local0)."""

    __slots__ = ("slots", "index", "is_arg")

    def __init__(self, slots: list[Any], index: int, is_arg: bool) -> None:
        self.slots = slots
        self.index = index
        self.is_arg = is_arg


class IndexRef:
    """The result of Index(): one element of a Package, Buffer or String.

    Python strings are immutable, so a String's ``owner`` (a Local/Arg slot list and
    index, or a namespace node) is kept to write a stored character back."""

    __slots__ = ("container", "index", "owner")

    def __init__(self, container: Package | Buffer | str, index: int, owner: Any = None) -> None:
        self.container = container
        self.index = index
        self.owner = owner


class Method:
    """A control method: its AML body range (parsed at first call) and flags."""

    __slots__ = ("node", "table", "start", "end", "flags", "body", "builtin")

    def __init__(self, node: Node, table: int, start: int, end: int, flags: int) -> None:
        self.node = node
        self.table = table
        self.start = start
        self.end = end
        self.flags = flags
        self.body: tuple[Any, ...] | None = None
        self.builtin: Any = None

    @property
    def arg_count(self) -> int:
        return self.flags & 7


class Scope:
    """A namespace object with children only: Scope, Device, ThermalZone, PowerResource."""

    __slots__ = ("type",)

    def __init__(self, type_: int) -> None:
        self.type = type_


class Processor:
    """A Processor() object (ACPI 6.5 §19.6.108, deprecated but common)."""

    __slots__ = ("proc_id", "pblk_address", "pblk_length")

    def __init__(self, proc_id: int, pblk_address: int, pblk_length: int) -> None:
        self.proc_id = proc_id
        self.pblk_address = pblk_address
        self.pblk_length = pblk_length


class Region:
    """An OperationRegion; address and length are evaluated at first access (ACPICA
    ``AcpiDsGetRegionArguments``)."""

    __slots__ = ("node", "space", "terms", "table", "scope", "address", "length")

    def __init__(self, node: Node, space: int, terms: tuple[Any, Any], table: int,
                 scope: Node) -> None:
        self.node = node
        self.space = space
        self.terms: tuple[Any, Any] | None = terms
        self.table = table
        self.scope = scope
        self.address = 0
        self.length = 0


class FieldUnit:
    """A Field, IndexField or BankField unit: ``bit_offset``/``bit_length`` in its region."""

    __slots__ = ("node", "kind", "region", "bit_offset", "bit_length", "flags", "access_bytes",
                 "index", "data", "bank", "bank_value", "span")

    def __init__(self, node: Node, kind: str, bit_offset: int, bit_length: int, flags: int,
                 access_bytes: int) -> None:
        self.node = node
        self.kind = kind  # "field", "index", "bank"
        self.region: Region | None = None
        self.bit_offset = bit_offset
        self.bit_length = bit_length
        self.flags = flags
        self.access_bytes = access_bytes
        self.index: Node | None = None  # IndexField: index and data field nodes
        self.data: Node | None = None
        self.bank: Node | None = None  # BankField: bank register node and value
        self.bank_value = 0
        width = access_bytes
        first = (bit_offset // 8) // width * width
        last = (bit_offset + bit_length + 7) // 8
        # (first byte, byte count, bit shift) of the aligned data the unit covers
        self.span = (first, (last - first + width - 1) // width * width, bit_offset - first * 8)


class BufferField:
    """CreateField and kin: bits of a Buffer."""

    __slots__ = ("buffer", "bit_offset", "bit_length")

    def __init__(self, buffer: Buffer, bit_offset: int, bit_length: int) -> None:
        self.buffer = buffer
        self.bit_offset = bit_offset
        self.bit_length = bit_length


class Mutex:
    """A Mutex: acquisition is tracked only so Release pairs up (no threads here)."""

    __slots__ = ("sync_level", "depth")

    def __init__(self, sync_level: int) -> None:
        self.sync_level = sync_level
        self.depth = 0


class Event:
    """An Event: Signal/Wait/Reset counts, nothing blocks."""

    __slots__ = ("count",)

    def __init__(self) -> None:
        self.count = 0


class DdbHandle:
    """The handle Load/LoadTable return."""

    __slots__ = ("table",)

    def __init__(self, table: int) -> None:
        self.table = table


# ObjectType() codes, ACPI 6.5 §19.6.97.
T_UNINIT, T_INTEGER, T_STRING, T_BUFFER, T_PACKAGE, T_FIELD, T_DEVICE, T_EVENT = range(8)
T_METHOD, T_MUTEX, T_REGION, T_POWER, T_PROCESSOR, T_THERMAL, T_BUFFER_FIELD = range(8, 15)
T_DDB, T_DEBUG = 15, 16

TYPE_NAMES = {
    T_UNINIT: "Uninitialized", T_INTEGER: "Integer", T_STRING: "String", T_BUFFER: "Buffer",
    T_PACKAGE: "Package", T_FIELD: "FieldUnit", T_DEVICE: "Device", T_EVENT: "Event",
    T_METHOD: "Method", T_MUTEX: "Mutex", T_REGION: "OperationRegion", T_POWER: "PowerResource",
    T_PROCESSOR: "Processor", T_THERMAL: "ThermalZone", T_BUFFER_FIELD: "BufferField",
    T_DDB: "DDBHandle", T_DEBUG: "Debug",
}


def object_type(obj: Any) -> int:
    """The ObjectType() code of a runtime object."""
    t = type(obj)
    if t is int:
        return T_INTEGER
    if t is str:
        return T_STRING
    if t is Buffer:
        return T_BUFFER
    if t is Package:
        return T_PACKAGE
    if t is FieldUnit:
        return T_FIELD
    if t is Scope:
        return int(obj.type)
    return _TYPES.get(t, T_UNINIT)


_TYPES: dict[type, int] = {
    Method: T_METHOD, Processor: T_PROCESSOR, Region: T_REGION, BufferField: T_BUFFER_FIELD,
    Mutex: T_MUTEX, Event: T_EVENT, DdbHandle: T_DDB,
}


def copy_value(obj: Any) -> Any:
    """A deep copy of a data object, as ACPICA's ``AcpiUtCopyIobjectToIobject``."""
    t = type(obj)
    if t is Buffer:
        return Buffer(obj.data)
    if t is Package:
        return Package([copy_value(item) for item in obj.items])
    if t is LiveValue:
        return obj.value
    return obj
