"""CPPC (``XEN_PM_CPPC``) against real Xen 4.17, 4.20 and 4.22: what each release answers.

Before 4.21, ``do_platform_op`` answers type 4 with EINVAL (its default
case), which the package must explain as "Xen is too old", not as a bad ACPI
id.  4.22 booted with ``cpufreq=xen`` (the tests' command line) is in
P-state mode: it answers 0 and drops the data (4.21 ``do_platform_op``).
Under QEMU the CPU has no CPPC, so Xen's amd-cppc driver cannot start: what
4.21+ does with the data in CPPC mode is not tested here (README, "Xen
versions").
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.xen.vm import XenVM

pytestmark = pytest.mark.xen
EXAMPLE = Path(__file__).parents[2] / "examples" / "cppc-amd-zen4.toml"


def test_cppc_upload_answer_per_release(xen_vm: XenVM) -> None:
    unknown_ids = xen_vm.console_log.count("No CPU for ACPI ID")
    result = xen_vm.run(f"python3 -m pyxenplatform upload {EXAMPLE} --json")
    results = json.loads(result.stdout)["results"]
    assert results and all(r["kind"] == "cppc" for r in results)
    if xen_vm.release in ("4.17", "4.20"):
        assert result.returncode == 1, result.output
        for r in results:
            assert r["errno_name"] == "EINVAL"
            assert (f"Xen is too old for CPPC (needs 4.21): this is Xen {xen_vm.release}"
                    in r["error"]), r
    else:
        # P-state mode: Xen returns 0 and keeps nothing (the simulated Xen says the same).
        assert result.returncode == 0, result.output
        assert [r["errno"] for r in results] == [0] * len(results)
    # Xen never looked the ACPI ids up: the type was unknown or ignored first.
    assert xen_vm.console_log.count("No CPU for ACPI ID") == unknown_ids


def test_xen_version_is_what_xen_says(xen_vm: XenVM) -> None:
    code = ("from pyxenplatform import Hypervisor\nfrom pyxenplatform.hypercalls import "
            "xen_version\nprint(xen_version(Hypervisor().transport))\n")
    xen_vm.write_file("/tmp/version.py", code)
    result = xen_vm.run("python3 /tmp/version.py")
    assert result.returncode == 0, result.output
    major, minor = xen_vm.release.split(".")
    assert result.stdout.strip() == f"({major}, {minor})"
