"""The firmware's AML tables (DSDT, SSDTs), read and checked.

Three sources, one result (DSDT first, then the SSDTs in load order):

- the running machine: ``/sys/firmware/acpi/tables/DSDT``, ``SSDT1..n``
  (``SSDT`` alone when there is one) and ``dynamic/SSDTn``, the tables the
  firmware ``Load``\\ ed at run time (Linux drivers/acpi/sysfs.c names them
  signature + instance number, counted across static and dynamic tables);
- a folder: ``acpixtract -a`` output (``dsdt.dat``, ``ssdt1.dat``...,
  ``ssdt10`` after ``ssdt9``) or any ``*.aml`` / ``*.dat`` files whose
  signature is DSDT or SSDT (other tables, ``facp.dat`` and kin, are skipped);
  a folder holding a file named ``DSDT`` is read as a copy of the sysfs tree;
- an ``acpidump`` text file, the hex format attached to bug reports
  (``DSDT @ 0x...`` then ``  0000: 44 53 44 54 ...  DSDT....`` lines), or a
  single binary DSDT.

Every table is checked as ACPICA's ``AcpiTbVerifyTempTable`` does: signature,
header length against the bytes present, and checksum (ACPI 6.5 §5.2.6: all
bytes sum to zero mod 256). A bad table is a :class:`TableError` naming the
file and the rule. Reads are bounded: only regular files, at most
:data:`MAX_FILE_BYTES` each, opened non-blocking so a FIFO cannot hang us.
"""

from __future__ import annotations

import codecs
import os
import re
import stat
import struct
from dataclasses import dataclass
from pathlib import Path

from pyxenplatform.errors import TableError

__all__ = ["AML_SIGNATURES", "MAX_FILE_BYTES", "SYSFS_TABLES", "Table", "load_tables",
           "parse_table"]

#: Where Linux exposes the firmware's tables (root-only, mode 0400).
SYSFS_TABLES = "/sys/firmware/acpi/tables"
#: The largest file we read: real DSDTs are under 1 MiB, dumps a few MiB.
MAX_FILE_BYTES = 64 * 1024 * 1024
#: Tables holding AML that we load (ACPICA also loads PSDT; no x86 firmware ships one).
AML_SIGNATURES = ("DSDT", "SSDT")
HEADER_BYTES = 36
#: Bound on the directory entries scanned in a folder.
_MAX_DIR_ENTRIES = 100_000


@dataclass(frozen=True)
class Table:
    """One checked AML table: ``data`` is the whole table, header included."""

    signature: str
    data: bytes
    source: str

    @property
    def revision(self) -> int:
        """Header byte 8; a DSDT revision below 2 means 32-bit AML integers (ACPI 6.5 §5.2.11.1)."""
        return self.data[8]

    @property
    def oem_id(self) -> str:
        return _ascii(self.data[10:16])

    @property
    def oem_table_id(self) -> str:
        return _ascii(self.data[16:24])

    @property
    def oem_revision(self) -> int:
        return int(struct.unpack_from("<I", self.data, 24)[0])

    @property
    def aml(self) -> bytes:
        """The AML byte stream after the 36-byte header."""
        return self.data[HEADER_BYTES:]

    def __repr__(self) -> str:
        return (f"Table({self.signature} {self.oem_id!r} {self.oem_table_id!r} "
                f"rev {self.revision}, {len(self.data)} bytes, from {self.source})")


def _ascii(raw: bytes) -> str:
    return raw.decode("ascii", "replace").rstrip("\0 ")


def parse_table(data: bytes, source: str) -> Table:
    """Check ``data`` as one DSDT or SSDT; :class:`TableError` names ``source`` and the rule."""
    if not data:
        raise TableError(source, "empty: not an ACPI table")
    if len(data) < HEADER_BYTES:
        raise TableError(source, f"{len(data)} bytes: shorter than the {HEADER_BYTES}-byte "
                         "ACPI table header (truncated?)")
    signature = data[:4].decode("ascii", "replace")
    if signature not in AML_SIGNATURES:
        raise TableError(source, f"signature {signature!r} is not one of "
                         f"{', '.join(AML_SIGNATURES)}")
    length = int(struct.unpack_from("<I", data, 4)[0])
    if length < HEADER_BYTES:
        raise TableError(source, f"header length {length} is smaller than the header itself")
    if length > len(data):
        raise TableError(source, f"truncated: the header says {length} bytes, "
                         f"only {len(data)} present")
    if length < len(data):
        raise TableError(source, f"the header says {length} bytes but {len(data)} are present "
                         f"({len(data) - length} extra)")
    total = sum(data) & 0xFF
    if total:
        raise TableError(source, f"checksum fails: the bytes sum to {total:#04x} mod 256, "
                         "must be 0 (ACPI 6.5 §5.2.6)")
    return Table(signature, bytes(data), source)


