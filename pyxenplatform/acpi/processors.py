"""Find the processors, do the OSPM handshake, evaluate their power objects.

Mirrors what acpiexec does before its batch commands (ACPICA 20200925:
``aemain.c``, ``nsinit.c`` AcpiNsInitializeDevices): load DSDT then SSDTs
(module-level code runs as they load), run ``_REG`` for the address spaces
whose handlers acpiexec installs after loading, ``\\_INI``, ``\\_SB._INI``,
then ``_STA``/``_INI`` of every Device/Processor/ThermalZone whose subtree
has an ``_INI``. Then, per the issue: ``_PDC`` (or ``_OSC``) on every
processor, then ``_CST _CSD _PCT _PSS _PSD _PPC _CPC _LPI`` of each.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Union

from ..errors import AmlError
from .interpreter import Fault, Interpreter
from .namespace import Node
from .regions import DevMem, RegionBackend, ZeroMemory
from .values import T_DEVICE, T_PROCESSOR, T_THERMAL, Buffer, IndexRef, Method, NodeRef, \
    LiveValue, Package, PendingName, Processor, Region, SlotRef, object_type

# ACPICA's AcpiGbl_NsTypeNames (utdecode.c), what acpiexec prints for a reference.
ACPICA_TYPE_NAMES = {6: "Device", 7: "Event", 8: "Method", 9: "Mutex", 10: "Region",
                     11: "Power", 12: "Processor", 13: "Thermal"}
OBJECTS = ("_CST", "_CSD", "_PCT", "_PSS", "_PSD", "_PPC", "_CPC", "_LPI")
INTEL_PROCESSOR_UUID = bytes.fromhex("16a677400c29be479ebdd87058713953")  # 4077A616-290C-...
# Address spaces whose handlers acpiexec installs after the tables load (aeinstall.c
# SpaceIdList); installing a handler runs the _REG methods of that space.
LATE_REG_SPACES = (4, 5, 6, 7, 8, 9, 10, 0x7F, 0x80)


@dataclass(frozen=True)
class Reference:
    """A package element that names an object without a value (a Device, Processor,
    Method...): ``path`` and ``type``, ACPICA's type name ("Device", "Processor")."""

    path: str
    type: str


AcpiValue = Union[int, str, bytes, tuple["AcpiValue", ...], Reference, None]


@dataclass(frozen=True)
class RegionRead:
    """An OperationRegion an evaluation read (provenance of machine-dependent values)."""

    region: str
    space: int
    address: int
    length: int
    source: str  # "zeros", "memory" or "unreadable"


@dataclass(frozen=True)
class FirmwareProcessor:
    """One processor object and its evaluated power objects."""

    path: str
    acpi_id: int
    status: int | None
    objects: Mapping[str, AcpiValue | AmlError]
    reads: Mapping[str, tuple[RegionRead, ...]]


@dataclass(frozen=True)
class FirmwareReport:
    """Every processor found, and what went wrong on the way (load/handshake warnings)."""

    processors: tuple[FirmwareProcessor, ...]
    warnings: tuple[str, ...] = field(default=())


def to_value(it: Interpreter, obj: Any, depth: int = 0) -> AcpiValue:
    """A returned object as a public AcpiValue, as ACPICA copies it out
    (``AcpiUtCopyIobjectToEobject``): a returned reference is resolved to its
    target's value; in a package only a named reference survives, other
    reference elements fail the evaluation with AE_TYPE."""
    if depth == 0:
        obj = _resolve_top(it, obj)
    t = type(obj)
    if t is int or t is str:
        return obj  # type: ignore[no-any-return]  # exact type() test narrows only at run time (faster than isinstance)
    if t is Buffer:
        return bytes(obj.data)
    if t is Package:
        if depth > 32:
            raise Fault("package nested too deeply")
        return tuple(to_value(it, item, depth + 1) for item in obj.items)
    if obj is None:
        return None
    if t is PendingName:
        from .references import resolve_element
        return to_value(it, resolve_element(it, obj.path, obj.scope), depth)
    if t is LiveValue:
        return obj.value  # type: ignore[no-any-return]  # exact type() test narrows only at run time (faster than isinstance)
    if t is NodeRef and obj.named:
        return Reference(obj.node.path, ACPICA_TYPE_NAMES.get(object_type(obj.node.obj),
                                                             "Untyped"))
    raise Fault(f"cannot return a package element of type {type(obj).__name__} "
                "(unsupported reference class, AE_TYPE)")


