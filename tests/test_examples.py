"""The example tables and scripts in examples/, and tables that must be refused.

Every example is uploaded to the simulated Xen through the real command line
(``pyxenplatform upload FILE --dry-run --json``) and the exact C-states Xen
keeps, per ACPI id, are asserted: an example that silently loses a state is
a wrong example.  Every table in ``tests/data/broken/`` must be refused with
exit code 2 before anything is sent, naming the file, the key path and the rule.
"""

from __future__ import annotations

import doctest
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import pytest

from examples import repl_walkthrough, upload_cx
from pyxenplatform import PowerTable, SimulatedXen, cli, load_table, sim

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
BROKEN = ROOT / "tests" / "data" / "broken"


# --------------------------------------------------------------- examples

# (acpi_id, kind, C-states Xen holds afterwards (None: not a Cx upload), errno name)
Outcome = tuple[int, str, list[int] | None, str]


@dataclass(frozen=True)
class Example:
    name: str
    exit_code: int
    outcomes: list[Outcome]
    cpus: str | None = None  # --cpus for the simulated host
    cpufreq: str = "xen"  # --cpufreq of the simulated Xen

    def argv(self, path: Path) -> list[str]:
        extra = ["--cpus", self.cpus] if self.cpus else []
        return ["upload", str(path), "--dry-run", "--json", "--cpufreq", self.cpufreq, *extra]


EXPECTED = [
    # The default simulated host: Xen CPUs 0 and 1 with ACPI ids 0 and 1, an
    # Intel CPU with ARAT and MWAIT sub-state 0 only (cpu_rules.Platform).
    Example("cx-ffh-c1-c2", 0, [(0, "cx", [0, 1, 2], ""), (1, "cx", [0, 1, 2], "")]),
    Example("cx-sysio-c1-c2-c3", 0,
            [(0, "cx", [0, 1, 2, 3], ""), (1, "cx", [0, 1, 2, 3], "")]),
    # No cpufreq driver in the simulated Xen (like QEMU/TCG): a full Px
    # upload is refused with ENODEV, so the command exits 1.
    Example("px-pstates", 1, [(0, "px", None, "ENODEV"), (1, "px", None, "ENODEV")]),
    # ACPI ids 2 and 4: "all" gives C1-C3, the explicit entry for 4 only C1.
    Example("per-cpu", 0, [(2, "cx", [0, 1, 2, 3], ""), (4, "cx", [0, 1], "")],
            cpus="0:0:2,1:2:4"),
    Example("pdc-intel", 0, [(0, "pdc", None, ""), (1, "pdc", None, "")]),
    # Xen 4.21+ booted with cpufreq=amd-cppc keeps it whole.
    Example("cppc-amd-zen4", 0, [(0, "cppc", None, ""), (1, "cppc", None, "")],
            cpufreq="amd-cppc"),
]
BY_NAME = {e.name: e for e in EXPECTED}
FORMATS = ("toml", "json")


def example_ids() -> list[str]:
    return [e.name for e in EXPECTED]


def test_every_example_table_is_covered() -> None:
    """A new example table must get its expected outcome here, in both formats."""
    files = sorted(p.name for p in EXAMPLES.iterdir() if p.suffix in (".toml", ".json"))
    assert files == sorted(f"{e.name}.{fmt}" for e in EXPECTED for fmt in FORMATS)


@pytest.mark.parametrize("name", example_ids())
def test_toml_and_json_load_to_equal_tables(name: str) -> None:
    toml = load_table(EXAMPLES / f"{name}.toml")
    assert isinstance(toml, PowerTable) and toml.processors
    assert toml == load_table(EXAMPLES / f"{name}.json")


@pytest.mark.parametrize("name", example_ids())
def test_examples_are_explained(name: str) -> None:
    """TOML carries comments, JSON "description" keys (the schema allows both)."""
    text = (EXAMPLES / f"{name}.toml").read_text()
    assert sum(line.lstrip().startswith("#") for line in text.splitlines()) >= 5
    data = json.loads((EXAMPLES / f"{name}.json").read_text())
    assert isinstance(data["description"], str) and data["description"]
    assert all(isinstance(p["description"], str) for p in data["processors"])


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", example_ids())
def test_example_passes_check(name: str, fmt: str, capsys: pytest.CaptureFixture[str]) -> None:
    path = EXAMPLES / f"{name}.{fmt}"
    assert cli.main(["check", str(path)]) == 0
    out, err = capsys.readouterr()
    assert out.startswith(f"{path}: ok")
    assert "error" not in err


def outcomes(report: dict[str, Any]) -> list[Outcome]:
    return [(r["acpi_id"], r["kind"], kept_types(r["kept"]), r["errno_name"])
            for r in report["results"]]


def kept_types(kept: list[dict[str, Any]] | None) -> list[int] | None:
    if kept is None:
        return None
    assert all(k["name"] == f"C{k['type']}" for k in kept)
    return [k["type"] for k in kept]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", example_ids())
