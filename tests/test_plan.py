"""plan_uploads against the plain statement of its rules, on random tables.

plan_uploads was rewritten for speed (a 4,096-CPU table); ``reference_plan``
below is its first, sort-based version: every ACPI id and kind gets the last
explicit entry naming it, else the last ``"all"`` entry of that kind (for a
present CPU); present ids first in Xen CPU order, then absent ones by id, and
per id _PDC, Cx, Px, CPPC.
"""

from __future__ import annotations

import random

from pyxenplatform import (
    CState, CxInfo, Pdc, PhysicalCpu, PowerTable, ProcessorPower, PsdDomain, PState, PxInfo,
    Register,
)
from pyxenplatform.plan import plan_uploads
from pyxenplatform.results import Kind

KINDS: tuple[Kind, ...] = ("pdc", "cx", "px", "cppc")
CX = CxInfo((CState(1, 1, 1000, Register.ffh(0)),))
PX = PxInfo(Register(0x7F), Register(0x7F), (PState(2, 2, 1, 1, 2, 2), PState(1, 1, 1, 1, 1, 1)),
            PsdDomain(0, 0xFC, 1))
PDC = Pdc((0xBBF,))


def reference_plan(table: PowerTable, cpus: list[PhysicalCpu],
                   warnings: list[str]) -> list[tuple[int, Kind, ProcessorPower]]:
    present = [c.acpi_id for c in sorted(cpus, key=lambda c: c.xen_cpuid)]
    chosen: dict[tuple[int, Kind], ProcessorPower] = {}
    explicit_keys: set[tuple[int, Kind]] = set()
    for proc in table.processors:
        explicit = proc.acpi_ids != "all"
        ids = list(proc.acpi_ids) if proc.acpi_ids != "all" else present
        kinds = [k for k in KINDS if getattr(proc, k) is not None]
        for kind in kinds:
            for acpi_id in ids:
                key = (acpi_id, kind)
                if explicit or key not in explicit_keys:
                    chosen[key] = proc
                if explicit:
                    explicit_keys.add(key)
    order = {acpi_id: i for i, acpi_id in enumerate(present)}
    plan = sorted(chosen.items(), key=lambda kv: (order.get(kv[0][0], len(order)), kv[0][0],
                                                  KINDS.index(kv[0][1])))
    boot = present[0] if present else None
    if boot is not None and any(k == "cx" for (_, k) in chosen) and (boot, "cx") not in chosen:
        warnings.append(f"the table has no C-states for ACPI id {boot} (Xen CPU 0): Xen keeps "
                        "using its default idle states until CPU 0's are uploaded")
    return [(acpi_id, kind, proc) for (acpi_id, kind), proc in plan]


def random_table(rng: random.Random) -> PowerTable:
    entries = []
    taken: set[tuple[int, str]] = set()
    for _ in range(rng.randint(1, 6)):
        parts = {k: v for k, v in (("pdc", PDC), ("cx", CX), ("px", PX)) if rng.random() < 0.5}
        if not parts:
            parts = {"cx": CX}
        if rng.random() < 0.4:
            entries.append(ProcessorPower("all", **parts))  # type: ignore[arg-type]
            continue
        ids = tuple(i for i in rng.sample(range(12), rng.randint(1, 4))
                    if all((i, k) not in taken for k in parts))
        if ids:
            taken.update((i, k) for i in ids for k in parts)
            entries.append(ProcessorPower(ids, **parts))  # type: ignore[arg-type]
    return PowerTable(tuple(entries) or (ProcessorPower("all", cx=CX),))


def test_plan_uploads_equals_its_reference_on_random_tables() -> None:
    rng = random.Random(12)
    for _ in range(2000):
        cpus = [PhysicalCpu(x, a, x, True)
                for x, a in enumerate(rng.sample(range(12), rng.randint(0, 6)))]
        rng.shuffle(cpus)
        table = random_table(rng)
        got_warnings: list[str] = []
        want_warnings: list[str] = []
        got = plan_uploads(table, cpus, got_warnings)
        want = reference_plan(table, cpus, want_warnings)
        assert [(a, k, id(p)) for a, k, p in got] == [(a, k, id(p)) for a, k, p in want]
        assert got_warnings == want_warnings
