"""ACPICA's checks and repairs of predefined names' return values.

acpiexec evaluates through ``AcpiEvaluateObject``, so what it prints has been
through ``AcpiNsCheckReturnValue`` (nspredef.c, nsprepkg.c, nsrepair.c,
nsrepair2.c, ACPICA 20200925). Validation failures there are only warnings
(nseval.c ignores the status), but the *repairs* change the value: a wrong
type converted to the expected one, a lone object wrapped in a Package, Null
elements removed or replaced, a _PSD/_CSD NumEntries of 0 fixed, _CST
entries of type 0 removed, the _CST count rewritten and the entries sorted by
type, _PSS sorted by descending frequency. They work in place, as ACPICA's do
(a Name's package stays repaired). Linux sees the same repaired values.
"""

from __future__ import annotations

from typing import Any

from .interpreter import Interpreter
from .values import Buffer, LiveValue, Package

INT, STR, BUF, PKG, NONE = 1, 2, 4, 8, 0x40

# Expected top-level types and package formats (acpredef.h).
_EXPECTED: dict[str, tuple[int, tuple[Any, ...] | None]] = {
    "_CST": (PKG, ("pkg_count", BUF, 1, INT, 3)),
    "_CSD": (PKG, ("count", INT, 0, 0, 0)),
    "_PCT": (PKG, ("fixed", BUF, 2, 0, 0)),
    "_PSS": (PKG, ("ptype2", INT, 6, 0, 0)),
    "_PSD": (PKG, ("count", INT, 0, 0, 0)),
    "_PPC": (INT, None),
    "_CPC": (PKG, ("var", INT | BUF, 0, 0, 0)),
    "_LPI": (PKG, ("var_var", INT, 3, INT | BUF | STR, 10)),
}


class _Invalid(Exception):
    """A validation failure (ACPICA: AE_AML_OPERAND_TYPE/VALUE): stops the checks."""


def check_return(it: Interpreter, name: str, value: Any) -> Any:
    """The value acpiexec would print for predefined ``name`` (repaired in place)."""
    expected = _EXPECTED.get(name)
    if expected is None:
        return value
    btypes, package = expected
    try:
        value = _check_type(it, value, btypes, top=True)
    except _Invalid:
        return value
    if type(value) is Package and package is not None:
        try:
            value = _check_package(it, value, package)
        except _Invalid:
            pass
        except (IndexError, AttributeError, TypeError):
            return value
    try:
        if name == "_CST" and type(value) is Package:
            _repair_cst(value)
        elif name == "_PSS" and type(value) is Package:
            _sort(value, 0, 6, 0, descending=True)
    except (IndexError, AttributeError, TypeError):
        pass
    return value


def _btype(value: Any) -> int:
    t = type(value)
    if t is int or t is LiveValue and type(value.value) is int:
        return INT
    if t is str or t is LiveValue:
        return STR
    if t is Buffer:
        return BUF
    if t is Package:
        return PKG
    if value is None:
        return NONE
    return 0


def _check_type(it: Interpreter, value: Any, expected: int, top: bool = False) -> Any:
    """AcpiNsCheckObjectType + AcpiNsSimpleRepair: the value, or a repaired one."""
    kind = _btype(value)
    if kind & expected:
        return value.value if type(value) is LiveValue else value
    if kind == 0:
        raise _Invalid()
    if value is None:
        if top:
            raise _Invalid()  # "Missing expected return value"
        return _null_repair(expected)
    if type(value) is LiveValue:
        value = value.value
    for want, convert in ((INT, _to_int), (STR, _to_str), (BUF, _to_buf)):
        if expected & want:
            converted = convert(it, value)
            if converted is not None:
                return converted
    if expected & PKG:
        return Package([value])
    raise _Invalid()


def _null_repair(expected: int) -> Any:
    """AcpiNsRepairNullElement."""
    if expected & INT:
        return 0
    if expected & STR:
        return ""
    if expected & BUF:
        return Buffer(b"")
    raise _Invalid()


def _to_int(it: Interpreter, value: Any) -> int | None:
    """nsconvert.c AcpiNsConvertToInteger."""
    if type(value) is str:
        from .convert import string_to_int
        return string_to_int(value, 64, explicit=True)
    if type(value) is Buffer:
        if len(value.data) > 8:
            return None
        return int.from_bytes(value.data, "little")
    return None


