"""Tests of the fake privcmd itself, independent of pyxenplatform.

Each test runs a child Python that lays out a ``struct xen_platform_op`` by
hand with ``struct.pack`` (offsets from platform-layout-x86_64.txt, x86_64)
and issues it through ``fcntl.ioctl`` on the fake device; the stand-in's
JSON record must give back, field by field, what was packed.  The expected
values are written here, never read back from the stand-in.
"""

from __future__ import annotations

import json
import sys
import textwrap
from typing import Any

import pytest

from tests.stand_in.fake import FakeRun
from tests.stand_in.fixtures import FakePrivcmd, fake_privcmd, fakeprivcmd_interposer  # noqa: F401

VERSION = 0x03000001  # XENPF_INTERFACE_VERSION
EFAULT, EACCES, EPERM, EINVAL, ENODEV, ENOTTY, ENOSYS = 14, 13, 1, 22, 19, 25, 38

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


# ---- XEN_PM_CX ----------------------------------------------------------------

CX_STATES: list[dict[str, Any]] = [
    {"reg": {"space_id": 0x7F, "bit_width": 1, "bit_offset": 2, "access_size": 1, "address": 0x00},
     "type": 1, "latency": 1, "power": 1000, "dpcnt": 0, "dp": []},
    {"reg": {"space_id": 1, "bit_width": 8, "bit_offset": 3, "access_size": 4, "address": 0x1122334455667788},
     "type": 2, "latency": 59, "power": 500, "dpcnt": 2,
     "dp": [{"domain": 7, "coord_type": 0xFD, "num": 2}, {"domain": 0xFFFFFFFF, "coord_type": 0xFE, "num": 4}]},
    {"reg": {"space_id": 0x7F, "bit_width": 1, "bit_offset": 2, "access_size": 3, "address": 0x60},
     "type": 0xAB, "latency": 0x12345678, "power": 0xFEDCBA98, "dpcnt": 0, "dp": []},
]
CX_SNIPPET = """
    arena = Arena()
    states, dps = cx_states(arena, P["states"])
    states_addr = arena.put(states) if P["states"] else 0
    union = struct.pack("<4IQ", P["id"], 0, len(P["states"]), P["flags"], states_addr)
    op = arena.put(platform_op(54, union))
    done(errno=hypercall(op), op=op, states=states_addr, dps=dps)
"""
FLAG_NAMES = ("bm_control", "bm_check", "has_cst", "power_setup_done", "bm_rld_set")


@pytest.mark.parametrize("flags", [0b10101, 0b01010])
def test_cx_upload_is_decoded_field_by_field(fake_privcmd: FakePrivcmd, flags: int) -> None:
    run, out = run_child(fake_privcmd, CX_SNIPPET, {"id": 1, "flags": flags, "states": CX_STATES})
    assert out["errno"] == 0
    # Bit-fields in declaration order from bit 0 (gcc on x86_64).
    expected_flags = {name: (flags >> bit) & 1 for bit, name in enumerate(FLAG_NAMES)}
    assert run.records == [
        record(
            54, 0,
            [buf("op", out["op"], 136), buf("power.states", out["states"], 3 * 48),
             buf("power.states[1].dp", out["dps"][0], 2 * 12)],
            set_pminfo={"id": 1, "type": 0, "power": {"count": 3, "flags": expected_flags, "states": CX_STATES}},
        )
    ]


def test_cx_with_no_states_reads_only_the_op(fake_privcmd: FakePrivcmd) -> None:
    run, out = run_child(fake_privcmd, CX_SNIPPET, {"id": 0, "flags": 0, "states": []})
    assert out["errno"] == 0
    assert run.records[0]["buffers"] == [buf("op", out["op"], 136)]


def test_cx_for_an_acpi_id_without_cpu_is_einval(fake_privcmd: FakePrivcmd) -> None:
    # Xen's get_cpu_id() finds no CPU: set_cx_pminfo() returns -EINVAL.
    run, out = run_child(fake_privcmd, CX_SNIPPET, {"id": 9, "flags": 0, "states": CX_STATES[:1]}, cpus="0:0:2")
    assert out["errno"] == EINVAL
    assert run.records[0]["set_pminfo"]["power"]["states"] == CX_STATES[:1]


