"""The ASL micro-corpus (``tests/data/asl``), compiled with ``iasl`` at test time.

A case is one ``NAME.asl`` (a DSDT) or a folder ``NAME/`` of ``.asl`` files
(a DSDT and SSDTs). Each compiles into its own folder of ``.aml`` files, which
:func:`pyxenplatform.acpi.tables.load_tables` reads by signature.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.acpi.support import tool

ASL_DIR = Path(__file__).resolve().parents[1] / "data" / "asl"


def asl_cases() -> list[str]:
    """Case names: ``control`` for control.asl, ``multi`` for the folder multi/."""
    return sorted(p.stem if p.is_file() else p.name for p in ASL_DIR.iterdir()
                  if p.suffix == ".asl" or (p.is_dir() and any(p.glob("*.asl"))))


def compile_case(name: str, out: Path) -> Path:
    """Compile case ``name`` into ``out/name/``; the folder of its tables."""
    source = ASL_DIR / name
    files = sorted(source.glob("*.asl")) if source.is_dir() else [ASL_DIR / f"{name}.asl"]
    folder = out / name
    folder.mkdir(parents=True, exist_ok=True)
    iasl = tool("iasl")
    for asl in files:
        done = subprocess.run([iasl, "-p", str(folder / asl.stem), str(asl)],
                              capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise AssertionError(f"iasl failed on {asl}:\n{done.stdout[-3000:]}{done.stderr}")
    return folder
