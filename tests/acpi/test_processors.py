"""Processors, handshake and raw report on real firmware and on hand-made tables.

The pinned values of the corpus machines are what ACPICA's acpiexec 20200925
printed for the same tables after _PDC(0xBBF) on every processor.
"""

from __future__ import annotations

import json
from pathlib import Path

from pyxenplatform.acpi import decode_register, evaluate_tables, raw_json
from pyxenplatform.acpi.processors import FirmwareReport, eisa_id
from pyxenplatform.acpi.resources import GenericRegister
from pyxenplatform.errors import AmlError

from .amlbuild import (ARG, NULL, buffer, device, integer, method, name, name_op, op, package,
                       processor, ret, scope, string, table)

CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "acpi-corpus"


def corpus_tables(machine: str) -> list[tuple[str, bytes]]:
    folder = CORPUS / machine / "tables"
    ssdts = sorted(folder.glob("ssdt*.dat"), key=lambda p: int(p.stem[4:] or 0))
    return [(p.name, p.read_bytes()) for p in [folder / "dsdt.dat", *ssdts]]


def test_dell_optiplex_7020_matches_acpiexec() -> None:
    report = evaluate_tables(corpus_tables("07-dell-optiplex-7020"))
    assert [cpu.path for cpu in report.processors] == [f"\\_PR.CPU{i}" for i in range(8)]
    cpu0 = raw_json(report)["processors"][0]  # type: ignore[index]
    assert cpu0["acpi_id"] == 1
    objects = cpu0["objects"]
    assert objects["_CST"] == [1, [{"space_id": 127, "bit_width": 0, "bit_offset": 0,
                                    "access_size": 0, "address": "0x0"}, 1, 1, 1000]]
    assert objects["_PCT"] is None  # the method returns nothing with zeroed NVS
    assert len(objects["_PSS"]) == 16
    assert objects["_PSS"][0] == [3301, 84000, 10, 10, 0x2500, 0x2500]
    assert objects["_PSS"][-1] == [800, 14837, 10, 10, 0x800, 0x800]
    assert objects["_PPC"] == 0
    json.dumps(raw_json(report))


def test_hp_mini_pdc_load_of_an_empty_region_fails_like_acpiexec() -> None:
    """_PDC there Loads an SSDT from memory; zeroed memory holds no table, so the
    Load fails (AE_INVALID_TABLE_LENGTH) as in acpiexec, after PDC0 was updated."""
    report = evaluate_tables(corpus_tables("04-hp-mini-5101"))
    assert any("AE_INVALID_TABLE_LENGTH" in w for w in report.warnings)
    cst = raw_json(report)["processors"][0]["objects"]["_CST"]  # type: ignore[index]
    assert cst[0] == 3 and [entry[1] for entry in cst[1:]] == [1, 2, 3]


def _device_cpu(uid: bytes) -> bytes:
    return device("CPU0", name_op("_HID", string("ACPI0007")) + name_op("_UID", uid)
                  + name_op("_PSD", package(package(integer(5), integer(0), integer(0),
                                                    integer(0xFC), integer(2)))))


def test_acpi0007_devices_and_their_uid() -> None:
    dsdt = scope("\\_SB", _device_cpu(integer(7))) + scope(
        "\\_SB", device("CPU1", name_op("_HID", string("ACPI0007"))
                        + name_op("_UID", string("9")) + name_op("_STA", integer(0xF))))
    report = evaluate_tables([("dsdt.dat", table(dsdt))])
    assert [(c.path, c.acpi_id, c.status) for c in report.processors] == [
        ("\\_SB.CPU0", 7, None), ("\\_SB.CPU1", 9, 0xF)]
    assert report.processors[0].objects["_PSD"] == ((5, 0, 0, 0xFC, 2),)


def test_handshake_runs_pdc_before_objects_and_failures_stay_per_object() -> None:
    body = (name_op("CAPS", integer(0))
            + scope("\\_PR", processor("CPU0", 1, method(
                "_PDC", op(0x8A, ARG[0], integer(8), name("CAP0"))
                + op(0x70, name("CAP0"), name("\\CAPS")), args=1)
                + method("_PPC", ret(name("\\CAPS")))
                + method("_PSS", ret(op(0x78, integer(1), integer(0), NULL, NULL))))))
    report = evaluate_tables([("dsdt.dat", table(body))], pdc=0x1234)
    cpu = report.processors[0]
    assert cpu.objects["_PPC"] == 0x1234
    error = cpu.objects["_PSS"]
    assert isinstance(error, AmlError) and "AE_AML_DIVIDE_BY_ZERO" in str(error)
    assert (error.source, error.opcode, error.opcode_name) == ("dsdt.dat", 0x78, "Divide")
    assert raw_json(report)["processors"][0]["objects"]["_PSS"] == {  # type: ignore[index]
        "error": str(error)}


def test_region_reads_are_recorded_per_object() -> None:
    from .amlbuild import pkg
    body = (op(0x5B80, name("GNVS"), b"\x00", integer(0x7000), integer(4))
            + op(0x5B81) + pkg(name("GNVS") + b"\x01" + b"PPCV\x08")
            + scope("\\_PR", processor("CPU0", 0, method("_PPC", ret(name("\\PPCV")))
                                       + name_op("_CSD", package()))))
    cpu = evaluate_tables([("dsdt.dat", table(body))]).processors[0]
    assert cpu.reads["_CSD"] == ()
    (read,) = cpu.reads["_PPC"]
    assert (read.region, read.space, read.address, read.length, read.source) == (
        "\\GNVS", 0, 0x7000, 1, "zeros")


def test_decode_register_and_raw_values() -> None:
    gas = bytes([0x82, 12, 0, 1, 8, 0, 1]) + (0x414).to_bytes(8, "little") + b"\x79\x00"
    assert decode_register(gas) == GenericRegister(1, 8, 0, 1, 0x414)
    assert decode_register(gas[:-2]) is None and decode_register(gas + b"\x00") is None
    body = scope("\\_PR", processor("CPU0", 0, name_op("_PCT", package(
        buffer(gas), buffer(b"\x01\x02"), string("s")))))
    raw = raw_json(evaluate_tables([("dsdt.dat", table(body))]))
    assert raw["processors"][0]["objects"]["_PCT"] == [  # type: ignore[index]
        {"space_id": 1, "bit_width": 8, "bit_offset": 0, "access_size": 1, "address": "0x414"},
        {"buffer": "0102"}, {"string": "s"}]


def test_eisa_id() -> None:
    assert eisa_id(0x090CD041) == "PNP0C09"


def test_report_type() -> None:
    assert isinstance(evaluate_tables([("dsdt.dat", table(b""))]), FirmwareReport)


def test_an_alias_of_a_processor_is_not_another_processor() -> None:
    body = scope("\\_PR", processor("CPU0", 1, name_op("_PPC", integer(0)))
                 + op(0x06, name("\\_PR.CPU0"), name("\\_PR.P000")))
    report = evaluate_tables([("dsdt.dat", table(body))])
    assert [cpu.path for cpu in report.processors] == ["\\_PR.CPU0"]
