"""Hypercall-safe memory: the arena every call's bytes are built in.

Xen reads a ``platform_op`` and every array its guest handles point to through
guest virtual addresses (``copy_from_guest``).  Those pages must be present and
must not move while Xen reads them, so every byte Xen reads is built inside an
:class:`Arena` of *hypercall-safe* memory, the way libxencall does it (Xen
``tools/libs/call/linux.c``):

* pages from ``mmap`` of ``/dev/xen/hypercall`` (Linux
  ``drivers/xen/privcmd-buf.c``) when the device exists;
* otherwise anonymous pages locked with ``mlock`` and marked
  ``MADV_DONTFORK`` so a ``fork`` child cannot take them over.

Nothing here runs at import.
"""

from __future__ import annotations

import ctypes
import functools
import mmap
import os
import struct
from typing import TYPE_CHECKING, Literal, Protocol, TypeVar, cast

from .errors import LocalFailure, open_error

if TYPE_CHECKING:
    from ctypes import _CData
    from typing import Any

# What an arena can hold: structs, unions and scalars (uint32_t for _PDC...).
_CT = TypeVar("_CT", bound="ctypes.Structure | ctypes.Union | ctypes._SimpleCData[Any]")

HYPERCALL_DEVICE = "/dev/xen/hypercall"
_ALIGN = 8  # the strictest alignment of any platform.h member (uint64_t)
_U32 = struct.Struct("<I")

MemoryKind = Literal["/dev/xen/hypercall", "locked anonymous", "anonymous"]

# Mappings a fork child inherited as Python objects but not as pages
# (MADV_DONTFORK / VM_DONTCOPY).  Kept alive, never closed: their munmap
# could hit a mapping the child later gets at the same address.
_INHERITED_FROM_PARENT: list[HypercallMemory] = []


class Relocatable(Protocol):
    """A whole call's bytes that depend on where they land (guest handles are
    addresses): ``size`` bytes, ``at(base)`` gives them for an arena at ``base``
    (:class:`pyxenplatform.packed.Image`)."""

    size: int
    last: tuple[int, bytes]  # (base, bytes) of the latest at(): read without a call

    def at(self, base: int) -> bytes: ...


class Fixed:
    """A call's bytes that hold no address (an op without arrays): a :class:`Relocatable`."""

    __slots__ = ("data", "size", "last")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.size = len(data)
        self.last = (0, data)

    def at(self, base: int) -> bytes:
        self.last = (base, self.data)
        return self.data


# Bumped in every fork child: an arena compares it on each call instead of
# asking os.getpid() (a system call) every time.
_fork_generation = 0


def _count_fork() -> None:
    global _fork_generation
    _fork_generation += 1


@functools.cache
def _watch_forks() -> None:
    os.register_at_fork(after_in_child=_count_fork)


@functools.cache
def _libc() -> ctypes.CDLL:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mlock.argtypes = (ctypes.c_void_p, ctypes.c_size_t)
    libc.mlock.restype = ctypes.c_int
    return libc


