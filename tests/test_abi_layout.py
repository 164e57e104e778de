"""pyxenplatform.abi against Xen's own header, byte for byte.

Three independent oracles: gcc compiling ``/usr/include/xen/platform.h``
(when the compiler and libxen-dev are present; CI requires them), the golden
table gcc produced for Xen 4.17 (committed, so the test means something on a
machine without them), and pahole's dump in ``shared/reference``.
"""

from __future__ import annotations

import ctypes
import os
import re
import shutil
from pathlib import Path

import pytest

from pyxenplatform import abi
from tests import layout

GOLDEN = Path(__file__).parent / "data" / "platform-layout-xen-4.17-x86_64.golden"
# The shared folder beside the checkout (../shared), or wherever $PYXENPLATFORM_SHARED says.
SHARED = Path(os.environ.get("PYXENPLATFORM_SHARED") or Path(__file__).parents[2] / "shared")
PAHOLE = SHARED / "reference" / "platform-layout-x86_64.txt"
REQUIRE = os.environ.get("PYXENPLATFORM_REQUIRE_HEADERS") == "1"


def golden_lines() -> list[str]:
    return GOLDEN.read_text().splitlines()


def golden_tags() -> list[str]:
    return sorted({line.split()[0] for line in golden_lines()})


def is_newer(line: str) -> bool:
    return line.split()[1] != "sizeof" and layout._newer_macro(line.split()[1]) is not None


def need_gcc_and_header() -> str:
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc and layout.HEADER.exists():
        return cc
    message = "needs a C compiler and Xen's headers: apt-get install gcc libxen-dev"
    if REQUIRE:
        pytest.fail(message + " (PYXENPLATFORM_REQUIRE_HEADERS=1)")
    pytest.skip(message)


def test_golden_table_matches_ctypes() -> None:
    ours = layout.ctypes_table(golden_tags())
    assert sorted(line for line in ours if not is_newer(line)) == sorted(golden_lines())


def test_gcc_on_installed_header_matches_ctypes(tmp_path: Path) -> None:
    cc = need_gcc_and_header()
    tags = layout.header_tags(layout.HEADER.read_text()) + list(layout.EXTRA_TAGS)
    gcc = layout.gcc_table(tags, tmp_path, cc)
    ours = layout.ctypes_table(tags)
    # Members newer than the installed header are absent from gcc's table only.
    assert sorted(set(ours) - set(gcc)) == sorted(line for line in ours if is_newer(line))
    assert sorted(set(gcc) - set(ours)) == []


def test_every_struct_of_the_header_has_its_class() -> None:
    text = layout.HEADER.read_text() if layout.HEADER.exists() else None
    tags = layout.header_tags(text) if text else golden_tags()
    missing = [tag for tag in tags if not hasattr(abi, tag)]
    assert missing == []


def test_golden_table_is_what_gcc_says(tmp_path: Path) -> None:
    cc = need_gcc_and_header()
    if "XEN_PM_CPPC" in layout.HEADER.read_text():
        pytest.skip("the golden table is Xen 4.17's; this header is newer")
    assert sorted(layout.gcc_table(golden_tags(), tmp_path, cc)) == sorted(golden_lines())


def _pahole_members() -> dict[str, dict[str, tuple[int, int]]]:
    """Top-level members of each struct in pahole's dump: name -> (offset, size)."""
    structs: dict[str, dict[str, tuple[int, int]]] = {}
    current: dict[str, tuple[int, int]] | None = None
    for line in PAHOLE.read_text().splitlines():
        if m := re.match(r"^struct (\w+) \{", line):
            current = structs.setdefault(m.group(1), {})
        elif line.startswith("}"):
            current = None
        elif current is not None and (
            m := re.match(r"^\t(?:[^\t/].*?)\b(\w+)(?:\[\d+\])?(?::\d+)?;\s+/\*\s+(\d+)(?::\s*\d+)?\s+(\d+)\s+\*/", line)
        ):
            current[m.group(1)] = (int(m.group(2)), int(m.group(3)))
    return structs


