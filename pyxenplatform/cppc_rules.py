"""Xen's rules for ``XEN_PM_CPPC`` (``_CPC`` + ``_PSD``, Xen 4.21 and newer).

Mirrors ``set_cppc_pminfo`` in Xen ``xen/drivers/cpufreq/cpufreq.c`` (tag
RELEASE-4.21.0, unchanged in 4.22.0).  What Xen refuses with ``-EINVAL`` is
an error here, before anything is sent: a sharing type other than
``CPUFREQ_SHARED_TYPE_HW`` ("Unsupported sharing type %u in CPPC mode"), a
``_PSD`` Xen's ``check_psd_pminfo`` refuses, and non-zero ``pad`` bytes (the
model has no pad: :mod:`~pyxenplatform.marshal` always sends zeros).  What Xen
accepts and logs, or quietly changes, is a warning that says what Xen will do:

>>> from pyxenplatform.model import CppcInfo, PsdDomain, CoordType
>>> hw = PsdDomain(0, CoordType.HW_ALL, 1)
>>> check_cppc("cppc", CppcInfo(255, 200, 60, 20, hw, lowest_mhz=400, nominal_mhz=3000))
[]
>>> check_cppc("cppc", CppcInfo(255, 200, 60, 20, hw, lowest_mhz=3000, nominal_mhz=400))[0]
'cppc.lowest_mhz: 3000 MHz is above nominal_mhz 400 MHz: Xen logs "Broken CPPC freq values" and resets both to 0 (cpufreq.c set_cppc_pminfo)'
"""

from __future__ import annotations

from dataclasses import replace

from . import abi
from .errors import ValidationError
from .model import CppcInfo
from .checks import fit, instance
from .rules import SHARED_TYPE, U32, check_psd

PERF_FIELDS = ("highest_perf", "nominal_perf", "lowest_nonlinear_perf", "lowest_perf")
MHZ_FIELDS = ("lowest_mhz", "nominal_mhz")
# set_cppc_pminfo: "cppc_data->cpc.highest_perf > UINT8_MAX" is "broken".
HIGHEST_PERF_MAX = 0xFF
_PERF_WARNING = ('Xen logs "Broken CPPC perf values" (once) and goes on: it reads the four '
                 "perf values from the CPU's CPPC capability MSR instead (cpufreq.c "
                 "set_cppc_pminfo)")


def check_cppc(path: str, cppc: CppcInfo) -> list[str]:
    """Raise on what ``set_cppc_pminfo`` refuses; warnings for what it logs or changes."""
    instance(path, cppc, CppcInfo)
    for name in (*PERF_FIELDS, *MHZ_FIELDS):
        fit(f"{path}.{name}", getattr(cppc, name), U32, f"xen_processor_cppc.cpc.{name} (u32)")
    check_psd(f"{path}.psd", cppc.psd)
    if SHARED_TYPE[cppc.psd.coord_type] != abi.XEN_CPUPERF_SHARED_TYPE_HW:
        raise ValidationError(f"{path}.psd.coord_type", f"{cppc.psd.coord_type:#x}: in CPPC "
                              "mode Xen accepts only HW_ALL (0xfe) coordination and refuses "
                              "any other with EINVAL ('Unsupported sharing type', cpufreq.c "
                              "set_cppc_pminfo)")
    return perf_warnings(path, cppc) + mhz_warnings(path, cppc)


def perf_warnings(path: str, cppc: CppcInfo) -> list[str]:
    """The "broken perf values" cases of ``set_cppc_pminfo``, each named."""
    found = [f"{path}.{name}: 0" for name in PERF_FIELDS if getattr(cppc, name) == 0]
    if cppc.highest_perf > HIGHEST_PERF_MAX:
        found.append(f"{path}.highest_perf: {cppc.highest_perf} is above {HIGHEST_PERF_MAX}")
    order = ("lowest_perf", "lowest_nonlinear_perf", "nominal_perf", "highest_perf")
    for low, high in zip(order, order[1:]):
        if getattr(cppc, low) > getattr(cppc, high):
            found.append(f"{path}.{low}: {getattr(cppc, low)} is above {high} "
                         f"{getattr(cppc, high)}")
    return [f"{what}: {_PERF_WARNING}" for what in found]


def mhz_warnings(path: str, cppc: CppcInfo) -> list[str]:
    """``lowest_mhz`` above a non-zero ``nominal_mhz``: Xen resets both to 0."""
    if cppc.nominal_mhz and cppc.lowest_mhz > cppc.nominal_mhz:
        return [f"{path}.lowest_mhz: {cppc.lowest_mhz} MHz is above nominal_mhz "
                f"{cppc.nominal_mhz} MHz: Xen logs \"Broken CPPC freq values\" and resets "
                "both to 0 (cpufreq.c set_cppc_pminfo)"]
    return []


def what_xen_keeps(cppc: CppcInfo) -> CppcInfo:
    """The ``_CPC`` data Xen stores after ``set_cppc_pminfo`` (the MHz reset applied)."""
    if cppc.nominal_mhz and cppc.lowest_mhz > cppc.nominal_mhz:
        return replace(cppc, lowest_mhz=0, nominal_mhz=0)
    return cppc
