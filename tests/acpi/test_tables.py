"""Loading DSDT/SSDTs: the corpus machines, acpidump text, sysfs layout, and every bad input."""

from __future__ import annotations

import codecs
import os
import re
import struct
import subprocess
import threading
from pathlib import Path

import pytest

from pyxenplatform.acpi import tables as tables_module
from pyxenplatform.acpi.tables import MAX_FILE_BYTES, Table, load_tables, parse_table
from pyxenplatform.errors import FirmwareError, TableError
from tests.acpi.support import acpidump_text, corpus_machines, machine_tables, tool

MACHINES = corpus_machines() or ["07-dell-optiplex-7020"]


def make_table(signature: bytes = b"SSDT", aml: bytes = b"\x10\x05\\_PR_", revision: int = 2,
               oem_table_id: bytes = b"TESTTBL ") -> bytes:
    """A valid table around ``aml``: header with length and checksum filled in."""
    header = bytearray(struct.pack("<4sIBB6s8sI4sI", signature, 36 + len(aml), revision, 0,
                                   b"PYXEN ", oem_table_id, 1, b"INTL", 0x20200925))
    data = header + aml
    data[9] = (-sum(data)) & 0xFF
    return bytes(data)


def aml_names(folder: Path) -> list[str]:
    """acpixtract's DSDT/SSDT file names in load order (dsdt, then ssdt, ssdt1, ssdt2...)."""
    names = [p.name for p in folder.iterdir() if re.fullmatch(r"(dsdt|ssdt)\d*\.dat", p.name)]
    return sorted(names, key=lambda n: (n != "dsdt.dat", int(re.sub(r"\D", "", n) or 0)))


@pytest.mark.parametrize("machine", MACHINES)
def test_corpus_machine_loads_dsdt_then_ssdts_in_number_order(machine: str) -> None:
    folder = machine_tables(machine)
    tables = load_tables(folder)
    assert [t.source for t in tables] == aml_names(folder)
    assert [t.signature for t in tables] == ["DSDT"] + ["SSDT"] * (len(tables) - 1)
    for table in tables:
        assert table.data == (folder / table.source).read_bytes()


def test_table_properties_read_the_header() -> None:
    table = load_tables(machine_tables("07-dell-optiplex-7020"))[0]
    assert (table.signature, table.oem_id, table.oem_table_id, table.revision) == \
        ("DSDT", "DELL", "CBX3", 2)
    assert table.aml == table.data[36:] and len(table.data) == 45753
    assert parse_table(make_table(revision=1), "x.aml").revision == 1


@pytest.mark.parametrize("machine", ["10-thinkpad-x1-yoga-gen8", "11-starlabs-starlite-coreboot",
                                     "01-apple-imac8-1"])
def test_acpidump_text_round_trip(machine: str, tmp_path: Path) -> None:
    """Our acpidump writer's text (a 0x50000-byte DSDT: 8-digit offsets) loads to the same tables."""
    folder = machine_tables(machine)
    expected = load_tables(folder)
    dump = tmp_path / "acpidump.txt"
    others = [("FACP", (folder / "facp.dat").read_bytes())] if (folder / "facp.dat").exists() else []
    dump.write_text(acpidump_text(others + [(t.signature, t.data) for t in expected]))
    got = load_tables(dump)
    assert [t.data for t in got] == [t.data for t in expected]
    single = len(expected) == 2
    assert got[0].source == "acpidump.txt:DSDT"
    assert got[1].source == ("acpidump.txt:SSDT" if single else "acpidump.txt:SSDT1")


def test_acpidump_writer_prints_what_acpidump_prints(tmp_path: Path) -> None:
    """The helper's format is the real one: byte for byte what ``acpidump -f`` prints."""
    folder = machine_tables("10-thinkpad-x1-yoga-gen8")
    files = [folder / "ssdt7.dat", folder / "dsdt.dat"]
    real = subprocess.run([tool("acpidump"), *(a for f in files for a in ("-f", str(f)))],
                          capture_output=True, text=True, check=True, timeout=60).stdout
    assert real == acpidump_text([(f.name[:4].upper(), f.read_bytes()) for f in files])
    dump = tmp_path / "real.txt"
    dump.write_text(real)
    assert [t.data for t in load_tables(dump)] == [f.read_bytes() for f in reversed(files)]


def test_acpixtract_reproduces_the_files_from_our_text(tmp_path: Path) -> None:
    folder = machine_tables("07-dell-optiplex-7020")
    tables = load_tables(folder)
    (tmp_path / "dump.txt").write_text(acpidump_text((t.signature, t.data) for t in tables))
    subprocess.run([tool("acpixtract"), "-a", "dump.txt"], cwd=tmp_path, check=True,
                   capture_output=True, timeout=60)
    for table in tables:
        assert (tmp_path / table.source).read_bytes() == table.data