def test_pahole_reference_agrees() -> None:
    if not PAHOLE.exists():
        pytest.skip(f"{PAHOLE} not beside the checkout")
    structs = _pahole_members()
    assert len(structs) > 30
    compared = 0
    for tag, pahole_members in structs.items():
        ctype = getattr(abi, tag)
        for name, (offset, size) in pahole_members.items():
            # pahole ran without __XEN_TOOLS__: settime is the 16-byte settime32
            # and enter_acpi_sleep calls val_a/val_b pm1a/pm1b_cnt_val.
            if (tag, name) == ("xen_platform_op", "u") or name.startswith("pm1"):
                continue
            field = getattr(ctype, name)
            if name in {f[0] for f in ctype._fields_ if len(f) == 3}:
                assert field.offset == offset, (tag, name)  # bitfield: storage unit
            else:
                assert (field.offset, field.size) == (offset, size), (tag, name)
            compared += 1
    assert compared >= 130  # every top-level member pahole lists


def test_members_newer_than_4_17_by_hand() -> None:
    # From Xen's platform.h (2025): uint8_t flags; uint8_t pad[3]; struct {6 x
    # uint32_t} cpc; uint32_t shared_type; struct xen_psd_package domain_info.
    cppc = abi.xen_processor_cppc
    assert [(f, getattr(cppc, f).offset) for f, *_ in cppc._fields_] == [
        ("flags", 0), ("pad", 1), ("cpc", 4), ("shared_type", 28), ("domain_info", 32),
    ]
    assert ctypes.sizeof(cppc) == 72
    assert abi.xenpf_set_processor_pminfo.u.offset == 8
    assert ctypes.sizeof(abi.xenpf_set_processor_pminfo) == 112  # perf stays the largest
    assert ctypes.sizeof(abi.xenpf_ucode_revision) == 16
    assert ctypes.sizeof(abi.xen_platform_op) == 136


def test_privcmd_hypercall_matches_linux_uapi() -> None:
    # include/uapi/xen/privcmd.h: struct privcmd_hypercall { __u64 op; __u64 arg[5]; };
    assert ctypes.sizeof(abi.privcmd_hypercall) == 48
    ioc_none, ioc_type_shift, ioc_size_shift = 0, 8, 16
    expected = (ioc_none << 30) | (48 << ioc_size_shift) | (ord("P") << ioc_type_shift) | 0
    assert abi.IOCTL_PRIVCMD_HYPERCALL == expected == 0x305000


def test_constants_match_the_header() -> None:
    if not layout.HEADER.exists():
        pytest.skip("needs /usr/include/xen/platform.h (libxen-dev)")
    defines = dict(
        re.findall(r"^#define\s+(X\w+)\s+(\(?[0-9xXa-fA-FuU <]+\)?)\s*(?:/\*.*)?$",
                   layout.HEADER.read_text(), re.M)
    )
    checked = 0
    for name, value in defines.items():
        if name.startswith("XEN_EFI") or not hasattr(abi, name):
            assert hasattr(abi, name), f"{name} missing from abi"
            continue
        literal = value.strip("()").replace("U", "").replace("u", "")
        assert getattr(abi, name) == eval(literal), name  # literals only, from the header
        checked += 1
    assert checked > 40


# ------------------------------------------------------------- Xen 4.21 / 4.22
# The newest platform.h (4.21.2 = 4.22.0) has everything abi mirrors, so here
# nothing is excluded as "newer": every struct, every member, nested ones too.
GOLDEN_4_21 = Path(__file__).parent / "data" / "platform-layout-xen-4.21-x86_64.golden"
PAHOLE_4_21 = PAHOLE.parent / "platform-layout-x86_64-xen-4.21.txt"


def tags_4_21() -> list[str]:
    return layout.header_tags(layout.HEADER_4_21.read_text()) + list(layout.EXTRA_TAGS)


def test_every_struct_of_the_4_21_header_is_mirrored() -> None:
    assert [tag for tag in tags_4_21() if not hasattr(abi, tag)] == []
    assert "xenpf_microcode_update2" in tags_4_21() and "xen_processor_cppc" in tags_4_21()


