"""Processor power data in ACPI's own terms: what ``XENPF_set_processor_pminfo`` carries.

Frozen, typed dataclasses, built from any source (Python literals, a mapping,
JSON, TOML -- see :mod:`pyxenplatform.sources`), checked by
:mod:`pyxenplatform.rules` and turned into ``abi`` structs by
:mod:`pyxenplatform.marshal`.  Units are ACPI's: latencies in microseconds,
power in milliwatts, frequencies in MHz.

>>> CState(1, latency=1, power=1000, register=Register.ffh(0x00))
CState(C1, latency=1us, power=1000mW, register=FFH(mwait=0x0))
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Literal

from . import abi


class SpaceId(enum.IntEnum):
    """ACPI Generic Address "Address Space ID" (ACPI 6.5, 5.2.3.2)."""

    SYSTEM_MEMORY = abi.ACPI_ADR_SPACE_SYSTEM_MEMORY
    SYSTEM_IO = abi.ACPI_ADR_SPACE_SYSTEM_IO
    PCI_CONFIG = abi.ACPI_ADR_SPACE_PCI_CONFIG
    EMBEDDED_CONTROL = abi.ACPI_ADR_SPACE_EC
    SMBUS = abi.ACPI_ADR_SPACE_SMBUS
    SYSTEM_CMOS = abi.ACPI_ADR_SPACE_CMOS
    PCI_BAR_TARGET = abi.ACPI_ADR_SPACE_PCI_BAR_TARGET
    IPMI = abi.ACPI_ADR_SPACE_IPMI
    GPIO = abi.ACPI_ADR_SPACE_GPIO
    GENERIC_SERIAL_BUS = abi.ACPI_ADR_SPACE_GSBUS
    PLATFORM_COMM = abi.ACPI_ADR_SPACE_PLATFORM_COMM
    FIXED_HARDWARE = abi.ACPI_ADR_SPACE_FIXED_HARDWARE


class CoordType(enum.IntEnum):
    """``_PSD``/``_CSD`` coordination type (ACPI 6.5, 8.4.5.5)."""

    SW_ALL = abi.DOMAIN_COORD_TYPE_SW_ALL
    SW_ANY = abi.DOMAIN_COORD_TYPE_SW_ANY
    HW_ALL = abi.DOMAIN_COORD_TYPE_HW_ALL


@dataclass(frozen=True)
class Register:
    """An ACPI Generic Address Structure (a ``_CST`` or ``_PCT`` register)."""

    space_id: int
    bit_width: int = 0
    bit_offset: int = 0
    access_size: int = 0
    address: int = 0

    @classmethod
    def ffh(cls, mwait_hint: int) -> Register:
        """Intel native C-state (FFH, MWAIT with ``mwait_hint`` in EAX)."""
        # bit_width 1 = "vendor Intel", bit_offset 2 = "native C-state beyond
        # halt": the only FFH encoding Xen accepts (cpu_idle.c check_cx).
        return cls(SpaceId.FIXED_HARDWARE, 1, 2, 1, mwait_hint)

    @classmethod
    def system_io(cls, port: int, bit_width: int = 8) -> Register:
        """An I/O port read that enters the state (P_LVLx of older chipsets)."""
        return cls(SpaceId.SYSTEM_IO, bit_width, 0, 1, port)

    def __repr__(self) -> str:
        if self.space_id == SpaceId.FIXED_HARDWARE and (self.bit_width, self.bit_offset) == (1, 2):
            return f"FFH(mwait={self.address:#x})"
        if self.space_id == SpaceId.SYSTEM_IO and self.bit_offset == 0:
            return f"SystemIO({self.address:#x}, width={self.bit_width})"
        space = SpaceId(self.space_id).name if self.space_id in SpaceId._value2member_map_ else self.space_id
        return (
            f"Register({space}, bit_width={self.bit_width}, bit_offset={self.bit_offset}, "
            f"access_size={self.access_size}, address={self.address:#x})"
        )


@dataclass(frozen=True)
class CStateDependency:
    """A ``_CSD`` entry: this C-state is shared with ``num_processors`` CPUs."""

    domain: int
    coord_type: int
    num_processors: int


@dataclass(frozen=True)
class CState:
    """A ``_CST`` entry: ``type`` 1-3 (C1..C3), latency in us, power in mW."""

    type: int
    latency: int
    power: int
    register: Register
    dependencies: tuple[CStateDependency, ...] = ()

    def __repr__(self) -> str:
        deps = f", dependencies={self.dependencies!r}" if self.dependencies else ""
        return (
            f"CState(C{self.type}, latency={self.latency}us, power={self.power}mW, "
            f"register={self.register!r}{deps})"
        )


@dataclass(frozen=True)
class CxFlags:
    """``struct xen_processor_flags`` as dom0 reports them.

    ``has_cst``: the states come from ``_CST`` (a hand-written table is one).
    ``bm_check``/``bm_control``: bus-master handling for C3 (Xen recomputes
    them from the CPU vendor when it meets the first C2/C3).
    """

    bm_check: bool = False
    bm_control: bool = False
    has_cst: bool = True


@dataclass(frozen=True)
class CxInfo:
    """The C-states of one processor (``XEN_PM_CX``)."""

    states: tuple[CState, ...]
    flags: CxFlags = field(default_factory=CxFlags)


@dataclass(frozen=True)
class PState:
    """A ``_PSS`` entry: MHz, mW, us, us, and the control/status values."""

    core_frequency: int
    power: int
    transition_latency: int
    bus_master_latency: int
    control: int
    status: int


@dataclass(frozen=True)
class PsdDomain:
    """``_PSD``: which processors change frequency together, and how."""

    domain: int
    coord_type: int
    num_processors: int
    num_entries: int = abi.ACPI_PSD_REV0_ENTRIES
    revision: int = abi.ACPI_PSD_REV0_REVISION


@dataclass(frozen=True)
class PxInfo:
    """The P-states of one processor (``XEN_PM_PX``): ``_PCT``, ``_PSS``, ``_PPC``, ``_PSD``.

    ``ppc`` is the index of the fastest state the platform allows (0 = all).
    """

    control_register: Register
    status_register: Register
    states: tuple[PState, ...]
    psd: PsdDomain
    ppc: int = 0


@dataclass(frozen=True)
class CppcInfo:
    """``_CPC`` (the subset Xen's amd-cppc driver takes) and ``_PSD`` (``XEN_PM_CPPC``, Xen 4.21+).

    Perf values are on the CPU's abstract CPPC scale (ACPI 6.5, 8.4.6.1.1);
    ``lowest_mhz``/``nominal_mhz`` are optional in ``_CPC`` (0 = absent).
    Field names are Xen's (``struct xen_processor_cppc``).
    """

    highest_perf: int
    nominal_perf: int
    lowest_nonlinear_perf: int
    lowest_perf: int
    psd: PsdDomain
    lowest_mhz: int = 0
    nominal_mhz: int = 0


@dataclass(frozen=True)
class Pdc:
    """``_PDC`` capability words (Xen reads the first; revision must be 1)."""

    capabilities: tuple[int, ...]
    revision: int = abi.ACPI_PDC_REVISION_ID


AcpiIds = tuple[int, ...] | Literal["all"]


@dataclass(frozen=True)
class ProcessorPower:
    """The power data for some processors, by ACPI processor id (or ``"all"``)."""

    acpi_ids: AcpiIds
    cx: CxInfo | None = None
    px: PxInfo | None = None
    pdc: Pdc | None = None
    cppc: CppcInfo | None = None
    # Free text (where the data came from: a firmware path...); not data Xen
    # sees, so two entries that differ only here are equal.
    description: str = field(default="", compare=False)


@dataclass(frozen=True)
class PowerTable:
    """A whole table: what one JSON/TOML file holds."""

    processors: tuple[ProcessorPower, ...]
    description: str = field(default="", compare=False)
