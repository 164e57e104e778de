"""Type tests of the public types, checked by mypy (tests/ is in its files).

Each ``assert_type`` must hold, and each ``# type: ignore[code]`` must be
needed: ``warn_unused_ignores`` turns an ignore that no longer catches its
error into a failure.  Nothing here runs (trio and attrs keep such files too).
"""

from __future__ import annotations

from typing import assert_type

from pyxenplatform import abi


def abi_fields_are_typed() -> None:
    op = abi.xen_platform_op()
    assert_type(op.cmd, int)
    assert_type(op.u.set_pminfo.u.power.count, int)
    assert_type(op.u.set_pminfo.u.power.flags, abi.xen_processor_flags)
    assert_type(op.u.set_pminfo.u.power.flags.bm_check, int)
    assert_type(op.u.set_pminfo.u.perf.states, abi.XEN_GUEST_HANDLE_xen_processor_px_t)
    assert_type(op.u.set_pminfo.u.perf.states.p, int)
    assert_type(op.u.pcpu_version.vendor_id, bytes)


def abi_misspellings_are_errors() -> None:
    op = abi.xen_platform_op()
    op.u.set_pminfo.u.power.cuont = 1  # type: ignore[assignment]
    acpi_id: int = op.u.set_pminfo.idd  # type: ignore[assignment]
    op.cmd = "54"  # type: ignore[assignment]
    del acpi_id
