"""The AML interpreter core: table loading, method calls, names, Store, control flow.

Semantics follow ACPICA (the oracle is its ``acpiexec``): tables run as one
big method while they load (``AcpiNsExecuteTable``), so module-level code
runs in place; method bodies are parsed at their first call; Store converts
to the type of a named Integer/String/Buffer target and writes fields
(``exstore.c``); every operator result is truncated to 32 bits in a table of
revision < 2 (``dswexec.c`` AcpiExTruncateFor32bitTable). Failures raise
:class:`Fault`, turned into ``AmlError`` (table, offset, opcode) at the
evaluation boundary; loops, call depth, sizes and total work are bounded.
"""

from __future__ import annotations

from typing import Any, Callable

from .convert import ConversionError, to_integer
from .namespace import Namespace, Node
from .parser import ARG, CALL, LOCAL, NAMEREF, ParseError, Parser, Term, opcode_name
from .regions import RegionBackend
from .storing import StoreMixin
from .stream import NamePath
from .values import Buffer, BufferField, FieldUnit, Method, NodeRef, Package

MAX_LOOP_ITERATIONS = 0xFFFF  # ACPICA AcpiGbl_MaxLoopIterations
LOOP_TIMEOUT = 30 * 10_000_000  # ACPI_MAX_LOOP_TIMEOUT (30 s) in 100 ns timer units
LOOP_COST = 100  # virtual time one While iteration takes (10 µs)
MAX_CALL_DEPTH = 64
MAX_OPS = 2_000_000  # terms executed per evaluation
MAX_OBJECT_SIZE = 1 << 20  # elements of a package, bytes of a buffer or string
MAX_TABLES = 256  # tables in the namespace, dynamic Loads included


