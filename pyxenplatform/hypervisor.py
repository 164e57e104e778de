"""The facade users touch: upload power data to Xen for physical CPUs.

>>> from pyxenplatform import Hypervisor, CxInfo, CState, Register
>>> hv = Hypervisor.simulated()                 # Hypervisor() in a real dom0
>>> cx = CxInfo((CState(1, 1, 1000, Register.ffh(0x00)),
...              CState(2, 64, 500, Register.system_io(0x414))))
>>> hv.upload_cx(0, cx).ok
True
>>> hv.transport.held(0).cstate_types           # what Xen now holds for ACPI id 0
[0, 1, 2]
"""

from __future__ import annotations

import errno
import logging
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Literal

from . import abi
from .errors import HypercallError, PermissionDenied, PrivcmdUnavailable
from .hypercalls import CpuVersion, PhysicalCpu, get_cpu_version, issue, physical_cpus
from .marshal import PX_ALL, build_cx, build_pdc, build_px
from .model import CxInfo, Pdc, PowerTable, ProcessorPower, PxInfo
from .rules import Platform, check_acpi_id, check_cx, check_pdc, check_px, check_table
from .sim import SimulatedXen
from .transport import Privcmd, Transport

if TYPE_CHECKING:
    from types import TracebackType
    from typing import Self

log = logging.getLogger(__name__)

Kind = Literal["pdc", "cx", "px"]


@dataclass(frozen=True)
class UploadResult:
    """What was sent for one ACPI id and what Xen answered.

    ``errno`` is 0 on success.  ``kept`` is the C-state list Xen holds
    afterwards (types, C0 first) when the transport can tell (the simulated
    hypervisor), else ``None``; ``dropped`` lists the states Xen skipped
    silently, with the reason.  ``pdc_out`` is the capability word Xen wrote back.
    """

    acpi_id: int
    kind: Kind
    sent: dict[str, object]
    errno: int = 0
    error: str | None = None
    kept: tuple[int, ...] | None = None
    dropped: tuple[str, ...] = ()
    pdc_out: int | None = None

    @property
    def ok(self) -> bool:
        return self.errno == 0

    def to_json(self) -> dict[str, object]:
        """A stable, JSON-ready form (the CLI's ``--json`` report)."""
        return {
            "acpi_id": self.acpi_id, "kind": self.kind, "sent": self.sent,
            "errno": self.errno,
            "errno_name": errno.errorcode.get(self.errno, "") if self.errno else "",
            "error": self.error, "kept": list(self.kept) if self.kept is not None else None,
            "dropped": list(self.dropped), "pdc_out": self.pdc_out,
        }


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


