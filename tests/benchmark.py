"""Performance figures of pyxenplatform (a script, not a test): ``python tests/benchmark.py``.

Prints each figure with its target and PASS/FAIL; exits 1 if any FAILs.
Every speed target is a ratio to a floor measured in the same run
(``tests/bench_floors.py``): the same job done by the fastest hand-written
Python, an empty interpreter, or ACPICA.  The absolute figures older issues
asked for (issue 3: 100 µs per op, 0.5 s for 4,096 CPUs, 50 ms to import)
are printed beside them as information.  Memory targets are absolute.

(a) one single-ACPI-id Cx upload (validate, build the op in the arena,
    issue) beside the same bytes packed by hand and given to the same
    transport, against SimulatedXen and against a no-op transport;
(b) a whole Cx+Px ``upload_table`` on a 4,096-CPU host with non-contiguous
    ACPI ids, beside the CPU walk and the ops packed by hand, against
    SimulatedXen (cpufreq_driver=True) and the no-op transport (which
    answers XENPF_get_cpuinfo only);
(c) ``import pyxenplatform`` in a fresh interpreter, beyond an empty
    interpreter's start (``python3 -c pass``), bytecode cached;
(d) memory before/after 100,000 uploads: flat, because the arena is reused;
(e) the hot path through the real Privcmd transport and an LD_PRELOAD
    privcmd stand-in that answers in user space (``tests/bench_hot.py``):
    each upload and a 4,096-CPU table as ratios to a hand-packed floor;
(f) wall time of ``check`` and of an upload command beside ``python3 -c pass``,
    and the modules ``check`` imports;
(g) the AML reader on each corpus machine (``../shared/acpi-corpus``): load +
    handshake + evaluate every processor, beside ACPICA's acpiexec doing the
    same on the same tables in the same run (its last oracle run: one process
    that loads, handshakes and evaluates), and the whole corpus; wall time,
    with CPU time (which a loaded machine does not inflate) beside it.
"""

from __future__ import annotations

import ctypes
import gc
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from pyxenplatform import (  # noqa: E402
    CState,
    CxInfo,
    Hypervisor,
    PhysicalCpu,
    Register,
    SimulatedXen,
)
from pyxenplatform import abi  # noqa: E402
from pyxenplatform.transport import Arena  # noqa: E402
from tests.bench_floors import (  # noqa: E402
    CX, ROUNDS, TABLE, TransportFloor, host, interleaved, ratio_line, same_cx_bytes,
)

results: list[bool] = []


def report(name: str, value: float, unit: str, target: float, note: str = "") -> None:
    ok = value < target
    results.append(ok)
    extra = f"  ({note})" if note else ""
    print(f"  {name:<58} {value:>10.2f} {unit:<3} target < {target:g} {unit:<3} "
          f"{'PASS' if ok else 'FAIL'}{extra}")


class NullTransport:
    """A transport whose hypervisor does nothing: every op "succeeds".

    It answers ``XENPF_get_cpuinfo`` from ``cpus`` (so ``upload_table`` can
    enumerate a host) in O(1) per call; everything else returns 0 untouched.
    What remains measured is pyxenplatform's own Python: validation, the
    plan, marshalling into the arena and the call path.
    """

    def __init__(self, cpus: Sequence[PhysicalCpu] = ()) -> None:
        self._arena = Arena(hypercall_device=None)
        self._cpus = {c.xen_cpuid: c for c in cpus}
        self._max = max(self._cpus, default=0)

    @property
    def arena(self) -> Arena:
        return self._arena

    def platform_op(self, address: int) -> int:
        if not self._cpus:
            return 0
        op = abi.xen_platform_op.from_address(address)
        if op.cmd == abi.XENPF_get_cpuinfo:
            info = op.u.pcpu_info
            cpu = self._cpus.get(info.xen_cpuid)
            info.max_present = self._max
            if cpu is None:
                info.flags = abi.XEN_PCPU_FLAGS_INVALID
            else:
                info.flags = abi.XEN_PCPU_FLAGS_ONLINE
                info.apic_id, info.acpi_id = cpu.apic_id, cpu.acpi_id
        return 0

    def close(self) -> None:
        self._arena.close()


