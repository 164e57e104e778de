"""The AML interpreter on hand-assembled tables: semantics ACPICA gives, and its limits."""

from __future__ import annotations

from typing import Any

import pytest

from pyxenplatform.acpi.interpreter import Fault
from pyxenplatform.acpi.processors import Session, to_value
from pyxenplatform.acpi.regions import ZeroMemory
from pyxenplatform.acpi.stream import NamePath

from .amlbuild import (ARG, LOCAL, NULL, buffer, if_, integer, method, name, name_op, op,
                       package, pkg, ret, scope, string, table, while_)


def session(body: bytes, revision: int = 2, *ssdts: bytes) -> Session:
    tables = [("dsdt.dat", table(body, revision=revision))]
    tables += [(f"ssdt{i + 1}.dat", table(s, signature=b"SSDT")) for i, s in enumerate(ssdts)]
    return Session(tables, ZeroMemory())


def call(s: Session, path: str, *args: Any) -> Any:
    segs = tuple(seg.ljust(4, "_") for seg in path.lstrip("\\").split("."))
    node = s.it.ns.lookup(NamePath(True, 0, segs), s.it.ns.root)
    assert node is not None, path
    return to_value(s.it, s.evaluate(node, list(args)))


def evaluate(body: bytes, path: str = "\\TST", *args: Any, revision: int = 2) -> Any:
    return call(session(body, revision), path, *args)


def test_arithmetic_and_targets() -> None:
    body = method("TST", op(0x72, integer(40), integer(2), LOCAL[0])  # Add
                  + op(0x77, LOCAL[0], integer(3), LOCAL[1])  # Multiply
                  + op(0x78, LOCAL[1], integer(5), LOCAL[2], LOCAL[3])  # Divide
                  + ret(op(0x7D, op(0x79, LOCAL[3], integer(8), NULL), LOCAL[2], NULL)))
    assert evaluate(body) == (25 << 8) | 1


def test_32_bit_table_truncates_every_result() -> None:
    body = method("TST", ret(op(0x74, integer(0), integer(1), NULL)))  # Subtract 0 - 1
    assert evaluate(body, revision=1) == 0xFFFFFFFF
    assert evaluate(body, revision=2) == 0xFFFFFFFFFFFFFFFF


def test_while_break_and_if_else() -> None:
    body = method("TST", op(0x70, integer(0), LOCAL[0])
                  + while_(integer(1), op(0x75, LOCAL[0])
                           + if_(op(0x93, LOCAL[0], integer(7)), b"\xa5"))
                  + if_(op(0x94, LOCAL[0], integer(100)), ret(integer(1)), ret(LOCAL[0])))
    assert evaluate(body) == 7


def test_endless_while_ends_with_a_clear_error() -> None:
    body = method("TST", while_(integer(1), b"\xa3"))
    with pytest.raises(Fault, match="65535 iterations"):
        evaluate(body)


def test_unbounded_recursion_ends_with_a_clear_error() -> None:
    body = method("TST", ret(name("TST")))
    with pytest.raises(Fault, match="nested deeper"):
        evaluate(body)


def test_store_converts_to_the_named_objects_type() -> None:
    body = (name_op("INT", integer(5)) + name_op("STR", string("x"))
            + name_op("BUF", buffer(b"\x01\x02\x03\x04"))
            + method("TST", op(0x70, string("1F"), name("INT"))  # hex, implicit
                     + op(0x70, integer(0xAB), name("STR"))
                     + op(0x70, buffer(b"\xff"), name("BUF"))
                     + ret(package(name("INT"), name("STR"), name("BUF")))))
    s = session(body)
    call(s, "\\TST")
    assert call(s, "\\INT") == 0x1F
    assert call(s, "\\STR") == "00000000000000AB"
    assert call(s, "\\BUF") == b"\xff\x00\x00\x00"  # the target keeps its length


