"""``upload --verify``: after uploading, read back what Xen holds and name every difference.

Xen answers 0 to uploads it then ignores or trims, so the answer alone proves little. Here each
upload Xen accepted is compared with what it holds afterwards (:mod:`pyxenplatform.status`), and
every difference gets the likely cause in words a user can act on. The causes mirrored:

- ``check_cx`` (``xen/arch/x86/acpi/cpu_idle.c``) drops C-states silently: an FFH hint beyond the
  CPU's MWAIT sub-states, C3 without bus-master control, a state the CPU's timer cannot wake from;
- ``set_cx_pminfo`` returns 0 and stores nothing when Xen's own idle driver owns idle
  (``mwait-idle`` on the Intel models it knows, AMD families 15h-17h and Hygon 18h built-in
  tables); seen here as a C-state count the upload did not change;
- until Xen CPU 0's C-states are in, Xen shows 2 placeholder states and uses none of the uploaded;
- ``set_px_pminfo`` (``xen/drivers/cpufreq/cpufreq.c``) ignores a second ``_PSS`` for a CPU that
  already has P-states (commit 2f36bef3d8, in 4.19.3, 4.20.1 and 4.21+);
- 4.21+'s ``do_platform_op`` answers 0 to ``XEN_PM_PX`` and drops it when the cpufreq driver is not
  in P-state mode (``cpufreq=amd-cppc``, ``hwp``); 4.20+ reports HWP's P-states as EOPNOTSUPP.
"""

from __future__ import annotations

import errno as errnos
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from .platforms import default_spec, parse
from .results import plain
from .sim import SimulatedXen
from .status import CpuStatus

if TYPE_CHECKING:
    from .hypervisor import Hypervisor, TableResult, UploadResult
    from .model import PowerTable

IGNORED_BY_IDLE_DRIVER = ("Xen's own idle driver owns this CPU (mwait-idle, or AMD's built-in "
                          "C-state table): the upload is ignored; boot Xen with "
                          "mwait-idle=0 to use the uploaded C-states")
PLACEHOLDERS = ("Xen CPU 0's C-states are not uploaded: Xen shows 2 placeholder states and uses "
                "no uploaded C-state on any CPU until they are; upload for CPU 0's ACPI id too")
SECOND_PSS = ("Xen ignores a second _PSS for a CPU that already has P-states (since 4.19.3 and "
              "4.20.1): it keeps the first; only _PPC changes at run time, a new table needs a "
              "reboot")


@dataclass(frozen=True)
class Mismatch:
    """One upload whose data Xen does not hold as sent."""

    acpi_id: int
    kind: str
    sent: str
    held: str
    cause: str

    def __str__(self) -> str:
        return f"ACPI id {self.acpi_id} {self.kind}: sent {self.sent}, Xen holds {self.held}: " \
               f"{self.cause}"

    def to_json(self) -> dict[str, object]:
        return {"acpi_id": self.acpi_id, "kind": self.kind, "sent": self.sent,
                "held": self.held, "cause": self.cause}


def verify_uploads(hv: Hypervisor, results: Sequence[UploadResult],
                   before: Sequence[CpuStatus] | None = None) -> list[Mismatch]:
    """What Xen holds now compared with ``results`` (an upload's, in order); one
    :class:`Mismatch` per difference, none when Xen holds everything sent. ``before``: the
    :meth:`~pyxenplatform.hypervisor.Hypervisor.status` read before uploading, which tells an
    ignored upload from a trimmed one."""
    return check(results, hv.status(), before)


def check(results: Sequence[UploadResult], after: Sequence[CpuStatus],
          before: Sequence[CpuStatus] | None = None,
          predicted: Sequence[UploadResult] = ()) -> list[Mismatch]:
    """:func:`verify_uploads` on statuses already read; ``predicted``: the same upload on the
    simulated Xen (its ``kept``/``dropped`` explain a trim Xen was expected to make)."""
    now = {s.cpu.acpi_id: s for s in after}
    earlier = {s.cpu.acpi_id: s for s in before or ()}
    expected = {(r.acpi_id, r.kind): r for r in predicted}
    found: list[Mismatch] = []
    for result in results:
        status = now.get(result.acpi_id)
        if not result.ok or status is None:
            continue  # a refusal is reported as such; an unknown ACPI id was refused
        if result.kind == "cx":
            guess = result if result.kept is not None else expected.get((result.acpi_id, "cx"))
            found += _check_cx(result, status, earlier.get(result.acpi_id), guess)
        elif result.kind == "px":
            found += _check_px(result, status)
    if any(r.kind == "cx" and r.ok for r in results) and any(s.placeholder for s in after):
        boot = next((s for s in after if s.cpu.xen_cpuid == 0), after[0])
        count = boot.cx.count if boot.cx else 0
        found.append(Mismatch(boot.cpu.acpi_id, "cx", "C-states for other CPUs",
                              f"{count} states, shown as placeholders", PLACEHOLDERS))
    return found


