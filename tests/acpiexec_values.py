"""acpiexec's printed values as the JSON of issue 8 part 6 (the oracle's value reader).

``evaluate`` prints a value as ACPICA's AcpiDbDisplayInternalObject lines:
``[Integer] = …``, ``[String] Length NN = "…"``, ``[Buffer] Length NN =``
with hex dump rows, ``[Package] Contains N Elements:`` then each element,
``[Null Object]``, ``[Object Reference] = … Name DEV0 Device``.
"""

from __future__ import annotations

import re
import struct

JsonValue = object


class OracleError(Exception):
    """acpiexec is missing, crashed, or printed something this parser does not know."""


_RETURNED = re.compile(r"Evaluation of \S+ returned object")
_NO_OBJECT = re.compile(r"No object was returned from evaluation of \S+")
_FAILED = re.compile(r"Evaluation of \S+ failed with status (\w+)")


def evaluation_value(section: str) -> JsonValue:
    """The JSON value of one ``evaluate`` command's stdout."""
    lines = section.splitlines()
    for index, line in enumerate(lines):
        if _RETURNED.match(line):
            value, _ = parse_value(lines, index + 1)
            return value
        if _NO_OBJECT.match(line):
            return None
        if failed := _FAILED.match(line):
            return {"error": failed.group(1)}
    raise OracleError(f"no result in acpiexec's output: {section[-1000:]}")


_INTEGER = re.compile(r"\s*\[Integer\] = ([0-9A-Fa-f]+)\s*")
_STRING = re.compile(r'\s*\[String\] Length [0-9A-Fa-f]+ = "(.*)"\s*')
_BUFFER = re.compile(r"\s*\[Buffer\] Length ([0-9A-Fa-f]+) =(.*)")
_PACKAGE = re.compile(r"\s*\[Package\] Contains (\d+) Elements:\s*")
_NULL = re.compile(r"\s*\[Null Object\].*")
# "[Object Reference] = 0x55d0... <Node>            Name DEV0 Device" (AcpiDbDisplayInternalObject)
_REFERENCE = re.compile(r"\s*\[Object Reference\] = .*?Name (\S{4}) (\w+)\s*")
_OTHER = re.compile(r"\s*\[([\w ]+)\]\s*")
_DUMP_ROW = re.compile(r"\s*[0-9A-Fa-f]{4,8}: ((?:[0-9A-Fa-f]{2} )+)\s*//.*")


def parse_value(lines: list[str], index: int) -> tuple[JsonValue, int]:
    """One value starting at ``lines[index]``: (JSON value, index after it)."""
    if index >= len(lines):
        raise OracleError("acpiexec's output ends inside a value")
    line = lines[index]
    if m := _INTEGER.fullmatch(line):
        return int(m.group(1), 16), index + 1
    if m := _STRING.fullmatch(line):
        return {"string": _unescape(m.group(1))}, index + 1
    if m := _BUFFER.fullmatch(line):
        return _parse_buffer(lines, index, int(m.group(1), 16), m.group(2))
    if m := _PACKAGE.fullmatch(line):
        items: list[JsonValue] = []
        index += 1
        for _ in range(int(m.group(1))):
            item, index = parse_value(lines, index)
            items.append(item)
        return items, index
    if _NULL.fullmatch(line):
        return None, index + 1
    if m := _REFERENCE.fullmatch(line):
        return {"reference": m.group(1), "type": m.group(2)}, index + 1
    if m := _OTHER.fullmatch(line):
        return {"object": m.group(1)}, index + 1
    raise OracleError(f"unknown value line in acpiexec's output: {line!r}")


def _parse_buffer(lines: list[str], index: int, length: int,
                  rest: str) -> tuple[JsonValue, int]:
    data = bytearray()
    if m := _DUMP_ROW.fullmatch(rest):
        data += bytes.fromhex(m.group(1))
    index += 1
    while len(data) < length:
        if index >= len(lines) or not (m := _DUMP_ROW.fullmatch(lines[index])):
            raise OracleError(f"Buffer of {length} bytes ends after {len(data)}")
        data += bytes.fromhex(m.group(1))
        index += 1
    if len(data) != length:
        raise OracleError(f"Buffer of {length} bytes shows {len(data)}")
    return buffer_json(bytes(data)), index


def buffer_json(data: bytes) -> JsonValue:
    """A Generic Register descriptor (ACPI 6.5 §6.4.3.7) followed by an end tag (§6.4.2.9),
    as Register() compiles, as its fields; any other Buffer as hex."""
    if (len(data) == 17 and data[0] == 0x82 and data[1:3] == b"\x0c\x00"
            and data[15] == 0x79):
        space, width, offset, access, address = struct.unpack_from("<BBBBQ", data, 3)
        return {"space_id": space, "bit_width": width, "bit_offset": offset,
                "access_size": access, "address": f"{address:#x}"}
    return {"buffer": data.hex()}


def _unescape(text: str) -> str:
    """Undo AcpiUtPrintString's escapes (\\" \\\\ \\n \\xNN...)."""
    def one(match: re.Match[str]) -> str:
        code = match.group(1)
        return chr(int(code[1:], 16)) if len(code) == 3 else _ESCAPES.get(code, code)

    return re.sub(r"\\(x[0-9A-Fa-f]{2}|.)", one, text)


_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b",
            "f": "\f", "v": "\v"}
