"""The raw report (`firmware --raw --json`, issue 8): evaluated objects as JSON values.

An Integer is a number, a String ``{"string": s}``, a Buffer holding one
Generic Register descriptor its fields, any other Buffer ``{"buffer": hex}``,
a Package a list, no value ``null``, a failed object ``{"error": text}``, and a
reference to an object without a value (Device, Processor...) as acpiexec prints it,
``{"reference": "CPU0", "type": "Processor"}``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .resources import decode_register

if TYPE_CHECKING:
    from .processors import AcpiValue, FirmwareReport


def json_value(value: AcpiValue | BaseException) -> object:
    """One evaluated object as a JSON value."""
    if isinstance(value, BaseException):
        return {"error": str(value)}
    if value is None:
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        return {"string": value}
    if isinstance(value, bytes):
        reg = decode_register(value)
        if reg is None:
            return {"buffer": value.hex()}
        return {"space_id": reg.space_id, "bit_width": reg.bit_width,
                "bit_offset": reg.bit_offset, "access_size": reg.access_size,
                "address": f"{reg.address:#x}"}
    if isinstance(value, tuple):
        return [json_value(item) for item in value]
    # acpiexec prints "[Object Reference] = ... <Node> Name DEV0 Device": the NameSeg and type.
    segment = value.path.rsplit(".", 1)[-1].lstrip("\\")
    return {"reference": segment.ljust(4, "_"), "type": value.type}


def raw_json(report: FirmwareReport) -> dict[str, object]:
    """The whole raw report: one entry per processor, objects in the order read."""
    processors: list[object] = []
    for cpu in report.processors:
        processors.append({
            "path": cpu.path,
            "acpi_id": cpu.acpi_id,
            "objects": {name: json_value(value) for name, value in cpu.objects.items()},
        })
    return {"processors": processors}
