"""AML opcodes to terms (ACPI 6.5 §20.2.5, the Term Objects encoding).

A :class:`Term` is an opcode, its AML offset and its parsed arguments. The
parser follows ACPICA's ``psargs.c``: a NameString in a TermArg position is a
method invocation when the namespace says it names a method (its argument
count comes from there), otherwise a reference; in a SuperName/Target or a
package element it is never a call. Bodies of Scope, Device, Processor,
PowerResource, ThermalZone and Method are not parsed here: their byte ranges
are kept, and the interpreter parses them when it runs them (ACPICA's
deferred method parsing), so loading a table stays cheap.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .stream import (NamePath, StreamError, integer, is_name_start, name_seg, name_string,
                     pkg_end, string)

EXT = 0x5B00
LNOT_EQUAL, LLESS_EQUAL, LGREATER_EQUAL = 0x9293, 0x9294, 0x9295
NAMEREF, CALL, LOCAL, ARG = -1, -2, -3, -4
MAX_NESTING = 200

# Argument kinds: t TermArg, S SuperName, T Target, N NameString (new name),
# b/w/d byte/word/dword constant, p PkgLength, ~ deferred body range,
# * term list to the package end, # byte list, B byte count, @ element list, F field list.
OPCODES: dict[int, tuple[str, str]] = {
    0x06: ("Alias", "NN"), 0x08: ("Name", "Nt"), 0x10: ("Scope", "pN~"),
    0x11: ("Buffer", "pt#"), 0x12: ("Package", "pB@"), 0x13: ("VarPackage", "pt@"),
    0x14: ("Method", "pNb~"), 0x15: ("External", "Nbb"),
    0x70: ("Store", "tS"), 0x71: ("RefOf", "S"), 0x72: ("Add", "ttT"),
    0x73: ("Concatenate", "ttT"), 0x74: ("Subtract", "ttT"), 0x75: ("Increment", "S"),
    0x76: ("Decrement", "S"), 0x77: ("Multiply", "ttT"), 0x78: ("Divide", "ttTT"),
    0x79: ("ShiftLeft", "ttT"), 0x7A: ("ShiftRight", "ttT"), 0x7B: ("And", "ttT"),
    0x7C: ("NAnd", "ttT"), 0x7D: ("Or", "ttT"), 0x7E: ("NOr", "ttT"), 0x7F: ("XOr", "ttT"),
    0x80: ("Not", "tT"), 0x81: ("FindSetLeftBit", "tT"), 0x82: ("FindSetRightBit", "tT"),
    0x83: ("DerefOf", "t"), 0x84: ("ConcatenateResTemplate", "ttT"), 0x85: ("Mod", "ttT"),
    0x86: ("Notify", "St"), 0x87: ("SizeOf", "S"), 0x88: ("Index", "ttT"),
    0x89: ("Match", "tbtbtt"), 0x8A: ("CreateDWordField", "ttN"),
    0x8B: ("CreateWordField", "ttN"), 0x8C: ("CreateByteField", "ttN"),
    0x8D: ("CreateBitField", "ttN"), 0x8E: ("ObjectType", "S"),
    0x8F: ("CreateQWordField", "ttN"), 0x90: ("LAnd", "tt"), 0x91: ("LOr", "tt"),
    0x92: ("LNot", "t"), 0x93: ("LEqual", "tt"), 0x94: ("LGreater", "tt"),
    0x95: ("LLess", "tt"), 0x96: ("ToBuffer", "tT"), 0x97: ("ToDecimalString", "tT"),
    0x98: ("ToHexString", "tT"), 0x99: ("ToInteger", "tT"), 0x9C: ("ToString", "ttT"),
    0x9D: ("CopyObject", "tS"), 0x9E: ("Mid", "tttT"), 0x9F: ("Continue", ""),
    0xA0: ("If", "pt*"), 0xA1: ("Else", "p*"), 0xA2: ("While", "pt*"), 0xA3: ("Noop", ""),
    0xA4: ("Return", "t"), 0xA5: ("Break", ""), 0xCC: ("BreakPoint", ""),
    LNOT_EQUAL: ("LNotEqual", "tt"), LLESS_EQUAL: ("LLessEqual", "tt"),
    LGREATER_EQUAL: ("LGreaterEqual", "tt"),
    EXT | 0x01: ("Mutex", "Nb"), EXT | 0x02: ("Event", "N"), EXT | 0x12: ("CondRefOf", "ST"),
    EXT | 0x13: ("CreateField", "tttN"), EXT | 0x1F: ("LoadTable", "tttttt"),
    EXT | 0x20: ("Load", "SS"), EXT | 0x21: ("Stall", "t"), EXT | 0x22: ("Sleep", "t"),
    EXT | 0x23: ("Acquire", "Sw"), EXT | 0x24: ("Signal", "S"), EXT | 0x25: ("Wait", "St"),
    EXT | 0x26: ("Reset", "S"), EXT | 0x27: ("Release", "S"), EXT | 0x28: ("FromBCD", "tT"),
    EXT | 0x29: ("ToBCD", "tT"), EXT | 0x2A: ("Unload", "S"), EXT | 0x30: ("Revision", ""),
    EXT | 0x31: ("Debug", ""), EXT | 0x32: ("Fatal", "bdt"), EXT | 0x33: ("Timer", ""),
    EXT | 0x80: ("OperationRegion", "Nbtt"), EXT | 0x81: ("Field", "pNbF"),
    EXT | 0x82: ("Device", "pN~"), EXT | 0x83: ("Processor", "pNbdb~"),
    EXT | 0x84: ("PowerResource", "pNbw~"), EXT | 0x85: ("ThermalZone", "pN~"),
    EXT | 0x86: ("IndexField", "pNNbF"), EXT | 0x87: ("BankField", "pNNtbF"),
    EXT | 0x88: ("DataTableRegion", "Nttt"),
}


def opcode_name(op: int) -> str:
    """Human name of an opcode (or of a NameString/Local/Arg term) for messages: ``Add``."""
    if op == NAMEREF:
        return "NameString"
    if op == CALL:
        return "MethodCall"
    if op in (LOCAL, ARG):
        return "Local" if op == LOCAL else "Arg"
    return OPCODES.get(op, ("unknown opcode", ""))[0]


class Term:
    """One parsed AML term: ``op`` (opcode or NAMEREF/CALL/LOCAL/ARG), ``off``, ``args``."""

    __slots__ = ("op", "off", "args", "cache")

    def __init__(self, op: int, off: int, args: tuple[Any, ...]) -> None:
        self.op = op
        self.off = off
        self.args = args
        self.cache: Any = None  # interpreter's per-term memo (resolved node)

    def __repr__(self) -> str:
        return f"Term({opcode_name(self.op)}@{self.off:#x}, {self.args!r})"


class ParseError(Exception):
    """Bad AML at ``offset`` while parsing ``opcode`` (None: before an opcode was read)."""

    def __init__(self, offset: int, opcode: int | None, detail: str) -> None:
        super().__init__(detail)
        self.offset = offset
        self.opcode = opcode
        self.detail = detail


ArityLookup = Callable[[NamePath, Any], "int | None"]


class Parser:
    """Parses the AML of one table; ``arity(path, scope)`` says how many args a method takes."""

    def __init__(self, data: bytes, arity: ArityLookup) -> None:
        self.data = data
        self.arity = arity
        self.depth = 0

    def terms(self, pos: int, end: int, scope: Any) -> list[Any]:
        """Every term in ``[pos, end)``."""
        out = []
        while pos < end:
            term, pos = self.term(pos, end, scope)
            out.append(term)
        return out

    def term(self, pos: int, end: int, scope: Any) -> tuple[Any, int]:
        """One term at ``pos``: (term, offset after it); ParseError on bad AML."""
        self.depth += 1
        try:
            if self.depth > MAX_NESTING:
                raise ParseError(pos, None, f"terms nested deeper than {MAX_NESTING}")
            return self._term(pos, end, scope)
        except StreamError as exc:
            raise ParseError(exc.offset, None, exc.detail) from None
        finally:
            self.depth -= 1

    def _term(self, pos: int, end: int, scope: Any) -> tuple[Any, int]:
        data = self.data
        if pos >= end:
            raise ParseError(pos, None, "truncated term")
        b = data[pos]
        if b == 0x00:
            return 0, pos + 1
        if b == 0x01:
            return 1, pos + 1
        if b == 0xFF:
            return Term(0xFF, pos, ()), pos + 1  # Ones: width depends on the table
        if b == 0x0A:
            return integer(data, pos + 1, end, 1), pos + 2
        if b == 0x0B:
            return integer(data, pos + 1, end, 2), pos + 3
        if b == 0x0C:
            return integer(data, pos + 1, end, 4), pos + 5
        if b == 0x0E:
            return Term(0x0E, pos, (integer(data, pos + 1, end, 8),)), pos + 9
        if b == 0x0D:
            return string(data, pos + 1, end)
        if 0x60 <= b <= 0x67:
            return Term(LOCAL, pos, (b - 0x60,)), pos + 1
        if 0x68 <= b <= 0x6E:
            return Term(ARG, pos, (b - 0x68,)), pos + 1
        if is_name_start(b):
            path, after = name_string(data, pos, end)
            count = self.arity(path, scope)
            if count is None:
                return Term(NAMEREF, pos, (path,)), after
            args = []
            for _ in range(count):
                arg, after = self.term(after, end, scope)
                args.append(arg)
            return Term(CALL, pos, (path, tuple(args))), after
        op = b
        after = pos + 1
        if b == 0x5B:
            if pos + 1 >= end:
                raise ParseError(pos, 0x5B, "truncated extended opcode")
            op = EXT | data[pos + 1]
            after = pos + 2
        elif b == 0x92 and pos + 1 < end and data[pos + 1] in (0x93, 0x94, 0x95):
            op = 0x9200 | data[pos + 1]
            after = pos + 2
        spec = OPCODES.get(op)
        if spec is None:
            raise ParseError(pos, op, f"unknown AML opcode {op:#x}")
        try:
            args, after = self._args(spec[1], op, after, end, scope)
        except StreamError as exc:
            raise ParseError(exc.offset, op, exc.detail) from None
        term = Term(op, pos, tuple(args))
        if op == 0xA0 and after < end and data[after] == 0xA1:
            else_term, after = self.term(after, end, scope)
            term.args = term.args + (else_term,)
        return term, after

    def _args(self, spec: str, op: int, pos: int, end: int, scope: Any) -> tuple[list[Any], int]:
        data = self.data
        args: list[Any] = []
        stop = end
        for kind in spec:
            if kind == "t":
                arg, pos = self.term(pos, stop, scope)
                args.append(arg)
            elif kind in "ST":
                arg, pos = self._supername(pos, stop, scope, kind == "T")
                args.append(arg)
            elif kind == "N":
                path, pos = name_string(data, pos, stop)
                args.append(path)
            elif kind == "b":
                args.append(integer(data, pos, stop, 1))
                pos += 1
            elif kind == "w":
                args.append(integer(data, pos, stop, 2))
                pos += 2
            elif kind == "d":
                args.append(integer(data, pos, stop, 4))
                pos += 4
            elif kind == "p":
                stop, pos = pkg_end(data, pos, end)
            elif kind == "B":
                args.append(integer(data, pos, stop, 1))
                pos += 1
            elif kind == "~":
                args.append((pos, stop))
                pos = stop
            elif kind == "*":
                args.append(tuple(self.terms(pos, stop, scope)))
                pos = stop
            elif kind == "#":
                args.append(bytes(data[pos:stop]))
                pos = stop
            elif kind == "@":
                args.append(tuple(self._elements(pos, stop, scope)))
                pos = stop
            elif kind == "F":
                args.append(tuple(self._fields(pos, stop)))
                pos = stop
        return args, pos

    def _supername(self, pos: int, end: int, scope: Any, target: bool) -> tuple[Any, int]:
        if pos >= end:
            raise StreamError(pos, "truncated SuperName")
        b = self.data[pos]
        if b == 0x00:
            return None, pos + 1  # NullName: no target
        if is_name_start(b):
            path, after = name_string(self.data, pos, end)
            return Term(NAMEREF, pos, (path,)), after
        return self.term(pos, end, scope)

    def _elements(self, pos: int, end: int, scope: Any) -> list[Any]:
        out: list[Any] = []
        while pos < end:
            if is_name_start(self.data[pos]):
                path, after = name_string(self.data, pos, end)
                out.append(Term(NAMEREF, pos, (path,)))
                pos = after
            else:
                element, pos = self.term(pos, end, scope)
                out.append(element)
        return out

    def _fields(self, pos: int, end: int) -> list[tuple[Any, ...]]:
        """FieldList (§20.2.5.2): named, reserved, access, extended access, connection."""
        data = self.data
        out: list[tuple[Any, ...]] = []
        while pos < end:
            b = data[pos]
            if b == 0x00:
                bits, pos = _field_length(data, pos + 1, end)
                out.append(("reserved", bits))
            elif b == 0x01:
                out.append(("access", integer(data, pos + 1, end, 1),
                            integer(data, pos + 2, end, 1)))
                pos += 3
            elif b == 0x03:
                out.append(("access", integer(data, pos + 1, end, 1),
                            integer(data, pos + 2, end, 1), integer(data, pos + 3, end, 1)))
                pos += 4
            elif b == 0x02:
                if pos + 1 < end and data[pos + 1] == 0x11:
                    term, pos = self.term(pos + 1, end, None)
                    out.append(("connect", term))
                else:
                    path, pos = name_string(data, pos + 1, end)
                    out.append(("connect", path))
            else:
                seg = name_seg(data, pos, end)
                bits, pos = _field_length(data, pos + 4, end)
                out.append(("named", seg, bits))
        return out


def _field_length(data: bytes, pos: int, end: int) -> tuple[int, int]:
    from .stream import pkg_length
    return pkg_length(data, pos, end)
