"""Store semantics (ACPICA ``exstore.c``, ``exstoren.c``, ``exstorob.c``).

Store to a Local replaces it with a copy; to an Arg holding a reference, writes
through the reference; to a named Integer/String/Buffer, converts to that type
(a Buffer keeps its length: zero-padded or truncated); to a field, writes the
field; to a Package only from a Package; to other object types, fails.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .convert import deref_index, to_buffer, to_integer, to_string
from .parser import ARG, LOCAL, NAMEREF, opcode_name
from .namespace import Node
from .values import Buffer, BufferField, FieldUnit, IndexRef, NodeRef, Package, SlotRef, \
    copy_value

if TYPE_CHECKING:
    from .interpreter import Frame


class StoreMixin:
    """The Store half of the interpreter (it needs ``width``, ``mask``, ``ev``, ``node``)."""

    width: int
    mask: int
    write_field: Any

    def ev(self, term: Any, frame: Frame) -> Any:
        raise NotImplementedError

    def node(self, term: Any, frame: Frame) -> Node:
        raise NotImplementedError

    def store(self, value: Any, target: Any, frame: Frame) -> None:
        """Store ``value`` to a Target (ACPICA ``AcpiExStore``); None target = discard."""
        if target is None:
            return
        op = target.op
        if op == LOCAL:
            frame.locals[target.args[0]] = copy_value(value)
        elif op == ARG:
            slot = target.args[0]
            held = frame.args[slot]
            if type(held) in (NodeRef, SlotRef, IndexRef):
                self.store_ref(value, held)
            else:
                frame.args[slot] = copy_value(value)
        elif op == NAMEREF:
            self.store_node(value, self.node(target, frame))
        elif op == 0x5B31:  # Debug
            return
        else:
            ref = self.ev(target, frame)
            if type(ref) in (NodeRef, SlotRef, IndexRef):
                self.store_ref(value, ref)
            elif ref is None:
                raise _fault("store target has no value")
            else:
                raise _fault(f"cannot store to the result of {opcode_name(op)}")

    def store_ref(self, value: Any, ref: Any) -> None:
        t = type(ref)
        if t is NodeRef:
            self.store_node(value, ref.node)
        elif t is SlotRef:
            ref.slots[ref.index] = copy_value(value)
        else:
            container, index = ref.container, ref.index
            if type(container) is Package:
                container.items[index] = copy_value(deref_index(value))
            elif type(container) is Buffer:
                container.data[index] = to_integer(value, self.width) & 0xFF
            else:
                self.store_char(ref, to_integer(value, self.width) & 0xFF)

    def store_char(self, ref: IndexRef, byte: int) -> None:
        """Index(String) store: ACPICA writes the byte into the string in place."""
        text = str(ref.container)
        new = text[:ref.index] + chr(byte) + text[ref.index + 1:]
        owner = ref.owner
        if isinstance(owner, Node) and owner.obj is text:
            owner.obj = new
        elif type(owner) is tuple and owner[0][owner[1]] is text:
            owner[0][owner[1]] = new
        else:
            raise _fault("cannot store into this String with Index()")
        ref.container = new

    def store_node(self, value: Any, node: Node) -> None:
        """Store to a named object with ACPICA's implicit conversion rules (exstore.c)."""
        obj = node.obj
        t = type(obj)
        value = deref_index(value)
        if t is FieldUnit or t is BufferField:
            self.write_field(self, obj, value)
        elif t is int:
            node.obj = to_integer(value, self.width) & self.mask
        elif t is str:
            node.obj = to_string(value, self.width)
        elif t is Buffer:
            data = to_buffer(value, self.width).data
            size = len(obj.data)
            obj.data[:] = data[:size] + bytes(max(0, size - len(data)))
        elif t is Package:
            if type(value) is not Package:
                raise _fault("Store of a non-Package to a Package object (AE_AML_TARGET_TYPE)")
            node.obj = copy_value(value)
        elif obj is None or t in (NodeRef, SlotRef, IndexRef):
            node.obj = copy_value(value)
        else:
            raise _fault(f"cannot store to {node.path} (AE_AML_TARGET_TYPE)")



def _fault(detail: str) -> Exception:
    from .interpreter import Fault
    return Fault(detail)
