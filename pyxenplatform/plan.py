"""Which data each ACPI id gets, in which order: the plan of a table upload.

Pure: no transport, so ``check`` and ``upload --dry-run`` use it without the
facade.  ``tests/test_plan.py`` compares it with a plain statement of its rules.
"""

from __future__ import annotations

from collections.abc import Sequence

from .hypercalls import PhysicalCpu
from .model import PowerTable, ProcessorPower
from .results import Kind

def plan_uploads(table: PowerTable, cpus: Sequence[PhysicalCpu],
                 warnings: list[str]) -> list[tuple[int, Kind, ProcessorPower]]:
    """Which entry each ACPI id gets for each kind, CPU 0's ACPI id first.

    An entry naming ACPI ids explicitly overrides an ``"all"`` entry (the
    table is checked first: :func:`~pyxenplatform.rules.check_explicit_ids`).
    """
    present = [c.acpi_id for c in sorted(cpus, key=lambda c: c.xen_cpuid)]
    # The last "all" entry of each kind, and the explicit (id, kind) entries
    # (an explicit one wins; check_explicit_ids refused two for one key).
    for_all: dict[Kind, ProcessorPower] = {}
    explicit: dict[tuple[int, Kind], ProcessorPower] = {}
    for proc in table.processors:
        for kind in _kinds(proc):
            if proc.acpi_ids == "all":
                for_all[kind] = proc
            else:
                for acpi_id in proc.acpi_ids:
                    explicit[acpi_id, kind] = proc
    # Present ids in Xen CPU order (an id present twice: at its last place),
    # then the explicit ids no present CPU has, by id; per id _PDC, Cx, Px, CPPC.
    order = {acpi_id: i for i, acpi_id in enumerate(present)}
    ids = sorted(order, key=order.__getitem__)
    kinds: tuple[Kind, ...] = ("pdc", "cx", "px", "cppc")
    everywhere = [(kind, for_all[kind]) for kind in kinds if kind in for_all]
    if explicit:
        plan = [(acpi_id, kind, chosen) for acpi_id in ids for kind in kinds
                if (chosen := explicit.get((acpi_id, kind)) or for_all.get(kind)) is not None]
        absent = sorted({acpi_id for acpi_id, _ in explicit}.difference(order))
        plan += [(acpi_id, kind, explicit[acpi_id, kind]) for acpi_id in absent
                 for kind in kinds if (acpi_id, kind) in explicit]
    else:  # only "all" entries: every present id gets the same entries
        plan = [(acpi_id, kind, proc) for acpi_id in ids for kind, proc in everywhere]
    boot = present[0] if present else None
    has_cx = "cx" in for_all or any(kind == "cx" for _, kind in explicit)
    if boot is not None and has_cx and "cx" not in for_all and (boot, "cx") not in explicit:
        warnings.append(f"the table has no C-states for ACPI id {boot} (Xen CPU 0): Xen keeps "
                        "using its default idle states until CPU 0's are uploaded")
    return plan


def _kinds(proc: ProcessorPower) -> list[Kind]:
    kinds: list[Kind] = []
    if proc.pdc is not None:
        kinds.append("pdc")
    if proc.cx is not None:
        kinds.append("cx")
    if proc.px is not None:
        kinds.append("px")
    if proc.cppc is not None:
        kinds.append("cppc")
    return kinds
