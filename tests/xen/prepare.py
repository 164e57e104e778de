"""Prepare what the real-Xen tests boot: Xen, a dom0 kernel, an initramfs and xenpm.

Run ``python3 tests/xen/prepare.py`` (as root, on Debian 12 amd64). It

- installs ``qemu-system-x86`` with apt-get when ``qemu-system-x86_64`` is missing;
- downloads the Debian packages of Xen 4.17, the Linux kernel, busybox and xenpm with its libraries
  (``apt-get download``) and unpacks them with ``dpkg-deb -x`` into the cache folder, so that no
  kernel or hypervisor gets installed into this machine;
- builds the initramfs (busybox, ``init.sh`` beside this file, the kernel modules dom0 needs).

The cache folder is ``~/.cache/pyxenplatform/xen``, or ``$PYXENPLATFORM_XEN_CACHE``. It is built in
a scratch folder and renamed into place at the end, with a stamp; a complete cache is left alone, so
a second run costs a few milliseconds. A cache made from other inputs (this file, ``init.sh``)
is rebuilt. ``vm.py`` imports :class:`Layout` from here to find the pieces.

Standard library only: this runs before anything else is installed.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

HERE = Path(__file__).resolve().parent
INIT_SCRIPT = HERE / "init.sh"

CACHE_ENV = "PYXENPLATFORM_XEN_CACHE"
QEMU = "qemu-system-x86_64"

# Debian 12 package names. linux-image-amd64 is a metapackage: we fetch the kernel it points at.
KERNEL_METAPACKAGE = "linux-image-amd64"
XEN_PACKAGE = "xen-hypervisor-4.17-amd64"
XEN_UTILS_PACKAGE = "xen-utils-4.17"
BUSYBOX_PACKAGE = "busybox-static"
XENPM_IN_PACKAGE = "usr/lib/xen-4.17/bin/xenpm"
LIBDIR_IN_PACKAGE = "usr/lib/x86_64-linux-gnu"

# What init.sh needs, as module names; their dependencies are added. virtio_pci: the PCI transport;
# virtio_console: the agent's channel; 9pnet_virtio + 9p: the host's root; overlay: a writable root
# over it; xen-privcmd: /dev/xen/privcmd and /dev/xen/hypercall; xenfs: /proc/xen.
MODULES = ("virtio_pci", "virtio_console", "9pnet_virtio", "9p", "overlay", "xen-privcmd", "xenfs")

# Bump when the cache layout changes, so that old caches are rebuilt rather than misread.
LAYOUT_VERSION = 1


def inputs_key() -> str:
    """A digest of everything the cache is made from, compared with the stamp."""
    digest = hashlib.sha256()
    for part in (str(LAYOUT_VERSION), " ".join(MODULES)):
        digest.update(part.encode() + b"\0")
    digest.update(INIT_SCRIPT.read_bytes())
    digest.update(Path(__file__).read_bytes())
    return digest.hexdigest()


@dataclass(frozen=True)
class Layout:
    """Where the prepared pieces live in the cache folder."""

    root: Path

    @classmethod
    def from_env(cls) -> Layout:
        default = Path.home() / ".cache" / "pyxenplatform" / "xen"
        return cls(Path(os.environ.get(CACHE_ENV) or default).resolve())

    @property
    def xen(self) -> Path:
        """The hypervisor, gunzipped: QEMU's multiboot loader wants a plain ELF."""
        return self.root / "xen"

    @property
    def kernel(self) -> Path:
        return self.root / "vmlinuz"

    @property
    def initrd(self) -> Path:
        return self.root / "initrd.cpio"

    @property
    def bin(self) -> Path:
        """Put on PATH inside dom0: holds the ``xenpm`` wrapper."""
        return self.root / "bin"

    @property
    def stamp(self) -> Path:
        return self.root / "stamp.json"

    def missing(self) -> str | None:
        """Why this cache cannot be used (None: it can)."""
        try:
            stamp = json.loads(self.stamp.read_text())
        except (OSError, ValueError):
            return f"no prepared cache in {self.root}"
        if stamp.get("key") != inputs_key():
            return f"the cache in {self.root} was prepared from other inputs"
        return None


def log(message: str) -> None:
    print(f"prepare: {message}", flush=True)


def run(*argv: str, cwd: Path | None = None) -> str:
    """Run a command, return its stdout; fail with its output when it fails."""
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"prepare: `{' '.join(argv)}` failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return done.stdout


