"""``upload --from-firmware`` and ``install-service``: the command-line side of issue 9.

Kept apart from :mod:`pyxenplatform.cli` so that the parser stays cheap: the AML reader, the
conversion and the simulated Xen are imported only when a firmware upload runs.
"""

from __future__ import annotations

import argparse
import logging
import struct
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .fwupload import CpuUpload, FirmwareUploadResult
    from .hypercalls import PhysicalCpu
    from .hypervisor import Hypervisor, UploadResult
    from .status import CpuStatus

log = logging.getLogger("pyxenplatform")


def _word(text: str) -> int:
    try:
        value = int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a number, e.g. 0xbbf") from None
    if not 0 <= value <= 0xFFFFFFFF:
        raise argparse.ArgumentTypeError(f"{text!r}: a _PDC capability word is 32 bits")
    return value


def add_upload_options(upload: argparse.ArgumentParser) -> None:
    """``upload``'s options for the firmware's own tables."""
    group = upload.add_argument_group(
        "from firmware", "Read the firmware's processor objects instead of FILEs: _PDC handshake "
        "with Xen, then each physical CPU's own _CST/_PSS/_PCT/_PSD/_PPC, matched by ACPI id.")
    group.add_argument("--from-firmware", action="store_true",
                       help="upload the firmware's own power objects (no FILE)")
    group.add_argument("--tables", metavar="PATH",
                       help="ACPI tables: a folder (acpixtract output, *.aml) or an acpidump "
                       "file (default: this machine's /sys/firmware/acpi/tables)")
    group.add_argument("--pdc", type=_word, metavar="N",
                       help="the _PDC/_OSC capability word firmware sees, instead of Xen's "
                       "answer to Linux's word (then no handshake is sent)")
    try:
        group.add_argument("--verify", action="store_true",
                           help="read back what Xen holds and fail if it is less than was sent")
    except argparse.ArgumentError:
        pass  # upload has --verify already (read-back, issue 10): the same flag serves both


