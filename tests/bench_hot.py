"""The upload hot path against its hand-packed floor (run by ``tests/benchmark.py``).

Runs in a child process with ``tests/stand_in/benchprivcmd.c`` preloaded: a
privcmd stand-in that answers each ``ioctl`` in user space with almost no
work, so what is measured is Python on both sides.  The *floor* is the
fastest hand-written Python for the same bytes: one precompiled
``struct.Struct.pack_into`` into an mmap, then ``fcntl.ioctl``.  Library path
and floor run interleaved, 5 rounds, and the medians are compared; times are
the process's CPU time, so a busy machine slows both sides alike.

Before timing, each library op's bytes (the arena after the call) are
compared with the floor's bytes packed at the same base address: the two
sides do the same work.
"""

from __future__ import annotations

import ctypes
import fcntl
import functools
import itertools
import mmap
import os
import statistics
import struct
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pyxenplatform import Hypervisor, Pdc  # noqa: E402
from pyxenplatform import abi  # noqa: E402
from pyxenplatform.marshal import PX_ALL  # noqa: E402
from tests.bench_floors import (  # noqa: E402
    CMD, CX, OP_SIZE, PDC_OP, PX, PX_ALL_OP, PX_PPC_OP, ROUNDS, TABLE, VERSION, Floor,
    interleaved, px_all_values, ratio_line, same_bytes, same_cx_bytes,
)

PDC = Pdc((0xBBF,))
REQ = abi.IOCTL_PRIVCMD_HYPERCALL
PLATFORM_OP = 7  # __HYPERVISOR_platform_op


class PrivcmdFloor(Floor):
    """Ops issued by one ``ioctl`` each on the stand-in privcmd, from an mmap."""

    def __init__(self, device: str) -> None:
        fd = os.open(device, os.O_RDWR | os.O_CLOEXEC)
        memory = mmap.mmap(-1, mmap.PAGESIZE)
        anchor = ctypes.c_char.from_buffer(memory)
        base = ctypes.addressof(anchor)
        del anchor
        call = bytearray(struct.pack("<QQ32x", PLATFORM_OP, base))
        super().__init__(memory, base, functools.partial(fcntl.ioctl, fd, REQ, call, True))


def check_same_bytes(hv: Hypervisor) -> None:
    same_cx_bytes(hv, 1)
    hv.upload_px(3, PX, flags=PX_ALL)
    same_bytes(hv, lambda b: PX_ALL_OP.pack(CMD, VERSION, 3, abi.XEN_PM_PX, *px_all_values(b)))
    hv.upload_px(5, PX)
    hv.upload_px(5, PX)  # the same data again: _PPC alone
    same_bytes(hv, lambda b: PX_PPC_OP.pack(CMD, VERSION, 5, abi.XEN_PM_PX, abi.XEN_PX_PPC,
                                            PX.ppc))
    assert hv.upload_pdc(1, PDC).pdc_out == 0xBBF
    same_bytes(hv, lambda b: PDC_OP.pack(CMD, VERSION, 1, abi.XEN_PM_PDC, b + OP_SIZE,
                                         1, 1, 0xBBF))


def main() -> int:
    device = os.environ["BENCHPRIVCMD_PATH"]
    n_cpus = int(os.environ["BENCHPRIVCMD_CPUS"])
    hv = Hypervisor()
    floor = PrivcmdFloor(device)
    check_same_bytes(hv)
    oks = []
    n = 20_000
    print(f"  per op, {n:,} calls x {ROUNDS} rounds, interleaved, medians:")
    oks.append(ratio_line("Hypervisor.upload_cx (3 states)", *interleaved(
        lambda: hv.upload_cx(1, CX), lambda: floor.upload_cx(1), n), "us", 2.5))
    # upload_px sends all four parts (what a first upload, or changed data, sends);
    # the same data again sends _PPC alone: a floor of a few hundred ns, shown
    # for information.
    oks.append(ratio_line("Hypervisor.upload_px (all four, 4 states)", *interleaved(
        lambda: hv.upload_px(3, PX, flags=PX_ALL), lambda: floor.upload_px_all(3), n),
        "us", 2.5))
    oks.append(ratio_line("Hypervisor.upload_px (same data: _PPC alone)", *interleaved(
        lambda: hv.upload_px(3, PX), lambda: floor.upload_px_ppc(3), n), "us", None))
    oks.append(ratio_line("Hypervisor.upload_pdc (1 word)", *interleaved(
        lambda: hv.upload_pdc(1, PDC), lambda: floor.upload_pdc(1, PDC), n), "us", 2.5))
    # The same answer to the same call returns the result already made (a frozen
    # value); two equal Pdc objects in turn show the cost of making one each time.
    twins, floor_turns = itertools.cycle((PDC, Pdc((0xBBF,)))), itertools.cycle((1, 1))
    ratio_line("  ... a new result each call (no reuse)", *interleaved(
        lambda: hv.upload_pdc(1, next(twins)),
        lambda: floor.upload_pdc(next(floor_turns), PDC), n),
        "us", None)
    hv.close()

    print(f"  upload_table, Cx + Px for 'all', {n_cpus:,} CPUs (enumerate + upload), "
          f"{ROUNDS} rounds:")
    lib_s, floor_s = [], []
    for _ in range(ROUNDS):
        start = time.process_time()
        floor.upload_table()
        floor_s.append(time.process_time() - start)
        with Hypervisor() as fresh:  # a fresh one: every Px carries all four parts
            start = time.process_time()
            result = fresh.upload_table(TABLE)
            lib_s.append(time.process_time() - start)
        assert result.ok and len(result.results) == 2 * n_cpus
    oks.append(ratio_line(f"Hypervisor.upload_table ({2 * n_cpus:,} ops)",
                    statistics.median(lib_s) * 1e3, statistics.median(floor_s) * 1e3, "ms",
                    3.5))
    return 0 if all(oks) else 1


if __name__ == "__main__":
    sys.exit(main())