def bench_single_op() -> None:
    """Against the simulator the floor is mostly the simulated Xen's own work: our Python may
    add at most as much again (2x); against the no-op transport, issue 12's 2.5x per op."""
    print("(a) one XEN_PM_CX upload for one ACPI id (3 states): validate + build + issue, beside "
          "the same bytes packed by hand and given to the same transport")
    for label, transport, n, target in (
            ("Hypervisor.upload_cx vs SimulatedXen", SimulatedXen(), 5000, 2.0),
            ("Hypervisor.upload_cx vs no-op transport", NullTransport(), 20000, 2.5)):
        hv, floor = Hypervisor(transport), TransportFloor(transport)
        assert hv.upload_cx(0, CX).ok
        same_cx_bytes(hv, 0)  # the two sides do the same work
        lib_us, floor_us = interleaved(lambda: hv.upload_cx(0, CX), lambda: floor.upload_cx(0), n)
        results.append(ratio_line(label, lib_us, floor_us, "us", target))
        floor.close()
        hv.close()


def bench_big_host() -> None:
    """Targets as in (a) for the simulator (2x), and issue 12's 3.5x for a whole table."""
    n = 4096
    print(f"(b) upload_table, Cx (3 states) + Px (4 states) for 'all', {n} CPUs, "
          f"ACPI ids 1, 3, 5, ..., beside the CPU walk and ops packed by hand ({ROUNDS} rounds)")
    for label, make, target in (
            ("vs SimulatedXen(cpufreq_driver=True)",
             lambda: SimulatedXen(host(n), cpufreq_driver=True), 2.0),
            ("vs no-op transport", lambda: NullTransport(host(n)), 3.5)):
        lib_s, floor_s, wall_s = [], [], []
        for _ in range(ROUNDS):
            floor = TransportFloor(make())
            start = time.process_time()
            floor.upload_table()
            floor_s.append(time.process_time() - start)
            floor.close()
            with Hypervisor(make()) as hv:  # a fresh one: every Px carries all four parts
                start, start_wall = time.process_time(), time.perf_counter()
                outcome = hv.upload_table(TABLE)
                lib_s.append(time.process_time() - start)
                wall_s.append(time.perf_counter() - start_wall)
            assert outcome.ok and len(outcome.results) == 2 * n, outcome.failed[:1]
        results.append(ratio_line(label, statistics.median(lib_s), statistics.median(floor_s),
                                  "s", target, f"{2 * n} ops; wall "
                                  f"{statistics.median(wall_s):.2f} s, issue 3 asked < 0.5 s"))
    # Where the simulated Xen's time goes: XENPF_get_cpuinfo alone.
    sim = Hypervisor(SimulatedXen(host(n), cpufreq_driver=True))
    start = time.perf_counter()
    assert len(sim.physical_cpus()) == n
    print(f"  {'  of which physical_cpus() vs SimulatedXen':<58} "
          f"{time.perf_counter() - start:>10.2f} s   (information)")
    sim.close()


def compiled_env(build: Path, env: dict[str, str] | None = None) -> dict[str, str]:
    """``env`` (default: ours) with bytecode cached under ``build``, as an installed package
    has it (pip compiles on install); PYTHONDONTWRITEBYTECODE, set on some machines, would
    make every start compile every module from source."""
    out = dict(os.environ if env is None else env, PYTHONPATH=str(ROOT),
               PYTHONPYCACHEPREFIX=str(build / "pycache"))
    out.pop("PYTHONDONTWRITEBYTECODE", None)
    return out


def wall_ms(argv: Sequence[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, env=env, check=True, capture_output=True)
    return (time.perf_counter() - start) * 1e3


# "import time: self [us] | cumulative | imported package" (indented by depth)
IMPORTTIME = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \| (\s*)(\S+)$", re.MULTILINE)


def importtime_ms(statement: str, env: dict[str, str]) -> float:
    """``-X importtime``: the top-level rows of our modules (with lazy imports each
    submodule is imported at top level, and its cumulative time covers its stdlib)."""
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", statement],
                          env=env, capture_output=True, text=True, check=True)
    return sum(int(cum) for _, cum, indent, name in IMPORTTIME.findall(proc.stderr)
               if name.split(".")[0] == "pyxenplatform" and not indent) / 1e3


def bench_import(build: Path) -> None:
    """``import pyxenplatform`` (lazy: no submodule is imported), then the full
    stack a first upload needs (every module, the stdlib they use included)."""
    print("(c) import time: a fresh interpreter's wall time beyond an empty one's "
          "(`python3 -c pass`, the floor), bytecode cached, 7 interleaved runs, medians")
    env = compiled_env(build)
    empty = [sys.executable, "-c", "pass"]
    for statement, target in (("import pyxenplatform", 1.0),
                              ("from pyxenplatform import Hypervisor, load_table", None)):
        argv = [sys.executable, "-c", statement]
        wall_ms(argv, env)  # compiles the bytecode once
        empty_ms, extra_ms, cumulative_ms = [], [], []
        for _ in range(7):
            floor = wall_ms(empty, env)
            extra_ms.append(wall_ms(argv, env) - floor)
            empty_ms.append(floor)
            cumulative_ms.append(importtime_ms(statement, env))
        ok = ratio_line(f"`{statement}`", statistics.median(extra_ms),
                        statistics.median(empty_ms), "ms", target,
                        f"-X importtime {statistics.median(cumulative_ms):.1f} ms"
                        + ("; issue 3 asked < 50 ms" if target else ""))
        if target is not None:
            results.append(ok)


