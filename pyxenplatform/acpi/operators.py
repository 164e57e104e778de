"""Expression and control-flow opcodes (ACPI 6.5 §19.6), as ACPICA's ``exoparg*.c``.

Integer results are masked to the table's integer width (32 bits when the
DSDT revision is < 2), as ACPICA truncates every operator result.
"""

from __future__ import annotations

from typing import Any

from .convert import deref_index, to_buffer, to_integer, to_string
from .interpreter import (LOOP_COST, LOOP_TIMEOUT, MAX_LOOP_ITERATIONS, BreakSig, ContinueSig,
                          Fault, Frame, Interpreter, ReturnSig, handler)
from .parser import ARG, LGREATER_EQUAL, LLESS_EQUAL, LNOT_EQUAL, LOCAL, NAMEREF, Term
from .values import Buffer, IndexRef, copy_value


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
    """While, bounded twice: ACPICA 20200925 aborts a loop after 30 s (dscontrol.c,
    ACPI_MAX_LOOP_TIMEOUT) on its clock, which here is virtual (Sleep/Stall advance it,
    and each iteration costs LOOP_COST); and after 65535 iterations in any case."""
    predicate, body = t.args
    deadline = it.clock + LOOP_TIMEOUT
    for _ in range(MAX_LOOP_ITERATIONS):
        if not it.integer(predicate, f) & it.mask:
            return
        try:
            it.run(body, f)
        except BreakSig:
            return
        except ContinueSig:
            pass
        it.clock += LOOP_COST
        if it.clock > deadline:
            raise Fault("While loop ran past ACPICA's 30 s limit (AE_AML_LOOP_TIMEOUT)")
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


@handler(0x5B21, 0x5B22)
def _stall_sleep(it: Interpreter, t: Term, f: Frame) -> None:
    """Stall (µs) and Sleep (ms) wait for nobody: they only advance the virtual clock."""
    amount = it.integer(t.args[0], f)
    it.clock += amount * (10 if t.op == 0x5B21 else 10_000)


@handler(0xA3, 0xCC, 0x86, 0x5B32)
def _noop(it: Interpreter, t: Term, f: Frame) -> None:
    # Noop, BreakPoint, Notify, Fatal: harmless here.
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
    """Timer: the virtual clock in 100 ns units (deterministic, unlike acpiexec's)."""
    return it.clock & it.mask


@handler(0x5B31)
def _debug(it: Interpreter, t: Term, f: Frame) -> Any:
    return None


# -- Store / CopyObject ---------------------------------------------------------

@handler(0x70)
def _store(it: Interpreter, t: Term, f: Frame) -> Any:
    value = it.value(t.args[0], f)
    if type(value) is int:
        # ACPICA truncates each operator's result object in a 32-bit table
        # (dswexec.c), and Store's result is the stored object: _OSI's 64-bit Ones
        # stored in a Local reads back as 0xFFFFFFFF there.
        value &= it.mask
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
    a = it.value(t.args[0], f)
    b = it.value(t.args[1], f)
    if type(a) is int and type(b) is int:
        x: Any = a
        y: Any = b
        op = t.op
        if op == 0x93:
            return it.mask if x == y else 0
        if op == 0x94:
            return it.mask if x > y else 0
        if op == 0x95:
            return it.mask if x < y else 0
    a = deref_index(a)
    kind = type(a)
    if kind is int:
        x = a
        y = to_integer(b, it.width)
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
