"""pyxenplatform: Xen's platform_op from Python, for a Linux dom0.

Upload processor power data (C-states, P-states, ``_PDC``) to Xen with
``XENPF_set_processor_pminfo``, validated as Xen validates, for every
physical CPU.  Importing opens nothing: the privcmd device is opened when a
:class:`Hypervisor` is created.

Layers, each its own module, data flowing one way: :mod:`~pyxenplatform.abi`
(the C mirror) -> :mod:`~pyxenplatform.transport` and
:mod:`~pyxenplatform.hypercalls` (device, buffers, ioctl) ->
:mod:`~pyxenplatform.model`, :mod:`~pyxenplatform.rules`,
:mod:`~pyxenplatform.marshal` (power info) -> :mod:`~pyxenplatform.sources`
(loaders) -> :mod:`~pyxenplatform.cli`.
"""

from __future__ import annotations

import importlib

# typing.TYPE_CHECKING without importing typing, which costs more than the rest of this
# module (mypy reads a name TYPE_CHECKING as true in a condition).
TYPE_CHECKING = False

if TYPE_CHECKING:  # what type checkers see; at run time __getattr__ imports on demand
    from .errors import (
        HypercallError,
        PermissionDenied,
        PrivcmdUnavailable,
        ValidationError,
        XenPlatformError,
    )
    from .cpu_rules import Platform
    from .firmware import load_firmware
    from .hypercalls import CpuVersion, PhysicalCpu
    from .hypervisor import Hypervisor
    from .model import (
        CoordType,
        CppcInfo,
        CState,
        CStateDependency,
        CxFlags,
        CxInfo,
        Pdc,
        PowerTable,
        ProcessorPower,
        PsdDomain,
        PState,
        PxInfo,
        Register,
        SpaceId,
    )
    from .results import TableResult, UploadResult
    from .sim import SimulatedXen
    from .sources import load_table, table_from_mapping
    from .transport import Privcmd

# Public name -> the module defining it.  Importing the package imports none
# of them: ``import pyxenplatform`` stays cheap, and the ctypes classes of
# ``abi`` are built the first time a name is used.
_EXPORTS = {
    "HypercallError": "errors", "PermissionDenied": "errors",
    "PrivcmdUnavailable": "errors", "ValidationError": "errors",
    "XenPlatformError": "errors",
    "load_firmware": "firmware",
    "CpuVersion": "hypercalls", "PhysicalCpu": "hypercalls",
    "Hypervisor": "hypervisor", "TableResult": "results", "UploadResult": "results",
    "CoordType": "model", "CppcInfo": "model", "CState": "model", "CStateDependency": "model", "CxFlags": "model",
    "CxInfo": "model", "Pdc": "model", "PowerTable": "model", "ProcessorPower": "model",
    "PsdDomain": "model", "PState": "model", "PxInfo": "model", "Register": "model",
    "SpaceId": "model",
    "Platform": "cpu_rules", "SimulatedXen": "sim",
    "load_table": "sources", "table_from_mapping": "sources",
    "Privcmd": "transport",
}
__all__ = [
    "CState",
    "CStateDependency",
    "CoordType",
    "CppcInfo",
    "CpuVersion",
    "CxFlags",
    "CxInfo",
    "HypercallError",
    "Hypervisor",
    "PState",
    "Pdc",
    "PermissionDenied",
    "PhysicalCpu",
    "Platform",
    "PowerTable",
    "Privcmd",
    "PrivcmdUnavailable",
    "ProcessorPower",
    "PsdDomain",
    "PxInfo",
    "Register",
    "SimulatedXen",
    "SpaceId",
    "TableResult",
    "UploadResult",
    "ValidationError",
    "XenPlatformError",
    "load_firmware",
    "load_table",
    "table_from_mapping",
]
__version__: str  # this release, from the package metadata (pyxenplatform.version)


def __getattr__(name: str) -> object:
    if name == "__version__":  # on demand: importlib.metadata is not free
        from .version import package_version

        globals()[name] = package_version()
        return globals()[name]
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # the next lookup is an ordinary global
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
