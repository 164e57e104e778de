"""ACPICA's ``acpiexec`` as the oracle of the AML reader (test-only; Debian ``acpica-tools``).

:func:`run_oracle` loads a machine's DSDT and SSDTs into acpiexec (operation
regions read as zeros: acpiexec's simulation, the same as ours from files),
does the OSPM handshake of issue 8 and returns the ``--raw --json`` document
of every processor, parsed from acpiexec's debugger output:

1. run 1, ``namespace``: every ``Processor`` (ACPI id = its ProcessorID) and
   every ``Device`` whose ``_HID`` is the String ``ACPI0007`` (ACPI id = its
   ``_UID``), in namespace order; a ``_HID`` that is a Method costs one more
   run to evaluate it;
2. run 2, one script on stdin: ``_UID`` methods; then for every processor in
   namespace order ``_PDC(Buffer{1, 1, caps})`` if it has one, else
   ``_OSC(Intel processor UUID, 1, 2, Buffer{0, caps})``; ``namespace``
   again (tables the handshake loads add objects); then ``_CST _CSD
   _PCT _PSS _PSD _PPC _CPC _LPI`` of every processor, each present one
   evaluated (an absent one is left out of the document).

Values map as issue 8 part 6 says (read by ``tests/acpiexec_values.py``):
Integer → number, String → ``{"string": s}``, a Buffer holding one Generic
Register descriptor (+ end tag) → its fields with ``"address": "0x…"``,
another Buffer → ``{"buffer": hex}``, Package → list, no value → null,
failure → ``{"error": "AE_…"}``, a reference to a named object (a Device in a
Package) → ``{"reference": "DEV0", "type": "Device"}``.

acpiexec facts this relies on (acpica-tools 20200925), found by running it:

- ``-b "cmd; cmd"`` runs nothing, silently, once the string is longer than
  the debugger's line buffer (a few hundred bytes): commands go on stdin
  instead. With stdin not a terminal, acpiexec echoes each command as
  ``- <command>``, which is how the output is cut per command; its other
  threads sometimes print a newline between the ``- `` prompt and the
  command, so the cut accepts that too. The notify handlers run on their
  own thread and print a whole line anywhere, even after the prompt (seen
  on a loaded machine with 11-starlabs-starlite-coreboot: ``- ACPI Exec:
  Global:    Received a Device Notify on [CP00] ...`` and only then
  ``namespace``); those lines are taken out before the cut.
- Firmware ``Sleep``/``Stall`` really sleep in acpiexec, and an endless
  ``While`` runs until its loop timeout: on some machines most of acpiexec's
  time is spent waiting.
- Errors and warnings (``ACPI Error``, ``Firmware Error``, the method
  backtrace) go to stderr, values and ``Evaluation of X failed with status
  AE_…`` to stdout; only stdout is parsed, so the two never interleave.
- Evaluation goes through AcpiEvaluateObject, so ACPICA's predefined-name
  checks and repairs (nsrepair.c, nsrepair2.c) shape what it prints, as they
  shape what Linux sees: e.g. ``_PSS`` sorted by falling frequency, ``_CST``
  entries with a bad type dropped and its count fixed.
- Uninitialised Package elements print as ``[Null Object]`` (→ null); a
  Package holding a ``RefOf`` fails with AE_TYPE ("unsupported Reference
  Class"); a method returning ``RefOf(X)`` prints X's value; named objects
  inside a static Package print as their values.
- An endless ``While`` ends in AE_AML_LOOP_TIMEOUT after about ten seconds.
- ``Package`` counts print in decimal, Buffer and String lengths in hex;
  Buffers of up to 16 bytes print on the same line, longer ones below it.
- ``iasl`` 20200925 segfaults compiling a reserved name's static Package that
  names a Device (``Name (_CSD, Package () { DEV1, 3 })``).
- An integer ``_HID`` is an EISA id (3 letters + 4 hex digits), so it can
  never be ``ACPI0007``: only the String marks a processor Device.
- A firmware ``Load`` from a zero-length region segfaults it (12-hp-proliant-
  dl360-g5's ``_PDC``: "Operation Region [IST0] has zero length", then
  ``Load``): the command it dies in is dropped, the script rerun without it,
  and the command listed in :attr:`OracleResult.crashes`.
"""

