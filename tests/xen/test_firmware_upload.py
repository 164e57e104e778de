"""From firmware to Xen in a real dom0: every physical CPU gets its own tables.

One VM for this module (see firmware_vm.py): Xen 4.17 with 4 physical CPUs, dom0 with one vCPU,
and an SSDT (percpu-power.asl) that gives each of QEMU's processors different power objects, some
chosen by the ``_PDC``/``_OSC`` handshake, one read from machine memory.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from pyxenplatform.cli import main as cli_main

from .firmware_vm import PHYSICAL_CPUS, State, boot_firmware_vm, compile_ssdt, xen_cx_dump, xenpm_total_cstates
from .vm import XenVM

pytestmark = pytest.mark.xen


@pytest.fixture(scope="module")
def ssdt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return compile_ssdt(tmp_path_factory.mktemp("ssdt"))


@pytest.fixture(scope="module")
def firmware_vm(ssdt: Path) -> Iterator[XenVM]:
    with boot_firmware_vm(ssdt) as vm:
        yield vm


def test_dom0_sees_the_ssdt_one_vcpu_and_xen_all_cpus(firmware_vm: XenVM, ssdt: Path) -> None:
    # The firmware's table reached dom0 byte for byte (-acpitable file= keeps its header).
    shown = firmware_vm.run("od -An -v -tx1 /sys/firmware/acpi/tables/SSDT")
    assert shown.returncode == 0, shown.output
    assert bytes.fromhex(shown.stdout.replace("\n", " ").replace(" ", "")) == ssdt.read_bytes()
    vcpus = firmware_vm.run("nproc")
    assert vcpus.stdout.strip() == "1", vcpus.output
    cpus = firmware_vm.run("python3 -m pyxenplatform cpus --json")
    assert cpus.returncode == 0, cpus.output
    assert [(c["xen_cpuid"], c["acpi_id"], c["online"]) for c in json.loads(cpus.stdout)["cpus"]] == [
        (n, n, True) for n in range(PHYSICAL_CPUS)
    ]


def _model_byte(vm: XenVM) -> int:
    """The byte C001's _CST latency is computed from, read from /dev/mem by hand."""
    result = vm.run("python3 -c \"import os; f = os.open('/dev/mem', os.O_RDONLY); "
                    "print(os.pread(f, 1, 0xFFFFE)[0])\"")
    assert result.returncode == 0, result.output
    return int(result.stdout)


def expected_states(model_byte: int) -> dict[int, list[State]]:
    """Per ACPI id, what percpu-power.asl gives when Xen's answer has no FFH capability (C002 and
    C003 take their SystemIO branches), with the entry method Xen 4.17's set_cx picks: FFH only
    for an Intel native C-state on a CPU with MONITOR, else HALT (QEMU's CPU here has no MONITOR);
    SystemIO is SYSIO, C1 included."""
    return {
        0: [(1, 1, "HALT"), (2, 20, "SYSIO")],
        1: [(1, 2, "HALT"), (2, 40, "SYSIO"), (3, 0x100 + model_byte, "SYSIO")],
        2: [(1, 3, "SYSIO"), (2, 60, "SYSIO")],
        3: [(1, 4, "SYSIO"), (2, 99, "SYSIO"), (3, 150, "SYSIO")],
    }