def test_index_derefof_sizeof_and_package_stores() -> None:
    body = (name_op("PKG", package(integer(1), integer(2), string("abc")))
            + method("TST", op(0x70, integer(9), op(0x88, name("PKG"), integer(1), NULL))
                     + ret(package(op(0x83, op(0x88, name("PKG"), integer(1), NULL)),
                                   op(0x87, name("PKG")),
                                   op(0x87, op(0x83, op(0x88, name("PKG"), integer(2),
                                                        NULL)))))))
    assert evaluate(body) == (9, 3, 3)


def test_conversions_as_acpica() -> None:
    body = method("TST", ret(package(
        op(0x98, buffer(b"\x01\xab"), NULL),  # ToHexString
        op(0x97, integer(1234), NULL),  # ToDecimalString
        op(0x99, string("0x10"), NULL),  # ToInteger, explicit: 0x prefix
        op(0x99, string("25"), NULL),  # decimal
        op(0x96, string("ab"), NULL),  # ToBuffer keeps the NUL
        op(0x73, string("a"), integer(0x1F), NULL),  # Concatenate String, Integer
        op(0x73, integer(1), integer(2), NULL),  # Concatenate Integer, Integer -> Buffer
        op(0x9E, string("hello"), integer(1), integer(3), NULL),  # Mid
        op(0x5B29, integer(1234), NULL),  # ToBCD
        op(0x81, integer(0x90), NULL),  # FindSetLeftBit
    )))
    assert evaluate(body) == ("0x01,0xAB", "1234", 16, 25, b"ab\x00", "a000000000000001F",
                              bytes([1] + [0] * 7 + [2] + [0] * 7), "ell", 0x1234, 8)


def test_region_fields_write_to_the_overlay_and_read_back() -> None:
    region = op(0x5B80, name("REG0"), b"\x00", integer(0x1000), integer(0x10))
    fields = op(0x5B81) + pkg(name("REG0") + b"\x01" + b"FLD1\x08" + b"\x00\x08" + b"FLD2\x10")
    body = (region + fields
            + method("TST", op(0x70, integer(0x1234), name("FLD2"))
                     + op(0x70, name("FLD1"), LOCAL[0]) + op(0x70, name("FLD2"), LOCAL[1])
                     + ret(package(LOCAL[0], LOCAL[1]))))
    s = session(body)
    assert call(s, "\\TST") == (0, 0x1234)
    backend = s.it.backend
    assert isinstance(backend, ZeroMemory)
    assert backend.read(0, 0x1002, 2)[0] == b"\x34\x12"


def test_field_beyond_its_region_fails() -> None:
    body = (op(0x5B80, name("REG0"), b"\x00", integer(0x1000), integer(1))
            + op(0x5B81) + pkg(name("REG0") + b"\x03" + b"FLD1\x20")
            + method("TST", ret(name("FLD1"))))
    with pytest.raises(Fault, match="AE_AML_REGION_LIMIT"):
        evaluate(body)


def test_create_dword_field_writes_through_to_the_callers_buffer() -> None:
    body = method("SET", op(0x8A, ARG[0], integer(4), name("CDW2"))
                  + op(0x70, integer(0xBBF), name("CDW2")), args=1) \
        + method("TST", op(0x70, buffer(b"", 8), LOCAL[0])
                 + name("SET") + LOCAL[0] + ret(LOCAL[0]))
    assert evaluate(body) == bytes(4) + (0xBBF).to_bytes(4, "little")


def test_unknown_opcode_names_table_offset_and_opcode() -> None:
    body = method("TST", b"\x02")  # 0x02 is no opcode
    s = session(body)
    with pytest.raises(Fault) as info:
        call(s, "\\TST")
    error = s.error(info.value)
    assert (error.source, error.offset, error.opcode) == ("dsdt.dat", 36 + 7, 0x02)
    assert str(error) == "dsdt.dat+0x2b: opcode 0x2 (unknown opcode): unknown AML opcode 0x2"


def test_scope_in_ssdt_and_search_rules() -> None:
    dsdt = scope("\\_SB", op(0x5B82) + pkg(name("DEV0") + name_op("VAL", integer(3))))
    ssdt = scope("\\_SB.DEV0", method("TST", ret(op(0x72, name("VAL"), integer(1), NULL))))
    s = session(dsdt, 2, ssdt)
    assert call(s, "\\_SB.DEV0.TST") == 4