# ---- XEN_PM_PX ----------------------------------------------------------------

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
PX_SNIPPET = """
    arena = Arena()
    states = arena.put(px_states(P["states"])) if P["states"] else 0
    op = arena.put(platform_op(54, struct.pack("<2I", P["id"], 1) + perf(P["perf"], states)))
    done(errno=hypercall(op), op=op, states=states)
"""


def test_px_upload_is_decoded_field_by_field(fake_privcmd: FakePrivcmd) -> None:
    run, out = run_child(fake_privcmd, PX_SNIPPET, {"id": 1, "perf": PERF, "states": PX_STATES})
    assert out["errno"] == 0
    assert run.records == [
        record(
            54, 0,
            [buf("op", out["op"], 136), buf("perf.states", out["states"], 3 * 48)],
            set_pminfo={"id": 1, "type": 1, "perf": {**PERF, "states": PX_STATES}},
        )
    ]


def test_px_without_pss_does_not_read_states(fake_privcmd: FakePrivcmd) -> None:
    # Only XEN_PX_PPC: Xen copies no _PSS even though state_count and states are set.
    perf = {**PERF, "flags": 4}
    run, out = run_child(fake_privcmd, PX_SNIPPET, {"id": 0, "perf": perf, "states": PX_STATES})
    assert out["errno"] == 0
    assert run.records[0]["buffers"] == [buf("op", out["op"], 136)]
    assert run.records[0]["set_pminfo"]["perf"] == perf


@pytest.mark.parametrize(
    "change",
    [
        {"control_register": {**PERF["control_register"], "space_id": 1}},  # _PCT space_ids differ
        {"state_count": 1},  # _PSS needs more than one state
        {"shared_type": 0xFC},  # raw ACPI coordination, not XEN_CPUPERF_SHARED_TYPE_*
    ],
)
def test_px_checks_xen_makes_are_einval(fake_privcmd: FakePrivcmd, change: dict[str, Any]) -> None:
    run, out = run_child(fake_privcmd, PX_SNIPPET, {"id": 1, "perf": {**PERF, **change}, "states": PX_STATES})
    assert out["errno"] == EINVAL
    if change.get("state_count") == 1:  # refused before Xen copies any _PSS entry
        assert run.records[0]["buffers"] == [buf("op", out["op"], 136)]


# ---- XEN_PM_PDC ---------------------------------------------------------------

PDC_SNIPPET = """
    arena = Arena()
    pdc = arena.put(struct.pack("<3I", *P["words"]))
    op = arena.put(platform_op(54, struct.pack("<2IQ", P["id"], 3, pdc)))
    err = hypercall(op)
    done(errno=err, op=op, pdc=pdc, words=struct.unpack("<3I", arena.get(pdc, 12)))
"""
# Xen's xen/include/acpi/pdc_intel.h
PDC_T_MASK, PDC_C_CAPABILITY_SMP, PDC_EST_CAPABILITY_SWSMP = 0x0084, 0x031A, 0x082B


@pytest.mark.parametrize("word2", [0, 0xFFFFFFFF, 0x0004])
def test_pdc_reads_three_words_and_writes_the_third_back(fake_privcmd: FakePrivcmd, word2: int) -> None:
    run, out = run_child(fake_privcmd, PDC_SNIPPET, {"id": 1, "words": [1, 1, word2]})
    written = (word2 & PDC_T_MASK) | PDC_C_CAPABILITY_SMP | PDC_EST_CAPABILITY_SWSMP
    assert out["errno"] == 0
    assert out["words"] == [1, 1, written]
    assert run.records == [
        record(
            54, 0,
            [buf("op", out["op"], 136), buf("pdc", out["pdc"], 8), buf("pdc[2]", out["pdc"] + 8, 4)],
            set_pminfo={"id": 1, "type": 3, "pdc": [1, 1, word2], "pdc_out": written},
        )
    ]


