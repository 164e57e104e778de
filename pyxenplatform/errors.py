"""One exception hierarchy for everything pyxenplatform raises.

::

    XenPlatformError
    ├── ValidationError          bad input; names the field path and the rule
    ├── HypercallError (OSError) the device or Xen failed; keeps ``errno``
    │   ├── PrivcmdUnavailable   no privcmd device: not a dom0 / module not loaded
    │   ├── PermissionDenied     EPERM/EACCES: needs root in dom0
    │   └── LocalFailure         this machine failed before Xen was asked (mlock...)
    └── FirmwareError            ACPI tables could not be read or evaluated
        ├── TableError           a bad table file: signature, length, checksum
        └── AmlError             AML that failed; names table, offset and opcode

``HypercallError`` is also an ``OSError``, so ``except OSError`` keeps
working for callers that only care about the errno.
"""

from __future__ import annotations

import errno as errnos
import os


class XenPlatformError(Exception):
    """Base class of every error this package raises on purpose."""


class ValidationError(XenPlatformError, ValueError):
    """Input that Xen would refuse or silently drop; nothing was sent.

    ``path`` locates the offending value (``processors[0].cx.states[2].latency``),
    ``rule`` says what it breaks, and ``source`` names the file it came from.
    """

    def __init__(self, path: str, rule: str, *, source: str | None = None) -> None:
        self.path = path
        self.rule = rule
        self.source = source
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.source}: " if self.source else ""
        return f"{where}{self.path}: {self.rule}" if self.path else f"{where}{self.rule}"

    def in_source(self, source: str) -> ValidationError:
        """The same error, attributed to the file ``source``."""
        return ValidationError(self.path, self.rule, source=source)


class FirmwareError(XenPlatformError):
    """The firmware's ACPI tables could not be read or evaluated."""


class TableError(FirmwareError, ValueError):
    """A table file that is not a valid ACPI table: ``source`` names it, ``rule`` says why."""

    def __init__(self, source: str, rule: str) -> None:
        self.source = source
        self.rule = rule
        super().__init__(f"{source}: {rule}")


class AmlError(FirmwareError):
    """AML that could not be evaluated: ``source`` (table), byte ``offset`` in it, ``opcode``
    (0x5bXX for extended opcodes; None when no opcode applies) and the ``rule`` broken."""

    def __init__(self, source: str, offset: int | None, opcode: int | None, rule: str, *,
                 opcode_name: str = "") -> None:
        self.source = source
        self.offset = offset
        self.opcode = opcode
        self.opcode_name = opcode_name
        self.rule = rule
        where = f"+{offset:#x}" if offset is not None else ""
        if opcode is not None:
            op = f"opcode {opcode:#x}" + (f" ({opcode_name})" if opcode_name else "")
        else:
            op = opcode_name or "AML"
        super().__init__(f"{source}{where}: {op}: {rule}")


class HypercallError(XenPlatformError, OSError):
    """A privcmd or Xen failure, with what failed and what to do about it.

    ``errno`` is the original error number (Xen's ``-rc``), ``op`` the
    operation (``XENPF_set_processor_pminfo``...), ``acpi_id`` the processor
    it was for, if any, and ``hint`` the advice shown to the user.
    """

    def __init__(
        self,
        err: int,
        op: str,
        *,
        acpi_id: int | None = None,
        hint: str = "",
        detail: str = "",
    ) -> None:
        self.op = op
        self.acpi_id = acpi_id
        self.hint = hint
        self.detail = detail
        OSError.__init__(self, err, os.strerror(err))

    def __str__(self) -> str:
        target = f" for ACPI id {self.acpi_id}" if self.acpi_id is not None else ""
        name = errnos.errorcode.get(self.errno or 0, str(self.errno))
        text = f"{self.op}{target} failed: {name} ({self.strerror})"
        if self.detail:
            text += f" [{self.detail}]"
        return f"{text}: {self.hint}" if self.hint else text


class PrivcmdUnavailable(HypercallError):
    """No usable privcmd device: not running in a Xen dom0, or no xen-privcmd."""


class PermissionDenied(HypercallError):
    """privcmd or Xen refused the caller: needs root in dom0."""


class LocalFailure(HypercallError):
    """A failure on this machine before anything reached Xen (locking the
    hypercall buffer...): never reported as Xen refusing."""


_OPEN_HINTS = {
    errnos.ENOENT: "no privcmd device: not running in a Xen dom0, or the xen-privcmd "
    "module is not loaded (modprobe xen-privcmd; mount -t xenfs xenfs /proc/xen)",
    errnos.ENODEV: "the privcmd device has no driver behind it: load xen-privcmd",
    errnos.ENXIO: "the privcmd device has no driver behind it: load xen-privcmd",
    errnos.EACCES: "opening privcmd needs root in dom0",
    errnos.EPERM: "opening privcmd needs root in dom0",
}

