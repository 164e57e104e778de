"""Opcodes that create named objects, and the synchronisation/table opcodes.

Name, Alias, Scope/Device/Processor/PowerResource/ThermalZone (their bodies run
with the new scope), Method (body kept for a deferred parse), External,
OperationRegion, Field/IndexField/BankField (ACPI 6.5 §19.6.48, §19.6.64,
§19.6.7), CreateXxxField, Mutex/Event and their operators, Load/LoadTable.
"""

from __future__ import annotations

from typing import Any

from .fields import add_fields
from .interpreter import Fault, Frame, Interpreter, handler
from .parser import NAMEREF, Term
from .values import T_DEVICE, T_POWER, T_THERMAL, Buffer, BufferField, Event, \
    Method, Mutex, NodeRef, Processor, Region, Scope


@handler(0x08)
def _name(it: Interpreter, t: Term, f: Frame) -> None:
    path, init = t.args
    if type(init) is Term and init.op == NAMEREF:
        from .references import package_element
        value = package_element(it, init, f)
    else:
        value = it.ev(init, f)
    it.create(path, f, value)


@handler(0x06)
def _alias(it: Interpreter, t: Term, f: Frame) -> None:
    source, alias = t.args
    target = it.ns.lookup(source, f.scope)
    if target is None:
        raise Fault(f"Alias source {source} not found (AE_NOT_FOUND)")
    node = it.create(alias, f, target.obj)
    if node is not None:
        node.alias = target


@handler(0x10)
def _scope(it: Interpreter, t: Term, f: Frame) -> None:
    path, (start, end) = t.args
    node = it.ns.lookup(path, f.scope)
    if node is None:
        raise Fault(f"Scope {path} not found (AE_NOT_FOUND)")
    it.run_block(f, start, end, node)


def _block(it: Interpreter, f: Frame, path: Any, obj: Any, body: tuple[int, int]) -> None:
    node = it.create(path, f, obj)
    if node is not None:
        it.run_block(f, body[0], body[1], node)


@handler(0x5B82)
def _device(it: Interpreter, t: Term, f: Frame) -> None:
    _block(it, f, t.args[0], Scope(T_DEVICE), t.args[1])


@handler(0x5B85)
def _thermal(it: Interpreter, t: Term, f: Frame) -> None:
    _block(it, f, t.args[0], Scope(T_THERMAL), t.args[1])


@handler(0x5B84)
def _power(it: Interpreter, t: Term, f: Frame) -> None:
    _block(it, f, t.args[0], Scope(T_POWER), t.args[3])


@handler(0x5B83)
def _processor(it: Interpreter, t: Term, f: Frame) -> None:
    path, proc_id, pblk, pblk_len, body = t.args
    _block(it, f, path, Processor(proc_id, pblk, pblk_len), body)


@handler(0x14)
def _method(it: Interpreter, t: Term, f: Frame) -> None:
    path, flags, (start, end) = t.args
    node = it.create(path, f, None)
    if node is not None:
        node.obj = Method(node, f.table, start, end, flags)


@handler(0x15)
def _external(it: Interpreter, t: Term, f: Frame) -> None:
    return None  # a declaration only: ACPICA creates nothing for it at run time


@handler(0x5B01)
def _mutex(it: Interpreter, t: Term, f: Frame) -> None:
    it.create(t.args[0], f, Mutex(t.args[1] & 0xF))


@handler(0x5B02)
def _event_op(it: Interpreter, t: Term, f: Frame) -> None:
    it.create(t.args[0], f, Event())


@handler(0x5B80)
def _opregion(it: Interpreter, t: Term, f: Frame) -> None:
    path, space, offset, length = t.args
    node = it.create(path, f, None)
    if node is not None:
        region = Region(node, space, (offset, length), f.table, f.scope)
        node.obj = region
        if it.depth > 0:
            # In a method the operands are evaluated now (they may use Args/Locals);
            # only module-level regions are deferred (ACPICA AcpiDsEvalRegionOperands).
            region.terms = None
            region.address = it.integer(offset, f)
            region.length = it.integer(length, f)


@handler(0x5B88)
def _datatable_region(it: Interpreter, t: Term, f: Frame) -> None:
    path = t.args[0]
    for arg in t.args[1:]:
        it.value(arg, f)
    node = it.create(path, f, None)
    if node is not None:
        region = Region(node, 0x7E, (0, 0), f.table, f.scope)
        region.terms = None
        node.obj = region


def _region(it: Interpreter, path: Any, f: Frame) -> Region:
    node = it.ns.lookup(path, f.scope)
    if node is None or type(node.obj) is not Region:
        raise Fault(f"{path} is not an OperationRegion (AE_AML_OPERAND_TYPE)")
    region: Region = node.obj
    return region


