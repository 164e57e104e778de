"""Fuzzed firmware through the whole reader (``read_firmware`` on a folder): bit-flipped and
truncated corpus tables with valid checksums, random AML in a valid header. Every case ends
in a report or a FirmwareError, within its alarm: never a hang or another exception.

The cases run in a child process (tests/acpi/fuzz_worker.py) with a per-case alarm and an
overall timeout, so even a hang in C code or a crash is reported, with its seed and case.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.acpi.support import ROOT, machine_tables

SEEDS = ("firmware-fuzz-1", "firmware-fuzz-2")
CASES = 60


@pytest.mark.parametrize("seed", SEEDS)
def test_fuzzed_firmware_gives_reports_or_firmware_errors(seed: str) -> None:
    machine_tables("02-intel-dg965lv")  # skips without the corpus
    try:
        done = subprocess.run([sys.executable, "-m", "tests.acpi.fuzz_worker", seed, str(CASES)],
                              cwd=ROOT, capture_output=True, text=True, timeout=600)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"seed {seed}: the fuzz child did not finish in 600 s: {exc.stdout!r}")
    lines = done.stdout.splitlines()
    bad = [line for line in lines if line.startswith("BAD")]
    assert done.returncode == 0, f"seed {seed}: child died ({done.returncode}): {done.stderr[-2000:]}"
    assert not bad, f"seed {seed}:\n" + "\n".join(bad)
    assert len(lines) == CASES
    assert any(line.startswith("firmware-error") for line in lines)  # bad checksums
    assert any(line.startswith("ok") and "failed-objects=0" not in line for line in lines)
