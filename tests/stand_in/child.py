"""A child Python that lays out platform_ops by hand and issues them on the fake device.

The tests of the stand-in itself (tests/test_stand_in*.py) run PRELUDE plus a
snippet in a child process under the fake privcmd; the snippet packs the
``struct xen_platform_op`` with ``struct.pack`` (offsets from
platform-layout-x86_64.txt) and reports with ``done(**result)``.
"""

from __future__ import annotations

import json
import sys
import textwrap
from typing import Any

from tests.stand_in.fake import FakeRun
from tests.stand_in.fixtures import FakePrivcmd

VERSION = 0x03000001  # XENPF_INTERFACE_VERSION

# Runs in the child, before each test's snippet.
PRELUDE = textwrap.dedent(
    """
    import ctypes, fcntl, json, mmap, os, struct, sys
    P = json.loads(sys.argv[1])
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mlock.argtypes = (ctypes.c_void_p, ctypes.c_size_t)

    class Arena:
        # Anonymous pages, mlock()ed as libxencall's fallback does; lock_pages=0: none.
        def __init__(self, pages=4, lock_pages=None):
            self.map = mmap.mmap(-1, pages * mmap.PAGESIZE, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
            self.base = ctypes.addressof(ctypes.c_char.from_buffer(self.map))
            self.used = 0
            locked = (pages if lock_pages is None else lock_pages) * mmap.PAGESIZE
            if locked and libc.mlock(self.base, locked) != 0:
                raise OSError(ctypes.get_errno(), "mlock")
        def put(self, data, at=None):
            off = self.used if at is None else at
            self.map[off:off + len(data)] = data
            self.used = max(self.used, (off + len(data) + 7) & ~7)
            return self.base + off
        def get(self, addr, size):
            return bytes(self.map[addr - self.base:addr - self.base + size])

    keep = []
    def on_heap(data):
        buf = ctypes.create_string_buffer(bytes(data), len(data))
        keep.append(buf)
        return ctypes.addressof(buf)

    def hypercall(op_addr, hypercall_op=7):
        fd = os.open(os.environ["PYXENPLATFORM_PRIVCMD"], os.O_RDWR)
        try:
            fcntl.ioctl(fd, 0x305000, bytearray(struct.pack("<6Q", hypercall_op, op_addr, 0, 0, 0, 0)))
            return 0
        except OSError as e:
            return e.errno
        finally:
            os.close(fd)

    def platform_op(cmd, union=b"", version=0x03000001):
        return struct.pack("<II", cmd, version) + union.ljust(128, b"\\0")

    def cx_states(arena, states):
        # struct xen_processor_cx, 48 bytes: reg(24) type(1) hole(3) latency power dpcnt dp
        out, dps = b"", []
        for s in states:
            dp = 0
            if s["dp"]:
                dp = arena.put(b"".join(struct.pack("<3I", d["domain"], d["coord_type"], d["num"]) for d in s["dp"]))
                dps.append(dp)
            r = s["reg"]
            out += struct.pack("<4IQB3x3IQ", r["space_id"], r["bit_width"], r["bit_offset"],
                               r["access_size"], r["address"], s["type"], s["latency"], s["power"],
                               s["dpcnt"], dp)
        return out, dps

    def pct(r):
        # struct xen_pct_register, 16 bytes: descriptor hole length space_id bit_width bit_offset reserved address
        return struct.pack("<BxH4BQ", r["descriptor"], r["length"], r["space_id"], r["bit_width"],
                           r["bit_offset"], r["reserved"], r["address"])

    def perf(p, states_addr):
        # struct xen_processor_performance, 104 bytes
        d = p["domain_info"]
        return (struct.pack("<2I", p["flags"], p["platform_limit"]) + pct(p["control_register"])
                + pct(p["status_register"]) + struct.pack("<I4xQ", p["state_count"], states_addr)
                + struct.pack("<5Q", d["num_entries"], d["revision"], d["domain"], d["coord_type"],
                              d["num_processors"])
                + struct.pack("<I4x", p["shared_type"]))

    def px_states(states):
        return b"".join(struct.pack("<6Q", s["core_frequency"], s["power"], s["transition_latency"],
                                    s["bus_master_latency"], s["control"], s["status"]) for s in states)

    def done(**result):
        print(json.dumps(result))
    """
)


def run_child(fake: FakePrivcmd, snippet: str, params: object = None, **kw: Any) -> tuple[FakeRun, dict[str, Any]]:
    """Run PRELUDE + snippet under the fake; return the run and the child's ``done()`` result."""
    run = fake([sys.executable, "-c", PRELUDE + textwrap.dedent(snippet), json.dumps(params)], **kw)
    assert run.returncode == 0, run.stderr
    result: dict[str, Any] = json.loads(run.stdout.splitlines()[-1])
    return run, result


def buf(what: str, addr: int, size: int, locked: bool = True, mapping: str = "anon") -> dict[str, Any]:
    return {"what": what, "addr": addr, "size": size, "locked": locked, "mapping": mapping}


def record(cmd: int, errno: int, buffers: list[dict[str, Any]], **decoded: Any) -> dict[str, Any]:
    return {"op": 7, "cmd": cmd, "interface_version": VERSION, "errno": errno, "buffers": buffers, **decoded}


# Values the tests pack and expect back: every field distinct, some at their limits.
CX_STATES: list[dict[str, Any]] = [
    {"reg": {"space_id": 0x7F, "bit_width": 1, "bit_offset": 2, "access_size": 1, "address": 0x00},
     "type": 1, "latency": 1, "power": 1000, "dpcnt": 0, "dp": []},
    {"reg": {"space_id": 1, "bit_width": 8, "bit_offset": 3, "access_size": 4, "address": 0x1122334455667788},
     "type": 2, "latency": 59, "power": 500, "dpcnt": 2,
     "dp": [{"domain": 7, "coord_type": 0xFD, "num": 2}, {"domain": 0xFFFFFFFF, "coord_type": 0xFE, "num": 4}]},
    {"reg": {"space_id": 0x7F, "bit_width": 1, "bit_offset": 2, "access_size": 3, "address": 0x60},
     "type": 0xAB, "latency": 0x12345678, "power": 0xFEDCBA98, "dpcnt": 0, "dp": []},
]
PX_STATES = [
    {"core_frequency": 3401, "power": 95000, "transition_latency": 10, "bus_master_latency": 11,
     "control": 0x2200, "status": 0x2201},
    {"core_frequency": 3400, "power": 90000, "transition_latency": 12, "bus_master_latency": 13,
     "control": 0x2100, "status": 0x2101},
    {"core_frequency": 1600, "power": 35000, "transition_latency": 14, "bus_master_latency": 15,
     "control": 0x1000000000000001, "status": 0xFFFFFFFFFFFFFFFF},
]
PERF: dict[str, Any] = {
    "flags": 15, "platform_limit": 2,
    "control_register": {"descriptor": 0x82, "length": 12, "space_id": 0x7F, "bit_width": 0x40,
                         "bit_offset": 3, "reserved": 0x5A, "address": 0x199},
    "status_register": {"descriptor": 0x81, "length": 0x1234, "space_id": 0x7F, "bit_width": 0x10,
                        "bit_offset": 1, "reserved": 0, "address": 0x8000000000000198},
    "state_count": 3,
    "domain_info": {"num_entries": 5, "revision": 0, "domain": 9, "coord_type": 0xFC, "num_processors": 4},
    "shared_type": 2,
}