def test_4_21_golden_table_matches_ctypes_whole() -> None:
    assert sorted(layout.ctypes_table(tags_4_21())) == GOLDEN_4_21.read_text().splitlines()


def test_gcc_on_the_4_21_header_matches_ctypes(tmp_path: Path) -> None:
    cc = need_gcc_and_header()
    include = layout.overlay_include(tmp_path)
    gcc = layout.gcc_table(tags_4_21(), tmp_path, cc, include)
    assert sorted(gcc) == sorted(layout.ctypes_table(tags_4_21()))
    assert sorted(gcc) == GOLDEN_4_21.read_text().splitlines()


def _pahole_tree(text: str) -> dict[str, dict[str, tuple[int, int]]]:
    """Every struct of a pahole dump: member path (nested anonymous structs and
    unions joined with dots, as ``layout.members`` names them) -> (offset,
    size), offsets from the start of the outer struct; "" -> (0, sizeof)."""
    leaf = re.compile(r"^\t+(?:.+?)\b(\w+)(?:\[\d+\])*(?::\d+)?;\s+/\*\s+(\d+)(?::\s*\d+)?\s+(\d+)\s+\*/")
    close = re.compile(r"^\t+\}\s*(\w+);\s+/\*\s+(\d+)\s+(\d+)\s+\*/")
    structs: dict[str, dict[str, tuple[int, int]]] = {}
    tag = ""
    stack: list[dict[str, tuple[int, int]]] = []
    for line in text.splitlines():
        if m := re.match(r"^(?:struct|union) (\w+) \{", line):
            tag, stack = m.group(1), [{}]
        elif re.match(r"^\t+(?:struct|union) \{", line):
            stack.append({})
        elif (m := close.match(line)) and len(stack) > 1:
            inner = stack.pop()
            name = m.group(1)
            stack[-1][name] = (int(m.group(2)), int(m.group(3)))
            stack[-1].update({f"{name}.{k}": v for k, v in inner.items()})
        elif (m := leaf.match(line)) and stack:
            stack[-1][m.group(1)] = (int(m.group(2)), int(m.group(3)))
        elif (m := re.match(r"^\t/\* size: (\d+),", line)) and len(stack) == 1:
            stack[0][""] = (0, int(m.group(1)))
        elif line.startswith("}") and stack:
            structs[tag] = stack.pop()
    return structs


def test_pahole_4_21_reference_agrees_member_by_member() -> None:
    if not PAHOLE_4_21.exists():
        pytest.skip(f"{PAHOLE_4_21} not beside the checkout")
    structs = _pahole_tree(PAHOLE_4_21.read_text())
    assert {"xen_processor_cppc", "xenpf_microcode_update2", "xen_platform_op"} <= set(structs)
    compared = 0
    for tag, pahole_members in structs.items():
        ctype = getattr(abi, tag)
        ours = {path: (offset, ctypes.sizeof(ftype), bitfield)
                for path, ftype, offset, bitfield in layout.members(ctype)}
        for path, (offset, size) in pahole_members.items():
            if path == "":
                assert ctypes.sizeof(ctype) == size, tag
                continue
            assert path in ours, (tag, path)
            o_offset, o_size, bitfield = ours[path]
            assert (o_offset, size if bitfield else o_size) == (offset, size), (tag, path)
            compared += 1
    assert compared == 292, compared  # every member pahole lists, nested ones too
    # pahole prints a size for every struct but this union:
    assert [t for t, m in structs.items() if "" not in m] == ["xenpf_efi_info"]


def test_pahole_4_21_has_the_cppc_and_microcode2_members() -> None:
    if not PAHOLE_4_21.exists():
        pytest.skip(f"{PAHOLE_4_21} not beside the checkout")
    structs = _pahole_tree(PAHOLE_4_21.read_text())
    assert structs["xen_processor_cppc"]["cpc.nominal_mhz"] == (24, 4)
    assert structs["xenpf_microcode_update2"] == {"": (0, 16), "flags": (0, 4),
                                                  "length": (4, 4), "data": (8, 8)}
    assert structs["xenpf_set_processor_pminfo"]["u.cppc_data"] == (8, 72)
    assert abi.xen_platform_op_u.microcode2.offset == 0
