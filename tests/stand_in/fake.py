"""Run a program against a fake ``/dev/xen/privcmd`` (``fakeprivcmd.c``).

The interposer is an LD_PRELOAD ``ioctl()`` that decodes each
``IOCTL_PRIVCMD_HYPERCALL`` with Xen's own headers, answers it as Xen's
``do_platform_op`` would and logs one JSON line per hypercall.  This module
builds it and runs a subprocess under it; it does not import pytest so that
it can be used from a shell too.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

STAND_IN_DIR = Path(__file__).resolve().parent
SOURCE = STAND_IN_DIR / "fakeprivcmd.c"
# The benchmark's stand-in: answers with almost no work (see its comment).
BENCH_SOURCE = STAND_IN_DIR / "benchprivcmd.c"
REPO_ROOT = STAND_IN_DIR.parents[1]
XEN_PLATFORM_H = Path("/usr/include/xen/platform.h")
# -ldl only matters before glibc 2.34, where dlsym() lived in libdl.
CFLAGS = ("-shared", "-fPIC", "-O1", "-Wall", "-Werror")
LIBS = ("-ldl",)


def compiler() -> str | None:
    """The C compiler to use: ``$CC`` or ``cc``, if it is on PATH."""
    return shutil.which(os.environ.get("CC", "cc"))


def unavailable_reason() -> str | None:
    """Why the stand-in cannot be built here, or None if it can."""
    if compiler() is None:
        return "fake privcmd stand-in needs a C compiler (cc or $CC)"
    if not XEN_PLATFORM_H.is_file():
        return f"fake privcmd stand-in needs Xen's public headers ({XEN_PLATFORM_H}, Debian libxen-dev)"
    return None


def build_interposer(build_dir: Path, source: Path = SOURCE,
                     include: Path | None = None) -> Path:
    """Compile ``source`` (``fakeprivcmd.c``) into ``build_dir``; reuse a build of the same source.
    ``include``: a directory searched before /usr/include (Xen 4.21's platform.h
    over the installed headers, ``tests/layout.py`` ``overlay_include``).

    The file name carries a hash of the source, flags and compiler, so an
    edited source never runs as a stale build.
    """
    cc = compiler()
    if cc is None:
        raise RuntimeError(unavailable_reason())
    key = hashlib.sha256(source.read_bytes())
    key.update(repr((cc, CFLAGS, LIBS, str(include))).encode())
    target = build_dir / f"{source.stem}-{key.hexdigest()[:16]}.so"
    if target.exists():
        return target
    build_dir.mkdir(parents=True, exist_ok=True)
    # Build beside the target and rename: a parallel worker never loads half a file.
    fd, tmp = tempfile.mkstemp(dir=build_dir, suffix=".so.tmp")
    os.close(fd)
    try:
        done = subprocess.run(
            [cc, *CFLAGS, *(["-I", str(include)] if include else []), "-o", tmp, str(source),
             *LIBS],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"building {source.name} failed:\n{done.stderr}")
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


@dataclass
class FakeRun:
    """What a program did under the fake privcmd: its exit, output and hypercalls."""

    returncode: int
    stdout: str
    stderr: str
    records: list[dict[str, Any]]
    """One decoded JSON line per hypercall, in issue order (see fakeprivcmd.c)."""


def _prepend_path(value: str, existing: str | None) -> str:
    return value if not existing else f"{value}{os.pathsep}{existing}"


def run_with_fake_privcmd(
    argv: Sequence[str],
    *,
    tmp_path: Path,
    cpus: str | None = None,
    errno: str | None = None,
    allow_unlocked: bool = False,
    env: Mapping[str, str] | None = None,
    interposer: Path | None = None,
    timeout: float = 120.0,
) -> FakeRun:
    """Run ``argv`` with the fake privcmd preloaded and return what it did.

    ``cpus`` is ``FAKEPRIVCMD_CPUS`` ("xen_cpuid:apic_id:acpi_id[:offline],..."),
    ``errno`` is ``FAKEPRIVCMD_ERRNO`` ("cmd[/type][:acpi_id]=errno,..."),
    ``env`` overrides anything set here.  ``interposer`` is a library from
    ``build_interposer``; without one it is built (once) under ``tmp_path``.
    """
    library = interposer or build_interposer(tmp_path / "fakeprivcmd-build")
    device = tmp_path / "privcmd"
    device.touch()
    # A fresh log per run, so records are this run's and only this run's.
    log_fd, log_name = tempfile.mkstemp(dir=tmp_path, prefix="fakeprivcmd-", suffix=".jsonl")
    os.close(log_fd)

    # Whatever the caller's shell set for the stand-in must not leak in.
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("FAKEPRIVCMD_")}
    child_env.update(
        LD_PRELOAD=f"{library} {os.environ.get('LD_PRELOAD', '')}".strip(),
        FAKEPRIVCMD_PATH=str(device),
        FAKEPRIVCMD_LOG=log_name,
        PYXENPLATFORM_PRIVCMD=str(device),
        PYTHONPATH=_prepend_path(str(REPO_ROOT), os.environ.get("PYTHONPATH")),
    )
    if cpus is not None:
        child_env["FAKEPRIVCMD_CPUS"] = cpus
    if errno is not None:
        child_env["FAKEPRIVCMD_ERRNO"] = errno
    if allow_unlocked:
        child_env["FAKEPRIVCMD_ALLOW_UNLOCKED"] = "1"
    child_env.update(env or {})

    done = subprocess.run(
        list(argv),
        env=child_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    with open(log_name, encoding="ascii") as log:
        records: list[dict[str, Any]] = [json.loads(line) for line in log]
    return FakeRun(done.returncode, done.stdout, done.stderr, records)
