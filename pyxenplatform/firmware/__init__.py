"""The firmware's processor objects -> this package's power model.

The one module that turns evaluated ACPI values (:mod:`pyxenplatform.acpi`)
into :class:`~pyxenplatform.model.ProcessorPower`, converted as a Linux dom0
converts them before it uploads them to Xen, so that every table it returns
passes :func:`~pyxenplatform.rules.check_table`.  The rules, with their sources:

- ``_CST``: Linux ``drivers/acpi/acpi_processor.c``
  ``acpi_processor_evaluate_cst`` (v6.9+; ``processor_idle.c``
  ``acpi_processor_get_power_info_cst`` before v5.6), then
  ``processor_idle.c`` ``acpi_processor_power_verify`` (which states are
  valid), then ``drivers/xen/xen-acpi-processor.c``
  ``push_cxx_to_hypervisor`` (the register re-encoding), then Xen
  ``xen/arch/x86/acpi/cpu_idle.c`` ``check_cx``/``set_cx`` (what Xen drops).
- ``_PCT``, ``_PSS``, ``_PPC``, ``_PSD``: Linux
  ``drivers/acpi/processor_perflib.c`` (``acpi_processor_get_performance_control``,
  ``acpi_processor_get_performance_states``, ``acpi_processor_get_platform_limit``,
  ``acpi_processor_get_psd``, ``acpi_processor_preregister_performance``) and
  ``xen-acpi-processor.c`` ``xen_copy_pss_data``/``xen_copy_psd_data``/
  ``xen_copy_pct_data``.

What Linux would skip is dropped here too, each with a
:class:`ConversionWarning` naming the processor, its ACPI id, the object
(``_CST[2]`` is element 2 of the ``_CST`` package, as Linux's ``C%d``
messages count) and why.  Where the CPU decides (MWAIT sub-states, bus-master
rules), the entry is kept: Xen checks that itself, and ``check`` warns.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..model import PowerTable, ProcessorPower
from .cppc import MachineRegisters, RegisterReader, convert_cpc
from .cst import convert_cst
from .perf import convert_px
from ..acpi import FirmwareProcessor, FirmwareReport
from ..errors import AmlError
from .values import ConversionWarning, Notes, integers

__all__ = ["ConversionWarning", "FirmwareTable", "convert_processor",
           "convert_processors", "convert_report",
           "load_firmware"]

log = logging.getLogger(__name__)

# ACPI 6.5, 6.3.7 _STA bit 0: the device is present.
STA_PRESENT = 0x1


@dataclass(frozen=True, eq=False)
class FirmwareTable(PowerTable):
    """A :class:`PowerTable` read from firmware, with what was dropped on the way.

    It is a ``PowerTable``: ``check``, ``upload`` and ``Hypervisor.upload_table``
    take it as it is, and it equals a ``PowerTable`` with the same entries
    (a file written from it and loaded back).  ``notes`` are the AML reader's
    own messages.
    """

    warnings: tuple[ConversionWarning, ...] = ()
    notes: tuple[str, ...] = ()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, PowerTable):
            return self.processors == other.processors
        return NotImplemented

    __hash__ = PowerTable.__hash__



# ----------------------------------------------------------------- processors

# Objects read but not sent, and why (Linux's xen-acpi-processor sends neither).
_NOT_SENT = {
    "_CSD": "not sent: Linux's xen-acpi-processor sends no C-state dependencies (dpcnt 0), "
            "and Xen ignores them",
    "_LPI": "not used: on x86, Linux and Xen take C-states from _CST",
}


def convert_processor(proc: FirmwareProcessor, *, fallback_domain: int | None = None,
                      registers: RegisterReader | None = None,
                      ) -> tuple[ProcessorPower | None, list[ConversionWarning]]:
    """One firmware processor -> its own :class:`ProcessorPower` (or None) and warnings.

    ``fallback_domain``: the ``_PSD`` domain for a processor with no valid
    ``_PSD`` (default: its ACPI id; :func:`convert_processors` picks one no
    firmware ``_PSD`` uses).  ``registers`` reads ``_CPC`` registers on the
    running machine (:class:`~pyxenplatform.firmware.cppc.MachineRegisters`);
    None for tables from files.
    """
    note = Notes(proc)
    objects = proc.objects
    for name, value in objects.items():
        if isinstance(value, AmlError):
            note(name, f"evaluation failed: {value}")
    usable = {k: v for k, v in objects.items() if not isinstance(v, AmlError)}
    cx = convert_cst(usable["_CST"], note) if "_CST" in usable else None
    domain = proc.acpi_id if fallback_domain is None else fallback_domain
    px = convert_px(usable, domain, note)
    cppc = convert_cpc(usable, domain, note, registers) if "_CPC" in usable else None
    for name, reason in _NOT_SENT.items():
        if name in usable:
            note(name, reason)
    if cx is None and px is None and cppc is None:
        note("processor", "no usable C-states or P-states (nor CPPC): left out of the table")
        return None, note.items
    return ProcessorPower((proc.acpi_id,), cx=cx, px=px, cppc=cppc,
                          description=proc.path), note.items


def _psd_domain(proc: FirmwareProcessor) -> int | None:
    value = proc.objects.get("_PSD")
    if isinstance(value, tuple) and len(value) == 1:
        fields = integers(value[0], 5)
        return fields[2] if fields else None
    return None


def convert_processors(processors: Iterable[FirmwareProcessor], *, description: str = "",
                       notes: Sequence[str] = (),
                       registers: RegisterReader | None = None) -> FirmwareTable:
    """Every processor -> a :class:`FirmwareTable`, one entry per ACPI id.

    Processors whose ``_STA`` says "not present" are left out (Linux binds no
    processor driver to them), as is a second processor with an ACPI id
    already seen (Linux's xen-acpi-processor uploads each ACPI id once).
    """
    present: dict[int, FirmwareProcessor] = {}
    warnings: list[ConversionWarning] = []
    for proc in processors:
        if proc.status is not None and not proc.status & STA_PRESENT:
            warnings.append(ConversionWarning(proc.path, proc.acpi_id, "_STA",
                            f"{proc.status:#x}: not present, left out"))
        elif proc.acpi_id in present:
            warnings.append(ConversionWarning(proc.path, proc.acpi_id, "processor",
                            f"ACPI id already used by {present[proc.acpi_id].path}: "
                            "left out (each ACPI id is uploaded once)"))
        else:
            present[proc.acpi_id] = proc
    # One-CPU domains for processors without a valid _PSD get numbers no
    # firmware _PSD uses: Xen groups CPUs by domain number (cpufreq_add_cpu).
    used = {d for d in map(_psd_domain, present.values()) if d is not None}
    base = max(used) + 1 if used else 0
    entries = []
    for proc in present.values():
        entry, found = convert_processor(proc, fallback_domain=base + proc.acpi_id,
                                         registers=registers)
        warnings += found
        if entry is not None:
            entries.append(entry)
    for w in warnings:
        log.debug("%s", w)
    return FirmwareTable(tuple(entries), description, tuple(warnings), tuple(notes))


def convert_report(report: FirmwareReport, *, description: str = "",
                   registers: RegisterReader | None = None) -> FirmwareTable:
    """A ``read_firmware`` report -> :class:`FirmwareTable` (its warnings become ``.notes``)."""
    return convert_processors(report.processors, description=description,
                              notes=tuple(str(w) for w in report.warnings),
                              registers=registers)


def load_firmware(path: str | os.PathLike[str] | None = None, *,
                  pdc: int = 0xBBF) -> FirmwareTable:
    """The power table of a machine's firmware (``path`` None: this machine).

    ``path`` is a folder of ``acpixtract`` files or an ``acpidump`` text file.
    ``_PDC``/``_OSC`` is evaluated with capability DWORD ``pdc`` first.  What
    could not be converted is in ``.warnings`` (and logged at DEBUG).
    Raises :class:`~pyxenplatform.errors.TableError` for unreadable tables.
    """
    from ..acpi import read_firmware  # here: the reader's modules load only when used

    where = "this machine" if path is None else os.fspath(path)
    # _CPC registers are this machine's only when the tables are (never for files).
    registers = MachineRegisters() if path is None else None
    return convert_report(read_firmware(path, pdc=pdc),
                          description=f"firmware of {where}, _PDC {pdc:#x}",
                          registers=registers)
