"""Xen's rules for power data, applied before anything is sent.

Xen accepts ``XENPF_set_processor_pminfo`` and still drops, silently, the
C-states its ``check_cx`` dislikes (Xen ``xen/arch/x86/acpi/cpu_idle.c``).
So every rule Xen applies to the *data* is an error here, raised before the
first hypercall with the field path and the rule; every rule that depends on
the *CPU* (MWAIT sub-states, a timer that survives C2/C3, bus-master rules)
is a warning here, and :func:`~pyxenplatform.cpu_rules.kept_cstates` predicts
it for a known :class:`~pyxenplatform.cpu_rules.Platform` (the simulated
hypervisor uses the same function).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from . import abi
from .checks import boolean, fit, instance, items, memo, remember
from .errors import ValidationError
from .model import (
    CState,
    CStateDependency,
    CxFlags,
    CxInfo,
    Pdc,
    PowerTable,
    ProcessorPower,
    PsdDomain,
    PState,
    PxInfo,
    Register,
    SpaceId,
)

U8, U16, U32, U64 = 0xFF, 0xFFFF, 0xFFFF_FFFF, 0xFFFF_FFFF_FFFF_FFFF

# Xen ACPI_PROCESSOR_MAX_POWER: slot 0 is C0, slot 1 is C1 (xen/include/xen/acpi.h).
MAX_POWER_SLOTS = 8
MAX_DEEP_STATES = MAX_POWER_SLOTS - 2
# cpu_idle.c: FFH must say "vendor Intel" / "native C-state beyond halt".
FFH_VENDOR_INTEL = 1
FFH_NATIVE_CSTATE_BEYOND_HALT = 2
# Xen's CPUFREQ_SHARED_TYPE_* for each ACPI _PSD coordination (as Linux
# drivers/xen/xen-acpi-processor.c maps them).
SHARED_TYPE = {
    abi.DOMAIN_COORD_TYPE_SW_ALL: abi.XEN_CPUPERF_SHARED_TYPE_ALL,
    abi.DOMAIN_COORD_TYPE_SW_ANY: abi.XEN_CPUPERF_SHARED_TYPE_ANY,
    abi.DOMAIN_COORD_TYPE_HW_ALL: abi.XEN_CPUPERF_SHARED_TYPE_HW,
}

# Xen's size limits (Xen 4.17-4.22).  set_px_pminfo (xen/drivers/cpufreq/
# cpufreq.c) allocates whatever state_count says, but Xen's P-state statistics
# count a CPU's states in a byte (struct pm_px_stat.total is uint8_t,
# xen/include/public/sysctl.h: xenpm sees count % 256) and
# cpufreq_statistic_init (xen/drivers/acpi/pmstat.c) allocates count x count
# u64 transition counters.
MAX_PSTATES = 255
PSTATES_RULE = ("Xen counts P-states in a byte: pm_px_stat.total is uint8_t in public/"
                "sysctl.h, and cpufreq_statistic_init allocates count x count counters")
# acpi_set_pdc_bits (xen/drivers/cpufreq/cpufreq.c) copies words 0-1
# (revision, count) and word 2, the first capability DWORD: nothing beyond.
MAX_PDC_WORDS = 1
PDC_RULE = "Xen's acpi_set_pdc_bits reads only the first capability word"
# Xen has at most NR_CPUS <= 16383 CPUs (xen/arch/Kconfig) and an ACPI id
# names one of them (get_cpu_id, through the MADT): more ids cannot all exist.
MAX_ACPI_IDS = 16383
ACPI_IDS_RULE = "Xen has at most 16383 CPUs: NR_CPUS in xen/arch/Kconfig"
# One explicit entry per ACPI id and kind (_PDC, Cx, Px): the most a table can
# name without repeating an (id, kind), which check_explicit_ids refuses.
MAX_EXPLICIT_IDS = 3 * MAX_ACPI_IDS
ENTRIES_RULE = f"one per ACPI id and kind (_PDC, Cx, Px); {ACPI_IDS_RULE}"
# _CSD: Xen accepts and ignores it; one dependency per other processor at most.
MAX_DEPENDENCIES = MAX_ACPI_IDS


def _fit(path: str, value: object, limit: int, what: str, minimum: int = 0) -> None:
    fit(path, value, limit, what, minimum)  # kept for callers of the old name


def check_register(path: str, reg: Register, *, pct: bool = False) -> None:
    """ACPI Generic Address ranges; ``pct`` registers are the u8 fields of ``xen_pct_register``."""
    instance(path, reg, Register)
    fit(f"{path}.space_id", reg.space_id, U8, "an ACPI address space id (u8)")
    fit(f"{path}.bit_width", reg.bit_width, U8, "a GAS bit width (u8)")
    fit(f"{path}.bit_offset", reg.bit_offset, U8, "a GAS bit offset (u8)")
    fit(f"{path}.access_size", reg.access_size, 4, "a GAS access size (0-4)")
    fit(f"{path}.address", reg.address, U64, "a 64-bit address")


def check_cstate_data(path: str, state: CState) -> None:
    """The rules of ``check_cx``/``set_cx`` that depend only on the data."""
    instance(path, state, CState)
    check_register(f"{path}.register", state.register)
    fit(f"{path}.type", state.type, U8, "xen_processor_cx.type (u8)")
    fit(f"{path}.latency", state.latency, U32, "xen_processor_cx.latency (u32, us)")
    fit(f"{path}.power", state.power, U32, "xen_processor_cx.power (u32, mW)")
    if state.type == abi.ACPI_STATE_C0:
        raise ValidationError(f"{path}.type", "C0 is not an idle state: Xen ignores it "
                              "('C0 data ignored', cpu_idle.c set_cx)")
    if state.type not in (abi.ACPI_STATE_C1, abi.ACPI_STATE_C2, abi.ACPI_STATE_C3):
        raise ValidationError(f"{path}.type", f"{state.type!r} is not a _CST type: "
                              "must be 1 (C1), 2 (C2) or 3 (C3)")
    reg = state.register
    if reg.space_id == SpaceId.SYSTEM_IO:
        if reg.address == 0:
            raise ValidationError(f"{path}.register.address", "a SYSTEM_IO register at "
                                  "address 0: Xen drops the state (cpu_idle.c check_cx)")
    elif reg.space_id == SpaceId.FIXED_HARDWARE:
        if (reg.bit_width, reg.bit_offset) != (FFH_VENDOR_INTEL, FFH_NATIVE_CSTATE_BEYOND_HALT):
            raise ValidationError(f"{path}.register", "an FFH register needs bit_width 1 "
                                  "(vendor Intel) and bit_offset 2 (native C-state beyond "
                                  f"halt), not {reg.bit_width}/{reg.bit_offset}: Xen drops "
                                  "the state (cpu_idle.c check_cx)")
    else:
        raise ValidationError(f"{path}.register.space_id", f"space {reg.space_id:#x}: Xen "
                              "enters C-states only through SYSTEM_IO (1) or FIXED_HARDWARE "
                              "(0x7f) registers and drops this one (cpu_idle.c check_cx)")
    deps = items(f"{path}.dependencies", state.dependencies, MAX_DEPENDENCIES,
                 "a _CSD names at most one dependency per other processor")
    for i, dep in enumerate(deps):
        dpath = f"{path}.dependencies[{i}]"
        instance(dpath, dep, CStateDependency)
        assert isinstance(dep, CStateDependency)
        fit(f"{dpath}.domain", dep.domain, U32, "u32")
        fit(f"{dpath}.coord_type", dep.coord_type, U32, "u32")
        fit(f"{dpath}.num_processors", dep.num_processors, U32, "u32")


def check_cx_flags(path: str, flags: CxFlags) -> None:
    """One-bit fields of ``xen_processor_flags``: only a bool says what it means."""
    instance(path, flags, CxFlags)
    boolean(f"{path}.bm_check", flags.bm_check)
    boolean(f"{path}.bm_control", flags.bm_control)
    boolean(f"{path}.has_cst", flags.has_cst)


def check_cx(path: str, cx: CxInfo) -> list[str]:
    """Raise on data Xen would drop; return warnings for CPU-dependent rules."""
    return [f"{path}{w}" for w in checked_cx(path, cx)]


def checked_cx(path: str, cx: CxInfo) -> tuple[str, ...]:
    """:func:`check_cx` once per object: its warnings, relative to ``path``
    (``".states[1]: ..."``), remembered on ``cx`` (see :mod:`.checks`)."""
    known = memo(cx, "_pyxenplatform_cx")
    if known is not None:
        return known  # type: ignore[return-value]  # only _check_cx's tuple is stored here
    return remember(cx, "_pyxenplatform_cx", tuple(_check_cx(path, cx)))


def _check_cx(path: str, cx: CxInfo) -> list[str]:
    instance(path, cx, CxInfo)
    check_cx_flags(f"{path}.flags", cx.flags)
    # No length limit needed: every state is checked in order, and a ninth
    # one breaks a rule below (a second C1, a seventh deeper state, C0).
    states = items(f"{path}.states", cx.states)
    warnings: list[str] = []
    c1_seen: int | None = None
    deep = 0
    for i, state in enumerate(states):
        spath = f"{path}.states[{i}]"
        check_cstate_data(spath, state)  # type: ignore[arg-type]  # untrusted: it refuses non-CStates
        assert isinstance(state, CState)
        if state.type == abi.ACPI_STATE_C1:
            if c1_seen is not None:
                raise ValidationError(f"{spath}.type", f"a second C1 (first at states"
                                      f"[{c1_seen}]): Xen has one C1 slot and keeps the last")
            c1_seen = i
        else:
            deep += 1
            if deep > MAX_DEEP_STATES:
                raise ValidationError(spath, f"more than {MAX_DEEP_STATES} states deeper than "
                                      f"C1: Xen has {MAX_POWER_SLOTS} slots (C0, C1 and "
                                      f"{MAX_DEEP_STATES} more) and ignores the rest")
        warnings += (w[len(path):] for w in _cpu_dependent_warnings(spath, state, cx.flags))
    return warnings


def _cpu_dependent_warnings(path: str, state: CState, flags: CxFlags) -> Iterator[str]:
    if state.register.space_id == SpaceId.FIXED_HARDWARE:
        yield (f"{path}: kept only if the CPU supports MWAIT with sub-state "
               f"{state.register.address:#x} (cpu_idle.c acpi_processor_ffh_cstate_probe)")
    if state.type in (abi.ACPI_STATE_C2, abi.ACPI_STATE_C3):
        yield (f"{path}: C{state.type} is kept only if the local APIC timer keeps running "
               "(ARAT) or HPET/PIT broadcast is available")
        if not flags.has_cst:
            yield (f"{path}: with has_cst false, Xen drops C{state.type} on CPUs without bus "
                   "master control (all Intel Core and later; cpu_idle.c check_cx)")
    if state.dependencies:
        yield f"{path}.dependencies: Xen accepts _CSD and ignores it (not supported)"


# The attribute a PxInfo that passed check_px carries (see .checks).
PX_CHECKED = "_pyxenplatform_px"


def check_px(path: str, px: PxInfo) -> None:
    """``set_px_pminfo`` (Xen ``xen/drivers/cpufreq/cpufreq.c``) and ACPI's _PSD/_PPC rules."""
    if memo(px, PX_CHECKED) is None:
        _check_px(path, px)
        remember(px, PX_CHECKED, True)