def align(nbytes: int) -> int:
    """``nbytes`` rounded up to the arena's alignment: where the next object starts."""
    return -(-nbytes // _ALIGN) * _ALIGN


def _round_to_pages(nbytes: int) -> int:
    pages = max(1, -(-nbytes // mmap.PAGESIZE))
    return pages * mmap.PAGESIZE


class HypercallMemory:
    """One mapping of hypercall-safe pages (see the module docstring)."""

    def __init__(self, nbytes: int, hypercall_device: str | None = HYPERCALL_DEVICE,
                 *, locked: bool = True) -> None:
        self.size = _round_to_pages(nbytes)
        self.kind: MemoryKind
        mapped = self._map_device(hypercall_device) if hypercall_device else None
        if mapped is not None:
            self.map, self.kind = mapped, "/dev/xen/hypercall"
        elif locked:
            self.map, self.kind = self._map_locked(), "locked anonymous"
        else:  # nothing but the simulated Xen reads these: no mlock, no root
            self.map, self.kind = self._map_anonymous(), "anonymous"
        base = ctypes.c_char.from_buffer(self.map)
        self.address = ctypes.addressof(base)
        del base  # drop the export so close() can unmap

    def _map_device(self, device: str) -> mmap.mmap | None:
        try:
            fd = os.open(device, os.O_RDWR | os.O_CLOEXEC)
        except FileNotFoundError:
            return None  # no privcmd-buf driver: libxencall falls back too
        except OSError as exc:
            raise open_error(exc, device) from exc
        try:
            return mmap.mmap(fd, self.size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
        finally:
            os.close(fd)  # the mapping keeps the pages; the fd is not needed

    def _map_anonymous(self) -> mmap.mmap:
        flags = mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS
        mapping = mmap.mmap(-1, self.size, flags, mmap.PROT_READ | mmap.PROT_WRITE)
        mapping.madvise(mmap.MADV_DONTFORK)
        return mapping

    def _map_locked(self) -> mmap.mmap:
        mapping = self._map_anonymous()
        base = ctypes.c_char.from_buffer(mapping)
        # mlock faults every page in and keeps it resident until munmap.
        rc = _libc().mlock(ctypes.addressof(base), self.size)
        del base
        if rc != 0:
            err = ctypes.get_errno()
            mapping.close()
            raise LocalFailure(
                err,
                "mlock of hypercall buffer",
                hint="cannot lock memory for Xen to read: raise RLIMIT_MEMLOCK "
                "(ulimit -l) or run as root",
            )
        return mapping

    def close(self) -> None:
        """Unmap now if no ctypes view still uses the pages, else when the last one dies."""
        try:
            self.map.close()
        except BufferError:
            pass  # a live from_buffer view pins the mapping; it unmaps with it

    def __repr__(self) -> str:
        return f"<HypercallMemory {self.kind} {self.size} bytes at {self.address:#x}>"


class Arena:
    """Builds one hypercall's op and arrays inside hypercall-safe memory.

    ``begin(n)`` starts a new call with room for ``n`` bytes (reusing the same
    pages when they are big enough, zeroing what the last call wrote);
    ``new``/``new_array`` then hand out ctypes objects living *in* those pages
    (``from_buffer``), so nothing is copied and every guest-handle address is
    an address inside the arena.  Objects are valid until the next ``begin``.
    """

    def __init__(self, hypercall_device: str | None = HYPERCALL_DEVICE, *,
                 locked: bool = True) -> None:
        self._device = hypercall_device
        self._locked = locked  # False only for a simulated hypervisor
        self._pid = os.getpid()
        _watch_forks()
        self._generation = _fork_generation
        self._memory: HypercallMemory | None = None
        self._used = 0
        self._dirty = 0
        self._limit = 0

    @property
    def kind(self) -> MemoryKind | None:
        """Where the pages come from; ``None`` before the first call."""
        return self._memory.kind if self._memory else None

    @property
    def memory(self) -> HypercallMemory | None:
        return self._memory

    def begin(self, nbytes: int) -> None:
        """Start building a new call that needs at most ``nbytes``."""
        if self._pid != os.getpid():
            self._forget_parents_pages()
        if self._memory is None or self._memory.size < nbytes:
            if self._memory is not None:
                self._memory.close()
            self._memory = HypercallMemory(nbytes, self._device, locked=self._locked)
            self._dirty = 0
        self._memory.map[: self._dirty] = bytes(self._dirty)
        self._used = self._dirty = 0
        self._limit = nbytes

    def _forget_parents_pages(self) -> None:
        # In a fork child the parent's pages are not mapped (MADV_DONTFORK):
        # touching them would be SIGSEGV.  Start over with pages of our own.
        if self._memory is not None:
            _INHERITED_FROM_PARENT.append(self._memory)
        self._memory = None
        self._used = self._dirty = 0
        self._pid = os.getpid()
        self._generation = _fork_generation

    def _take(self, nbytes: int) -> int:
        offset = align(self._used)
        if self._memory is None or offset + nbytes > self._limit:
            raise RuntimeError(
                f"arena overflow: {offset + nbytes} bytes needed, begin() reserved "
                f"{self._limit}"
            )
        self._used = offset + nbytes
        self._dirty = max(self._dirty, self._used)
        return offset

    def new(self, ctype: type[_CT]) -> _CT:
        """A zeroed ``ctype`` living in the arena."""
        offset = self._take(ctypes.sizeof(ctype))
        assert self._memory is not None
        # cast: mypy loses the TypeVar through from_buffer's self-type on a union bound.
        return cast(_CT, ctype.from_buffer(self._memory.map, offset))

    def new_array(self, ctype: type[_CT], count: int) -> ctypes.Array[_CT]:
        """A zeroed ``ctype[count]`` living in the arena."""
        array_type = ctype * count
        offset = self._take(ctypes.sizeof(array_type))
        assert self._memory is not None
        return cast("ctypes.Array[_CT]", array_type.from_buffer(self._memory.map, offset))

    def load(self, image: Relocatable, u32_at: int, u32: int) -> HypercallMemory:
        """Start a call whose bytes are exactly ``image``, with the u32 at ``u32_at``
        set to ``u32`` (a ``set_pminfo`` ACPI id); the pages it is in: their
        ``address`` for the hypercall, their ``map`` to read what Xen wrote back.

        The fast twin of :meth:`begin` + :meth:`new`: one copy of bytes packed
        once (:mod:`pyxenplatform.packed`).  What an earlier, longer call left
        beyond them is zeroed, as :meth:`begin` does.
        """
        nbytes = image.size
        memory = self._memory
        if memory is None or memory.size < nbytes or self._generation != _fork_generation:
            self.begin(nbytes)
            memory = self._memory
            assert memory is not None
        mapping = memory.map
        address = memory.address
        base, data = image.last  # usually already packed for these pages
        mapping[:nbytes] = data if base == address else image.at(address)
        if self._dirty > nbytes:
            mapping[nbytes:self._dirty] = bytes(self._dirty - nbytes)
        _U32.pack_into(mapping, u32_at, u32)
        self._used = self._dirty = self._limit = nbytes
        return memory

    def contents(self) -> bytes:
        """The bytes of the current call, as Xen will read them (for ``--hex``)."""
        return self._memory.map[: self._used] if self._memory else b""

    @property
    def base_address(self) -> int:
        return self._memory.address if self._memory else 0

    def close(self) -> None:
        if self._memory is not None:
            self._memory.close()
            self._memory = None


@functools.cache
def sizeof_aligned(ctype: type[_CData]) -> int:
    """``sizeof(ctype)`` rounded up to the arena's alignment (for ``begin``)."""
    return align(ctypes.sizeof(ctype))
