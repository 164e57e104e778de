"""The command line: help that teaches, show's fields and bytes, exit codes."""

from __future__ import annotations

import ctypes
from pathlib import Path

import pytest

from pyxenplatform import abi
from pyxenplatform.cli import EXIT_NO_PRIVCMD, EXIT_USAGE, main

EXAMPLES = Path(__file__).parents[1] / "examples"


@pytest.mark.parametrize("command", [[], ["cpus"], ["upload"], ["show"], ["check"]])
def test_help_teaches(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main([*command, "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: pyxenplatform")
    if not command:
        assert "exit codes:" in out and "--dry-run" in out
    if command == ["upload"]:
        assert "'all'" in out and "Xen CPU 0" in out


def test_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["upload"])
    assert info.value.code == EXIT_USAGE
    assert "FILE" in capsys.readouterr().err


def test_no_privcmd_exits_3_with_one_line(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--privcmd", str(tmp_path / "none"), "cpus"]) == EXIT_NO_PRIVCMD
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not running in a Xen dom0" in err
    assert "Traceback" not in err


def test_show_prints_fields_and_exact_bytes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", str(EXAMPLES / "cx-sysio-c1-c2-c3.toml"), "--hex"]) == 0
    out = capsys.readouterr().out
    first = out.split("\n\n")[0]
    assert first.startswith("# ACPI id 0: cx")
    assert "cmd = 54 (XENPF_set_processor_pminfo)" in first
    assert "interface_version = 0x3000001" in first
    assert "u.set_pminfo.u.power.count = 0x3" in first
    assert "states[1].reg.space_id = 0x1" in first
    # The dump is the op (136 bytes) then 3 x 48 bytes of xen_processor_cx.
    dump = [line for line in first.splitlines() if line.startswith("  0")]
    raw = bytes.fromhex("".join(line[8:] for line in dump).replace(" ", ""))
    assert len(raw) == 136 + 3 * 48
    op = abi.xen_platform_op.from_buffer_copy(raw)
    assert (op.cmd, op.u.set_pminfo.type, op.u.set_pminfo.u.power.count) == (54, 0, 3)
    states = (abi.xen_processor_cx * 3).from_buffer_copy(raw, 136)
    assert [s.type for s in states] == [1, 2, 3]
    assert ctypes.sizeof(states) == 144


def test_verbose_shows_the_notes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-v", "check", str(EXAMPLES / "cx-ffh-c1-c2.toml")]) == 0
    captured = capsys.readouterr()
    assert "notes; -v shows them" in captured.out
    assert "MWAIT" in captured.err