def _check_px(path: str, px: PxInfo) -> None:
    instance(path, px, PxInfo)
    check_register(f"{path}.control_register", px.control_register, pct=True)
    check_register(f"{path}.status_register", px.status_register, pct=True)
    if px.control_register.space_id != px.status_register.space_id:
        raise ValidationError(f"{path}.status_register.space_id", "must equal "
                              "control_register.space_id: Xen refuses _PCT registers in "
                              "different spaces with EINVAL")
    states = items(f"{path}.states", px.states, MAX_PSTATES, PSTATES_RULE)
    if len(states) <= 1:
        raise ValidationError(f"{path}.states", f"{len(states)} P-state(s): Xen needs at "
                              "least 2 (EINVAL)")
    for i, st in enumerate(states):
        spath = f"{path}.states[{i}]"
        instance(spath, st, PState)
        for name in ("core_frequency", "power", "transition_latency",
                     "bus_master_latency", "control", "status"):
            fit(f"{spath}.{name}", getattr(st, name), U64, f"xen_processor_px.{name} (u64)")
    fit(f"{path}.ppc", px.ppc, U32, "_PPC (u32)")
    if px.ppc >= len(states):
        raise ValidationError(f"{path}.ppc", f"{px.ppc} does not index a P-state "
                              f"(0..{len(states) - 1})")
    check_psd(f"{path}.psd", px.psd)


