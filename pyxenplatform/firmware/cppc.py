"""``_CPC`` -> :class:`~pyxenplatform.model.CppcInfo`, for ``XEN_PM_CPPC`` (Xen 4.21+).

``_CPC`` (ACPI 6.5, 8.4.6.1) is a Package: ``NumEntries``, ``Revision``,
then one entry per CPPC field, each an Integer or a Buffer holding one
Generic Register descriptor.  Revision 3 has 23 entries, revision 2 has 21
(no frequencies); a later revision with more is read as 3 (Linux
``drivers/acpi/cppc_acpi.c`` ``acpi_cppc_processor_probe``).  Xen takes six
of them (``struct xen_processor_cppc``) plus ``_PSD``.

Integer entries are taken as they are.  A register entry is read only with a
``registers`` reader (the running machine: :class:`MachineRegisters`), else
it is left out (0, which Xen reads as "absent") with a warning; so is a
register the reader cannot read.  Xen's amd-cppc driver reads the four perf
values from the CPU's CPPC MSR itself and only warns when the uploaded ones
are 0 (cpufreq.c ``set_cppc_pminfo``), so an upload with them left out still
starts the driver.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable, Mapping
from pathlib import Path

from ..acpi.regions import DevMem
from ..model import CoordType, CppcInfo, PsdDomain, Register, SpaceId
from .perf import convert_psd
from .values import Notes, decode_gas, kind

# Package index of each field Xen takes (ACPI 6.5 Table 8.35; Linux's
# cpc_regs enum + 2 for NumEntries and Revision).
CPC_INDEX = {"highest_perf": 2, "nominal_perf": 3, "lowest_nonlinear_perf": 4,
             "lowest_perf": 5, "lowest_mhz": 21, "nominal_mhz": 22}
ENTRIES_BY_REVISION = {2: 21, 3: 23}
U32 = 0xFFFF_FFFF

# (processor's namespace path, register) -> the register's value; raises
# OSError when it cannot be read.
RegisterReader = Callable[[str, Register], int]


def convert_cpc(objects: Mapping[str, object], fallback_domain: int, note: Notes,
                registers: RegisterReader | None = None) -> CppcInfo | None:
    """One processor's ``_CPC`` (with its ``_PSD``) -> its CPPC data, or None."""
    fields = _entries(objects["_CPC"], note)
    if fields is None:
        return None
    psd = _cppc_psd(objects, fallback_domain, note)
    if psd is None:
        return None
    got = {name: _value(fields, name, note, registers) for name in CPC_INDEX}
    return CppcInfo(got["highest_perf"], got["nominal_perf"], got["lowest_nonlinear_perf"],
                    got["lowest_perf"], psd, got["lowest_mhz"], got["nominal_mhz"])


def _cppc_psd(objects: Mapping[str, object], fallback_domain: int,
              note: Notes) -> PsdDomain | None:
    """The ``_PSD`` sent with ``_CPC``: Xen takes only HW_ALL in CPPC mode."""
    own = PsdDomain(fallback_domain, CoordType.HW_ALL, 1)
    if "_PSD" not in objects:
        # No _PSD: the CPU coordinates its own performance (the hardware does).
        note("_CPC", f"no _PSD: sent with its own HW_ALL domain {fallback_domain}")
        return own
    scratch = Notes(note.proc)  # convert_psd's notes are the P-state path's
    psd = convert_psd(objects, fallback_domain, scratch)
    if scratch.items and psd == PsdDomain(fallback_domain, CoordType.SW_ALL, 1):
        note("_CPC", f"_PSD unusable, sent with its own HW_ALL domain {fallback_domain}")
        return own
    if psd.coord_type != CoordType.HW_ALL:
        note("_CPC", f"not converted: its _PSD coordination is {psd.coord_type:#x}, and in "
             "CPPC mode Xen accepts only HW_ALL (0xfe) (cpufreq.c set_cppc_pminfo)")
        return None
    return psd


def _entries(value: object, note: Notes) -> tuple[object, ...] | None:
    """The package if its NumEntries and Revision are ones Linux accepts."""
    if not isinstance(value, tuple) or len(value) < 2:
        note("_CPC", f"not converted: {kind(value)}, not a _CPC Package")
        return None
    count, revision = value[0], value[1]
    ok = isinstance(count, int) and isinstance(revision, int) and count == len(value) and (
        count == ENTRIES_BY_REVISION[revision] if revision in ENTRIES_BY_REVISION
        else revision > 3 and count > ENTRIES_BY_REVISION[3])
    if not ok:
        note("_CPC", f"not converted: NumEntries {count!r} and Revision {revision!r} with "
             f"{len(value)} entries are not a revision 2 (21 entries) or 3 (23) _CPC "
             "(cppc_acpi.c acpi_cppc_processor_probe)")
        return None
    return value


