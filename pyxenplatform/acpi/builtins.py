"""Methods the OS provides: ``\\_OSI`` (ACPICA ``utosi.c``).

The interface list is ACPICA 20200925's AcpiDefaultSupportedInterfaces, which
acpiexec answers: every Windows version up to "Windows 2019" and the features
below. ``_OS_`` and ``_REV`` are plain objects in the namespace.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .values import Method

if TYPE_CHECKING:
    from .interpreter import Interpreter

OSI_STRINGS = frozenset({
    "Windows 2000", "Windows 2001", "Windows 2001 SP1", "Windows 2001.1", "Windows 2001 SP2",
    "Windows 2001.1 SP1", "Windows 2006", "Windows 2006.1", "Windows 2006 SP1",
    "Windows 2006 SP2", "Windows 2009", "Windows 2012", "Windows 2013", "Windows 2015",
    "Windows 2016", "Windows 2017", "Windows 2017.2", "Windows 2018", "Windows 2018.2",
    "Windows 2019", "Extended Address Space Descriptor", "Module Device", "Processor Device",
    "3.0 Thermal Model", "3.0 _SCP Extensions", "Processor Aggregator Device",
})


def _osi(it: Interpreter, args: list[Any]) -> int:
    from .interpreter import Fault
    name = args[0] if args else None
    if type(name) is not str:
        raise Fault("_OSI needs a String argument (AE_TYPE)")
    return (1 << 64) - 1 if name in OSI_STRINGS else 0


def install(it: Interpreter) -> None:
    """Add ``\\_OSI`` to the namespace."""
    node = it.ns.add(it.ns.root, "_OSI", None)
    method = Method(node, -1, 0, 0, 1)
    method.builtin = _osi
    node.obj = method
