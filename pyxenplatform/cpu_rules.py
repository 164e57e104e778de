"""Xen's rules that depend on the CPU: what it keeps of an upload, what it answers to ``_PDC``.

Data that breaks a rule of :mod:`pyxenplatform.rules` is refused before sending;
these rules decide what Xen does with valid data on a given CPU (a
:class:`Platform`): which C-states ``check_cx`` drops (Xen
``xen/arch/x86/acpi/cpu_idle.c``) and the capability word ``_PDC`` gets back
(``xen/arch/x86/acpi/lib.c``).  The simulated hypervisor and ``check``'s
warnings use the same functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from . import abi
from .model import CState, CxFlags, Register, SpaceId
from .rules import FFH_NATIVE_CSTATE_BEYOND_HALT, FFH_VENDOR_INTEL, MAX_POWER_SLOTS


@dataclass(frozen=True)
class Platform:
    """The CPU facts ``check_cx`` depends on (what only the hypervisor knows).

    The default is the CPU the real-Xen tests boot under QEMU: an Intel
    family 6 model 42 with ARAT and MWAIT but no MWAIT sub-state beyond 0
    (measured: Xen keeps FFH hints 0x00 and 0x10 and drops 0x11 there).  Pass
    your CPU's CPUID.5:EDX as ``mwait_substates`` to predict for real hardware.
    """

    vendor: str = "GenuineIntel"
    family: int = 6
    model: int = 42
    arat: bool = True
    hpet_broadcast: bool = False
    # CPUID.5:EDX: the number of MWAIT sub-states of C0..C7, a nibble each;
    # None: no MWAIT at all.
    mwait_substates: int | None = 0
    fadt_wbinvd: bool = True
    lapic_timer_c2_ok: bool = False
    online_cpus: int = 2
    # What arch_acpi_set_pdc_bits (xen/arch/x86/acpi/lib.c) sees in Xen's
    # cpu_data: EIST, the ACPI thermal feature, and MONITOR with MWAIT's
    # interrupt-break extension (measured absent there under QEMU, although
    # Xen enters FFH C1 with MWAIT: its _PDC answer for 0xbbf is 0x9e).
    eist: bool = False
    acpi_thermal: bool = False
    pdc_mwait: bool = False
    # AMD's hardware P-states (CPUID 0x80000007 EDX bit 7): with EIST, what a cpufreq driver
    # needs (a dry run's simulated Xen has one when either is set: pyxenplatform.platforms).
    hw_pstate: bool = False

    def bm_flags(self, uploaded: CxFlags) -> tuple[bool, bool]:
        """``acpi_processor_power_init_bm_check``: Xen's own bm_check/bm_control."""
        intel = self.vendor == "GenuineIntel"
        amd = self.vendor == "AuthenticAMD"
        bm_check = self.online_cpus == 1 or intel or (amd and self.family == 0x15)
        bm_control = uploaded.bm_control
        if intel and (self.family > 6 or (self.family == 6 and self.model >= 14)):
            bm_control = False
        return bm_check, bm_control


def pdc_answer(word: int, platform: Platform, pm_bits: int) -> int:
    """The ``_PDC`` capability word Xen writes back (``acpi_set_pdc_bits`` +
    ``arch_acpi_set_pdc_bits``): bits Xen controls are cleared, then set to
    what Xen itself supports; ``pm_bits`` is Xen's XEN_PROCESSOR_PM_* set."""
    mask = 0
    if pm_bits & abi.XEN_PROCESSOR_PM_CX:
        mask |= abi.ACPI_PDC_C_MASK | abi.ACPI_PDC_SMP_C1PT
    if pm_bits & abi.XEN_PROCESSOR_PM_PX:
        mask |= abi.ACPI_PDC_P_MASK | abi.ACPI_PDC_SMP_C1PT
    if pm_bits & abi.XEN_PROCESSOR_PM_TX:
        mask |= abi.ACPI_PDC_T_MASK | abi.ACPI_PDC_SMP_C1PT
    known = abi.ACPI_PDC_C_MASK | abi.ACPI_PDC_P_MASK | abi.ACPI_PDC_T_MASK | abi.ACPI_PDC_SMP_C1PT
    word &= known & ~mask
    word |= abi.ACPI_PDC_C_CAPABILITY_SMP & mask
    if platform.eist:
        word |= abi.ACPI_PDC_EST_CAPABILITY_SWSMP & mask
    if platform.acpi_thermal:
        word |= abi.ACPI_PDC_T_FFH & mask
    if not platform.pdc_mwait:
        word &= ~(abi.ACPI_PDC_C_C1_FFH | abi.ACPI_PDC_C_C2C3_FFH)
    return word


