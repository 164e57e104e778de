"""The hypercall transport: the privcmd device and the ioctl.

A :class:`Transport` is anything that can issue ``__HYPERVISOR_platform_op``
on an address inside its :class:`~pyxenplatform.arena.Arena` (hypercall-safe
memory): :class:`Privcmd` (the real device) or
:class:`pyxenplatform.sim.SimulatedXen`.  Nothing here runs at import.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import mmap
import os
import stat
import struct
from typing import TYPE_CHECKING, Protocol

from . import abi, abi_sysctl
from .arena import (  # re-exported: they lived here before arena.py
    HYPERCALL_DEVICE,
    Arena,
    Fixed,
    HypercallMemory,
    Relocatable,
    align,
    sizeof_aligned,
)
from .errors import PrivcmdUnavailable, open_error

if TYPE_CHECKING:
    from types import TracebackType
    from typing import Self

__all__ = ["HYPERCALL_DEVICE", "Arena", "Fixed", "HypercallMemory", "Privcmd", "Relocatable",
           "Transport", "align", "default_privcmd_path", "privcmd_path_and_origin",
           "send_image", "sizeof_aligned"]

PRIVCMD_ENV = "PYXENPLATFORM_PRIVCMD"
PRIVCMD_PATHS = ("/dev/xen/privcmd", "/proc/xen/privcmd")

# Module level on purpose: inside a class body ``abi.__HYPERVISOR_platform_op``
# would be name-mangled.
PLATFORM_OP = abi.__HYPERVISOR_platform_op
SYSCTL = abi_sysctl.__HYPERVISOR_sysctl

# privcmd_hypercall_t's first two words: op, arg[0] (Linux include/uapi/xen/privcmd.h).
_HYPERCALL_OP_ARG0 = struct.Struct("<QQ")


class Transport(Protocol):
    """What the layers above need from a hypervisor connection.

    ``platform_op(address)`` issues ``__HYPERVISOR_platform_op`` on the
    ``struct xen_platform_op`` at ``address`` (inside ``arena``), returns
    Xen's non-negative result, and raises ``OSError`` with Xen's errno on
    failure -- exactly what the privcmd ioctl does.
    """

    @property
    def arena(self) -> Arena: ...

    def platform_op(self, address: int) -> int: ...

    def close(self) -> None: ...


def default_privcmd_path() -> str:
    """``$PYXENPLATFORM_PRIVCMD``, else the first privcmd node that exists."""
    return privcmd_path_and_origin()[0]


def privcmd_path_and_origin() -> tuple[str, str]:
    """The default privcmd path and where it came from, for messages."""
    override = os.environ.get(PRIVCMD_ENV)
    if override:
        return override, PRIVCMD_ENV
    return next((p for p in PRIVCMD_PATHS if os.path.exists(p)), PRIVCMD_PATHS[0]), "default"


def _check_privcmd(fd: int, path: str, where: str) -> None:
    """Refuse what cannot be privcmd before any ioctl reaches it: privcmd is a
    character device (misc, /dev/xen/privcmd) or, on old kernels, a xenfs
    file under /proc/xen."""
    mode = os.fstat(fd).st_mode
    if stat.S_ISCHR(mode):
        return
    if stat.S_ISREG(mode) and os.path.realpath(path).startswith("/proc/xen/"):
        return
    kind = "a directory" if stat.S_ISDIR(mode) else "a regular file" if stat.S_ISREG(mode) \
        else "not a character device"
    raise PrivcmdUnavailable(errno.ENOTTY, f"open {where}", hint=f"{kind}, not the privcmd "
                             "character device: give /dev/xen/privcmd (modprobe xen-privcmd)")


class Privcmd:
    """Linux's privcmd device: issues real hypercalls with ``ioctl``.

    >>> with Privcmd() as dev:                       # doctest: +SKIP
    ...     dev.hypercall(PLATFORM_OP, address)

    ``path`` overrides the device (default: ``$PYXENPLATFORM_PRIVCMD``, then
    ``/dev/xen/privcmd``, then ``/proc/xen/privcmd``); ``origin`` says where
    it came from (``--privcmd``...) and every message names it.  The device is
    opened here, when asked, never at import, and refused unless it is a
    character device (or a /proc/xen file) before any ioctl.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        hypercall_device: str | None = HYPERCALL_DEVICE,
        origin: str | None = None,
    ) -> None:
        if path is not None:
            self.path, self.origin = os.fspath(path), origin or "the caller"
        else:
            self.path, self.origin = privcmd_path_and_origin()
        where = f"{self.path} (from {self.origin})"
        try:
            self._fd: int | None = os.open(self.path, os.O_RDWR | os.O_CLOEXEC | os.O_NOCTTY)
        except OSError as exc:
            raise open_error(exc, where) from exc
        try:
            _check_privcmd(self._fd, self.path, where)
        except PrivcmdUnavailable:
            os.close(self._fd)
            raise
        self._arena = Arena(hypercall_device)
        self._call = abi.privcmd_hypercall()
        # platform_op's own argument block: only op and arg[0] are ever written.
        self._platform_call = bytearray(ctypes.sizeof(abi.privcmd_hypercall))
        self._platform_call_address = -1  # the op address packed in it (none yet)

    @property
    def arena(self) -> Arena:
        return self._arena

    def hypercall(self, op: int, *args: int) -> int:
        """Issue hypercall ``op`` with up to five arguments; Xen's result.

        Raises ``OSError`` carrying Xen's errno when the result is negative.
        """
        if self._fd is None:
            raise OSError(errno.EBADF, f"{self.path} is closed")
        call = self._call
        call.op = op
        for i in range(5):
            call.arg[i] = args[i] if i < len(args) else 0
        # A mutable ctypes buffer, not an int: fcntl would truncate a 64-bit
        # address to a C int.  privcmd copies these 48 bytes; the op address
        # inside them still points into our arena.
        result: int = fcntl.ioctl(self._fd, abi.IOCTL_PRIVCMD_HYPERCALL, call, True)
        return result

    def platform_op(self, address: int) -> int:
        # hypercall() with fewer steps: this is every upload's path.
        if self._fd is None:
            raise OSError(errno.EBADF, f"{self.path} is closed")
        call = self._platform_call
        if address != self._platform_call_address:  # the arena's pages rarely move
            _HYPERCALL_OP_ARG0.pack_into(call, 0, PLATFORM_OP, address)
            self._platform_call_address = address
        result: int = fcntl.ioctl(self._fd, abi.IOCTL_PRIVCMD_HYPERCALL, call, True)
        return result

    def platform_op_image(self, image: Relocatable, u32_at: int, u32: int) -> mmap.mmap:
        """``platform_op`` on ``arena.load(image, u32_at, u32)`` as one call: what
        :func:`send_image` does for a ``Privcmd``, without the property and the method
        calls between arena and ioctl, which cost a third of a hand-packed upload."""
        fd = self._fd
        if fd is None:
            raise OSError(errno.EBADF, f"{self.path} is closed")
        memory = self._arena.load(image, u32_at, u32)
        address = memory.address
        call = self._platform_call
        if address != self._platform_call_address:  # the arena's pages rarely move
            _HYPERCALL_OP_ARG0.pack_into(call, 0, PLATFORM_OP, address)
            self._platform_call_address = address
        fcntl.ioctl(fd, abi.IOCTL_PRIVCMD_HYPERCALL, call, True)
        return memory.map

    def sysctl(self, address: int) -> int:
        """``__HYPERVISOR_sysctl`` on the ``struct xen_sysctl`` at ``address`` (read-back)."""
        return self.hypercall(SYSCTL, address)

    def close(self) -> None:
        """Close the device and release the arena; safe to call twice."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        self._arena.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._fd is None else f"fd={self._fd}"
        return f"<Privcmd {self.path} {state} arena={self._arena.kind or 'unused'}>"


def send_image(transport: Transport, image: Relocatable, u32_at: int, u32: int) -> mmap.mmap:
    """``platform_op`` on a call packed once (``image``), the u32 at ``u32_at`` set to ``u32``
    (an ACPI id, a Xen CPU id); the pages it ran in, holding what Xen wrote back.

    The path of every upload and of the CPU walk: one call on the real device
    (:meth:`Privcmd.platform_op_image`), else the Transport protocol's ``arena.load``
    and ``platform_op``.
    """
    if transport.__class__ is Privcmd:
        return transport.platform_op_image(image, u32_at, u32)
    memory = transport.arena.load(image, u32_at, u32)
    transport.platform_op(memory.address)
    return memory.map
