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

from .errors import (
    HypercallError,
    PermissionDenied,
    PrivcmdUnavailable,
    ValidationError,
    XenPlatformError,
)
from .hypercalls import CpuVersion, PhysicalCpu
from .hypervisor import Hypervisor, TableResult, UploadResult
from .model import (
    CoordType,
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
from .rules import Platform
from .sim import SimulatedXen
from .sources import load_table, table_from_mapping
from .transport import Privcmd

__all__ = [
    "CState", "CStateDependency", "CoordType", "CpuVersion", "CxFlags", "CxInfo",
    "HypercallError", "Hypervisor", "Pdc", "PermissionDenied", "PhysicalCpu", "Platform",
    "PowerTable", "PrivcmdUnavailable", "Privcmd", "ProcessorPower", "PsdDomain", "PState",
    "PxInfo", "Register", "SimulatedXen", "SpaceId", "TableResult", "UploadResult",
    "ValidationError", "XenPlatformError", "load_table", "table_from_mapping",
]
__version__ = "0.1.0"
