"""Shared fixtures: the C stand-in privcmd (tests/stand_in)."""

from tests.stand_in.fixtures import fake_privcmd, fakeprivcmd_interposer

__all__ = ["fake_privcmd", "fakeprivcmd_interposer"]
