"""--platform: which CPU a dry run predicts for, read from CPUID or /proc/cpuinfo, or named."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest

from pyxenplatform import cli, platforms
from pyxenplatform.errors import ValidationError

EXAMPLES = Path(__file__).parents[1] / "examples"


def test_cpuid_of_an_intel_cpu_with_mwait() -> None:
    vendor = struct.unpack("<3I", b"GenuineIntel")  # ebx, edx, ecx order below
    leaves: dict[int, tuple[int, int, int, int]] = {
        0: (0x1C, vendor[0], vendor[2], vendor[1]),
        1: (0x000906EA, 0, 1 << 3 | 1 << 7, 1 << 22),  # family 6 model 0x9e; MONITOR, EIST; ACPI
        5: (0x40, 0x40, 0x3, 0x11142120),  # MWAIT sub-states; ECX bit 1: interrupt break
        6: (0x4, 0, 0, 0),  # ARAT
        0x8000_0000: (0x8000_0008, 0, 0, 0),
        0x8000_0007: (0, 0, 0, 0x100),
    }
    found = platforms.from_leaves(leaves.__getitem__)
    assert (found.vendor, found.family, found.model) == ("GenuineIntel", 6, 0x9E)
    assert (found.arat, found.eist, found.hw_pstate, found.mwait_substates) == \
        (True, True, False, 0x11142120)
    assert found.acpi_thermal and found.pdc_mwait
    assert platforms.from_cpuid("/dev/no-such-cpuid") is None


def test_cpuinfo_without_est_or_monitor(tmp_path: Path) -> None:
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 23\nmodel\t\t: 49\n"
                    "flags\t\t: fpu arat hw_pstate\n\nprocessor\t: 1\n")
    found = platforms.from_cpuinfo(str(info))
    assert found is not None
    assert (found.vendor, found.family, found.model, found.mwait_substates) == \
        ("AuthenticAMD", 23, 49, None)
    assert found.hw_pstate and not found.eist
    assert platforms.from_cpuinfo(str(tmp_path / "absent")) is None


def test_specs() -> None:
    assert platforms.parse("qemu") == platforms.QEMU
    assert platforms.parse("qemu,eist=1").eist is True
    assert platforms.parse("vendor=AuthenticAMD,family=0x17").family == 0x17  # on permissive
    assert platforms.parse("permissive,mwait_substates=none").mwait_substates is None
    for bad in ("laptop", "qemu,speed=3", "qemu,eist=maybe"):
        with pytest.raises(ValidationError, match="--platform"):
            platforms.parse(bad)


def test_a_correct_pstate_table_passes_a_dry_run_on_a_cpu_with_eist(
        capsys: pytest.CaptureFixture[str]) -> None:
    table = str(EXAMPLES / "px-pstates.toml")
    assert cli.main(["check", table]) == 0
    assert cli.main(["upload", table, "--dry-run", "--platform", "qemu,eist=1"]) == 0
    assert cli.main(["upload", table, "--dry-run", "--platform", "permissive"]) == 0
    capsys.readouterr()
    # The test VM's CPU has no EIST: Xen would have no cpufreq driver, and we say how to choose.
    assert cli.main(["-v", "upload", table, "--dry-run", "--platform", "qemu"]) == 1
    assert "--platform permissive" in capsys.readouterr().err


def test_the_default_is_the_environments_then_host(monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv(platforms.PLATFORM_ENV, "permissive")
    assert platforms.default_spec() == "permissive"
    monkeypatch.delenv(platforms.PLATFORM_ENV)
    assert platforms.default_spec() == "host"
    # This machine's CPU (or the permissive model if it cannot be read): a dry run works either way.
    assert cli.main(["upload", str(EXAMPLES / "cx-ffh-c1-c2.toml"), "--dry-run", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["ok"] is True
