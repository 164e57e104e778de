"""Human output of the command line: upload results (``show``: :mod:`pyxenplatform.show`).

The ``--json`` output is :mod:`pyxenplatform.report`'s; this module is for a
person reading a terminal or a log: one line per group of identical results,
and a summary line per kind.
Everything that came from a file is quoted (:func:`quote`) so a newline or an
escape sequence in it cannot split a line or fake one.
"""

from __future__ import annotations

import errno as errnos
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .results import TableResult, UploadResult


def quote(value: object) -> str:
    """``value`` safe inside one line: printable ASCII as is, the rest escaped."""
    text = str(value)
    if text.isprintable() and text.isascii():
        return text
    return ascii(text)[1:-1]


def cstate_name(cstate_type: int) -> str:
    return f"C{cstate_type}"


# ------------------------------------------------------------------ uploads


@dataclass(frozen=True)
class Tally:
    """Per kind: ops sent, accepted, refused; C-states kept and dropped."""

    sent: int = 0
    ok: int = 0
    refused: int = 0
    kept: int = 0
    dropped: int = 0


def tally(results: Iterable[UploadResult]) -> dict[str, Tally]:
    counts: dict[str, list[int]] = {}
    for r in results:
        c = counts.setdefault(r.kind, [0, 0, 0, 0, 0])
        c[0] += 1
        c[1 if r.ok else 2] += 1
        c[3] += len([t for t in r.kept or () if t != 0])  # C0 is Xen's own, not sent
        c[4] += len(r.dropped)
    return {kind: Tally(*c) for kind, c in counts.items()}


def summary_line(results: Sequence[UploadResult], simulated: bool) -> str:
    """``summary (simulated Xen): cx 4096 sent, 4096 ok, 0 refused; C-states 8192 kept, 0 dropped``"""
    parts = []
    for kind, t in tally(results).items():
        part = f"{kind} {t.sent} sent, {t.ok} ok, {t.refused} refused"
        if kind == "cx" and simulated:
            part += f", C-states {t.kept} kept, {t.dropped} dropped"
        parts.append(part)
    xen = "simulated Xen" if simulated else "Xen"
    return f"summary ({xen}): " + ("; ".join(parts) if parts else "nothing to send")


def result_lines(result: TableResult, simulated: bool) -> Iterator[str]:
    """One line per group of ACPI ids with the same outcome, then the summary."""
    xen = "simulated Xen" if simulated else "Xen"
    groups: dict[str, list[int]] = {}
    for r in result.results:
        groups.setdefault(_outcome(r, xen), []).append(r.acpi_id)
    for outcome, ids in groups.items():
        yield f"{id_ranges(ids)}: {outcome}"
    yield summary_line(result.results, simulated)


def _outcome(r: UploadResult, xen: str) -> str:
    """``cx count=2 states=C1,C2 -> simulated Xen: ok; holds C0 C1 C2``: every line says
    whose answer it is, so a pasted dry run cannot pass for a real upload."""
    name = errnos.errorcode.get(r.errno, str(r.errno))
    line = f"{r.kind} {describe_sent(r.sent)} -> {xen}: " + ("ok" if r.ok else f"refused ({name})")
    if r.kept is not None:
        line += "; holds " + " ".join(cstate_name(t) for t in r.kept)
    if r.dropped:
        line += "; dropped: " + "; ".join(quote(d) for d in r.dropped)
    if r.pdc_out is not None:
        line += f"; capabilities now {r.pdc_out:#x}"
    return line


def describe_sent(sent: Mapping[str, object]) -> str:
    parts = []
    for key, value in sent.items():
        if key == "type":
            continue
        if key == "words" and isinstance(value, (list, tuple)):
            value = "[" + ", ".join(f"{w:#x}" for w in value) + "]"
        elif isinstance(value, (list, tuple)):
            value = ",".join(str(v) for v in value)
        parts.append(f"{key}={value}")
    return " ".join(parts)


def id_ranges(ids: Sequence[int]) -> str:
    """``ACPI id 3`` / ``ACPI ids 0-3, 8, 10-11`` (in the given order)."""
    if len(ids) == 1:
        return f"ACPI id {ids[0]}"
    runs: list[list[int]] = []
    for i in ids:
        if runs and i == runs[-1][1] + 1:
            runs[-1][1] = i
        else:
            runs.append([i, i])
    text = ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in runs)
    return f"ACPI ids {text}"
