"""Read-back, ``status`` and ``upload --verify`` against real Xen 4.17, 4.20 and 4.22.

What each release showed is pinned here: the sysctl interface version (0x15, 0x15, 0x16), the
second ``_PSS`` 4.20 and 4.22 ignore (seen through the 1-state capability check only a first
``_PSS`` gets: under TCG no cpufreq driver starts, so Xen never reports P-states), and 4.21+'s
silent drop of P-states when no cpufreq driver is in P-state mode (4.22 booted with
``cpufreq=amd-cppc`` on the Intel CPU model).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.xen.vm import DEFAULT_XEN_CMDLINE, XenVM

pytestmark = pytest.mark.xen
EXAMPLES = Path(__file__).parents[2] / "examples"
SUBSTATE = Path(__file__).parents[1] / "data" / "xen" / "cx-ffh-substate-1.toml"
SYSCTL_VERSION = {"4.17": 0x15, "4.20": 0x15, "4.22": 0x16}


def status(vm: XenVM) -> list[dict[str, Any]]:
    result = vm.run("python3 -m pyxenplatform status --json")
    assert result.returncode == 0, result.output
    cpus: list[dict[str, Any]] = json.loads(result.stdout)["cpus"]
    return cpus


def xenpm_idle(vm: XenVM) -> dict[int, tuple[int, list[str], list[int]]]:
    """xenpm get-cpuidle-states: per Xen CPU id, total C-states, their names and transitions."""
    result = vm.run("xenpm get-cpuidle-states")
    assert result.returncode == 0, result.output
    print(result.stdout)
    found = {}
    for block in result.stdout.split("cpu id")[1:]:
        cpu = int(re.match(r"\s*:\s*(\d+)", block).group(1))  # type: ignore[union-attr]
        total = int(re.search(r"total C-states\s*:\s*(\d+)", block).group(1))  # type: ignore[union-attr]
        states = re.findall(r"^(C\d+)\s*:\s*transition \[\s*(\d+)\]", block, re.M)
        found[cpu] = (total, [name for name, _ in states], [int(n) for _, n in states])
    return found


def agree_with_xenpm(vm: XenVM) -> list[dict[str, Any]]:
    """status --json and xenpm, read one after the other, say the same for every CPU."""
    cpus = status(vm)
    xenpm = xenpm_idle(vm)
    assert sorted(xenpm) == [c["xen_cpuid"] for c in cpus]
    for cpu in cpus:
        total, names, transitions = xenpm[cpu["xen_cpuid"]]
        ours = cpu["cstates"]
        assert (ours["reported"], [s["name"] for s in ours["states"]]) == (total, names)
        # Usage only grows: ours were read first.
        assert all(u["usage"] <= t for u, t in zip(ours["states"], transitions))
    # No cpufreq driver under TCG: xenpm cannot read the parameters either.
    para = vm.run("xenpm get-cpufreq-para")
    print(para.output)
    assert all(c["cpufreq"] is None and c["pstates"] is None for c in cpus)
    assert "scaling_driver" not in para.stdout
    return cpus


def test_status_agrees_with_xenpm_before_and_after_an_upload(xen_vm: XenVM) -> None:
    before = agree_with_xenpm(xen_vm)
    if all(c["cstates"]["placeholder"] for c in before):  # nothing uploaded yet in this boot
        assert [c["cstates"]["reported"] for c in before] == [2] * len(before)
    upload = xen_vm.run(f"python3 -m pyxenplatform upload {EXAMPLES / 'cx-sysio-c1-c2-c3.toml'}")
    assert upload.returncode == 0, upload.output
    after = agree_with_xenpm(xen_vm)
    assert [(c["cstates"]["count"], c["cstates"]["placeholder"]) for c in after] == \
        [(4, False)] * len(after)


def test_sysctl_interface_version(xen_vm: XenVM) -> None:
    code = ("from pyxenplatform import Hypervisor; hv = Hypervisor(); hv.status(); "
            "print(hex(hv._sysctl_version.value or 0))")
    result = xen_vm.run(f'python3 -c "{code}"')
    assert result.stdout.strip() == hex(SYSCTL_VERSION[xen_vm.release]), result.output


def test_verify_passes_a_kept_table_and_fails_a_trimmed_one(xen_vm: XenVM) -> None:
    kept = xen_vm.run(f"python3 -m pyxenplatform upload {EXAMPLES / 'cx-ffh-c1-c2.toml'} --verify")
    assert kept.returncode == 0, kept.output
    assert "verify: Xen holds everything that was sent" in kept.stdout
    # Xen 0 for every upload, but it drops C2 (MWAIT sub-state 1) on this CPU.
    trimmed = xen_vm.run(f"python3 -m pyxenplatform upload {SUBSTATE} --verify --json "
                         "--platform qemu")
    assert trimmed.returncode == 1, trimmed.output
    report = json.loads(trimmed.stdout)
    assert [r["errno"] for r in report["results"]] == [0, 0]
    assert [r["held"] for r in report["results"]] == [3, 3]  # C0, C1, C3
    causes = [m["cause"] for m in report["verify"]["mismatches"]]
    assert len(causes) == 2 and all("MWAIT sub-state 0x11" in c for c in causes), causes
    # Without --platform the prediction is dom0's own view of the CPU: still named check_cx.
    plain = xen_vm.run(f"python3 -m pyxenplatform upload {SUBSTATE} --verify")
    assert plain.returncode == 1 and plain.stderr.count("check_cx") == 2, plain.output


SECOND_PSS = """\
import ctypes, errno
from pyxenplatform import Hypervisor
from pyxenplatform.hypercalls import issue
from pyxenplatform.marshal import PX_ALL, build_px
from pyxenplatform.sources import load_table
px = load_table("{table}").processors[0].px
hv = Hypervisor()
for count in (len(px.states), 1):  # a first _PSS, then one Xen must refuse if it reads it
    op = build_px(hv.transport, 0, px, PX_ALL)
    op.u.set_pminfo.u.perf.state_count = count
    try:
        issue(hv.transport, op, 0)
        print(0)
    except OSError as exc:
        print(errno.errorcode[exc.errno])