def test_example_dry_run_upload(name: str, fmt: str,
                                capsys: pytest.CaptureFixture[str]) -> None:
    example = BY_NAME[name]
    code = cli.main(example.argv(EXAMPLES / f"{name}.{fmt}"))
    out, err = capsys.readouterr()
    report = json.loads(out)
    assert code == example.exit_code, err
    assert report["simulated"] is True and report["schema"] == 1
    assert report["ok"] is (example.exit_code == 0)
    assert outcomes(report) == example.outcomes
    # Nothing dropped silently: every state of every example is kept.
    assert all(r["dropped"] == [] for r in report["results"])
    if name == "px-pstates":
        for r in report["results"]:
            assert r["errno"] == 19 and r["sent"]["flags"] == ["PCT", "PSS", "PPC", "PSD"]
            assert "ENODEV" in r["error"]
        # One refusal, printed once, naming the other ACPI ids it hit.
        assert err.count("pyxenplatform: error:") == 1 and "(also ACPI id 1)" in err
    if name == "pdc-intel":
        # What Xen 4.17 under QEMU wrote back (measured): it keeps only the
        # bits it does not control and sets its own for Cx/Px, without EIST
        # or MWAIT FFH (cpu_rules.pdc_answer).
        assert [r["pdc_out"] for r in report["results"]] == [0x9E, 0x9E]


def run_module(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p))
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60, check=False)


def test_example_dry_run_upload_as_a_command() -> None:
    """``python -m pyxenplatform`` in its own interpreter, as a user runs it."""
    proc = run_module("-m", "pyxenplatform", "upload", "examples/cx-ffh-c1-c2.toml",
                      "--dry-run", "--json")
    assert proc.returncode == 0, proc.stderr
    assert outcomes(json.loads(proc.stdout)) == BY_NAME["cx-ffh-c1-c2"].outcomes


def test_upload_cx_script_dry_run() -> None:
    proc = run_module("examples/upload_cx.py", "--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["ACPI id 0: Xen holds C0 C1 C2 C3",
                                        "ACPI id 1: Xen holds C0 C1 C2 C3"]


def test_upload_cx_main_in_process(capsys: pytest.CaptureFixture[str]) -> None:
    assert upload_cx.main(["--dry-run"]) == 0
    assert "ACPI id 1: Xen holds C0 C1 C2 C3" in capsys.readouterr().out


