"""Hostile input (issue 13): what the broken tables of tests/data/broken cannot hold.

Special files made on the spot (``/dev/zero``, FIFOs, directories, huge files),
hostile ``--cpus``/``--acpi-id``, the simulated host's bounds, predicted drops
with ``--strict``, output that cannot be split, ``| head``, a dry run without
locked memory, and a seeded mutation fuzzer over the examples.  Each bad input
must give exit 2 (or 0/1 for a valid table), one clean stderr line, no traceback,
within seconds.
"""

from __future__ import annotations

import ctypes
import errno
import os
import random
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pyxenplatform import PhysicalCpu, SimulatedXen, ValidationError, cli, report
from pyxenplatform import arena as arena_module
from pyxenplatform.errors import LocalFailure
from pyxenplatform.hypercalls import MAX_XEN_CPUS, physical_cpus
from pyxenplatform.readers import MAX_TABLE_BYTES

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SUBSTATE = ROOT / "tests" / "data" / "xen" / "cx-ffh-substate-1.toml"


def one_error_line(err: str) -> str:
    assert "Traceback" not in err, err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("pyxenplatform: error: "), err
    return lines[0]


def run_cli(*argv: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    """The CLI in its own interpreter: a hang fails the test instead of the run."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "pyxenplatform", *argv], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


# ------------------------------------------------------------ special files


def special_files(tmp: Path) -> Iterator[tuple[Path, str]]:
    zero = tmp / "zero.json"
    zero.symlink_to("/dev/zero")
    yield zero, "a character device, not a regular file"
    fifo = tmp / "fifo.toml"
    os.mkfifo(fifo)
    yield fifo, "a FIFO, not a regular file"
    directory = tmp / "dir.json"
    directory.mkdir()
    yield directory, "a directory, not a regular file"
    huge = tmp / "huge.json"
    with huge.open("wb") as f:  # sparse: the size alone must refuse it, unread
        f.truncate(MAX_TABLE_BYTES + 1)
    yield huge, f"{MAX_TABLE_BYTES + 1} bytes: larger than the {MAX_TABLE_BYTES} bytes"
    missing = tmp / "missing.json"
    yield missing, "cannot read: No such file or directory"


@pytest.mark.parametrize("command", [["check"], ["upload", "--dry-run"]])
def test_special_files_refused_before_reading(tmp_path: Path, command: list[str]) -> None:
    for path, why in special_files(tmp_path):
        started = time.monotonic()
        proc = run_cli(*command, str(path))
        assert proc.returncode == 2, (path, proc.stderr)
        assert one_error_line(proc.stderr).startswith(f"pyxenplatform: error: {path}: {why}")
        assert proc.stdout == ""
        assert time.monotonic() - started < 20


def test_file_name_cannot_split_the_error_line(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "evil\npyxenplatform: error: fake\x1b[2J.json"
    path.write_text("{")
    assert cli.main(["check", str(path)]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert "\\n" in line and "\\x1b" in line


def test_undecodable_file_name_in_json_and_text(tmp_path: Path) -> None:
    path = Path(os.fsdecode(bytes(tmp_path) + b"/bad\xff.json"))
    path.write_text("{")
    proc = run_cli("check", "--json", str(path))
    assert proc.returncode == 2
    assert "\\udcff" in proc.stdout  # JSON escapes it; stdout's encoding never fails
    assert __import__("json").loads(proc.stdout)["error"]["kind"] == "ValidationError"
    assert "\\udcff" in one_error_line(proc.stderr)


# ---------------------------------------------------------- command line


@pytest.mark.parametrize(("spec", "why"), [
    ("4294967295:0:0", "--cpus[0].xen_cpuid: 4294967295 is not in 0..16382"),
    ("0:4294967296", "--cpus[0].acpi_id: 4294967296 is not in 0..4294967295"),
    ("0:1,0:2", "--cpus[1].xen_cpuid: 0 is also --cpus[0]'s"),
    ("0:1,1:1", "--cpus[1].acpi_id: 1 is also --cpus[0]'s"),
    ("0:\u0663", "--cpus[0]: must be an integer"),
    ("0", "expected xen_cpuid[:apic_id]:acpi_id"),
    ("-1:0", "--cpus[0].xen_cpuid: -1 is not in 0..16382"),
])
def test_bad_cpus_refused(spec: str, why: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:  # a usage error, as argparse exits
        cli.main(["upload", "--dry-run", f"--cpus={spec}", str(EXAMPLES / "cx-ffh-c1-c2.toml")])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: ") and "Traceback" not in err
    assert why in err.splitlines()[-1] and err.splitlines()[-1].startswith("pyxenplatform: error")


def test_cpus_spec_ends_with_the_acpi_id(capsys: pytest.CaptureFixture[str]) -> None:
    """``--cpus xen_cpuid[:apic_id]:acpi_id``: the ACPI id is always the last number."""
    assert cli.main(["upload", "--dry-run", "--json", "--cpus", "0:1:6,1:2",
                     str(EXAMPLES / "cx-ffh-c1-c2.toml")]) == 0
    doc = report_of(capsys)
    assert [r["acpi_id"] for r in doc["results"]] == [6, 2]


def report_of(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    import json

    doc: dict[str, Any] = json.loads(capsys.readouterr().out)
    return doc


def test_simulated_cpu_ids_are_bounded() -> None:
    with pytest.raises(ValidationError, match=r"cpus\[0\].xen_cpuid: -1 is not in"):
        SimulatedXen([PhysicalCpu(-1, 0, 0, True)])
    with pytest.raises(ValidationError, match="acpi_id"):
        SimulatedXen([PhysicalCpu(0, 2**32, 0, True)])


def test_physical_cpus_walk_is_bounded() -> None:
    """A hypervisor claiming 2**32 - 1 present CPUs is walked to Xen's ceiling only."""

    class Boastful(SimulatedXen):
        walked = 0

        def platform_op(self, address: int) -> int:
            Boastful.walked += 1
            rc = super().platform_op(address)
            from pyxenplatform import abi

            op = abi.xen_platform_op.from_address(address)
            op.u.pcpu_info.max_present = 0xFFFF_FFFF
            return rc

    cpus = physical_cpus(Boastful())
    assert [c.xen_cpuid for c in cpus] == [0, 1]
    assert Boastful.walked == MAX_XEN_CPUS


@pytest.mark.parametrize(("ids", "code", "acpi_ids"), [
    (["0x1"], 0, [1]), (["all"], 0, [0, 1]), (["1", "0x0"], 0, [0, 1]),
])
def test_acpi_id_takes_what_tables_take(ids: list[str], code: int, acpi_ids: list[int],
                                        capsys: pytest.CaptureFixture[str]) -> None:
    argv = [a for i in ids for a in ("--acpi-id", i)]
    assert cli.main(["upload", "--dry-run", "--json", *argv,
                     str(EXAMPLES / "cx-ffh-c1-c2.toml")]) == code
    assert [r["acpi_id"] for r in report_of(capsys)["results"]] == acpi_ids


def test_acpi_id_matching_no_cpu(capsys: pytest.CaptureFixture[str]) -> None:
    table = str(EXAMPLES / "cx-ffh-c1-c2.toml")
    # Nothing left to send: an error, not a silent exit 0.
    assert cli.main(["upload", "--dry-run", "--acpi-id", "5", table]) == 2
    assert "ACPI id 5 matches no physical CPU" in one_error_line(capsys.readouterr().err)
    # Some left: a warning (visible without -v), an error with --strict.
    assert cli.main(["upload", "--dry-run", "--acpi-id", "1", "--acpi-id", "7", table]) == 0
    captured = capsys.readouterr()
    assert "WARNING: --acpi-id: ACPI id 7 matches no physical CPU" in captured.err
    assert cli.main(["upload", "--dry-run", "--strict", "--acpi-id", "1", "--acpi-id", "7",
                     table]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "--strict" in one_error_line(captured.err)


def test_all_entry_reaching_no_cpu_warns(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    table = tmp_path / "t.toml"
    table.write_text("[[processors]]\nacpi_id = 'all'\npdc = 1\n"
                     "[[processors]]\nacpi_id = [0, 1]\npdc = 2\n")
    assert cli.main(["upload", "--dry-run", "--cpus", "0:0,1:1", str(table)]) == 0
    assert "processors[0].acpi_id: this entry applies to no CPU" in capsys.readouterr().err
    assert cli.main(["upload", "--dry-run", "--strict", "--cpus", "0:0,1:1", str(table)]) == 2


def test_two_all_entries_across_files(tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    first, second = tmp_path / "a.toml", tmp_path / "b.json"
    first.write_text("[[processors]]\nacpi_id = 'all'\npdc = 1\n")
    second.write_text('{"processors": [{"acpi_id": "all", "pdc": 2}]}')
    for command in (["check"], ["upload", "--dry-run"]):
        assert cli.main([*command, str(first), str(second)]) == 2
        assert (f"{second}: processors[0].acpi_id: a second \"all\" entry with pdc (the first "
                f"is {first} processors[0])") in one_error_line(capsys.readouterr().err)


def test_predicted_drop_is_visible_and_strict_fails(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["upload", "--dry-run", str(SUBSTATE)]) == 0
    out = capsys.readouterr().out
    assert "dropped: C2: the CPU has no MWAIT sub-state 0x11" in out
    assert out.splitlines()[-1].endswith("C-states 4 kept, 2 dropped")
    assert cli.main(["upload", "--dry-run", "--strict", "--json", str(SUBSTATE)]) == 2
    captured = capsys.readouterr()
    doc = __import__("json").loads(captured.out)
    assert doc["exit_code"] == 2 and doc["error"]["message"].startswith("--strict:")
    assert doc["summary"]["cx"]["dropped"] >= 1
    assert "drops C-states" in one_error_line(captured.err)


# ------------------------------------------------------------------ output


def test_many_cpus_grouped_with_a_summary(capsys: pytest.CaptureFixture[str]) -> None:
    spec = ",".join(f"{i}:{i}" for i in range(256))
    assert cli.main(["upload", "--dry-run", "--cpus", spec,
                     str(EXAMPLES / "cx-ffh-c1-c2.toml")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == ["ACPI ids 0-255: cx count=2 states=C1,C2 -> simulated Xen: ok; holds "
                     "C0 C1 C2",
                     "summary (simulated Xen): cx 256 sent, 256 ok, 0 refused, C-states "
                     "512 kept, 0 dropped"]


def test_refusals_printed_once(capsys: pytest.CaptureFixture[str]) -> None:
    spec = ",".join(f"{i}:{i}" for i in range(64))
    assert cli.main(["upload", "--dry-run", "--cpus", spec,
                     str(EXAMPLES / "px-pstates.toml")]) == 1
    out, err = capsys.readouterr()
    assert one_error_line(err).endswith("(also ACPI ids 1-63)")
    assert out.splitlines()[0].startswith("ACPI ids 0-63: px ") and "-> simulated Xen: refused (ENODEV)" in out


def test_broken_pipe_is_quiet() -> None:
    """``| head -1``: no BrokenPipeError traceback, exit 141 (128 + SIGPIPE)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    spec = ",".join(f"{i}:{i}" for i in range(512))
    shell = (f"{sys.executable} -m pyxenplatform show --cpus {spec} "
             "examples/cx-sysio-c1-c2-c3.toml | head -1; echo \"${PIPESTATUS[0]}\" >&2")
    proc = subprocess.run(["bash", "-c", shell], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)
    assert proc.stdout == "# ACPI id 0: cx\n"
    assert proc.stderr.strip() == "141", proc.stderr
    version = subprocess.run(["bash", "-c", f"{sys.executable} -m pyxenplatform --version | "
                              "head -c 1; echo \"${PIPESTATUS[0]}\" >&2"], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=60)
    assert version.stderr.strip() in ("0", "141"), version.stderr  # 0 if it fit the pipe


def test_dry_run_needs_no_locked_memory(monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    """mlock refused (a non-root user, RLIMIT_MEMLOCK 0): a dry run still works, and a
    real run's failure is a local one (exit 5), never "Xen refused" (exit 1)."""

    class NoLock:
        def mlock(self, address: int, size: int) -> int:
            ctypes.set_errno(errno.EPERM)
            return -1

    monkeypatch.setattr(arena_module, "_libc", lambda: NoLock())
    assert cli.main(["upload", "--dry-run", str(EXAMPLES / "cx-ffh-c1-c2.toml")]) == 0
    capsys.readouterr()
    with pytest.raises(LocalFailure) as info:
        arena_module.HypercallMemory(4096, None)
    assert report.exit_code(info.value) == report.EXIT_LOCAL == 5
    assert "Xen" not in str(info.value).split(":")[0]


# ------------------------------------------------------------------- fuzzer

FUZZ_SEED = 13
FUZZ_SECONDS = 4.0
NASTY = ["[", "]", "{", "}", '"', "\\", ",", ":", "=", "\n", "\x00", "\x1b", "\u0663", "\uff11",
         "-", "0x", "9" * 50, "9" * 5000, "[" * 3000, "true", "NaN", "1e999", "'", "#"]


def mutate(text: str, rng: random.Random) -> str:
    for _ in range(rng.randint(1, 4)):
        at = rng.randrange(len(text) + 1)
        choice = rng.random()
        if choice < 0.3:
            text = text[:at] + rng.choice(NASTY) + text[at:]
        elif choice < 0.5:
            text = text[:at] + text[at + rng.randint(1, 20):]
        elif choice < 0.7:
            digits = [i for i, c in enumerate(text) if c.isdigit()]
            if digits:
                i = rng.choice(digits)
                text = text[:i] + rng.choice(["-1", "4294967296", "0x" + "f" * 17, "٣"]) + \
                    text[i + 1:]
        elif choice < 0.85:
            lines = text.splitlines(keepends=True)
            i = rng.randrange(len(lines))
            lines.insert(i, lines[i])  # a duplicated key or table
            text = "".join(lines)
        else:
            text = text.replace('"all"', rng.choice(['"ALL"', "[]", '"all", "all"', "1.5"]), 1)
    return text


def test_mutation_fuzzer_over_the_examples(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    """Seeded, bounded in time: only exit 0, 1 (simulated Xen refused) or 2, and with
    2 exactly one clean line; any other exception fails the test by escaping main()."""
    rng = random.Random(FUZZ_SEED)
    seeds = sorted(p for p in EXAMPLES.iterdir() if p.suffix in (".json", ".toml"))
    deadline = time.monotonic() + FUZZ_SECONDS
    cases = 0
    while time.monotonic() < deadline:
        seed = rng.choice(seeds)
        path = tmp_path / f"case{cases}{seed.suffix}"
        path.write_text(mutate(seed.read_text(), rng), errors="surrogatepass")
        for command in (["check"], ["upload", "--dry-run"]):
            code = cli.main([*command, str(path)])
            out, err = capsys.readouterr()
            assert code in ((0, 2) if command == ["check"] else (0, 1, 2)), (path, err)
            if code == 2:
                one_error_line(err)
                assert out == ""
        cases += 1
    assert cases >= 20  # enough to mean something even on a loaded machine


ODD_VALUES: list[object] = [0, -1, 2**32, 2**64, 2**65, 1.5, True, None, "", "all", "0x", "0x1f",
                            "\u0663", "\uff11", "\n\x1b[31m", [], {}, [[[]]], {"a": 1}, 1e308,
                            "FFH", "SW_ANY", 255, 256]


def places(value: object, found: list[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
    """Every (container, key) in a parsed table, to replace its value."""
    if isinstance(value, dict):
        for key in list(value):
            found.append((value, key))
            places(value[key], found)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found.append((value, i))
            places(item, found)
    return found


def test_structural_fuzzer_over_the_json_examples(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """Values of the wrong type, size or sign anywhere in a valid table, through
    every command that reads one (``--strict`` and ``show`` included)."""
    import json

    rng = random.Random(FUZZ_SEED)
    seeds = [json.loads(p.read_text()) for p in sorted(EXAMPLES.glob("*.json"))]
    deadline = time.monotonic() + FUZZ_SECONDS
    cases = 0
    while time.monotonic() < deadline:
        table = json.loads(json.dumps(rng.choice(seeds)))
        for _ in range(rng.randint(1, 3)):
            container, key = rng.choice(places(table, []))
            container[key] = rng.choice(ODD_VALUES)
        path = tmp_path / f"case{cases}.json"
        path.write_text(json.dumps(table))
        for command in (["check"], ["upload", "--dry-run", "--strict"], ["show"]):
            code = cli.main([*command, str(path)])
            out, err = capsys.readouterr()
            assert code in (0, 1, 2), (path, err)
            if code == 2:
                one_error_line(err)
        cases += 1
    assert cases >= 20


def test_two_all_entries_refused_by_the_library_too() -> None:
    from pyxenplatform import Hypervisor, Pdc, PowerTable, ProcessorPower

    table = PowerTable((ProcessorPower("all", pdc=Pdc((1,))), ProcessorPower("all", pdc=Pdc((2,)))))
    with pytest.raises(ValidationError, match=r'processors\[1\].acpi_id: a second "all" entry'):
        Hypervisor.simulated().upload_table(table)
