"""pyxenplatform against real Xen 4.17, 4.20 and 4.22 + dom0 under QEMU (see tests/xen/vm.py).

Every claim the package makes about what Xen does with our bytes is checked
here against Xen itself: the physical CPUs, what ``xenpm`` shows Xen holds
after each Cx example, the errors users see.  What Xen keeps is compared with
what the simulated hypervisor predicted for the same table on the host.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from collections.abc import Iterator
from typing import Any

import pytest

from pyxenplatform.cli import main as cli_main
from tests.xen.prepare import DEFAULT_RELEASE
from tests.xen.vm import XenVM

pytestmark = pytest.mark.xen
# What does not depend on the release runs on the default one only (CI time, ~1-2 s per dom0
# command and 20-60 s per boot under TCG); what Xen decides runs on every release.
ONLY_DEFAULT = pytest.mark.xen_releases(DEFAULT_RELEASE)
SHOWN: list[str] = []  # xenpm outputs, printed uncaptured after each test


@pytest.fixture(autouse=True)
def show_xenpm(capsys: pytest.CaptureFixture[str], request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    with capsys.disabled():  # the CI log shows what Xen holds, test by test
        for text in SHOWN:
            print(f"\n--- xenpm get-cpuidle-states after {request.node.name} ---\n{text}")
    SHOWN.clear()
EXAMPLES = Path(__file__).parents[2] / "examples"
CX_TABLES = [
    EXAMPLES / "cx-ffh-c1-c2.toml",
    EXAMPLES / "cx-sysio-c1-c2-c3.json",
    EXAMPLES / "per-cpu.toml",
    # Xen drops its C2 silently on this CPU (MWAIT sub-state 1):
    Path(__file__).parents[1] / "data" / "xen" / "cx-ffh-substate-1.toml",
]


def xenpm_cstates(vm: XenVM) -> dict[int, int]:
    """Xen's own view: ``total C-states`` per Xen CPU id (printed to CI's log)."""
    result = vm.run("xenpm get-cpuidle-states")
    assert result.returncode == 0, result.output
    SHOWN.append(result.stdout)
    pairs = re.findall(r"cpu id\s*:\s*(\d+)\s*\ntotal C-states\s*:\s*(\d+)", result.stdout)
    return {int(cpu): int(total) for cpu, total in pairs}


def vm_cpus(vm: XenVM) -> list[dict[str, int | bool]]:
    result = vm.run("python3 -m pyxenplatform cpus --json")
    assert result.returncode == 0, result.output
    cpus: list[dict[str, int | bool]] = json.loads(result.stdout)["cpus"]
    return cpus


def predicted(table: Path, cpus: list[dict[str, int | bool]],
              capsys: pytest.CaptureFixture[str]) -> tuple[int, list[dict[str, Any]]]:
    """The simulated hypervisor's answer for ``table`` on the VM's CPUs: exit code, results."""
    spec = ",".join(f"{c['xen_cpuid']}:{c['apic_id']}:{c['acpi_id']}" for c in cpus)
    capsys.readouterr()
    code = cli_main(["upload", str(table), "--dry-run", "--json", "--cpus", spec])
    results: list[dict[str, Any]] = json.loads(capsys.readouterr().out)["results"]
    return code, results


def test_physical_cpus_match_xens_view(xen_vm: XenVM) -> None:
    cpus = vm_cpus(xen_vm)
    assert [c["xen_cpuid"] for c in cpus] == sorted(xenpm_cstates(xen_vm))
    assert all(c["online"] for c in cpus)
    # Xen takes ACPI ids from the MADT: each (ACPI id, APIC id) pair must be there.
    madt = xen_vm.run("python3 -c \"import sys; sys.stdout.buffer.write("
                      "open('/sys/firmware/acpi/tables/APIC','rb').read())\" | od -An -v -tx1")
    raw = bytes.fromhex(madt.stdout.replace("\n", " ").replace(" ", ""))
    entries, offset = set(), 44
    while offset < len(raw):
        kind, length = raw[offset], raw[offset + 1]
        if kind == 0:  # Processor Local APIC: ACPI processor id, APIC id
            entries.add((raw[offset + 2], raw[offset + 3]))
        offset += length
    assert {(c["acpi_id"], c["apic_id"]) for c in cpus} <= entries


@ONLY_DEFAULT
def test_buffers_come_from_dev_xen_hypercall(xen_vm: XenVM) -> None:
    code = ("from pyxenplatform import Hypervisor; hv = Hypervisor(); hv.physical_cpus(); "
            "print(hv.transport.arena.kind)")
    result = xen_vm.run(f'python3 -c "{code}"')
    assert result.stdout.strip() == "/dev/xen/hypercall", result.output


@pytest.mark.parametrize("table", CX_TABLES, ids=lambda p: p.name)
def test_cx_table_kept_as_predicted(xen_vm: XenVM, table: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    cpus = vm_cpus(xen_vm)
    sim_code, sim_results = predicted(table, cpus, capsys)
    result = xen_vm.run(f"python3 -m pyxenplatform upload {table} --json")
    real_results = json.loads(result.stdout)["results"]
    # Same exit code and, per ACPI id and kind, the same errno as the simulation...
    assert result.returncode == sim_code, result.output
    def answers(results: list[dict[str, Any]]) -> list[tuple[int, str, int]]:
        return [(r["acpi_id"], r["kind"], r["errno"]) for r in results]
    assert answers(real_results) == answers(sim_results)
    # ...and Xen holds exactly as many C-states as the simulation kept.
    held = xenpm_cstates(xen_vm)
    by_acpi = {c["acpi_id"]: held[int(c["xen_cpuid"])] for c in cpus}
    expected = {r["acpi_id"]: len(r["kept"]) for r in sim_results
                if r["kind"] == "cx" and r["errno"] == 0}
    assert expected, "the table uploaded no C-states to compare"
    if "substate" in table.name:  # the prediction includes a silent drop
        assert all(r["dropped"] for r in sim_results if r["kind"] == "cx")
    assert {a: by_acpi[a] for a in expected} == expected


@ONLY_DEFAULT
def test_library_upload_matches_simulation(xen_vm: XenVM) -> None:
    script = EXAMPLES / "upload_cx.py"
    real = xen_vm.run(f"python3 {script}")
    assert real.returncode == 0, real.output
    simulated = xen_vm.run(f"python3 {script} --dry-run")
    assert simulated.returncode == 0, simulated.output
    print(real.stdout, simulated.stdout)
    cpus = vm_cpus(xen_vm)
    held = xenpm_cstates(xen_vm)
    assert len({held[int(c["xen_cpuid"])] for c in cpus}) == 1  # every CPU got the table


def test_pstate_upload_reports_enodev(xen_vm: XenVM) -> None:
    result = xen_vm.run(f"python3 -m pyxenplatform upload {EXAMPLES / 'px-pstates.toml'}")
    assert result.returncode == 1
    assert "ENODEV" in result.stderr and "no cpufreq driver" in result.stderr
    assert "Traceback" not in result.stderr


@ONLY_DEFAULT
def test_unknown_acpi_id_reports_einval(xen_vm: XenVM) -> None:
    xen_vm.write_file("/tmp/unknown.toml", "[[processors]]\nacpi_id = 200\n"
                      "[[processors.cx.states]]\ntype = 1\nlatency = 1\npower = 1000\n"
                      "register = { space_id = 'FFH', bit_width = 1, bit_offset = 2 }\n")
    result = xen_vm.run("python3 -m pyxenplatform upload /tmp/unknown.toml")
    assert result.returncode == 1
    assert "ACPI id 200" in result.stderr and "EINVAL" in result.stderr
    # What our hint tells the user to look for is what Xen logged (once per
    # boot: the per-cpu table's ACPI id 4 may have been the first).
    assert "No CPU for ACPI ID 0x" in xen_vm.console_log


@ONLY_DEFAULT
def test_non_root_and_missing_privcmd(xen_vm: XenVM) -> None:
    nobody = xen_vm.run("python3 -m pyxenplatform cpus", user="nobody")
    assert nobody.returncode == 4, nobody.output
    assert "needs root in dom0" in nobody.stderr
    missing = xen_vm.run("python3 -m pyxenplatform cpus",
                         env={"PYXENPLATFORM_PRIVCMD": "/dev/xen/no-such-privcmd"})
    assert missing.returncode == 3, missing.output
    assert "xen-privcmd" in missing.stderr


@ONLY_DEFAULT
def test_whole_table_for_all_cpus(xen_vm: XenVM) -> None:
    result = xen_vm.run(f"python3 -m pyxenplatform upload {EXAMPLES / 'cx-sysio-c1-c2-c3.toml'} "
                        "--json")
    assert result.returncode == 0, result.output
    report = json.loads(result.stdout)
    cpus = vm_cpus(xen_vm)
    assert [r["acpi_id"] for r in report["results"]] == [c["acpi_id"] for c in cpus]
    assert set(xenpm_cstates(xen_vm).values()) == {4}


def test_read_only_sub_ops_on_real_xen(xen_vm: XenVM) -> None:
    code = ("from pyxenplatform import Hypervisor, HypercallError; "
            "from pyxenplatform.hypercalls import get_idletime; hv = Hypervisor(); "
            "print(hv.cpu_version(0)); print(hv.cpu_version(63))\n"
            "try: get_idletime(hv.transport, [0, 1])\n"
            "except HypercallError as e: print(e.errno, e)")
    xen_vm.write_file("/tmp/read_only.py", code)
    result = xen_vm.run("python3 /tmp/read_only.py")
    assert result.returncode == 0, result.output
    version, absent, idle = result.stdout.splitlines()
    assert version.startswith("CpuVersion(xen_cpuid=0, vendor_id='GenuineIntel', family=6, "
                              "model=42")
    assert absent == "None"  # no Xen CPU 63
    # Xen booted with cpufreq=xen answers getidletime with ENOSYS
    # (platform_hypercall.c: only for FREQCTL_dom0_kernel), and we say why.
    assert idle.startswith("38 XENPF_getidletime failed: ENOSYS")
    assert "cpufreq=dom0-kernel" in idle


def test_pdc_example_on_real_xen(xen_vm: XenVM) -> None:
    result = xen_vm.run(f"python3 -m pyxenplatform upload {EXAMPLES / 'pdc-intel.toml'} --json")
    assert result.returncode == 0, result.output
    results = json.loads(result.stdout)["results"]
    assert [(r["kind"], r["errno"]) for r in results] == [("pdc", 0)] * len(vm_cpus(xen_vm))
    # Xen wrote back the capability word it lets firmware see (acpi_set_pdc_bits),
    # exactly what the simulated hypervisor answers for this CPU.
    assert [r["pdc_out"] for r in results] == [0x9E] * len(results)
    SHOWN.append("pdc_out: " + ", ".join(f"{r['acpi_id']}={r['pdc_out']:#x}" for r in results))