"""


def test_a_second_pss_is_ignored_from_4_20(xen_vm: XenVM) -> None:
    xen_vm.write_file("/tmp/second_pss.py", SECOND_PSS.format(table=EXAMPLES / "px-pstates.toml"))
    result = xen_vm.run("python3 /tmp/second_pss.py")
    assert result.returncode == 0, result.output
    first, second = result.stdout.split()
    assert first == "ENODEV"  # stored, but no cpufreq driver under TCG
    # 4.17 reads the second _PSS (state_count <= 1: EINVAL); 4.20.1+ skips it
    # (set_px_pminfo: "perf->flags & XEN_PX_PSS && !pxpt->states") and fails as before.
    assert second == ("EINVAL" if xen_vm.release == "4.17" else "ENODEV")


@pytest.fixture(scope="module")
def xen_amd_cppc() -> Iterator[XenVM]:
    """4.22 booted with cpufreq=amd-cppc on the Intel CPU model: no driver registers, and
    cpufreq_driver_init clears both XEN_PROCESSOR_PM_PX and _CPPC."""
    cmdline = DEFAULT_XEN_CMDLINE.replace("cpufreq=xen", "cpufreq=amd-cppc")
    with XenVM.boot(release="4.22", xen_cmdline=cmdline) as vm:
        yield vm


def test_4_22_drops_pstates_silently_without_a_pstate_driver(xen_amd_cppc: XenVM) -> None:
    vm = xen_amd_cppc
    table = EXAMPLES / "px-pstates.toml"
    plain = vm.run(f"python3 -m pyxenplatform upload {table} --json")
    assert plain.returncode == 0, plain.output  # Xen answered 0 for every CPU...
    assert {r["errno"] for r in json.loads(plain.stdout)["results"]} == {0}
    verified = vm.run(f"python3 -m pyxenplatform upload {table} --verify --json")
    assert verified.returncode == 1, verified.output  # ...and kept nothing
    mismatches = json.loads(verified.stdout)["verify"]["mismatches"]
    assert len(mismatches) == 2
    assert all("not in P-state mode" in m["cause"] and m["held"] == "none" for m in mismatches)
    cpus = status(vm)
    assert {c["pstates_unavailable"]["errno_name"] for c in cpus} == {"ENODEV"}
