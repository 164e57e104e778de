"""The systemd unit that uploads the firmware's power tables at boot, and its installer.

The unit ships as package data (``pyxenplatform/data/pyxenplatform.service``); installing it
means writing it to ``/etc/systemd/system`` with this interpreter in ``ExecStart``, so a
virtual-environment install runs its own copy of the package at boot.
"""

from __future__ import annotations

import os
import sys
from importlib.resources import files
from pathlib import Path

UNIT_NAME = "pyxenplatform.service"
UNIT_DIR = "etc/systemd/system"
# The interpreter the shipped unit names; install_service() puts this machine's in its place.
SHIPPED_PYTHON = "/usr/bin/python3"


def unit_text(python: str | None = None) -> str:
    """The unit, with ``python`` (default: this interpreter) running ``-m pyxenplatform``."""
    shipped = files("pyxenplatform").joinpath("data", UNIT_NAME).read_text(encoding="utf-8")
    interpreter = python or sys.executable
    if not interpreter or any(c.isspace() for c in interpreter):
        raise ValueError(f"cannot name this interpreter in ExecStart: {interpreter!r}")
    return shipped.replace(f"ExecStart={SHIPPED_PYTHON} ", f"ExecStart={interpreter} ")


def install_service(root: str | os.PathLike[str] = "/", python: str | None = None) -> Path:
    """Write the unit under ``root`` (``/`` for this system); the path written."""
    target = Path(root) / UNIT_DIR / UNIT_NAME
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(unit_text(python), encoding="utf-8")
    target.chmod(0o644)
    return target
