"""Firmware -> power table on the 25 real machines of ../shared/acpi-corpus.

Every machine's table passes ``check`` and loads back unchanged from the TOML
and JSON written for it, except the machines whose firmware gives Xen nothing
usable from files (regions read as zeros); those say why per processor.
A few machines' converted values are pinned against ``acpiexec`` output
(acpica-tools 20200925, after ``_PDC(0xBBF)``, zero-filled regions).
"""

from __future__ import annotations

import json
import tomllib
from functools import cache
from pathlib import Path

import pytest

from pyxenplatform import acpi, load_firmware
from pyxenplatform.acpi import FirmwareReport, evaluate_tables, raw_json
from pyxenplatform.acpi import read_firmware as _real_read_firmware
from pyxenplatform.cli import main
from pyxenplatform.firmware import FirmwareTable, convert_report
from pyxenplatform.model import CoordType, CState, PState, Register, SpaceId
from pyxenplatform.rules import check_table
from pyxenplatform.sources import load_table, table_from_mapping
from pyxenplatform.writers import dumps_json, dumps_toml

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "acpi-corpus"
MACHINES = sorted(dsdt.parent.parent.name for dsdt in CORPUS.glob("*/tables/dsdt.dat"))
# No processor has anything Xen can take when regions read as zeros:
# 07, 12: _CST is one `Register(FFixedHW, 0, 0, 0)` C1 (HLT: Xen's own default),
#   07's _PCT returns nothing (it reads NVS), 12's real _CST is loaded from memory;
# 21, 22: the SSDT's Scope(\_PR.C000) does not resolve (acpiexec fails the same way).
NOTHING_USABLE = {"07-dell-optiplex-7020", "12-hp-proliant-dl360-g5",
                  "21-asrock-ab350-pro4", "22-asrock-x399-taichi"}
FFH = SpaceId.FIXED_HARDWARE


def test_the_corpus_is_there() -> None:
    assert len(MACHINES) == 25, f"expected 25 machines in {CORPUS}"


@cache
def table_of(machine: str) -> FirmwareTable:
    folder = CORPUS / machine / "tables"
    ssdts = sorted(folder.glob("ssdt*.dat"), key=lambda p: int(p.stem[4:] or 0))
    tables = [(p.name, p.read_bytes()) for p in [folder / "dsdt.dat", *ssdts]]
    return convert_report(evaluate_tables(tables, pdc=0xBBF), description=machine)


@pytest.mark.parametrize("machine", MACHINES)
def test_every_machine_converts_to_a_table_check_accepts(machine: str, tmp_path: Path) -> None:
    table = table_of(machine)
    paths = [p.description for p in table.processors]
    assert len(set(paths)) == len(paths)
    ids = [p.acpi_ids for p in table.processors]
    assert all(isinstance(i, tuple) and len(i) == 1 for i in ids) and len(set(ids)) == len(ids)
    if machine in NOTHING_USABLE:
        assert table.processors == ()
        assert {w.object for w in table.warnings} >= {"processor"}
        return
    check_table(table)
    (tmp_path / "t.toml").write_text(dumps_toml(table))
    (tmp_path / "t.json").write_text(dumps_json(table))
    for written in ("t.toml", "t.json"):
        back = load_table(tmp_path / written)
        assert back == table
        assert [p.description for p in back.processors] == paths
        check_table(back, source=written)


@pytest.mark.parametrize("machine", sorted(NOTHING_USABLE))
def test_machines_with_nothing_usable_say_why_for_each_processor(machine: str) -> None:
    table = table_of(machine)
    left_out = {w.path for w in table.warnings if w.object in ("processor", "_STA")}
    assert left_out and all(w.reason for w in table.warnings)
    assert len(left_out) == len({w.path for w in table.warnings})


def test_steam_deck_amd_ffh_and_io_states_as_linux_sends_them() -> None:
    # acpiexec: _CST = {3, {FFixedHW vendor 2 (AMD), offset 2, hint 0, C1, 1 us, 0 mW},
    # {SystemIO 0x414, C2, 18 us}, {SystemIO 0x415, C3, 350 us}}.
    table = table_of("25-valve-jupiter-steamdeck")
    first = table.processors[0]
    assert first.description == "\\_SB.PLTF.C000" and first.acpi_ids == (0,)
    assert first.cx is not None and first.cx.states == (
        CState(1, 1, 0, Register(FFH, 1, 2, 0, 0)),
        CState(2, 18, 0, Register(SpaceId.SYSTEM_IO, 8, 0, 1, 0x414)),
        CState(3, 350, 0, Register(SpaceId.SYSTEM_IO, 8, 0, 1, 0x415)))
    assert first.px is not None
    assert first.px.states[0] == PState(2800, 2940, 0, 0, 0, 0)
    assert first.px.control_register == Register(FFH, 64, 0, 0, 0xC0010062)
    psd = first.px.psd
    assert (psd.domain, psd.coord_type, psd.num_processors) == (0, CoordType.HW_ALL, 2)
    assert {w.object for w in table.warnings if w.path == first.description} == {"_CSD", "_LPI"}


