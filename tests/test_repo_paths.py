"""The repository names ../shared and its own files relatively, never by a machine's absolute path.

A clone lives anywhere (CI clones into a fresh folder beside a copy of shared/), so a comment or
test that names one machine's absolute path to shared/ is wrong everywhere else.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# An absolute path that reaches shared/ (the corpus, the reference notes, Xen 4.22): the relative
# form is ../shared/...
ABSOLUTE_SHARED = re.compile(r"(?<![\w.])/[\w.-]+(?:/[\w.-]+)*/shared/(?:acpi-corpus|reference|xen|hooks)\b")


def tracked_text_files() -> list[Path]:
    out = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout
    return [REPO / name for name in out.decode().split("\0") if name]


def test_no_absolute_paths_to_shared() -> None:
    offenders = []
    for path in tracked_text_files():
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, FileNotFoundError):
            continue
        offenders += [f"{path.relative_to(REPO)}:{n}: {line.strip()}"
                      for n, line in enumerate(text.splitlines(), 1) if ABSOLUTE_SHARED.search(line)]
    assert not offenders, "write these as ../shared/...:\n" + "\n".join(offenders)


def test_the_pattern_catches_an_absolute_path() -> None:
    absolute = "/" + "/".join(["srv", "checkouts", "shared", "acpi-corpus"])  # not a literal: this file is scanned too
    assert ABSOLUTE_SHARED.search(f"# from {absolute}/07-dell")
    assert not ABSOLUTE_SHARED.search("# from ../shared/acpi-corpus/07-dell")
