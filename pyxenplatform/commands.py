"""The core commands (``cpus``, ``check``, ``upload``, ``show``) behind :mod:`pyxenplatform.cli`.

Each ``cmd_*`` takes the parsed arguments and returns the exit code; it
raises the package's errors, which :func:`pyxenplatform.cli.main` turns into
one stderr line (or, with ``--json``, one document: :mod:`pyxenplatform.report`).
"""

from __future__ import annotations

import argparse
import errno
import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from typing import TYPE_CHECKING

from . import output, report, selection
from .errors import ValidationError
from .model import PowerTable
from .report import EXIT_OK, EXIT_REFUSED, EXIT_USAGE, Notice
from .results import plain
from .rules import check_explicit_ids, check_table
from .sources import load_table

if TYPE_CHECKING:  # at run time imported by the commands that talk to a hypervisor:
    # ``check`` imports no transport, simulator or facade (import cost, issue 12)
    from .hypercalls import PhysicalCpu
    from .hypervisor import Hypervisor, TableResult, UploadResult
    from .sim import SimulatedXen

log = logging.getLogger("pyxenplatform")
STRICT_HINT = " (--strict makes this an error)"


@dataclass(frozen=True)
class Loaded:
    """Every file checked and merged: the table, each entry's origin, the warnings."""

    table: PowerTable
    entries: list[selection.Entry]
    warnings: list[Notice]


def load(files: Sequence[str]) -> Loaded:
    """Load and check every file (each on its own, then across files); the
    warnings name their file and key path."""
    tables = [load_table(f) for f in files]
    warnings = []
    for f, t in zip(files, tables):
        try:
            warnings += [report.split_warning(w, f) for w in check_table(t)]
        except ValidationError as exc:
            raise (exc if exc.source else exc.in_source(f)) from None
    entries: list[selection.Entry] = [(f, i, p) for f, t in zip(files, tables)
                                      for i, p in enumerate(t.processors)]
    check_explicit_ids(entries)
    selection.check_all_entries(entries)
    return Loaded(PowerTable(tuple(p for _, _, p in entries)), entries, warnings)


def simulated_cpus(table: PowerTable, cpus: list[PhysicalCpu] | None) -> list[PhysicalCpu]:
    """``--cpus``, else one CPU per ACPI id the table names, else ACPI ids 0 and 1."""
    from .hypercalls import PhysicalCpu

    if cpus:
        return cpus
    ids = sorted({i for p in table.processors if p.acpi_ids != "all" for i in p.acpi_ids})
    ids = ids or [0, 1]
    return [PhysicalCpu(n, acpi_id, n, True) for n, acpi_id in enumerate(ids)]


def hypervisor(args: argparse.Namespace, table: PowerTable | None = None) -> Hypervisor:
    """The simulated Xen for ``--dry-run`` (CPUs from --cpus or the table), else privcmd
    (named with where its path came from)."""
    from .hypervisor import Hypervisor
    from .transport import Privcmd

    if getattr(args, "dry_run", False):
        assert table is not None
        return Hypervisor(simulated_xen(args, simulated_cpus(table, args.sim_cpus)))
    if args.privcmd is not None:
        return Hypervisor(Privcmd(args.privcmd, origin="--privcmd"))
    return Hypervisor(Privcmd())


def simulated_xen(args: argparse.Namespace, cpus: list[PhysicalCpu]) -> SimulatedXen:
    """The simulated Xen of a dry run or ``show``: ``--cpufreq``, ``--xen-version``."""
    from dataclasses import replace

    from . import sim  # the module, so tests can swap sim.SimulatedXen
    from .platforms import default_spec, parse

    platform = replace(parse(args.platform or default_spec()), online_cpus=len(cpus))
    try:
        return sim.SimulatedXen(cpus, platform=platform, cpufreq_driver=platform.eist
                                or platform.hw_pstate, cpufreq=args.cpufreq,
                                xen_version=args.xen_version)
    except ValueError as exc:  # amd-cppc on a Xen before 4.21
        raise ValidationError("--cpufreq", str(exc)) from None