def apt_lists_ready() -> bool:
    """True if apt knows the packages (a fresh machine has empty lists until `apt-get update`)."""
    return (
        subprocess.run(
            ["apt-cache", "show", "--no-all-versions", KERNEL_METAPACKAGE],
            capture_output=True,
            check=False,
        ).returncode
        == 0
    )


def ensure_apt_lists() -> None:
    if not apt_lists_ready():
        log("apt-get update")
        run("apt-get", "update")


def depends(package: str) -> list[str]:
    """Direct `Depends:` of a package (virtual-package alternatives are left out)."""
    out = run("apt-cache", "depends", "--no-recommends", "--no-suggests", package)
    return re.findall(r"^\s+Depends: ([^<\s]+)$", out, re.MULTILINE)


def packages() -> list[str]:
    """The packages to fetch: fixed names plus the kernel and xenpm's Xen libraries."""
    (kernel,) = [name for name in depends(KERNEL_METAPACKAGE) if name.startswith("linux-image-")]
    wanted = [XEN_PACKAGE, XEN_UTILS_PACKAGE, BUSYBOX_PACKAGE, kernel]
    # xenpm needs libxenctrl (in libxenmisc4.17) and the libxen* it links; other libraries
    # (libc...) are on every Debian machine. The check in install_xenpm() catches a miss.
    todo = [XEN_UTILS_PACKAGE]
    while todo:
        for name in depends(todo.pop()):
            if name.startswith("libxen") and name not in wanted:
                wanted.append(name)
                todo.append(name)
    return wanted


def ensure_qemu() -> None:
    if shutil.which(QEMU):
        return
    ensure_apt_lists()
    log("installing qemu-system-x86")
    run("apt-get", "install", "-y", "--no-install-recommends", "qemu-system-x86")


def fetch(names: list[str], debs: Path) -> dict[str, Path]:
    """apt-get download into `debs`; return package name -> .deb file."""
    debs.mkdir()
    # apt drops privileges to _apt while downloading, which cannot write into root's folders.
    sandbox = ["-o", "APT::Sandbox::User=root"] if os.geteuid() == 0 else []
    log(f"downloading {' '.join(names)}")
    run("apt-get", *sandbox, "download", *names, cwd=debs)
    files = {}
    for deb in debs.glob("*.deb"):
        files[deb.name.split("_", 1)[0]] = deb
    return files


def module_depends(ko: Path) -> list[str]:
    """The `depends=` of a kernel module, read from its .modinfo strings (no depmod needed)."""
    found = re.search(rb"\0depends=([^\0]*)\0", ko.read_bytes())
    return [name for name in (found.group(1).decode().split(",") if found else []) if name]


def module_order(modules_dir: Path) -> list[Path]:
    """MODULES and their dependencies, each after what it depends on."""
    # Module names treat '-' and '_' alike.
    index = {ko.name[: -len(".ko")].replace("-", "_"): ko for ko in modules_dir.rglob("*.ko")}
    builtin = {
        Path(line).name[: -len(".ko")].replace("-", "_")
        for line in (modules_dir / "modules.builtin").read_text().split()
    }
    order: list[Path] = []

    def visit(name: str) -> None:
        name = name.replace("-", "_")
        if name in builtin or index.get(name) in order:
            return
        if name not in index:
            sys.exit(f"prepare: kernel module {name} not found in {modules_dir}")
        for dependency in module_depends(index[name]):
            visit(dependency)
        order.append(index[name])

    for module in MODULES:
        visit(module)
    return order


def cpio_newc(entries: list[tuple[str, int, bytes, int]]) -> bytes:
    """An uncompressed newc cpio archive (the initramfs format) of (name, mode, data, rdev).

    Written here rather than with cpio(1): no extra host tool, and device nodes need no root.
    """
    out = bytearray()

    def pad() -> None:
        out.extend(b"\0" * (-len(out) % 4))

    for ino, (name, mode, data, rdev) in enumerate([*entries, ("TRAILER!!!", 0, b"", 0)], 1):
        fields = (ino, mode, 0, 0, 1, 0, len(data), 0, 0, rdev >> 8, rdev & 0xFF, len(name) + 1, 0)
        out.extend(b"070701" + b"".join(b"%08x" % field for field in fields))
        out.extend(name.encode() + b"\0")
        pad()
        out.extend(data)
        pad()
    return bytes(out)


