"""Boot Xen with a Linux dom0 under QEMU and run commands in that dom0.

    with XenVM.boot() as vm:
        result = vm.run("xenpm get-cpuidle-states")
        assert result.returncode == 0, result.output

What boots (prepared by ``tests/xen/prepare.py`` into its cache folder): QEMU's multiboot loader
starts Xen (``release``: 4.17 from Debian 12, 4.20 from Debian 13, 4.22.0 built from upstream),
which starts Debian 12's kernel as a PV dom0 with a busybox initramfs (``init.sh``); ``xenpm`` in
dom0 is that release's. dom0's root is this machine's root, shared read-only over virtio-9p under a
tmpfs overlay: the interpreter running the tests, the repository and the cache have the same paths
inside, and nothing dom0 writes reaches the host. dom0 has its own empty tmpfs ``/tmp``, so files
under the host's ``/tmp`` (pytest's ``tmp_path``) are not visible inside; use
:meth:`XenVM.write_file`. The exceptions are the repository, the interpreter's prefixes and the
cache when they live under the host's ``/tmp`` (a ``git clone`` there): init.sh binds them back,
read-only.

Commands travel over a virtio-serial port to ``agent.py`` (PID 1 in dom0) as JSON lines. Why this
channel: the serial console carries Xen's and the kernel's messages too, which can interleave with a
command's output at any byte, and a 9p-shared writable folder needs polling and trusts 9p's caching;
a virtio-serial port is a private, ordered byte stream with no such noise, so exit status, stdout and
stderr arrive exactly. The console still goes to a file, for ``console_log`` and error messages.
"""

from __future__ import annotations

import base64
import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from .prepare import DEFAULT_RELEASE, QEMU, RELEASES, Layout

REPO = Path(__file__).resolve().parents[2]
AGENT = Path(__file__).resolve().parent / "agent.py"
PORT_NAME = "org.pyxenplatform.agent"  # the name agent.py looks for

# An Intel family-6 model with ARAT and x2APIC: Xen's check_cx keeps C1 (FFH) and C2/C3 (SYSTEM_IO)
# for it; `-cpu max` crashes the PV dom0, and with an AMD-looking CPU only C1 survives.
DEFAULT_CPU = "qemu64,+x2apic,+arat,vendor=GenuineIntel,family=6,model=42"
# loglvl=all: Xen's own messages ("No CPU for ACPI ID ...") reach the console, for tests to check.
DEFAULT_XEN_CMDLINE = (
    "console=com1 com1=115200,8n1 dom0_mem=1024M,max:1024M cpufreq=xen loglvl=all guest_loglvl=all"
)
MEMORY_MB = 2048  # dom0's 1024M plus room for Xen
# The guest enforces a command's timeout and reports back; the host waits this much longer before
# it decides the VM itself is stuck.
HOST_MARGIN = 30.0
POWEROFF_WAIT = 10.0


class XenVMError(RuntimeError):
    """The VM did not boot, died, or stopped answering (the message ends with the console)."""


class CommandTimeout(XenVMError):
    """A command outlived its timeout; it was killed, the VM is still usable."""

    def __init__(self, message: str, result: Result) -> None:
        super().__init__(message)
        self.result = result  # what the command printed before it was killed


@dataclass(frozen=True)
class Result:
    returncode: int  # negative: killed by that signal
    stdout: str
    stderr: str
    seconds: float  # wall time seen by the host, round trip included

    @property
    def output(self) -> str:
        """stdout then stderr (two pipes: their relative order is lost)."""
        return self.stdout + self.stderr


