"""From the firmware to Xen: every physical CPU gets its own power objects (facade layer).

What Linux's ``xen-acpi-processor`` does in the dom0 kernel, done from user space:

1. the ``_PDC`` handshake, per physical CPU: send Linux's capability DWORD with ``XEN_PM_PDC``
   and take the word Xen lets firmware see (Linux ``arch_acpi_set_proc_cap_bits`` ->
   ``xen_sanitize_proc_cap_bits``; Xen ``acpi_set_pdc_bits``, which answers per CPU);
2. the firmware's processor objects, evaluated with that word (:func:`pyxenplatform.acpi.read_firmware`
   runs ``_PDC``/``_OSC``, then reads ``_CST``, ``_PSS``...), converted by :mod:`pyxenplatform.firmware`;
3. firmware processors matched to Xen's physical CPUs by ACPI id (``XENPF_get_cpuinfo``), never by
   dom0's vCPUs, and each CPU's own Cx and Px uploaded, Xen CPU 0's ACPI id first.

This module knows nothing of AML: it gets converted :class:`~pyxenplatform.model.PowerTable`
entries and the provenance of each object (which operation regions its evaluation read).
"""

from __future__ import annotations

import errno
import os
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from . import abi
from .hypercalls import PhysicalCpu
from .model import Pdc, PowerTable, ProcessorPower

if TYPE_CHECKING:
    from .acpi import FirmwareProcessor, FirmwareReport, RegionRead
    from .acpi.tables import Table
    from .hypervisor import Hypervisor, UploadResult

# Linux include/acpi/proc_cap_intel.h ACPI_PROC_CAP_COLLAB_PROC_PERF (not in Xen's pdc_intel.h,
# so not in abi): the CPU has HWP.
PROC_CAP_COLLAB_PROC_PERF = 0x1000
# The CPU --dry-run assumes: Intel with EIST, ACPI throttling and MWAIT -> Linux's classic 0xbbf.
SIMULATED_CPU_FLAGS = frozenset({"est", "acpi", "monitor"})
KERNEL_UPLOADER = "xen_acpi_processor"


def linux_capabilities(cpu_flags: Collection[str]) -> int:
    """The ``_PDC``/``_OSC`` capability DWORD Linux builds before asking Xen.

    Linux ``arch/x86/include/asm/acpi.h`` ``arch_acpi_set_proc_cap_bits`` on the boot CPU's
    features (``/proc/cpuinfo`` flags: ``est``, ``acpi``, ``hwp``, ``monitor`` = MWAIT); under
    Xen it then calls ``xen_sanitize_proc_cap_bits`` (``drivers/xen/pcpu.c``), our handshake.
    """
    cap = abi.ACPI_PDC_C_CAPABILITY_SMP | abi.ACPI_PDC_SMP_T_SWCOORD
    if "est" in cpu_flags:
        cap |= abi.ACPI_PDC_EST_CAPABILITY_SWSMP
    if "acpi" in cpu_flags:
        cap |= abi.ACPI_PDC_T_FFH
    if "hwp" in cpu_flags:
        cap |= PROC_CAP_COLLAB_PROC_PERF
    if "monitor" not in cpu_flags:
        cap &= ~(abi.ACPI_PDC_C_C1_FFH | abi.ACPI_PDC_C_C2C3_FFH)
    return cap


def dom0_cpu_flags(cpuinfo: str | os.PathLike[str] = "/proc/cpuinfo") -> frozenset[str]:
    """The first ``flags`` line of ``/proc/cpuinfo`` (dom0's boot vCPU, as Linux's ``cpu_data(0)``)."""
    with open(cpuinfo, encoding="ascii", errors="replace") as lines:
        for line in lines:
            name, _, value = line.partition(":")
            if name.strip() == "flags":
                return frozenset(value.split())
    return frozenset()


def kernel_uploader_warning(sysfs: str | os.PathLike[str] = "/sys") -> str | None:
    """A warning if dom0's kernel has ``xen-acpi-processor`` loaded, else None.

    Linux ``drivers/xen/xen-acpi-processor.c`` uploads the same objects when it loads, on CPU
    hotplug and on resume; both may upload, and Xen keeps whatever came last.
    """
    if not (Path(sysfs) / "module" / KERNEL_UPLOADER).is_dir():
        return None
    return (f"the dom0 kernel's {KERNEL_UPLOADER} module is loaded: it uploads these objects "
            "too (at load, CPU hotplug and resume); Xen keeps the later upload")


@dataclass(frozen=True)
class ObjectSource:
    """Where one firmware object's values came from.

    ``source``: ``"constants"`` (no operation region read: the values are in the tables),
    ``"memory"`` (read from machine memory), ``"zeros"`` (regions read as zeros: tables from
    files, or I/O ports, which are never touched), ``"unreadable"`` (``/dev/mem`` refused: zeros).
    """

    name: str
    source: str
    regions: tuple[str, ...] = ()

    def to_json(self) -> dict[str, object]:
        return {"from": self.source, "regions": list(self.regions)}


