"""Shared helpers of the ACPI tests: the real-machine corpus, acpidump text, the ACPICA tools.

The corpus is ``../shared/acpi-corpus`` beside the checkout (25 machines'
DSDT/SSDTs, see its README). ACPICA's ``acpiexec``/``iasl``/``acpixtract``
(Debian ``acpica-tools``) are test-only oracles: a test that needs them skips
when they are missing, and fails instead under ``PYXENPLATFORM_REQUIRE_ACPICA=1``
(set by ``.ci/run``), like the other ``PYXENPLATFORM_REQUIRE_*`` switches.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT.parent / "shared" / "acpi-corpus"
REQUIRE_ACPICA = os.environ.get("PYXENPLATFORM_REQUIRE_ACPICA") == "1"


def need(what: str) -> None:
    """Skip (or, under PYXENPLATFORM_REQUIRE_ACPICA=1, fail) for a missing oracle."""
    if REQUIRE_ACPICA:
        pytest.fail(f"{what} (PYXENPLATFORM_REQUIRE_ACPICA=1)")
    pytest.skip(what)


def tool(name: str) -> str:
    """The path of an acpica-tools program, or skip/fail."""
    found = shutil.which(name)
    if found is None:
        need(f"needs {name}: apt-get install acpica-tools")
        raise AssertionError("unreachable")
    return found


def corpus_machines() -> list[str]:
    """The corpus machine names (``07-dell-optiplex-7020``...), sorted; [] when absent."""
    if not CORPUS.is_dir():
        return []
    return sorted(p.name for p in CORPUS.iterdir() if (p / "tables" / "dsdt.dat").is_file())


def machine_tables(machine: str) -> Path:
    """The folder of one corpus machine's acpixtract output, or skip/fail when absent."""
    folder = CORPUS / machine / "tables"
    if not folder.is_dir():  # like shared/reference in test_abi_layout: beside the checkout
        pytest.skip(f"needs the ACPI corpus at {CORPUS}")
    return folder


def acpidump_text(tables: Iterable[tuple[str, bytes]]) -> str:
    """``acpidump`` text for (signature, bytes) pairs, as ACPICA's acpidump prints it.

    apdump.c's AcpiUtDumpBuffer with DB_BYTE_DISPLAY: a ``SIG @ 0x...``
    line, 16 bytes a line (``%8.4X: `` offset, ``XX `` bytes, then the ASCII column,
    '.' for unprintable bytes), a blank line after each table.
    """
    out: list[str] = []
    for signature, data in tables:
        out.append(f"{signature} @ 0x0000000000000000\n")
        for offset in range(0, len(data), 16):
            row = data[offset:offset + 16]
            hexes = "".join(f"{byte:02X} " for byte in row) + "   " * (16 - len(row))
            text = "".join(chr(byte) if 0x20 <= byte < 0x7F else "." for byte in row)
            out.append(f"{offset:04X}".rjust(8) + f": {hexes} {text}\n")
        out.append("\n")
    return "".join(out)
