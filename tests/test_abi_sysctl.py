"""pyxenplatform.abi_sysctl against Xen's sysctl.h: gcc on Debian's header (4.17) and pahole's
dump of 4.17 and 4.21.2 (``../shared/reference/sysctl-pm-layout-x86_64.txt``)."""

from __future__ import annotations

import ctypes
import re
from pathlib import Path

import pytest

from pyxenplatform import abi_sysctl
from tests import layout
from tests.test_abi_layout import need_gcc_and_header

PAHOLE = Path(__file__).parents[2] / "shared" / "reference" / "sysctl-pm-layout-x86_64.txt"
TAGS = [
    "xen_sysctl", "xen_sysctl_get_pmstat", "pm_cx_stat", "pm_px_stat", "pm_px_val",
    "xen_sysctl_pm_op", "xen_get_cpufreq_para", "xen_userspace", "xen_ondemand",
]
# Members of 4.21's pahole dump we do not mirror (CPPC parameters, not read back here).
NOT_MIRRORED = {("xen_sysctl_pm_op", "get_cppc"), ("xen_sysctl_pm_op", "set_cppc"),
                ("xen_sysctl_pm_op", "set_gov"), ("xen_sysctl_pm_op", "set_para")}


def test_gcc_on_installed_sysctl_header_matches_ctypes(tmp_path: Path) -> None:
    cc = need_gcc_and_header()
    gcc = layout.gcc_table(TAGS, tmp_path, cc, module=abi_sysctl, header="xen/sysctl.h")
    ours = layout.ctypes_table(TAGS, abi_sysctl)
    assert sorted(gcc) == sorted(ours)
    assert len(ours) > 60


def test_constants_match_the_installed_header() -> None:
    need_gcc_and_header()
    text = layout.SYSCTL_HEADER.read_text()
    defines = dict(re.findall(r"^\s*#define\s+(\w+)\s+(0x[0-9a-fA-F]+|\d+)\s*$", text, re.M))
    names = [n for n in vars(abi_sysctl) if n.isupper() or n.startswith(("PMSTAT_", "XEN_SYSCTL"))]
    checked = [n for n in names if n in defines]
    for name in checked:
        assert getattr(abi_sysctl, name) == int(defines[name], 0), name
    # The composite ones are (CATEGORY | n) in C: check them by hand.
    assert (abi_sysctl.PMSTAT_get_cxstat, abi_sysctl.GET_CPUFREQ_PARA) == (0x22, 0x11)
    assert {"XEN_SYSCTL_INTERFACE_VERSION", "XEN_SYSCTL_get_pmstat", "XEN_SYSCTL_pm_op",
            "CPUFREQ_NAME_LEN"} <= set(checked)
    xen_h = (layout.HEADER.parent / "xen.h").read_text()
    assert re.search(r"#define __HYPERVISOR_sysctl\s+35\b", xen_h)


def _pahole(release: str) -> dict[str, dict[str, tuple[int, int]]]:
    """Top-level members of each struct of one release's section: name -> (offset, size)."""
    text = PAHOLE.read_text().split(f"## Xen {release}", 1)[1].split("\n## ", 1)[0]
    structs: dict[str, dict[str, tuple[int, int]]] = {}
    current: dict[str, tuple[int, int]] | None = None
    for line in text.splitlines():
        if m := re.match(r"^struct (\w+) \{", line):
            current = structs.setdefault(m.group(1), {})
        elif line.startswith("}"):
            current = None
        elif current is not None and (
            m := re.match(r"^\t(?:[^\t/].*?)\b(\w+)(?:\[\d+\])?;\s+/\*\s+(\d+)\s+(\d+)\s+\*/", line)
        ):
            current[m.group(1)] = (int(m.group(2)), int(m.group(3)))
    return structs


@pytest.mark.parametrize("release", ["4.17", "4.21"])
def test_pahole_reference_agrees(release: str) -> None:
    if not PAHOLE.exists():
        pytest.skip(f"{PAHOLE} not beside the checkout")
    structs = _pahole(release)
    assert set(TAGS) <= set(structs)
    compared = 0
    for tag in TAGS:
        ctype = getattr(abi_sysctl, tag)
        for name, (offset, size) in structs[tag].items():
            if (tag, name) in NOT_MIRRORED:
                continue
            if (tag, name) == ("xen_get_cpufreq_para", "s"):
                # 4.20+ nests scaling_cur_freq .. u in `s`: the same bytes, 68 to 112.
                first, last = ctype.scaling_cur_freq, ctype.u
                assert (first.offset, last.offset + last.size - first.offset) == (offset, size)
            elif tag == "xen_sysctl" and name == "u":
                assert (ctype.u.offset, ctype.u.size) == (offset, size)
            else:
                field = getattr(ctype, name)
                assert (field.offset, field.size) == (offset, size), (tag, name)
            compared += 1
    assert compared >= 40


def test_sizes_by_hand() -> None:
    sizes = {tag: ctypes.sizeof(getattr(abi_sysctl, tag)) for tag in TAGS}
    assert sizes == {
        "xen_sysctl": 136, "xen_sysctl_get_pmstat": 64, "pm_cx_stat": 56, "pm_px_stat": 24,
        "pm_px_val": 24, "xen_sysctl_pm_op": 128, "xen_get_cpufreq_para": 120,
        "xen_userspace": 4, "xen_ondemand": 16,
    }
