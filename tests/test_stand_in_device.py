"""Tests of the fake privcmd itself: hypercall-safe memory, the CPU walk, failures.

As in tests/test_stand_in.py, a child Python packs each op by hand
(tests/stand_in/child.py); expected values are written here, never read
back from the stand-in.
"""

from __future__ import annotations

import sys
import textwrap
from errno import EACCES, EFAULT, EINVAL, ENODEV, ENOSYS, ENOTTY, EPERM

import pytest

from tests.stand_in.child import CX_STATES, PERF, PRELUDE, PX_STATES, buf, run_child
from tests.stand_in.fixtures import FakePrivcmd, fake_privcmd, fakeprivcmd_interposer  # noqa: F401


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
