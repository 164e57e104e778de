"""The AML reader against ACPICA's acpiexec: every processor, every object, same JSON.

For the 25 corpus machines (``../shared/acpi-corpus``) and the ASL
micro-corpus (``tests/data/asl``), ``raw_json(read_firmware(DIR, pdc=0xBBF))``
must equal what :mod:`tests.acpiexec` parses from acpiexec after the same
handshake. Errors compare as "both failed": the messages differ by design
(ours name table, offset and opcode; acpiexec prints an AE_ status).

acpiexec runs once per case per session, all cases in a thread pool started
by the first test (it is a subprocess: the pool overlaps its start-up and the
firmware's real ``Sleep`` calls), so the suite waits about as long as the
slowest machines, not their sum.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

from pyxenplatform.acpi import raw_json, read_firmware
from pyxenplatform.acpi.tables import load_tables
from tests import acpiexec
from tests.acpi.asl import asl_cases, compile_case
from tests.acpi.support import CORPUS, corpus_machines, tool

# Cases where the reader and acpiexec differ, each with the reason. Empty: every corpus machine and ASL case is equal. An entry is an
# xfail, strict, so a fix shows up until its entry goes.
KNOWN_DIFFERENCES: dict[str, str] = {}

CASES = [f"corpus/{m}" for m in corpus_machines()] + [f"asl/{c}" for c in asl_cases()]


class Oracle:
    """acpiexec's answers for every case, computed once, in parallel, on first use."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.pool = ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2))
        self.futures: dict[str, Future[acpiexec.OracleResult]] = {}

    def folder(self, case: str) -> Path:
        kind, name = case.split("/", 1)
        if kind == "corpus":
            return CORPUS / name / "tables"
        return compile_case(name, self.out)

    def start_all(self) -> None:
        for case in CASES:
            if case not in self.futures:
                self.futures[case] = self.pool.submit(self._run, case)

    def _run(self, case: str) -> acpiexec.OracleResult:
        folder = self.folder(case)
        return acpiexec.run_oracle([folder / t.source for t in load_tables(folder)])

    def result(self, case: str) -> acpiexec.OracleResult:
        self.start_all()
        return self.futures[case].result()


@pytest.fixture(scope="session")
def oracle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Oracle]:
    tool("acpiexec")
    tool("iasl")
    answers = Oracle(tmp_path_factory.mktemp("asl"))
    yield answers
    answers.pool.shutdown(cancel_futures=True)


def differences(ours: list[dict[str, object]], theirs: list[dict[str, object]]) -> list[str]:
    """Readable differences, per processor and per object; [] when equal."""
    out: list[str] = []
    mine_paths, their_paths = [p["path"] for p in ours], [p["path"] for p in theirs]
    if mine_paths != their_paths:
        only_ours = [p for p in mine_paths if p not in their_paths]
        only_theirs = [p for p in their_paths if p not in mine_paths]
        out.append(f"processors: only ours {only_ours}, only acpiexec {only_theirs}"
                   + ("" if only_ours or only_theirs else f", order ours {mine_paths}"))
    theirs_by_path = {p["path"]: p for p in theirs}
    for mine in ours:
        other = theirs_by_path.get(mine["path"])
        if other is None:
            continue
        path = mine["path"]
        if mine["acpi_id"] != other["acpi_id"]:
            out.append(f"{path}: acpi_id ours {mine['acpi_id']}, acpiexec {other['acpi_id']}")
        a, b = mine["objects"], other["objects"]
        assert isinstance(a, dict) and isinstance(b, dict)
        for name in sorted(set(a) | set(b)):
            x, y = a.get(name, "<absent>"), b.get(name, "<absent>")
            if failed(x) and failed(y) or x == y:
                continue
            out.append(f"{path}.{name}:\n      ours {json.dumps(x)[:600]}\n  acpiexec "
                       f"{json.dumps(y)[:600]}")
    return out


def failed(value: object) -> bool:
    return isinstance(value, dict) and set(value) == {"error"}


@pytest.mark.parametrize("case", [
    pytest.param(c, marks=pytest.mark.xfail(reason=KNOWN_DIFFERENCES[c], strict=True))
    if c in KNOWN_DIFFERENCES else c for c in CASES])
def test_processors_equal_acpiexec(case: str, oracle: Oracle) -> None:
    expected = oracle.result(case)
    ours = raw_json(read_firmware(oracle.folder(case), pdc=acpiexec.DEFAULT_CAPS))["processors"]
    assert isinstance(ours, list)
    found = differences(json.loads(json.dumps(ours)), expected.processors)
    crashed = f" (acpiexec died in, and the oracle dropped: {expected.crashes})" \
        if expected.crashes else ""
    assert not found, f"{case}{crashed}:\n" + "\n".join(found[:25]) + \
        (f"\n... {len(found) - 25} more" if len(found) > 25 else "")
    assert expected.processors, "a case with no processor proves nothing"