from __future__ import annotations

import re
import resource
import shutil
import struct
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tests.acpiexec_values import JsonValue, evaluation_value
from tests.acpiexec_values import OracleError as OracleError  # raised by run_oracle too

OBJECTS = ("_CST", "_CSD", "_PCT", "_PSS", "_PSD", "_PPC", "_CPC", "_LPI")
DEFAULT_CAPS = 0xBBF
#: ToUUID("4077A616-290C-47BE-9EBD-D87058713953"), the Intel processor _OSC UUID, in AML byte order.
INTEL_PROCESSOR_UUID = bytes.fromhex("16A677400C29BE479EBDD87058713953")
TIMEOUT_SECONDS = 600.0

@dataclass(frozen=True)
class NamespaceEntry:
    segments: tuple[str, ...]  # 4-character names from the root
    kind: str                  # ACPICA type name: Processor, Device, Method, Integer...
    detail: str                # the rest of the line: "ID 01 Len 06 ...", "= 0000...", 'Len 08 "x"'

    @property
    def command_path(self) -> str:
        return "\\" + ".".join(self.segments)

    @property
    def path(self) -> str:
        """As ACPICA prints it: trailing '_' of each segment dropped (``\\_PR.CPU0``)."""
        return "\\" + ".".join(seg.rstrip("_") or "_" for seg in self.segments)


@dataclass
class OracleResult:
    processors: list[dict[str, JsonValue]]
    seconds: float                        # acpiexec's wall time, all runs
    runs: int
    transcripts: list[str] = field(default_factory=list)  # stdout of each run, for diagnosis
    crashes: list[str] = field(default_factory=list)      # commands acpiexec died in, dropped
    run_seconds: list[float] = field(default_factory=list)  # each run's wall time; the last
    #   run alone loads, handshakes and evaluates everything (what an OS would do)
    run_cpu_seconds: list[float] = field(default_factory=list)  # each run's user+sys CPU time
    #   (RUSAGE_CHILDREN deltas: exact when runs do not overlap, as in tests/benchmark.py)


def acpiexec_path() -> str | None:
    return shutil.which("acpiexec")


