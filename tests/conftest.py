"""Shared fixtures: the C stand-in privcmd (tests/stand_in)."""

from tests.stand_in.fixtures import (
    fake_privcmd,
    fake_privcmd_4_21,
    fakeprivcmd_interposer,
    fakeprivcmd_interposer_4_21,
)

__all__ = ["fake_privcmd", "fake_privcmd_4_21", "fakeprivcmd_interposer",
           "fakeprivcmd_interposer_4_21"]
