"""Shared by the converters: warnings, ACPI value shapes, the register decoder."""

from __future__ import annotations

from dataclasses import dataclass

from ..acpi import FirmwareProcessor, Reference, decode_register
from ..errors import AmlError
from ..model import Register


@dataclass(frozen=True)
class ConversionWarning:
    """One object or ``_CST``/``_PSS`` entry that was not converted, and why."""

    path: str        # the processor's namespace path, "\\_PR.CPU0"
    acpi_id: int
    object: str      # "_CST", "_CST[2]", "_PSS[0]", "_PSD", or "processor"
    reason: str

    def __str__(self) -> str:
        return f"{self.path} (ACPI id {self.acpi_id}) {self.object}: {self.reason}"


class Notes:
    """Collects the warnings of one processor."""

    def __init__(self, proc: FirmwareProcessor) -> None:
        self.proc = proc
        self.items: list[ConversionWarning] = []

    def __call__(self, obj: str, reason: str) -> None:
        self.items.append(ConversionWarning(self.proc.path, self.proc.acpi_id, obj, reason))


def kind(value: object) -> str:
    """An ACPI value's type, as ACPICA names it."""
    if isinstance(value, AmlError):
        return f"an evaluation error ({value})"
    if value is None:
        return "no value (the method returned nothing)"
    if isinstance(value, Reference):
        return f"a reference to {value.type} {value.path}"
    names = {int: "an Integer", str: "a String", bytes: "a Buffer", tuple: "a Package"}
    return names.get(type(value), type(value).__name__)


def integers(value: object, count: int) -> tuple[int, ...] | None:
    """The first ``count`` elements of a Package if all are Integers (Linux
    ``acpi_extract_package`` with format ``"N" * count``: more elements are fine)."""
    if not isinstance(value, tuple) or len(value) < count:
        return None
    head = value[:count]
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in head):
        return None
    return tuple(head)


def decode_gas(buf: bytes) -> Register | None:
    """A Buffer holding one Generic Register descriptor (ACPI 6.5, 6.4.3.7) as a
    :class:`Register` (``access_size`` is the descriptor's access-size byte), or None."""
    reg = decode_register(buf)
    if reg is None:
        return None
    return Register(reg.space_id, reg.bit_width, reg.bit_offset, reg.access_size, reg.address)