def _value(fields: tuple[object, ...], name: str, note: Notes,
           registers: RegisterReader | None) -> int:
    index = CPC_INDEX[name]
    where = f"_CPC[{index}]"
    if index >= len(fields):
        return 0  # revision 2: no frequencies
    entry = fields[index]
    if isinstance(entry, int) and not isinstance(entry, bool):
        if 0 <= entry <= U32:
            return entry
        note(where, f"{name} {entry:#x} does not fit u32: left out (0)")
        return 0
    reg = decode_gas(entry) if isinstance(entry, bytes) else None
    if reg is None:
        note(where, f"{name}: {kind(entry)}, neither an Integer nor a register: left out (0)")
        return 0
    if _null(reg):
        return 0  # ACPI's "not supported" register: absent, as 0 says
    if registers is None:
        note(where, f"{name} is {_describe(reg)}: only the running machine can read it; "
             "left out (0)")
        return 0
    try:
        return min(_bits(registers(note.proc.path, reg), reg), U32)
    except OSError as exc:
        note(where, f"{name} is {_describe(reg)}: cannot read it ({exc.strerror or exc}); "
             "left out (0)")
        return 0


def _null(reg: Register) -> bool:
    """ACPI 6.5, 8.4.6.1: an optional register that is all zeros in system memory."""
    return reg.space_id == SpaceId.SYSTEM_MEMORY and reg.address == 0 and reg.bit_width == 0


def _bits(value: int, reg: Register) -> int:
    # arch/x86/kernel/acpi/cppc.c cpc_read_ffh: shift by bit_offset, keep bit_width bits.
    value >>= reg.bit_offset
    return value & ((1 << reg.bit_width) - 1) if reg.bit_width else value


def _describe(reg: Register) -> str:
    if reg.space_id == SpaceId.FIXED_HARDWARE:
        return (f"an FFH register (MSR {reg.address:#x} bits "
                f"{reg.bit_offset + max(reg.bit_width, 1) - 1}:{reg.bit_offset})")
    if reg.space_id == SpaceId.SYSTEM_MEMORY:
        return f"a SystemMemory register at {reg.address:#x}"
    space = SpaceId(reg.space_id).name if reg.space_id in SpaceId._value2member_map_ else \
        f"{reg.space_id:#x}"
    return f"a {space} register"


class MachineRegisters:
    """Reads ``_CPC`` registers on the running machine, read-only, never writes.

    FFH is an MSR on x86 (Linux ``arch/x86/kernel/acpi/cppc.c``), read
    through ``/dev/cpu/N/msr`` (module ``msr``) on the Linux CPU whose
    firmware node is the processor; SystemMemory through ``/dev/mem``, only
    inside RAM / ACPI ranges as the AML reader reads it
    (:class:`~pyxenplatform.acpi.regions.DevMem`: a read of device registers
    can have side effects).  In a Xen dom0 an MSR read would run on a virtual
    CPU, not on that processor, so FFH is not read there.  Any other space
    (PCC needs the platform's mailbox) is not read.
    """

    def __init__(self, sysfs: Path = Path("/sys"), dev: Path = Path("/dev")) -> None:
        self.dev = dev
        self.memory = DevMem(str(dev / "mem"), str(sysfs / "firmware" / "memmap"))
        self.under_xen = _read(sysfs / "hypervisor" / "type") == "xen"
        self.cpu_of = _linux_cpus(sysfs)

    def __call__(self, path: str, reg: Register) -> int:
        if reg.space_id == SpaceId.FIXED_HARDWARE:
            if self.under_xen:
                raise OSError(errno.EPERM, "in a Xen dom0 an MSR read runs on a virtual CPU")
            cpu = self.cpu_of.get(namespace_key(path))
            if cpu is None:
                raise OSError(errno.ENODEV, f"no Linux CPU has firmware node {path}")
            return int.from_bytes(_pread(self.dev / "cpu" / str(cpu) / "msr", 8, reg.address),
                                  "little")
        if reg.space_id == SpaceId.SYSTEM_MEMORY:
            data, how = self.memory.base(SpaceId.SYSTEM_MEMORY, reg.address, _access_bytes(reg))
            if how != DevMem.label:
                raise OSError(errno.EPERM, "not RAM or ACPI memory (device registers are "
                              "not read), or /dev/mem refused")
            return int.from_bytes(data, "little")
        raise OSError(errno.EOPNOTSUPP, "this address space is not read")


def _access_bytes(reg: Register) -> int:
    # ACPI GAS access size 1-4: byte, word, dword, qword; 0: from the bit width.
    if 1 <= reg.access_size <= 4:
        return 1 << (reg.access_size - 1)
    return max(1, min(8, (reg.bit_offset + reg.bit_width + 7) // 8))


def _pread(path: Path, size: int, offset: int) -> bytes:
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        data = os.pread(fd, size, offset)
    finally:
        os.close(fd)
    if len(data) != size:
        raise OSError(errno.EIO, f"short read of {path}")
    return data


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def _linux_cpus(sysfs: Path) -> Mapping[str, int]:
    """Namespace path of each Linux CPU's firmware node -> its CPU number."""
    found: dict[str, int] = {}
    for node in sorted((sysfs / "devices" / "system" / "cpu").glob("cpu[0-9]*/firmware_node")):
        path = _read(node / "path")
        if path:
            found[namespace_key(path)] = int(node.parent.name[3:])
    return found


def namespace_key(path: str) -> str:
    """``\\_PR.CPU0`` and ``\\_SB_.PR00`` as sysfs spells them: 4-character segments."""
    return "\\" + ".".join(seg.ljust(4, "_") for seg in path.lstrip("\\").split("."))
