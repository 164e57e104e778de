"""Which Xen release each upload needs, for ``status`` (and the README's version table).

Sources: Xen's ``xen/arch/x86/platform_hypercall.c`` at each release tag:
``XEN_PM_CPPC`` entered in 4.21 (RELEASE-4.21.0); before, ``do_platform_op``
answers it with EINVAL as an unknown type.
"""

from __future__ import annotations

from .errors import CPPC_XEN

# (op, the Xen release it needs, what it carries)
FEATURES: tuple[tuple[str, tuple[int, int], str], ...] = (
    ("XEN_PM_CX, XEN_PM_PX, XEN_PM_PDC", (3, 3), "C-states, P-states, _PDC"),
    ("XEN_PM_CPPC", CPPC_XEN, "_CPC + _PSD, used with cpufreq=amd-cppc"),
)


def features(version: tuple[int, int] | None) -> list[dict[str, object]]:
    """Each upload kind, the Xen it needs, and whether this Xen (``version``) has it."""
    return [{"op": op, "needs": f"{needs[0]}.{needs[1]}", "carries": carries,
             "available": None if version is None else version >= needs}
            for op, needs, carries in FEATURES]


def describe(version: tuple[int, int] | None) -> list[str]:
    """``Xen 4.17: XEN_PM_CPPC (…) needs Xen 4.21: not available``, one line per op."""
    have = "Xen (version unknown)" if version is None else f"Xen {version[0]}.{version[1]}"
    lines = []
    for op, needs, carries in FEATURES:
        state = "unknown" if version is None else (
            "available" if version >= needs else "not available")
        lines.append(f"{have}: {op} ({carries}) needs Xen {needs[0]}.{needs[1]}: {state}")
    return lines