def add_install_service(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    service = sub.add_parser(
        "install-service", help="install the systemd unit that uploads at boot",
        description="Write pyxenplatform.service (upload --from-firmware --verify, once at "
        "boot, before xendomains) to ROOT/etc/systemd/system, with this interpreter.")
    service.add_argument("--root", default="/", metavar="ROOT",
                         help="install under this root (default /; for images and packaging)")
    service.add_argument("--print", action="store_true", dest="print_only",
                         help="print the unit instead of writing it")
    service.set_defaults(run=cmd_install_service)


def cmd_install_service(args: argparse.Namespace) -> int:
    from .service import install_service, unit_text

    if args.print_only:
        print(unit_text(), end="")
        return 0
    path = install_service(args.root)
    print(f"wrote {path}\nenable it with: systemctl daemon-reload && "
          "systemctl enable pyxenplatform.service")
    return 0


def cmd_upload_firmware(args: argparse.Namespace) -> int:
    """``upload --from-firmware``: exit 0 ok, 1 Xen refused (or holds less), 2 bad tables."""
    from .errors import ValidationError
    from .fwupload import kernel_uploader_warning
    from .hypervisor import Hypervisor

    if args.files:
        raise ValidationError("", "give table FILEs or --from-firmware, not both")
    if args.dry_run:
        from .sim import SimulatedXen

        hv = Hypervisor(SimulatedXen(args.sim_cpus or simulated_cpus(args.tables)))
    else:
        from .transport import Privcmd

        hv = Hypervisor(Privcmd(args.privcmd))
    with hv:
        # What Xen held before tells an ignored upload from a trimmed one (verify.py).
        before = hv.status() if args.verify else None
        result = hv.upload_firmware(args.tables, pdc=args.pdc, only_acpi_ids=args.acpi_id)
        kernel = None if args.dry_run else kernel_uploader_warning()
        if kernel is not None:
            result.warnings.append(kernel)
        mismatches = _verify(hv, result.results, before) if args.verify else []
    code = 0 if result.ok and not mismatches else 1
    if args.json:
        _emit_json(result, mismatches, code, args.dry_run)
    else:
        _print_text(result, args.dry_run)
    for line in mismatches:
        print(f"pyxenplatform: error: {line}", file=sys.stderr)
    for r in result.failed:
        print(f"pyxenplatform: error: {r.error}", file=sys.stderr)
    return code


def _verify(hv: Hypervisor, results: list[UploadResult],
            before: list[CpuStatus] | None) -> list[str]:
    """Read back what Xen holds and compare with what was sent (issue 10's verifier)."""
    from .verify import verify_uploads

    return [str(mismatch) for mismatch in verify_uploads(hv, results, before)]


def simulated_cpus(tables: str | None) -> list[PhysicalCpu]:
    """The CPUs a dry run simulates: the enabled processors of the tables' MADT.

    Without a MADT (an acpidump file, or none beside the tables), ACPI ids 0 and 1.
    """
    from .hypercalls import PhysicalCpu

    madt = _find_madt(Path(tables) if tables else Path("/sys/firmware/acpi/tables"))
    cpus = madt_cpus(madt) if madt is not None else []
    return cpus or [PhysicalCpu(0, 0, 0, True), PhysicalCpu(1, 1, 1, True)]


def _find_madt(folder: Path) -> bytes | None:
    if not folder.is_dir():
        return None
    names = sorted(p for p in folder.iterdir()
                   if p.name.lower() in ("apic", "apic.dat", "apic1.dat", "apic.aml"))
    for path in names:
        data = path.read_bytes()
        if data[:4] == b"APIC":
            return data
    return None


def madt_cpus(data: bytes) -> list[PhysicalCpu]:
    """The enabled processors of a MADT, numbered in table order as Xen numbers them.

    Processor Local APIC entries (type 0: ACPI processor id, APIC id, flags bit 0 enabled) and
    Local x2APIC entries (type 9: x2APIC id, flags, ACPI processor UID): ACPI 6.5 sections
    5.2.12.2 and 5.2.12.12; Xen ``acpi_parse_lapic``/``acpi_parse_x2apic`` (arch/x86/acpi/boot.c).
    The walk is bounded by the table's length and stops at a malformed entry.
    """
    from .hypercalls import PhysicalCpu

    cpus: list[PhysicalCpu] = []
    offset = 44  # header (36), local APIC address (4), flags (4)
    while offset + 2 <= len(data):
        kind, length = data[offset], data[offset + 1]
        if length < 2 or offset + length > len(data):
            break
        if kind == 0 and length >= 8 and data[offset + 4] & 1:
            cpus.append(PhysicalCpu(len(cpus), data[offset + 2], data[offset + 3], True))
        elif kind == 9 and length >= 16 and data[offset + 8] & 1:
            apic_id, _flags, uid = struct.unpack_from("<III", data, offset + 4)
            cpus.append(PhysicalCpu(len(cpus), uid, apic_id, True))
        offset += length
    return cpus


def _print_text(result: FirmwareUploadResult, dry_run: bool) -> None:
    xen = "simulated Xen" if dry_run else "Xen"
    if result.handshake is not None:
        print(f"_PDC handshake: sent Linux's capability word {result.handshake:#x} to {xen}")
    for cpu in result.cpus:
        print(_cpu_line(cpu, xen))
        for line in _cpu_details(cpu):
            print(f"    {line}")
    for cpu in result.firmware_without_cpu:
        status = f", _STA {cpu.status:#x}" if cpu.status is not None else ""
        print(f"firmware processor {cpu.firmware} (ACPI id {cpu.acpi_id}{status}) matches no "
              f"physical CPU of {xen}: nothing sent")
    for pcpu in result.cpus_without_firmware:
        print(f"physical CPU {pcpu.xen_cpuid} (ACPI id {pcpu.acpi_id}): the firmware has no "
              "power objects for it: nothing sent")
    for warning in result.warnings:
        log.warning("%s", warning)


def _cpu_line(cpu: CpuUpload, xen: str) -> str:
    parts = [_result_text(r, xen) for r in cpu.results]
    where = cpu.firmware or "no firmware processor"
    return f"ACPI id {cpu.acpi_id} (Xen CPU {cpu.xen_cpuid}, {where}): " + "; ".join(parts)


def _result_text(r: UploadResult, xen: str) -> str:
    import errno

    if r.kind == "pdc":
        answer = f"{r.pdc_out:#x}" if r.pdc_out is not None else "no answer"
        return f"_PDC -> {xen} lets firmware see {answer}"
    states = r.sent.get("states")  # Cx: ("C1", "C2"); Px: how many
    what = " ".join(map(str, states)) if isinstance(states, (list, tuple)) else f"{states} P-states"
    if r.kind == "px" and r.errno == errno.ENODEV:
        return f"Px {what} -> ENODEV: {xen} has no cpufreq driver for this CPU (not fatal)"
    if not r.ok:
        return f"{r.kind.capitalize()} {what} -> refused ({errno.errorcode.get(r.errno, r.errno)})"
    held = f", {xen} holds " + " ".join(f"C{t}" for t in r.kept) if r.kept is not None else ""
    dropped = f", dropped: {'; '.join(r.dropped)}" if r.dropped else ""
    return f"{r.kind.capitalize()} {what} -> ok{held}{dropped}"


def _cpu_details(cpu: CpuUpload) -> list[str]:
    lines = []
    if cpu.capabilities is not None:
        lines.append(f"firmware evaluated with capability word {cpu.capabilities:#x}")
    lines += [f"{s.name}: from {s.source}" + (f" ({'; '.join(s.regions)})" if s.regions else "")
              for s in cpu.sources]
    lines += [f"conversion: {d}" for d in cpu.dropped]
    return lines


def _emit_json(result: FirmwareUploadResult, mismatches: list[str], code: int,
               dry_run: bool) -> None:
    """The contract's one document (report.py), with this command's own keys."""
    from . import report

    body = result.to_json()
    del body["ok"]  # the envelope's "ok" says it for the whole run
    warnings = [report.Notice(str(w)) for w in result.warnings]
    del body["warnings"]
    error = None
    if code and result.failed:  # the first refusal, as upload's document does
        first = result.failed[0]
        error = report.error_object("HypercallError", str(first.error), errno=first.errno,
                                    acpi_id=first.acpi_id)
    elif code:
        error = report.error_object("VerifyMismatch", mismatches[0] if mismatches else "failed")
    report.emit(report.document("upload", exit_code=code, simulated=dry_run, warnings=warnings,
                                error=error, from_firmware=True, verify=mismatches, **body))