def _resolve_top(it: Interpreter, obj: Any) -> Any:
    for _ in range(8):
        t = type(obj)
        if t is IndexRef:
            from .convert import deref_index
            obj = deref_index(obj)
        elif t is NodeRef and not obj.named:
            obj = it.read_node(obj.node)
        elif t is SlotRef:
            obj = obj.slots[obj.index]
        else:
            return obj
    return obj


class Session:
    """One loaded namespace: tables in, evaluations out."""

    def __init__(self, tables: Sequence[tuple[str, bytes]], backend: RegionBackend) -> None:
        revision = tables[0][1][8] if tables and len(tables[0][1]) > 8 else 2
        # ACPICA AcpiUtSetIntegerWidth: DSDT revision < 2 means 32-bit integers.
        self.it = Interpreter(32 if revision < 2 else 64, backend)
        for source, data in tables:
            self.it.load_table(source, data)
        from .references import resolve_pending
        resolve_pending(self.it)
        self.initialize()

    def error(self, fault: Fault) -> AmlError:
        it = self.it
        source = it.tables[fault.table].source if fault.table is not None else "AML"
        return AmlError(source, fault.off, fault.code, fault.detail, opcode_name=fault.op)

    def evaluate(self, node: Node, args: list[Any] | None = None) -> Any:
        """Evaluate a named object (call a method); Fault on failure."""
        it = self.it
        it.ops = 0
        try:
            if type(node.obj) is Method:
                return it.call(node, list(args or []))
            return it.read_node(node)
        except RecursionError:
            raise Fault("AML nested too deeply (Python recursion limit)") from None
        except (ArithmeticError, LookupError, ValueError, TypeError, AttributeError) as exc:
            raise Fault(f"internal error on malformed AML: {exc!r}") from None

    def try_evaluate(self, node: Node | None, args: list[Any] | None = None) -> Any:
        if node is None:
            return None
        try:
            return self.evaluate(node, args)
        except Fault as fault:
            self.it.warn(f"{node.path}: {self.error(fault)}")
            return None

    def initialize(self) -> None:
        it = self.it
        self._device_handlers()
        regions = [n for n in it.ns.walk() if type(n.obj) is Region]
        for space in LATE_REG_SPACES:
            for node in regions:
                self._reg(node, space)
        self.try_evaluate(it.ns.root.children.get("_INI"))
        sb = it.ns.root.children.get("_SB_")
        if sb is not None:
            self.try_evaluate(sb.children.get("_INI"))
        has_ini: set[int] = set()
        for node in it.ns.walk():
            if node.name == "_INI":
                parent = node.parent
                while parent is not None and id(parent) not in has_ini:
                    has_ini.add(id(parent))
                    parent = parent.parent
        self._init_devices(it.ns.root, has_ini, sb)

    def _reg(self, region: Node, space: int) -> None:
        """_REG(space, 1) in the region's scope, once per region (AcpiEvRegRun)."""
        if region.obj.space == space and region.parent is not None:
            self.try_evaluate(region.parent.children.get("_REG"), [space, 1])

    def _device_handlers(self) -> None:
        """acpiexec's AeInstallDeviceHandlers: an EC handler on every PNP0C09 device and a
        PCI config handler on every PNP0A08 device; installing one runs the _REG methods
        of that space below the device (AcpiEvExecuteRegMethods, evregion.c), and for EC
        an "orphan" _REG when the device has no EC region of its own."""
        for hid, space in (("PNP0C09", 3), ("PNP0A08", 2)):
            for device in self._devices_with_id(self.it.ns.root, hid):
                for node in self.it.ns.walk(device):
                    if type(node.obj) is Region:
                        self._reg(node, space)
                if space == 3 and not any(type(c.obj) is Region and c.obj.space == 3
                                          for c in device.children.values()):
                    self.try_evaluate(device.children.get("_REG"), [3, 1])

    def _devices_with_id(self, scope: Node, hid: str) -> list[Node]:
        """AcpiGetDevices (nsxfeval.c AcpiNsGetDeviceCallback): devices whose _HID, else
        _CID, is ``hid`` and whose _STA says present or functioning. A failing _HID/_CID
        or _STA, or a matching device neither present nor functioning, hides its subtree."""
        found: list[Node] = []
        for node in list(scope.children.values()):
            if node.alias is None and object_type(node.obj) == T_DEVICE:
                match = self._matches(node, hid)
                if match is None:
                    continue
                if match:
                    status = self.status(node)
                    if status is not None and (status < 0 or not status & 9):
                        continue
                    found.append(node)
            found.extend(self._devices_with_id(node, hid))
        return found

    def _matches(self, node: Node, hid: str) -> bool | None:
        """Whether ``node``'s _HID (or, failing that, _CID) is ``hid``; None on failure."""
        for name in ("_HID", "_CID"):
            child = node.children.get(name)
            if child is None:
                return False
            try:
                value = self.evaluate(child.target())
            except Fault:
                return None
            items = value.items if type(value) is Package else [value]
            ids = [eisa_id(v) if type(v) is int else v for v in items]
            if hid in ids:
                return True
        return False

    def _init_devices(self, scope: Node, has_ini: set[int], sb: Node | None) -> None:
        """AcpiNsInitOneDevice over the namespace, pre-order."""
        for node in list(scope.children.values()):
            if node.alias is None and object_type(node.obj) in (T_DEVICE, T_PROCESSOR, T_THERMAL):
                if id(node) not in has_ini:
                    continue
                status = self.status(node)
                if status is not None and status < 0:
                    self._init_devices(node, has_ini, sb)  # _STA failed: walk on, no _INI
                    continue
                flags = 0xFFFFFFFF if status is None else status
                if not flags & 1:
                    if flags & 8:
                        self._init_devices(node, has_ini, sb)
                    continue
                if node is not sb:
                    self.try_evaluate(node.children.get("_INI"))
            if node.children:
                self._init_devices(node, has_ini, sb)

    def status(self, node: Node) -> int | None:
        """_STA of ``node``: None if absent, -1 if it failed."""
        sta = node.children.get("_STA")
        if sta is None:
            return None
        try:
            from .convert import to_integer
            return to_integer(self.evaluate(sta.target()), 64)
        except Exception as exc:  # Fault or ConversionError
            self.it.warn(f"{sta.path}: {exc}")
            return -1

    def processors(self) -> list[tuple[Node, int]]:
        """(node, ACPI id) of every Processor() and ACPI0007 Device, in namespace order."""
        found = []
        for node in self.it.ns.walk():
            if node.alias is not None:
                continue  # an Alias is not a processor (Linux acpi_bus_scan skips aliases)
            obj = node.obj
            if type(obj) is Processor:
                found.append((node, obj.proc_id))
            elif object_type(obj) == T_DEVICE and "_HID" in node.children:
                uid = self._acpi0007_uid(node)
                if uid is not None:
                    found.append((node, uid))
        return found

    def _acpi0007_uid(self, node: Node) -> int | None:
        from .convert import to_integer
        hid = self.try_evaluate(node.children["_HID"].target())
        if type(hid) is int:
            hid = eisa_id(hid)
        if hid != "ACPI0007":
            return None
        uid = self.try_evaluate(node.children["_UID"].target()) if "_UID" in node.children \
            else None
        if type(uid) is str:
            try:
                return uid_number(uid)
            except ValueError:
                self.it.warn(f"{node.path}._UID {uid!r} is not a number")
                return None
        if uid is None:
            self.it.warn(f"{node.path}: ACPI0007 device without a usable _UID")
            return None
        return to_integer(uid, 64)

    def handshake(self, node: Node, pdc: int) -> None:
        """_PDC(Buffer{1, 1, pdc}), else _OSC(Intel UUID, 1, 2, Buffer{0, pdc})."""
        if "_PDC" in node.children:
            data = (1).to_bytes(4, "little") + (1).to_bytes(4, "little") + pdc.to_bytes(4, "little")
            self.try_evaluate(node.children["_PDC"].target(), [Buffer(data)])
        elif "_OSC" in node.children:
            caps = (0).to_bytes(4, "little") + pdc.to_bytes(4, "little")
            self.try_evaluate(node.children["_OSC"].target(),
                              [Buffer(INTEL_PROCESSOR_UUID), 1, 2, Buffer(caps)])

    def read_object(self, node: Node, name: str) -> tuple[AcpiValue | AmlError, tuple[RegionRead, ...]]:
        from .predefined import check_return
        it = self.it
        it.reads = {}
        try:
            value = to_value(it, check_return(it, name, self.evaluate(node)))
            result: AcpiValue | AmlError = value
        except Fault as fault:
            result = self.error(fault)
        reads = tuple(RegionRead(*key) for key in it.reads)
        it.reads = None
        return result, reads


