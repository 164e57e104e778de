"""Shared fixtures: the C stand-in privcmd (tests/stand_in)."""

import os

from tests.stand_in.fixtures import (
    fake_privcmd,
    fake_privcmd_4_21,
    fakeprivcmd_interposer,
    fakeprivcmd_interposer_4_21,
)

__all__ = ["fake_privcmd", "fake_privcmd_4_21", "fakeprivcmd_interposer",
           "fakeprivcmd_interposer_4_21"]

# Dry runs predict for the CPU named by --platform, by default this machine's: the suite's
# predictions are written for the real-Xen tests' QEMU CPU, on any machine.
os.environ.setdefault("PYXENPLATFORM_PLATFORM", "qemu")
