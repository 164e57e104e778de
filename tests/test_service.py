"""The boot-time systemd unit: shipped as package data, installed with this interpreter, and
accepted by ``systemd-analyze verify`` (which needs no running systemd)."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pyxenplatform.cli import build_parser
from pyxenplatform.cli import main as cli_main
from pyxenplatform.service import UNIT_NAME, install_service, unit_text

REQUIRE_ENV = "PYXENPLATFORM_REQUIRE_SYSTEMD"  # CI sets it: a skip would hide the check


def systemd_analyze() -> str:
    tool = shutil.which("systemd-analyze")
    if tool:
        return tool
    message = "systemd-analyze is not installed (Debian package systemd)"
    if os.environ.get(REQUIRE_ENV):
        pytest.fail(f"{message} [{REQUIRE_ENV}=1]", pytrace=False)
    pytest.skip(message)


def verify(unit: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([systemd_analyze(), "verify", str(unit)], capture_output=True,
                          text=True, check=False, env={**os.environ, "SYSTEMD_LOG_COLOR": "0"})


def directives(text: str) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in text.splitlines() if "=" in line
             and not line.startswith("#"))
    return {key: value for key, value in pairs}


def test_unit_runs_the_firmware_upload_once_between_privcmd_and_guests() -> None:
    unit = directives(unit_text("/opt/venv/bin/python3"))
    assert unit["Type"] == "oneshot"
    assert unit["ExecStart"] == "/opt/venv/bin/python3 -m pyxenplatform upload --from-firmware --verify"
    # Debian xen-utils: xenfs (and with it privcmd) comes from proc-xen.mount; guests start
    # from xendomains.service.
    assert {"proc-xen.mount", "xenstored.service"} <= set(unit["After"].split())
    assert unit["Before"] == "xendomains.service"
    assert unit["StandardOutput"] == unit["StandardError"] == "journal"
    assert unit["WantedBy"] == "multi-user.target"


def test_the_units_command_line_is_one_the_cli_accepts() -> None:
    argv = shlex.split(directives(unit_text())["ExecStart"])
    assert argv[:3] == [sys.executable, "-m", "pyxenplatform"]
    args = build_parser().parse_args(argv[3:])  # SystemExit(2) on an unknown option
    assert (args.command, args.from_firmware, args.verify, args.dry_run) == ("upload", True, True, False)


def test_install_service_writes_a_unit_systemd_accepts(tmp_path: Path) -> None:
    written = install_service(tmp_path)
    assert written == tmp_path / "etc" / "systemd" / "system" / UNIT_NAME
    assert written.stat().st_mode & 0o777 == 0o644
    done = verify(written)
    assert (done.returncode, done.stderr) == (0, ""), done.stderr


def test_systemd_analyze_catches_a_broken_unit(tmp_path: Path) -> None:
    # The check above can fail: a unit whose interpreter does not exist is refused.
    written = install_service(tmp_path, python="/nonexistent/python3")
    done = verify(written)
    assert done.returncode != 0 and "/nonexistent/python3" in done.stderr


def test_install_service_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["install-service", "--root", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    target = tmp_path / "etc" / "systemd" / "system" / UNIT_NAME
    assert str(target) in out and "systemctl enable pyxenplatform.service" in out
    assert target.read_text() == unit_text()
