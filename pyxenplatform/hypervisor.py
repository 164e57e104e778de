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
import struct
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Literal

from . import abi
from .checks import fit, remember
from .cppc_rules import check_cppc
from .cpu_rules import Platform
from .errors import HypercallError, PermissionDenied, PrivcmdUnavailable, cppc_refused
from .hypercalls import (
    CpuVersion,
    PhysicalCpu,
    get_cpu_version,
    issue,
    op_name,
    physical_cpus,
    xen_version,
)
from .marshal import build_cppc
from .model import CppcInfo, CxInfo, Pdc, PowerTable, ProcessorPower, PxInfo
from .packed import ID_OFFSET, OP_SIZE, PX_ALL
from .plan import plan_uploads
from .prepared import (
    CX_READY,
    PDC_READY,
    PPC_VARIANTS,
    PX_READY,
    CxReady,
    PdcReady,
    prepare_cx,
    prepare_pdc,
    prepare_px,
    same_but_ppc,
    with_ppc,
)
from .readback import SysctlVersion
from .results import (
    Kind,
    TableResult,
    UploadResult,
    describe,
    pdc_succeeded,
    refused,
    succeeded,
)
from .rules import PX_CHECKED, U32, check_acpi_id, check_px, check_table
from .sim import CpufreqMode, SimulatedXen
from .status import CpuStatus, read_status
from .transport import Privcmd, Transport, send_image

if TYPE_CHECKING:
    import os
    from collections.abc import Collection
    from types import TracebackType
    from typing import Self

    from .fwupload import FirmwareUploadResult

# Re-exported: they lived here before results.py and plan.py.
__all__ = ["Hypervisor", "Kind", "TableResult", "UploadResult", "plan_uploads"]