@dataclass
class CpuUpload:
    """One physical CPU (or one firmware processor without a CPU): what was sent, from where."""

    acpi_id: int
    xen_cpuid: int | None
    firmware: str | None  # namespace path of the firmware processor
    status: int | None = None  # its _STA
    capabilities: int | None = None  # the word firmware saw in _PDC/_OSC
    results: list[UploadResult] = field(default_factory=list)
    sources: list[ObjectSource] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {
            "acpi_id": self.acpi_id, "xen_cpuid": self.xen_cpuid, "firmware": self.firmware,
            "status": self.status, "capabilities": self.capabilities,
            "uploads": {r.kind: r.to_json() for r in self.results},
            "sources": {s.name: s.to_json() for s in self.sources},
            "conversion": self.dropped,  # what the conversion dropped or changed, and why
        }


@dataclass
class FirmwareUploadResult:
    """The outcome of :func:`upload_firmware`, per physical CPU in upload order."""

    cpus: list[CpuUpload] = field(default_factory=list)
    firmware_without_cpu: list[CpuUpload] = field(default_factory=list)
    cpus_without_firmware: list[PhysicalCpu] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    handshake: int | None = None  # the word sent to Xen (None: --pdc given, no handshake)

    @property
    def results(self) -> list[UploadResult]:
        return [r for cpu in self.cpus for r in cpu.results]

    @property
    def failed(self) -> list[UploadResult]:
        """Refusals that count: Px ENODEV (Xen has no cpufreq driver here) is only a warning."""
        return [r for r in self.results if not r.ok and not _no_cpufreq(r)]

    @property
    def ok(self) -> bool:
        return not self.failed

    def to_json(self) -> dict[str, object]:
        return {
            "ok": self.ok, "handshake": self.handshake,
            "cpus": [c.to_json() for c in self.cpus],
            "firmware_without_cpu": [c.to_json() for c in self.firmware_without_cpu],
            "cpus_without_firmware": [{"xen_cpuid": c.xen_cpuid, "acpi_id": c.acpi_id}
                                      for c in self.cpus_without_firmware],
            "warnings": self.warnings,
            "results": [r.to_json() for r in self.results],
        }


def _no_cpufreq(result: UploadResult) -> bool:
    return result.kind == "px" and result.errno == errno.ENODEV


def object_sources(reads: Mapping[str, Sequence[RegionRead]]) -> list[ObjectSource]:
    """Per object, where its values came from (``FirmwareProcessor.reads``)."""
    sources = []
    for name, regions in reads.items():
        kinds = {r.source for r in regions}
        # The least trustworthy origin names the object: unreadable > zeros > memory.
        source = next((k for k in ("unreadable", "zeros", "memory") if k in kinds), "constants")
        described = tuple(f"{r.region} (space {r.space}) at {r.address:#x}+{r.length}: {r.source}"
                          for r in regions)
        sources.append(ObjectSource(name, source, described))
    return sources


def upload_firmware(
    hv: Hypervisor,
    tables: str | os.PathLike[str] | None = None,
    *,
    pdc: int | None = None,
    only_acpi_ids: Iterable[int] | None = None,
    cpu_flags: Collection[str] | None = None,
) -> FirmwareUploadResult:
    """Read the firmware's power objects and upload each physical CPU's own to Xen.

    ``tables``: a folder, an acpidump file, or None for the running machine. ``pdc``: the word
    firmware sees, instead of Xen's answer to the handshake (then no ``XEN_PM_PDC`` is sent).
    ``cpu_flags``: dom0's CPU flags for Linux's word (default ``/proc/cpuinfo``; for a simulated
    Xen, :data:`SIMULATED_CPU_FLAGS`). Bad tables raise
    :class:`~pyxenplatform.errors.FirmwareError` before anything is sent; invalid converted data
    raises :class:`~pyxenplatform.errors.ValidationError` before any Cx/Px upload.
    """
    from .acpi.tables import load_tables

    loaded = load_tables(tables)  # bad or missing tables: fail before the handshake sends anything
    cpus = sorted(hv.physical_cpus(), key=lambda c: c.xen_cpuid)
    wanted = set(only_acpi_ids) if only_acpi_ids is not None else {c.acpi_id for c in cpus}
    result = FirmwareUploadResult()
    per_cpu = {c.acpi_id: CpuUpload(c.acpi_id, c.xen_cpuid, None) for c in cpus
               if c.acpi_id in wanted}
    answers = _handshake(hv, result, per_cpu, pdc, cpu_flags)
    processors = _read_firmware(loaded, tables is None, answers, result)
    table = _match(processors, cpus, per_cpu, result, wanted)
    if table.processors:
        uploaded = hv.upload_table(table, only_acpi_ids=wanted)
        result.warnings += uploaded.warnings
        for r in uploaded.results:
            per_cpu[r.acpi_id].results.append(r)
    else:
        result.warnings.append("the firmware has no usable power objects for any physical CPU: "
                               "no C-states or P-states were sent")
    result.cpus = [per_cpu[c.acpi_id] for c in cpus if c.acpi_id in per_cpu]
    result.warnings += _unreadable_warning(result.cpus + result.firmware_without_cpu)
    return result