def test_acpidump_text_from_windows_with_banner_and_crlf(tmp_path: Path) -> None:
    dsdt, ssdt = make_table(b"DSDT"), make_table()
    text = "Intel ACPI Component Architecture\r\n\r\n" + acpidump_text(
        [("DSDT", dsdt), ("SSDT", ssdt)]).replace("\n", "\r\n")
    (tmp_path / "dump.txt").write_text(text)
    assert [t.data for t in load_tables(tmp_path / "dump.txt")] == [dsdt, ssdt]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-8-sig"])
def test_acpidump_text_with_a_byte_order_mark(tmp_path: Path, encoding: str) -> None:
    """PowerShell's ``acpidump > dump.txt`` writes UTF-16 with a BOM; editors add a UTF-8 one."""
    dsdt, ssdt = make_table(b"DSDT"), make_table()
    text = acpidump_text([("DSDT", dsdt), ("SSDT", ssdt)]).replace("\n", "\r\n")
    data = text.encode(encoding)
    if encoding == "utf-16-be":
        data = codecs.BOM_UTF16_BE + data
    (tmp_path / "dump.txt").write_bytes(data)
    assert [t.data for t in load_tables(tmp_path / "dump.txt")] == [dsdt, ssdt]


def test_acpidump_text_with_the_rsdp_first(tmp_path: Path) -> None:
    """acpidump prints the RSDP's "RSD PTR " signature with "%4.4s": "RSD  @ 0x...", older tools
    "RSD PTR @ 0x..."; its hex lines belong to it, not to a missing header."""
    dsdt = make_table(b"DSDT")
    rsdp = acpidump_text([("RSD ", b"RSD PTR " + bytes(12))])
    for header in ("RSD  @", "RSD PTR @"):
        text = rsdp.replace("RSD  @", header) + acpidump_text([("DSDT", dsdt)])
        (tmp_path / "dump.txt").write_text(text)
        assert [t.data for t in load_tables(tmp_path / "dump.txt")] == [dsdt]


def test_byte_identical_repeats_are_loaded_once(tmp_path: Path) -> None:
    dsdt, ssdt = make_table(b"DSDT"), make_table()
    (tmp_path / "dump.txt").write_text(acpidump_text(
        [("DSDT", dsdt), ("SSDT", ssdt), ("DSDT", dsdt), ("SSDT", make_table(revision=1))]))
    assert len(load_tables(tmp_path / "dump.txt")) == 3


def test_aml_files_are_found_by_signature_in_natural_order(tmp_path: Path) -> None:
    (tmp_path / "b-dsdt.aml").write_bytes(make_table(b"DSDT"))
    for n in (10, 9, 1):
        (tmp_path / f"cpu{n}.aml").write_bytes(make_table(oem_table_id=b"CPU%-5d" % n))
    (tmp_path / "facp.dat").write_bytes(b"FACP" + bytes(40))
    (tmp_path / "notes.txt").write_text("ignored")
    assert [t.source for t in load_tables(tmp_path)] == ["b-dsdt.aml", "cpu1.aml", "cpu9.aml",
                                                         "cpu10.aml"]


def test_a_single_binary_dsdt_file_loads(tmp_path: Path) -> None:
    (tmp_path / "dsdt.aml").write_bytes(make_table(b"DSDT"))
    assert load_tables(tmp_path / "dsdt.aml")[0].source == "dsdt.aml"


def sysfs_tree(root: Path) -> None:
    (root / "dynamic").mkdir(parents=True)
    (root / "DSDT").write_bytes(make_table(b"DSDT"))
    (root / "FACP").write_bytes(b"FACP")
    for n in (1, 2, 10):
        (root / f"SSDT{n}").write_bytes(make_table(oem_table_id=b"S%-7d" % n))
    for n in (12, 11):
        (root / "dynamic" / f"SSDT{n}").write_bytes(make_table(oem_table_id=b"D%-7d" % n))