def _to_str(it: Interpreter, value: Any) -> str | None:
    """AcpiNsConvertToString: Integer 0 becomes "", a Buffer its text up to a NUL."""
    if type(value) is int:
        return "" if value == 0 else f"{value:0{it.width // 4}X}"
    if type(value) is Buffer:
        return bytes(value.data).split(b"\x00", 1)[0].decode("latin-1")
    return None


def _to_buf(it: Interpreter, value: Any) -> Buffer | None:
    """AcpiNsConvertToBuffer: Integer bytes, String chars (no NUL), Integers as DWORDs."""
    if type(value) is int:
        return Buffer(value.to_bytes(it.width // 8, "little"))
    if type(value) is str:
        return Buffer(value.encode("latin-1"))
    if type(value) is Package:
        if not all(type(v) is int for v in value.items):
            return None
        return Buffer(b"".join((v & 0xFFFFFFFF).to_bytes(4, "little") for v in value.items))
    return None


def _check_package(it: Interpreter, package: Package, info: tuple[Any, ...]) -> Package:
    """AcpiNsCheckPackage for the formats our names use."""
    form, type1, count1, type2, count2 = info
    if form not in ("fixed", "var_var"):
        package.items[:] = [item for item in package.items if item is not None]
    items = package.items
    if not items:
        if form == "var":
            return package
        raise _Invalid()
    if form == "fixed":
        if len(items) < count1 + count2:
            raise _Invalid()
        _elements(it, items, type1, count1, type2, count2, 0)
    elif form == "var":
        for i in range(len(items)):
            items[i] = _check_type(it, items[i], type1)
    elif form == "pkg_count":
        items[0] = _check_type(it, items[0], INT)
        expected = items[0]
        if expected >= len(items):
            raise _Invalid()
        _package_list(it, items, 1, expected, info)
    elif form in ("ptype2", "count"):
        if type(items[0]) is not Package:
            package = Package([package])
            items = package.items
        _package_list(it, items, 0, len(items), info)
    return package


def _package_list(it: Interpreter, items: list[Any], start: int, count: int,
                  info: tuple[Any, ...]) -> None:
    """AcpiNsCheckPackageList: each subpackage of a PTYPE2 package."""
    form, type1, count1, type2, count2 = info
    for i in range(start, start + count):
        sub = _check_type(it, items[i], PKG)
        items[i] = sub
        elements = sub.items
        if form in ("ptype2", "pkg_count"):
            if len(elements) < count1 + count2:
                raise _Invalid()
            _elements(it, elements, type1, count1, type2, count2, 0)
        else:  # "count": NumEntries first (_PSD, _CSD)
            elements[0] = _check_type(it, elements[0], INT)
            expected = elements[0]
            if len(elements) < expected or len(elements) < count1:
                raise _Invalid()
            if expected == 0:
                expected = elements[0] = len(elements)
            _elements(it, elements, type1, expected - 1, 0, 0, 1)


def _elements(it: Interpreter, items: list[Any], type1: int, count1: int, type2: int,
              count2: int, start: int) -> None:
    """AcpiNsCheckPackageElements."""
    for i in range(count1):
        items[start + i] = _check_type(it, items[start + i], type1)
    for i in range(count2):
        items[start + count1 + i] = _check_type(it, items[start + count1 + i], type2)


def _repair_cst(package: Package) -> None:
    """AcpiNsRepair_CST: drop empty or type-0 entries, rewrite the count, sort by type."""
    items = package.items
    i = 1
    while i < len(items):
        sub = items[i]
        if type(sub) is Package and (not sub.items or _int(sub.items[1]) & 0xFFFFFFFF == 0):
            del items[i]
        else:
            i += 1
    items[0] = len(items) - 1
    _sort(package, 1, 4, 1, descending=False)


def _int(value: Any) -> int:
    if type(value) is LiveValue:
        value = value.value
    return value if type(value) is int else 1


def _sort(package: Package, start: int, minimum: int, key: int, descending: bool) -> None:
    """AcpiNsCheckSortedList + AcpiNsSortList (a stable bubble sort)."""
    items = package.items
    if start >= len(items):
        return
    previous = 0xFFFFFFFF if descending else 0
    unsorted = False
    for sub in items[start:]:
        if type(sub) is not Package or len(sub.items) < minimum:
            return
        value = sub.items[key]
        if type(value) is not int:
            return
        if (value > previous) if descending else (value < previous):
            unsorted = True
            break
        previous = value & 0xFFFFFFFF
    if unsorted:
        items[start:] = sorted(items[start:], key=lambda sub: sub.items[key], reverse=descending)