def _handshake(hv: Hypervisor, result: FirmwareUploadResult, per_cpu: dict[int, CpuUpload],
               pdc: int | None, cpu_flags: Collection[str] | None) -> dict[int, int]:
    """Per ACPI id, the capability word firmware will see (``-1``: the boot CPU's, for the rest)."""
    if pdc is not None:
        return {-1: pdc}
    if cpu_flags is None:
        from .sim import SimulatedXen  # a simulated Xen stands for a machine, not this one

        simulated = isinstance(hv.transport, SimulatedXen)
        cpu_flags = SIMULATED_CPU_FLAGS if simulated else dom0_cpu_flags()
    word = linux_capabilities(cpu_flags)
    result.handshake = word
    answers: dict[int, int] = {}
    for acpi_id, cpu in per_cpu.items():
        answer = hv.upload_pdc(acpi_id, Pdc((word,)))
        cpu.results.append(answer)
        if answer.ok and answer.pdc_out is not None:
            answers[acpi_id] = answer.pdc_out
        else:
            result.warnings.append(f"ACPI id {acpi_id}: Xen did not answer the _PDC handshake "
                                   f"({answer.error}); its firmware sees Linux's word {word:#x}")
            answers[acpi_id] = word
    # Firmware processors of no wanted CPU are still evaluated: with Xen CPU 0's answer.
    answers[-1] = next(iter(answers.values()), word)
    return answers


def _read_firmware(tables: Sequence[Table], from_machine: bool, answers: Mapping[int, int],
                   result: FirmwareUploadResult) -> list[tuple[FirmwareProcessor, int]]:
    """Each firmware processor as evaluated with its own CPU's word (one pass per distinct word).

    Firmware memory is this machine's (``/dev/mem``, read-only) only for its own tables.
    """
    from .acpi.processors import evaluate_tables
    from .acpi.regions import DevMem, ZeroMemory

    pairs = [(t.source, t.data) for t in tables]
    reports: dict[int, FirmwareReport] = {}
    for word in sorted(set(answers.values())):  # at most one per physical CPU; in practice one
        backend = DevMem() if from_machine else ZeroMemory()
        try:
            reports[word] = evaluate_tables(pairs, pdc=word, backend=backend)
        finally:
            if isinstance(backend, DevMem):
                backend.close()
        result.warnings += [w for w in reports[word].warnings if w not in result.warnings]
    default = answers[-1]
    chosen = []
    for proc in reports[default].processors:
        word = answers.get(proc.acpi_id, default)
        own = next((p for p in reports[word].processors if p.path == proc.path), proc)
        chosen.append((own, word))
    return chosen


def _match(processors: list[tuple[FirmwareProcessor, int]], cpus: list[PhysicalCpu],
           per_cpu: dict[int, CpuUpload], result: FirmwareUploadResult,
           wanted: set[int]) -> PowerTable:
    """Firmware processors to physical CPUs by ACPI id; the PowerTable of the matched ones."""
    from .firmware import convert_processors

    # Xen's CPU list says which processors exist. _STA is reported, not obeyed: firmware often
    # computes it from I/O ports, which the reader never touches (they read as zeros), as QEMU's
    # own processors do; with status None the conversion keeps every processor.
    converted = convert_processors([replace(p, status=None) for p, _ in processors])
    by_path = {entry.description: entry for entry in converted.processors}
    dropped: dict[str, list[str]] = {}
    for warning in converted.warnings:
        dropped.setdefault(warning.path, []).append(str(warning))
    present = {c.acpi_id for c in cpus}
    entries: list[ProcessorPower] = []
    for proc, word in processors:
        cpu = per_cpu.get(proc.acpi_id)
        if cpu is None and proc.acpi_id in present:
            continue  # --acpi-id left this CPU out
        if cpu is None:
            cpu = CpuUpload(proc.acpi_id, None, None)
            result.firmware_without_cpu.append(cpu)
        elif cpu.firmware is not None:  # a second processor with this ACPI id: not converted
            result.warnings += dropped.get(proc.path, [])
            continue
        cpu.firmware, cpu.status, cpu.capabilities = proc.path, proc.status, word
        cpu.sources = object_sources(proc.reads)
        cpu.dropped = dropped.get(proc.path, [])
        entry = by_path.get(proc.path)
        if cpu.xen_cpuid is not None and entry is not None:
            entries.append(entry)
    with_data = {e.acpi_ids[0] for e in entries if e.acpi_ids != "all"}
    result.cpus_without_firmware = [c for c in cpus if c.acpi_id in wanted
                                    and c.acpi_id not in with_data]
    return PowerTable(tuple(entries))


def _unreadable_warning(cpus: list[CpuUpload]) -> list[str]:
    affected = [f"ACPI id {c.acpi_id} {s.name}" for c in cpus for s in c.sources
                if s.source == "unreadable"]
    if not affected:
        return []
    return ["/dev/mem could not be read (kernel lockdown or STRICT_DEVMEM): these values were "
            "computed from zeros instead of machine memory: " + ", ".join(affected)]