class Hypervisor:
    """Xen, through a transport: the real privcmd device by default.

    ``Hypervisor()`` opens ``/dev/xen/privcmd`` (raises
    :class:`~pyxenplatform.errors.PrivcmdUnavailable` outside a dom0);
    ``Hypervisor.simulated()`` uses :class:`~pyxenplatform.sim.SimulatedXen`.
    One instance may be shared by threads (calls are serialised) and used
    again in a fork child (it maps fresh hypercall pages there).
    """

    def __init__(self, transport: Transport | None = None) -> None:
        self.transport: Transport = transport if transport is not None else Privcmd()
        # One arena per transport: a call's build and issue must not interleave
        # with another thread's (the next begin() reuses the same pages).
        self._lock = threading.RLock()
        self._px_sent: dict[int, PxInfo] = {}

    @classmethod
    def simulated(
        cls,
        cpus: Sequence[PhysicalCpu] | None = None,
        *,
        platform: Platform | None = None,
        cpufreq_driver: bool = False,
        idle_driver: Literal["acpi", "mwait-idle"] = "acpi",
    ) -> Hypervisor:
        """A hypervisor backed by :class:`~pyxenplatform.sim.SimulatedXen`."""
        return cls(SimulatedXen(cpus, platform=platform, cpufreq_driver=cpufreq_driver,
                                idle_driver=idle_driver))

    # -- read-only ------------------------------------------------------
    def physical_cpus(self) -> list[PhysicalCpu]:
        """Every present physical CPU (``XENPF_get_cpuinfo``), not dom0's vCPUs."""
        with self._lock:
            return physical_cpus(self.transport)

    def cpu_version(self, xen_cpuid: int) -> CpuVersion | None:
        """Vendor, family, model, stepping of a physical CPU (``XENPF_get_cpu_version``)."""
        with self._lock:
            return get_cpu_version(self.transport, xen_cpuid)

    # -- uploads ----------------------------------------------------------
    def upload_cx(self, acpi_id: int, cx: CxInfo) -> UploadResult:
        """Send ``XEN_PM_CX`` for one ACPI id; validated first, nothing sent if invalid."""
        check_acpi_id("acpi_id", acpi_id)
        for w in check_cx("cx", cx):
            log.info("ACPI id %d: %s", acpi_id, w)
        return self._send_cx(acpi_id, cx)

    def _send_cx(self, acpi_id: int, cx: CxInfo) -> UploadResult:
        sent: dict[str, object] = {"type": "XEN_PM_CX", "count": len(cx.states),
                                   "states": [f"C{s.type}" for s in cx.states]}
        with self._lock:
            op = build_cx(self.transport, acpi_id, cx)
            return self._issue(op, acpi_id, "cx", sent)

    def upload_px(self, acpi_id: int, px: PxInfo, *, flags: int | None = None) -> UploadResult:
        """Send ``XEN_PM_PX``.

        The first upload for an ACPI id carries all four parts (``_PCT``,
        ``_PSS``, ``_PPC``, ``_PSD``), which is what makes Xen initialise
        cpufreq; a later upload that changes only ``ppc`` sends ``_PPC`` alone
        (Xen then just changes the limit).  ``flags`` overrides the choice.
        """
        check_acpi_id("acpi_id", acpi_id)
        check_px("px", px)
        return self._send_px(acpi_id, px, flags)

    def _send_px(self, acpi_id: int, px: PxInfo, flags: int | None = None) -> UploadResult:
        with self._lock:  # also guards _px_sent, which decides the flags
            if flags is None:
                previous = self._px_sent.get(acpi_id)
                same_but_ppc = previous is not None and previous == _with_ppc(px, previous.ppc)
                flags = abi.XEN_PX_PPC if same_but_ppc else PX_ALL
            sent: dict[str, object] = {"type": "XEN_PM_PX", "flags": _px_flag_names(flags),
                                       "states": len(px.states), "ppc": px.ppc}
            op = build_px(self.transport, acpi_id, px, flags)
            result = self._issue(op, acpi_id, "px", sent)
            if result.ok and (flags == PX_ALL or acpi_id in self._px_sent):
                self._px_sent[acpi_id] = px
            return result

    def set_ppc(self, acpi_id: int, px: PxInfo, ppc: int) -> UploadResult:
        """Change only the platform limit (``_PPC``) of an ACPI id."""
        return self.upload_px(acpi_id, _with_ppc(px, ppc), flags=abi.XEN_PX_PPC)

    def upload_pdc(self, acpi_id: int, pdc: Pdc) -> UploadResult:
        """Send ``XEN_PM_PDC``; ``pdc_out`` is the capability word Xen lets firmware see."""
        check_acpi_id("acpi_id", acpi_id)
        check_pdc("pdc", pdc)
        return self._send_pdc(acpi_id, pdc)

    def _send_pdc(self, acpi_id: int, pdc: Pdc) -> UploadResult:
        with self._lock:
            op, buf = build_pdc(self.transport, acpi_id, pdc)
            sent: dict[str, object] = {"type": "XEN_PM_PDC", "words": list(buf)}
            result = self._issue(op, acpi_id, "pdc", sent)
            if result.ok:
                result = replace(result, pdc_out=buf[2] if len(buf) > 2 else None)
            return result

    def _issue(self, op: abi.xen_platform_op, acpi_id: int, kind: Kind,
               sent: dict[str, object]) -> UploadResult:
        try:
            issue(self.transport, op, acpi_id)
        except (PrivcmdUnavailable, PermissionDenied):
            raise  # nothing else will work either: stop the whole upload
        except HypercallError as exc:
            log.info("%s", exc)  # the result carries it; the CLI prints it once
            return UploadResult(acpi_id, kind, sent, exc.errno or errno.EIO, str(exc))
        kept, dropped = self._what_xen_keeps(acpi_id, kind)
        return UploadResult(acpi_id, kind, sent, kept=kept, dropped=dropped)

    def _what_xen_keeps(self, acpi_id: int, kind: Kind) -> tuple[tuple[int, ...] | None, tuple[str, ...]]:
        if kind != "cx" or not isinstance(self.transport, SimulatedXen):
            return None, ()
        if self.transport.idle_driver != "acpi":
            return None, (f"all: {self.transport.idle_driver} owns idle, so Xen returned 0 "
                          "and changed nothing (cpu_idle.c set_cx_pminfo)",)
        held = self.transport.held(acpi_id)
        dropped = tuple(f"C{s.type}: {why}" for s, why in held.dropped)
        return tuple(held.cstate_types), dropped

    # -- whole tables ----------------------------------------------------------
    def upload_table(self, table: PowerTable, *,
                     only_acpi_ids: Iterable[int] | None = None) -> TableResult:
        """Validate ``table`` whole, then upload it; per-ACPI-id results.

        ``"all"`` means the ACPI id of every present physical CPU.  Per CPU
        the order is ``_PDC``, Cx, Px (as Linux evaluates them), and the ACPI
        id of Xen CPU 0 goes first: Xen switches to the uploaded C-states only
        once CPU 0 has its data.  ``only_acpi_ids`` restricts the upload.
        """
        result = TableResult(warnings=check_table(table))
        cpus = self.physical_cpus()
        plan = plan_uploads(table, cpus, result.warnings)
        if only_acpi_ids is not None:
            wanted = set(only_acpi_ids)
            plan = [step for step in plan if step[0] in wanted]
        for acpi_id, kind, proc in plan:
            result.results.append(self._upload_part(acpi_id, kind, proc))
        return result

    def _upload_part(self, acpi_id: int, kind: Kind, proc: ProcessorPower) -> UploadResult:
        # The table was checked whole by upload_table: send without re-checking.
        if kind == "pdc" and proc.pdc is not None:
            return self._send_pdc(acpi_id, proc.pdc)
        if kind == "cx" and proc.cx is not None:
            return self._send_cx(acpi_id, proc.cx)
        if kind == "px" and proc.px is not None:
            return self._send_px(acpi_id, proc.px)
        raise AssertionError(f"plan names {kind} for an entry without it")

    # -- lifetime ---------------------------------------------------------------
    def close(self) -> None:
        self.transport.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Hypervisor via {self.transport!r}>"