_CALL_HINTS = {
    errnos.EPERM: "privcmd refused the hypercall: run as root in dom0 "
    "(a restricted privcmd fd or a domU cannot issue platform_op)",
    errnos.EACCES: "Xen refused the op: needs the privileged domain (dom0), or its "
    "XENPF_INTERFACE_VERSION differs from 0x03000001",
    errnos.ENOSYS: "this Xen does not implement the op (too old a Xen, or a 32-bit "
    "/ HVM guest that cannot issue platform_op)",
    errnos.ENOTTY: "the device is not a privcmd device (check the path given with "
    "--privcmd or PYXENPLATFORM_PRIVCMD)",
    errnos.EFAULT: "Xen could not read the op's memory: a buffer was not "
    "hypercall-safe; this is a pyxenplatform bug, please report it",
    errnos.EBUSY: "Xen is busy with another platform_op; try again",
}

_PMINFO_HINTS = {
    errnos.EINVAL: "Xen refused the data: no physical CPU has this ACPI id "
    "(Xen logs 'No CPU for ACPI ID'), or a field breaks Xen's rules",
    errnos.ENODEV: "Xen has no cpufreq driver for this CPU (no EIST on Intel, no "
    "hardware P-states on AMD, or Xen not booted with cpufreq=xen)",
    errnos.ENOMEM: "Xen ran out of memory storing the data",
}


# Xen xen/arch/x86/platform_hypercall.c: these ops answer -ENOSYS unless
# dom0's kernel controls CPU frequency.
_DOM0_CPUFREQ_ONLY = ("only when dom0's kernel controls CPU frequency: Xen booted with "
                      "cpufreq=dom0-kernel")
# Xen 4.21 added XEN_PM_CPPC; older Xen answers it as an unknown type (the
# default case of do_platform_op's switch, xen/arch/x86/platform_hypercall.c):
# EINVAL, the same errno as an unknown ACPI id.
CPPC_XEN = (4, 21)
_OP_HINTS = {
    ("XENPF_set_processor_pminfo(XEN_PM_CPPC)", errnos.EINVAL): "no physical CPU has this "
    "ACPI id, a field breaks Xen's rules (cpufreq.c set_cppc_pminfo), or Xen is older than "
    "4.21 and does not know XEN_PM_CPPC",
    ("XENPF_getidletime", errnos.ENOSYS): f"Xen answers XENPF_getidletime {_DOM0_CPUFREQ_ONLY}",
    ("XENPF_change_freq", errnos.ENOSYS): f"Xen answers XENPF_change_freq {_DOM0_CPUFREQ_ONLY}",
}


def open_error(exc: OSError, path: str) -> HypercallError:
    """Turn a failed ``open`` of the privcmd device into a hinted error."""
    err = exc.errno or errnos.EIO
    hint = _OPEN_HINTS.get(err, "cannot open the privcmd device")
    cls = PermissionDenied if err in (errnos.EACCES, errnos.EPERM) else PrivcmdUnavailable
    return cls(err, f"open {path}", hint=hint)


def hypercall_error(
    exc: OSError, op: str, *, acpi_id: int | None = None, detail: str = ""
) -> HypercallError:
    """Turn an ``OSError`` from the privcmd ioctl into a hinted error for ``op``."""
    err = exc.errno or errnos.EIO
    hint = _CALL_HINTS.get(err, "")
    if op.startswith("XENPF_set_processor_pminfo"):
        hint = _PMINFO_HINTS.get(err, hint)
    hint = _OP_HINTS.get((op, err), hint)
    if err == errnos.ENOTTY:
        return PrivcmdUnavailable(err, op, acpi_id=acpi_id, hint=hint, detail=detail)
    if err in (errnos.EPERM, errnos.EACCES):
        return PermissionDenied(err, op, acpi_id=acpi_id, hint=hint, detail=detail)
    return HypercallError(err, op, acpi_id=acpi_id, hint=hint, detail=detail)


def cppc_refused(err: int, op: str, acpi_id: int | None,
                 version: tuple[int, int]) -> HypercallError:
    """``XEN_PM_CPPC`` refused with EINVAL by a Xen of known ``version``: before
    4.21 the cause is the Xen version, not the ACPI id or the data."""
    have = ".".join(map(str, version))
    if version >= CPPC_XEN:
        hint = ("no physical CPU has this ACPI id (Xen logs 'No CPU for ACPI ID'), or a "
                "field breaks Xen's rules (cpufreq.c set_cppc_pminfo)")
    else:
        hint = (f"Xen is too old for CPPC (needs {CPPC_XEN[0]}.{CPPC_XEN[1]}): this is Xen "
                f"{have}, which refuses XEN_PM_CPPC as an unknown type; the other uploads "
                "are not affected")
    return HypercallError(err, op, acpi_id=acpi_id, hint=hint)
