"""The contract for scripts and toolstacks (issue 14): one JSON document per
``--json`` run, success or failure; ``--version``; ``show`` that diffs clean;
the privcmd path checked and named; a zipapp built fresh running the README's
first command.  The contract itself is in the README ("The JSON contract")."""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipapp
from pathlib import Path
from typing import Any

import pytest

import pyxenplatform
from pyxenplatform import cli, report, version
from tests.stand_in.fixtures import FakePrivcmd

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
BROKEN = ROOT / "tests" / "data" / "broken"

COMMON = set(report.COMMON_KEYS)
ERROR_KEYS = {"kind", "message", "errno", "errno_name", "file", "path", "op", "acpi_id"}


def check_document(doc: dict[str, Any], command: str, exit_code: int,
                   simulated: bool | None) -> None:
    """Everything the README promises about every document."""
    assert COMMON <= doc.keys()
    assert doc["schema"] == report.SCHEMA == 1
    assert doc["command"] == command and doc["version"] == pyxenplatform.__version__
    assert doc["exit_code"] == exit_code and doc["ok"] is (exit_code == 0)
    assert doc["simulated"] is simulated
    for w in doc["warnings"]:
        assert w.keys() == {"file", "path", "message"} and isinstance(w["message"], str)
    if exit_code == 0:
        assert doc["error"] is None
    else:
        assert doc["error"].keys() == ERROR_KEYS
        assert doc["error"]["message"] and "\n" not in doc["error"]["message"]
    for r in doc.get("results", []):
        assert r["simulated"] is simulated
        for state in [*(r["kept"] or []), *r["dropped"]]:
            assert state["name"] == f"C{state['type']}"


