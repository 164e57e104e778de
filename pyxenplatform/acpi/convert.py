"""Data type conversions (ACPI 6.5 §19.3.5), as ACPICA ``exconvrt.c`` does them.

Where ACPICA differs from the spec text, ACPICA wins (the oracle is acpiexec):
an implicit Buffer-to-String conversion gives "0xAA 0xBB" hex text, a String
converts to a Buffer with its NUL, implicit String-to-Integer reads hex only
(``AcpiUtImplicitStrtoul64``), ToInteger reads "0x" hex or decimal
(``AcpiUtExplicitStrtoul64``); digits stop at the first that would overflow.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .values import TYPE_NAMES, Buffer, IndexRef, LiveValue, Package, object_type


class ConversionError(Exception):
    """An operand of the wrong type (AE_AML_OPERAND_TYPE)."""


def deref_index(value: Any) -> Any:
    """The value an Index() reference points at (ACPICA ``AcpiExResolveObjectToValue``)."""
    if type(value) is not IndexRef:
        return value
    container, index = value.container, value.index
    if type(container) is Package:
        if index >= len(container.items):
            raise ConversionError(f"Index {index} beyond package of {len(container.items)}")
        item = container.items[index]
        if type(item) is LiveValue:
            return item.value
        if item is None:
            raise ConversionError("Index() names an uninitialized package element")
        return item
    if isinstance(container, Buffer):
        return container.data[index]
    assert isinstance(container, str)
    return ord(container[index])


def _digits(text: str, base: int, limit: int) -> int:
    value = 0
    for ch in text:
        try:
            digit = int(ch, base)
        except ValueError:
            break
        if value * base + digit > limit:
            break
        value = value * base + digit
    return value


def _strip(text: str) -> str:
    text = text.split("\x00", 1)[0].lstrip(" \t\n\r\f\v")
    return text


def string_to_int(text: str, width: int, explicit: bool) -> int:
    """``AcpiUtImplicitStrtoul64`` / ``AcpiUtExplicitStrtoul64``."""
    limit = (1 << width) - 1
    text = _strip(text)
    if text[:2] in ("0x", "0X"):
        return _digits(text[2:], 16, limit)
    return _digits(text, 10 if explicit else 16, limit)


def to_integer(value: Any, width: int, explicit: bool = False) -> int:
    """An Integer operand: Integer, String or Buffer (first 4/8 bytes, little-endian)."""
    value = deref_index(value)
    t = type(value)
    if t is int:
        return int(value)
    if t is str:
        return string_to_int(value, width, explicit)
    if t is Buffer:
        return int.from_bytes(value.data[:width // 8], "little")
    raise ConversionError(f"expected Integer, String or Buffer, got {type_name(value)}")


def to_buffer(value: Any, width: int) -> Buffer:
    """A Buffer operand (ACPICA ``AcpiExConvertToBuffer``)."""
    value = deref_index(value)
    t = type(value)
    if t is Buffer:
        return value  # type: ignore[no-any-return]  # exact type() test narrows only at run time (faster than isinstance)
    if t is int:
        return Buffer(int(value).to_bytes(width // 8, "little"))
    if t is str:
        return Buffer(value.encode("latin-1") + b"\x00")
    raise ConversionError(f"expected Integer, String or Buffer, got {type_name(value)}")


def int_to_hex(value: int, width: int) -> str:
    return f"{value:0{width // 4}X}"


def buffer_to_hex(data: bytes | bytearray, separator: str) -> str:
    return separator.join(f"0x{b:02X}" for b in data)


def _to_text(value: Any, width: int, from_int: Callable[[int, int], str],
             from_buffer: Callable[[bytes | bytearray], str]) -> str:
    """A String operand: a String as it is, an Integer or a Buffer through the converters."""
    value = deref_index(value)
    t = type(value)
    if t is str:
        return value  # type: ignore[no-any-return]  # exact type() test narrows only at run time (faster than isinstance)
    if t is int:
        return from_int(value, width)
    if t is Buffer:
        return from_buffer(value.data)
    raise ConversionError(f"expected Integer, String or Buffer, got {type_name(value)}")


def _decimal(value: int, width: int) -> str:
    return str(value)


def to_string(value: Any, width: int) -> str:
    """A String operand, implicit conversion (ACPI_IMPLICIT_CONVERT_HEX)."""
    return _to_text(value, width, int_to_hex, lambda data: buffer_to_hex(data, " "))


def to_decimal_string(value: Any, width: int) -> str:
    """ToDecimalString (ACPI_EXPLICIT_CONVERT_DECIMAL)."""
    return _to_text(value, width, _decimal, lambda data: ",".join(str(b) for b in data))


def to_hex_string(value: Any, width: int) -> str:
    """ToHexString (ACPI_EXPLICIT_CONVERT_HEX)."""
    return _to_text(value, width, int_to_hex, lambda data: buffer_to_hex(data, ","))


def type_name(value: Any) -> str:
    if value is None:
        return "Uninitialized"
    return TYPE_NAMES.get(object_type(value), type(value).__name__)
