"""upload --verify against the simulated Xen: every difference named with its cause, exit 1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pyxenplatform import Hypervisor, cli
from pyxenplatform.sim import SimulatedXen
from pyxenplatform.sources import load_table
from pyxenplatform.verify import IGNORED_BY_IDLE_DRIVER, PLACEHOLDERS, SECOND_PSS, verified_upload

EXAMPLES = Path(__file__).parents[1] / "examples"
SUBSTATE = Path(__file__).parent / "data" / "xen" / "cx-ffh-substate-1.toml"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, object]]:
    capsys.readouterr()
    code = cli.main(["upload", *argv, "--dry-run", "--verify", "--json"])
    report: dict[str, object] = json.loads(capsys.readouterr().out)
    return code, report


def test_a_table_xen_keeps_whole_verifies(capsys: pytest.CaptureFixture[str]) -> None:
    code, report = run(capsys, str(EXAMPLES / "cx-sysio-c1-c2-c3.toml"))
    assert code == 0 and report["verify"] == {"ok": True, "mismatches": []}
    results = report["results"]
    assert isinstance(results, list) and [r["held"] for r in results] == [4, 4]  # C0 + 3


def test_a_silently_trimmed_table_fails_with_the_cause(capsys: pytest.CaptureFixture[str]) -> None:
    code, report = run(capsys, str(SUBSTATE))
    assert code == 1
    verify = report["verify"]
    assert isinstance(verify, dict) and verify["ok"] is False
    (first, second) = verify["mismatches"]
    assert (first["acpi_id"], first["kind"], first["held"]) == (0, "cx", "2 (+C0)")
    assert "check_cx" in first["cause"] and "MWAIT sub-state 0x11" in first["cause"]
    # The human form names it too, on stderr.
    assert cli.main(["upload", str(SUBSTATE), "--dry-run", "--verify"]) == 1
    assert "verify: ACPI id 1 cx: sent 3 C-states (C1, C2, C3), Xen holds 2 (+C0)" in \
        capsys.readouterr().err


def test_an_idle_driver_that_ignores_uploads() -> None:
    hv = Hypervisor(SimulatedXen(idle_driver="mwait-idle"))
    result, mismatches = verified_upload(hv, load_table(EXAMPLES / "cx-ffh-c1-c2.toml"))
    assert result.ok  # Xen answered 0...
    assert len(mismatches) == 2  # ...and kept nothing
    assert all(m.cause.startswith(IGNORED_BY_IDLE_DRIVER) for m in mismatches)


def test_placeholders_when_cpu0_gets_nothing() -> None:
    hv = Hypervisor.simulated()
    result, mismatches = verified_upload(hv, load_table(EXAMPLES / "cx-ffh-c1-c2.toml"), [1])
    assert result.ok and [r.held for r in result.results] == [3]
    assert [(m.acpi_id, m.cause) for m in mismatches] == [(0, PLACEHOLDERS)]


def test_a_second_pss_that_xen_ignores() -> None:
    hv = Hypervisor.simulated(cpufreq_driver=True)
    table = load_table(EXAMPLES / "px-pstates.toml")
    assert verified_upload(hv, table)[1] == []
    # Xen (4.19.3+) keeps the first _PSS: a new table for the same CPUs is not taken.
    shorter = load_table(EXAMPLES / "px-pstates.toml")
    px = shorter.processors[0].px
    assert px is not None
    from dataclasses import replace
    shorter = replace(shorter, processors=(replace(shorter.processors[0],
                                                   px=replace(px, states=px.states[1:])),))
    _, mismatches = verified_upload(Hypervisor(hv.transport), shorter, [0])
    assert [(m.acpi_id, m.kind, m.cause) for m in mismatches] == [(0, "px", SECOND_PSS)]
    assert "[3300, 2400, 1700, 800]" in mismatches[0].held
