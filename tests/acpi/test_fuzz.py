"""Fuzzed AML (truncated, bit-flipped, random) gives reports and AmlErrors, nothing else.

Seeded and bounded: a few dozen variants of two small real machines' tables
and of random bytes, each evaluated end to end (load, handshake, objects).
"""

from __future__ import annotations

import random

import pytest

from pyxenplatform.acpi import evaluate_tables
from pyxenplatform.acpi.parser import Parser
from pyxenplatform.acpi.processors import FirmwareReport
from pyxenplatform.errors import AmlError

from .amlbuild import table
from .test_processors import corpus_tables


def _check(tables: list[tuple[str, bytes]]) -> None:
    report = evaluate_tables(tables)
    assert isinstance(report, FirmwareReport)
    for cpu in report.processors:
        for value in cpu.objects.values():
            assert isinstance(value, (int, str, bytes, tuple, AmlError)) or value is None \
                or hasattr(value, "path")


def _fix_checksum(data: bytes) -> bytes:
    out = bytearray(data)
    if len(out) > 9:
        out[9] = 0
        out[9] = (-sum(out)) & 0xFF
    return bytes(out)


@pytest.mark.parametrize("machine", ["02-intel-dg965lv", "11-starlabs-starlite-coreboot"])
def test_bit_flips_and_truncations(machine: str) -> None:
    rng = random.Random(f"aml-fuzz-{machine}")
    original = corpus_tables(machine)
    for _ in range(12):
        tables = []
        for source, data in original:
            mutated = bytearray(data)
            for _ in range(rng.randrange(1, 40)):
                pos = rng.randrange(36, len(mutated))
                mutated[pos] ^= 1 << rng.randrange(8)
            if rng.random() < 0.3:
                del mutated[rng.randrange(36, len(mutated)):]
                mutated[4:8] = len(mutated).to_bytes(4, "little")
            tables.append((source, _fix_checksum(bytes(mutated))))
        _check(tables)


def test_random_aml() -> None:
    rng = random.Random("aml-fuzz-random")
    for _ in range(200):
        body = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300)))
        _check([("dsdt.dat", table(body))])


def test_parser_on_random_bytes_raises_only_parse_errors() -> None:
    from pyxenplatform.acpi.parser import ParseError
    rng = random.Random("aml-parser")
    for _ in range(300):
        data = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200)))
        parser = Parser(data, lambda path, scope: None)
        try:
            parser.terms(0, len(data), None)
        except ParseError:
            pass
