"""Shared by the converters: warnings, ACPI value shapes, the register decoder."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from ..model import Register

# sizeof(struct acpi_pct_register) / acpi_power_register: 0x82, length, 4 bytes, u64.
GAS_DESCRIPTOR_SIZE = 15


class FirmwareObjects(Protocol):
    """What the conversion reads of one processor: ``pyxenplatform.acpi.FirmwareProcessor``."""

    @property
    def path(self) -> str: ...
    @property
    def acpi_id(self) -> int: ...
    @property
    def status(self) -> int | None: ...
    @property
    def objects(self) -> Mapping[str, object]: ...


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

    def __init__(self, proc: FirmwareObjects) -> None:
        self.proc = proc
        self.items: list[ConversionWarning] = []

    def __call__(self, obj: str, reason: str) -> None:
        self.items.append(ConversionWarning(self.proc.path, self.proc.acpi_id, obj, reason))


def kind(value: object) -> str:
    """An ACPI value's type, as ACPICA names it."""
    if isinstance(value, BaseException):
        return f"an evaluation error ({value})"
    if value is None:
        return "no value (the method returned nothing)"
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
    """A Generic Register descriptor (ACPI 6.5, 6.4.3.7) as a :class:`Register`.

    TODO(conv): use ``pyxenplatform.acpi.decode_register`` once the AML
    reader lands; this stand-in reads the same 15 bytes Linux's
    ``struct acpi_power_register`` overlays on the Buffer.
    """
    if len(buf) < GAS_DESCRIPTOR_SIZE or buf[0] != 0x82:
        return None
    return Register(space_id=buf[3], bit_width=buf[4], bit_offset=buf[5],
                    access_size=buf[6], address=int.from_bytes(buf[7:15], "little"))

