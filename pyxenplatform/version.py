"""Which release this is, and which Xen interfaces it speaks (``--version``).

The release comes from the installed package's metadata
(:mod:`importlib.metadata`).  A copy that metadata does not describe -- run
from a zipapp or straight from a source tree -- falls back to
:data:`FALLBACK_VERSION`, which a test keeps equal to ``pyproject.toml``'s.
"""

from __future__ import annotations

import zipimport

FALLBACK_VERSION = "0.1.0"
# Xen releases the real-Xen tests boot (tests/xen); extend when a release is added.
TESTED_XEN = ("4.17", "4.20", "4.22")
# The oldest Xen with every op the uploads use (XENPF_set_processor_pminfo
# CX/PX/PDC since 3.3; XENPF_get_cpuinfo since 4.0).
OLDEST_XEN = "4.0"


def package_version() -> str:
    """This copy's release: metadata when installed, else the fallback."""
    if __spec__ is not None and isinstance(__spec__.loader, zipimport.zipimporter):
        return FALLBACK_VERSION  # a zipapp carries no dist-info of its own
    from importlib import metadata

    try:
        return metadata.version("pyxenplatform")
    except metadata.PackageNotFoundError:
        return FALLBACK_VERSION


def interface_versions() -> dict[str, str]:
    """The Xen interface versions spoken, for ``--version`` and reports."""
    from . import abi

    return {
        "XENPF_INTERFACE_VERSION": f"{abi.XENPF_INTERFACE_VERSION:#010x}",
        "xen": f"{OLDEST_XEN} and newer",
        "tested": ", ".join(TESTED_XEN),
    }


def version_text() -> str:
    """What ``pyxenplatform --version`` prints."""
    iface = interface_versions()
    return (f"pyxenplatform {package_version()}\n"
            f"platform_op interface {iface['XENPF_INTERFACE_VERSION']} "
            f"(XENPF_INTERFACE_VERSION); Xen {iface['xen']}, tested on Xen {iface['tested']}")