def test_osi_and_predefined_objects() -> None:
    body = method("TST", op(0x70, name("\\_OSI") + string("Windows 2015"), LOCAL[0])
                  + op(0x70, name("\\_OSI") + string("Linux"), LOCAL[1])
                  + op(0x70, name("\\_REV"), LOCAL[2])
                  + ret(package(LOCAL[0], LOCAL[1], LOCAL[2])))
    assert evaluate(body) == (0xFFFFFFFFFFFFFFFF, 0, 2)


def test_events_count_signals_and_mutexes_are_free() -> None:
    body = (op(0x5B02, name("EVT0")) + op(0x5B01, name("MUT0"), b"\x00")
            + method("TST", op(0x5B24, name("EVT0"))  # Signal
                     + op(0x70, op(0x5B25, name("EVT0"), integer(0)), LOCAL[0])  # Wait: 0
                     + op(0x70, op(0x5B25, name("EVT0"), integer(0)), LOCAL[1])  # timeout
                     + op(0x70, op(0x5B23, name("MUT0"), b"\x00\x00"), LOCAL[2])  # Acquire: 0
                     + op(0x5B27, name("MUT0"))
                     + ret(package(LOCAL[0], LOCAL[1], LOCAL[2]))))
    assert evaluate(body) == (0, 0xFFFFFFFFFFFFFFFF, 0)


def test_loadtable_of_a_loaded_table_fails_like_acpiexec() -> None:
    """acpiexec: LoadTable finds the table among those it was given, and loading it again
    fails with AE_ALREADY_EXISTS; a table it was not given gives 0."""
    def load_table(oem_table_id: str) -> bytes:
        return op(0x5B1F, string("SSDT"), string("PYXEN "), string(oem_table_id), string(""),
                  string(""), integer(0))
    dsdt = (method("TST1", ret(load_table("TEST    ")))
            + method("TST2", ret(load_table("NONE"))))
    s = session(dsdt, 2, name_op("XXXX", integer(1)))
    assert call(s, "\\TST2") == 0
    with pytest.raises(Fault, match="AE_ALREADY_EXISTS"):
        call(s, "\\TST1")


def test_load_of_a_table_with_a_bad_checksum_loads_it_like_acpica() -> None:
    """ACPICA 20200925 as Linux builds it only warns on a bad checksum (acconfig.h:
    ACPI_CHECKSUM_ABORT FALSE), so a firmware Load of such a table defines its objects.
    acpiexec differs on purpose: its Makefile sets -DACPI_CHECKSUM_ABORT=TRUE, so there the
    Load fails with AE_BAD_CHECKSUM; a dom0 sees what Linux does, so that is the rule here."""
    ssdt = bytearray(table(name_op("NEW1", integer(7)), signature=b"SSDT", oem_table_id=b"DYN"))
    ssdt[9] ^= 0x55
    dsdt = (name_op("BUF", buffer(bytes(ssdt)))
            + method("TST", op(0x5B20, name("BUF"), LOCAL[0]) + ret(name("NEW1"))))
    s = session(dsdt)
    assert call(s, "\\TST") == 7
    assert any("checksum" in w for w in s.it.warnings)


def test_while_times_out_after_30_virtual_seconds_of_sleep() -> None:
    """ACPICA 20200925 ends a While after 30 s; Sleep/Stall advance a virtual clock,
    which Timer reads (100 ns units), so a polling loop ends long before 65535 turns."""
    body = (name_op("CNT", integer(0))
            + method("TST", while_(integer(1), op(0x5B22, integer(1000))  # Sleep(1000 ms)
                                   + op(0x75, name("CNT"))))
            + method("TIM", op(0x70, op(0x5B33), LOCAL[0]) + op(0x5B21, integer(50))
                     + ret(op(0x74, op(0x5B33), LOCAL[0], NULL))))
    s = session(body)
    with pytest.raises(Fault, match="30 s"):
        call(s, "\\TST")
    assert call(s, "\\CNT") == 30
    assert call(s, "\\TIM") == 500  # Stall(50 us) = 500 ticks of 100 ns