log = logging.getLogger(__name__)
INFO = logging.INFO
_U32 = struct.Struct("<I")
_PDC_OUT = OP_SIZE + 8  # the _PDC buffer's word 2, which Xen rewrites


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
        # The last _PDC result per ACPI id: a frozen value, returned again for the
        # same answer to the same call (upload_pdc).  Only ids Xen accepted are kept:
        # no more entries than Xen has CPUs.
        self._pdc_answers: dict[int, UploadResult] = {}
        self._sysctl_version = SysctlVersion()  # found by the first read-back, then kept

    @classmethod
    def simulated(
        cls,
        cpus: Sequence[PhysicalCpu] | None = None,
        *,
        platform: Platform | None = None,
        cpufreq_driver: bool = False,
        idle_driver: Literal["acpi", "mwait-idle"] = "acpi",
        cpufreq: CpufreqMode = "xen",
        xen_version: tuple[int, int] = (4, 22),
    ) -> Hypervisor:
        """A hypervisor backed by :class:`~pyxenplatform.sim.SimulatedXen`."""
        return cls(SimulatedXen(cpus, platform=platform, cpufreq_driver=cpufreq_driver,
                                idle_driver=idle_driver, cpufreq=cpufreq,
                                xen_version=xen_version))

    # -- read-only ------------------------------------------------------
    def physical_cpus(self) -> list[PhysicalCpu]:
        """Every present physical CPU (``XENPF_get_cpuinfo``), not dom0's vCPUs."""
        with self._lock:
            return physical_cpus(self.transport)

    def cpu_version(self, xen_cpuid: int) -> CpuVersion | None:
        """Vendor, family, model, stepping of a physical CPU (``XENPF_get_cpu_version``)."""
        with self._lock:
            return get_cpu_version(self.transport, xen_cpuid)

    def status(self) -> list[CpuStatus]:
        """What Xen holds for every present physical CPU: C-states, P-states, cpufreq.

        Read back with ``XEN_SYSCTL_get_pmstat`` and ``XEN_SYSCTL_pm_op``; see
        :mod:`pyxenplatform.status`.
        """
        with self._lock:
            return read_status(self.transport, physical_cpus(self.transport),
                               self._sysctl_version)

    # -- uploads ----------------------------------------------------------
    # An upload validates an object once (what passed is remembered on the
    # frozen object, with the call's bytes packed once: CxReady), then
    # copies those bytes into the arena with the ACPI id patched in: the same
    # bytes, byte for byte, that the ctypes builders of .marshal write.

    def upload_cx(self, acpi_id: int, cx: CxInfo) -> UploadResult:
        """Send ``XEN_PM_CX`` for one ACPI id; validated first, nothing sent if invalid."""
        if type(acpi_id) is not int or not 0 <= acpi_id <= U32:
            check_acpi_id("acpi_id", acpi_id)
        ready = getattr(cx, CX_READY, None)
        if type(ready) is not CxReady:
            ready = prepare_cx(cx)
        if ready.warnings and log.isEnabledFor(INFO):
            for w in ready.warnings:
                log.info("ACPI id %d: cx%s", acpi_id, w)
        return self._send_cx(acpi_id, ready)

    # The sends below issue the call with transport.send_image; refused() turns an
    # OSError into the result, or raises.

    def _send_cx(self, acpi_id: int, ready: CxReady) -> UploadResult:
        lock = self._lock
        lock.acquire()  # not `with`: a third of the cost of the lock
        try:
            transport = self.transport
            try:
                send_image(transport, ready.image, ID_OFFSET, acpi_id)
            except OSError as exc:
                return refused(exc, acpi_id, "cx", ready.sent)
            if isinstance(transport, SimulatedXen):
                kept, dropped = transport.outcome(acpi_id, "cx")
                return succeeded(acpi_id, "cx", ready.sent, kept, dropped)
        finally:
            lock.release()
        return succeeded(acpi_id, "cx", ready.sent)

    def upload_px(self, acpi_id: int, px: PxInfo, *, flags: int | None = None) -> UploadResult:
        """Send ``XEN_PM_PX``.

        The first upload for an ACPI id carries all four parts (``_PCT``,
        ``_PSS``, ``_PPC``, ``_PSD``), which is what makes Xen initialise
        cpufreq; a later upload that changes only ``ppc`` sends ``_PPC`` alone
        (Xen then just changes the limit).  ``flags`` overrides the choice.
        """
        if type(acpi_id) is not int or not 0 <= acpi_id <= U32:
            check_acpi_id("acpi_id", acpi_id)
        if getattr(px, PX_CHECKED, None) is None:
            check_px("px", px)
        if flags is not None and (type(flags) is not int or not 0 <= flags <= U32):
            fit("flags", flags, U32, "xen_processor_performance.flags (u32)")
        return self._send_px(acpi_id, px, flags)

    def _send_px(self, acpi_id: int, px: PxInfo, flags: int | None = None) -> UploadResult:
        lock = self._lock
        lock.acquire()  # also guards _px_sent, which decides the flags
        try:
            if flags is None:
                previous = self._px_sent.get(acpi_id)
                flags = abi.XEN_PX_PPC if previous is not None and same_but_ppc(previous, px) \
                    else PX_ALL
            known = getattr(px, PX_READY, None)  # prepare_px(), without the call
            ready = known.get(flags) if type(known) is dict else None
            if ready is None:
                ready = prepare_px(px, flags)
            transport = self.transport
            try:
                send_image(transport, ready.image, ID_OFFSET, acpi_id)
            except OSError as exc:
                return refused(exc, acpi_id, "px", ready.sent)
            if flags == PX_ALL or acpi_id in self._px_sent:
                self._px_sent[acpi_id] = px
            if isinstance(transport, SimulatedXen) and transport.ignored is not None:
                return succeeded(acpi_id, "px", ready.sent,
                                 dropped=(f"all: {transport.ignored}",))
        finally:
            lock.release()
        return succeeded(acpi_id, "px", ready.sent)

    def set_ppc(self, acpi_id: int, px: PxInfo, ppc: int) -> UploadResult:
        """Change only the platform limit (``_PPC``) of an ACPI id.

        Made for a firmware notification handler that calls it again and
        again: the ``PxInfo`` with the new ``ppc`` is made and checked once per
        (``px``, ``ppc``) and remembered on ``px`` (at most one per P-state).
        """
        if getattr(px, PX_CHECKED, None) is None:
            check_px("px", px)
        variants = getattr(px, PPC_VARIANTS, None)
        if not isinstance(variants, dict):
            variants = remember(px, PPC_VARIANTS, {})
        derived = variants.get(ppc) if type(ppc) is int else None
        if derived is None:
            derived = with_ppc(px, ppc)
            check_px("px", derived)  # a ppc that indexes no state is refused, not kept
            variants[ppc] = derived
        return self.upload_px(acpi_id, derived, flags=abi.XEN_PX_PPC)

    def upload_pdc(self, acpi_id: int, pdc: Pdc) -> UploadResult:
        """Send ``XEN_PM_PDC``; ``pdc_out`` is the capability word Xen lets firmware see."""
        # One function, not a check and a _send_*: _PDC is re-sent on every
        # firmware notification, and a call is a tenth of its cost.
        if type(acpi_id) is not int or not 0 <= acpi_id <= U32:
            check_acpi_id("acpi_id", acpi_id)
        ready = getattr(pdc, PDC_READY, None)  # checked and packed: one look-up
        if type(ready) is not PdcReady:
            ready = prepare_pdc(pdc)
        lock = self._lock
        lock.acquire()
        try:
            transport = self.transport
            try:
                pages = send_image(transport, ready.image, ID_OFFSET, acpi_id)
            except OSError as exc:
                return refused(exc, acpi_id, "pdc", ready.sent)
            # Xen writes word 2 back: the capabilities firmware may see.
            pdc_out: int = _U32.unpack_from(pages, _PDC_OUT)[0]
            # A result is a frozen value, its `sent` read-only: Xen giving this CPU the
            # same answer to the same call (a _PDC re-sent on a firmware notification)
            # gets the result already made, which costs a third of the upload to make.
            last = self._pdc_answers.get(acpi_id)
            if last is not None and last.sent is ready.sent and last.pdc_out == pdc_out:
                return last
            result = self._pdc_answers[acpi_id] = pdc_succeeded(acpi_id, ready.sent, pdc_out)
        finally:
            lock.release()
        return result

    def upload_cppc(self, acpi_id: int, cppc: CppcInfo) -> UploadResult:
        """Send ``XEN_PM_CPPC`` (``_CPC`` + ``_PSD``, Xen 4.21+, for ``cpufreq=amd-cppc``).

        Both parts go in one upload: Xen starts its amd-cppc driver on a CPU
        only then.  A Xen older than 4.21 refuses it; the error says so.
        """
        check_acpi_id("acpi_id", acpi_id)
        for w in check_cppc("cppc", cppc):
            log.info("ACPI id %d: %s", acpi_id, w)
        return self._send_cppc(acpi_id, cppc)

    def _send_cppc(self, acpi_id: int, cppc: CppcInfo) -> UploadResult:
        # Not a hot path: built with the ctypes builder of .marshal.
        sent = describe(
            type="XEN_PM_CPPC", flags=["CPC", "PSD"], highest_perf=cppc.highest_perf,
            nominal_perf=cppc.nominal_perf, lowest_nonlinear_perf=cppc.lowest_nonlinear_perf,
            lowest_perf=cppc.lowest_perf, lowest_mhz=cppc.lowest_mhz,
            nominal_mhz=cppc.nominal_mhz)
        with self._lock:
            op = build_cppc(self.transport, acpi_id, cppc)
            name = op_name(op)
            result = self._issue(op, acpi_id, "cppc", sent)
            if result.errno == errno.EINVAL:
                # Before 4.21 Xen does not know the type and answers as it does
                # for an unknown ACPI id: ask which Xen this is.
                version = xen_version(self.transport)
                if version is not None:
                    error = cppc_refused(result.errno, name, acpi_id, version)
                    log.info("%s", error)
                    result = replace(result, error=str(error))
            elif result.ok and not result.dropped and isinstance(self.transport, SimulatedXen):
                result = replace(result, dropped=self.transport.cppc_changes(acpi_id, cppc))
            return result

    def _issue(self, op: abi.xen_platform_op, acpi_id: int, kind: Kind,
               sent: Mapping[str, object]) -> UploadResult:
        """Issue an op built with pyxenplatform.marshal (the ctypes path)."""
        try:
            issue(self.transport, op, acpi_id)
        except (PrivcmdUnavailable, PermissionDenied):
            raise  # nothing else will work either: stop the whole upload
        except HypercallError as exc:
            log.info("%s", exc)  # the result carries it; the CLI prints it once
            return UploadResult(acpi_id, kind, sent, exc.errno or errno.EIO, str(exc))
        transport = self.transport
        kept, dropped = transport.outcome(acpi_id, kind) if isinstance(transport, SimulatedXen) \
            else (None, ())
        return UploadResult(acpi_id, kind, sent, kept=kept, dropped=dropped)

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
        append = result.results.append
        upload_part = self._upload_part
        with self._lock:  # one table, one holder: no other call in between
            for acpi_id, kind, proc in plan:
                append(upload_part(acpi_id, kind, proc))
        return result

    def _upload_part(self, acpi_id: int, kind: Kind, proc: ProcessorPower) -> UploadResult:
        # The table was checked whole by upload_table: send without re-checking
        # (upload_pdc's checks find the outcome remembered on the Pdc).
        if kind == "cx" and proc.cx is not None:
            ready = getattr(proc.cx, CX_READY, None)
            return self._send_cx(acpi_id, ready if type(ready) is CxReady else
                                 prepare_cx(proc.cx))
        if kind == "px" and proc.px is not None:
            return self._send_px(acpi_id, proc.px)
        if kind == "pdc" and proc.pdc is not None:
            return self.upload_pdc(acpi_id, proc.pdc)
        if kind == "cppc" and proc.cppc is not None:
            return self._send_cppc(acpi_id, proc.cppc)
        raise AssertionError(f"plan names {kind} for an entry without it")

    def upload_firmware(self, tables: str | os.PathLike[str] | None = None, *,
                        pdc: int | None = None, only_acpi_ids: Iterable[int] | None = None,
                        cpu_flags: Collection[str] | None = None) -> FirmwareUploadResult:
        """Upload the firmware's own power objects, each physical CPU its own.

        ``tables``: the running machine's (None), a folder or an acpidump file. The ``_PDC``
        handshake with Xen decides what firmware returns (``pdc`` overrides the word). See
        :func:`pyxenplatform.fwupload.upload_firmware`; the AML reader is imported only here.
        """
        from .fwupload import upload_firmware

        return upload_firmware(self, tables, pdc=pdc, only_acpi_ids=only_acpi_ids,
                               cpu_flags=cpu_flags)

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
