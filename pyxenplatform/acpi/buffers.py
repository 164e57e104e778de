"""String and buffer opcodes: Concatenate, ConcatenateResTemplate, Mid, Match, To*.

Semantics of ACPICA ``exconcat.c``, ``exoparg2.c``, ``exoparg3.c``,
``exoparg6.c`` and ``exconvrt.c``.
"""

from __future__ import annotations

from typing import Any

from .convert import deref_index, string_to_int, to_buffer, to_decimal_string, to_hex_string, \
    to_integer, to_string
from .interpreter import MAX_OBJECT_SIZE, Fault, Frame, Interpreter, handler
from .parser import Term
from .values import Buffer, LiveValue, Package


def _limit(size: int) -> None:
    if size > MAX_OBJECT_SIZE:
        raise Fault(f"result of {size} bytes is beyond the {MAX_OBJECT_SIZE}-byte limit")


@handler(0x73)
def _concatenate(it: Interpreter, t: Term, f: Frame) -> Any:
    a = deref_index(it.value(t.args[0], f))
    b = deref_index(it.value(t.args[1], f))
    kind = type(a)
    result: Any
    if kind is int:
        size = it.width // 8
        second = to_integer(b, it.width)
        result = Buffer(a.to_bytes(size, "little") + second.to_bytes(size, "little"))
    elif kind is str:
        result = a + to_string(b, it.width)
        _limit(len(result))
    elif kind is Buffer:
        result = Buffer(a.data + to_buffer(b, it.width).data)
        _limit(len(result.data))
    else:
        raise Fault("Concatenate needs an Integer, String or Buffer first operand")
    it.store(result, t.args[2], f)
    return result


def _end_tag(data: bytes | bytearray) -> int:
    """Offset of a resource template's End Tag (ACPICA AcpiUtGetResourceEndTag)."""
    pos = 0
    while pos < len(data):
        tag = data[pos]
        if tag & 0x80:
            if pos + 3 > len(data):
                break
            pos += 3 + int.from_bytes(data[pos + 1:pos + 3], "little")
        else:
            if tag & 0xF8 == 0x78:
                return pos
            pos += 1 + (tag & 0x07)
    raise Fault("resource template without an End Tag (AE_AML_NO_RESOURCE_END_TAG)")


@handler(0x84)
def _concat_res(it: Interpreter, t: Term, f: Frame) -> Buffer:
    a = to_buffer(it.value(t.args[0], f), it.width).data
    b = to_buffer(it.value(t.args[1], f), it.width).data
    result = Buffer(bytes(a[:_end_tag(a)]) + bytes(b[:_end_tag(b)]) + b"\x79\x00")
    it.store(result, t.args[2], f)
    return result


@handler(0x9E)
def _mid(it: Interpreter, t: Term, f: Frame) -> Any:
    source = deref_index(it.value(t.args[0], f))
    index = it.integer(t.args[1], f)
    length = it.integer(t.args[2], f)
    if type(source) is int:
        source = to_buffer(source, it.width)
    result: Any
    if type(source) is str:
        result = source[index:index + length] if index < len(source) else ""
    elif type(source) is Buffer:
        result = Buffer(source.data[index:index + length] if index < len(source.data) else b"")
    else:
        raise Fault("Mid needs a String or Buffer (AE_AML_OPERAND_TYPE)")
    it.store(result, t.args[3], f)
    return result


def _match_one(it: Interpreter, op: int, element: Any, obj: Any) -> bool:
    """ACPICA AcpiExDoMatch: compare ``element`` with ``obj`` converted to its type."""
    if op == 0:
        return True
    kind = type(element)
    try:
        if kind is int:
            x: Any = element
            y: Any = to_integer(obj, it.width)
        elif kind is str:
            x, y = element, to_string(obj, it.width)
        elif kind is Buffer:
            x, y = bytes(element.data), bytes(to_buffer(obj, it.width).data)
        else:
            return False
    except Exception:
        return False
    if op == 1:
        return bool(x == y)
    if op == 2:
        return bool(x <= y)
    if op == 3:
        return bool(x < y)
    if op == 4:
        return bool(x >= y)
    return bool(x > y)


@handler(0x89)
def _match(it: Interpreter, t: Term, f: Frame) -> int:
    package = deref_index(it.value(t.args[0], f))
    op1 = t.args[1]
    obj1 = deref_index(it.value(t.args[2], f))
    op2 = t.args[3]
    obj2 = deref_index(it.value(t.args[4], f))
    start = it.integer(t.args[5], f)
    if type(package) is not Package:
        raise Fault("Match needs a Package (AE_AML_OPERAND_TYPE)")
    if op1 > 5 or op2 > 5:
        raise Fault("Match operator above 5 (AE_AML_OPERAND_VALUE)")
    if start >= len(package.items):
        raise Fault("Match start index beyond the package (AE_AML_PACKAGE_LIMIT)")
    for i in range(start, len(package.items)):
        element = package.items[i]
        if type(element) is LiveValue:
            element = element.value
        if element is None:
            continue
        if _match_one(it, op1, element, obj1) and _match_one(it, op2, element, obj2):
            return i
    return it.mask


@handler(0x96)
def _tobuffer(it: Interpreter, t: Term, f: Frame) -> Buffer:
    result = to_buffer(it.value(t.args[0], f), it.width)
    result = Buffer(result.data)
    it.store(result, t.args[1], f)
    return result


@handler(0x97)
def _todecimalstring(it: Interpreter, t: Term, f: Frame) -> str:
    result = to_decimal_string(it.value(t.args[0], f), it.width)
    it.store(result, t.args[1], f)
    return result


@handler(0x98)
def _tohexstring(it: Interpreter, t: Term, f: Frame) -> str:
    result = to_hex_string(it.value(t.args[0], f), it.width)
    it.store(result, t.args[1], f)
    return result


@handler(0x99)
def _tointeger(it: Interpreter, t: Term, f: Frame) -> int:
    value = deref_index(it.value(t.args[0], f))
    if type(value) is str:
        result = string_to_int(value, it.width, explicit=True)
    else:
        result = to_integer(value, it.width)
    it.store(result, t.args[1], f)
    return result


@handler(0x9C)
def _tostring(it: Interpreter, t: Term, f: Frame) -> str:
    data = bytes(to_buffer(it.value(t.args[0], f), it.width).data)
    length = it.integer(t.args[1], f)
    end = data.find(b"\x00")
    if end < 0:
        end = len(data)
    if length != it.mask:
        end = min(end, length)
    result = data[:end].decode("latin-1")
    it.store(result, t.args[2], f)
    return result
