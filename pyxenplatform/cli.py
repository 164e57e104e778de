"""The ``pyxenplatform`` command line (also ``python -m pyxenplatform``).

Exit codes: 0 success; 1 the hypervisor refused something; 2 bad input or
usage (nothing was sent); 3 no privcmd device (not a dom0, or xen-privcmd
not loaded); 4 permission denied (needs root in dom0).
"""

from __future__ import annotations

import argparse
import ctypes
import errno
import json
import logging
import sys
from collections.abc import Sequence
from dataclasses import replace
from typing import TextIO

from . import abi, cli_firmware, cli_firmware_table
from .errors import FirmwareError, PermissionDenied, PrivcmdUnavailable, ValidationError, XenPlatformError
from .hypercalls import PhysicalCpu
from .hypervisor import Hypervisor, TableResult, plan_uploads
from .marshal import build_cppc, build_cx, build_pdc, build_px
from .platforms import default_spec, parse
from .model import PowerTable
from .rules import check_explicit_ids, check_table
from .sim import SimulatedXen, copy_from_guest
from .sources import load_table
from .transport import Privcmd

log = logging.getLogger("pyxenplatform")

EXIT_OK, EXIT_REFUSED, EXIT_USAGE, EXIT_NO_PRIVCMD, EXIT_PERMISSION = 0, 1, 2, 3, 4

EPILOG = """\
exit codes: 0 ok, 1 Xen refused something, 2 bad input or usage (nothing sent),
3 no privcmd device (not a Xen dom0, or modprobe xen-privcmd), 4 needs root in dom0.

examples:
  pyxenplatform cpus --json
  pyxenplatform check examples/cx-ffh-c1-c2.toml
  pyxenplatform upload examples/cx-ffh-c1-c2.toml --dry-run
  pyxenplatform show examples/px-pstates.toml --hex
"""


def parse_cpus(spec: str) -> list[PhysicalCpu]:
    """``xen_cpuid:apic_id:acpi_id,...`` -> CPUs for the simulated hypervisor."""
    cpus = []
    for item in spec.split(","):
        try:
            xen_cpuid, apic_id, acpi_id = (int(x, 0) for x in item.split(":"))
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{item!r}: expected xen_cpuid:apic_id:acpi_id, e.g. 0:0:2") from None
        cpus.append(PhysicalCpu(xen_cpuid, acpi_id, apic_id, True))
    return cpus


