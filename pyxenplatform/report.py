"""The ``--json`` contract: one JSON document per run on stdout, for every command.

Every command that takes ``--json`` prints exactly one object, success or
failure, built by :func:`document` and printed by :func:`emit`::

    {"schema": 1, "command": "upload", "version": "0.1.0",
     "ok": true, "exit_code": 0, "simulated": true,
     "warnings": [{"file": "t.toml", "path": "processors[0].cx.states[0]", "message": "..."}],
     "error": null,
     ...the command's own keys ("cpus", "results", "summary", ...)}

On failure ``ok`` is false and ``error`` is an object (:func:`error_json`):
``kind`` (the exception class), ``message`` (the one-line text the human
output prints), ``errno`` and ``errno_name`` (or null), ``file`` and
``path`` (or null), ``op`` and ``acpi_id`` for a hypercall failure.  The exit
code is the same with and without ``--json`` (:func:`exit_code`).

``schema`` changes only when a key is removed or changes meaning; new keys
may appear in any release.  The README documents every command's keys.
"""

from __future__ import annotations

import errno as errnos
import json
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TextIO

from .errors import (
    FirmwareError,
    HypercallError,
    LocalFailure,
    PermissionDenied,
    PrivcmdUnavailable,
    ValidationError,
)

SCHEMA = 1
# The keys every document has (its envelope), in the order they are printed.
COMMON_KEYS = ("schema", "command", "version", "ok", "exit_code", "simulated", "warnings", "error")

EXIT_OK, EXIT_REFUSED, EXIT_USAGE, EXIT_NO_PRIVCMD, EXIT_PERMISSION = 0, 1, 2, 3, 4
# A failure on this machine that is neither bad input nor Xen's answer
# (mlock refused, out of memory...): not reported as "Xen refused".
EXIT_LOCAL = 5
# stdout closed under us (``| head``): 128 + SIGPIPE, as a shell reports a
# command killed by SIGPIPE.
EXIT_BROKEN_PIPE = 141


def exit_code(exc: BaseException) -> int:
    """The exit code of a failure, the same with and without ``--json``."""
    if isinstance(exc, (ValidationError, FirmwareError)):  # bad input: tables, AML
        return EXIT_USAGE
    if isinstance(exc, PrivcmdUnavailable):
        return EXIT_NO_PRIVCMD
    if isinstance(exc, PermissionDenied):
        return EXIT_PERMISSION
    if isinstance(exc, LocalFailure):
        return EXIT_LOCAL
    if isinstance(exc, HypercallError):
        return EXIT_REFUSED
    return EXIT_LOCAL


@dataclass(frozen=True)
class Notice:
    """A warning with where it came from (``file`` and ``path`` when known)."""

    message: str
    file: str | None = None
    path: str | None = None

    def to_json(self) -> dict[str, object]:
        return {"file": self.file, "path": self.path, "message": self.message}

    def __str__(self) -> str:
        where = "".join(f"{part}: " for part in (self.file, self.path) if part)
        return f"{where}{self.message}"


def split_warning(text: str, file: str | None = None) -> Notice:
    """A ``"path: message"`` warning of :func:`~pyxenplatform.rules.check_table`
    (called without ``source``) as a :class:`Notice` of ``file``."""
    head, sep, rest = text.partition(": ")
    if sep and head and " " not in head:  # a key path has no spaces
        return Notice(rest, file, head)
    return Notice(text, file)


def error_json(exc: BaseException) -> dict[str, object]:
    """The ``error`` object of a failed run."""
    err = getattr(exc, "errno", None) if isinstance(exc, OSError) else None
    return {
        "kind": type(exc).__name__,
        "message": str(exc),
        "errno": err,
        "errno_name": errnos.errorcode.get(err, None) if err else None,
        "file": getattr(exc, "source", None) or getattr(exc, "filename", None),
        "path": getattr(exc, "path", None) or None,
        "op": getattr(exc, "op", None),
        "acpi_id": getattr(exc, "acpi_id", None),
    }


def error_object(kind: str, message: str, *, errno: int | None = None,
                 file: str | None = None, path: str | None = None, op: str | None = None,
                 acpi_id: int | None = None) -> dict[str, object]:
    """An ``error`` object for a failure that is not one exception (refusals in results)."""
    return {"kind": kind, "message": message, "errno": errno,
            "errno_name": errnos.errorcode.get(errno, None) if errno else None,
            "file": file, "path": path, "op": op, "acpi_id": acpi_id}


def document(command: str, *, exit_code: int = EXIT_OK, simulated: bool | None = None,
             warnings: Iterable[Notice] = (),
             error: BaseException | Mapping[str, object] | None = None,
             **body: object) -> dict[str, object]:
    """The one document a ``--json`` run prints.

    ``simulated`` says whether the results come from the simulated Xen
    (``--dry-run``), real Xen (false), or no hypervisor at all (null: ``check``).
    ``error``: the exception, or an :func:`error_object`; a failed run
    (``exit_code`` not 0) always gets one.  ``body`` holds the command's own
    keys; they may not reuse the common ones.
    """
    from . import version  # here: only a --json run pays for package metadata

    doc: dict[str, object] = {
        "schema": SCHEMA, "command": command, "version": version.package_version(),
        "ok": exit_code == EXIT_OK and error is None, "exit_code": exit_code,
        "simulated": simulated, "warnings": [w.to_json() for w in warnings],
        "error": _error(error, exit_code),
    }
    assert tuple(doc) == COMMON_KEYS
    clash = doc.keys() & body.keys()
    if clash:
        raise ValueError(f"command keys {sorted(clash)} clash with the common ones")
    doc.update(body)
    return doc


def _error(error: BaseException | Mapping[str, object] | None,
           exit_code: int) -> dict[str, object] | None:
    if isinstance(error, BaseException):
        return error_json(error)
    if error is not None:
        return {**error_object("", ""), **error}
    if exit_code != EXIT_OK:  # the contract: a failed run always says why
        return error_object("Failed", f"the command failed with exit code {exit_code}")
    return None


def failure(command: str, exc: BaseException, *, simulated: bool | None = None,
            warnings: Iterable[Notice] = ()) -> dict[str, object]:
    """The document of a run that failed with ``exc`` (exit code from :func:`exit_code`)."""
    return document(command, exit_code=exit_code(exc), simulated=simulated,
                    warnings=warnings, error=exc)


def emit(doc: Mapping[str, object], out: TextIO | None = None) -> None:
    """Print ``doc`` as one JSON document (indented, keys in insertion order)."""
    stream = out if out is not None else sys.stdout
    # ASCII: a lone surrogate from a file name cannot break the encoding of stdout.
    stream.write(json.dumps(doc, indent=2, ensure_ascii=True) + "\n")
    stream.flush()