def test_haswell_ffh_c1_through_hlt_is_left_to_xen() -> None:
    # Supermicro X8DTT: C1 is Register(FFixedHW, 0, 0, 0) (HLT), C2/C3 are MWAIT 0x10/0x20.
    table = table_of("14-supermicro-x8dtt")
    first = table.processors[0]
    assert first.cx is not None
    assert [(s.type, s.register.address) for s in first.cx.states] == [(2, 0x10), (3, 0x20)]
    assert any(w.object == "_CST[1]" and "HLT" in w.reason for w in table.warnings)


def test_json_and_toml_of_a_server_say_the_same() -> None:
    table = table_of("15-dell-poweredge-r820")
    assert len(table.processors) == 80
    assert table_from_mapping(json.loads(dumps_json(table))) == \
        table_from_mapping(tomllib.loads(dumps_toml(table))) == table


def test_load_firmware_reads_a_folder_as_the_reader_does() -> None:
    path = CORPUS / "25-valve-jupiter-steamdeck" / "tables"
    table = load_firmware(path)
    assert table == table_of("25-valve-jupiter-steamdeck")
    assert table.description == f"firmware of {path}, _PDC 0xbbf"
    assert [str(w) for w in table.warnings] == \
        [str(w) for w in table_of("25-valve-jupiter-steamdeck").warnings]
# ------------------------------------------------------------- the command


@cache
def _read(path: str, pdc: int) -> FirmwareReport:
    return _real_read_firmware(path, pdc=pdc)


@pytest.fixture
def cached_reader(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each machine's tables are evaluated once for all the command's tests."""
    monkeypatch.setattr(acpi, "read_firmware",
                        lambda path, *, pdc: _read(str(path), pdc))


def firmware(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    try:
        code = main(["firmware", *args])
    except SystemExit as exc:  # argparse's usage errors
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("form", ["toml", "json"])
@pytest.mark.parametrize("machine", sorted(set(MACHINES) - NOTHING_USABLE))
def test_the_printed_table_passes_check_and_loads_back(
        machine: str, form: str, tmp_path: Path, cached_reader: None,
        capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = firmware(capsys, str(CORPUS / machine / "tables"), f"--{form}")
    assert code == 0, err
    assert err.splitlines()[-1].startswith("pyxenplatform: ")
    written = tmp_path / f"{machine}.{form}"
    written.write_text(out)
    assert main(["check", str(written)]) == 0
    assert load_table(written) == table_of(machine)


@pytest.mark.parametrize("machine", sorted(NOTHING_USABLE))
def test_nothing_usable_is_exit_2_with_the_reasons(
        machine: str, cached_reader: None, capsys: pytest.CaptureFixture[str]) -> None:
    path = str(CORPUS / machine / "tables")
    code, out, err = firmware(capsys, path)
    assert (code, out) == (2, "")
    assert err.splitlines()[-1] == (
        f"pyxenplatform: error: {path}: no processor has C-states or P-states Xen can use "
        f"({len(_read(path, 0xBBF).processors)} processors read; the warnings say why)")
    assert "pyxenplatform: warning: " in err
    code, out, _ = firmware(capsys, path, "--json")  # the contract: still one document
    document = json.loads(out)
    assert (code, document["exit_code"], document["error"]["kind"]) == (2, 2, "ValidationError")
    assert "no processor has C-states or P-states Xen can use" in document["error"]["message"]
    # The raw objects are still there to look at.
    code, out, _ = firmware(capsys, path, "--raw", "--json")
    assert code == 0 and json.loads(out)["processors"]


def test_raw_json_is_the_readers_report(cached_reader: None,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    path = str(CORPUS / "25-valve-jupiter-steamdeck" / "tables")
    code, out, _ = firmware(capsys, path, "--raw", "--json")
    doc = json.loads(out)
    assert code == 0
    first = doc["processors"][0]
    assert (first["path"], first["acpi_id"]) == ("\\_SB.PLTF.C000", 0)
    assert first["objects"]["_CST"][2] == [
        {"space_id": 1, "bit_width": 8, "bit_offset": 0, "access_size": 1, "address": "0x414"},
        2, 18, 0]
    assert raw_json(_read(path, 0xBBF))["processors"] == doc["processors"]


def test_identical_warnings_are_grouped(cached_reader: None,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    _, _, err = firmware(capsys, str(CORPUS / "24-asrock-b650-pg-lightning" / "tables"))
    assert ("pyxenplatform: warning: \\_SB.PLTF.C000 ... \\_SB.PLTF.C01F (32 processors, ACPI ids "
            "0-31) _CSD: not sent") in err
    lines = [line for line in err.splitlines() if line.startswith("pyxenplatform: warning: \\")]
    assert lines and all("(32 processors, ACPI ids 0-31)" in line for line in lines)


@pytest.mark.parametrize(("args", "message"), [
    (["missing-folder"], "missing-folder"),
    (["--pdc", "0x1_0000_0000", "x"], "a _PDC capability DWORD is 0..0xffffffff"),
    (["--toml", "--json", "x"], "--toml: --json and --raw print JSON"),
])
def test_bad_input_is_one_line_and_exit_2(args: list[str], message: str,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = firmware(capsys, *args)
    assert code == 2 and message in err.splitlines()[-1], err
