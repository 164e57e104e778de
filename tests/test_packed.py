"""The packed (cached-bytes) path writes exactly what the ctypes builders write.

``pyxenplatform.marshal`` builds each op field by field in ctypes objects;
``pyxenplatform.packed`` packs the same call once with ``struct`` and the
hot path copies it.  Both run here into the same arena and their bytes are
compared whole (op, arrays, guest-handle addresses, the bytes between).
"""

from __future__ import annotations

import errno
import gc
import struct
import tracemalloc
from dataclasses import replace

import pytest

from pyxenplatform import (
    CoordType, CState, CStateDependency, CxFlags, CxInfo, Hypervisor, Pdc, PsdDomain, PState,
    PxInfo, Register, ValidationError,
)
from pyxenplatform import abi
from pyxenplatform.marshal import build_cx, build_pdc, build_px
from pyxenplatform.packed import ID_OFFSET, PX_ALL, Image, cx_image, pdc_image, px_image
from pyxenplatform.rules import check_cx, check_pdc, check_px
from pyxenplatform.sim import SimulatedXen
from pyxenplatform.transport import Arena

C1 = CState(1, 1, 1000, Register.ffh(0x00))
C2 = CState(2, 64, 500, Register.system_io(0x414),
            (CStateDependency(0, 0xFD, 2), CStateDependency(1, 0xFC, 4)))
C3 = CState(3, 96, 250, Register.system_io(0x415), (CStateDependency(7, 0xFE, 8),))
CXS = [
    CxInfo(()),
    CxInfo((C1,)),
    CxInfo((C1, C2, C3), CxFlags(bm_check=True, bm_control=True, has_cst=False)),
    CxInfo((replace(C2, dependencies=()), C3), CxFlags(bm_control=True)),
    CxInfo((C1, replace(C2, latency=0xFFFF_FFFF, power=0xFFFF_FFFF,
                        register=Register(1, 0xFF, 0xFF, 4, 0xFFFF_FFFF_FFFF_FFFF)))),
]
PX = PxInfo(Register(0x7F, 64, 0, 4, 0x199), Register(0x7F, 64, 0, 4, 0x198),
            tuple(PState(3000 - 100 * i, 30000 - i, 10, 11, 0x1E00 - i, 0x1E00 + i)
                  for i in range(5)),
            PsdDomain(3, CoordType.SW_ANY, 4), ppc=2)
PDCS = [Pdc((0xBBF,)), Pdc((0,)), Pdc((0xFFFF_FFFF,))]


def packed_bytes(sim: SimulatedXen, image: Image, acpi_id: int) -> bytes:
    """What the hot path writes: the image at the arena's base, the ACPI id in."""
    data = bytearray(image.at(sim.arena.base_address))
    struct.pack_into("<I", data, ID_OFFSET, acpi_id)
    return bytes(data)


@pytest.mark.parametrize("cx", CXS)
def test_cx_image_is_what_build_cx_writes(cx: CxInfo) -> None:
    check_cx("cx", cx)
    sim = SimulatedXen()
    build_cx(sim, 0x1234_5678, cx)
    assert packed_bytes(sim, cx_image(cx), 0x1234_5678) == sim.arena.contents()


@pytest.mark.parametrize("flags", range(16))
def test_px_image_is_what_build_px_writes(flags: int) -> None:
    check_px("px", PX)
    sim = SimulatedXen()
    build_px(sim, 7, PX, flags)
    assert packed_bytes(sim, px_image(PX, flags), 7) == sim.arena.contents()


@pytest.mark.parametrize("pdc", PDCS)
def test_pdc_image_is_what_build_pdc_writes(pdc: Pdc) -> None:
    check_pdc("pdc", pdc)
    sim = SimulatedXen()
    build_pdc(sim, 0xFFFF_FFFF, pdc)
    assert packed_bytes(sim, pdc_image(pdc), 0xFFFF_FFFF) == sim.arena.contents()