class Fault(Exception):
    """An AML failure; where it happened (``off``, ``code``, ``table``) is filled in by the
    innermost term it leaves."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail
        self.off: int | None = None
        self.code: int | None = None  # the AML opcode (0x5bxx extended), None for a name
        self.op = ""  # the opcode's name for messages
        self.table: int | None = None

    def locate(self, off: int, code: int | None, table: int | None) -> Fault:
        self.off, self.table = off, table
        self.code = code if code is not None and code >= 0 else None
        self.op = opcode_name(code) if code is not None else "term"
        return self


class BreakSig(Exception):
    pass


class ContinueSig(Exception):
    pass


class ReturnSig(Exception):
    def __init__(self, value: Any) -> None:
        super().__init__()
        self.value = value


class Frame:
    """One method activation (or a table's module-level code)."""

    __slots__ = ("locals", "args", "scope", "table", "created")

    def __init__(self, scope: Node, table: int, args: list[Any]) -> None:
        self.locals: list[Any] = [None] * 8
        self.args = args
        self.scope = scope
        self.table = table
        self.created: list[Node] = []


class LoadedTable:
    __slots__ = ("source", "data", "parser")

    def __init__(self, source: str, data: bytes, parser: Parser) -> None:
        self.source = source
        self.data = data
        self.parser = parser


Handler = Callable[["Interpreter", Term, Frame], Any]
HANDLERS: dict[int, Handler] = {}


class Interpreter(StoreMixin):
    """Holds the namespace, the loaded tables and the region backend."""

    def __init__(self, width: int, backend: RegionBackend) -> None:
        from . import buffers, builtins, fields, objects, operators, references  # handlers
        del buffers, objects, operators, references
        self.read_field = fields.read_field
        self.write_field = fields.write_field
        self.ns = Namespace()
        self.width = width
        self.mask = (1 << width) - 1
        self.backend = backend
        self.tables: list[LoadedTable] = []
        self.depth = 0
        self.ops = 0
        self.clock = 0  # virtual time in 100 ns units: Sleep/Stall/While advance it
        self.reads: dict[tuple[str, int, int, int, str], None] | None = None
        self.warnings: list[str] = []
        self.handlers = HANDLERS
        builtins.install(self)

    # -- tables and blocks -------------------------------------------------

    def load_table(self, source: str, data: bytes, *, dynamic: bool = False) -> int:
        """Load one DSDT/SSDT: run its code, defining its objects; errors become warnings.

        A ``dynamic`` load (AML's Load) counts against the work budget of the
        evaluation that asked for it."""
        index = len(self.tables)
        if dynamic and index >= MAX_TABLES:
            raise Fault(f"more than {MAX_TABLES} tables loaded (AE_NO_MEMORY)")
        self.tables.append(LoadedTable(source, data, Parser(data, self.arity)))
        frame = Frame(self.ns.root, index, [])
        if not dynamic:
            self.ops = 0
        try:
            self.run_block(frame, 36, len(data), self.ns.root)
        except Fault as fault:
            self.warn(self.describe(fault, index))
        except (BreakSig, ContinueSig, ReturnSig):
            self.warn(f"{source}: Break/Continue/Return outside a method; rest of the table "
                      "skipped")
        except RecursionError:
            self.warn(f"{source}: AML nested too deeply; rest of the table skipped")
        except (ArithmeticError, LookupError, ValueError, TypeError, AttributeError) as exc:
            self.warn(f"{source}: internal error on malformed AML: {exc!r}; rest skipped")
        return index

    def run_block(self, frame: Frame, start: int, end: int, scope: Node) -> None:
        """Parse and run a term list one term at a time (names defined so far are known)."""
        parser = self.tables[frame.table].parser
        saved = frame.scope
        frame.scope = scope
        pos = start
        try:
            while pos < end:
                try:
                    term, pos = parser.term(pos, end, scope)
                except ParseError as exc:
                    raise Fault(exc.detail).locate(exc.offset, exc.opcode, frame.table) from None
                if self.depth == 0:
                    # Module-level code: a failing term is reported, the rest still loads
                    # (ACPICA continues a table load after an AML error in one term).
                    try:
                        self.ev(term, frame)
                    except Fault as fault:
                        self.warn(self.describe(fault, frame.table))
                else:
                    self.ev(term, frame)
        finally:
            frame.scope = saved

    def arity(self, path: NamePath, scope: Any) -> int | None:
        """Parser callback: argument count if ``path`` names a method now, else None."""
        if scope is None:
            return None
        node = self.ns.lookup(path, scope)
        if node is None:
            return None
        obj = node.obj
        if type(obj) is Method:
            return obj.arg_count
        return None

    # -- evaluation --------------------------------------------------------

    def ev(self, term: Any, frame: Frame) -> Any:
        """Evaluate one term: constants are themselves, Terms go to their handler."""
        t = type(term)
        if t is int or t is str:
            return term
        try:
            handler = self.handlers[term.op]
        except KeyError:
            raise Fault(f"opcode {opcode_name(term.op)} not supported here") from None
        try:
            return handler(self, term, frame)
        except Fault as fault:
            if fault.off is None:
                fault.locate(term.off, term.op, frame.table)
            raise
        except ConversionError as exc:
            raise Fault(str(exc)).locate(term.off, term.op, frame.table) from None

    def run(self, terms: tuple[Any, ...], frame: Frame) -> None:
        """Run a term list (If/While/method body)."""
        self.ops += len(terms)
        if self.ops > MAX_OPS:
            raise Fault(f"evaluation exceeded {MAX_OPS} AML operations")
        handlers = self.handlers
        for term in terms:
            # ev() inlined: this loop is the interpreter's hottest path.
            if type(term) is not Term:
                continue  # a bare constant as a statement does nothing
            handler = handlers.get(term.op)
            if handler is None:
                self.ev(term, frame)  # raises the located Fault
            try:
                handler(self, term, frame)  # type: ignore[misc]  # handlers table is heterogeneous
            except Fault as fault:
                if fault.off is None:
                    fault.locate(term.off, term.op, frame.table)
                raise
            except ConversionError as exc:
                raise Fault(str(exc)).locate(term.off, term.op, frame.table) from None

    def integer(self, term: Any, frame: Frame) -> int:
        """Evaluate an operand as an Integer (implicit conversion)."""
        if type(term) is int:
            return int(term)
        if term.op == LOCAL:
            result = frame.locals[term.args[0]]
            if type(result) is int:
                return int(result)
        result = self.value(term, frame)
        if type(result) is int:
            return int(result)
        return to_integer(result, self.width)

    def value(self, term: Any, frame: Frame) -> Any:
        """Evaluate an operand that must have a value (ev() inlined, as in run())."""
        t = type(term)
        if t is int or t is str:
            return term
        handler = self.handlers.get(term.op)
        if handler is None:
            return self.ev(term, frame)
        try:
            result = handler(self, term, frame)
        except Fault as fault:
            if fault.off is None:
                fault.locate(term.off, term.op, frame.table)
            raise
        except ConversionError as exc:
            raise Fault(str(exc)).locate(term.off, term.op, frame.table) from None
        if result is None:
            raise Fault("operand has no value (uninitialized, or a method returned nothing)")
        return result

    def call(self, node: Node, args: list[Any]) -> Any:
        """Run the method at ``node`` with ``args``; its return value or None."""
        method: Method = node.obj
        if method.builtin is not None:
            return method.builtin(self, args)
        if self.depth >= MAX_CALL_DEPTH:
            raise Fault(f"method calls nested deeper than {MAX_CALL_DEPTH}")
        if method.body is None:
            parser = self.tables[method.table].parser
            try:
                method.body = tuple(parser.terms(method.start, method.end, node))
            except ParseError as exc:
                raise Fault(exc.detail).locate(exc.offset, exc.opcode, method.table) from None
        args = args + [None] * (7 - len(args))
        frame = Frame(node, method.table, args)
        self.depth += 1
        try:
            self.run(method.body, frame)
        except ReturnSig as ret:
            return ret.value
        except (BreakSig, ContinueSig):
            return None
        finally:
            self.depth -= 1
            for created in reversed(frame.created):
                if created.parent is not None:
                    created.parent.children.pop(created.name, None)
        return None

    # -- names -------------------------------------------------------------

    def node(self, term: Term, frame: Frame) -> Node:
        """The node a NameString term names (Fault if absent).

        The answer is memoised on the term per scope, and trusted while that node is
        still in the namespace (method-local names are removed when the method ends)."""
        cached = term.cache
        scope = frame.scope
        if cached is not None and cached[0] is scope:
            node = cached[1]
            parent = node.parent
            if parent is not None and parent.children.get(node.name) is node \
                    and node.alias is None:
                return node  # type: ignore[no-any-return]  # the memo tuple is untyped
        node = self.ns.lookup(term.args[0], scope)
        if node is None:
            raise Fault(f"{term.args[0]} not found (AE_NOT_FOUND)")
        term.cache = (scope, node)
        return node

    def create(self, path: NamePath, frame: Frame, obj: Any) -> Node | None:
        """Define ``path`` in the current scope; None (and a warning) if it exists."""
        parent = self.ns.parent_for_new(path, frame.scope)
        if parent is None or not path.segs:
            raise Fault(f"scope of {path} not found (AE_NOT_FOUND)")
        name = path.segs[-1]
        if name in parent.children:
            raise Fault(f"{path} already exists (AE_ALREADY_EXISTS)")
        node = self.ns.add(parent, name, obj)
        node.table = frame.table
        if self.depth > 0:
            frame.created.append(node)
        return node

    def read_node(self, node: Node) -> Any:
        """The value of a named object used as an operand."""
        obj = node.obj
        t = type(obj)
        if t is FieldUnit or t is BufferField:
            return self.read_field(self, obj)
        if t is Method:
            return self.call(node, [])
        if t is int or t is str or t is Buffer or t is Package:
            return obj
        if obj is None:
            return None
        return NodeRef(node)

    # -- reporting ---------------------------------------------------------

    def describe(self, fault: Fault, table: int | None) -> str:
        index = fault.table if fault.table is not None else table
        source = self.tables[index].source if index is not None else "?"
        where = f"+{fault.off:#x}" if fault.off is not None else ""
        return f"{source}{where}: {fault.op or 'term'}: {fault.detail}"

    def warn(self, text: str) -> None:
        if len(self.warnings) < 1000:
            self.warnings.append(text)

    def note_read(self, region: str, space: int, address: int, length: int, source: str) -> None:
        if self.reads is not None:
            self.reads[(region, space, address, length, source)] = None


def handler(*ops: int) -> Callable[[Handler], Handler]:
    """Register a function as the handler of ``ops``."""
    def register(fn: Handler) -> Handler:
        for op in ops:
            HANDLERS[op] = fn
        return fn
    return register


@handler(NAMEREF)
def _name(it: Interpreter, t: Term, f: Frame) -> Any:
    return it.read_node(it.node(t, f))


@handler(CALL)
def _call(it: Interpreter, t: Term, f: Frame) -> Any:
    node = it.node(t, f)
    if type(node.obj) is not Method:
        raise Fault(f"{node.path} is not a method")
    args = [it.value(a, f) for a in t.args[1]]
    return it.call(node, args)


@handler(LOCAL)
def _local(it: Interpreter, t: Term, f: Frame) -> Any:
    value = f.locals[t.args[0]]
    if value is None:
        raise Fault(f"Local{t.args[0]} is uninitialized (AE_AML_UNINITIALIZED_LOCAL)")
    return value


@handler(ARG)
def _arg(it: Interpreter, t: Term, f: Frame) -> Any:
    value = f.args[t.args[0]]
    if value is None:
        raise Fault(f"Arg{t.args[0]} is uninitialized (AE_AML_UNINITIALIZED_ARG)")
    return value
