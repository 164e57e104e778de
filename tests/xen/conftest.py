"""pytest wiring for the real-Xen tests (tests marked ``@pytest.mark.xen``).

- ``xen_vm``: one Xen + dom0 VM per Xen release for the whole session (boots take ~20-60 s under
  TCG), powered off when the tests of that release are done: a test using it runs once per release
  (4.17, 4.20, 4.22; ids end in ``[4.17]``...), tests grouped by release so one VM runs at a time.
  ``@pytest.mark.xen_releases("4.22")`` limits a test to those releases (the others are deselected,
  not skipped). ``PYXENPLATFORM_XEN_RELEASES=4.17`` boots only those while iterating; CI boots all.
- A test marked ``xen`` whose prerequisites (the prepared cache, QEMU) are missing is skipped with
  the command that enables it, or fails if ``PYXENPLATFORM_XEN_TESTS=require`` (CI sets it: there
  the real-Xen tests must run, a skip would hide that they did not).
- A test that asks for ``xen_vm`` without the ``xen`` mark fails, so ``-m "not xen"`` always
  deselects every test that boots a VM.

Everything here is scoped to tests/xen/ except the timing summary, printed only when a VM was
booted. The `xen` marker itself is declared in pyproject.toml.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

from .prepare import QEMU, RELEASES, Layout
from .vm import XenVM

MODE_ENV = "PYXENPLATFORM_XEN_TESTS"
RELEASES_ENV = "PYXENPLATFORM_XEN_RELEASES"
ENABLE = "python3 tests/xen/prepare.py"

_booted: list[XenVM] = []  # for the timing summary


def _require_prerequisites() -> None:
    """Skip (or fail, in `require` mode) when the VM cannot be booted here."""
    mode = os.environ.get(MODE_ENV, "")
    if mode not in ("", "require"):
        # A typo must not silently turn CI's "require" into skips.
        pytest.fail(f"{MODE_ENV}={mode!r}: the only value it takes is 'require'", pytrace=False)
    reason = Layout.from_env().missing()
    if reason is None and not shutil.which(QEMU):
        reason = f"{QEMU} is not installed"
    if reason is None:
        return
    message = f"real-Xen test needs Xen, a dom0 kernel and QEMU ({reason}); enable with `{ENABLE}`"
    if mode == "require":
        pytest.fail(f"{message} [{MODE_ENV}=require]", pytrace=False)
    pytest.skip(message)


@pytest.fixture(autouse=True)
def _xen_mark(request: pytest.FixtureRequest) -> None:
    marked = request.node.get_closest_marker("xen") is not None
    if "xen_vm" in request.fixturenames and not marked:
        pytest.fail("a test using xen_vm must be marked @pytest.mark.xen", pytrace=False)
    if marked:
        _require_prerequisites()


def _releases() -> list[str]:
    chosen = os.environ.get(RELEASES_ENV, "").replace(",", " ").split() or list(RELEASES)
    unknown = [release for release in chosen if release not in RELEASES]
    if unknown:
        raise pytest.UsageError(f"{RELEASES_ENV}: no Xen {unknown}; the tests boot {RELEASES}")
    if os.environ.get(MODE_ENV) == "require" and chosen != list(RELEASES):
        raise pytest.UsageError(f"{RELEASES_ENV} cannot leave releases out with {MODE_ENV}=require")
    return chosen


@pytest.fixture(scope="session", params=_releases())
def xen_vm(request: pytest.FixtureRequest) -> Iterator[XenVM]:
    """The session's Xen + dom0 of one release (default CPU model, 2 CPUs). Tests share it: leave
    it clean."""
    # Session fixtures are set up before the function-scoped check above: check here too.
    _require_prerequisites()
    with XenVM.boot(release=request.param) as vm:
        _booted.append(vm)
        yield vm


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect the releases a test's ``xen_releases`` mark leaves out."""
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        mark = item.get_closest_marker("xen_releases")
        callspec = getattr(item, "callspec", None)
        release = callspec.params.get("xen_vm") if callspec is not None else None
        (dropped if mark and release is not None and release not in mark.args else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for vm in _booted:
        average = vm.command_seconds / vm.commands if vm.commands else 0.0
        terminalreporter.write_line(
            f"xen {vm.release}: VM booted in {vm.boot_seconds:.1f} s; {vm.commands} commands, "
            f"{vm.command_seconds:.1f} s ({average:.2f} s each on average)"
        )