def test_every_physical_cpu_gets_its_own_firmware_states(firmware_vm: XenVM) -> None:
    result = firmware_vm.run("python3 -m pyxenplatform upload --from-firmware --json")
    assert result.returncode == 0, result.output
    report = json.loads(result.stdout)
    cpus = {c["acpi_id"]: c for c in report["cpus"]}
    assert list(cpus) == list(range(PHYSICAL_CPUS))  # Xen CPU 0's ACPI id first
    # The handshake: Linux's word from dom0's CPU flags (a PV dom0 sees no EIST, ACPI or MWAIT:
    # 0x9a), and firmware saw, per CPU, exactly what Xen answered: no FFH capability here.
    assert report["handshake"] == _linux_word(firmware_vm) == 0x9A
    for cpu in cpus.values():
        assert cpu["capabilities"] == cpu["uploads"]["pdc"]["pdc_out"]
        assert not cpu["capabilities"] & 0x300  # ACPI_PDC_C_C1_FFH | ACPI_PDC_C_C2C3_FFH
    # C000's P-states: without P_FFH in Xen's answer its _PCT is SystemIO, which Xen's
    # acpi-cpufreq drives without EIST, so Xen takes them (FFH ones get ENODEV under TCG).
    assert cpus[0]["uploads"]["px"]["errno"] == 0
    assert all("px" not in c["uploads"] for n, c in cpus.items() if n)
    para = firmware_vm.run("xenpm get-cpufreq-para 0")
    print(f"--- xenpm get-cpufreq-para 0 ---\n{para.stdout}")
    assert para.returncode == 0, para.output
    (line,) = [ln for ln in para.stdout.splitlines() if ln.startswith("scaling_avail_freq")]
    mhz = [f // 1000 if f > 100_000 else f for f in map(int, re.findall(r"\d+", line))]  # kHz
    assert mhz == [2600, 2000, 1200], para.stdout  # C000's _PSS
    # The processor in no MADT is reported, and every physical CPU had firmware data.
    assert [(c["acpi_id"], c["firmware"]) for c in report["firmware_without_cpu"]] == [
        (0xFE, "\\_SB.CPUS.CPFE")]
    assert report["cpus_without_firmware"] == []
    # Where the values came from: C001's C3 latency from machine memory, C000's from the table.
    assert cpus[0]["sources"]["_CST"]["from"] == "constants"
    assert cpus[1]["sources"]["_CST"]["from"] == "memory"
    assert "0xffffe" in cpus[1]["sources"]["_CST"]["regions"][0]

    expected = expected_states(_model_byte(firmware_vm))
    held = xen_cx_dump(firmware_vm)  # here Xen CPU n has ACPI id n
    print("\nXen's 'c' key after upload --from-firmware:", json.dumps(held))
    for cpu in range(PHYSICAL_CPUS):
        total, text = xenpm_total_cstates(firmware_vm, cpu)
        print(f"--- xenpm get-cpuidle-states {cpu} ---\n{text}")
        assert total == len(expected[cpu]) + 1  # C0 too
    assert held == expected


def _linux_word(vm: XenVM) -> int:
    code = ("from pyxenplatform.fwupload import dom0_cpu_flags, linux_capabilities; "
            "print(linux_capabilities(dom0_cpu_flags()))")
    result = vm.run(f'python3 -c "{code}"')
    assert result.returncode == 0, result.output
    return int(result.stdout)


def test_dry_run_on_the_vms_tables_predicts_what_xen_holds(firmware_vm: XenVM, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]
                                                          ) -> None:
    for name in ("DSDT", "SSDT", "APIC"):
        dump = firmware_vm.run(f"base64 -w0 /sys/firmware/acpi/tables/{name}")
        assert dump.returncode == 0, dump.output
        (tmp_path / f"{name.lower()}.dat").write_bytes(base64.b64decode(dump.stdout))
    capsys.readouterr()
    code = cli_main(["upload", "--from-firmware", "--dry-run", "--json", "--tables", str(tmp_path)])
    report = json.loads(capsys.readouterr().out)
    assert code == 0, report
    # The simulated Xen answers the handshake as the real one did, so firmware takes the same
    # branches; the memory-derived latency reads as zeros from files (and says so).
    kept = {c["acpi_id"]: c["uploads"]["cx"]["kept"] for c in report["cpus"]}
    model = expected_states(0)
    assert kept == {n: [0] + [t for t, _, _ in model[n]] for n in model}
    by_id = {c["acpi_id"]: c for c in report["cpus"]}
    assert by_id[1]["sources"]["_CST"]["from"] == "zeros"
    # Without the handshake (the word a bare-metal Linux sends), C003 would take its FFH branch.
    capsys.readouterr()
    cli_main(["upload", "--from-firmware", "--dry-run", "--json", "--tables", str(tmp_path),
              "--pdc", "0xbbf", "--acpi-id", "3"])
    ffh = json.loads(capsys.readouterr().out)
    assert [c["uploads"]["cx"]["sent"]["states"] for c in ffh["cpus"]] == [["C1", "C2"]]


def test_unreadable_dev_mem_is_one_warning(firmware_vm: XenVM) -> None:
    # /dev/null bound over /dev/mem in a private mount namespace: every read comes back short.
    result = firmware_vm.run("unshare -m sh -c 'mount --bind /dev/null /dev/mem && "
                             "python3 -m pyxenplatform upload --from-firmware --dry-run'")
    assert result.returncode == 0, result.output
    lines = [line for line in result.stderr.splitlines() if "/dev/mem" in line]
    assert len(lines) == 1 and "ACPI id 1 _CST" in lines[0], result.stderr