@pytest.mark.parametrize(
    ("acpi_id", "words", "cpus"),
    [
        (1, [2, 1, 5], None),  # not ACPI_PDC_REVISION_ID
        (1, [1, 0, 5], None),  # no capability words
        (7, [1, 1, 5], None),  # no CPU for this ACPI id
        (1, [1, 1, 5], "0:0:0,1:1:1:offline"),  # the CPU is offline
    ],
)
def test_pdc_refused_is_einval_and_not_written(
    fake_privcmd: FakePrivcmd, acpi_id: int, words: list[int], cpus: str | None
) -> None:
    _, out = run_child(fake_privcmd, PDC_SNIPPET, {"id": acpi_id, "words": words}, cpus=cpus)
    assert out["errno"] == EINVAL
    assert out["words"] == words


def test_pdc_for_acpi_id_all_ones_means_the_boot_cpu(fake_privcmd: FakePrivcmd) -> None:
    _, out = run_child(fake_privcmd, PDC_SNIPPET, {"id": 0xFFFFFFFF, "words": [1, 1, 0]}, cpus="0:0:0")
    assert out["errno"] == 0


# ---- hypercall-safe memory ----------------------------------------------------

def test_op_on_the_heap_gets_efault(fake_privcmd: FakePrivcmd) -> None:
    snippet = """
        op = on_heap(platform_op(55, struct.pack("<I", 0)))
        done(errno=hypercall(op), op=op)
    """
    run, out = run_child(fake_privcmd, snippet)
    assert out["errno"] == EFAULT
    [rec] = run.records
    assert rec["errno"] == EFAULT
    assert rec["buffers"][0]["locked"] is False
    assert rec["buffers"][0]["addr"] == out["op"]


def test_allow_unlocked_lets_heap_memory_through(fake_privcmd: FakePrivcmd) -> None:
    snippet = """
        op = on_heap(platform_op(55, struct.pack("<I", 0)))
        done(errno=hypercall(op))
    """
    run, out = run_child(fake_privcmd, snippet, allow_unlocked=True)
    assert out["errno"] == 0
    assert run.records[0]["buffers"][0]["locked"] is False


def test_states_on_the_heap_get_efault_but_are_still_decoded(fake_privcmd: FakePrivcmd) -> None:
    snippet = """
        arena = Arena()
        states, _ = cx_states(arena, P)
        states_addr = on_heap(states)
        op = arena.put(platform_op(54, struct.pack("<4IQ", 0, 0, len(P), 0, states_addr)))
        done(errno=hypercall(op), op=op, states=states_addr)
    """
    run, out = run_child(fake_privcmd, snippet, CX_STATES[:1])
    assert out["errno"] == EFAULT
    [rec] = run.records
    assert [(b["what"], b["locked"]) for b in rec["buffers"]] == [("op", True), ("power.states", False)]
    assert rec["set_pminfo"]["power"]["states"] == CX_STATES[:1]


def test_op_straddling_into_an_unlocked_page_gets_efault(fake_privcmd: FakePrivcmd) -> None:
    # Only the first of two pages is locked; the op starts 64 bytes before the end of it.
    snippet = """
        arena = Arena(pages=2, lock_pages=1)
        op = arena.put(platform_op(55, struct.pack("<I", 0)), at=mmap.PAGESIZE - 64)
        done(errno=hypercall(op))
    """
    run, out = run_child(fake_privcmd, snippet)
    assert out["errno"] == EFAULT
    assert run.records[0]["buffers"][0]["locked"] is False


def test_unmapped_op_gets_efault(fake_privcmd: FakePrivcmd) -> None:
    snippet = """
        arena = Arena(pages=1)
        addr = arena.base
        arena.map.close()  # the pointer now points nowhere
        done(errno=hypercall(addr))
    """
    run, out = run_child(fake_privcmd, snippet)
    assert out["errno"] == EFAULT
    assert run.records[0]["buffers"][0]["mapping"] == "unmapped"
    assert "cmd" not in run.records[0]


# ---- XENPF_get_cpuinfo / XENPF_get_cpu_version --------------------------------

CPUINFO_SNIPPET = """
    # As Linux's drivers/xen/pcpu.c: ask for CPU 0 up to max_present (and one past it).
    arena = Arena()
    answers, cpu, last = [], 0, 0
    while cpu <= last + 1:
        # flags is pre-set to show Xen sets it, apic/acpi ids show what Xen leaves alone.
        union = struct.pack("<5I", cpu, 0xAAAA, 0xAAAA, 0xDEAD0001, 0xDEAD0002).ljust(128, b"\\x5a")
        op = arena.put(platform_op(55, union))
        err = hypercall(op)
        raw = arena.get(op, 136)
        answers.append([err, *struct.unpack_from("<5I", raw, 8), raw[28:].hex(), raw[:8].hex()])
        if err:
            break
        last = answers[-1][2]
        cpu += 1
    done(answers=answers)
"""