@handler(0x5B81)
def _field(it: Interpreter, t: Term, f: Frame) -> None:
    region_path, flags, entries = t.args
    region = _region(it, region_path, f)
    add_fields(it, f, entries, flags, "field", region=region)


@handler(0x5B86)
def _indexfield(it: Interpreter, t: Term, f: Frame) -> None:
    index_path, data_path, flags, entries = t.args
    index = it.ns.lookup(index_path, f.scope)
    data = it.ns.lookup(data_path, f.scope)
    if index is None or data is None:
        raise Fault(f"IndexField registers {index_path}/{data_path} not found (AE_NOT_FOUND)")
    add_fields(it, f, entries, flags, "index", index=index, data=data)


@handler(0x5B87)
def _bankfield(it: Interpreter, t: Term, f: Frame) -> None:
    region_path, bank_path, bank_value, flags, entries = t.args
    region = _region(it, region_path, f)
    bank = it.ns.lookup(bank_path, f.scope)
    if bank is None:
        raise Fault(f"BankField register {bank_path} not found (AE_NOT_FOUND)")
    value = it.integer(bank_value, f)
    add_fields(it, f, entries, flags, "bank", region=region, bank=bank, bank_value=value)


_CREATE_WIDTHS = {0x8A: 32, 0x8B: 16, 0x8C: 8, 0x8D: 1, 0x8F: 64}


@handler(0x8A, 0x8B, 0x8C, 0x8D, 0x8F, 0x5B13)
def _createfield(it: Interpreter, t: Term, f: Frame) -> None:
    from .convert import deref_index
    source = deref_index(it.value(t.args[0], f))
    if type(source) is NodeRef:
        source = it.read_node(source.node)
    if type(source) is not Buffer:
        raise Fault("Create*Field needs a Buffer (AE_AML_OPERAND_TYPE)")
    index = it.integer(t.args[1], f)
    if t.op == 0x5B13:
        bit_offset, bit_length, path = index, it.integer(t.args[2], f), t.args[3]
        if bit_length == 0:
            raise Fault("CreateField of zero bits (AE_AML_OPERAND_VALUE)")
    else:
        bit_length = _CREATE_WIDTHS[t.op]
        bit_offset = index if t.op == 0x8D else index * 8
        path = t.args[2]
    if bit_offset + bit_length > len(source.data) * 8:
        raise Fault(f"field at bit {bit_offset} of {bit_length} bits is beyond the "
                    f"{len(source.data)}-byte buffer (AE_AML_BUFFER_LIMIT)")
    it.create(path, f, BufferField(source, bit_offset, bit_length))


# -- synchronisation: no threads here, so nothing ever waits -------------------

@handler(0x5B23)
def _acquire(it: Interpreter, t: Term, f: Frame) -> int:
    return 0  # acquired (no contention in a single-threaded evaluation)


@handler(0x5B27)
def _release(it: Interpreter, t: Term, f: Frame) -> None:
    return None


def _event(it: Interpreter, t: Term, f: Frame) -> Event:
    target = t.args[0]
    obj = it.node(target, f).obj if target is not None and target.op == NAMEREF \
        else it.value(target, f)
    if type(obj) is NodeRef:
        obj = obj.node.obj
    if type(obj) is not Event:
        raise Fault("Signal/Wait/Reset need an Event (AE_AML_OPERAND_TYPE)")
    return obj


@handler(0x5B24)
def _signal(it: Interpreter, t: Term, f: Frame) -> None:
    _event(it, t, f).count += 1


@handler(0x5B26)
def _reset(it: Interpreter, t: Term, f: Frame) -> None:
    _event(it, t, f).count = 0


@handler(0x5B25)
def _wait(it: Interpreter, t: Term, f: Frame) -> int:
    """A signalled event is consumed (0); otherwise the wait times out at once (Ones):
    nothing else runs that could signal it (ACPICA AcpiExSystemWaitEvent)."""
    event = _event(it, t, f)
    it.integer(t.args[1], f)
    if event.count > 0:
        event.count -= 1
        return 0
    return it.mask


# -- Load / LoadTable / Unload --------------------------------------------------

@handler(0x5B20)
def _load(it: Interpreter, t: Term, f: Frame) -> Any:
    from .loading import load_from_object
    return load_from_object(it, t, f)


@handler(0x5B1F)
def _loadtable(it: Interpreter, t: Term, f: Frame) -> Any:
    from .loading import load_table_op
    return load_table_op(it, t, f)


@handler(0x5B2A)
def _unload(it: Interpreter, t: Term, f: Frame) -> None:
    return None