def test_uploads_leave_the_plain_paths_bytes_in_the_arena() -> None:
    """The facade's own calls (the cached path, a second time too) against the builders."""
    hv = Hypervisor.simulated(cpufreq_driver=True)
    plain = SimulatedXen()
    sim = hv.transport
    assert isinstance(sim, SimulatedXen)
    for _ in range(2):
        for cx in CXS[1:]:
            assert hv.upload_cx(1, cx).ok
            build_cx(plain, 1, cx)
            assert _rebased(plain, sim) == sim.arena.contents()
        assert hv.upload_px(0, PX, flags=PX_ALL).ok
        build_px(plain, 0, PX, PX_ALL)
        assert _rebased(plain, sim) == sim.arena.contents()
        for pdc in PDCS:
            result = hv.upload_pdc(0, pdc)
            build_pdc(plain, 0, pdc)
            want = bytearray(_rebased(plain, sim))
            struct.pack_into("<I", want, 136 + 8, result.pdc_out or 0)  # Xen's answer
            assert bytes(want) == sim.arena.contents()


def _rebased(plain: SimulatedXen, sim: SimulatedXen) -> bytes:
    """``plain``'s arena bytes with its guest handles moved to ``sim``'s arena."""
    data = bytearray(plain.arena.contents())
    delta = sim.arena.base_address - plain.arena.base_address
    pm_type, = struct.unpack_from("<I", data, 12)
    handles = []
    if pm_type == abi.XEN_PM_CX:
        count, = struct.unpack_from("<I", data, 16)
        handles = [24] if count else []
        handles += [136 + 48 * i + 40 for i in range(count)
                    if struct.unpack_from("<I", data, 136 + 48 * i + 36)[0]]
    elif pm_type == abi.XEN_PM_PX and struct.unpack_from("<Q", data, 64)[0]:
        handles = [64]
    elif pm_type == abi.XEN_PM_PDC:
        handles = [16]
    for offset in handles:
        address, = struct.unpack_from("<Q", data, offset)
        struct.pack_into("<Q", data, offset, address + delta)
    return bytes(data)


class NullXen:
    """A transport whose hypervisor accepts every op and keeps nothing."""

    def __init__(self) -> None:
        self.arena = Arena(hypercall_device=None)

    def platform_op(self, address: int) -> int:
        return 0

    def close(self) -> None:
        self.arena.close()


def test_memo_lives_on_the_object_so_distinct_tables_do_not_leak() -> None:
    hv = Hypervisor(NullXen())

    def upload_distinct(n: int, start: int) -> None:
        for i in range(start, start + n):
            cx = CxInfo((C1, replace(C2, latency=i % 100_000, dependencies=())))
            assert hv.upload_cx(0, cx).ok

    upload_distinct(2_000, 0)  # warm-up: arena mapped, code paths run
    gc.collect()
    tracemalloc.start()
    before, _ = tracemalloc.get_traced_memory()
    upload_distinct(20_000, 2_000)
    gc.collect()
    after, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert after - before < 64 * 1024, f"{after - before} bytes kept after 20,000 tables"
    hv.close()


def test_fast_made_results_equal_their_dataclass_twins() -> None:
    """The hot path makes UploadResult and PhysicalCpu without their __init__."""
    from dataclasses import asdict, fields

    from pyxenplatform.hypercalls import PhysicalCpu, physical_cpus
    from pyxenplatform.results import UploadResult, pdc_succeeded, succeeded

    for made, twin in [
        (succeeded(3, "cx", {"a": 1}), UploadResult(3, "cx", {"a": 1})),
        (succeeded(3, "cx", {}, (0, 1), ("C2: why",)),
         UploadResult(3, "cx", {}, kept=(0, 1), dropped=("C2: why",))),
        (succeeded(0, "pdc", {}, pdc_out=0x9E), UploadResult(0, "pdc", {}, pdc_out=0x9E)),
        (pdc_succeeded(7, {"w": 1}, 0), UploadResult(7, "pdc", {"w": 1}, pdc_out=0)),
    ]:
        assert made == twin and repr(made) == repr(twin) and asdict(made) == asdict(twin)
        assert [f.name for f in fields(made)] == list(vars(made))
        assert replace(made, errno=errno.EIO).errno == errno.EIO and made.ok
    cpus = physical_cpus(SimulatedXen([PhysicalCpu(0, 4, 2, True), PhysicalCpu(1, 6, 3, False)]))
    assert cpus == [PhysicalCpu(0, 4, 2, True), PhysicalCpu(1, 6, 3, False)]
    assert repr(cpus[1]) == "PhysicalCpu(xen_cpuid=1, acpi_id=6, apic_id=3, online=False)"