def with_held(results: Sequence[UploadResult], after: Sequence[CpuStatus]) -> list[UploadResult]:
    """``results`` with ``held`` filled in from the read-back: how many states Xen holds."""
    now: Mapping[int, CpuStatus] = {s.cpu.acpi_id: s for s in after}
    filled = []
    for result in results:
        status = now.get(result.acpi_id)
        held = None
        if status is not None and result.kind == "cx" and status.cx is not None:
            held = status.cx.count
        elif status is not None and result.kind == "px":
            held = status.px.total if status.px is not None else 0
        filled.append(replace(result, held=held) if held is not None else result)
    return filled


def _check_cx(result: UploadResult, status: CpuStatus, before: CpuStatus | None,
              guess: UploadResult | None) -> list[Mismatch]:
    states = plain(result.sent).get("states")  # lists, however the result was made
    names = [str(name) for name in states] if isinstance(states, list) else []
    sent = len(names)
    expected = 1 + sent  # C0, then every state sent
    if status.cx is None:
        why = status.cx_unavailable.message if status.cx_unavailable else "nothing"
        return [Mismatch(result.acpi_id, "cx", f"{sent} C-states", "none readable", why)]
    held = status.cx.count
    if held >= expected:
        return []
    text = (f"{sent} C-states ({', '.join(names)})", f"{held - 1} (+C0)")
    as_predicted = guess is not None and guess.kept is not None and len(guess.kept) == held
    unchanged = before is not None and before.cx is not None and before.cx.count == held
    if unchanged and not as_predicted:
        # Counts alone cannot tell an ignored upload from one trimmed exactly as the last.
        return [Mismatch(result.acpi_id, "cx", *text, IGNORED_BY_IDLE_DRIVER + "; or, if this "
                         "table was uploaded before, Xen dropped the same state(s) again "
                         "(check_cx)")]
    reasons = "; ".join(guess.dropped) if guess is not None and as_predicted else (
        "an FFH hint beyond the CPU's MWAIT sub-states, C3 without bus-master control, or a "
        "deep state without ARAT; `upload --dry-run --platform host -v` shows which")
    cause = f"Xen dropped {expected - held} state(s) it cannot use on this CPU (check_cx: {reasons})"
    return [Mismatch(result.acpi_id, "cx", *text, cause)]


def _check_px(result: UploadResult, status: CpuStatus) -> list[Mismatch]:
    described = plain(result.sent)  # lists, however the result was made
    if described.get("flags") == ["PPC"]:
        return []  # a limit change only: nothing new to hold
    sent_states = described.get("states")
    sent = sent_states if isinstance(sent_states, int) else 0
    frequencies = described.get("frequencies_mhz")
    if status.px is None:
        why = status.px_unavailable
        return [Mismatch(result.acpi_id, "px", f"{sent} P-states", "none", _px_gone(why, status))]
    held = status.px
    if held.total == sent and (not isinstance(frequencies, list)
                               or list(held.frequencies_mhz) == frequencies):
        return []
    return [Mismatch(result.acpi_id, "px", f"{sent} P-states {frequencies or ''}".strip(),
                     f"{held.total} P-states {list(held.frequencies_mhz)}", SECOND_PSS)]


def _px_gone(why: object, status: CpuStatus) -> str:
    err = getattr(why, "errno", None)
    driver = status.cpufreq.driver if status.cpufreq else None
    if err == errnos.EOPNOTSUPP or driver == "hwp":
        return "the cpufreq driver is hwp: P-states are not used (Xen drives the CPU itself)"
    if driver == "amd-cppc" or err == errnos.ENODEV:
        return ("the cpufreq driver is not in P-state mode (hwp or amd-cppc, or cpufreq= is not "
                "xen): P-states are not used; Xen 4.21+ answers 0 to the upload and keeps "
                "nothing; boot Xen with cpufreq=xen to use them")
    return ("Xen answered 0 but initialised no P-states for this CPU: Xen 4.21+ drops P-state "
            "uploads when its cpufreq driver is not in P-state mode (e.g. cpufreq=amd-cppc)")


def verified_upload(hv: Hypervisor, table: PowerTable,
                    only_acpi_ids: Iterable[int] | None = None, platform_spec: str | None = None
                    ) -> tuple[TableResult, list[Mismatch]]:
    """Upload ``table`` between two read-backs; the results (``held`` filled) and the
    differences between what was sent and what Xen holds. On real Xen the same upload is
    first simulated for ``platform_spec`` (default: this host, see
    :mod:`pyxenplatform.platforms`) to tell an expected trim from an ignored upload."""
    before = hv.status()
    predicted: list[UploadResult] = []
    if not isinstance(hv.transport, SimulatedXen):  # the simulated Xen predicts for itself
        platform = replace(parse(platform_spec or default_spec()), online_cpus=len(before))
        sim = SimulatedXen([s.cpu for s in before], platform=platform,
                           cpufreq_driver=platform.eist or platform.hw_pstate)
        predicted = type(hv)(sim).upload_table(table, only_acpi_ids=only_acpi_ids).results
    result = hv.upload_table(table, only_acpi_ids=only_acpi_ids)
    after = hv.status()
    result.results[:] = with_held(result.results, after)
    return result, check(result.results, after, before, predicted)