def rss_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def bench_memory() -> None:
    n = 100_000
    print(f"(d) memory across {n:,} Cx uploads through one Hypervisor (no-op transport)")
    hv = Hypervisor(NullTransport())
    for _ in range(1000):  # warm-up: arena mapped, caches filled
        hv.upload_cx(1, CX)
    arena = hv.transport.arena
    base_address = arena.base_address
    gc.collect()
    rss_before = rss_kib()
    tracemalloc.start()
    traced_before, _ = tracemalloc.get_traced_memory()
    for _ in range(n):
        hv.upload_cx(1, CX)
    gc.collect()
    traced_after, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_after = rss_kib()
    assert arena.base_address == base_address, "the arena was remapped"
    print(f"  ru_maxrss {rss_before} KiB -> {rss_after} KiB; tracemalloc {traced_before} B "
          f"-> {traced_after} B (peak {peak} B); arena pages reused at {base_address:#x}")
    report("ru_maxrss growth", (rss_after - rss_before) / 1024, "MiB", 1)
    report("tracemalloc growth (live Python allocations)", (traced_after - traced_before)
           / 1024, "KiB", 64)
    hv.close()
    # For information: SimulatedXen keeps only its latest calls (a bounded
    # deque), so a long-lived simulated hypervisor stays flat too.
    sim = SimulatedXen()
    simhv = Hypervisor(sim)
    for _ in range(10_000):
        simhv.upload_cx(0, CX)
    print(f"  (SimulatedXen.calls after 10,000 uploads: {len(sim.calls):,} entries; "
          f"bounded at {sim.calls.maxlen:,})")
    simhv.close()
    # Validation outcomes and packed bytes are remembered on each (frozen)
    # object: 100,000 distinct tables, each dropped after its upload, keep nothing.
    hv = Hypervisor(NullTransport())
    for i in range(1000):
        hv.upload_cx(1, CxInfo((CX.states[0], CState(2, i, 500, Register.system_io(0x1014)))))
    gc.collect()
    tracemalloc.start()
    traced_before, _ = tracemalloc.get_traced_memory()
    for i in range(n):
        hv.upload_cx(1, CxInfo((CX.states[0], CState(2, i, 500, Register.system_io(0x1014)))))
    gc.collect()
    traced_after, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    report(f"tracemalloc growth over {n:,} distinct tables", (traced_after - traced_before)
           / 1024, "KiB", 64)
    hv.close()


def stand_in_env(build: Path, cpus: int) -> dict[str, str]:
    """The environment that runs a child under ``benchprivcmd.c``."""
    from tests.stand_in.fake import BENCH_SOURCE, build_interposer
    library = build_interposer(build, BENCH_SOURCE)
    device = build / "privcmd"
    device.touch()
    return dict(os.environ, LD_PRELOAD=str(library), BENCHPRIVCMD_PATH=str(device),
                BENCHPRIVCMD_CPUS=str(cpus), PYXENPLATFORM_PRIVCMD=str(device),
                PYTHONPATH=str(ROOT))


def bench_hot_path(build: Path) -> None:
    print("(e) the hot path vs its hand-packed floor (struct.pack_into into an mmap + "
          "fcntl.ioctl), through an LD_PRELOAD privcmd stand-in (tests/bench_hot.py)")
    proc = subprocess.run([sys.executable, str(ROOT / "tests" / "bench_hot.py")],
                          env=stand_in_env(build, 4096), check=False)
    results.append(proc.returncode == 0)


