"""``upload --from-firmware`` against the simulated Xen: QEMU's firmware with our per-CPU SSDT
(the firmware the real-Xen VM boots), and every machine of the ACPI corpus."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from pyxenplatform import Hypervisor, PhysicalCpu
from pyxenplatform.cli import main as cli_main
from pyxenplatform.cli_firmware import simulated_cpus
from pyxenplatform.fwupload import kernel_uploader_warning
from tests.acpi.support import corpus_machines, machine_tables, tool

HERE = Path(__file__).resolve().parent
QEMU_TABLES = HERE / "data" / "qemu-pc-4cpu"
ASL = HERE / "xen" / "percpu-power.asl"


@pytest.fixture(scope="module")
def qemu_firmware(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """QEMU's DSDT and MADT plus percpu-power.asl compiled by iasl: the VM's firmware."""
    folder = tmp_path_factory.mktemp("qemu-firmware")
    for name in ("dsdt.dat", "apic.dat"):
        shutil.copy(QEMU_TABLES / name, folder / name)
    done = subprocess.run([tool("iasl"), "-p", str(folder / "ssdt1"), str(ASL)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    (folder / "ssdt1.aml").rename(folder / "ssdt1.dat")
    return folder


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    capsys.readouterr()
    code = cli_main(["upload", "--from-firmware", "--dry-run", "--json", *argv])
    document: dict[str, Any] = json.loads(capsys.readouterr().out)
    return code, document


def test_each_cpu_gets_its_own_states_chosen_by_xens_answer(
        qemu_firmware: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, report = run_json(capsys, "--tables", str(qemu_firmware))
    assert code == 0, report
    cpus = {c["acpi_id"]: c for c in report["cpus"]}
    assert list(cpus) == [0, 1, 2, 3]  # the MADT's CPUs, Xen CPU 0 first
    assert report["handshake"] == 0xBBF
    assert {c["capabilities"] for c in cpus.values()} == {0x9E}  # what Xen answered
    sent = {n: c["uploads"]["cx"]["sent"]["states"] for n, c in cpus.items()}
    # C002 (via _OSC) and C003 (via _PDC) took their no-FFH branches.
    assert sent == {0: ["C1", "C2"], 1: ["C1", "C2", "C3"], 2: ["C1", "C2"],
                    3: ["C1", "C2", "C3"]}
    assert [c["uploads"]["cx"]["kept"] for c in cpus.values()] == [
        [0, 1, 2], [0, 1, 2, 3], [0, 1, 2], [0, 1, 2, 3]]
    # Only C000 has P-states; the simulated Xen, like Xen under TCG, has no cpufreq driver.
    assert cpus[0]["uploads"]["px"]["errno_name"] == "ENODEV"
    assert [n for n, c in cpus.items() if "px" in c["uploads"]] == [0]
    assert [(c["acpi_id"], c["firmware"], c["status"]) for c in report["firmware_without_cpu"]] \
        == [(0xFE, "\\_SB.CPUS.CPFE", 0)]
    assert report["cpus_without_firmware"] == []
    # Provenance: C001's C3 latency comes from a SystemMemory region, read as zeros from files.
    assert cpus[0]["sources"]["_CST"]["from"] == "constants"
    assert cpus[1]["sources"]["_CST"]["from"] == "zeros"


def test_pdc_override_skips_the_handshake(qemu_firmware: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    # Linux's word as bare metal sends it: C003 now returns its FFH branch (C1 and C2 by MWAIT).
    code, report = run_json(capsys, "--tables", str(qemu_firmware), "--pdc", "0xbbf",
                            "--acpi-id", "3")
    assert code == 0, report
    assert report["handshake"] is None
    (cpu,) = report["cpus"]
    assert (cpu["acpi_id"], cpu["capabilities"]) == (3, 0xBBF)
    assert "pdc" not in cpu["uploads"]
    assert cpu["uploads"]["cx"]["sent"]["states"] == ["C1", "C2"]


def test_library_call_matches_the_command(qemu_firmware: Path) -> None:
    cpus = simulated_cpus(str(qemu_firmware))
    assert cpus == [PhysicalCpu(n, n, n, True) for n in range(4)]
    result = Hypervisor.simulated(cpus).upload_firmware(qemu_firmware, only_acpi_ids=[1, 2])
    assert [c.acpi_id for c in result.cpus] == [1, 2]
    assert [(r.acpi_id, r.kind) for r in result.results] == [
        (1, "pdc"), (1, "cx"), (2, "pdc"), (2, "cx")]
    assert result.ok


def test_text_report_names_what_was_left_out(qemu_firmware: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["upload", "--from-firmware", "--dry-run", "--tables",
                     str(qemu_firmware)]) == 0
    out = capsys.readouterr().out
    assert "ACPI id 0 (Xen CPU 0, \\_SB.CPUS.C000): _PDC -> simulated Xen lets firmware see " \
           "0x9e; Cx C1 C2 -> ok, simulated Xen holds C0 C1 C2; Px 3 P-states -> ENODEV" in out
    assert "firmware processor \\_SB.CPUS.CPFE (ACPI id 254, _STA 0x0) matches no physical " \
           "CPU" in out
    assert "_CST: from zeros (" in out


def test_cpus_without_firmware_data(qemu_firmware: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    code, report = run_json(capsys, "--tables", str(qemu_firmware), "--cpus", "0:0:0,1:1:7")
    assert code == 0, report
    assert report["cpus_without_firmware"] == [{"xen_cpuid": 1, "acpi_id": 7}]
    assert sorted(c["acpi_id"] for c in report["firmware_without_cpu"]) == [1, 2, 3, 0xFE]


@pytest.mark.parametrize("machine", corpus_machines())
def test_dry_run_on_every_corpus_machine(machine: str,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    tables = machine_tables(machine)
    code, report = run_json(capsys, "--tables", str(tables))
    assert code == 0, (report["warnings"], [r for r in report["results"] if r["errno"]])
    madt = {c.acpi_id for c in simulated_cpus(str(tables))}
    assert [c["acpi_id"] for c in report["cpus"]] == [c.acpi_id for c in simulated_cpus(str(tables))]
    for cpu in report["cpus"]:
        # Every CPU went through the handshake; what was sent and what Xen keeps is listed.
        assert cpu["uploads"]["pdc"]["errno"] == 0
        if "cx" in cpu["uploads"]:
            cx = cpu["uploads"]["cx"]
            assert cx["errno"] == 0 and cx["kept"][0] == 0
    assert not {c["acpi_id"] for c in report["firmware_without_cpu"]} & madt
    with_data = {c["acpi_id"] for c in report["cpus"] if set(c["uploads"]) - {"pdc"}}
    assert {c["acpi_id"] for c in report["cpus_without_firmware"]} == madt - with_data


def test_no_usable_firmware_data_sends_only_the_handshake(
        capsys: pytest.CaptureFixture[str]) -> None:
    # Dell OptiPlex 7020 read from files: its processors give nothing Xen can use.
    code, report = run_json(capsys, "--tables", str(machine_tables("07-dell-optiplex-7020")))
    assert code == 0 and report["cpus"], report
    assert all(set(c["uploads"]) == {"pdc"} for c in report["cpus"])
    assert any("no usable power objects for any physical CPU" in w["message"]
               for w in report["warnings"])


def test_missing_tables_exit_2_with_one_line(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    code = cli_main(["upload", "--from-firmware", "--dry-run", "--tables", str(tmp_path / "no")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and str(tmp_path / "no") in err


def test_broken_dsdt_exits_2_before_anything_is_sent(
        qemu_firmware: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = bytearray((qemu_firmware / "dsdt.dat").read_bytes())
    data[9] ^= 0xFF  # the checksum byte
    (tmp_path / "dsdt.dat").write_bytes(bytes(data))
    code = cli_main(["upload", "--from-firmware", "--dry-run", "--tables", str(tmp_path)])
    captured = capsys.readouterr()
    assert code == 2 and captured.err.count("\n") == 1 and "checksum" in captured.err
    assert captured.out == ""  # no handshake, no upload


def test_no_privcmd_exits_3(qemu_firmware: Path, tmp_path: Path,
                            capsys: pytest.CaptureFixture[str]) -> None:
    code = cli_main(["--privcmd", str(tmp_path / "none"), "upload", "--from-firmware",
                     "--tables", str(qemu_firmware)])
    err = capsys.readouterr().err
    assert code == 3 and err.count("\n") == 1 and "xen-privcmd" in err


def test_kernel_uploader_warning(tmp_path: Path) -> None:
    assert kernel_uploader_warning(tmp_path) is None
    (tmp_path / "module" / "xen_acpi_processor").mkdir(parents=True)
    warning = kernel_uploader_warning(tmp_path)
    assert warning is not None and "later upload" in warning and "xen_acpi_processor" in warning


def test_verify_reads_back_after_a_firmware_upload(
        qemu_firmware: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """--verify compares what Xen holds afterwards with what was sent, given what it held before."""
    from pyxenplatform import verify

    seen: list[tuple[int, bool]] = []

    def fake_verify(hv: Hypervisor, results: Any, before: Any = None) -> list[str]:
        seen.append((len(results), before is not None))
        return ["ACPI id 0: cx: Xen holds 2 states, 3 sent (made up by this test)"]

    monkeypatch.setattr(verify, "verify_uploads", fake_verify)
    code, report = run_json(capsys, "--tables", str(qemu_firmware), "--verify")
    assert code == 1
    assert report["verify"] == ["ACPI id 0: cx: Xen holds 2 states, 3 sent (made up by this test)"]
    assert seen and seen[0][0] > 0 and seen[0][1], seen  # every result, and the status before
    monkeypatch.undo()
    code, report = run_json(capsys, "--tables", str(qemu_firmware), "--verify")
    assert code == 0 and report["verify"] == [], report["verify"]
