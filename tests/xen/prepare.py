"""Prepare what the real-Xen tests boot: three Xen releases, a dom0 kernel, an initramfs, xenpm.

Run ``python3 tests/xen/prepare.py`` (as root, on Debian 12 amd64). It

- installs ``qemu-system-x86`` with apt-get when ``qemu-system-x86_64`` is missing;
- downloads the Debian 12 packages of Xen 4.17, the Linux kernel, busybox and xenpm with its
  libraries (``apt-get download``) and unpacks them with ``dpkg-deb -x`` into the cache folder, so
  that no kernel or hypervisor gets installed into this machine;
- does the same for Xen 4.20 from Debian 13 (trixie), through a private apt configuration (its own
  sources list and package lists in the scratch folder: the host's apt is not changed). Its xenpm
  needs trixie's libc, so it is unpacked too and xenpm runs under trixie's ``ld.so``;
- copies Xen 4.22.0 (hypervisor, xenpm and its libraries) from ``../shared/xen/4.22.0`` beside the
  repository (or ``$PYXENPLATFORM_XEN_422``), checked against its ``SHA256SUMS``;
- builds the initramfs (busybox, ``init.sh`` beside this file, the kernel modules dom0 needs).

Every release boots the same Debian 12 dom0 kernel and initramfs. The cache folder is
``~/.cache/pyxenplatform/xen/<digest of the inputs>`` (so branches whose inputs differ each keep
theirs), or ``$PYXENPLATFORM_XEN_CACHE``. It is built in a scratch folder and renamed into place at
the end, with a stamp; a complete cache is left alone, so a second run costs a few milliseconds. A
cache made from other inputs (this file, ``init.sh``, the 4.22 checksums) is rebuilt. ``vm.py``
imports :class:`Layout` from here to find the pieces.

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
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

HERE = Path(__file__).resolve().parent
INIT_SCRIPT = HERE / "init.sh"

CACHE_ENV = "PYXENPLATFORM_XEN_CACHE"
QEMU = "qemu-system-x86_64"

# Debian 12 package names. linux-image-amd64 is a metapackage: we fetch the kernel it points at.
KERNEL_METAPACKAGE = "linux-image-amd64"
BUSYBOX_PACKAGE = "busybox-static"
LIBDIR_IN_PACKAGE = "usr/lib/x86_64-linux-gnu"

# The releases the tests boot, oldest first; the default is Debian 12's.
RELEASES = ("4.17", "4.20", "4.22")
DEFAULT_RELEASE = "4.17"
# Xen 4.20 comes from Debian 13, through a sources list of its own (the host stays on Debian 12).
TRIXIE_SOURCES = (
    "deb [signed-by=/usr/share/keyrings/debian-archive-trixie-stable.gpg] "
    "http://deb.debian.org/debian trixie main\n"
)
# Xen 4.22.0, built from the upstream tag (../shared/xen/README.md says how).
XEN_422_ENV = "PYXENPLATFORM_XEN_422"
XEN_422_DEFAULT = HERE.parents[2] / "shared" / "xen" / "4.22.0"  # ../shared beside the checkout
# Its SHA256SUMS, pinned: the files it lists are what the tests boot (and part of inputs_key()).
XEN_422_SUMS_SHA256 = "86b7d424464b6c90370af3fd16c4da4bb6d907435195cd5c84bc91a731c7cde9"

# What init.sh needs, as module names; their dependencies are added. virtio_pci: the PCI transport;
# virtio_console: the agent's channel; 9pnet_virtio + 9p: the host's root; overlay: a writable root
# over it; xen-privcmd: /dev/xen/privcmd and /dev/xen/hypercall; xenfs: /proc/xen.
MODULES = ("virtio_pci", "virtio_console", "9pnet_virtio", "9p", "overlay", "xen-privcmd", "xenfs")

# Bump when the cache layout changes, so that old caches are rebuilt rather than misread.
LAYOUT_VERSION = 2


def inputs_key() -> str:
    """A digest of everything the cache is made from, compared with the stamp.

    4.22's files count through their checksums, which this file pins (XEN_422_SUMS_SHA256).
    """
    digest = hashlib.sha256()
    for part in (str(LAYOUT_VERSION), " ".join(MODULES), " ".join(RELEASES)):
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
        default = Path.home() / ".cache" / "pyxenplatform" / "xen" / inputs_key()[:16]
        return cls(Path(os.environ.get(CACHE_ENV) or default).resolve())

    def xen(self, release: str = DEFAULT_RELEASE) -> Path:
        """That release's hypervisor, gunzipped: QEMU's multiboot loader wants a plain ELF."""
        return self.release_dir(release) / "xen"

    def bin(self, release: str = DEFAULT_RELEASE) -> Path:
        """Put on PATH inside dom0: holds that release's ``xenpm`` wrapper."""
        return self.release_dir(release) / "bin"

    def release_dir(self, release: str) -> Path:
        if release not in RELEASES:
            raise ValueError(f"Xen {release!r}: the tests boot {', '.join(RELEASES)}")
        return self.root / f"xen-{release}"

    @property
    def kernel(self) -> Path:
        return self.root / "vmlinuz"

    @property
    def initrd(self) -> Path:
        return self.root / "initrd.cpio"

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