def bench_command_start(build: Path) -> None:
    print("(f) start-up: wall time of a command beside `python3 -c pass`, bytecode cached, "
          "median of 7")
    env = compiled_env(build, stand_in_env(build, 2))
    example = str(ROOT / "examples" / "cx-ffh-c1-c2.toml")
    commands = {
        "python3 -c pass": [sys.executable, "-c", "pass"],
        "pyxenplatform check FILE": [sys.executable, "-m", "pyxenplatform", "check", example],
        "pyxenplatform upload FILE (stand-in privcmd)":
            [sys.executable, "-m", "pyxenplatform", "upload", example],
    }
    empty = 0.0
    for label, argv in commands.items():
        wall_ms(argv, env)  # compiles the bytecode once
        wall = [wall_ms(argv, env) for _ in range(7)]
        median = statistics.median(wall)
        empty = empty or median
        print(f"  {label:<58} {median:>10.2f} ms  ({median / empty:.1f}x python3 -c pass; "
              f"min {min(wall):.1f} ms)")
    probe = ("import sys; from pyxenplatform.cli import main; main(['check', %r]); "
             "sys.stderr.write(' '.join(sorted(m for m in sys.modules "
             "if m.startswith('pyxenplatform'))))" % example)
    loaded = subprocess.run([sys.executable, "-c", probe], env=env, check=True,
                            capture_output=True, text=True).stderr.split()
    print(f"  modules `check` imports: {' '.join(loaded)}")
    heavy = [m for m in loaded if m.split(".")[-1] in ("transport", "sim", "hypervisor",
                                                        "hypercalls", "marshal")]
    report("`check` imports no transport, simulator or marshalling", len(heavy), "mod", 1,
           " ".join(heavy))


CORPUS = ROOT.parent / "shared" / "acpi-corpus"


def bench_aml_corpus() -> None:
    """Ours against acpiexec on wall time, the time a user waits for the answer (acpiexec's
    includes its start-up and the firmware's Sleep/Stall, which it really sleeps; ours runs in
    this process, imports done). CPU time (user + sys), which a loaded machine does not
    inflate, is printed beside it: there acpiexec's C is about as fast as ours."""
    from pyxenplatform.acpi import read_firmware
    from pyxenplatform.acpi.tables import load_tables
    from tests import acpiexec
    machines = sorted(p.parent.parent.name for p in CORPUS.glob("*/tables/dsdt.dat"))
    print(f"(g) AML reader: load + _PDC/_OSC + 8 objects of every processor, per corpus machine "
          f"({len(machines)}), best of 3, beside acpiexec (one run) on the same tables")
    if not machines or acpiexec.acpiexec_path() is None:
        print(f"  skipped: needs {CORPUS} and acpiexec (acpica-tools)")
        return
    totals = {"ours cpu": 0.0, "ours wall": 0.0, "acpiexec cpu": 0.0, "acpiexec wall": 0.0}
    for machine in machines:
        folder = CORPUS / machine / "tables"
        cpu = wall = float("inf")
        for _ in range(3):
            start, start_cpu = time.perf_counter(), time.process_time()
            report_ = read_firmware(folder, pdc=0xBBF)
            cpu = min(cpu, time.process_time() - start_cpu)
            wall = min(wall, time.perf_counter() - start)
        oracle = acpiexec.run_oracle([folder / t.source for t in load_tables(folder)])
        their_cpu, their_wall = oracle.run_cpu_seconds[-1], oracle.run_seconds[-1]
        for key, value in (("ours cpu", cpu), ("ours wall", wall), ("acpiexec cpu", their_cpu),
                           ("acpiexec wall", their_wall)):
            totals[key] += value
        report(f"{machine} ours / acpiexec (wall)", wall / their_wall, "x", 1.0,
               f"wall {wall * 1e3:.0f} vs {their_wall * 1e3:.0f} ms; CPU {cpu * 1e3:.0f} vs "
               f"{their_cpu * 1e3:.0f} ms = {cpu / max(their_cpu, 1e-3):.2f}x; "
               f"{len(report_.processors)} processors")
    report("whole corpus, ours / acpiexec (wall)", totals["ours wall"] / totals["acpiexec wall"],
           "x", 1.0, f"wall {totals['ours wall']:.2f} vs {totals['acpiexec wall']:.2f} s "
           f"(issue 8 asked well under 10 s); CPU {totals['ours cpu']:.2f} vs "
           f"{totals['acpiexec cpu']:.2f} s")


def main() -> int:
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"pyxenplatform benchmark: Python {sys.version.split()[0]}, {os.cpu_count()} CPUs "
          f"(load average {load}), {8 * ctypes.sizeof(ctypes.c_void_p)}-bit")
    bench_single_op()
    bench_big_host()
    with tempfile.TemporaryDirectory(prefix="pyxenplatform-bench-") as build:
        bench_import(Path(build))
        bench_memory()
        bench_hot_path(Path(build))
        bench_command_start(Path(build))
    bench_aml_corpus()
    failed = results.count(False)
    print(f"{len(results) - failed}/{len(results)} PASS")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
