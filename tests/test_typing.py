"""The typing contract: mypy reads every source file, and stubs/ matches abi.py.

Traps measured with ctypes + mypy (see shared/reference/python-conventions.md):
a ``.pyi`` found for a module can make mypy stop checking the ``.py`` behind
it and still report success.  So the configured invocation is run on a copy
of the tree in which *every* source file has a planted error, and every file
must be reported.
"""

from __future__ import annotations

import ctypes
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from pyxenplatform import abi, abi_sysctl
from tests import abi_stub

ROOT = Path(__file__).parents[1]
TREES = ("pyxenplatform", "tests", "examples")
PLANTED = "\nplanted_by_test_typing  # an undefined name: mypy must report it\n"
MARK = 'Name "planted_by_test_typing" is not defined'


def source_files(root: Path) -> list[str]:
    return sorted(
        str(p.relative_to(root)) for tree in TREES for p in (root / tree).rglob("*.py")
    )


def test_mypy_checks_every_source_file_and_only_planted_errors(tmp_path: Path) -> None:
    for name in (*TREES, "stubs"):
        shutil.copytree(ROOT / name, tmp_path / name,
                        ignore=shutil.ignore_patterns("__pycache__", "build"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    files = source_files(tmp_path)
    for rel in files:
        with open(tmp_path / rel, "a") as f:
            f.write(PLANTED)
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / ".mypy_cache")],
        cwd=tmp_path, capture_output=True, text=True,
        env={**os.environ, "MYPYPATH": ""},
    )
    errors = re.findall(r"^(\S+\.py):\d+: error: (.*)$", result.stdout, re.M)
    planted = sorted({path for path, msg in errors if MARK in msg})
    others = [f"{p}: {m}" for p, m in errors if MARK not in m]
    assert planted == files, result.stdout[-3000:]
    assert others == [], "mypy errors besides the planted ones"


def test_stub_is_generated_from_abi() -> None:
    for module, stub in ((abi, abi_stub.STUB), (abi_sysctl, abi_stub.SYSCTL_STUB)):
        assert stub.read_text() == abi_stub.render(module), (
            f"{stub.name} is stale: run python -m tests.abi_stub"
        )


def test_stubtest_finds_stub_and_runtime_in_agreement() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "pyxenplatform.abi", "pyxenplatform.abi_sysctl",
         "--allowlist", str(ROOT / "tests" / "data" / "stubtest-allowlist.txt")],
        cwd=ROOT, capture_output=True, text=True,
        env={**os.environ, "MYPYPATH": str(ROOT / "stubs")},
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_field_annotations_are_the_fields() -> None:
    classes = [
        v for module in (abi, abi_sysctl) for v in vars(module).values()
        if isinstance(v, type) and issubclass(v, (ctypes.Structure, ctypes.Union))
        and v.__module__ == module.__name__
    ]
    assert len(classes) > 70
    for cls in classes:
        annotated = [n for n in cls.__annotations__ if n != "target"]
        assert annotated == [f[0] for f in cls._fields_], cls.__name__