def uid_number(text: str) -> int:
    """A numeric string _UID as Linux reads it (acpi_dev_uid_to_integer: kstrtou64 base 0:
    "0x" hex, a leading 0 octal, else decimal)."""
    text = text.strip()
    if text[:2].lower() == "0x":
        return int(text[2:], 16)
    if len(text) > 1 and text[0] == "0":
        return int(text[1:], 8)
    return int(text, 10)


def eisa_id(value: int) -> str:
    """Decode a compressed EISA id (ACPI 6.5 §6.1.5) to its 7-character string."""
    v = int.from_bytes((value & 0xFFFFFFFF).to_bytes(4, "little"), "big")
    letters = "".join(chr(((v >> shift) & 0x1F) + 0x40) for shift in (26, 21, 16))
    return f"{letters}{v & 0xFFFF:04X}"


def evaluate_tables(tables: Sequence[tuple[str, bytes]], *, pdc: int = 0xBBF,
                    backend: RegionBackend | None = None) -> FirmwareReport:
    """Load ``(source, bytes)`` tables (DSDT first), handshake, read every processor."""
    session = Session(tables, backend or ZeroMemory())
    found = session.processors()
    for node, _ in found:
        session.handshake(node, pdc)
    read = []
    for node, acpi_id in found:
        objects: dict[str, AcpiValue | AmlError] = {}
        reads: dict[str, tuple[RegionRead, ...]] = {}
        for name in OBJECTS:
            child = node.children.get(name)
            if child is None:
                continue
            objects[name], reads[name] = session.read_object(child.target(), name)
        read.append((node, acpi_id, objects, reads))
    # _STA last: acpiexec evaluates only the objects, so a _STA with side effects must not
    # run before any of them.
    out = []
    for node, acpi_id, objects, reads in read:
        status = session.status(node)
        out.append(FirmwareProcessor(node.path, acpi_id, None if status is None or status < 0
                                     else status, objects, reads))
    return FirmwareReport(tuple(out), tuple(session.it.warnings))


def read_firmware(path: str | os.PathLike[str] | None = None, *, pdc: int = 0xBBF,
                  memory: RegionBackend | None = None) -> FirmwareReport:
    """Read the processors' power objects from a folder/dump (``path``) or this machine.

    Regions read as zeros for tables from files; for the running machine
    (``path=None``), SystemMemory is read from /dev/mem, read-only.
    """
    from .tables import load_tables
    tables = load_tables(path)
    backend = memory if memory is not None else (DevMem() if path is None else ZeroMemory())
    try:
        return evaluate_tables([(t.source, t.data) for t in tables], pdc=pdc, backend=backend)
    finally:
        if isinstance(backend, DevMem):
            backend.close()
