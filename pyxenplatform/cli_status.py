"""``pyxenplatform status``: what Xen holds for each physical CPU (read back from Xen)."""

from __future__ import annotations

import argparse
import json

from .hypervisor import Hypervisor
from .status import describe
from .transport import Privcmd


def cmd_status(args: argparse.Namespace) -> int:
    with Hypervisor(Privcmd(args.privcmd)) as hv:
        statuses = hv.status()
    if args.json:
        print(json.dumps({"cpus": [s.to_json() for s in statuses]}, indent=2))
    else:
        for status in statuses:
            print("\n".join(describe(status)))
    return 0
