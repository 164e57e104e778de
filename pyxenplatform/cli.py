"""The ``pyxenplatform`` command line (also ``python -m pyxenplatform``).

Exit codes: 0 success; 1 the hypervisor refused something; 2 bad input or
usage (nothing was sent); 3 no privcmd device (not a dom0, or xen-privcmd
not loaded); 4 permission denied (needs root in dom0); 5 a local failure
(not Xen's: locking memory, out of memory); 141 stdout closed (``| head``).

This module is the parser and the dispatcher only.  A command is a function
``(args) -> exit code`` set with ``set_defaults(run=...)``; the core ones live
in :mod:`pyxenplatform.commands`, human output in :mod:`pyxenplatform.output`,
the ``--json`` contract in :mod:`pyxenplatform.report`.  Errors raised by a
command become one stderr line, or with ``--json`` one error document.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, NoReturn, cast

from . import commands, report
from .errors import ValidationError, XenPlatformError
from .model import AcpiIds
from .readers import show_value
from .report import EXIT_NO_PRIVCMD, EXIT_OK, EXIT_PERMISSION, EXIT_REFUSED, EXIT_USAGE

if TYPE_CHECKING:
    from .hypercalls import PhysicalCpu

__all__ = ["EXIT_NO_PRIVCMD", "EXIT_OK", "EXIT_PERMISSION", "EXIT_REFUSED", "EXIT_USAGE",
           "build_parser", "main"]

log = logging.getLogger("pyxenplatform")

Command = Callable[[argparse.Namespace], int]

EPILOG = """\
exit codes: 0 ok, 1 Xen refused something, 2 bad input or usage (nothing sent),
3 no privcmd device (not a Xen dom0, or modprobe xen-privcmd), 4 needs root in dom0,
5 a local failure (not Xen's), 141 output closed early.

examples:
  pyxenplatform cpus --json
  pyxenplatform check examples/cx-ffh-c1-c2.toml
  pyxenplatform upload examples/cx-ffh-c1-c2.toml --dry-run
  pyxenplatform show examples/px-pstates.toml --hex
"""


def parse_cpus(spec: str) -> list[PhysicalCpu]:
    """``xen_cpuid[:apic_id]:acpi_id,...`` -> CPUs for the simulated hypervisor.

    The ACPI id is always the last number (``0:2`` or ``0:0:2``, as 0.1.0 took
    it); the APIC id defaults to the Xen CPU id.  Numbers as a table writes them
    (decimal or hex), checked as Xen would report them
    (:func:`~pyxenplatform.sim.check_cpus`)."""
    from .hypercalls import PhysicalCpu
    from .sim import check_cpus
    from .sources import integer

    items = spec.split(",")
    cpus = []
    try:
        for i, item in enumerate(items[:MAX_CPU_SPECS + 1]):
            fields = item.split(":")
            if not 2 <= len(fields) <= 3:
                raise ValidationError(f"--cpus[{i}]", f"{show_value(item)}: expected "
                                      "xen_cpuid[:apic_id]:acpi_id, e.g. 0:2 or 0:0:2")
            xen_cpuid, *apic, acpi_id = (integer(x, f"--cpus[{i}]") for x in fields)
            cpus.append(PhysicalCpu(xen_cpuid, acpi_id, apic[0] if apic else xen_cpuid, True))
        check_cpus(cpus, "--cpus")
    except ValidationError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return cpus


def parse_version(text: str) -> tuple[int, int]:
    """``4.17`` -> (4, 17)."""
    try:
        major, minor = (int(x) for x in text.split("."))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected MAJOR.MINOR, e.g. 4.21") from None
    return major, minor


def parse_acpi_id(text: str) -> AcpiIds:
    """``--acpi-id``: what a table's ``acpi_id`` takes (decimal, hex string, ``all``)."""
    from .sources import acpi_ids

    try:
        return acpi_ids(text, "--acpi-id")
    except ValidationError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


class UsageError(ValidationError):
    """A command line argparse refused (exit 2, as argparse's own)."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is raised, so ``--json`` can still print its document."""

    def error(self, message: str) -> NoReturn:
        raise UsageError("", message, source=None) from _ParserRef(self)


class _ParserRef(Exception):
    """Carries the (sub)parser whose usage to print with a UsageError."""

    def __init__(self, parser: argparse.ArgumentParser) -> None:
        super().__init__(parser.prog)
        self.parser = parser


class _Version(argparse.Action):
    """``--version``: the release and the Xen interfaces spoken (imports abi only then)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS,
                         help="print the release and the Xen interface versions, then exit")

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: object, option_string: str | None = None) -> None:
        from .version import version_text

        print(version_text())
        parser.exit()


def common_options() -> dict[str, _Parser]:
    """Parent parsers a command can take with ``parents=[...]``: ``json``, ``strict``
    and ``cpus`` (the simulated host of ``--dry-run``)."""
    json = _Parser(add_help=False)
    json.add_argument("--json", action="store_true",
                      help="print one JSON document (schema in the README), even on failure")
    strict = _Parser(add_help=False)
    strict.add_argument("--strict", action="store_true",
                        help="treat a predicted drop or an id matching no CPU as an error")
    cpus = _Parser(add_help=False)
    cpus.add_argument("--cpus", type=parse_cpus, metavar="SPEC", dest="sim_cpus",
                      help="CPUs of the simulated hypervisor, xen_cpuid[:apic_id]:acpi_id,... "
                      "(default: the table's ACPI ids, else ACPI ids 0 and 1)")
    cpus.add_argument("--cpufreq", choices=("xen", "amd-cppc", "none"), default="xen",
                      help="the simulated Xen's cpufreq= mode (default xen: P-states; "
                      "amd-cppc: CPPC, Xen 4.21+)")
    cpus.add_argument("--xen-version", type=parse_version, default=(4, 22), metavar="X.Y",
                      help="the simulated Xen's version (default 4.22; before 4.21 Xen "
                      "refuses CPPC)")
    cpus.add_argument("--platform", metavar="SPEC", default=None,
                      help="the CPU a dry run predicts for: host (this machine's CPUID; the "
                      "default, permissive if unreadable), qemu (the test VM's), permissive, "
                      "or field=value,... e.g. qemu,eist=1 (see pyxenplatform.platforms)")
    return {"json": json, "strict": strict, "cpus": cpus}


# Filled by build_parser: the subcommand names (to name a usage error's command).
COMMAND_NAMES: set[str] = set()
# --cpus takes at most as many CPUs as Xen supports.
MAX_CPU_SPECS = 16383


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="pyxenplatform",
        description="Upload processor power tables (C-states, P-states, _PDC) to Xen "
        "from a Linux dom0, validated as Xen validates them.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action=_Version)
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="more log output (-vv for debug)")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    parser.add_argument("--privcmd", metavar="PATH",
                        help="privcmd device (default: $PYXENPLATFORM_PRIVCMD, /dev/xen/privcmd)")
    from . import cli_firmware  # its own imports are lazy: the parser stays cheap

    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    COMMAND_NAMES.clear()
    common = common_options()

    cpus = sub.add_parser("cpus", help="list the physical CPUs Xen reports",
                          parents=[common["json"]],
                          description="The physical CPUs from XENPF_get_cpuinfo: Xen CPU id, "
                          "ACPI id (what power tables are keyed by), APIC id, online.")
    cpus.set_defaults(run=commands.cmd_cpus, dry_run=False)

    upload = sub.add_parser("upload", help="validate, then upload tables to Xen",
                            parents=[common["json"], common["strict"], common["cpus"]],
                            description="Validate every FILE whole, then upload them: per "
                            "physical CPU _PDC, Cx, Px, the ACPI id of Xen CPU 0 first. "
                            "\"acpi_id = 'all'\" means every present physical CPU.")
    upload.add_argument("files", nargs="*", metavar="FILE", help="a .json or .toml table")
    upload.add_argument("--acpi-id", type=parse_acpi_id, action="append", metavar="ID",
                        help="upload only for this ACPI id: decimal, \"0x..\" or \"all\", "
                        "as a table's acpi_id (repeatable)")
    upload.add_argument("--dry-run", action="store_true",
                        help="use the simulated hypervisor: show what Xen would keep and drop")
    upload.add_argument("--verify", action="store_true",
                        help="read back what Xen holds afterwards; exit 1, naming the likely "
                        "cause, if it holds less than was sent")
    cli_firmware.add_upload_options(upload)  # --from-firmware, --tables, --pdc (issue 9)
    upload.set_defaults(run=commands.cmd_upload)

    show = sub.add_parser("show", help="show the ops as Xen will receive them",
                          parents=[common["cpus"]],
                          description="Each op's fields as Xen reads them; --hex adds the "
                          "exact bytes of the hypercall buffer (op plus arrays).")
    show.add_argument("file", metavar="FILE")
    show.add_argument("--hex", action="store_true", help="dump the bytes too")
    show.set_defaults(run=commands.cmd_show)

    status = sub.add_parser("status", help="show what Xen holds for each physical CPU",
                            parents=[common["json"]],
                            description="Read back from Xen, per physical CPU (Xen CPU id, "
                            "ACPI id): the C-states it holds with their usage and residency, "
                            "whether it still shows its 2 placeholder states (Xen CPU 0's "
                            "C-states not uploaded yet), the cpufreq driver, governor and "
                            "P-state frequencies.")
    status.set_defaults(run=_status, dry_run=False)

    check = sub.add_parser("check", help="validate tables only (nothing is sent)",
                           parents=[common["json"]])
    check.add_argument("files", nargs="+", metavar="FILE")
    check.set_defaults(run=commands.cmd_check)
    # argparse's _SubParsersAction is invariant in its parser class: ours subclasses it.
    cli_firmware.add_install_service(cast("argparse._SubParsersAction[argparse.ArgumentParser]", sub))
    from . import cli_firmware_table

    cli_firmware_table.add_parser(sub, parents=[common["json"]])
    COMMAND_NAMES.update(sub.choices)
    return parser


def _status(args: argparse.Namespace) -> int:
    from .cli_status import cmd_status  # a command imports only what it uses

    return cmd_status(args)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code (a usage error exits 2 as argparse does)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command == "upload" and not args.files and not args.from_firmware:
            parser.error("upload: give one or more table FILEs, or --from-firmware")
    except UsageError as exc:
        _usage_failed(argv, exc)
    except BrokenPipeError:  # --help or --version into | head
        return _stdout_closed()
    _configure_logging([logging.WARNING, logging.INFO, logging.DEBUG][min(args.verbose, 2)])
    run: Command = args.run
    try:
        return run(args)
    except XenPlatformError as exc:
        return _fail(args, exc)
    except BrokenPipeError:
        return _stdout_closed()


def run() -> NoReturn:
    """``sys.exit(main())``: the entry point of a zipapp (``-m pyxenplatform.cli:run``)."""
    sys.exit(main())


def _usage_failed(argv: list[str], exc: UsageError) -> NoReturn:
    """argparse's usage and message on stderr (the JSON error document first)."""
    from .output import quote

    if "--json" in argv:
        command = next((a for a in argv if a in COMMAND_NAMES), "")
        report.emit(report.failure(command, exc))
    ref = exc.__cause__
    if isinstance(ref, _ParserRef):
        ref.parser.print_usage(sys.stderr)
    print(f"pyxenplatform: error: {quote(exc)}", file=sys.stderr)
    raise SystemExit(EXIT_USAGE)


def _configure_logging(level: int) -> None:
    """The package's loggers to stderr at ``level``: the CLI configures them, the
    library never does.  One handler, replaced on each call (main() may run
    several times in one process, as in tests or a calling tool)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    log.handlers[:] = [handler]
    log.setLevel(level)
    log.propagate = False


def _fail(args: argparse.Namespace, exc: BaseException) -> int:
    """One stderr line (and with ``--json`` one error document on stdout)."""
    from .output import quote

    code = report.exit_code(exc)
    if args.debug:
        log.exception("failed")
    if getattr(args, "json", False):
        try:  # dry_run: True simulated, False real Xen, None (check) no hypervisor
            report.emit(report.failure(args.command, exc, simulated=getattr(args, "dry_run", None)))
        except BrokenPipeError:
            return _stdout_closed()
    print(f"pyxenplatform: error: {quote(exc)}", file=sys.stderr)
    return code


def _stdout_closed() -> int:
    """The reader of stdout went away (``| head``): stop quietly, as CLI tools do.

    Python's "Note on SIGPIPE": point stdout at /dev/null so the interpreter's
    final flush does not raise again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass  # stdout is not a real file (a test's capture): nothing to redirect
    finally:
        os.close(devnull)
    return report.EXIT_BROKEN_PIPE


if __name__ == "__main__":
    run()
