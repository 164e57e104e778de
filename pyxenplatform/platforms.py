"""Which CPU a dry run predicts for: this machine's (``host``), the test VM's (``qemu``), a
``permissive`` one, or explicit facts.

Xen's verdict on an upload depends on the CPU: ``check_cx`` drops FFH hints beyond the CPU's
MWAIT sub-states (CPUID leaf 5 EDX) and deep states without ARAT (leaf 6 EAX bit 2); a P-state
table needs a cpufreq driver, which needs EIST on Intel (leaf 1 ECX bit 7) or hardware P-states
on AMD (leaf 0x80000007 EDX bit 7). ``host`` reads these from ``/dev/cpu/0/cpuid`` (the ``cpuid``
module; root), else from ``/proc/cpuinfo`` (no leaf 5 there: MWAIT sub-states are then assumed
present). In a PV dom0, Xen may hide MONITOR and EIST from CPUID: there the prediction can be
stricter than Xen itself; ``upload --verify`` reads back what Xen really kept.

A spec is ``NAME[,field=value...]``: ``host``, ``qemu``, ``permissive``, or nothing before the
first field (``permissive`` then); fields are :class:`~pyxenplatform.cpu_rules.Platform`'s, e.g.
``qemu,eist=1`` or ``vendor=AuthenticAMD,family=0x17,hw_pstate=1,mwait_substates=0x1120``.
"""

from __future__ import annotations

import dataclasses
import os
import struct
from collections.abc import Callable

from .errors import ValidationError
from .cpu_rules import Platform

PLATFORM_ENV = "PYXENPLATFORM_PLATFORM"  # the default spec (the test suite sets "qemu")
CPUID_DEVICE = "/dev/cpu/0/cpuid"
CPUINFO = "/proc/cpuinfo"

QEMU = Platform()  # the CPU the real-Xen tests boot (tests/xen/vm.py DEFAULT_CPU)
# Everything a well-formed table may use is kept: MWAIT sub-states up to 15 for every C-state.
PERMISSIVE = Platform(model=0x55, mwait_substates=0xFFFF_FFFF, eist=True, hw_pstate=True,
                      acpi_thermal=True, pdc_mwait=True)


def _bit(value: int, bit: int) -> bool:
    return bool(value >> bit & 1)


Leaves = Callable[[int], tuple[int, int, int, int]]  # leaf -> eax, ebx, ecx, edx


def from_cpuid(device: str = CPUID_DEVICE) -> Platform | None:
    """The facts from ``/dev/cpu/0/cpuid`` (16 bytes at offset = leaf), or None if unreadable."""
    try:
        fd = os.open(device, os.O_RDONLY)
    except OSError:
        return None

    def leaf(n: int) -> tuple[int, int, int, int]:
        eax, ebx, ecx, edx = struct.unpack("<4I", os.pread(fd, 16, n))
        return eax, ebx, ecx, edx

    try:
        return from_leaves(leaf)
    except (OSError, struct.error):
        return None
    finally:
        os.close(fd)


def from_leaves(leaf: Leaves) -> Platform:
    """The facts from CPUID leaves 0, 1, 5, 6, 0x80000007 (Intel SDM vol. 2A, CPUID)."""
    top, ebx, ecx, edx = leaf(0)
    vendor = struct.pack("<3I", ebx, edx, ecx).decode("ascii", "replace")
    eax1, _, ecx1, edx1 = leaf(1)
    base_family, base_model = eax1 >> 8 & 0xF, eax1 >> 4 & 0xF
    family = base_family + (eax1 >> 20 & 0xFF if base_family == 0xF else 0)
    model = base_model | ((eax1 >> 16 & 0xF) << 4 if base_family in (6, 0xF) else 0)
    monitor = _bit(ecx1, 3)
    _, _, ecx5, edx5 = leaf(5) if top >= 5 else (0, 0, 0, 0)
    arat = _bit(leaf(6)[0], 2) if top >= 6 else False
    extended = leaf(0x8000_0000)[0]
    hw_pstate = _bit(leaf(0x8000_0007)[3], 7) if extended >= 0x8000_0007 else False
    return Platform(vendor=vendor, family=family, model=model, arat=arat,
                    mwait_substates=edx5 if monitor else None, eist=_bit(ecx1, 7),
                    hw_pstate=hw_pstate, acpi_thermal=_bit(edx1, 22),
                    pdc_mwait=monitor and _bit(ecx5, 1), online_cpus=os.cpu_count() or 1)


def from_cpuinfo(path: str = CPUINFO) -> Platform | None:
    """The facts from ``/proc/cpuinfo``'s first CPU, or None if it is not an x86 one."""
    try:
        with open(path, encoding="ascii", errors="replace") as f:
            first = f.read(65536).split("\n\n", 1)[0]  # bounded: one CPU's block
    except OSError:
        return None
    fields = dict(line.split(":", 1) for line in first.splitlines() if ":" in line)
    fields = {k.strip(): v.strip() for k, v in fields.items()}
    try:
        vendor, family, model = fields["vendor_id"], int(fields["cpu family"]), int(fields["model"])
    except (KeyError, ValueError):
        return None
    flags = set(fields.get("flags", "").split())
    return Platform(vendor=vendor, family=family, model=model, arat="arat" in flags,
                    # no leaf 5 here: assume the sub-states a table names exist
                    mwait_substates=0xFFFF_FFFF if "monitor" in flags else None,
                    eist="est" in flags, hw_pstate="hw_pstate" in flags,
                    acpi_thermal="acpi" in flags, pdc_mwait="monitor" in flags,
                    online_cpus=os.cpu_count() or 1)


def host() -> Platform | None:
    """This machine's CPU, from CPUID if readable, else /proc/cpuinfo; None if neither."""
    return from_cpuid() or from_cpuinfo()


def parse(spec: str) -> Platform:
    """A ``--platform`` spec (see the module doc) -> Platform; ValidationError if malformed."""
    name, _, rest = spec.partition(",")
    if "=" in name:
        name, rest = "permissive", spec
    bases: dict[str, Callable[[], Platform | None]] = {
        "host": host, "qemu": lambda: QEMU, "permissive": lambda: PERMISSIVE}
    if name not in bases:
        raise ValidationError("--platform", f"{name!r}: expected host, qemu, permissive or "
                              "field=value,... (Platform's fields)")
    base = bases[name]() or PERMISSIVE  # host unreadable: the permissive model
    types = {f.name: f.type for f in dataclasses.fields(Platform)}
    changes: dict[str, object] = {}
    for item in filter(None, rest.split(",")):
        key, _, value = item.partition("=")
        if key not in types or not value:
            raise ValidationError("--platform", f"{item!r}: expected field=value with a field "
                                  f"of {', '.join(types)}")
        changes[key] = _value(key, value, str(types[key]))
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]  # each value checked above


def _value(key: str, value: str, kind: str) -> object:
    if kind == "str":
        return value
    if "None" in kind and value.lower() == "none":
        return None
    try:
        number = int(value, 0)
    except ValueError:
        if kind == "bool" and value.lower() in ("true", "false", "yes", "no"):
            return value.lower() in ("true", "yes")
        raise ValidationError("--platform", f"{key}={value!r}: expected a number") from None
    return bool(number) if kind == "bool" else number


def default_spec() -> str:
    """``$PYXENPLATFORM_PLATFORM`` if set, else ``host``."""
    return os.environ.get(PLATFORM_ENV) or "host"
