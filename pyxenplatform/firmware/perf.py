"""``_PCT``, ``_PSS``, ``_PPC``, ``_PSD`` -> :class:`~pyxenplatform.model.PxInfo`.

Linux ``drivers/acpi/processor_perflib.c`` (``acpi_processor_get_performance_control``,
``acpi_processor_get_performance_states``, ``acpi_processor_get_platform_limit``,
``acpi_processor_get_psd``, ``acpi_processor_preregister_performance``), then
``drivers/xen/xen-acpi-processor.c`` ``push_pxx_to_hypervisor`` with
``xen_copy_pct_data``/``xen_copy_pss_data``/``xen_copy_psd_data``.
"""

from __future__ import annotations

from collections.abc import Mapping

from .. import abi
from ..errors import ValidationError
from ..model import CoordType, PState, PsdDomain, PxInfo, Register
from ..rules import U32, check_px
from .values import Notes, decode_gas, integers, kind

COORD_TYPES = frozenset(int(c) for c in CoordType)



def convert_pct(value: object, note: Notes) -> tuple[Register, Register] | None:
    """``acpi_processor_get_performance_control``: a Package of two register Buffers."""
    if not isinstance(value, tuple) or len(value) != 2:
        note("_PCT", f"{kind(value)} instead of a Package of 2 registers: Linux refuses "
             "it ('Invalid _PCT data')")
        return None
    regs = []
    for i, buf in enumerate(value):
        reg = decode_gas(buf) if isinstance(buf, bytes) else None
        if reg is None:
            what = "a Buffer that is not a Generic Register" if isinstance(buf, bytes) \
                else kind(buf)
            note(f"_PCT[{i}]", f"{what}: no P-states ('Invalid _PCT data')")
            return None
        regs.append(reg)
    return regs[0], regs[1]


def convert_pss(value: object, note: Notes) -> tuple[PState, ...] | None:
    """``acpi_processor_get_performance_states``: every state a Package of 6
    Integers, or the whole ``_PSS`` is refused; states of frequency 0 (or too
    high for cpufreq's u32 kHz) are skipped."""
    if not isinstance(value, tuple):
        note("_PSS", f"{kind(value)} instead of a Package: Linux refuses it")
        return None
    states = []
    for i, element in enumerate(value):
        fields = integers(element, 6)
        if fields is None:
            note(f"_PSS[{i}]", f"{kind(element)}, not a Package of 6 Integers: Linux "
                 "refuses the whole _PSS (acpi_extract_package)")
            return None
        if fields[0] == 0 or fields[0] * 1000 > U32:
            note(f"_PSS[{i}]", f"core frequency {fields[0]} MHz: Linux skips the state "
                 "('Invalid BIOS _PSS frequency')")
            continue
        states.append(PState(*fields))
    if not states:
        note("_PSS", "no valid P-state: Linux refuses it")
        return None
    return tuple(states)


def convert_ppc(objects: Mapping[str, object], states: int, note: Notes) -> int | None:
    """``acpi_processor_get_platform_limit``: absent means 0; a failure means no
    P-states (Linux's xen-acpi-processor then stops); an index past the last
    state applies no limit."""
    if "_PPC" not in objects:
        return 0
    ppc = objects["_PPC"]
    if not isinstance(ppc, int):
        note("_PPC", f"{kind(ppc)}, not an Integer: no P-states (Linux fails "
             "acpi_processor_get_performance_info)")
        return None
    if ppc >= states:
        note("_PPC", f"{ppc} does not index one of the {states} P-states: sent as 0 (Linux "
             "applies no limit then)")
        return 0
    return ppc


def convert_psd(objects: Mapping[str, object], fallback_domain: int,
                note: Notes) -> PsdDomain:
    """``acpi_processor_get_psd``, or a one-CPU domain when it is missing or
    invalid (Linux then assumes no coordination: ``acpi_processor_preregister_performance``
    and ``xen_copy_psd_data`` send a one-CPU, SW_ALL domain)."""
    one_cpu = PsdDomain(fallback_domain, CoordType.SW_ALL, 1)
    if "_PSD" not in objects:
        note("_PSD", f"missing: sent as a one-CPU domain ({fallback_domain}, SW_ALL)")
        return one_cpu
    value = objects["_PSD"]
    fields = integers(value[0], 5) if isinstance(value, tuple) and len(value) == 1 else None
    reason = None
    if fields is None:
        reason = f"{kind(value)}, not a Package holding one Package of 5 Integers"
    elif fields[0] != abi.ACPI_PSD_REV0_ENTRIES:
        reason = f"num_entries {fields[0]}, not {abi.ACPI_PSD_REV0_ENTRIES}"
    elif fields[1] != abi.ACPI_PSD_REV0_REVISION:
        reason = f"revision {fields[1]}, not {abi.ACPI_PSD_REV0_REVISION}"
    elif fields[3] not in COORD_TYPES:
        reason = f"coordination type {fields[3]:#x} is not SW_ALL, SW_ANY or HW_ALL"
    if reason is not None or fields is None:
        note("_PSD", f"{reason}: Linux refuses it; sent as a one-CPU domain "
             f"({fallback_domain}, SW_ALL)")
        return one_cpu
    num_entries, revision, domain, coord_type, num_processors = fields
    if num_processors < 1:
        # xen_copy_psd_data treats num_processors <= 1 as "this CPU alone".
        note("_PSD", f"num_processors {num_processors}: sent as 1 (this CPU alone, as "
             "Linux's xen_copy_psd_data reads it)")
        num_processors = 1
    return PsdDomain(domain, coord_type, num_processors, num_entries, revision)


def convert_px(objects: Mapping[str, object], fallback_domain: int,
               note: Notes) -> PxInfo | None:
    """``_PCT`` + ``_PSS`` + ``_PPC`` + ``_PSD`` -> P-states, or None."""
    if "_PCT" not in objects:
        # acpi_processor_get_performance_info: no _PCT, no ACPI P-states.
        for name in ("_PSS", "_PPC", "_PSD"):
            if name in objects:
                note(name, "not used: the processor has no _PCT (Linux: 'ACPI-based "
                     "processor performance control unavailable')")
        return None
    pct = convert_pct(objects["_PCT"], note)
    if "_PSS" not in objects:
        note("_PCT", "not used: the processor has no _PSS")
        return None
    pss = convert_pss(objects["_PSS"], note)
    if pct is None or pss is None:
        return None
    ppc = convert_ppc(objects, len(pss), note)
    if ppc is None:
        return None
    px = PxInfo(pct[0], pct[1], pss, convert_psd(objects, fallback_domain, note), ppc)
    try:
        check_px("px", px)
    except ValidationError as exc:
        note("_PCT/_PSS", f"no P-states: Xen would refuse them: {exc}")
        return None
    return px

