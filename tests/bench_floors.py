"""The benchmark's data, its hand-packed floors and how a ratio is measured.

Every speed target of ``tests/benchmark.py`` is a ratio to a *floor* measured
in the same run: the fastest hand-written Python that does the same job.  For
an upload that is the same op bytes, packed by one precompiled
``struct.Struct.pack_into`` into memory Xen may read, then issued: through
``fcntl.ioctl`` on the privcmd stand-in (``tests/bench_hot.py``), or straight
to a transport's ``platform_op`` (:class:`TransportFloor`: the simulator, the
no-op transport).  Library path and floor run interleaved, ``ROUNDS`` rounds,
and the medians are compared; times are CPU time, so a busy machine slows both
sides alike.
"""

from __future__ import annotations

import functools
import mmap
import statistics
import struct
import time
from collections.abc import Callable

from pyxenplatform import (
    CoordType,
    CState,
    CxInfo,
    Hypervisor,
    Pdc,
    PhysicalCpu,
    PowerTable,
    ProcessorPower,
    PsdDomain,
    PState,
    PxInfo,
    Register,
    SpaceId,
    abi,
)
from pyxenplatform.arena import HypercallMemory
from pyxenplatform.marshal import PX_ALL
from pyxenplatform.transport import Transport

# The example tables' data: C1 FFH, C2/C3 P_LVLx reads; 4 P-states.
CX = CxInfo((
    CState(1, 1, 1000, Register.ffh(0x00)),
    CState(2, 1, 500, Register.system_io(0x1014)),
    CState(3, 35, 250, Register.system_io(0x1015)),
))
FFH_PCT = Register(SpaceId.FIXED_HARDWARE)
PX = PxInfo(FFH_PCT, FFH_PCT, tuple(
    PState(mhz, mw, 10, 10, ratio << 8, ratio << 8)
    for mhz, mw, ratio in ((3300, 84000, 0x21), (2400, 54445, 0x18),
                           (1700, 35397, 0x11), (800, 14837, 0x08))),
    PsdDomain(0, CoordType.SW_ALL, 4))
TABLE = PowerTable((ProcessorPower("all", cx=CX, px=PX),))


def host(n: int) -> list[PhysicalCpu]:
    # Non-contiguous ACPI ids, as firmware numbers them (here odd ids from 1).
    return [PhysicalCpu(xen_cpuid=i, acpi_id=2 * i + 1, apic_id=2 * i, online=True)
            for i in range(n)]


ROUNDS = 5
CMD, VERSION = abi.XENPF_set_processor_pminfo, abi.XENPF_INTERFACE_VERSION
OP_SIZE = 136  # sizeof(struct xen_platform_op): the arrays follow it

# xen_platform_op with set_pminfo: cmd, interface_version, id, type, then u.
CX_OP = struct.Struct("<IIIIIIQ104x" + "IIIIQB3xIIIQ" * len(CX.states))
PX_PPC_OP = struct.Struct("<IIIIII112x")
PCT = "B1xHBBBBQ"
PX_ALL_OP = struct.Struct("<IIIIII" + PCT + PCT + "I4xQ" + "QQQQQ" + "I20x"
                          + "QQQQQQ" * len(PX.states))
PDC_OP = struct.Struct("<IIIIQ112xIII")
CPUINFO_OP = struct.Struct("<IIIIIII108x")
CPUINFO_OUT = struct.Struct("<III")  # max_present, flags, apic_id ... acpi_id below


def cx_values(base: int) -> tuple[int, ...]:
    """CX_OP's fields after the header, with the states array at ``base + OP_SIZE``."""
    flags = CX.flags.bm_control | CX.flags.bm_check << 1 | CX.flags.has_cst << 2
    values: list[int] = [len(CX.states), flags, base + OP_SIZE]
    for s in CX.states:
        r = s.register
        values += [r.space_id, r.bit_width, r.bit_offset, r.access_size, r.address,
                   s.type, s.latency, s.power, 0, 0]
    return tuple(values)


def px_all_values(base: int) -> tuple[int, ...]:
    """PX_ALL_OP's fields after the header, with the states array at ``base + OP_SIZE``."""
    def pct(r: Register) -> list[int]:
        return [abi.ACPI_RESOURCE_GENERIC_REGISTER, abi.ACPI_RESOURCE_GENERIC_REGISTER_LENGTH,
                r.space_id, r.bit_width, r.bit_offset, r.access_size, r.address]
    psd = PX.psd
    assert psd is not None
    values = [PX_ALL, PX.ppc, *pct(PX.control_register), *pct(PX.status_register),
              len(PX.states), base + OP_SIZE, psd.num_entries, psd.revision, psd.domain,
              psd.coord_type, psd.num_processors, abi.XEN_CPUPERF_SHARED_TYPE_ALL]
    for s in PX.states:
        values += [s.core_frequency, s.power, s.transition_latency, s.bus_master_latency,
                   s.control, s.status]
    return tuple(values)