def _die_with_parent() -> None:
    # Runs in QEMU's process before exec: if the test process dies without cleaning up (SIGKILL,
    # crash), the kernel kills QEMU too instead of leaving it running on both cores.
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _hidden_by_dom0_tmp(cache: Path) -> list[str]:
    """What dom0 needs that lives under the host's /tmp, which dom0's own tmpfs /tmp would hide.

    The repository (a ``git clone`` into /tmp), the interpreter's prefixes (a venv in it) and the
    cache; init.sh binds each back from the host's root. Nested paths are left to their parent.
    """
    paths = {os.path.realpath(p) for p in (REPO, sys.prefix, sys.base_prefix, cache)}
    under_tmp = sorted(p for p in paths if p.startswith("/tmp/"))
    return [p for p in under_tmp if not any(p.startswith(q + "/") for q in under_tmp if q != p)]


def _module_arg(*parts: str) -> str:
    # A multiboot module string is "file args"; QEMU splits modules on ",", and reads ",," as ",".
    return " ".join(parts).replace(",", ",,")


class XenVM:
    """A running Xen + dom0. Use :meth:`boot` in a ``with`` block, or call :meth:`close`."""

    def __init__(
        self, process: subprocess.Popen[bytes], workdir: Path, layout: Layout, release: str
    ) -> None:
        self._process = process
        self._workdir = workdir
        self._layout = layout
        self.release = release  # "4.17", "4.20", "4.22"
        self._connection: socket.socket | None = None
        self._buffer = b""
        self._final_console: str | None = None
        self.boot_seconds = 0.0
        self.commands = 0  # how many run() calls, and their total wall time: for timing reports
        self.command_seconds = 0.0

    @classmethod
    def boot(
        cls,
        *,
        release: str = DEFAULT_RELEASE,
        cpus: int = 2,
        cpu_model: str = DEFAULT_CPU,
        xen_cmdline: str = DEFAULT_XEN_CMDLINE,
        acpi_tables: Sequence[Path] = (),
        timeout: float = 600.0,
    ) -> XenVM:
        """Start QEMU and wait until dom0's agent answers; XenVMError with the console if not.

        `release`: which Xen boots, one of RELEASES; `xen_cmdline`: Xen's command line, e.g.
        ``DEFAULT_XEN_CMDLINE.replace("cpufreq=xen", "cpufreq=hwp")``. `acpi_tables`: compiled
        tables (an SSDT from ``iasl``) QEMU adds to the firmware's ACPI tables (``-acpitable``):
        Xen, dom0's kernel and /sys/firmware/acpi/tables see them.
        """
        if release not in RELEASES:
            raise XenVMError(f"Xen {release!r}: the tests boot {', '.join(RELEASES)}")
        layout = Layout.from_env()
        reason = layout.missing()
        qemu = shutil.which(QEMU)
        if reason or not qemu:
            raise XenVMError(f"{reason or f'no {QEMU}'}: run `python3 tests/xen/prepare.py`")
        # The agent runs on the real interpreter binary: init.sh checks it before
        # switch_root, where a venv's absolute symlink cannot resolve yet.
        python = os.path.realpath(sys.executable)
        dom0_cmdline = [
            "console=hvc0",
            "earlyprintk=xen",
            # Not kernel parameters: the kernel hands them to init.sh as environment variables.
            f"pyxen_python={python}",
            f"pyxen_agent={AGENT}",
            f"pyxen_cache={layout.root}",
            f"pyxen_keep={':'.join(_hidden_by_dom0_tmp(layout.root))}",
        ]
        for path in (python, str(AGENT), str(layout.root), sys.prefix, sys.base_prefix):
            if any(char.isspace() or char == ":" for char in path):
                raise XenVMError(f"a kernel parameter cannot hold this path: {path!r}")

        workdir = Path(tempfile.mkdtemp(prefix="pyxenplatform-vm-"))
        argv = [
            qemu,
            "-nodefaults",
            "-no-user-config",
            "-display", "none",
            "-no-reboot",  # a Xen or dom0 crash (both reboot) ends QEMU: fail fast, not loop
            "-machine", "pc",
            "-accel", "tcg",  # /dev/kvm may exist but is not usable on these machines
            "-cpu", cpu_model,
            "-smp", str(cpus),
            "-m", str(MEMORY_MB),
            "-kernel", str(layout.xen(release)),
            "-append", xen_cmdline,
            "-initrd", f"{_module_arg(str(layout.kernel), *dom0_cmdline)},{layout.initrd}",
            "-chardev", f"file,id=console,path={workdir / 'console.log'}",
            "-serial", "chardev:console",
            "-virtfs", "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap",
            "-device", "virtio-serial-pci",
            "-chardev", f"socket,id=agent,path={workdir / 'agent.sock'}",
            "-device", f"virtserialport,chardev=agent,name={PORT_NAME}",
        ]  # fmt: skip
        for table in acpi_tables:
            if "," in str(table):  # QEMU splits -acpitable's options on ","
                raise XenVMError(f"-acpitable cannot take a path with a comma: {table}")
            argv += ["-acpitable", f"file={table}"]
        # We listen and QEMU connects at start, so the host end is open before the guest's agent
        # opens the port (a virtio port reads as EOF while its host end is not connected).
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        start = time.monotonic()
        vm: XenVM | None = None
        try:
            listener.bind(str(workdir / "agent.sock"))
            listener.listen(1)
            with open(workdir / "qemu.log", "wb") as qemu_log:
                process = subprocess.Popen(
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=qemu_log,
                    stderr=subprocess.STDOUT,
                    preexec_fn=_die_with_parent,
                )
            vm = cls(process, workdir, layout, release)
            vm._connection = vm._accept(listener, start + timeout)
            ready = vm._receive(start + timeout, waiting_for="dom0 to boot")
            if ready.get("op") != "ready":
                raise vm._error(f"unexpected first message from the agent: {ready}")
        except BaseException:
            if vm is not None:
                vm.close()  # kills QEMU, removes workdir
            shutil.rmtree(workdir, ignore_errors=True)
            raise
        finally:
            listener.close()
        vm.boot_seconds = time.monotonic() - start
        return vm

    def run(
        self,
        command: str,
        *,
        user: str = "root",
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
        timeout: float = 120.0,
    ) -> Result:
        """Run a shell command in dom0 as `user`, in `cwd` (default: the repository).

        The environment is PATH (the cache's xenpm, then this interpreter as ``python3``, then the
        usual), PYTHONPATH=the repository, PYTHONDONTWRITEBYTECODE=1, LANG=C.UTF-8, HOME/USER of
        `user`, updated with `env`. Raises CommandTimeout after `timeout` seconds.
        """
        base = {
            "PATH": os.pathsep.join(
                [str(self._layout.bin(self.release)), str(Path(sys.executable).parent)]
                + ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"]
            ),
            "PYTHONPATH": str(REPO),
            "PYTHONDONTWRITEBYTECODE": "1",  # .pyc files would only land in the tmpfs overlay
            "LANG": "C.UTF-8",
            "TERM": "dumb",
        }
        request = {
            "op": "run",
            "command": command,
            "user": user,
            "env": {**base, **(env or {})},
            "cwd": cwd or str(REPO),
            "timeout": timeout,
        }
        start = time.monotonic()
        reply = self._call(request, timeout + HOST_MARGIN, waiting_for=f"`{command}`")
        result = Result(reply["returncode"], reply["stdout"], reply["stderr"], time.monotonic() - start)
        self.commands += 1
        self.command_seconds += result.seconds
        if reply["timed_out"]:
            raise CommandTimeout(f"`{command}` timed out after {timeout} s:\n{result.output}", result)
        return result

    def write_file(self, path: str, data: bytes | str, *, mode: int = 0o644) -> None:
        """Create or replace a file in dom0 (parents created), e.g. under /tmp."""
        raw = data.encode() if isinstance(data, str) else data
        request = {"op": "write", "path": path, "data": base64.b64encode(raw).decode(), "mode": mode}
        self._call(request, HOST_MARGIN, waiting_for=f"writing {path}")

    @property
    def console_log(self) -> str:
        """Everything Xen, dom0's kernel, init and the agent printed on the serial console so far."""
        if self._final_console is not None:
            return self._final_console
        try:
            raw = (self._workdir / "console.log").read_bytes()
        except OSError:
            return ""
        # Xen ends lines with "\r\n", dom0's (relayed by Xen) with "\r\r\n". Bytes, not
        # read_text(): its universal newlines would make "\r\r\n" two lines.
        return raw.decode(errors="replace").replace("\r", "")

    def close(self) -> None:
        """Power the VM off (QEMU is killed if that takes too long); safe to call twice."""
        if self._final_console is not None:
            return
        if self._connection is not None and self._process.poll() is None:
            try:  # the polite way: the agent syncs and calls reboot(POWER_OFF)
                self._call({"op": "poweroff"}, 5.0, waiting_for="power-off")
                self._process.wait(POWEROFF_WAIT)
            except (XenVMError, OSError, subprocess.TimeoutExpired):
                pass
        if self._process.poll() is None:
            self._process.kill()
            self._process.wait()
        if self._connection is not None:
            self._connection.close()
        self._final_console = self.console_log
        shutil.rmtree(self._workdir, ignore_errors=True)

    def __enter__(self) -> XenVM:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _call(self, request: dict[str, Any], seconds: float, *, waiting_for: str) -> dict[str, Any]:
        if self._connection is None or self._final_console is not None:
            raise XenVMError("the VM is closed")
        deadline = time.monotonic() + seconds
        try:
            try:
                self._connection.sendall(json.dumps(request).encode() + b"\n")
                reply = self._receive(deadline, waiting_for=waiting_for)
            except OSError as error:
                raise self._error(f"lost the agent while waiting for {waiting_for}: {error}") from error
        except XenVMError:
            if request["op"] != "poweroff":
                self.close()  # we no longer know what state it is in: do not reuse it
            raise
        if "error" in reply:
            raise XenVMError(f"the agent could not do {waiting_for}: {reply['error']}")
        return reply

    def _accept(self, listener: socket.socket, deadline: float) -> socket.socket:
        while True:
            self._check_alive("QEMU to connect")
            listener.settimeout(max(0.01, min(0.5, deadline - time.monotonic())))
            try:
                connection, _ = listener.accept()
                return connection
            except TimeoutError:
                if time.monotonic() > deadline:
                    raise self._error("timed out waiting for QEMU to connect") from None

    def _receive(self, deadline: float, *, waiting_for: str) -> dict[str, Any]:
        """The next JSON line from the agent; XenVMError if QEMU exits or `deadline` passes."""
        assert self._connection is not None
        while b"\n" not in self._buffer:
            self._check_alive(waiting_for)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise self._error(f"timed out waiting for {waiting_for}")
            # Short slices: notice at once when QEMU exits (e.g. Xen or dom0 crashed).
            self._connection.settimeout(min(0.5, remaining))
            try:
                chunk = self._connection.recv(65536)
            except TimeoutError:
                continue
            if not chunk:
                raise self._error(f"QEMU closed the agent's channel while waiting for {waiting_for}")
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        reply: dict[str, Any] = json.loads(line)
        return reply

    def _check_alive(self, waiting_for: str) -> None:
        code = self._process.poll()
        if code is not None:
            raise self._error(f"QEMU exited ({code}) while waiting for {waiting_for}")

    def _error(self, message: str, lines: int = 60) -> XenVMError:
        tail = "\n".join(self.console_log.splitlines()[-lines:])
        try:
            qemu = (self._workdir / "qemu.log").read_text(errors="replace").strip()
        except OSError:
            qemu = ""
        qemu_part = f"\n--- QEMU said ---\n{qemu}" if qemu else ""
        return XenVMError(f"{message}{qemu_part}\n--- last {lines} console lines ---\n{tail}")