def load_tables(path: str | os.PathLike[str] | None = None) -> tuple[Table, ...]:
    """The DSDT then the SSDTs in load order, from the machine (None), a folder or an acpidump file."""
    if path is None:
        return _load_sysfs(Path(SYSFS_TABLES), SYSFS_TABLES)
    where = Path(path)
    try:
        mode = where.stat().st_mode
    except OSError as exc:
        raise TableError(str(where), f"cannot read: {exc.strerror}") from None
    if stat.S_ISDIR(mode):
        if (where / "DSDT").exists():
            return _load_sysfs(where, str(where))
        return _load_folder(where)
    data = _read_file(where, str(where))
    if _is_binary_table(data):
        return _with_dsdt_first([parse_table(data, where.name)], str(where))
    return load_acpidump_text(data, where.name)


def _is_binary_table(data: bytes) -> bool:
    """A raw table, not text: its header length field is the file's size."""
    return (len(data) >= HEADER_BYTES and data[:4] in (b"DSDT", b"SSDT")
            and int(struct.unpack_from("<I", data, 4)[0]) == len(data))


def _read_file(path: Path, source: str, *, peek: int | None = None) -> bytes:
    """A regular file's bytes (its first ``peek`` bytes), bounded by :data:`MAX_FILE_BYTES`.

    Devices, FIFOs and sockets are refused before and after opening (a symlink
    to /dev/zero included); ``O_NONBLOCK`` keeps a FIFO swapped in between
    from blocking the open. sysfs files report a size that need not match
    their content, so the read itself is bounded, not the reported size.
    """
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise TableError(source, "not a regular file (a directory, FIFO or device?)")
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise TableError(source, f"cannot read: {exc.strerror}{_root_hint(exc, source)}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise TableError(source, "not a regular file (a directory, FIFO or device?)")
        if info.st_size > MAX_FILE_BYTES:
            raise TableError(source, f"{info.st_size} bytes: larger than the "
                             f"{MAX_FILE_BYTES >> 20} MiB an ACPI table or dump can be")
        want = MAX_FILE_BYTES + 1 if peek is None else peek
        chunks: list[bytes] = []
        got = 0
        while got < want:
            chunk = os.read(fd, min(1 << 20, want - got))
            if not chunk:
                break
            chunks.append(chunk)
            got += len(chunk)
    except OSError as exc:
        raise TableError(source, f"cannot read: {exc.strerror}") from None
    finally:
        os.close(fd)
    if peek is None and got > MAX_FILE_BYTES:
        raise TableError(source, f"larger than the {MAX_FILE_BYTES >> 20} MiB an ACPI table "
                         "or dump can be")
    return b"".join(chunks)


def _root_hint(exc: OSError, source: str) -> str:
    if isinstance(exc, PermissionError) and source.startswith("/sys/"):
        return " (the firmware's tables are readable by root only)"
    return ""


def _natural_key(name: str) -> list[str | int]:
    """``ssdt2`` before ``ssdt10``: digit runs compare as numbers."""
    return [int(part) if part.isdigit() else part
            for part in re.split(r"(\d+)", name.lower())]


def _list_dir(folder: Path, source: str) -> list[str]:
    names: list[str] = []
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                names.append(entry.name)
                if len(names) > _MAX_DIR_ENTRIES:
                    raise TableError(source, f"more than {_MAX_DIR_ENTRIES} entries: "
                                     "not a folder of ACPI tables")
    except OSError as exc:
        raise TableError(source, f"cannot list: {exc.strerror}{_root_hint(exc, source)}") from None
    return sorted(names, key=_natural_key)


_SYSFS_SSDT = re.compile(r"SSDT\d*")


def _load_sysfs(root: Path, source: str) -> tuple[Table, ...]:
    """DSDT, the static SSDTs by instance number, then ``dynamic/`` ones by number."""
    tables = [parse_table(_read_file(root / "DSDT", f"{source}/DSDT"), f"{source}/DSDT")]
    for folder, prefix in ((root, source), (root / "dynamic", f"{source}/dynamic")):
        if folder is not root and not folder.is_dir():
            continue
        for name in _list_dir(folder, prefix):
            if _SYSFS_SSDT.fullmatch(name):
                where = f"{prefix}/{name}"
                tables.append(parse_table(_read_file(folder / name, where), where))
    return tuple(tables)


_XTRACT_NAME = re.compile(r"(dsdt|ssdt)\d*\.dat")


def _load_folder(folder: Path) -> tuple[Table, ...]:
    """acpixtract output or compiled ``*.aml``: the files whose signature is DSDT/SSDT."""
    tables: list[Table] = []
    for name in _list_dir(folder, str(folder)):
        lower = name.lower()
        if not lower.endswith((".aml", ".dat")):
            continue
        where = folder / name
        if not _XTRACT_NAME.fullmatch(lower):
            head = _read_file(where, name, peek=4)
            if head.decode("ascii", "replace") not in AML_SIGNATURES:
                continue
        table = parse_table(_read_file(where, name), name)
        if lower.startswith(("dsdt", "ssdt")) and not lower.startswith(table.signature.lower()):
            raise TableError(name, f"named as a {lower[:4].upper()} but its signature is "
                             f"{table.signature}")
        tables.append(table)
    return _with_dsdt_first(tables, str(folder))


def _with_dsdt_first(tables: list[Table], source: str) -> tuple[Table, ...]:
    tables = _dedupe(tables)
    dsdts = [t for t in tables if t.signature == "DSDT"]
    if not dsdts:
        found = f" (found {len(tables)} SSDT)" if tables else ""
        raise TableError(source, f"no DSDT among the tables{found}")
    if len(dsdts) > 1:
        raise TableError(source, "more than one DSDT: "
                         + ", ".join(t.source for t in dsdts))
    return (dsdts[0], *(t for t in tables if t.signature != "DSDT"))


# acpidump text (ACPICA tools/acpidump/apdump.c, AcpiUtDumpBuffer): a header
# line "SIG @ 0xADDRESS", then "  OFFS: XX XX ... XX  ascii" lines of up to 16
# bytes. The ascii column follows two spaces; the byte run stops before it.
# acpidump prints the RSDP's signature "RSD PTR " with "%4.4s" too: "RSD  @ 0x..."
# (apdump.c AcpiApDumpTableBuffer); pmtools' older acpidump prints "RSD PTR @".
_DUMP_HEADER = re.compile(r"\s*([A-Za-z0-9_!$]{4}|RSD PTR|RSD )\s*@\s*0x[0-9A-Fa-f]+\s*")
_DUMP_LINE = re.compile(r"\s*([0-9A-Fa-f]{4,8}):\s+((?:[0-9A-Fa-f]{2} ){0,15}[0-9A-Fa-f]{2})"
                        r"(?:\s.*)?")


def load_acpidump_text(data: bytes, name: str) -> tuple[Table, ...]:
    """The DSDT and SSDTs of an ``acpidump`` text dump, named as acpixtract names them."""
    found = _dump_bodies(_dump_text(data), name)
    total = {sig: sum(1 for s, _ in found if s == sig) for sig, _ in found}
    tables: list[Table] = []
    seen: dict[str, int] = {}
    for signature, body in found:
        seen[signature] = seen.get(signature, 0) + 1
        # acpixtract numbers only repeated signatures: one DSDT is DSDT, not DSDT1
        number = str(seen[signature]) if total[signature] > 1 else ""
        tables.append(parse_table(body, f"{name}:{signature}{number}"))
    if not tables:
        raise TableError(name, "no DSDT or SSDT found: not an acpidump text file?")
    return _with_dsdt_first(tables, name)


def _dump_text(data: bytes) -> str:
    """The dump as text. On Windows, PowerShell's ``acpidump > dump.txt`` writes
    UTF-16 with a byte-order mark, and editors may prepend a UTF-8 one."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", "replace")
    return data.removeprefix(codecs.BOM_UTF8).decode("ascii", "replace")


def _dump_bodies(text: str, name: str) -> list[tuple[str, bytes]]:
    """(signature, bytes) of each DSDT/SSDT in the dump, in dump order, unchecked."""
    found: list[tuple[str, bytes]] = []
    signature: str | None = None
    body = bytearray()
    for number, line in enumerate(text.splitlines(), 1):
        if header := _DUMP_HEADER.fullmatch(line):
            if signature in AML_SIGNATURES:
                found.append((signature, bytes(body)))
            signature, body = header.group(1), bytearray()
            continue
        row = _DUMP_LINE.fullmatch(line)
        if row is None:
            continue  # blank lines, tool banners, comments people paste around the dump
        if signature is None:
            raise TableError(f"{name} line {number}", "hex data before any 'SIG @ 0x...' header")
        offset = int(row.group(1), 16)
        if offset != len(body):
            raise TableError(f"{name} line {number}", f"offset {offset:#x} where {len(body):#x} "
                             f"was expected in {signature}: lines missing or repeated")
        body += bytes.fromhex(row.group(2))
    if signature in AML_SIGNATURES:
        found.append((signature, bytes(body)))
    return found


def _dedupe(tables: list[Table]) -> list[Table]:
    """Drop byte-identical repeats, as ACPICA's AcpiTbCheckDuplication refuses to
    install a table twice (some dumps list the DSDT via both FADT pointers)."""
    seen: set[bytes] = set()
    kept: list[Table] = []
    for table in tables:
        if table.data not in seen:
            seen.add(table.data)
            kept.append(table)
    return kept
