"""Data objects and references: Buffer, Package (and its NameString elements), RefOf,
CondRefOf, DerefOf, Index, SizeOf, ObjectType (ACPI 6.5 §19.6; ACPICA dsobject.c,
dspkginit.c, exoparg1.c, exoparg2.c).
"""

from __future__ import annotations

from typing import Any

from .convert import deref_index
from .interpreter import MAX_OBJECT_SIZE, Fault, Frame, Interpreter, handler
from .parser import ARG, LOCAL, NAMEREF, Term
from .values import T_DEVICE, T_EVENT, T_METHOD, T_MUTEX, T_POWER, T_PROCESSOR, T_REGION, \
    T_THERMAL, Buffer, IndexRef, LiveValue, NodeRef, Package, PendingName, Scope, SlotRef, \
    object_type


# -- data objects -------------------------------------------------------------

@handler(0x11)
def _buffer(it: Interpreter, t: Term, f: Frame) -> Buffer:
    size = it.integer(t.args[0], f)
    init: bytes = t.args[1]
    if size > MAX_OBJECT_SIZE:
        raise Fault(f"Buffer of {size} bytes is beyond the {MAX_OBJECT_SIZE}-byte limit")
    if len(init) > size:
        size = len(init)  # ACPICA: the initializer wins over a smaller declared size
    return Buffer(init + bytes(size - len(init)))


@handler(0x12, 0x13)
def _package(it: Interpreter, t: Term, f: Frame) -> Package:
    count = it.integer(t.args[0], f) if t.op == 0x13 else t.args[0]
    elements = t.args[1]
    if count > MAX_OBJECT_SIZE:
        raise Fault(f"Package of {count} elements is beyond the {MAX_OBJECT_SIZE} limit")
    items: list[Any] = []
    for element in elements[:max(count, 0)] if count < len(elements) else elements:
        items.append(package_element(it, element, f))
    if len(items) < count:
        items.extend([None] * (count - len(items)))
    return Package(items)


def package_element(it: Interpreter, element: Any, f: Frame) -> Any:
    """A package element: data objects are built; a NameString is resolved now in a
    method, after all tables are loaded in module-level code (dspkginit.c)."""
    if type(element) is Term:
        if element.op == NAMEREF:
            if it.depth == 0:
                return PendingName(element.args[0], f.scope)
            return resolve_element(it, element.args[0], f.scope)
        return it.ev(element, f)
    return element


_STAY_REFERENCES = frozenset({T_DEVICE, T_THERMAL, T_METHOD, T_MUTEX, T_POWER, T_PROCESSOR,
                              T_EVENT, T_REGION})


def resolve_element(it: Interpreter, path: Any, scope: Any) -> Any:
    """ACPICA AcpiDsResolvePackageElement: a data object's value (a field is read), a
    named reference for objects without a value, None (Null) when the name is absent."""
    node = it.ns.lookup(path, scope)
    if node is None:
        it.warn(f"could not resolve named package element {path} (AE_NOT_FOUND)")
        return None
    obj = node.obj
    kind = object_type(obj)
    if obj is None or (type(obj) is Scope and kind == 0):
        return None
    if kind in _STAY_REFERENCES:
        return NodeRef(node, named=True)
    if type(obj) is int or type(obj) is str:
        return LiveValue(node, obj)
    try:
        return it.read_node(node)
    except Fault as fault:
        it.warn(f"could not resolve named package element {path}: {fault.detail}")
        return NodeRef(node, named=True)


def resolve_pending(it: Interpreter) -> None:
    """Resolve the NameString elements of every module-level package (AcpiNsInitializeObjects)."""
    seen: set[int] = set()

    def fix(package: Package) -> None:
        if id(package) in seen:
            return
        seen.add(id(package))
        items = package.items
        for i, item in enumerate(items):
            if type(item) is PendingName:
                items[i] = resolve_element(it, item.path, item.scope)
            elif type(item) is Package:
                fix(item)

    for node in it.ns.walk():
        obj = node.obj
        if type(obj) is PendingName:
            node.obj = resolve_element(it, obj.path, obj.scope)
        elif type(obj) is Package:
            fix(obj)


# -- references ---------------------------------------------------------------

@handler(0x71)
def _refof(it: Interpreter, t: Term, f: Frame) -> Any:
    return reference(it, t.args[0], f)