def test_repl_walkthrough_doctest() -> None:
    result = doctest.testmod(repl_walkthrough, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 15
    assert result.failed == 0


# ----------------------------------------------------------- broken tables


@dataclass(frozen=True)
class Broken:
    file: str
    path: str | None  # the key path in the message; None for syntax errors
    rule: str         # a fragment of the rule


BROKEN_TABLES = [
    Broken("unknown-key-latncy.toml", "processors[0].cx.states[0].latncy", "unknown key"),
    Broken("ffh-bit-offset-1.toml", "processors[0].cx.states[0].register",
           "bit_offset 2 (native C-state beyond halt), not 1/1"),
    Broken("sysio-address-0.json", "processors[0].cx.states[1].register.address",
           "SYSTEM_IO register at address 0"),
    Broken("type-0.toml", "processors[0].cx.states[0].type", "C0 is not an idle state"),
    Broken("seven-deep-states.toml", "processors[0].cx.states[7]",
           "more than 6 states deeper than C1"),
    Broken("ppc-beyond-states.json", "processors[0].px.ppc", "does not index a P-state"),
    Broken("psd-revision-1.toml", "processors[0].px.psd.revision", "only revision 0"),
    Broken("bad-hex.toml", "processors[0].cx.states[1].register.address",
           "must be an integer (or a hex string"),
    Broken("acpi-id-negative.json", "processors[0].acpi_id",
           "-1 does not fit an ACPI processor id"),
    Broken("json-syntax.json", None, "not valid JSON: Expecting value: line 5"),
    Broken("toml-syntax.toml", None, "not valid TOML: Unclosed inline table"),
    Broken("duplicate-explicit-id.toml", "processors[1].acpi_id",
           "ACPI id 1 already gets pdc from processors[0]"),
    Broken("cppc-psd-sw-all.toml", "processors[0].cppc.psd.coord_type",
           "in CPPC mode Xen accepts only HW_ALL (0xfe)"),
    Broken("cppc-perf-over-u32.json", "processors[0].cppc.highest_perf",
           "4294967296 does not fit xen_processor_cppc.cpc.highest_perf (u32)"),
    Broken("cppc-unknown-key.toml", "processors[0].cppc.lowest_freq", "unknown key"),
    # Hostile input (issue 13): each class once; the reader's bounds are in
    # pyxenplatform/readers.py, special files are made on the spot in test_hostile.py.
    Broken("nested-2000-levels.json", None, "nested more than 32 levels deep"),
    Broken("nested-2000-levels.toml", None, "nested more than 32 levels deep"),
    Broken("nested-40-levels.json", "processors[0].acpi_id" + "[0]" * 30,
           "nested more than 32 levels deep"),
    Broken("int-5000-digits.json", None, "an integer of 5000 digits: no field takes more"),
    Broken("int-5000-digits.toml", None, "not valid TOML: an integer with too many digits"),
    Broken("hex-5000-digits.json", "processors[0].acpi_id",
           "a string of 5002 characters where a number belongs"),
    Broken("int-65-bits.toml", "processors[0].pdc", "an integer of 65 bits"),
    Broken("duplicate-key.json", None, "duplicate key 'acpi_id' in one object"),
    Broken("arabic-indic-digit.json", "processors[0].acpi_id",
           "must be an integer (or a hex string like \"0x1f\"), not '\\u0663'"),
    Broken("fullwidth-digit.toml", "processors[0].acpi_id", "must be an integer"),
    Broken("acpi-id-with-spaces.json", "processors[0].acpi_id", "must be an integer"),
    Broken("description-number.json", "description", "must be a string, not int"),
    Broken("entry-description-list.toml", "processors[0].description",
           "must be a string, not a list"),
    Broken("key-injects-a-line.json",
           "processors[0].'x\\npyxenplatform: error: fake\\x1b[31m'", "unknown key"),
    Broken("two-all-entries.toml", "processors[1].acpi_id",
           "a second \"all\" entry with pdc (the first is processors[0])"),
    Broken("nan.json", None, "NaN is not a number a table can hold"),
]


class RecordingXen(SimulatedXen):
    """The CLI's simulated Xen, remembering every instance the CLI creates."""

    instances: ClassVar[list[SimulatedXen]] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        RecordingXen.instances.append(self)


@pytest.fixture
def recording_xen(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[SimulatedXen]]:
    RecordingXen.instances = []
    monkeypatch.setattr(sim, "SimulatedXen", RecordingXen)
    yield RecordingXen.instances


def test_every_broken_table_is_listed() -> None:
    assert sorted(p.name for p in BROKEN.iterdir()) == sorted(b.file for b in BROKEN_TABLES)


def expected_message(b: Broken, file: Path) -> str:
    where = f"{b.path}: " if b.path else ""
    return f"pyxenplatform: error: {file}: {where}"


def assert_refused(b: Broken, err: str, *, with_file: bool) -> None:
    lines = [line for line in err.splitlines() if line.startswith("pyxenplatform: error:")]
    assert len(lines) == 1, err
    assert err.count("\n") == 1 and "\x1b" not in err, err
    message = lines[0]
    if b.path is not None:
        assert f" {b.path}: " in message
    assert b.rule in message
    if with_file:
        assert message.startswith(expected_message(b, BROKEN / b.file)), message


def broken_params() -> list[Any]:
    return [pytest.param(b, id=b.file) for b in BROKEN_TABLES]


@pytest.mark.parametrize("broken", broken_params())
def test_broken_table_upload_refused_before_sending(
        broken: Broken, recording_xen: list[SimulatedXen],
        capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["upload", str(BROKEN / broken.file), "--dry-run", "--json"])
    out, err = capsys.readouterr()
    assert code == 2
    doc = json.loads(out)  # one JSON document: the error, no results
    assert doc["ok"] is False and doc["exit_code"] == 2 and "results" not in doc
    assert doc["error"]["kind"] == "ValidationError" and doc["error"]["file"]
    # Nothing reached the (simulated) hypervisor's set_processor_pminfo.
    assert all(not xen.calls for xen in recording_xen)
    assert_refused(broken, err, with_file=False)


@pytest.mark.parametrize("broken", broken_params())
def test_broken_table_check_refused(broken: Broken, recording_xen: list[SimulatedXen],
                                    capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["check", str(BROKEN / broken.file)])
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert recording_xen == []  # check never creates a hypervisor
    assert_refused(broken, err, with_file=False)


@pytest.mark.parametrize("broken", broken_params())
def test_check_names_the_file(broken: Broken, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["check", str(BROKEN / broken.file)]) == 2
    assert_refused(broken, capsys.readouterr().err, with_file=True)


@pytest.mark.parametrize("broken", broken_params())
def test_upload_names_the_file(broken: Broken, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["upload", str(BROKEN / broken.file), "--dry-run"]) == 2
    assert_refused(broken, capsys.readouterr().err, with_file=True)


def test_duplicate_ids_across_files_name_both_files(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first, second = tmp_path / "a.toml", tmp_path / "b.toml"
    first.write_text("[[processors]]\nacpi_id = 0\npdc = 1\n"
                     "[[processors]]\nacpi_id = 1\npdc = 1\n")
    second.write_text("[[processors]]\nacpi_id = [1]\npdc = 2\n")
    for command in (["check"], ["upload", "--dry-run"]):
        assert cli.main([*command, str(first), str(second)]) == 2
        err = capsys.readouterr().err
        assert err == (f"pyxenplatform: error: {second}: processors[0].acpi_id: ACPI id 1 "
                       f"already gets pdc from {first} processors[1]\n")
