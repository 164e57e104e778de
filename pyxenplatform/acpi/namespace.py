"""The ACPI namespace: a tree of 4-character names (ACPI 6.5 §5.3).

Lookup follows ACPICA ``AcpiNsLookup``: a path with '\\' starts at the root,
each '^' moves to the parent, a multi-segment path is relative to the current
scope; a *single* NameSeg without prefixes is searched in the current scope
and then in each parent up to the root (§5.3, "namespace search rules").
Children keep their creation order, as ACPICA appends new nodes, so walks
visit objects in the order the firmware defined them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .stream import NamePath
from .values import T_DEVICE, Mutex, Scope


class Node:
    """One named object: ``obj`` is its value (data object, Method, Region, Scope...)."""

    __slots__ = ("name", "parent", "children", "obj", "alias", "table", "_path")

    def __init__(self, name: str, parent: Node | None, obj: Any = None) -> None:
        self.name = name
        self.parent = parent
        self.children: dict[str, Node] = {}
        self.obj = obj
        self.alias: Node | None = None
        self.table = -1
        self._path: str | None = None

    @property
    def path(self) -> str:
        """ACPICA's external path: ``\\_PR.CPU0`` (trailing '_' padding dropped)."""
        if self._path is not None:
            return self._path
        parts = []
        node: Node | None = self
        while node is not None and node.parent is not None:
            parts.append(node.name.rstrip("_") or "_")
            node = node.parent
        self._path = "\\" + ".".join(reversed(parts))
        return self._path

    def target(self) -> Node:
        """The node itself, or what an Alias names (bounded: aliases of aliases)."""
        node = self
        for _ in range(16):
            if node.alias is None:
                return node
            node = node.alias
        return node

    def __repr__(self) -> str:
        return f"Node({self.path})"


class Namespace:
    """The namespace with ACPICA's predefined objects (``utglobal.c`` AcpiGblPreDefinedNames)."""

    def __init__(self) -> None:
        self.root = Node("\\", None, Scope(0))
        for name, type_ in (("_GPE", 0), ("_PR_", 0), ("_SB_", T_DEVICE), ("_SI_", 0),
                            ("_TZ_", T_DEVICE)):
            self.add(self.root, name, Scope(type_))
        self.add(self.root, "_REV", 2)
        self.add(self.root, "_OS_", "Microsoft Windows NT")
        self.add(self.root, "_GL_", Mutex(0))

    def add(self, parent: Node, name: str, obj: Any) -> Node:
        """Create ``parent.name`` holding ``obj`` and return it."""
        node = Node(name, parent, obj)
        parent.children[name] = node
        return node

    def start(self, path: NamePath, scope: Node) -> Node | None:
        """The node a path's prefix ('\\' or '^'s) points at."""
        node: Node | None = self.root if path.absolute else scope
        for _ in range(path.parents):
            if node is None:
                return None
            node = node.parent
        return node

    def lookup(self, path: NamePath, scope: Node) -> Node | None:
        """Find ``path`` from ``scope`` with the search rules; None when absent."""
        segs = path.segs
        if not segs:
            return self.start(path, scope) if path.absolute or path.parents else None
        if len(segs) == 1 and not path.absolute and not path.parents:
            seg = segs[0]
            node: Node | None = scope
            while node is not None:
                child = node.children.get(seg)
                if child is not None:
                    return child.target()
                node = node.parent
            return None
        node = self.start(path, scope)
        for seg in segs:
            if node is None:
                return None
            node = node.target().children.get(seg)
        return None if node is None else node.target()

    def parent_for_new(self, path: NamePath, scope: Node) -> Node | None:
        """The scope in which ``path`` would be created (no search rules)."""
        node = self.start(path, scope)
        for seg in path.segs[:-1]:
            if node is None:
                return None
            node = node.target().children.get(seg)
        return None if node is None else node.target()

    def walk(self, node: Node | None = None) -> Iterator[Node]:
        """Every node below ``node`` (default the root), depth first, parents first."""
        stack = [iter((node or self.root).children.values())]
        while stack:
            child = next(stack[-1], None)
            if child is None:
                stack.pop()
                continue
            yield child
            if child.children:
                stack.append(iter(list(child.children.values())))