def plan_uploads(table: PowerTable, cpus: Sequence[PhysicalCpu],
                 warnings: list[str]) -> list[tuple[int, Kind, ProcessorPower]]:
    """Which entry each ACPI id gets for each kind, CPU 0's ACPI id first.

    An entry naming ACPI ids explicitly overrides an ``"all"`` entry (the
    table is checked first: :func:`~pyxenplatform.rules.check_explicit_ids`).
    """
    present = [c.acpi_id for c in sorted(cpus, key=lambda c: c.xen_cpuid)]
    chosen: dict[tuple[int, Kind], ProcessorPower] = {}
    explicit_keys: set[tuple[int, Kind]] = set()
    for proc in table.processors:
        explicit = proc.acpi_ids != "all"
        ids = list(proc.acpi_ids) if proc.acpi_ids != "all" else present
        for kind in _kinds(proc):
            for acpi_id in ids:
                key = (acpi_id, kind)
                if explicit or key not in explicit_keys:
                    chosen[key] = proc
                if explicit:
                    explicit_keys.add(key)
    order = {acpi_id: i for i, acpi_id in enumerate(present)}
    kinds: tuple[Kind, ...] = ("pdc", "cx", "px")
    plan = sorted(chosen.items(), key=lambda kv: (order.get(kv[0][0], len(order)), kv[0][0],
                                                  kinds.index(kv[0][1])))
    boot = present[0] if present else None
    if boot is not None and any(k == "cx" for (_, k) in chosen) and (boot, "cx") not in chosen:
        warnings.append(f"the table has no C-states for ACPI id {boot} (Xen CPU 0): Xen keeps "
                        "using its default idle states until CPU 0's are uploaded")
    return [(acpi_id, kind, proc) for (acpi_id, kind), proc in plan]


def _kinds(proc: ProcessorPower) -> list[Kind]:
    kinds: list[Kind] = []
    if proc.pdc is not None:
        kinds.append("pdc")
    if proc.cx is not None:
        kinds.append("cx")
    if proc.px is not None:
        kinds.append("px")
    return kinds


def _with_ppc(px: PxInfo, ppc: int) -> PxInfo:
    return replace(px, ppc=ppc)


def _px_flag_names(flags: int) -> list[str]:
    names = {abi.XEN_PX_PCT: "PCT", abi.XEN_PX_PSS: "PSS", abi.XEN_PX_PPC: "PPC",
             abi.XEN_PX_PSD: "PSD"}
    return [name for bit, name in names.items() if flags & bit]
