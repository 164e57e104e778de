"""What an upload answers: one :class:`UploadResult` per call, a :class:`TableResult` per table.

The hot path makes its results without the frozen dataclass's ``__init__``
(:func:`succeeded`); ``tests/test_packed.py`` checks they equal ``__init__``'s.
"""

from __future__ import annotations

import errno
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from .errors import PermissionDenied, PrivcmdUnavailable, hypercall_error

log = logging.getLogger("pyxenplatform.hypervisor")  # the facade's: what callers configure

Kind = Literal["pdc", "cx", "px", "cppc"]


@dataclass(frozen=True)
class UploadResult:
    """What was sent for one ACPI id and what Xen answered.

    ``errno`` is 0 on success.  ``kept`` is the C-state list Xen holds
    afterwards (types, C0 first) when the transport can tell (the simulated
    hypervisor), else ``None``; ``dropped`` lists the states Xen skipped
    silently, with the reason.  ``pdc_out`` is the capability word Xen wrote back.
    ``held`` is how many states Xen holds afterwards as read back from it (C-states with C0,
    or P-states), on real Xen too: filled by ``upload --verify``
    (:func:`pyxenplatform.verify.with_held`), else ``None``.

    ``sent`` describes the call (``{"type": "XEN_PM_CX", "count": 2, "states": ("C1",
    "C2")}``).  Made by an upload it is read-only, its sequences tuples: the same mapping
    serves every upload of one object (:func:`describe`).  ``to_json`` gives lists.
    """

    acpi_id: int
    kind: Kind
    sent: Mapping[str, object]
    errno: int = 0
    error: str | None = None
    kept: tuple[int, ...] | None = None
    dropped: tuple[str, ...] = ()
    pdc_out: int | None = None
    held: int | None = None

    @property
    def ok(self) -> bool:
        return self.errno == 0

    def to_json(self) -> dict[str, object]:
        """A stable, JSON-ready form (the CLI's ``--json`` report)."""
        return {
            "acpi_id": self.acpi_id, "kind": self.kind, "sent": plain(self.sent),
            "errno": self.errno,
            "errno_name": errno.errorcode.get(self.errno, "") if self.errno else "",
            "error": self.error, "kept": list(self.kept) if self.kept is not None else None,
            "dropped": list(self.dropped), "pdc_out": self.pdc_out, "held": self.held,
        }


def describe(**fields: object) -> Mapping[str, object]:
    """An :attr:`UploadResult.sent`: read-only, lists made tuples.

    Built once per prepared object (:mod:`pyxenplatform.prepared`) and shared by
    the results of all its uploads, so no caller can change another's.
    """
    return MappingProxyType({key: tuple(value) if isinstance(value, list) else value
                             for key, value in fields.items()})


def plain(sent: Mapping[str, object]) -> dict[str, object]:
    """``sent`` as JSON-ready built-ins: a dict, its tuples lists."""
    return {key: list(value) if isinstance(value, tuple) else value
            for key, value in sent.items()}


_new_object = object.__new__
_SUCCEEDED = {"acpi_id": 0, "kind": "cx", "sent": None, "errno": 0, "error": None,
              "kept": None, "dropped": (), "pdc_out": None, "held": None}
_PDC_SUCCEEDED = dict(_SUCCEEDED, kind="pdc")


def succeeded(acpi_id: int, kind: Kind, sent: Mapping[str, object],
               kept: tuple[int, ...] | None = None, dropped: tuple[str, ...] = (),
               pdc_out: int | None = None) -> UploadResult:
    """``UploadResult(acpi_id, kind, sent, kept=..., ...)`` for a call Xen accepted.

    The same object, made without the frozen dataclass's ``__init__``, which
    sets each of 8 fields through ``object.__setattr__``: half the cost of a
    whole upload.  ``tests/test_packed.py`` checks it equals the ``__init__`` one.
    """
    result = _new_object(UploadResult)
    fields = result.__dict__
    fields.update(_SUCCEEDED)
    fields["acpi_id"], fields["kind"], fields["sent"] = acpi_id, kind, sent
    if kept is not None or dropped or pdc_out is not None:
        fields["kept"], fields["dropped"], fields["pdc_out"] = kept, dropped, pdc_out
    return result


def pdc_succeeded(acpi_id: int, sent: Mapping[str, object], pdc_out: int) -> UploadResult:
    """``succeeded(acpi_id, "pdc", sent, pdc_out=pdc_out)`` with fewer steps: ``_PDC`` is
    re-sent on every firmware notification, and its whole upload costs a few of these."""
    result = _new_object(UploadResult)
    fields = result.__dict__
    fields.update(_PDC_SUCCEEDED)
    fields["acpi_id"] = acpi_id
    fields["sent"] = sent
    fields["pdc_out"] = pdc_out
    return result


def refused(exc: OSError, acpi_id: int, kind: Kind, sent: Mapping[str, object]) -> UploadResult:
    """The result of a call Xen refused; raises when no other call can work either."""
    error = hypercall_error(exc, f"XENPF_set_processor_pminfo({PM_TYPES[kind]})",
                            acpi_id=acpi_id)
    if isinstance(error, (PrivcmdUnavailable, PermissionDenied)):
        raise error from exc  # stop the whole upload
    log.info("%s", error)  # the result carries it; the CLI prints it once
    return UploadResult(acpi_id, kind, sent, error.errno or errno.EIO, str(error))


PM_TYPES: dict[Kind, str] = {"cx": "XEN_PM_CX", "px": "XEN_PM_PX", "pdc": "XEN_PM_PDC",
                              "cppc": "XEN_PM_CPPC"}


@dataclass
class TableResult:
    """The outcome of :meth:`Hypervisor.upload_table`, in upload order."""

    results: list[UploadResult] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)

    @property
    def failed(self) -> list[UploadResult]:
        return [r for r in self.results if not r.ok]
