"""``pyxenplatform firmware``: the firmware's own power tables, in this package's schema.

``firmware [PATH] [--pdc N] [--json|--toml] [--raw]``.  The table goes to
stdout (TOML unless ``--json``), ready for ``check`` and ``upload``; what was
dropped on the way goes to stderr, identical reasons grouped, then a summary.
With ``--json`` the table is printed as JSON, which ``load_table`` reads.
``--raw`` prints the evaluated ACPI objects instead (issue 8's raw format).
The AML reader is imported only when the command runs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from .errors import ValidationError

if TYPE_CHECKING:
    from .firmware import ConversionWarning, FirmwareTable

U32 = 0xFFFF_FFFF
EXIT_OK, EXIT_USAGE = 0, 2


def _dword(text: str) -> int:
    try:
        value = int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: not an integer (e.g. 0xbbf)") from None
    if not 0 <= value <= U32:
        raise argparse.ArgumentTypeError(f"{text!r}: a _PDC capability DWORD is 0..0xffffffff")
    return value


def add_parser(sub: Any, parents: Sequence[argparse.ArgumentParser] = ()) -> None:
    """The ``firmware`` subcommand on ``sub`` (``parents``: the shared ``--json``)."""
    p = sub.add_parser(
        "firmware", parents=list(parents),
        help="read the firmware's power tables (_CST, _PSS, ...) as a table",
        description="Evaluate every processor's _CST, _PCT, _PSS, _PPC, _PSD... from the "
        "firmware's DSDT and SSDTs (after _PDC/_OSC), and print them as a power table that "
        "check and upload take as it is. What Linux or Xen could not use is dropped, with a "
        "warning on stderr saying why.")
    p.add_argument("path", nargs="?", metavar="PATH",
                   help="a folder of acpixtract files (dsdt.dat, ssdt1.dat...) or *.aml, or "
                   "an acpidump text file (default: this machine, /sys/firmware/acpi/tables)")
    p.add_argument("--pdc", type=_dword, default=0xBBF, metavar="N",
                   help="the _PDC/_OSC capability DWORD evaluated first (default 0xbbf, "
                   "what Linux offers)")
    if not parents:
        p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--toml", action="store_true", help="print TOML (the default without --json)")
    p.add_argument("--raw", action="store_true",
                   help="print the evaluated ACPI objects as they are, not converted (JSON)")
    p.set_defaults(run=run, dry_run=None)


def run(args: argparse.Namespace) -> int:
    """Read, convert, print.  Bad tables raise (the CLI prints one line, exit 2)."""
    from .acpi import raw_json, read_firmware

    if args.toml and (args.json or args.raw):
        raise ValidationError("--toml", "--json and --raw print JSON: give one of them")
    firmware = read_firmware(args.path, pdc=args.pdc)
    if args.raw:
        _emit(raw_json(firmware))
        return EXIT_OK
    from .firmware import convert_report

    where = "this machine" if args.path is None else args.path
    table = convert_report(firmware, description=f"firmware of {where}, _PDC {args.pdc:#x}")
    for line in [*table.notes, *grouped(table.warnings)]:
        print(f"pyxenplatform: warning: {line}", file=sys.stderr)
    if not table.processors:
        return _nothing_usable(args, table, len(firmware.processors), where)
    return _print_table(args, table, len(firmware.processors))


def _nothing_usable(args: argparse.Namespace, table: FirmwareTable, read: int,
                    where: str) -> int:
    """No processor has data Xen can use: a bad-input failure (exit 2, one line; with --json
    the contract's error document), raised for the CLI to report like any other."""
    why = "the warnings say why" if table.warnings or table.notes else "none has power objects"
    raise ValidationError("", f"{where}: no processor has C-states or P-states Xen can use "
                          f"({read} processors read; {why})")


def _print_table(args: argparse.Namespace, table: FirmwareTable, read: int) -> int:
    from .rules import check_table
    from .writers import dumps_toml, json_mapping

    check_table(table)  # what this command prints must pass check: raises if not
    if args.json:
        _emit(json_mapping(table))
    else:
        print(dumps_toml(table), end="")
    cx = sum(p.cx is not None for p in table.processors)
    px = sum(p.px is not None for p in table.processors)
    print(f"pyxenplatform: {len(table.processors)} of {read} processors converted ({cx} with "
          f"C-states, {px} with P-states), {len(table.warnings)} warnings", file=sys.stderr)
    return EXIT_OK


def _emit(body: dict[str, object]) -> None:
    import json

    print(json.dumps(body, indent=2))


def id_ranges(ids: Iterable[int]) -> str:
    """``[0, 1, 2, 5]`` -> ``"0-2, 5"``."""
    spans: list[list[int]] = []
    for i in sorted(set(ids)):
        if spans and i == spans[-1][1] + 1:
            spans[-1][1] = i
        else:
            spans.append([i, i])
    return ", ".join(f"{a}-{b}" if b != a else f"{a}" for a, b in spans)


def grouped(warnings: Sequence[ConversionWarning]) -> list[str]:
    """One line per warning, or per (object, reason) shared by several processors."""
    groups: dict[tuple[str, str], list[ConversionWarning]] = {}
    for w in warnings:
        groups.setdefault((w.object, w.reason), []).append(w)
    lines = []
    for (obj, reason), ws in groups.items():
        if len(ws) == 1:
            lines.append(str(ws[0]))
        else:
            lines.append(f"{ws[0].path} ... {ws[-1].path} ({len(ws)} processors, ACPI ids "
                         f"{id_ranges(w.acpi_id for w in ws)}) {obj}: {reason}")
    return lines