@pytest.mark.parametrize(
    "cpus",
    [
        "0:0:2,1:2:4,2:4:6,3:6:8",  # ACPI ids not equal to Xen ids
        "0:0:2,2:4:6:offline,5:10:12",  # gaps in Xen ids, one CPU offline
    ],
)
def test_get_cpuinfo_answers_like_xen(fake_privcmd: FakePrivcmd, cpus: str) -> None:
    table: dict[int, tuple[int, int, bool]] = {}
    for entry in cpus.split(","):
        fields = entry.split(":")
        table[int(fields[0])] = (int(fields[1]), int(fields[2]), fields[3:] != ["offline"])
    max_present = max(table)
    run, out = run_child(fake_privcmd, CPUINFO_SNIPPET, cpus=cpus)

    expected = []
    for cpu in range(max_present + 2):
        if cpu in table:
            apic_id, acpi_id, online = table[cpu]
            flags = 1 if online else 0  # XEN_PCPU_FLAGS_ONLINE
        else:
            apic_id, acpi_id, flags = 0xDEAD0001, 0xDEAD0002, 2  # XEN_PCPU_FLAGS_INVALID, ids untouched
        # Only u.pcpu_info (20 bytes at 8) is copied back: cmd, version and the rest stay.
        expected.append([0, cpu, max_present, flags, apic_id, acpi_id, "5a" * 108, "37000000" "01000003"])
    assert out["answers"] == expected
    assert len(run.records) == max_present + 2
    assert all(r["errno"] == 0 and r["cmd"] == 55 for r in run.records)


def test_get_cpu_version_answers_like_xen(fake_privcmd: FakePrivcmd) -> None:
    snippet = """
        arena = Arena()
        answers = []
        for cpu in (0, 1, 2, 3):
            op = arena.put(platform_op(48, struct.pack("<2I12s3I", cpu, 0, b"x" * 12, 9, 9, 9)))
            err = hypercall(op)
            _, max_present, vendor, family, model, stepping = struct.unpack_from("<2I12s3I", arena.get(op, 136), 8)
            answers.append([err, max_present, vendor.hex(), family, model, stepping])
        done(answers=answers)
    """
    run, out = run_child(fake_privcmd, snippet, cpus="0:0:0,1:2:2:offline,3:6:6")
    intel, none = b"GenuineIntel".hex(), "00" * 12
    # An id that is not online (offline or absent) gets zeros, still with rc 0.
    assert out["answers"] == [
        [0, 3, intel, 6, 42, 1],
        [0, 3, none, 0, 0, 0],
        [0, 3, none, 0, 0, 0],
        [0, 3, intel, 6, 42, 1],
    ]
    assert run.records[0]["pcpu_version"] == {
        "xen_cpuid": 0, "max_present": 3, "vendor_id": "GenuineIntel", "family": 6, "model": 42, "stepping": 1,
    }


# ---- failure injection, version, unknown requests -----------------------------

def test_errno_injection_by_cmd_type_and_acpi_id(fake_privcmd: FakePrivcmd) -> None:
    snippet = """
        arena = Arena()
        states = arena.put(px_states(P["states"]))
        answers = {}
        for acpi_id in (5, 6):
            op = arena.put(platform_op(54, struct.pack("<2I", acpi_id, 1) + perf(P["perf"], states)))
            answers[f"px{acpi_id}"] = hypercall(op)
        op = arena.put(platform_op(54, struct.pack("<4IQ", 6, 0, 0, 0, 0)))
        answers["cx6"] = hypercall(op)
        done(**answers)
    """
    params = {"perf": PERF, "states": PX_STATES}
    cpus = "0:0:5,1:1:6"
    # ENODEV for every Px upload (Xen without a cpufreq driver), Cx untouched.
    run, out = run_child(fake_privcmd, snippet, params, cpus=cpus, errno="54/1=19")
    assert out == {"px5": ENODEV, "px6": ENODEV, "cx6": 0}
    assert run.records[0]["errno"] == ENODEV
    assert run.records[0]["set_pminfo"]["perf"]["states"] == PX_STATES  # decoded before failing
    # One ACPI id only, whatever the type.
    _, out = run_child(fake_privcmd, snippet, params, cpus=cpus, errno="54:5=22")
    assert out == {"px5": EINVAL, "px6": 0, "cx6": 0}
    # First match wins.
    _, out = run_child(fake_privcmd, snippet, params, cpus=cpus, errno="54/0:6=1,54=19")
    assert out == {"px5": ENODEV, "px6": ENODEV, "cx6": EPERM}


