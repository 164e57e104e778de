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
from .packed import cx_image, pdc_image, px_image
from .results import describe
from .rules import check_pdc, checked_cx


def with_ppc(px: PxInfo, ppc: int) -> PxInfo:
    return replace(px, ppc=ppc)


def same_but_ppc(previous: PxInfo, px: PxInfo) -> bool:
    """``previous == replace(px, ppc=previous.ppc)``, without building one."""
    return previous is px or (
        previous.control_register == px.control_register
        and previous.status_register == px.status_register
        and previous.states == px.states and previous.psd == px.psd)


# The attributes holding what is remembered (see pyxenplatform.checks).
CX_READY = "_pyxenplatform_upload"        # a CxInfo's CxReady
PDC_READY = "_pyxenplatform_pdc_upload"   # a Pdc's PdcReady
PX_READY = "_pyxenplatform_px_upload"     # a PxInfo's {flags: PxReady}
PPC_VARIANTS = "_pyxenplatform_ppc"       # a PxInfo's set_ppc variants, by ppc


class CxReady:
    """What every upload of one CxInfo needs, computed once it passed the rules."""

    __slots__ = ("warnings", "image", "sent")

    def __init__(self, cx: CxInfo, warnings: tuple[str, ...]) -> None:
        self.warnings = warnings
        self.image = cx_image(cx)
        self.sent = describe(type="XEN_PM_CX", count=len(cx.states),
                             states=[f"C{s.type}" for s in cx.states])


def prepare_cx(cx: CxInfo) -> CxReady:
    warnings = checked_cx("cx", cx)  # raises before anything is remembered
    return remember(cx, CX_READY, CxReady(cx, warnings))


class PdcReady:
    """A checked Pdc's image and what its results say was sent."""

    __slots__ = ("image", "sent")

    def __init__(self, pdc: Pdc) -> None:
        self.image = image = pdc_image(pdc)
        self.sent = describe(type="XEN_PM_PDC", words=list(image.words))


def prepare_pdc(pdc: Pdc) -> PdcReady:
    check_pdc("pdc", pdc)  # raises before anything is remembered
    return remember(pdc, PDC_READY, PdcReady(pdc))


class PxReady:
    """A checked PxInfo's image for one choice of parts (flags), and its ``sent``."""

    __slots__ = ("image", "sent")

    def __init__(self, px: PxInfo, flags: int) -> None:
        self.image = px_image(px, flags)
        names = PX_FLAG_NAMES[flags] if 0 <= flags < 16 else px_flag_names(flags)
        self.sent = describe(type="XEN_PM_PX", flags=list(names), states=len(px.states),
                             ppc=px.ppc, frequencies_mhz=[s.core_frequency for s in px.states])


def prepare_px(px: PxInfo, flags: int) -> PxReady:
    """``px`` (already checked: ``check_px``) ready to send with ``flags``."""
    if flags & ~0xF:  # bits Xen does not define: not worth remembering
        return PxReady(px, flags)
    known = getattr(px, PX_READY, None)
    if not isinstance(known, dict):
        known = remember(px, PX_READY, {})
    ready: PxReady = known.setdefault(flags, PxReady(px, flags))
    return ready


def px_flag_names(flags: int) -> tuple[str, ...]:
    names = {abi.XEN_PX_PCT: "PCT", abi.XEN_PX_PSS: "PSS", abi.XEN_PX_PPC: "PPC",
             abi.XEN_PX_PSD: "PSD"}
    return tuple(name for bit, name in names.items() if flags & bit)


PX_FLAG_NAMES = tuple(px_flag_names(flags) for flags in range(16))