def check_psd(path: str, psd: PsdDomain) -> None:
    """ACPI's ``_PSD`` package (rev 0, 5 entries) and Xen's three shared types."""
    instance(path, psd, PsdDomain)
    fit(f"{path}.num_entries", psd.num_entries, U64, "u64")
    if psd.num_entries != abi.ACPI_PSD_REV0_ENTRIES:
        raise ValidationError(f"{path}.num_entries", f"{psd.num_entries}: a _PSD "
                              f"package has {abi.ACPI_PSD_REV0_ENTRIES} entries")
    fit(f"{path}.revision", psd.revision, U64, "u64")
    if psd.revision != abi.ACPI_PSD_REV0_REVISION:
        raise ValidationError(f"{path}.revision", f"{psd.revision}: only revision 0 "
                              "of _PSD exists")
    fit(f"{path}.coord_type", psd.coord_type, U64, "u64")
    if psd.coord_type not in SHARED_TYPE:
        raise ValidationError(f"{path}.coord_type", f"{psd.coord_type:#x}: must be "
                              "SW_ALL (0xfc), SW_ANY (0xfd) or HW_ALL (0xfe); Xen refuses "
                              "any other shared type with EINVAL")
    fit(f"{path}.domain", psd.domain, U64, "u64")
    fit(f"{path}.num_processors", psd.num_processors, U64, "u64", minimum=1)