def test_sent_is_read_only_shared_by_one_objects_uploads_and_plain_in_json() -> None:
    """``sent`` is built once per prepared object, so no result may change it."""
    import json

    hv = Hypervisor.simulated(cpufreq_driver=True)
    results = [hv.upload_cx(0, CXS[2]), hv.upload_cx(1, CXS[2]), hv.upload_pdc(0, PDCS[0]),
               hv.upload_px(0, PX), hv.upload_pdc(1, PDCS[0]), hv.upload_px(1, PX)]
    first_cx, second_cx, first_pdc, px, second_pdc, _ = results
    assert first_cx.sent is second_cx.sent and first_pdc.sent is second_pdc.sent
    assert dict(first_cx.sent) == {"type": "XEN_PM_CX", "count": 3, "states": ("C1", "C2", "C3")}
    for r in results:
        with pytest.raises(TypeError):
            r.sent["type"] = "changed"  # type: ignore[index]  # what the test is about
        assert all(not isinstance(v, (list, dict)) for v in r.sent.values())
    assert json.loads(json.dumps(px.to_json()))["sent"] == px.to_json()["sent"] == {
        "type": "XEN_PM_PX", "flags": ["PCT", "PSS", "PPC", "PSD"], "states": 5, "ppc": 2,
        "frequencies_mhz": [3000, 2900, 2800, 2700, 2600]}
    assert second_pdc.to_json()["sent"] == {"type": "XEN_PM_PDC", "words": [1, 1, 0xBBF]}


def test_the_same_pdc_answer_returns_the_result_made_before_and_a_new_answer_a_new_one() -> None:
    """upload_pdc keeps its last result per ACPI id and returns it for an equal one."""
    import ctypes

    class AnsweringXen(NullXen):
        word = 0x9E

        def platform_op(self, address: int) -> int:
            ctypes.c_uint32.from_address(address + 136 + 8).value = self.word  # _PDC word 2
            return 0

    xen = AnsweringXen()
    hv = Hypervisor(xen)
    first = hv.upload_pdc(4, PDCS[0])
    assert hv.upload_pdc(4, PDCS[0]) is first and first.pdc_out == 0x9E
    twin = Pdc((0xBBF,))  # equal, not the same object: its own prepared `sent`
    assert hv.upload_pdc(4, twin) == first and hv.upload_pdc(4, twin) is not first
    assert hv.upload_pdc(5, twin).acpi_id == 5  # another CPU, its own result
    xen.word = 0x1E
    changed = hv.upload_pdc(4, twin)
    assert changed.pdc_out == 0x1E and changed != first
    assert hv.upload_pdc(4, twin) is changed
    assert len(hv._pdc_answers) == 2  # one per ACPI id, however many uploads
    hv.close()


def test_a_fork_child_loads_packed_calls_into_pages_of_its_own() -> None:
    """Arena.load notices a fork (os.register_at_fork) without asking getpid()."""
    import os

    hv = Hypervisor.simulated()
    assert hv.upload_cx(0, CXS[2]).ok
    parent_pages = hv.transport.arena.base_address
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through its exit status
        try:
            ok = hv.upload_cx(0, CXS[2]).ok and hv.upload_pdc(1, PDCS[0]).ok
            # (the child's new pages may land at the parent's address: that
            # range is free in the child, MADV_DONTFORK)
            os._exit(0 if ok else 1)
        finally:
            os._exit(2)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status
    assert hv.upload_cx(0, CXS[2]).ok and hv.transport.arena.base_address == parent_pages


def test_set_ppc_checks_each_limit_once_and_refuses_a_bad_one() -> None:
    hv = Hypervisor.simulated(cpufreq_driver=True)
    assert hv.upload_px(0, PX).ok
    first = hv.set_ppc(0, PX, 3)
    assert first.ok and first.sent["flags"] == ("PPC",) and first.sent["ppc"] == 3
    again = hv.set_ppc(0, PX, 3)
    assert again.ok and again.sent == first.sent
    assert len(getattr(PX, "_pyxenplatform_ppc")) == 1  # one variant per limit, reused
    for bad, rule in ((5, "does not index a P-state"), (-1, "does not fit"),
                      (3.0, "must be an integer")):
        with pytest.raises(ValidationError) as info:
            hv.set_ppc(0, PX, bad)  # type: ignore[arg-type]
        assert info.value.path == "px.ppc" and rule in info.value.rule
    assert len(getattr(PX, "_pyxenplatform_ppc")) == 1  # refusals are not kept
