"""Expression and control-flow opcodes (ACPI 6.5 §19.6), as ACPICA's ``exoparg*.c``.

Integer results are masked to the table's integer width (32 bits when the
DSDT revision is < 2), as ACPICA truncates every operator result.
"""

from __future__ import annotations

from typing import Any

from .convert import ConversionError, deref_index, to_buffer, to_integer, to_string
from .interpreter import (MAX_LOOP_ITERATIONS, MAX_OBJECT_SIZE, BreakSig, ContinueSig, Fault,
                          Frame, Interpreter, ReturnSig, handler)
from .parser import ARG, LGREATER_EQUAL, LLESS_EQUAL, LNOT_EQUAL, LOCAL, NAMEREF, Term
from .values import T_DEVICE, T_EVENT, T_METHOD, T_MUTEX, T_POWER, T_PROCESSOR, T_REGION, \
    T_THERMAL, Buffer, IndexRef, LiveValue, NodeRef, Package, PendingName, Scope, SlotRef, copy_value, \
    object_type


# -- control flow -------------------------------------------------------------

@handler(0xA0)
def _if(it: Interpreter, t: Term, f: Frame) -> None:
    if it.integer(t.args[0], f) & it.mask:
        it.run(t.args[1], f)
    elif len(t.args) > 2:
        it.run(t.args[2].args[0], f)


@handler(0xA1)
def _else(it: Interpreter, t: Term, f: Frame) -> None:
    return None  # an Else without its If: ACPICA skips it


@handler(0xA2)
def _while(it: Interpreter, t: Term, f: Frame) -> None:
    predicate, body = t.args
    for _ in range(MAX_LOOP_ITERATIONS):
        if not it.integer(predicate, f) & it.mask:
            return
        try:
            it.run(body, f)
        except BreakSig:
            return
        except ContinueSig:
            continue
    raise Fault(f"While loop ran {MAX_LOOP_ITERATIONS} iterations (AE_AML_LOOP_TIMEOUT)")


@handler(0xA5)
def _break(it: Interpreter, t: Term, f: Frame) -> None:
    raise BreakSig()


@handler(0x9F)
def _continue(it: Interpreter, t: Term, f: Frame) -> None:
    raise ContinueSig()


@handler(0xA4)
def _return(it: Interpreter, t: Term, f: Frame) -> None:
    arg = t.args[0]
    value = it.ev(arg, f)
    raise ReturnSig(deref_index(value) if type(value) is IndexRef else value)


@handler(0xA3, 0xCC, 0x86, 0x5B21, 0x5B22, 0x5B32, 0x5B24, 0x5B26)
def _noop(it: Interpreter, t: Term, f: Frame) -> None:
    # Noop, BreakPoint, Notify, Stall, Sleep, Fatal, Signal, Reset: harmless here.
    for arg in t.args:
        if isinstance(arg, Term) and arg.op not in (NAMEREF, LOCAL, ARG):
            it.ev(arg, f)


# -- constants ----------------------------------------------------------------

@handler(0xFF)
def _ones(it: Interpreter, t: Term, f: Frame) -> int:
    return it.mask


@handler(0x0E)
def _qword(it: Interpreter, t: Term, f: Frame) -> int:
    return int(t.args[0]) & it.mask


@handler(0x5B30)
def _revision(it: Interpreter, t: Term, f: Frame) -> int:
    return 0x20200925  # ACPI_CA_VERSION of the acpiexec we mirror


@handler(0x5B33)
def _timer(it: Interpreter, t: Term, f: Frame) -> int:
    return 0


@handler(0x5B31)
def _debug(it: Interpreter, t: Term, f: Frame) -> Any:
    return None


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
    ref = IndexRef(source, index)
    it.store(ref, t.args[2], f)
    return ref


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


# -- Store / CopyObject ---------------------------------------------------------

@handler(0x70)
def _store(it: Interpreter, t: Term, f: Frame) -> Any:
    value = it.value(t.args[0], f)
    it.store(value, t.args[1], f)
    return value


@handler(0x9D)
def _copyobject(it: Interpreter, t: Term, f: Frame) -> Any:
    value = deref_index(it.value(t.args[0], f))
    target = t.args[1]
    if target is not None and target.op == NAMEREF:
        node = it.node(target, f)
        from .values import BufferField, FieldUnit
        if type(node.obj) in (FieldUnit, BufferField):
            it.store_node(value, node)
        else:
            node.obj = copy_value(value)
    else:
        it.store(value, target, f)
    return value


# -- arithmetic ------------------------------------------------------------------

def _binary(fn: Any) -> Any:
    def run(it: Interpreter, t: Term, f: Frame) -> int:
        a = it.integer(t.args[0], f)
        b = it.integer(t.args[1], f)
        result: int = fn(a, b, it) & it.mask
        if t.args[2] is not None:
            it.store(result, t.args[2], f)
        return result
    return run


