"""The command agent inside the test dom0: PID 1 once init.sh has switched to the real root.

It talks to tests/xen/vm.py over a virtio-serial port, one JSON object per line each way:

- at start it sends ``{"op": "ready", ...}``;
- ``{"op": "run", "command", "user", "cwd", "env", "timeout"}``: runs the shell command and answers
  ``{"returncode", "stdout", "stderr", "timed_out"}`` (``{"error": ...}`` if it could not start it);
- ``{"op": "write", "path", "data" (base64), "mode"}``: writes a file, answers ``{}``;
- ``{"op": "poweroff"}``: answers ``{}`` and powers the machine off.

Standard library only; it runs on the interpreter of the host, shared read-only into dom0.
"""

from __future__ import annotations

import base64
import ctypes
import json
import os
import pwd
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

PORT_NAME = "org.pyxenplatform.agent"  # vm.py names the virtserialport so
RB_POWER_OFF = 0x4321FEDC  # linux/reboot.h LINUX_REBOOT_CMD_POWER_OFF


def log(message: str) -> None:
    # PID 1's stdout is the console, which the host keeps in XenVM.console_log.
    print(f"pyxen-agent: {message}", flush=True)


def find_port() -> str:
    """The /dev node of our virtio-serial port. No udev here, so no /dev/virtio-ports/<name>."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for entry in Path("/sys/class/virtio-ports").glob("*"):
            if (entry / "name").read_text().strip() == PORT_NAME:
                return f"/dev/{entry.name}"
        time.sleep(0.1)  # the port is announced asynchronously after the module loads
    raise SystemExit(f"no virtio port named {PORT_NAME}")


def open_paths_to_everyone(paths: list[str]) -> None:
    """Let other users reach the interpreter, the repository and the cache.

    The host's /root is 0700, and the interpreter (pyenv) and the cache usually live below it;
    tests run commands as `nobody` to see privcmd refuse them, not to see python3 missing. This
    changes only dom0's overlay (a tmpfs layer), never the host.
    """
    for path in paths:
        for directory in Path(path).parents:
            mode = directory.stat().st_mode
            if not mode & stat.S_IXOTH:
                directory.chmod(stat.S_IMODE(mode) | stat.S_IXOTH)


def run(request: dict[str, Any]) -> dict[str, Any]:
    user = pwd.getpwnam(request["user"])
    env = {"HOME": user.pw_dir, "USER": user.pw_name, "LOGNAME": user.pw_name, **request["env"]}
    # Unprivileged users get no supplementary groups: exactly what `nobody` has on a real host.
    privileged = user.pw_uid == os.getuid()
    process = subprocess.Popen(
        ["/bin/sh", "-c", request["command"]],
        cwd=request["cwd"],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        user=None if privileged else user.pw_uid,
        group=None if privileged else user.pw_gid,
        extra_groups=None if privileged else [],
        # Its own process group, so a timeout kills whatever the command started, too.
        start_new_session=True,
    )
    timed_out = False
    try:
        stdout, stderr = process.communicate(timeout=request["timeout"])
    except subprocess.TimeoutExpired:
        timed_out = True
        os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
    return {
        "returncode": process.returncode,
        "stdout": stdout.decode(errors="replace"),
        "stderr": stderr.decode(errors="replace"),
        "timed_out": timed_out,
    }


def write(request: dict[str, Any]) -> dict[str, Any]:
    path = Path(request["path"])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(base64.b64decode(request["data"]))
    path.chmod(request["mode"])
    return {}


def reap_orphans() -> None:
    """As PID 1 we inherit every orphaned process: collect the dead ones."""
    try:
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass
    except ChildProcessError:
        pass


def power_off() -> None:
    os.sync()
    libc = ctypes.CDLL(None, use_errno=True)
    libc.reboot(RB_POWER_OFF)
    # Still here: exit anyway. PID 1 exiting panics dom0, Xen reboots, and -no-reboot ends QEMU.
    raise SystemExit(f"reboot(POWER_OFF) failed: errno {ctypes.get_errno()}")


def serve(fd: int) -> None:
    def send(message: dict[str, Any]) -> None:
        data = json.dumps(message).encode() + b"\n"
        while data:
            data = data[os.write(fd, data) :]

    send({"op": "ready", "uname": os.uname().release, "python": sys.version.split()[0]})
    buffer = b""
    while True:
        chunk = os.read(fd, 65536)
        if not chunk:
            # The host end is not connected (yet, or any more): wait instead of spinning.
            time.sleep(0.1)
            continue
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            try:
                request = json.loads(line)
                op = request["op"]
                if op == "run":
                    reply = run(request)
                elif op == "write":
                    reply = write(request)
                elif op == "poweroff":
                    send({})
                    power_off()
                else:
                    reply = {"error": f"unknown op {op!r}"}
            # Reported to the host, which raises it there; PID 1 must not die (kernel panic).
            except Exception as error:
                reply = {"error": f"{type(error).__name__}: {error}"}
            reap_orphans()
            send(reply)


def main() -> None:
    log(f"up, Linux {os.uname().release}")
    # init got these from the kernel command line (see vm.py) and passed them on to us.
    open_paths_to_everyone([os.environ[name] for name in ("pyxen_python", "pyxen_agent", "pyxen_cache")])
    port = find_port()
    fd = os.open(port, os.O_RDWR)
    log(f"serving on {port}")
    serve(fd)


if __name__ == "__main__":
    main()
