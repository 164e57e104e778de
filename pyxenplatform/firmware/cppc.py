"""``_CPC`` -> CPPC data: the hook for the CPPC work (issue 11).

The power model has no CPPC field yet; :func:`convert_cpc` only says so.  The
CPPC converter replaces its body, returns the model's CPPC value, and
:func:`pyxenplatform.firmware.convert_processor` stores it in the entry.
"""

from __future__ import annotations

from .values import Notes


def convert_cpc(value: object, note: Notes) -> None:
    """The ``_CPC`` package of one processor -> (not yet) its CPPC data."""
    note("_CPC", "not converted: CPPC (XEN_PM_CPPC) is not supported yet")