def reference(it: Interpreter, target: Any, f: Frame) -> Any:
    if target is None:
        raise Fault("RefOf needs an object")
    op = target.op
    if op == LOCAL:
        return SlotRef(f.locals, target.args[0], False)
    if op == ARG:
        held = f.args[target.args[0]]
        if type(held) in (NodeRef, SlotRef, IndexRef):
            return held
        return SlotRef(f.args, target.args[0], True)
    if op == NAMEREF:
        return NodeRef(it.node(target, f))
    return it.ev(target, f)


@handler(0x5B12)
def _condrefof(it: Interpreter, t: Term, f: Frame) -> int:
    source, target = t.args
    if source is not None and source.op == NAMEREF:
        node = it.ns.lookup(source.args[0], f.scope)
        if node is None:
            return 0
        it.store(NodeRef(node), target, f)
        return it.mask
    ref = reference(it, source, f)
    if type(ref) is SlotRef and ref.slots[ref.index] is None:
        return 0
    it.store(ref, target, f)
    return it.mask


@handler(0x83)
def _derefof(it: Interpreter, t: Term, f: Frame) -> Any:
    ref = it.value(t.args[0], f)
    return dereference(it, ref, f)


def dereference(it: Interpreter, ref: Any, f: Frame) -> Any:
    kind = type(ref)
    if kind is IndexRef:
        return deref_index(ref)
    if kind is NodeRef:
        return it.read_node(ref.node)
    if kind is SlotRef:
        return ref.slots[ref.index]
    if kind is str:
        from .stream import name_string
        try:
            path, _ = name_string(ref.encode("latin-1") + b"\x00", 0, len(ref) + 1)
        except Exception:
            raise Fault(f"DerefOf of a String that is no name: {ref!r}") from None
        node = it.ns.lookup(path, f.scope)
        if node is None:
            raise Fault(f"DerefOf: {ref} not found (AE_NOT_FOUND)")
        return it.read_node(node)
    raise Fault("DerefOf needs a reference (AE_AML_OPERAND_TYPE)")


@handler(0x88)
def _index(it: Interpreter, t: Term, f: Frame) -> IndexRef:
    source = deref_index(it.value(t.args[0], f))
    if type(source) is NodeRef:
        source = it.read_node(source.node)
    index = it.integer(t.args[1], f)
    kind = type(source)
    if kind is Package:
        size = len(source.items)
    elif kind is Buffer:
        size = len(source.data)
    elif kind is str:
        size = len(source)
    else:
        raise Fault("Index needs a Package, Buffer or String (AE_AML_OPERAND_TYPE)")
    if index >= size:
        raise Fault(f"Index {index} is beyond the object's {size} elements "
                    "(AE_AML_PACKAGE_LIMIT)")
    ref = IndexRef(source, index, _owner(it, t.args[0], f) if kind is str else None)
    it.store(ref, t.args[2], f)
    return ref


def _owner(it: Interpreter, term: Any, f: Frame) -> Any:
    """Where a String operand of Index() lives, so a Store can write into it."""
    if type(term) is not Term:
        return None
    if term.op == LOCAL:
        return (f.locals, term.args[0])
    if term.op == ARG:
        return (f.args, term.args[0])
    if term.op == NAMEREF:
        return it.node(term, f)
    return None


@handler(0x87)
def _sizeof(it: Interpreter, t: Term, f: Frame) -> int:
    value = it.value(t.args[0], f)
    value = deref_index(value)
    if type(value) is NodeRef:
        value = it.read_node(value.node)
    if type(value) is SlotRef:
        value = value.slots[value.index]
    kind = type(value)
    if kind is Buffer:
        return len(value.data)
    if kind is str:
        return len(value)
    if kind is Package:
        return len(value.items)
    raise Fault("SizeOf needs a Buffer, String or Package (AE_AML_OPERAND_TYPE)")


@handler(0x8E)
def _objecttype(it: Interpreter, t: Term, f: Frame) -> int:
    from .values import object_type
    target = t.args[0]
    if target is not None and target.op == NAMEREF:
        node = it.node(target, f)
        return object_type(node.obj) if node.obj is not None else 0
    if target is not None and target.op in (LOCAL, ARG):
        slots = f.locals if target.op == LOCAL else f.args
        value = slots[target.args[0]]
    else:
        value = it.ev(target, f)
    if type(value) is IndexRef:
        value = deref_index(value)
    if type(value) is NodeRef:
        return object_type(value.node.obj)
    return 0 if value is None else object_type(value)