def test_injected_failure_writes_nothing_back(fake_privcmd: FakePrivcmd) -> None:
    _, out = run_child(fake_privcmd, CPUINFO_SNIPPET, cpus="0:0:0", errno="55=1")
    assert out["answers"][0][:7] == [EPERM, 0, 0xAAAA, 0xAAAA, 0xDEAD0001, 0xDEAD0002, "5a" * 108]


def test_bad_injection_spec_stops_the_process_loudly(fake_privcmd: FakePrivcmd) -> None:
    run = fake_privcmd([sys.executable, "-c", PRELUDE + textwrap.dedent(CPUINFO_SNIPPET), "null"], errno="55=x")
    assert run.returncode != 0
    assert "fakeprivcmd: bad FAKEPRIVCMD_ERRNO: 55=x" in run.stderr


def test_wrong_interface_version_is_eacces_before_anything_else(fake_privcmd: FakePrivcmd) -> None:
    snippet = """
        arena = Arena()
        states = arena.put(px_states(P["states"]))
        op = arena.put(platform_op(54, struct.pack("<2I", 0, 1) + perf(P["perf"], states), version=0x03000000))
        done(errno=hypercall(op), op=op)
    """
    run, out = run_child(fake_privcmd, snippet, {"perf": PERF, "states": PX_STATES}, errno="54=19")
    assert out["errno"] == EACCES
    assert run.records == [
        {"op": 7, "cmd": 54, "interface_version": 0x03000000, "errno": EACCES,
         "buffers": [buf("op", out["op"], 136)]}
    ]


@pytest.mark.parametrize(
    ("hypercall_op", "cmd", "union_hex", "errno"),
    [
        (6, 55, "", ENOSYS),  # not __HYPERVISOR_platform_op
        (7, 99, "", ENOSYS),  # a platform op the stand-in does not play
        (7, 54, "0000000002000000", ENOSYS),  # XEN_PM_TX: Xen never sets XEN_PROCESSOR_PM_TX
        (7, 54, "0000000009000000", EINVAL),  # unknown pminfo type
    ],
)
def test_unknown_requests(fake_privcmd: FakePrivcmd, hypercall_op: int, cmd: int, union_hex: str, errno: int) -> None:
    snippet = """
        arena = Arena()
        op = arena.put(platform_op(P[1], bytes.fromhex(P[2])))
        done(errno=hypercall(op, hypercall_op=P[0]))
    """
    run, out = run_child(fake_privcmd, snippet, [hypercall_op, cmd, union_hex])
    assert out["errno"] == errno
    assert run.records[0]["op"] == hypercall_op
    assert run.records[0]["errno"] == errno


def test_other_fds_and_requests_are_not_hijacked(fake_privcmd: FakePrivcmd) -> None:
    snippet = """
        import termios
        r, w = os.pipe()
        os.write(w, b"12345")
        pending = bytearray(4)
        fcntl.ioctl(r, termios.FIONREAD, pending)  # a real pipe: the real ioctl
        fd = os.open(os.environ["PYXENPLATFORM_PRIVCMD"], os.O_RDWR)
        try:
            fcntl.ioctl(fd, termios.FIONREAD, bytearray(4))  # the fake device, not a hypercall
            err = 0
        except OSError as e:
            err = e.errno
        done(pending=struct.unpack("<i", pending)[0], fake_errno=err)
    """
    run, out = run_child(fake_privcmd, snippet)
    assert out == {"pending": 5, "fake_errno": ENOTTY}
    assert run.records == []