def test_running_machine_order_is_dsdt_static_then_dynamic(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sysfs_tree(tmp_path / "tables")
    monkeypatch.setattr(tables_module, "SYSFS_TABLES", str(tmp_path / "tables"))
    names = [t.source.removeprefix(str(tmp_path / "tables")) for t in load_tables()]
    assert names == ["/DSDT", "/SSDT1", "/SSDT2", "/SSDT10", "/dynamic/SSDT11", "/dynamic/SSDT12"]
    assert [t.source for t in load_tables(tmp_path / "tables")] == \
        [str(tmp_path / "tables") + n for n in names]


def test_running_machine_unreadable_says_root(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tables_module, "SYSFS_TABLES", str(tmp_path / "missing"))
    with pytest.raises(TableError, match=r"missing/DSDT: cannot read: No such file"):
        load_tables()


def bad(data: bytes) -> str:
    with pytest.raises(TableError) as caught:
        parse_table(data, "ssdt4.dat")
    assert str(caught.value).startswith("ssdt4.dat: ")
    assert isinstance(caught.value, FirmwareError)
    return caught.value.rule


def test_bad_tables_name_the_file_and_the_rule() -> None:
    good = make_table()
    assert "empty" in bad(b"")
    assert "shorter than the 36-byte" in bad(good[:20])
    assert "signature 'FACP'" in bad(b"FACP" + good[4:])
    assert "truncated: the header says 43 bytes, only 42" in bad(good[:-1])
    assert "1 extra" in bad(good + b"\0")
    assert "smaller than the header" in bad(good[:4] + struct.pack("<I", 8) + good[8:])
    flipped = bytearray(good)
    flipped[40] ^= 0x10
    assert "checksum fails: the bytes sum to 0xf0" in bad(bytes(flipped))
    assert isinstance(parse_table(good, "ok"), Table)


def load_error(path: Path) -> str:
    with pytest.raises(TableError) as caught:
        load_tables(path)
    return str(caught.value)


def test_bad_folders_and_files(tmp_path: Path) -> None:
    assert load_error(tmp_path / "nothing").endswith("nothing: cannot read: No such file or directory")
    assert "no DSDT among the tables" in load_error(tmp_path)
    (tmp_path / "ssdt1.dat").write_bytes(make_table())
    assert "no DSDT among the tables (found 1 SSDT)" in load_error(tmp_path)
    (tmp_path / "dsdt.dat").write_bytes(make_table())
    assert load_error(tmp_path) == "dsdt.dat: named as a DSDT but its signature is SSDT"
    (tmp_path / "dsdt.dat").write_bytes(make_table(b"DSDT"))
    (tmp_path / "other.aml").write_bytes(make_table(b"DSDT", revision=1))
    assert "more than one DSDT: dsdt.dat, other.aml" in load_error(tmp_path)
    (tmp_path / "other.aml").unlink()
    (tmp_path / "ssdt2.dat").mkdir()
    assert load_error(tmp_path) == "ssdt2.dat: not a regular file (a directory, FIFO or device?)"


def test_fifo_device_and_huge_files_are_refused_without_reading(tmp_path: Path) -> None:
    (tmp_path / "dsdt.dat").write_bytes(make_table(b"DSDT"))
    os.mkfifo(tmp_path / "ssdt1.dat")
    holder: list[str] = []
    worker = threading.Thread(target=lambda: holder.append(load_error(tmp_path)), daemon=True)
    worker.start()
    worker.join(10)
    assert holder == ["ssdt1.dat: not a regular file (a directory, FIFO or device?)"]
    (tmp_path / "ssdt1.dat").unlink()
    (tmp_path / "ssdt1.dat").symlink_to("/dev/zero")
    assert "ssdt1.dat: not a regular file" in load_error(tmp_path)
    assert "not a regular file" in load_error(tmp_path / "ssdt1.dat")
    (tmp_path / "ssdt1.dat").unlink()
    with open(tmp_path / "huge.aml", "wb") as sparse:
        sparse.truncate(MAX_FILE_BYTES + 1)
    sparse_path = tmp_path / "huge.aml"
    assert "larger than the 64 MiB" in load_error(sparse_path)
    with open(sparse_path, "r+b") as sparse:
        sparse.write(b"SSDT")
    assert "huge.aml: " in load_error(tmp_path) and "larger than the 64 MiB" in load_error(tmp_path)


def test_bad_acpidump_text(tmp_path: Path) -> None:
    dump = tmp_path / "dump.txt"
    good = acpidump_text([("DSDT", make_table(b"DSDT")), ("SSDT", make_table()),
                          ("SSDT", make_table(aml=bytes(30)))])
    dump.write_text("hello\n")
    assert load_error(dump) == "dump.txt: no DSDT or SSDT found: not an acpidump text file?"
    dump.write_text(good.replace("    0020: ", "    0030: ", 1))
    assert load_error(dump) == ("dump.txt line 4: offset 0x30 where 0x20 was expected in DSDT: "
                                "lines missing or repeated")
    dump.write_text("    0000: 44 53 44 54\n" + good)
    assert load_error(dump) == "dump.txt line 1: hex data before any 'SIG @ 0x...' header"
    lines = good.splitlines(keepends=True)
    dump.write_text("".join(lines[:-2]))  # the last SSDT loses its last line
    assert load_error(dump) == "dump.txt:SSDT2: truncated: the header says 66 bytes, only 64 present"
    dump.write_text(good.replace(" 50 59 58 45 4E ", " 50 59 58 45 4F ", 1))
    assert load_error(dump).startswith("dump.txt:DSDT: checksum fails")