def build_initrd(kernel_root: Path, busybox: Path, target: Path) -> None:
    (modules_dir,) = (kernel_root / "lib" / "modules").iterdir()
    modules = module_order(modules_dir)
    log(f"initramfs modules: {' '.join(ko.stem for ko in modules)}")
    directory, regular, executable = 0o040755, 0o100644, 0o100755
    entries: list[tuple[str, int, bytes, int]] = [
        ("bin", directory, b"", 0),
        ("bin/busybox", executable, busybox.read_bytes(), 0),
        ("dev", directory, b"", 0),
        # The kernel opens /dev/console for init before anything mounts devtmpfs.
        ("dev/console", 0o020600, b"", (5 << 8) | 1),
        ("etc", directory, b"", 0),
        ("etc/modules", regular, "".join(f"{ko.name}\n" for ko in modules).encode(), 0),
        ("init", executable, INIT_SCRIPT.read_bytes(), 0),
        ("lib", directory, b"", 0),
        ("lib/modules", directory, b"", 0),
    ]
    entries += [(f"lib/modules/{ko.name}", regular, ko.read_bytes(), 0) for ko in modules]
    target.write_bytes(cpio_newc(entries))


def install_xenpm(tools: Path, bin_dir: Path) -> None:
    """A `xenpm` command that runs the unpacked binary with the unpacked Xen libraries."""
    bin_dir.mkdir()
    wrapper = bin_dir / "xenpm"
    # Relative to the wrapper, so the cache folder may move; dom0 sees the same paths as the host.
    wrapper.write_text(
        "#!/bin/sh\n"
        "# xenpm from the Debian package, unpacked by tests/xen/prepare.py, not installed.\n"
        'tools="$(dirname "$(readlink -f "$0")")/../tools"\n'
        f'export LD_LIBRARY_PATH="$tools/{LIBDIR_IN_PACKAGE}${{LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}}"\n'
        f'exec "$tools/{XENPM_IN_PACKAGE}" "$@"\n'
    )
    wrapper.chmod(0o755)
    # Every Xen library xenpm links must come from the cache: this machine may have none.
    libdir = tools / LIBDIR_IN_PACKAGE
    ldd = subprocess.run(
        ["ldd", str(tools / XENPM_IN_PACKAGE)],
        env={**os.environ, "LD_LIBRARY_PATH": str(libdir)},
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    bad = [
        line.strip()
        for line in ldd.splitlines()
        if "not found" in line or ("libxen" in line and str(libdir) not in line)
    ]
    if bad:
        sys.exit("prepare: xenpm's libraries are not all in the cache:\n" + "\n".join(bad))


def build(layout: Layout) -> None:
    ensure_apt_lists()
    names = packages()
    layout.root.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=layout.root.name + ".partial-", dir=layout.root.parent))
    try:
        debs = fetch(names, staging / "debs")
        unpacked = staging / "unpacked"
        tools = staging / "tools"
        for name, deb in debs.items():
            # Xen tools and libraries go into tools/, the rest only lives until the build ends.
            dest = tools if name.startswith(("xen-utils", "libxen")) else unpacked
            run("dpkg-deb", "-x", str(deb), str(dest))
        boot = unpacked / "boot"
        (xen_gz,) = boot.glob("xen-*.gz")
        with gzip.open(xen_gz) as source, open(staging / "xen", "wb") as target:
            shutil.copyfileobj(source, target)
        (vmlinuz,) = boot.glob("vmlinuz-*")
        shutil.copyfile(vmlinuz, staging / "vmlinuz")
        build_initrd(unpacked, unpacked / "bin" / "busybox", staging / "initrd.cpio")
        install_xenpm(tools, staging / "bin")
        # Only what the VM boots is kept: the unpacked kernel modules alone are ~400 MB.
        shutil.rmtree(unpacked)
        shutil.rmtree(staging / "debs")
        # File names are name_version_arch.deb, with the version URL-quoted ("1%3a1.35").
        versions = {name: unquote(deb.name.split("_")[1]) for name, deb in debs.items()}
        stamp = {"key": inputs_key(), "packages": versions}
        (staging / "stamp.json").write_text(json.dumps(stamp, indent=2) + "\n")
        if layout.root.exists():
            shutil.rmtree(layout.root)
        staging.rename(layout.root)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def main() -> int:
    layout = Layout.from_env()
    ensure_qemu()
    reason = layout.missing()
    if reason is None:
        log(f"cache complete: {layout.root}")
        return 0
    log(f"{reason}: building it")
    build(layout)
    log(f"ready: {layout.root}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