def _div_zero() -> Fault:
    return Fault("divide by zero (AE_AML_DIVIDE_BY_ZERO)")


def _mod(a: int, b: int, it: Interpreter) -> int:
    if b == 0:
        raise _div_zero()
    return a % b


def _shl(a: int, b: int, it: Interpreter) -> int:
    return 0 if b >= it.width else a << b


def _shr(a: int, b: int, it: Interpreter) -> int:
    return 0 if b >= it.width else a >> b


for _op, _fn in ((0x72, lambda a, b, it: a + b), (0x74, lambda a, b, it: a - b),
                 (0x77, lambda a, b, it: a * b), (0x79, _shl), (0x7A, _shr),
                 (0x7B, lambda a, b, it: a & b), (0x7C, lambda a, b, it: ~(a & b)),
                 (0x7D, lambda a, b, it: a | b), (0x7E, lambda a, b, it: ~(a | b)),
                 (0x7F, lambda a, b, it: a ^ b), (0x85, _mod)):
    handler(_op)(_binary(_fn))


@handler(0x78)
def _divide(it: Interpreter, t: Term, f: Frame) -> int:
    a = it.integer(t.args[0], f)
    b = it.integer(t.args[1], f)
    if b == 0:
        raise _div_zero()
    quotient, remainder = divmod(a, b)
    if t.args[2] is not None:
        it.store(remainder, t.args[2], f)
    if t.args[3] is not None:
        it.store(quotient, t.args[3], f)
    return quotient


@handler(0x75, 0x76)
def _incdec(it: Interpreter, t: Term, f: Frame) -> int:
    target = t.args[0]
    value = it.integer(target, f) if target.op != NAMEREF else \
        to_integer(it.value(target, f), it.width)
    result = (value + (1 if t.op == 0x75 else -1)) & it.mask
    it.store(result, target, f)
    return result


@handler(0x80)
def _not(it: Interpreter, t: Term, f: Frame) -> int:
    result = ~it.integer(t.args[0], f) & it.mask
    it.store(result, t.args[1], f)
    return result


@handler(0x81, 0x82)
def _findsetbit(it: Interpreter, t: Term, f: Frame) -> int:
    value = it.integer(t.args[0], f)
    if value == 0:
        result = 0
    elif t.op == 0x81:
        result = value.bit_length()
    else:
        result = (value & -value).bit_length()
    it.store(result, t.args[1], f)
    return result


@handler(0x5B28)
def _frombcd(it: Interpreter, t: Term, f: Frame) -> int:
    value = it.integer(t.args[0], f)
    result, scale = 0, 1
    while value:
        digit = value & 0xF
        if digit > 9:
            raise Fault("FromBCD of a non-BCD digit (AE_AML_NUMERIC_OVERFLOW)")
        result += digit * scale
        scale *= 10
        value >>= 4
    result &= it.mask
    it.store(result, t.args[1], f)
    return result


@handler(0x5B29)
def _tobcd(it: Interpreter, t: Term, f: Frame) -> int:
    value = it.integer(t.args[0], f)
    digits = str(value)
    if len(digits) > it.width // 4:
        raise Fault("ToBCD overflow (AE_AML_NUMERIC_OVERFLOW)")
    result = int(digits, 16) & it.mask
    it.store(result, t.args[1], f)
    return result


# -- logic ----------------------------------------------------------------------------

@handler(0x90, 0x91)
def _land_lor(it: Interpreter, t: Term, f: Frame) -> int:
    a = it.integer(t.args[0], f)
    b = it.integer(t.args[1], f)
    truth = (a != 0 and b != 0) if t.op == 0x90 else (a != 0 or b != 0)
    return it.mask if truth else 0


@handler(0x92)
def _lnot(it: Interpreter, t: Term, f: Frame) -> int:
    return it.mask if it.integer(t.args[0], f) == 0 else 0


@handler(0x93, 0x94, 0x95, LNOT_EQUAL, LLESS_EQUAL, LGREATER_EQUAL)
def _compare(it: Interpreter, t: Term, f: Frame) -> int:
    a = deref_index(it.value(t.args[0], f))
    b = it.value(t.args[1], f)
    kind = type(a)
    if kind is int:
        x: Any = a
        y: Any = to_integer(b, it.width)
    elif kind is str:
        x, y = a.encode("latin-1"), to_string(b, it.width).encode("latin-1")
    elif kind is Buffer:
        x, y = bytes(a.data), bytes(to_buffer(b, it.width).data)
    else:
        raise Fault("logical compare needs Integer, String or Buffer (AE_AML_OPERAND_TYPE)")
    op = t.op
    if op == 0x93:
        truth = x == y
    elif op == 0x94:
        truth = x > y
    elif op == 0x95:
        truth = x < y
    elif op == LNOT_EQUAL:
        truth = x != y
    elif op == LLESS_EQUAL:
        truth = x <= y
    else:
        truth = x >= y
    return it.mask if truth else 0


def _unused() -> None:
    del ConversionError
