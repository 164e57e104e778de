"""Upload a hand-written C-state table to Xen for every physical CPU.

Run in a Xen dom0 as root::

    python examples/upload_cx.py             # real hypercalls through privcmd
    python examples/upload_cx.py --dry-run   # the simulated Xen, anywhere

The table is the classic one of an older Intel chipset (the same numbers as
``examples/cx-sysio-c1-c2-c3.toml``): C1 through MWAIT, C2 and C3 through
reads of the chipset's P_LVL2/P_LVL3 ports.
"""

from __future__ import annotations

import argparse
import sys

from pyxenplatform import CState, CxFlags, CxInfo, Hypervisor, Register, XenPlatformError

# Acer Extensa 4210 (ICH8-M): P_BLK = 0x1010 (DSDT Processor object), so
# P_LVL2 = P_BLK + 4 and P_LVL3 = P_BLK + 5 (ACPI 6.5, 4.8.3.5); latencies are
# the FADT's P_LVL2_LAT / P_LVL3_LAT in us, powers the _CST's, in mW.
P_BLK = 0x1010
CX = CxInfo(
    states=(
        # Register.ffh: bit_width 1 / bit_offset 2, the only FFH form Xen keeps.
        CState(type=1, latency=1, power=1000, register=Register.ffh(0x00)),
        CState(type=2, latency=1, power=500, register=Register.system_io(P_BLK + 4)),
        CState(type=3, latency=35, power=250, register=Register.system_io(P_BLK + 5)),
    ),
    # From _CST; on Intel Core and later Xen keeps C2/C3 without bus-master
    # control only if has_cst is set (Xen cpu_idle.c check_cx).
    flags=CxFlags(has_cst=True),
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--dry-run", action="store_true",
                        help="upload to the simulated Xen instead of /dev/xen/privcmd")
    args = parser.parse_args(argv)
    try:
        hv = Hypervisor.simulated() if args.dry_run else Hypervisor()
    except XenPlatformError as exc:  # not a dom0, no xen-privcmd, or not root
        print(f"upload_cx: {exc}", file=sys.stderr)
        return 3
    failed = 0
    with hv:
        # physical_cpus() walks XENPF_get_cpuinfo by Xen CPU id, so CPU 0
        # comes first: Xen switches to the uploaded states once CPU 0 has them.
        for cpu in hv.physical_cpus():
            result = hv.upload_cx(cpu.acpi_id, CX)
            if not result.ok:
                failed += 1
                print(f"ACPI id {cpu.acpi_id}: refused: {result.error}")
            elif result.kept is not None:  # only the simulated Xen can tell
                kept = " ".join(f"C{t}" for t in result.kept)
                dropped = f" (dropped: {'; '.join(result.dropped)})" if result.dropped else ""
                print(f"ACPI id {cpu.acpi_id}: Xen holds {kept}{dropped}")
            else:
                print(f"ACPI id {cpu.acpi_id}: accepted (xenpm get-cpuidle-states shows "
                      "what Xen kept)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