def depends(package: str, apt: Sequence[str] = ()) -> list[str]:
    """Direct `Depends:` of a package (virtual-package alternatives are left out)."""
    out = run("apt-cache", *apt, "depends", "--no-recommends", "--no-suggests", package)
    return re.findall(r"^\s+Depends: ([^<\s]+)$", out, re.MULTILINE)


def xen_libraries(utils: str, apt: Sequence[str] = ()) -> list[str]:
    """The libxen* packages xenpm needs (libxenctrl is in libxenmiscX.Y), found from `utils`."""
    wanted: list[str] = []
    todo = [utils]
    while todo:
        for name in depends(todo.pop(), apt):
            if name.startswith("libxen") and name not in wanted:
                wanted.append(name)
                todo.append(name)
    return wanted


def packages() -> list[str]:
    """Debian 12's packages: Xen 4.17 and its xenpm's libraries, busybox, the kernel."""
    (kernel,) = [name for name in depends(KERNEL_METAPACKAGE) if name.startswith("linux-image-")]
    # Other libraries xenpm links (libc...) are on every Debian 12 machine; the check in
    # install_xenpm() catches a miss.
    xen = ["xen-hypervisor-4.17-amd64", "xen-utils-4.17"]
    return [*xen, BUSYBOX_PACKAGE, kernel, *xen_libraries("xen-utils-4.17")]


def sandbox() -> list[str]:
    # apt drops privileges to _apt while downloading, which cannot write into root's folders.
    return ["-o", "APT::Sandbox::User=root"] if os.geteuid() == 0 else []


def trixie_apt(scratch: Path) -> list[str]:
    """apt options for a private Debian 13 configuration in `scratch`, its lists fetched now."""
    (scratch / "lists" / "partial").mkdir(parents=True)
    (scratch / "archives" / "partial").mkdir(parents=True)
    (scratch / "sources.list").write_text(TRIXIE_SOURCES)
    options = [
        "-o", f"Dir::Etc::SourceList={scratch / 'sources.list'}",
        "-o", "Dir::Etc::SourceParts=/dev/null",
        "-o", f"Dir::State::Lists={scratch / 'lists'}",
        "-o", f"Dir::Cache={scratch}",
    ]  # fmt: skip
    log("apt-get update with a private Debian 13 sources list")
    run("apt-get", *sandbox(), *options, "update")
    return options


def ensure_qemu() -> None:
    if shutil.which(QEMU):
        return
    ensure_apt_lists()
    log("installing qemu-system-x86")
    run("apt-get", "install", "-y", "--no-install-recommends", "qemu-system-x86")


def fetch(names: list[str], debs: Path, apt: Sequence[str] = ()) -> dict[str, Path]:
    """apt-get download into `debs`; return package name -> .deb file."""
    debs.mkdir(parents=True)
    log(f"downloading {' '.join(names)}")
    run("apt-get", *sandbox(), *apt, "download", *names, cwd=debs)
    return {deb.name.split("_", 1)[0]: deb for deb in debs.glob("*.deb")}


def versions(debs: dict[str, Path]) -> dict[str, str]:
    # File names are name_version_arch.deb, with the version URL-quoted ("1%3a1.35").
    return {name: unquote(deb.name.split("_")[1]) for name, deb in debs.items()}


