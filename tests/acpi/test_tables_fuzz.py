"""Fuzzed table input (truncated, bit-flipped, random bytes, mangled acpidump text):
a Table or a TableError, nothing else, quickly. Seeded, so a failure replays."""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest

from pyxenplatform.acpi.tables import load_acpidump_text, load_tables, parse_table
from pyxenplatform.errors import TableError
from tests.acpi.support import acpidump_text, machine_tables

MACHINE = "11-starlabs-starlite-coreboot"   # a DSDT of 21 KB and one SSDT
BUDGET_SECONDS = 20.0


def real_tables() -> list[bytes]:
    return [t.data for t in load_tables(machine_tables(MACHINE))]


def mutate(rng: random.Random, data: bytes) -> bytes:
    out = bytearray(data)
    choice = rng.randrange(4)
    if choice == 0:
        del out[rng.randrange(len(out) + 1):]
    elif choice == 1:
        for _ in range(rng.randrange(1, 8)):
            out[rng.randrange(len(out))] ^= 1 << rng.randrange(8)
    elif choice == 2:
        out[4:8] = rng.randrange(1 << 32).to_bytes(4, "little")
    else:
        out += bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64)))
    return bytes(out)


def test_every_single_bit_flip_of_a_real_table_is_caught() -> None:
    """A one-bit change moves the byte sum by 2**k (k < 8): the checksum always sees it,
    so no flipped table reaches the AML reader unnoticed."""
    data = real_tables()[1]
    rng = random.Random("bit-flips")
    for _ in range(2000):
        flipped = bytearray(data)
        flipped[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        with pytest.raises(TableError):
            parse_table(bytes(flipped), "ssdt.dat")


def test_mutated_and_random_tables_give_tables_or_table_errors() -> None:
    rng = random.Random("tables-fuzz")
    originals = real_tables()
    start = time.perf_counter()
    outcomes = {"table": 0, "error": 0}
    for case in range(600):
        if case % 3 == 0:
            data = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 80)))
            if rng.random() < 0.5:
                data = rng.choice([b"DSDT", b"SSDT"]) + data
        else:
            data = mutate(rng, rng.choice(originals))
        try:
            parse_table(data, f"case{case}.dat")
            outcomes["table"] += 1
        except TableError as exc:
            assert str(exc).startswith(f"case{case}.dat: ")
            outcomes["error"] += 1
    assert time.perf_counter() - start < BUDGET_SECONDS
    assert outcomes["error"] > 500


def test_mangled_acpidump_text(tmp_path: Path) -> None:
    rng = random.Random("acpidump-fuzz")
    text = acpidump_text([("DSDT", t) if i == 0 else ("SSDT", t)
                          for i, t in enumerate(real_tables())])
    lines = text.splitlines(keepends=True)
    start = time.perf_counter()
    for case in range(150):
        mangled = list(lines)
        for _ in range(rng.randrange(1, 6)):
            at = rng.randrange(len(mangled))
            kind = rng.randrange(4)
            if kind == 0:
                del mangled[at]
            elif kind == 1:
                mangled.insert(at, mangled[rng.randrange(len(mangled))])
            elif kind == 2:
                line = mangled[at]
                pos = rng.randrange(len(line))
                mangled[at] = line[:pos] + rng.choice("0123456789ABCDEF :@\n") + line[pos + 1:]
            else:
                mangled[at] = mangled[at][:rng.randrange(len(mangled[at]) + 1)]
        try:
            load_acpidump_text("".join(mangled).encode(), "dump.txt")
        except TableError as exc:
            assert str(exc).startswith("dump.txt")
    assert time.perf_counter() - start < BUDGET_SECONDS


def test_mutated_folders(tmp_path: Path) -> None:
    rng = random.Random("folder-fuzz")
    originals = real_tables()
    for case in range(40):
        folder = tmp_path / f"case{case}"
        folder.mkdir()
        (folder / "dsdt.dat").write_bytes(mutate(rng, originals[0]) if rng.random() < 0.5
                                          else originals[0])
        (folder / "ssdt1.dat").write_bytes(mutate(rng, originals[1]))
        try:
            tables = load_tables(folder)
            assert tables[0].signature == "DSDT"
        except TableError as exc:
            assert str(exc).split(":")[0] in ("dsdt.dat", "ssdt1.dat", str(folder))
