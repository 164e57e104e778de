"""Tests of the fake privcmd itself, independent of pyxenplatform: the power-management ops.

Each test runs a child Python that lays out a ``struct xen_platform_op`` by
hand with ``struct.pack`` (offsets from platform-layout-x86_64.txt, x86_64)
and issues it through ``fcntl.ioctl`` on the fake device
(tests/stand_in/child.py); the stand-in's JSON record must give back, field
by field, what was packed.  The expected values are written here, never
read back from the stand-in.  tests/test_stand_in_device.py covers the rest.
"""

from __future__ import annotations

from errno import EINVAL
from typing import Any

import pytest

from tests.stand_in.child import CX_STATES, PERF, PX_STATES, buf, record, run_child
from tests.stand_in.fixtures import FakePrivcmd, fake_privcmd, fakeprivcmd_interposer  # noqa: F401


# ---- XEN_PM_CX ----------------------------------------------------------------

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