# The attribute a Pdc that passed check_pdc carries (see .checks).
PDC_CHECKED = "_pyxenplatform_pdc"


def check_pdc(path: str, pdc: Pdc) -> None:
    """Xen ``acpi_set_pdc_bits``: revision 1, one capability word."""
    if memo(pdc, PDC_CHECKED) is not None:
        return
    instance(path, pdc, Pdc)
    fit(f"{path}.revision", pdc.revision, U32, "a _PDC DWORD (u32)")
    if pdc.revision != abi.ACPI_PDC_REVISION_ID:
        raise ValidationError(f"{path}.revision", f"{pdc.revision}: Xen accepts only _PDC "
                              f"revision {abi.ACPI_PDC_REVISION_ID} (EINVAL)")
    words = items(f"{path}.capabilities", pdc.capabilities, MAX_PDC_WORDS, PDC_RULE)
    if not words:
        raise ValidationError(f"{path}.capabilities", "no capability word: Xen needs one "
                              "(EINVAL)")
    for i, word in enumerate(words):
        fit(f"{path}.capabilities[{i}]", word, U32, "a _PDC DWORD (u32)")
    remember(pdc, PDC_CHECKED, True)


def check_acpi_id(path: str, acpi_id: object) -> None:
    fit(path, acpi_id, U32, "an ACPI processor id (u32)")