def run_json(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    code = cli.main(argv)
    out = capsys.readouterr().out
    doc: dict[str, Any] = json.loads(out)  # exactly one document: json.loads refuses more
    return code, doc


def test_check_ok_warnings_name_file_and_path(capsys: pytest.CaptureFixture[str]) -> None:
    table = str(EXAMPLES / "cx-ffh-c1-c2.toml")
    code, doc = run_json(["check", "--json", table], capsys)
    check_document(doc, "check", 0, None)
    assert doc["files"] == [table] and doc["warnings"]
    assert all(w["file"] == table and w["path"].startswith("processors[0].cx.states[")
               for w in doc["warnings"])


def test_check_failure_is_one_document(capsys: pytest.CaptureFixture[str]) -> None:
    table = str(BROKEN / "sysio-address-0.json")
    code, doc = run_json(["check", "--json", table], capsys)
    assert code == 2
    check_document(doc, "check", 2, None)
    assert doc["error"]["kind"] == "ValidationError" and doc["error"]["file"] == table
    assert doc["error"]["path"] == "processors[0].cx.states[1].register.address"


def test_upload_dry_run_document(capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = run_json(["upload", "--dry-run", "--json",
                          str(EXAMPLES / "cx-sysio-c1-c2-c3.toml")], capsys)
    check_document(doc, "upload", 0, True)
    assert [k["name"] for k in doc["results"][0]["kept"]] == ["C0", "C1", "C2", "C3"]
    assert [s["type"] for s in doc["results"][0]["sent"]["states"]] == [1, 2, 3]
    assert doc["summary"] == {"cx": {"sent": 2, "ok": 2, "refused": 0, "kept": 6,
                                     "dropped": 0}}


def test_upload_refused_by_xen_has_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = run_json(["upload", "--dry-run", "--json", str(EXAMPLES / "px-pstates.toml")],
                         capsys)
    assert code == 1
    check_document(doc, "upload", 1, True)
    error = doc["error"]
    assert (error["kind"], error["errno_name"], error["op"], error["acpi_id"]) == (
        "HypercallError", "ENODEV", "XEN_PM_PX", 0)
    assert error["message"].endswith("(also ACPI id 1)")
    assert [r["errno_name"] for r in doc["results"]] == ["ENODEV", "ENODEV"]


def test_upload_without_privcmd_is_one_document(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PYXENPLATFORM_PRIVCMD", str(tmp_path / "nonexistent"))
    code, doc = run_json(["upload", "--json", str(EXAMPLES / "cx-ffh-c1-c2.toml")], capsys)
    assert code == 3
    check_document(doc, "upload", 3, False)
    error = doc["error"]
    assert (error["kind"], error["errno"], error["errno_name"]) == (
        "PrivcmdUnavailable", 2, "ENOENT")
    assert "(from PYXENPLATFORM_PRIVCMD)" in error["message"]


def test_cpus_failure_is_one_document(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = run_json(["--privcmd", str(tmp_path / "none"), "cpus", "--json"], capsys)
    assert code == 3
    check_document(doc, "cpus", 3, False)
    assert "(from --privcmd)" in doc["error"]["message"]


def test_usage_error_is_one_document(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(["upload", "--json", "--acpi-id", "\u0663", "t.toml"])
    assert info.value.code == 2
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    check_document(doc, "upload", 2, None)
    assert doc["error"]["kind"] == "UsageError" and "--acpi-id" in doc["error"]["message"]
    assert captured.err.splitlines()[-1].startswith("pyxenplatform: error: argument --acpi-id")


def test_every_json_command_prints_one_document_on_failure(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Every subcommand with --json, today's and those added later, run where it must
    fail (no privcmd, no file): one document, its exit code the process's."""
    monkeypatch.setenv("PYXENPLATFORM_PRIVCMD", str(tmp_path / "no-privcmd"))
    monkeypatch.chdir(tmp_path)
    parser = cli.build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    with_json = [name for name, sub in subparsers.choices.items()
                 if any("--json" in a.option_strings for a in sub._actions)]
    assert {"cpus", "check", "upload"} <= set(with_json)
    # Without an argument, `firmware` reads this machine's tables: only the failing forms here.
    for name in with_json:
        bare = [[name, "--json"]] if name in ("cpus", "check", "upload", "status") else []
        for argv in [*bare, [name, "--json", "missing.toml"]]:
            try:
                code = cli.main(argv)
            except SystemExit as exc:  # a usage error: argparse's exit code
                assert isinstance(exc.code, int)
                code = exc.code
            out = capsys.readouterr().out
            doc = json.loads(out)
            assert doc["exit_code"] == code and doc["command"] == name, (argv, doc)
            assert (doc["error"] is None) is (code == 0), (argv, doc)


def test_cpus_list_through_the_stand_in(fake_privcmd: FakePrivcmd) -> None:
    run = fake_privcmd([sys.executable, "-m", "pyxenplatform", "cpus", "--json"],
                       cpus="0:0:2,1:2:4")
    assert run.returncode == 0, run.stderr
    doc = json.loads(run.stdout)
    check_document(doc, "cpus", 0, False)
    assert [c["acpi_id"] for c in doc["cpus"]] == [2, 4]


# ---------------------------------------------------------------- privcmd


@pytest.mark.parametrize(("how", "origin"), [("--privcmd", "--privcmd"),
                                              ("env", "PYXENPLATFORM_PRIVCMD")])
def test_privcmd_that_is_no_device_is_refused_before_any_ioctl(
        how: str, origin: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    plain = tmp_path / "privcmd"
    plain.write_text("")
    argv = ["cpus"]
    if how == "env":
        monkeypatch.setenv("PYXENPLATFORM_PRIVCMD", str(plain))
    else:
        argv = ["--privcmd", str(plain), *argv]
    assert cli.main(argv) == 3
    err = capsys.readouterr().err
    assert err == (f"pyxenplatform: error: open {plain} (from {origin}) failed: ENOTTY "
                   "(Inappropriate ioctl for device): a regular file, not the privcmd character "
                   "device: give /dev/xen/privcmd (modprobe xen-privcmd)\n")


def test_default_privcmd_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    from pyxenplatform.transport import privcmd_path_and_origin

    monkeypatch.delenv("PYXENPLATFORM_PRIVCMD", raising=False)
    assert privcmd_path_and_origin()[1] == "default"


# ---------------------------------------------------------------- version


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(["--version"])
    assert info.value.code == 0
    first, second = capsys.readouterr().out.splitlines()
    assert first == f"pyxenplatform {pyxenplatform.__version__}"
    assert "platform_op interface 0x03000001" in second and "tested on Xen 4.17" in second
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert pyxenplatform.__version__ == project["version"] == version.FALLBACK_VERSION


# ------------------------------------------------------------------- show


def show(*argv: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "pyxenplatform", "show", *argv], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=60, check=True)
    return proc.stdout


def test_show_diffs_clean_with_units_and_names() -> None:
    table = "examples/px-pstates.toml"
    first = show(table)
    assert first == show(table)  # two processes: no addresses in the output
    assert not re.search(r"0x[0-9a-f]{9,}", first), "an address leaked"
    assert "states[0].core_frequency = 3300 MHz" in first
    assert "states[0].power = 84000 mW" in first and "transition_latency = 10 µs" in first
    assert "u.set_pminfo.type = 1 (XEN_PM_PX)" in first
    assert "u.set_pminfo.u.perf.states -> states[0..3]" in first
    assert "control_register.space_id = 127 (FIXED_HARDWARE)" in first
    assert "domain_info.coord_type = 252 (SW_ALL)" in first
    cx = show("examples/cx-sysio-c1-c2-c3.toml")
    assert "states[1].type = 2 (C2)" in cx and "states[1].latency = 1 µs" in cx
    assert "states[1].reg.space_id = 1 (SYSTEM_IO)" in cx and "dp -> none (NULL)" in cx


# ----------------------------------------------------------------- zipapp


def test_zipapp_runs_the_readmes_first_command(tmp_path: Path) -> None:
    """Built fresh, as the README says, and run with no source tree on the path."""
    staging = tmp_path / "app"
    shutil.copytree(ROOT / "pyxenplatform", staging / "pyxenplatform",
                    ignore=shutil.ignore_patterns("__pycache__"))
    target = tmp_path / "pyxenplatform.pyz"
    zipapp.create_archive(staging, target, interpreter="/usr/bin/env python3",
                          main="pyxenplatform.cli:run")
    readme = (ROOT / "README.md").read_text()
    first = re.search(r"```sh\n(python3 -m pyxenplatform [^\n]+)\n", readme)
    assert first is not None
    argv = first.group(1).split()[3:]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run([sys.executable, "-I", str(target), *argv, "--json"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    check_document(doc, "upload", 0, True)
    assert doc["version"] == version.FALLBACK_VERSION
    refused = subprocess.run([sys.executable, "-I", str(target), "check", "nonexistent.toml"],
                             cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2  # the exit code survives the zipapp's entry point


def test_zipapp_of_the_package_folder_itself(tmp_path: Path) -> None:
    """``python3 -m zipapp pyxenplatform``: the folder is the archive's root, and
    ``__main__.py`` makes the archive importable as the package."""
    folder = tmp_path / "pyxenplatform"
    shutil.copytree(ROOT / "pyxenplatform", folder, ignore=shutil.ignore_patterns("__pycache__"))
    target = tmp_path / "app.pyz"
    subprocess.run([sys.executable, "-m", "zipapp", str(folder), "-o", str(target)], check=True,
                   timeout=120)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run([sys.executable, str(target), "upload", "examples/cx-ffh-c1-c2.toml",
                           "--dry-run", "--json"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    check_document(json.loads(proc.stdout), "upload", 0, True)
    bad = subprocess.run([sys.executable, str(target), "check", "missing.toml"], cwd=tmp_path,
                         env=env, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
