"""``pyxenplatform status``: what Xen holds for each physical CPU (read back from Xen)."""

from __future__ import annotations

import argparse

from . import report
from .hypercalls import xen_version
from .hypervisor import Hypervisor
from .status import describe
from .transport import Privcmd
from .xen_features import describe as describe_ops
from .xen_features import features


def cmd_status(args: argparse.Namespace) -> int:
    with Hypervisor(Privcmd(args.privcmd)) as hv:
        statuses = hv.status()
        version = xen_version(hv.transport)  # which uploads this Xen takes (xen_features)
    if args.json:
        report.emit(report.document(
            "status", simulated=False, cpus=[s.to_json() for s in statuses],
            xen={"version": None if version is None else f"{version[0]}.{version[1]}",
                 "ops": features(version)}))
    else:
        for status in statuses:
            print("\n".join(describe(status)))
        print("\n".join(describe_ops(version)))
    return 0
