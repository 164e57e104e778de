"""Power-info objects made ready to upload: checked once, packed once.

A frozen object that passed the rules keeps what every later upload of it
needs (its image, its warnings, what the result says was sent) in a private
attribute (:func:`~pyxenplatform.checks.remember`), so the hot path checks and
packs each distinct object once.  Nothing is remembered for an object that
fails: it is refused again, with the same error, every time.
"""

from __future__ import annotations

from dataclasses import replace

from . import abi
from .checks import remember
from .model import CxInfo, Pdc, PxInfo
from .packed import PdcImage, cx_image, pdc_image
from .rules import check_pdc, checked_cx

def with_ppc(px: PxInfo, ppc: int) -> PxInfo:
    return replace(px, ppc=ppc)


def same_but_ppc(previous: PxInfo, px: PxInfo) -> bool:
    """``previous == replace(px, ppc=previous.ppc)``, without building one."""
    return previous is px or (
        previous.control_register == px.control_register
        and previous.status_register == px.status_register
        and previous.states == px.states and previous.psd == px.psd)


# The attribute a CxInfo's CxReady lives in (see pyxenplatform.checks).
CX_READY = "_pyxenplatform_upload"
# The attribute of a PxInfo holding set_ppc's variants of it, by ppc.
PPC_VARIANTS = "_pyxenplatform_ppc"


class CxReady:
    """What every upload of one CxInfo needs, computed once it passed the rules."""

    __slots__ = ("warnings", "image", "count", "names")

    def __init__(self, cx: CxInfo, warnings: tuple[str, ...]) -> None:
        self.warnings = warnings
        self.image = cx_image(cx)
        self.count = len(cx.states)
        self.names = tuple(f"C{s.type}" for s in cx.states)

    def sent(self) -> dict[str, object]:
        """A fresh ``UploadResult.sent``: callers may change theirs."""
        return {"type": "XEN_PM_CX", "count": self.count, "states": list(self.names)}


def prepare_cx(cx: CxInfo) -> CxReady:
    warnings = checked_cx("cx", cx)  # raises before anything is remembered
    return remember(cx, CX_READY, CxReady(cx, warnings))


# The attribute holding a Pdc's image once it passed check_pdc (see .checks).
PDC_READY = "_pyxenplatform_pdc_upload"


def prepare_pdc(pdc: Pdc) -> PdcImage:
    check_pdc("pdc", pdc)  # raises before anything is remembered
    return remember(pdc, PDC_READY, pdc_image(pdc))


def px_flag_names(flags: int) -> tuple[str, ...]:
    names = {abi.XEN_PX_PCT: "PCT", abi.XEN_PX_PSS: "PSS", abi.XEN_PX_PPC: "PPC",
             abi.XEN_PX_PSD: "PSD"}
    return tuple(name for bit, name in names.items() if flags & bit)


PX_FLAG_NAMES = tuple(px_flag_names(flags) for flags in range(16))