def cmd_cpus(args: argparse.Namespace) -> int:
    with hypervisor(args) as hv:
        cpus = hv.physical_cpus()
    if args.json:
        rows = [{"xen_cpuid": c.xen_cpuid, "acpi_id": c.acpi_id, "apic_id": c.apic_id,
                 "online": c.online} for c in cpus]
        report.emit(report.document("cpus", simulated=False, cpus=rows))
    else:
        print(f"{'xen cpu':>7}  {'acpi id':>7}  {'apic id':>7}  online")
        for c in cpus:
            print(f"{c.xen_cpuid:>7}  {c.acpi_id:>7}  {c.apic_id:>7}  {'yes' if c.online else 'no'}")
    return EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    loaded = load(args.files)
    if args.json:
        report.emit(report.document("check", warnings=loaded.warnings, files=list(args.files)))
        return EXIT_OK
    for w in loaded.warnings:
        log.info("%s", output.quote(w))
    notes = f" ({len(loaded.warnings)} notes; -v shows them)" if loaded.warnings else ""
    print(f"{', '.join(output.quote(f) for f in args.files)}: ok{notes}")
    return EXIT_OK


def cmd_upload(args: argparse.Namespace) -> int:
    if args.from_firmware:
        from . import cli_firmware

        args.acpi_id = selection.wanted_ids(args.acpi_id)  # table-style ids -> a set
        return cli_firmware.cmd_upload_firmware(args)
    loaded = load(args.files)
    simulated = bool(args.dry_run)
    wanted = selection.wanted_ids(args.acpi_id)
    mismatches = None
    with hypervisor(args, loaded.table) as hv:
        misses = _check_reach(hv, loaded, wanted, args.strict)
        if args.verify:
            from .verify import verified_upload

            result, mismatches = verified_upload(hv, loaded.table, wanted, args.platform)
        else:
            result = hv.upload_table(loaded.table, only_acpi_ids=wanted)
    code = EXIT_OK if result.ok and not mismatches else EXIT_REFUSED
    error: ValidationError | dict[str, object] | None = refusal_error(result)
    if error is None and mismatches:
        error = report.error_object("VerifyMismatch", str(mismatches[0]) + (
            f" (and {len(mismatches) - 1} more)" if len(mismatches) > 1 else ""))
    drops = _drop_notices(result, simulated)
    if args.strict and drops and code == EXIT_OK:  # the error says it: not a warning too
        why = drops[0].message.removesuffix(STRICT_HINT)
        code, error, drops = EXIT_USAGE, ValidationError("", f"--strict: {why}"), []
    visible = misses + drops  # warnings shown without -v
    warnings = loaded.warnings + visible + [
        Notice(w) for w in result.warnings if not w.startswith("processors[")]
    if args.json:
        report.emit(report.document(
            "upload", exit_code=code, simulated=simulated, warnings=warnings, error=error,
            results=[result_json(r, simulated) for r in result.results],
            summary=summary_json(result.results),
            verify=None if mismatches is None else
            {"ok": not mismatches, "mismatches": [m.to_json() for m in mismatches]}))
    else:
        for w in warnings:
            log.log(logging.WARNING if w in visible else logging.INFO, "%s", output.quote(w))
        for line in output.result_lines(result, simulated):
            print(line)
        if mismatches == []:
            print("verify: Xen holds everything that was sent")
    for line in [*refusal_lines(result), *([str(error)] if isinstance(error, Exception) else [])]:
        print(f"pyxenplatform: error: {output.quote(line)}", file=sys.stderr)
    if simulated and any(r.kind == "px" and r.errno == errno.ENODEV for r in result.failed):
        log.info("the simulated CPU (--platform %s) has neither EIST nor hardware P-states, so "
                 "Xen would have no cpufreq driver; --platform permissive (or host,eist=1) "
                 "predicts for a CPU that has them", args.platform or "host")
    for m in mismatches or ():
        print(f"pyxenplatform: verify: {output.quote(str(m))}", file=sys.stderr)
    return code


def _check_reach(hv: Hypervisor, loaded: Loaded, wanted: set[int] | None,
                 strict: bool) -> list[Notice]:
    """Before sending: what reaches no CPU (warnings; errors with --strict or when
    nothing at all is left to send)."""
    from .plan import plan_uploads

    cpus = hv.physical_cpus()
    plan = selection.select(plan_uploads(loaded.table, cpus, []), wanted)
    misses = selection.unmatched(loaded.entries, plan, cpus, wanted)
    if not plan:
        raise ValidationError("", "nothing to upload: " + "; ".join(
            str(m) for m in misses or [Notice("the table reaches no CPU")]))
    if strict and misses:
        more = f" (and {len(misses) - 1} more)" if len(misses) > 1 else ""
        raise ValidationError("", f"--strict: {misses[0]}{more}")
    return misses