def check_processor(path: str, proc: ProcessorPower) -> list[str]:
    """Every rule for one table entry; the warnings, or a ValidationError."""
    instance(path, proc, ProcessorPower)
    if proc.acpi_ids != "all":
        ids = items(f"{path}.acpi_id", proc.acpi_ids, MAX_ACPI_IDS, ACPI_IDS_RULE)
        if not ids:
            raise ValidationError(f"{path}.acpi_id", "names no processor")
        for i, acpi_id in enumerate(ids):
            check_acpi_id(f"{path}.acpi_id[{i}]" if len(ids) > 1 else
                          f"{path}.acpi_id", acpi_id)
    if proc.cx is None and proc.px is None and proc.pdc is None and proc.cppc is None:
        raise ValidationError(path, "has none of cx, px, cppc, pdc: nothing to upload")
    warnings: list[str] = []
    if proc.pdc is not None:
        check_pdc(f"{path}.pdc", proc.pdc)
    if proc.cx is not None:
        warnings += check_cx(f"{path}.cx", proc.cx)
    if proc.px is not None:
        check_px(f"{path}.px", proc.px)
    if proc.cppc is not None:
        from .cppc_rules import check_cppc  # here: cppc_rules builds on this module

        warnings += check_cppc(f"{path}.cppc", proc.cppc)
    return warnings


def check_table(table: PowerTable, *, source: str | None = None) -> list[str]:
    """Validate a whole table before anything is sent; its warnings."""
    try:
        instance("table", table, PowerTable)
        procs = items("processors", table.processors, MAX_EXPLICIT_IDS, ENTRIES_RULE)
        if not procs:
            raise ValidationError("processors", "the table has no processor entries")
        warnings: list[str] = []
        explicit = 0
        for i, proc in enumerate(procs):
            warnings += check_processor(f"processors[{i}]", proc)  # type: ignore[arg-type]  # checked inside
            assert isinstance(proc, ProcessorPower)
            explicit += len(proc.acpi_ids) if proc.acpi_ids != "all" else 0
            if explicit > MAX_EXPLICIT_IDS:
                raise ValidationError(f"processors[{i}].acpi_id", f"more than "
                                      f"{MAX_EXPLICIT_IDS} explicit ACPI ids in one table "
                                      f"({ENTRIES_RULE})")
    except ValidationError as exc:
        raise exc.in_source(source) if source else exc from None
    check_explicit_ids([(source, i, p) for i, p in enumerate(table.processors)])
    from .selection import check_all_entries  # two "all" entries for one kind (issue 13)

    check_all_entries([(source, i, p) for i, p in enumerate(table.processors)])
    return [f"{source}: {w}" for w in warnings] if source else warnings


def check_explicit_ids(entries: Sequence[tuple[str | None, int, ProcessorPower]]) -> None:
    """Two entries naming the same ACPI id explicitly for the same kind of data are
    an error (an explicit id overrides ``"all"``, but which of two explicit ones
    should win?).  ``entries`` are (file, index in that file, entry)."""
    seen: dict[tuple[int, str], tuple[str | None, int]] = {}
    for source, index, proc in entries:
        if proc.acpi_ids == "all":
            continue
        kinds = [k for k, v in (("pdc", proc.pdc), ("cx", proc.cx), ("px", proc.px),
                                ("cppc", proc.cppc)) if v]
        for acpi_id in proc.acpi_ids:
            for kind in kinds:
                earlier = seen.setdefault((acpi_id, kind), (source, index))
                if earlier != (source, index):
                    where = f"processors[{earlier[1]}]"
                    if earlier[0] != source and earlier[0]:
                        where = f"{earlier[0]} {where}"
                    raise ValidationError(f"processors[{index}].acpi_id", f"ACPI id {acpi_id} "
                                          f"already gets {kind} from {where}", source=source)


# ----------------------------------------------------------- what Xen keeps
