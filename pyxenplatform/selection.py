"""Which table entry applies to which CPU, and what applies to none.

Rules across entries (and files given together) that Xen cannot see:
two ``"all"`` entries carrying the same kind would silently replace one
another (:func:`check_all_entries`); an entry, an explicit ACPI id or an
``--acpi-id`` that reaches no present CPU is most likely a mistake
(:func:`unmatched`): a warning, an error with ``--strict``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from .errors import ValidationError
from .model import AcpiIds, ProcessorPower
from .report import Notice

if TYPE_CHECKING:  # rules may import this module: no import of the facade at run time
    from .hypercalls import PhysicalCpu
    from .results import Kind

# (file or None, index in that file, entry)
Entry = tuple[str | None, int, ProcessorPower]
Step = tuple[int, "Kind", ProcessorPower]


def kinds(proc: ProcessorPower) -> list[str]:
    return [k for k, v in (("pdc", proc.pdc), ("cx", proc.cx), ("px", proc.px)) if v is not None]


def check_all_entries(entries: Sequence[Entry]) -> None:
    """Refuse a second ``"all"`` entry for a kind (in one file or across files)."""
    seen: dict[str, tuple[str | None, int]] = {}
    for source, index, proc in entries:
        if proc.acpi_ids != "all":
            continue
        for kind in kinds(proc):
            earlier = seen.setdefault(kind, (source, index))
            if earlier != (source, index):
                where = f"processors[{earlier[1]}]"
                if earlier[0] and earlier[0] != source:
                    where = f"{earlier[0]} {where}"
                raise ValidationError(
                    f"processors[{index}].acpi_id", f"a second \"all\" entry with {kind} (the "
                    f"first is {where}): one would silently replace the other", source=source)


def wanted_ids(values: Iterable[AcpiIds] | None) -> set[int] | None:
    """``--acpi-id`` values (each a table-style ``acpi_id``) as a filter; None: all CPUs."""
    if values is None:
        return None
    ids: set[int] = set()
    for value in values:
        if value == "all":
            return None
        ids.update(value)
    return ids


def select(plan: Sequence[Step], wanted: set[int] | None) -> list[Step]:
    return list(plan) if wanted is None else [s for s in plan if s[0] in wanted]


def unmatched(entries: Sequence[Entry], plan: Sequence[Step], cpus: Sequence["PhysicalCpu"],
              wanted: set[int] | None) -> list[Notice]:
    """What reaches no present CPU: ``--acpi-id`` values, explicit ids, whole entries."""
    from .output import id_ranges

    present = {c.acpi_id for c in cpus}
    notes = []
    if wanted is not None:
        missing = sorted(wanted - present)
        if missing:
            notes.append(Notice(f"--acpi-id: {id_ranges(missing)} {_match(missing)} no physical CPU "
                                f"(present: {id_ranges(sorted(present)) if present else 'none'})"))
    used = {id(proc) for _, _, proc in plan}
    for source, index, proc in entries:
        path = f"processors[{index}].acpi_id"
        if proc.acpi_ids != "all":
            absent = [i for i in proc.acpi_ids if i not in present
                      and (wanted is None or i in wanted)]
            if absent:
                notes.append(Notice(f"{id_ranges(absent)} {_match(absent)} no physical CPU: Xen will "
                                    "refuse them (EINVAL)", source, path))
        if id(proc) not in used:
            why = ("every CPU it names is left out by --acpi-id" if proc.acpi_ids != "all"
                   else "explicit entries or --acpi-id leave it no CPU")
            notes.append(Notice(f"this entry applies to no CPU: {why}", source, path))
    return notes


def _match(ids: Sequence[int]) -> str:
    return "matches" if len(ids) == 1 else "match"
