"""ACPICA's predefined-name repairs, which acpiexec's `evaluate` output shows.

Expected values are what acpiexec 20200925 printed for the same AML (for
example `Repaired unsorted list - now sorted by CpuFrequency`).
"""

from __future__ import annotations

from typing import Any

from pyxenplatform.acpi import evaluate_tables

from .amlbuild import buffer, integer, name_op, package, processor, scope, string, table

GAS = bytes([0x82, 12, 0, 0x7F, 0, 0, 0]) + bytes(8) + b"\x79\x00"


def objects(body: bytes) -> dict[str, Any]:
    report = evaluate_tables([("dsdt.dat", table(scope("\\_PR", processor("CPU0", 1, body))))])
    return dict(report.processors[0].objects)


def _pss(freq: int) -> bytes:
    return package(*(integer(v) for v in (freq, 2, 3, 4, 5, 6)))


def _cst(kind: int, latency: int = 1) -> bytes:
    return package(buffer(GAS), integer(kind), integer(latency), integer(1))


def test_pss_sorted_by_descending_frequency() -> None:
    pss = objects(name_op("_PSS", package(_pss(1), _pss(9), _pss(5))))["_PSS"]
    assert [p[0] for p in pss] == [9, 5, 1]


def test_cst_type_0_removed_count_rewritten_and_sorted() -> None:
    cst = objects(name_op("_CST", package(integer(9), _cst(3), _cst(0), _cst(1), _cst(2))))
    value = cst["_CST"]
    assert value[0] == 3 and [entry[1] for entry in value[1:]] == [1, 2, 3]


def test_lone_objects_are_wrapped_and_types_converted() -> None:
    values = objects(name_op("_PSD", package(integer(5), integer(0), integer(0), integer(0xFC),
                                             integer(2)))
                     + name_op("_PPC", string("0x2"))
                     + name_op("_CPC", integer(3)))
    assert values["_PSD"] == ((5, 0, 0, 0xFC, 2),)  # PTYPE2: wrapped in a package
    assert values["_PPC"] == 2  # String -> Integer
    assert values["_CPC"] == (3,)  # a lone Integer wrapped


def test_psd_num_entries_zero_is_fixed() -> None:
    values = objects(name_op("_PSD", package(package(integer(0), integer(0), integer(0),
                                                     integer(0xFC), integer(2)))))
    assert values["_PSD"] == ((5, 0, 0, 0xFC, 2),)