def _drop_notices(result: TableResult, simulated: bool) -> list[Notice]:
    """C-states Xen keeps silently out of its table (predicted by the simulated Xen)."""
    drops = [r for r in result.results if r.dropped]
    if not drops:
        return []
    return [Notice(f"{xen_name(simulated)} drops C-states for "
                   f"{output.id_ranges([r.acpi_id for r in drops])}: {drops[0].dropped[0]}"
                   + STRICT_HINT)]


def xen_name(simulated: bool) -> str:
    return "the simulated Xen" if simulated else "Xen"


def refusal_lines(result: TableResult) -> list[str]:
    """Each distinct refusal once: the first message of a (kind, errno) group,
    with the other ACPI ids it hit."""
    groups: dict[tuple[str, int], list[UploadResult]] = {}
    for r in result.failed:
        groups.setdefault((r.kind, r.errno), []).append(r)
    lines = []
    for rs in groups.values():
        line = str(rs[0].error)
        if len(rs) > 1:
            line += f" (also {output.id_ranges([r.acpi_id for r in rs[1:]])})"
        lines.append(line)
    return lines


def refusal_error(result: TableResult) -> dict[str, object] | None:
    """The ``error`` object of an upload Xen refused in part: the first refusal."""
    failed = result.failed
    if not failed:
        return None
    lines = refusal_lines(result)
    more = f" (and {len(lines) - 1} other refusals)" if len(lines) > 1 else ""
    first = failed[0]
    return report.error_object("HypercallError", lines[0] + more, errno=first.errno,
                               op=str(first.sent.get("type")), acpi_id=first.acpi_id)


def result_json(r: UploadResult, simulated: bool) -> dict[str, object]:
    """:meth:`UploadResult.to_json` with C-states by name and number and the
    result marked real or simulated."""
    doc = r.to_json()
    doc["simulated"] = simulated
    if r.kept is not None:
        doc["kept"] = [cstate_json(t) for t in r.kept]
    doc["dropped"] = [dropped_json(d) for d in r.dropped]
    states = r.sent.get("states") if r.kind == "cx" else None
    if isinstance(states, (list, tuple)):
        doc["sent"] = {**plain(r.sent), "states": [cstate_json(int(str(s)[1:])) for s in states]}
    return doc


def cstate_json(cstate_type: int) -> dict[str, object]:
    return {"name": f"C{cstate_type}", "type": cstate_type}


def dropped_json(text: str) -> dict[str, object]:
    """``"C2: reason"`` (hypervisor's dropped list) as ``{name, type, reason}``."""
    head, _, reason = text.partition(": ")
    if head[:1] == "C" and head[1:].isdigit():
        return {**cstate_json(int(head[1:])), "reason": reason}
    return {"name": None, "type": None, "reason": text}


def summary_json(results: Sequence[UploadResult]) -> dict[str, object]:
    return {kind: {"sent": t.sent, "ok": t.ok, "refused": t.refused, "kept": t.kept,
                   "dropped": t.dropped} for kind, t in output.tally(results).items()}


def cmd_show(args: argparse.Namespace) -> int:
    from . import show
    from .plan import plan_uploads
    from .marshal import build_cppc, build_cx, build_pdc, build_px

    loaded = load([args.file])
    cpus = simulated_cpus(loaded.table, args.sim_cpus)
    xen = simulated_xen(args, cpus)
    for acpi_id, kind, proc in plan_uploads(loaded.table, cpus, []):
        if kind == "cx" and proc.cx is not None:
            op = build_cx(xen, acpi_id, proc.cx)
        elif kind == "px" and proc.px is not None:
            op = build_px(xen, acpi_id, proc.px)
        elif kind == "cppc" and proc.cppc is not None:
            op = build_cppc(xen, acpi_id, proc.cppc)
        elif proc.pdc is not None:
            op, _ = build_pdc(xen, acpi_id, proc.pdc)
        print(f"# ACPI id {acpi_id}: {kind}")
        for line in show.describe_op(op, raw=args.hex):
            print(line)
        if args.hex:
            print(show.hexdump(xen.arena.contents(), xen.arena.base_address))
        print()
    return EXIT_OK