def parse_version(text: str) -> tuple[int, int]:
    """``4.17`` -> (4, 17)."""
    try:
        major, minor = (int(x) for x in text.split("."))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected MAJOR.MINOR, e.g. 4.21") from None
    return major, minor


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pyxenplatform",
        description="Upload processor power tables (C-states, P-states, _PDC) to Xen "
        "from a Linux dom0, validated as Xen validates them.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="more log output (-vv for debug)")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    parser.add_argument("--privcmd", metavar="PATH",
                        help="privcmd device (default: $PYXENPLATFORM_PRIVCMD, /dev/xen/privcmd)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    cpus = sub.add_parser("cpus", help="list the physical CPUs Xen reports",
                          description="The physical CPUs from XENPF_get_cpuinfo: Xen CPU id, "
                          "ACPI id (what power tables are keyed by), APIC id, online.")
    cpus.add_argument("--json", action="store_true", help="print a JSON list")

    def add_dry_run(p: argparse.ArgumentParser) -> None:
        p.add_argument("--cpus", type=parse_cpus, metavar="SPEC", dest="sim_cpus",
                       help="CPUs of the simulated hypervisor, xen_cpuid:apic_id:acpi_id,... "
                       "(default: the table's ACPI ids, else ACPI ids 0 and 1)")
        p.add_argument("--cpufreq", choices=("xen", "amd-cppc", "none"), default="xen",
                       help="the simulated Xen's cpufreq= mode (default xen: P-states; "
                       "amd-cppc: CPPC, Xen 4.21+)")
        p.add_argument("--xen-version", type=parse_version, default=(4, 22), metavar="X.Y",
                       help="the simulated Xen's version (default 4.22; before 4.21 Xen "
                       "refuses CPPC)")
        p.add_argument("--platform", metavar="SPEC", default=None,
                       help="the CPU a dry run predicts for: host (this machine's CPUID; the "
                       "default, permissive if unreadable), qemu (the test VM's), permissive, "
                       "or field=value,... e.g. qemu,eist=1 (see pyxenplatform.platforms)")

    upload = sub.add_parser("upload", help="validate, then upload tables to Xen",
                            description="Validate every FILE whole, then upload them: per "
                            "physical CPU _PDC, Cx, Px, the ACPI id of Xen CPU 0 first. "
                            "\"acpi_id = 'all'\" means every present physical CPU.")
    upload.add_argument("files", nargs="*", metavar="FILE", help="a .json or .toml table")
    upload.add_argument("--acpi-id", type=int, action="append", metavar="N",
                        help="upload only for this ACPI id (repeatable)")
    upload.add_argument("--dry-run", action="store_true",
                        help="use the simulated hypervisor: show what Xen would keep and drop")
    upload.add_argument("--json", action="store_true",
                        help="print per ACPI id what was sent and Xen's answer, as JSON")
    upload.add_argument("--verify", action="store_true",
                        help="read back what Xen holds afterwards; exit 1, naming the likely "
                        "cause, if it holds less than was sent")
    add_dry_run(upload)
    cli_firmware.add_upload_options(upload)

    show = sub.add_parser("show", help="show the ops as Xen will receive them",
                          description="Each op's fields as Xen reads them; --hex adds the "
                          "exact bytes of the hypercall buffer (op plus arrays).")
    show.add_argument("file", metavar="FILE")
    show.add_argument("--hex", action="store_true", help="dump the bytes too")
    add_dry_run(show)

    status = sub.add_parser("status", help="show what Xen holds for each physical CPU",
                            description="Read back from Xen, per physical CPU (Xen CPU id, "
                            "ACPI id): the C-states it holds with their usage and residency, "
                            "whether it still shows its 2 placeholder states (Xen CPU 0's "
                            "C-states not uploaded yet), the cpufreq driver, governor and "
                            "P-state frequencies.")
    status.add_argument("--json", action="store_true", help="print a JSON document")

    check = sub.add_parser("check", help="validate tables only (nothing is sent)")
    check.add_argument("files", nargs="+", metavar="FILE")
    cli_firmware.add_install_service(sub)
    cli_firmware_table.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "upload" and not args.files and not args.from_firmware:
        parser.error("upload: give one or more table FILEs, or --from-firmware")
    _configure_logging([logging.WARNING, logging.INFO, logging.DEBUG][min(args.verbose, 2)])
    try:
        return COMMANDS[args.command](args)
    except (ValidationError, FirmwareError) as exc:  # bad input: nothing was sent
        return _fail(args, exc, EXIT_USAGE)
    except PrivcmdUnavailable as exc:
        return _fail(args, exc, EXIT_NO_PRIVCMD)
    except PermissionDenied as exc:
        return _fail(args, exc, EXIT_PERMISSION)
    except XenPlatformError as exc:
        return _fail(args, exc, EXIT_REFUSED)