def gunzip(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(source) as packed, open(target, "wb") as plain:
        shutil.copyfileobj(packed, plain)


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


def install_xenpm(release: Path, xenpm: str, libdir: str, loader: str | None = None) -> None:
    """`release`/bin/xenpm: runs `release`/tools/`xenpm` with the Xen libraries in tools/`libdir`.

    With `loader` (a dynamic linker under tools/), every library, libc included, comes from
    tools/: how Debian 13's xenpm runs on Debian 12's root.
    """
    tools = release / "tools"
    (release / "bin").mkdir()
    wrapper = release / "bin" / "xenpm"
    # Relative to the wrapper, so the cache folder may move; dom0 sees the same paths as the host.
    lines = ["#!/bin/sh", f"# xenpm of Xen {release.name[4:]}, unpacked by tests/xen/prepare.py.",
             'tools="$(dirname "$(readlink -f "$0")")/../tools"']
    if loader:
        lines.append(f'exec "$tools/{loader}" --library-path "$tools/{libdir}" "$tools/{xenpm}" "$@"')
        listing = [str(tools / loader), "--list", "--library-path", str(tools / libdir)]
    else:
        lines.append(f'export LD_LIBRARY_PATH="$tools/{libdir}${{LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}}"')
        lines.append(f'exec "$tools/{xenpm}" "$@"')
        listing = ["env", f"LD_LIBRARY_PATH={tools / libdir}", "ldd"]
    wrapper.write_text("\n".join(lines) + "\n")
    wrapper.chmod(0o755)
    # Every Xen library xenpm links (every library, with a loader) must come from the cache.
    linked = subprocess.run([*listing, str(tools / xenpm)], capture_output=True, text=True,
                            check=False).stdout
    mine = str(tools / libdir)
    bad = [
        line.strip()
        for line in linked.splitlines()
        if "not found" in line or (("libxen" in line or loader) and "=>" in line and mine not in line)
    ]
    if bad or "libxenctrl" not in linked:
        sys.exit(f"prepare: {wrapper}'s libraries are not all in the cache:\n{linked}")


def prepare_417(debs: dict[str, Path], staging: Path) -> None:
    """Xen 4.17 and the dom0 kernel + initramfs, from Debian 12's packages in `debs`."""
    unpacked = staging / "unpacked"
    release = staging / "xen-4.17"
    (release / "tools").mkdir(parents=True)
    for name, deb in debs.items():
        # Xen tools and libraries go into tools/, the rest only lives until the build ends.
        dest = release / "tools" if name.startswith(("xen-utils", "libxen")) else unpacked
        run("dpkg-deb", "-x", str(deb), str(dest))
    (xen_gz,) = (unpacked / "boot").glob("xen-*.gz")
    gunzip(xen_gz, release / "xen")
    (vmlinuz,) = (unpacked / "boot").glob("vmlinuz-*")
    shutil.copyfile(vmlinuz, staging / "vmlinuz")
    build_initrd(unpacked, unpacked / "bin" / "busybox", staging / "initrd.cpio")
    install_xenpm(release, "usr/lib/xen-4.17/bin/xenpm", LIBDIR_IN_PACKAGE)
    # Only what the VM boots is kept: the unpacked kernel modules alone are ~400 MB.
    shutil.rmtree(unpacked)


def prepare_420(staging: Path) -> dict[str, str]:
    """Xen 4.20 from Debian 13: hypervisor, xenpm, its libraries and Debian 13's libc."""
    scratch = staging / "trixie"
    apt = trixie_apt(scratch / "apt")
    utils = "xen-utils-4.20"
    names = ["xen-hypervisor-4.20-amd64", utils, "libc6", *xen_libraries(utils, apt)]
    debs = fetch(names, scratch / "debs", apt)
    release = staging / "xen-4.20"
    (release / "tools").mkdir(parents=True)
    for name, deb in debs.items():
        run("dpkg-deb", "-x", str(deb), str(release / "tools" if name != names[0] else scratch))
    (xen_gz,) = (scratch / "boot").glob("xen-*.gz")
    gunzip(xen_gz, release / "xen")
    loader = f"{LIBDIR_IN_PACKAGE}/ld-linux-x86-64.so.2"
    install_xenpm(release, "usr/lib/xen-4.20/bin/xenpm", LIBDIR_IN_PACKAGE, loader)
    shutil.rmtree(scratch)
    return versions(debs)


def prepare_422(staging: Path) -> dict[str, str]:
    """Xen 4.22.0 from ../shared/xen/4.22.0, every file checked against its SHA256SUMS."""
    source = Path(os.environ.get(XEN_422_ENV) or XEN_422_DEFAULT)
    try:
        sums = (source / "SHA256SUMS").read_text()
    except OSError as error:
        sys.exit(f"prepare: no Xen 4.22.0 ({error}); set {XEN_422_ENV} to its folder")
    if hashlib.sha256(sums.encode()).hexdigest() != XEN_422_SUMS_SHA256:
        sys.exit(f"prepare: {source / 'SHA256SUMS'} is not the one this file pins")
    release = staging / "xen-4.22"
    for line in sums.splitlines():
        digest, name = line.split(maxsplit=1)
        data = (source / name).read_bytes()
        if hashlib.sha256(data).hexdigest() != digest:
            sys.exit(f"prepare: {source / name} does not match {source / 'SHA256SUMS'}")
        if name.endswith(".gz"):
            (release / "xen").parent.mkdir(parents=True, exist_ok=True)
            (release / "xen").write_bytes(gzip.decompress(data))
        else:
            (release / name).parent.mkdir(parents=True, exist_ok=True)
            (release / name).write_bytes(data)
            (release / name).chmod(0o755)
    install_xenpm(release, "xenpm", "lib")
    return {"xen-4.22.0": f"SHA256SUMS {XEN_422_SUMS_SHA256}"}


def build(layout: Layout) -> None:
    ensure_apt_lists()
    names = packages()
    layout.root.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=layout.root.name + ".partial-", dir=layout.root.parent))
    try:
        debs = fetch(names, staging / "debs")
        prepare_417(debs, staging)
        made = versions(debs) | prepare_420(staging) | prepare_422(staging)
        shutil.rmtree(staging / "debs")
        stamp = {"key": inputs_key(), "packages": made}
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