def same_bytes(hv: Hypervisor, floor_bytes: Callable[[int], bytes]) -> None:
    """The library's last op (its arena) is what the floor packs at the same address."""
    got = hv.transport.arena.contents()
    want = floor_bytes(hv.transport.arena.base_address)
    assert got[:len(want)] == want and not got[len(want):].strip(b"\0"), (got.hex(), want.hex())


def same_cx_bytes(hv: Hypervisor, acpi_id: int) -> None:
    hv.upload_cx(acpi_id, CX)
    same_bytes(hv, lambda b: CX_OP.pack(CMD, VERSION, acpi_id, abi.XEN_PM_CX, *cx_values(b)))


class Floor:
    """Hand-packed ops: one ``pack_into`` into ``memory`` (at address ``base``) and one
    ``issue()`` each, which hands the op at ``base`` to Xen: an ``ioctl`` on privcmd
    (``tests/bench_hot.py``) or a transport's ``platform_op`` (:class:`TransportFloor`)."""

    def __init__(self, memory: mmap.mmap, base: int, issue: Callable[[], object]) -> None:
        self.mm, self.base, self.issue = memory, base, issue
        self.cx, self.px_all = cx_values(base), px_all_values(base)

    def upload_cx(self, acpi_id: int) -> None:
        CX_OP.pack_into(self.mm, 0, CMD, VERSION, acpi_id, abi.XEN_PM_CX, *self.cx)
        self.issue()

    def upload_px_ppc(self, acpi_id: int) -> None:
        PX_PPC_OP.pack_into(self.mm, 0, CMD, VERSION, acpi_id, abi.XEN_PM_PX,
                            abi.XEN_PX_PPC, PX.ppc)
        self.issue()

    def upload_px_all(self, acpi_id: int) -> None:
        PX_ALL_OP.pack_into(self.mm, 0, CMD, VERSION, acpi_id, abi.XEN_PM_PX, *self.px_all)
        self.issue()

    def upload_pdc(self, acpi_id: int, pdc: Pdc) -> int:
        PDC_OP.pack_into(self.mm, 0, CMD, VERSION, acpi_id, abi.XEN_PM_PDC,
                         self.base + OP_SIZE, pdc.revision, 1, pdc.capabilities[0])
        self.issue()
        word: int = struct.unpack_from("<I", self.mm, OP_SIZE + 8)[0]
        return word

    def physical_acpi_ids(self) -> list[int]:
        ids, xen_cpuid, max_present = [], 0, 0
        while xen_cpuid <= max_present:
            CPUINFO_OP.pack_into(self.mm, 0, abi.XENPF_get_cpuinfo, VERSION, xen_cpuid,
                                 0, 0, 0, 0)
            self.issue()
            max_present, flags, _ = CPUINFO_OUT.unpack_from(self.mm, 12)
            if not flags & abi.XEN_PCPU_FLAGS_INVALID:
                ids.append(struct.unpack_from("<I", self.mm, 24)[0])
            xen_cpuid += 1
        return ids

    def upload_table(self) -> None:
        """The CPU walk, then Cx and all of Px for each CPU, as ``upload_table`` does."""
        for acpi_id in self.physical_acpi_ids():
            self.upload_cx(acpi_id)
            self.upload_px_all(acpi_id)


class TransportFloor(Floor):
    """Ops given straight to a transport's ``platform_op``, in a page of their own."""

    def __init__(self, transport: Transport) -> None:
        self.memory = HypercallMemory(mmap.PAGESIZE, None, locked=False)
        base = self.memory.address
        super().__init__(self.memory.map, base, functools.partial(transport.platform_op, base))

    def close(self) -> None:
        self.memory.close()


def per_op_us(fn: Callable[[], object], n: int) -> float:
    # CPU time of this process, not wall time: the machine may be shared, and
    # time spent waiting for a core is nobody's cost here.
    start = time.process_time()
    for _ in range(n):
        fn()
    return (time.process_time() - start) / n * 1e6


def interleaved(lib: Callable[[], object], floor: Callable[[], object],
                n: int) -> tuple[float, float]:
    """Median microseconds per call of each, over ``ROUNDS`` interleaved rounds."""
    lib_us, floor_us = [], []
    for _ in range(ROUNDS):
        floor_us.append(per_op_us(floor, n))
        lib_us.append(per_op_us(lib, n))
    return statistics.median(lib_us), statistics.median(floor_us)


def ratio_line(name: str, lib: float, floor: float, unit: str, target: float | None,
               note: str = "") -> bool:
    """Print one figure beside its floor; True unless its ratio misses ``target``."""
    ratio = lib / floor
    ok = target is None or ratio < target
    verdict = "(information)" if target is None else \
        f"target < {target:g}x {'PASS' if ok else 'FAIL'}"
    extra = f"  ({note})" if note else ""
    print(f"  {name:<40} {lib:>9.2f} {unit} floor {floor:>8.2f} {unit} ratio {ratio:>5.2f}x "
          f"{verdict}{extra}")
    return ok
