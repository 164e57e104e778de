"""A pure-Python AML reader for the processor power objects of ACPI firmware.

Tables -> byte stream (``stream``) -> parser -> namespace -> interpreter ->
values, then ``processors`` finds the processors, does the OSPM handshake and
evaluates ``_CST _CSD _PCT _PSS _PSD _PPC _CPC _LPI`` as ACPICA's acpiexec
does. Importing this package is cheap: the names below load on first use.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .processors import (AcpiValue, FirmwareProcessor, FirmwareReport, Reference, RegionRead,
                             evaluate_tables, read_firmware)
    from .report import raw_json
    from .resources import GenericRegister, decode_register

__all__ = ["AcpiValue", "FirmwareProcessor", "FirmwareReport", "GenericRegister", "Reference",
           "RegionRead", "decode_register", "evaluate_tables", "raw_json", "read_firmware"]

_HOME = {
    "AcpiValue": "processors", "FirmwareProcessor": "processors", "FirmwareReport": "processors",
    "Reference": "processors", "RegionRead": "processors", "evaluate_tables": "processors",
    "read_firmware": "processors", "raw_json": "report", "GenericRegister": "resources",
    "decode_register": "resources",
}


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
