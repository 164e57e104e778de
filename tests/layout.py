"""Member tables of ctypes structures and of the same structures compiled by gcc.

A table is a list of lines ``<tag> <path> <offset> <size>`` (``<tag> sizeof
<size>`` for the whole struct, ``<tag> <path> bits <word>`` for a bitfield:
the 32-bit storage word with only that field set to all ones).  The ctypes
side is computed from ``_fields_``; the C side from a program that applies
``offsetof``/``sizeof`` to Xen's own header, so the two are independent.
"""

from __future__ import annotations

import ctypes
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeGuard

from types import ModuleType

from pyxenplatform import abi

HEADER = Path("/usr/include/xen/platform.h")
# Xen 4.21.2's platform.h (identical in 4.22.0), committed: no Debian libxen-dev has it.
HEADER_4_21 = Path(__file__).parent / "data" / "xen-4.21.2" / "platform.h"
SYSCTL_HEADER = Path("/usr/include/xen/sysctl.h")
# Members that exist only in Xen releases newer than the header being compiled:
# the C side guards them with the macro that arrived with them.
NEWER = {
    "u.dom0_console": "XENPF_get_dom0_console",
    "u.ucode_revision": "XENPF_get_ucode_revision",
    "u.cppc_data": "XEN_PM_CPPC",
    "u.microcode2": "XENPF_microcode_update2",
}
# Tags named in the header that are not structs of platform.h itself.
EXTRA_TAGS = ("dom0_vga_console_info",)

CType = type[ctypes.Structure] | type[ctypes.Union]


def header_tags(header_text: str) -> list[str]:
    """Every ``struct NAME {`` / ``union NAME {`` defined in a header."""
    return sorted(set(re.findall(r"\b(?:struct|union)\s+(\w+)\s*\{", header_text)))


def _is_aggregate(t: Any) -> TypeGuard[CType]:
    return isinstance(t, type) and issubclass(t, (ctypes.Structure, ctypes.Union))


def members(ctype: CType, prefix: str = "", base: int = 0) -> Iterator[tuple[str, Any, int, bool]]:
    """(path, ctype of member, absolute offset, is_bitfield) for every member, recursively."""
    for field in ctype._fields_:
        name, ftype = field[0], field[1]
        offset = base + getattr(ctype, name).offset
        path = prefix + name
        yield path, ftype, offset, len(field) == 3
        # A guest handle is a leaf: C knows it as a pointer-sized member.
        if _is_aggregate(ftype) and not ftype.__name__.startswith("XEN_GUEST_HANDLE_"):
            yield from members(ftype, path + ".", offset)


def _bit_word(ctype: CType, path: str) -> int:
    """The storage word of a bitfield with only that field set to all ones."""
    obj: Any = ctype()
    *parents, leaf = path.split(".")
    for p in parents:
        obj = getattr(obj, p)
    setattr(obj, leaf, -1 & 0xFFFFFFFF)
    word_offset = getattr(type(obj), leaf).offset
    return int.from_bytes(bytes(obj)[word_offset : word_offset + 4], "little")


def ctypes_table(tags: list[str], module: ModuleType = abi) -> list[str]:
    lines = []
    for tag in tags:
        ctype: CType = getattr(module, tag)
        lines.append(f"{tag} sizeof {ctypes.sizeof(ctype)}")
        for path, ftype, offset, bitfield in members(ctype):
            if bitfield:
                lines.append(f"{tag} {path} bits {_bit_word(ctype, path)}")
            else:
                lines.append(f"{tag} {path} {offset} {ctypes.sizeof(ftype)}")
    return lines


def _newer_macro(path: str) -> str | None:
    dotted = f".{path}."
    return next((m for p, m in NEWER.items() if f".{p}." in dotted), None)


def c_program(tags: list[str], module: ModuleType = abi, header: str = "xen/platform.h") -> str:
    """A C program printing the gcc side of :func:`ctypes_table` for ``tags``."""
    out = [
        "#include <stdio.h>",
        "#include <stddef.h>",
        "#include <stdint.h>",
        "#include <string.h>",
        "#include <xen/xen.h>",
        f"#include <{header}>",
        "int main(void) {",
    ]
    for tag in tags:
        ctype: CType = getattr(module, tag)
        kind = "union" if issubclass(ctype, ctypes.Union) else "struct"
        ct = f"{kind} {tag}"
        out.append(f'printf("{tag} sizeof %zu\\n", sizeof({ct}));')
        for path, _ftype, _offset, bitfield in members(ctype):
            macro = _newer_macro(path)
            if macro:
                out.append(f"#ifdef {macro}")
            if bitfield:
                out.append(_c_bitfield(ct, tag, path))
            else:
                out.append(
                    f'printf("{tag} {path} %zu %zu\\n", offsetof({ct}, {path}),'
                    f" sizeof((({ct} *)0)->{path}));"
                )
            if macro:
                out.append("#endif")
    out += ["return 0;", "}"]
    return "\n".join(out) + "\n"


def _c_bitfield(ct: str, tag: str, path: str) -> str:
    # The word is found by scanning the struct for the 4 bytes that changed:
    # offsetof cannot be applied to a bitfield.
    return (
        f"{{ {ct} s; unsigned char *b = (unsigned char *)&s; size_t i;"
        f" memset(&s, 0, sizeof s); s.{path} = -1;"
        f" for (i = 0; i + 4 <= sizeof s; i += 4) {{ uint32_t w; memcpy(&w, b + i, 4);"
        f' if (w) {{ printf("{tag} {path} bits %u\\n", w); break; }} }} }}'
    )


def overlay_include(workdir: Path) -> Path:
    """An include directory whose ``xen/platform.h`` is Xen 4.21.2's and whose
    other ``xen/*`` are the installed headers (4.21 changed none of the types
    platform.h uses from them): pass it as ``-I`` to compile against 4.21."""
    root = workdir / "xen-4.21-include"
    xen = root / "xen"
    xen.mkdir(parents=True, exist_ok=True)
    for entry in HEADER.parent.iterdir():
        link = xen / entry.name
        if entry.name != "platform.h" and not link.exists():
            link.symlink_to(entry)
    (xen / "platform.h").write_bytes(HEADER_4_21.read_bytes())
    return root


def gcc_table(tags: list[str], workdir: Path, cc: str = "cc",
              include: Path | None = None, module: ModuleType = abi,
              header: str = "xen/platform.h") -> list[str]:
    """Compile and run :func:`c_program` (with ``include`` first on the include
    path, if given); its output lines."""
    src = workdir / "layout.c"
    exe = workdir / "layout"
    src.write_text(c_program(tags, module, header))
    # __XEN_TOOLS__ selects the current interface, as Xen's tools compile it.
    cmd = [cc, "-D__XEN_TOOLS__", "-Wall", "-Werror", "-o", str(exe), str(src)]
    if include is not None:
        cmd[1:1] = ["-I", str(include)]
    subprocess.run(cmd, check=True)
    result = subprocess.run([str(exe)], check=True, capture_output=True, text=True)
    return result.stdout.splitlines()