def run_acpiexec(files: Sequence[Path], commands: Sequence[str],
                 timeout: float = TIMEOUT_SECONDS) -> tuple[list[str], str, float]:
    """Run ``commands`` on ``files``: (each command's stdout, whole stdout, seconds).

    Fewer sections than commands means acpiexec died (it segfaults on some
    firmware ``Load`` calls): the last section is the command it died in.
    """
    exe = acpiexec_path()
    if exe is None:
        raise OracleError("acpiexec not found: apt-get install acpica-tools")
    script = "".join(f"{command}\n" for command in commands) + "quit\n"
    start = time.perf_counter()
    try:
        # -dt: no allocation tracking, only speed; everything else as Debian ships it.
        done = subprocess.run([exe, "-dt", *map(str, files)], input=script,
                              capture_output=True, text=True, errors="replace",
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        raise OracleError(f"acpiexec did not finish in {timeout:g} s") from None
    seconds = time.perf_counter() - start
    return split_by_command(done.stdout, commands), done.stdout, seconds


def split_by_command(stdout: str, commands: Sequence[str]) -> list[str]:
    """The output of each command, cut at acpiexec's echo of it.

    The echo is ``- <command>``. acpiexec's notify handlers run on another
    thread and print whole lines anywhere, even inside a line of the main
    thread (after the ``- `` prompt, inside a namespace line): those lines
    are taken out first. Other threads can also print a bare newline between
    the prompt and the command, or text before the prompt: both are accepted.
    """
    stdout = _NOTIFY_LINE.sub("", stdout)
    sections: list[str] = []
    position = 0
    previous_end: int | None = None
    for command in commands:
        match = _echo(command).search(stdout, position)
        if match is None:
            break
        if previous_end is not None:
            sections.append(stdout[previous_end:match.start()])
        previous_end = position = match.end()
    if previous_end is not None:
        quit_at = _echo("quit").search(stdout, previous_end)
        sections.append(stdout[previous_end:quit_at.start() if quit_at else len(stdout)])
    return sections


# aehandlers.c (AeDeviceNotifyHandler, AeNotifyHandler...): one printf each, so
# a whole line, AE_PREFIX "ACPI Exec: " then "Global:" or "Handler N:".
_NOTIFY_LINE = re.compile(r"ACPI Exec: (?:Global|Handler \d+): +Received an? [^\n]*\n")


def _echo(command: str) -> re.Pattern[str]:
    return re.compile(r"^.*?- \n?" + re.escape(command) + r"$", re.MULTILINE)


_NS_LINE = re.compile(r"\s*(\d+)\s+(\S{4}) (\w+)\s+0x[0-9a-fA-F]+ [0-9A-Fa-f]{3} ?(.*)")


def parse_namespace(text: str) -> list[NamespaceEntry]:
    """The ``namespace`` dump as entries in namespace order, with full paths."""
    entries: list[NamespaceEntry] = []
    stack: list[str] = []
    for line in text.splitlines():
        match = _NS_LINE.fullmatch(line)
        if match is None:
            continue
        depth = int(match.group(1))
        if depth > len(stack):
            raise OracleError(f"namespace dump skips a level at: {line}")
        del stack[depth:]
        stack.append(match.group(2))
        entries.append(NamespaceEntry(tuple(stack), match.group(3), match.group(4).strip()))
    return entries


@dataclass
class Processor:
    entry: NamespaceEntry
    acpi_id: int | None = None
    uid_command: str | None = None  # set when _UID must be evaluated
    children: dict[str, NamespaceEntry] = field(default_factory=dict)


def _children(entries: list[NamespaceEntry]) -> dict[tuple[str, ...], dict[str, NamespaceEntry]]:
    out: dict[tuple[str, ...], dict[str, NamespaceEntry]] = {}
    for entry in entries:
        out.setdefault(entry.segments[:-1], {})[entry.segments[-1]] = entry
    return out


def _inline(entry: NamespaceEntry) -> JsonValue | None:
    """The value a ``namespace`` line shows for an Integer or String; None otherwise."""
    if entry.kind == "Integer" and (m := re.match(r"= ([0-9A-Fa-f]+)", entry.detail)):
        return int(m.group(1), 16)
    if entry.kind == "String" and (m := re.match(r'Len [0-9A-Fa-f]+ "(.*)"$', entry.detail)):
        return {"string": m.group(1)}
    return None


def find_processors(files: Sequence[Path], entries: list[NamespaceEntry],
                    result: OracleResult) -> list[Processor]:
    """Processor objects and ACPI0007 Devices in namespace order (evaluating method _HIDs)."""
    kids = _children(entries)
    candidates: list[Processor] = []
    hid_methods: list[Processor] = []
    for entry in entries:
        own = kids.get(entry.segments, {})
        if entry.kind == "Processor":
            m = re.match(r"ID ([0-9A-Fa-f]+)", entry.detail)
            if m is None:
                raise OracleError(f"no ProcessorID in: {entry.detail}")
            candidates.append(Processor(entry, int(m.group(1), 16), children=own))
        elif entry.kind == "Device" and "_HID" in own:
            cpu = Processor(entry, children=own)
            hid = own["_HID"]
            if hid.kind == "Method":
                hid_methods.append(cpu)
                candidates.append(cpu)
            elif _inline(hid) == {"string": "ACPI0007"}:
                candidates.append(cpu)
    if hid_methods:
        commands = [f"evaluate {c.children['_HID'].command_path}" for c in hid_methods]
        sections = _run(result, files, commands)
        if len(sections) != len(commands):
            raise OracleError("acpiexec died evaluating _HID: " + result.transcripts[-1][-2000:])
        not_cpu = {id(c) for c, s in zip(hid_methods, sections)
                   if evaluation_value(s) != {"string": "ACPI0007"}}
        candidates = [c for c in candidates if id(c) not in not_cpu]
    for cpu in candidates:
        if cpu.acpi_id is None:
            uid = cpu.children.get("_UID")
            value = _inline(uid) if uid is not None else None
            if isinstance(value, int):
                cpu.acpi_id = value
            elif uid is not None:
                cpu.uid_command = f"evaluate {uid.command_path}"
    return candidates


def _hex_bytes(data: bytes) -> str:
    return " ".join(f"{b:02X}" for b in data)


def handshake_command(cpu: Processor, caps: int) -> str | None:
    """``_PDC(Buffer{1, 1, caps})``, else ``_OSC(UUID, 1, 2, Buffer{0, caps})``, else None."""
    if "_PDC" in cpu.children:
        pdc = struct.pack("<III", 1, 1, caps)
        return f"evaluate {cpu.children['_PDC'].command_path} ({_hex_bytes(pdc)})"
    if "_OSC" in cpu.children:
        osc = cpu.children["_OSC"].command_path
        return (f"evaluate {osc} ({_hex_bytes(INTEL_PROCESSOR_UUID)}) 1 2 "
                f"({_hex_bytes(struct.pack('<II', 0, caps))})")
    return None


def run_oracle(files: Sequence[Path], *, caps: int = DEFAULT_CAPS) -> OracleResult:
    """The raw JSON processors acpiexec computes for ``files`` (DSDT first, then SSDTs)."""
    result = OracleResult([], 0.0, 0)
    sections = _run(result, files, ["namespace"])
    if len(sections) != 1:
        raise OracleError("acpiexec died loading the tables: " + result.transcripts[-1][-2000:])
    cpus = find_processors(files, parse_namespace(sections[0]), result)
    commands = [c.uid_command for c in cpus if c.uid_command]
    commands += [cmd for c in cpus if (cmd := handshake_command(c, caps))]
    commands.append("namespace")
    evaluations = [(c, name, f"evaluate {c.entry.command_path}.{name}")
                   for c in cpus for name in OBJECTS]
    commands += [cmd for _, _, cmd in evaluations]
    by_command = _run_surviving_crashes(result, files, commands)
    present = {e.segments for e in parse_namespace(by_command["namespace"])}
    for cpu in cpus:
        if cpu.uid_command:
            cpu.acpi_id = _uid_integer(evaluation_value(by_command[cpu.uid_command]))
        objects: dict[str, JsonValue] = {}
        for _, name, command in (e for e in evaluations if e[0] is cpu):
            if cpu.entry.segments + (name,) in present:
                objects[name] = evaluation_value(by_command[command])
        result.processors.append({"path": cpu.entry.path, "acpi_id": cpu.acpi_id,
                                  "objects": objects})
    return result


def _run(result: OracleResult, files: Sequence[Path], commands: Sequence[str]) -> list[str]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    sections, stdout, seconds = run_acpiexec(files, commands)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    result.run_cpu_seconds.append(after.ru_utime + after.ru_stime
                                  - before.ru_utime - before.ru_stime)
    result.runs += 1
    result.seconds += seconds
    result.run_seconds.append(seconds)
    result.transcripts.append(stdout)
    return sections


def _run_surviving_crashes(result: OracleResult, files: Sequence[Path],
                           commands: list[str]) -> dict[str, str]:
    """Each command's output; a command acpiexec dies in is dropped (noted in ``crashes``)
    and the script rerun without it, so one crash costs one object, not the machine."""
    crashed = 'Evaluation of X failed with status AE_ACPIEXEC_CRASHED'
    outputs: dict[str, str] = {}
    while True:
        sections = _run(result, files, commands)
        if len(sections) < len(commands) and "Segmentation Fault" not in result.transcripts[-1]:
            sections = _run(result, files, commands)  # garbled, not dead: once more
        if len(sections) == len(commands):
            outputs.update(zip(commands, sections))
            return outputs
        if not sections or commands[len(sections) - 1] == "namespace":
            raise OracleError("acpiexec died: " + result.transcripts[-1][-2000:])
        culprit = commands[len(sections) - 1]
        result.crashes.append(culprit)
        outputs[culprit] = crashed
        commands = [c for c in commands if c != culprit]


def _uid_integer(value: JsonValue) -> int | None:
    """A _UID as an ACPI id: an Integer, or a String holding a number (Linux acpi_dev_uid_to_integer)."""
    if isinstance(value, int):
        return value
    if isinstance(value, dict) and isinstance(value.get("string"), str):
        try:
            return int(str(value["string"]), 0)
        except ValueError:
            return None
    return None