def _configure_logging(level: int) -> None:
    """The package's loggers to stderr at ``level``: the CLI configures them, the
    library never does.  One handler, replaced on each call (main() may run
    several times in one process, as in tests or a calling tool)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    log.handlers[:] = [handler]
    log.setLevel(level)
    log.propagate = False


def _fail(args: argparse.Namespace, exc: Exception, code: int) -> int:
    if args.debug:
        log.exception("failed")
    print(f"pyxenplatform: error: {exc}", file=sys.stderr)
    return code


def _load(files: Sequence[str]) -> tuple[PowerTable, list[str]]:
    """Load and check every file (each on its own, then across files); the
    merged table and its warnings."""
    tables = [load_table(f) for f in files]
    warnings = [w for f, t in zip(files, tables) for w in check_table(t, source=f)]
    check_explicit_ids([(f, i, p) for f, t in zip(files, tables)
                        for i, p in enumerate(t.processors)])
    return PowerTable(tuple(p for t in tables for p in t.processors)), warnings


def _simulated_cpus(table: PowerTable, cpus: list[PhysicalCpu] | None) -> list[PhysicalCpu]:
    if cpus:
        return cpus
    ids = sorted({i for p in table.processors if p.acpi_ids != "all" for i in p.acpi_ids})
    ids = ids or [0, 1]
    return [PhysicalCpu(n, acpi_id, n, True) for n, acpi_id in enumerate(ids)]


def _hypervisor(args: argparse.Namespace, table: PowerTable | None = None) -> Hypervisor:
    """The simulated Xen for ``--dry-run`` (CPUs from --cpus or the table), else privcmd."""
    if getattr(args, "dry_run", False):
        assert table is not None
        return Hypervisor(_simulated_xen(args, _simulated_cpus(table, args.sim_cpus)))
    return Hypervisor(Privcmd(args.privcmd))


def _simulated_xen(args: argparse.Namespace, cpus: list[PhysicalCpu]) -> SimulatedXen:
    platform = replace(parse(args.platform or default_spec()), online_cpus=len(cpus))
    try:
        return SimulatedXen(cpus, platform=platform, cpufreq_driver=platform.eist
                            or platform.hw_pstate, cpufreq=args.cpufreq,
                            xen_version=args.xen_version)
    except ValueError as exc:  # amd-cppc on a Xen before 4.21
        raise ValidationError("--cpufreq", str(exc)) from None


def cmd_cpus(args: argparse.Namespace) -> int:
    with _hypervisor(args) as hv:
        cpus = hv.physical_cpus()
    if args.json:
        rows = [{"xen_cpuid": c.xen_cpuid, "acpi_id": c.acpi_id, "apic_id": c.apic_id,
                 "online": c.online} for c in cpus]
        print(json.dumps(rows, indent=2))
    else:
        print(f"{'xen cpu':>7}  {'acpi id':>7}  {'apic id':>7}  online")
        for c in cpus:
            print(f"{c.xen_cpuid:>7}  {c.acpi_id:>7}  {c.apic_id:>7}  {'yes' if c.online else 'no'}")
    return EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    _, warnings = _load(args.files)
    for w in warnings:
        log.info("%s", w)
    notes = f" ({len(warnings)} notes; -v shows them)" if warnings else ""
    print(f"{', '.join(args.files)}: ok{notes}")
    return EXIT_OK


def cmd_upload(args: argparse.Namespace) -> int:
    if args.from_firmware:
        return cli_firmware.cmd_upload_firmware(args)
    table, _ = _load(args.files)
    mismatches = None
    with _hypervisor(args, table) as hv:
        if args.verify:
            from .verify import verified_upload

            result, mismatches = verified_upload(hv, table, args.acpi_id, args.platform)
        else:
            result = hv.upload_table(table, only_acpi_ids=args.acpi_id)
    if args.json:
        report = {"dry_run": args.dry_run, "ok": result.ok and not mismatches,
                  "warnings": result.warnings, "results": [r.to_json() for r in result.results],
                  "verify": None if mismatches is None else
                  {"ok": not mismatches, "mismatches": [m.to_json() for m in mismatches]}}
        print(json.dumps(report, indent=2))
    else:
        _print_result(result, sys.stdout, args.dry_run)
        if mismatches == []:
            print("verify: Xen holds everything that was sent")
    for r in result.failed:
        print(f"pyxenplatform: error: {r.error}", file=sys.stderr)
    if args.dry_run and any(r.kind == "px" and r.errno == errno.ENODEV for r in result.failed):
        print("pyxenplatform: note: the simulated CPU (--platform "
              f"{args.platform or default_spec()}) has neither EIST nor hardware P-states, so "
              "Xen would have no cpufreq driver; --platform permissive (or host,eist=1) "
              "predicts for a CPU that has them", file=sys.stderr)
    for m in mismatches or ():
        print(f"pyxenplatform: verify: {m}", file=sys.stderr)
    return EXIT_OK if result.ok and not mismatches else EXIT_REFUSED


def _print_result(result: TableResult, out: TextIO, dry_run: bool) -> None:
    for w in result.warnings:
        log.info("%s", w)
    xen = "simulated Xen" if dry_run else "Xen"
    for r in result.results:
        status = "ok" if r.ok else f"refused ({r.error})"
        line = f"ACPI id {r.acpi_id}: {r.kind} {_describe(r.sent)} -> {status}"
        if r.kept is not None:
            line += f"; {xen} holds " + " ".join(f"C{t}" for t in r.kept)
        if r.dropped:
            line += "; dropped: " + "; ".join(r.dropped)
        if r.pdc_out is not None:
            line += f"; capabilities now {r.pdc_out:#x}"
        print(line, file=out)


def _describe(sent: dict[str, object]) -> str:
    return " ".join(f"{k}={v}" for k, v in sent.items() if k != "type")


def cmd_show(args: argparse.Namespace) -> int:
    table, _ = _load([args.file])
    cpus = _simulated_cpus(table, args.sim_cpus)
    warnings: list[str] = []
    sim = _simulated_xen(args, cpus)
    for acpi_id, kind, proc in plan_uploads(table, cpus, warnings):
        if kind == "cx" and proc.cx is not None:
            op = build_cx(sim, acpi_id, proc.cx)
        elif kind == "px" and proc.px is not None:
            op = build_px(sim, acpi_id, proc.px)
        elif kind == "cppc" and proc.cppc is not None:
            op = build_cppc(sim, acpi_id, proc.cppc)
        elif proc.pdc is not None:
            op, _ = build_pdc(sim, acpi_id, proc.pdc)
        print(f"# ACPI id {acpi_id}: {kind}")
        for line in describe_op(op):
            print(line)
        if args.hex:
            print(hexdump(sim.arena.contents(), sim.arena.base_address))
        print()
    return EXIT_OK


def describe_op(op: abi.xen_platform_op) -> list[str]:
    """Every field Xen reads for a set_pminfo op, arrays followed through their handles."""
    info = op.u.set_pminfo
    lines = [f"cmd = {op.cmd} (XENPF_set_processor_pminfo)",
             f"interface_version = {op.interface_version:#x}",
             f"u.set_pminfo.id = {info.id}", f"u.set_pminfo.type = {info.type}"]
    if info.type == abi.XEN_PM_CX:
        power = info.u.power
        lines += _fields("u.set_pminfo.u.power", power)
        for i, st in enumerate(copy_from_guest(abi.xen_processor_cx, power.states.p,
                                               power.count)):
            lines += _fields(f"states[{i}]", st)
    elif info.type == abi.XEN_PM_PX:
        perf = info.u.perf
        lines += _fields("u.set_pminfo.u.perf", perf)
        if perf.flags & abi.XEN_PX_PSS:
            for i, px in enumerate(copy_from_guest(abi.xen_processor_px, perf.states.p,
                                                   perf.state_count)):
                lines += _fields(f"states[{i}]", px)
    elif info.type == abi.XEN_PM_CPPC:
        lines += _fields("u.set_pminfo.u.cppc_data", info.u.cppc_data)
    elif info.type == abi.XEN_PM_PDC:
        head = (ctypes.c_uint32 * 2).from_address(info.u.pdc.p)
        words = (ctypes.c_uint32 * (2 + head[1])).from_address(info.u.pdc.p)
        lines += [f"u.set_pminfo.u.pdc.p -> [{', '.join(hex(w) for w in words)}]"]
    return lines


def _fields(prefix: str, obj: ctypes.Structure | ctypes.Union) -> list[str]:
    lines = []
    for name, *_ in obj._fields_:
        value = getattr(obj, name)
        if isinstance(value, (ctypes.Structure, ctypes.Union)):
            lines += _fields(f"{prefix}.{name}", value)
        elif isinstance(value, ctypes.Array):  # cppc_data.pad
            lines.append(f"{prefix}.{name} = {list(value)}")
        else:
            lines.append(f"{prefix}.{name} = {value:#x}" if isinstance(value, int)
                         else f"{prefix}.{name} = {value!r}")
    return lines


def hexdump(data: bytes, base: int) -> str:
    """16 bytes a line, with offsets from the op (addresses shown in the header)."""
    rows = [f"  arena at {base:#x}, {len(data)} bytes:"]
    for off in range(0, len(data), 16):
        chunk = data[off:off + 16]
        rows.append(f"  {off:04x}  {chunk.hex(' ')}")
    return "\n".join(rows)


def cmd_status(args: argparse.Namespace) -> int:
    from .cli_status import cmd_status as run  # a command imports only what it uses

    return run(args)


COMMANDS = {"cpus": cmd_cpus, "check": cmd_check, "upload": cmd_upload, "show": cmd_show,
            "install-service": cli_firmware.cmd_install_service, "status": cmd_status,
            "firmware": cli_firmware_table.run}


if __name__ == "__main__":
    sys.exit(main())
