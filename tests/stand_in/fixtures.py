"""pytest fixtures for the fake privcmd; import them into ``tests/conftest.py``.

``from tests.stand_in.fixtures import fake_privcmd, fakeprivcmd_interposer``
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol

import pytest

from tests.stand_in.fake import FakeRun, build_interposer, run_with_fake_privcmd, unavailable_reason

REQUIRE_ENV = "PYXENPLATFORM_REQUIRE_STANDIN"


class FakePrivcmd(Protocol):
    """``run_with_fake_privcmd`` with ``tmp_path`` and the built library bound."""

    def __call__(
        self,
        argv: Sequence[str],
        *,
        cpus: str | None = None,
        errno: str | None = None,
        allow_unlocked: bool = False,
        env: Mapping[str, str] | None = None,
    ) -> FakeRun: ...


def require_stand_in() -> None:
    """Skip the test if the stand-in cannot be built; fail instead where CI requires it."""
    reason = unavailable_reason()
    if reason is None:
        return
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{reason} ({REQUIRE_ENV}=1)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def fakeprivcmd_interposer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The compiled ``fakeprivcmd.so``, built once per session."""
    require_stand_in()
    return build_interposer(tmp_path_factory.mktemp("fakeprivcmd-build"))


@pytest.fixture(scope="session")
def fakeprivcmd_interposer_4_21(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The stand-in compiled against Xen 4.21.2's ``platform.h`` (it knows ``XEN_PM_CPPC``)."""
    from tests.layout import overlay_include

    require_stand_in()
    work = tmp_path_factory.mktemp("fakeprivcmd-4.21")
    return build_interposer(work, include=overlay_include(work))


@pytest.fixture
def fake_privcmd_4_21(fakeprivcmd_interposer_4_21: Path, tmp_path: Path) -> FakePrivcmd:
    """:func:`fake_privcmd`, decoding through Xen 4.21's header."""
    return functools.partial(run_with_fake_privcmd, tmp_path=tmp_path,
                             interposer=fakeprivcmd_interposer_4_21)


@pytest.fixture
def fake_privcmd(fakeprivcmd_interposer: Path, tmp_path: Path) -> FakePrivcmd:
    """Run a command under the fake privcmd, e.g. ``fake_privcmd([sys.executable, "-m", "pyxenplatform", ...])``."""
    return functools.partial(run_with_fake_privcmd, tmp_path=tmp_path, interposer=fakeprivcmd_interposer)