def drop_reason(state: CState, flags: CxFlags, platform: Platform) -> str | None:
    """Why Xen's ``check_cx`` would drop ``state`` on ``platform``, or ``None``."""
    reg = state.register
    if reg.space_id == SpaceId.SYSTEM_IO:
        if reg.address == 0:
            return "SYSTEM_IO register at address 0"
    elif reg.space_id == SpaceId.FIXED_HARDWARE:
        if (reg.bit_width, reg.bit_offset) != (FFH_VENDOR_INTEL, FFH_NATIVE_CSTATE_BEYOND_HALT):
            return "FFH register is not vendor Intel / native C-state"
        if platform.mwait_substates is None:
            return "the CPU has no MWAIT"
        # acpi_processor_ffh_cstate_probe: hint bits 7:4 = C-state - 1, 3:0 = sub-state.
        cstate = ((reg.address >> 4) & 0xF) + 1
        available = (platform.mwait_substates >> (4 * cstate)) & 0xF
        if available < (reg.address & 0xF):
            return f"the CPU has no MWAIT sub-state {reg.address:#x}"
    else:
        return f"address space {reg.space_id:#x} cannot enter C-states"
    if state.type == abi.ACPI_STATE_C2 and platform.lapic_timer_c2_ok:
        return None
    if state.type in (abi.ACPI_STATE_C2, abi.ACPI_STATE_C3):
        if not (platform.arat or platform.hpet_broadcast):
            return "no timer keeps running in C2/C3 (no ARAT, no broadcast)"
        bm_check, bm_control = platform.bm_flags(flags)
        if bm_check and not bm_control and not flags.has_cst:
            return "C2/C3 without bus-master control needs has_cst"
        if not bm_check and not platform.fadt_wbinvd:
            return "C2/C3 without bm_check needs the FADT WBINVD flag"
    return None


def kept_cstates(states: Sequence[CState], flags: CxFlags,
                 platform: Platform) -> tuple[list[CState | None], list[tuple[CState, str]]]:
    """Xen's slots after one upload (slot 0 = C0 as ``None``) and the dropped states.

    ``set_cx``: Xen starts from C0 + a HALT C1, a C1 replaces slot 1, deeper
    states append in table order up to ``MAX_POWER_SLOTS``.
    """
    halt_c1 = CState(abi.ACPI_STATE_C1, 0, 0, Register(SpaceId.SYSTEM_MEMORY))
    slots: list[CState | None] = [None, halt_c1]
    dropped: list[tuple[CState, str]] = []
    for state in states:
        reason = drop_reason(state, flags, platform)
        if state.type == abi.ACPI_STATE_C0:
            reason = "C0 data ignored"
        elif reason is None and state.type != abi.ACPI_STATE_C1 and len(slots) >= MAX_POWER_SLOTS:
            reason = f"C{state.type} data ignored: all {MAX_POWER_SLOTS} slots used"
        if reason is not None:
            dropped.append((state, reason))
        elif state.type == abi.ACPI_STATE_C1:
            slots[1] = state
        else:
            slots.append(state)
    return slots, dropped
