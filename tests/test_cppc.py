"""CPPC (``XEN_PM_CPPC``, Xen 4.21+): rules, schema, bytes, and 4.21's cpufreq modes.

Xen's behaviour mirrored here is ``set_cppc_pminfo`` in
``xen/drivers/cpufreq/cpufreq.c`` and ``do_platform_op`` in
``xen/arch/x86/platform_hypercall.c`` at tag RELEASE-4.21.0 (4.17 for the
"unknown type" answer).  The bytes are decoded through Xen 4.21's layout
twice, independently of ``pyxenplatform.abi``: at the offsets of pahole's
4.21 dump, and by the C stand-in compiled against 4.21.2's ``platform.h``.
"""

from __future__ import annotations

import errno
import json
import struct
import sys
from pathlib import Path

import pytest

from pyxenplatform import Hypervisor, SimulatedXen, abi, cli, load_table
from pyxenplatform.cppc_rules import check_cppc, what_xen_keeps
from pyxenplatform.errors import ValidationError
from pyxenplatform.marshal import build_cppc
from pyxenplatform import CoordType, CppcInfo, Pdc, PsdDomain
from pyxenplatform.sources import table_from_mapping
from tests.stand_in.fixtures import FakePrivcmd
from tests.test_abi_layout import PAHOLE_4_21, _pahole_tree

ROOT = Path(__file__).resolve().parent.parent
HW = PsdDomain(0, CoordType.HW_ALL, 2)
ZEN4 = CppcInfo(166, 120, 41, 18, HW, lowest_mhz=400, nominal_mhz=4501)
PERF_BROKEN = "Broken CPPC perf values"


# ------------------------------------------------------------------ rules


def test_good_cppc_has_no_warnings() -> None:
    assert check_cppc("cppc", ZEN4) == []


@pytest.mark.parametrize("coord", [CoordType.SW_ALL, CoordType.SW_ANY])
def test_sharing_type_other_than_hw_is_an_error(coord: CoordType) -> None:
    with pytest.raises(ValidationError) as exc:
        check_cppc("cppc", CppcInfo(166, 120, 41, 18, PsdDomain(0, coord, 2)))
    assert exc.value.path == "cppc.psd.coord_type"
    assert "only HW_ALL" in exc.value.rule and "EINVAL" in exc.value.rule


def test_bad_psd_and_u32_overflow_are_errors() -> None:
    with pytest.raises(ValidationError, match=r"cppc\.psd\.num_entries: 4"):
        check_cppc("cppc", CppcInfo(166, 120, 41, 18, PsdDomain(0, 0xFE, 2, num_entries=4)))
    with pytest.raises(ValidationError, match=r"cppc\.nominal_mhz: 4294967296 does not fit"):
        check_cppc("cppc", CppcInfo(166, 120, 41, 18, HW, nominal_mhz=1 << 32))
    with pytest.raises(ValidationError, match=r"cppc\.lowest_perf: -1 does not fit"):
        check_cppc("cppc", CppcInfo(166, 120, 41, -1, HW))


@pytest.mark.parametrize(("cppc", "what"), [
    (CppcInfo(0, 120, 41, 18, HW), "cppc.highest_perf: 0"),
    (CppcInfo(166, 0, 41, 18, HW), "cppc.nominal_perf: 0"),
    (CppcInfo(166, 120, 0, 18, HW), "cppc.lowest_nonlinear_perf: 0"),
    (CppcInfo(166, 120, 41, 0, HW), "cppc.lowest_perf: 0"),
    (CppcInfo(300, 120, 41, 18, HW), "cppc.highest_perf: 300 is above 255"),
    (CppcInfo(166, 120, 41, 50, HW), "cppc.lowest_perf: 50 is above lowest_nonlinear_perf 41"),
    (CppcInfo(166, 120, 130, 18, HW),
     "cppc.lowest_nonlinear_perf: 130 is above nominal_perf 120"),
    (CppcInfo(166, 170, 41, 18, HW), "cppc.nominal_perf: 170 is above highest_perf 166"),
])
def test_broken_perf_values_warn_saying_what_xen_does(cppc: CppcInfo, what: str) -> None:
    warnings = check_cppc("cppc", cppc)
    assert any(w.startswith(f"{what}: ") for w in warnings), warnings
    assert all(PERF_BROKEN in w and "reads the four perf values from the CPU" in w
               for w in warnings)
    assert what_xen_keeps(cppc) == cppc  # Xen keeps them as they are


def test_lowest_mhz_above_nominal_warns_and_xen_resets_both() -> None:
    cppc = CppcInfo(166, 120, 41, 18, HW, lowest_mhz=4501, nominal_mhz=400)
    (warning,) = check_cppc("cppc", cppc)
    assert warning.startswith("cppc.lowest_mhz: 4501 MHz is above nominal_mhz 400 MHz")
    assert "resets both to 0" in warning
    assert what_xen_keeps(cppc) == CppcInfo(166, 120, 41, 18, HW)
    # nominal_mhz 0 means "absent": Xen does not compare then.
    absent = CppcInfo(166, 120, 41, 18, HW, lowest_mhz=400)
    assert check_cppc("cppc", absent) == [] and what_xen_keeps(absent) == absent


# ----------------------------------------------------------------- schema


def test_toml_and_json_cppc_load_alike() -> None:
    toml = load_table(ROOT / "examples" / "cppc-amd-zen4.toml")
    assert toml == load_table(ROOT / "examples" / "cppc-amd-zen4.json")
    assert toml.processors[0].cppc == ZEN4


def test_cppc_keys_are_xens_names_and_mhz_default_to_0() -> None:
    table = table_from_mapping({"processors": [{"acpi_id": "0x2", "cppc": {
        "highest_perf": "0xa6", "nominal_perf": 120, "lowest_nonlinear_perf": 41,
        "lowest_perf": 18, "psd": {"domain": 0, "coord_type": "hw_all", "num_processors": 2}}}]})
    assert table.processors[0].cppc == CppcInfo(166, 120, 41, 18, HW)
    with pytest.raises(ValidationError, match=r"processors\[0\]\.cppc\.psd: missing"):
        table_from_mapping({"processors": [{"acpi_id": 0, "cppc": {
            "highest_perf": 1, "nominal_perf": 1, "lowest_nonlinear_perf": 1,
            "lowest_perf": 1}}]})


# ------------------------------------------------------------------ bytes


def _u(fmt: str, data: bytes, offset: int) -> int:
    value: int = struct.unpack_from(fmt, data, offset)[0]
    return value


def test_cppc_op_bytes_through_the_4_21_pahole_layout() -> None:
    """Every field at the offset pahole gives for 4.21.2's header, not abi's."""
    if not PAHOLE_4_21.exists():
        pytest.skip(f"{PAHOLE_4_21} not beside the checkout")
    tree = _pahole_tree(PAHOLE_4_21.read_text())
    sim = SimulatedXen()
    op = build_cppc(sim, 3, CppcInfo(166, 120, 41, 18, HW, 400, 4501))
    raw = bytes(op)
    assert len(raw) == tree["xen_platform_op"][""][1]
    base = tree["xen_platform_op"]["u"][0]
    assert _u("<I", raw, tree["xen_platform_op"]["cmd"][0]) == 54
    assert _u("<I", raw, tree["xen_platform_op"]["interface_version"][0]) == 0x03000001
    pm = tree["xenpf_set_processor_pminfo"]
    assert _u("<I", raw, base + pm["id"][0]) == 3
    assert _u("<I", raw, base + pm["type"][0]) == 4  # XEN_PM_CPPC
    cppc = base + pm["u.cppc_data"][0]
    t = tree["xen_processor_cppc"]
    assert raw[cppc + t["flags"][0]] == 3  # XEN_CPPC_PSD | XEN_CPPC_CPC
    assert raw[cppc + t["pad"][0]: cppc + t["pad"][0] + t["pad"][1]] == b"\0\0\0"
    got = {name: _u("<I", raw, cppc + t[f"cpc.{name}"][0]) for name in (
        "highest_perf", "nominal_perf", "lowest_nonlinear_perf", "lowest_perf",
        "lowest_mhz", "nominal_mhz")}
    assert got == {"highest_perf": 166, "nominal_perf": 120, "lowest_nonlinear_perf": 41,
                   "lowest_perf": 18, "lowest_mhz": 400, "nominal_mhz": 4501}
    assert _u("<I", raw, cppc + t["shared_type"][0]) == 1  # CPUFREQ_SHARED_TYPE_HW
    psd = cppc + t["domain_info"][0]
    p = tree["xen_psd_package"]
    assert [_u("<Q", raw, psd + p[n][0]) for n in
            ("num_entries", "revision", "domain", "coord_type", "num_processors")] == \
        [5, 0, 0, 0xFE, 2]
    # The rest of the union is zero: nothing else travels with the op.
    end = cppc + t[""][1]
    assert raw[end:] == bytes(len(raw) - end)


CPPC_UPLOAD = """
from pyxenplatform import *
from pyxenplatform.model import CppcInfo, PsdDomain, CoordType
hv = Hypervisor()
r = hv.upload_cppc(4, CppcInfo(166, 120, 41, 18, PsdDomain(0, CoordType.HW_ALL, 2), 400, 4501))
print(r.errno)
print(r.error)
"""


def test_cppc_bytes_as_xen_4_21s_header_decodes_them(fake_privcmd_4_21: FakePrivcmd) -> None:
    run = fake_privcmd_4_21([sys.executable, "-c", CPPC_UPLOAD], cpus="0:0:2,1:2:4")
    assert run.returncode == 0, run.stderr
    assert run.stdout.split("\n")[:2] == ["0", "None"]
    (rec,) = [r for r in run.records if r.get("cmd") == 54]
    assert rec["errno"] == 0 and all(b["locked"] for b in rec["buffers"])
    info = rec["set_pminfo"]
    assert (info["id"], info["type"]) == (4, 4)
    assert info["cppc_data"] == {
        "flags": 3, "pad": [0, 0, 0],
        "cpc": {"highest_perf": 166, "nominal_perf": 120, "lowest_nonlinear_perf": 41,
                "lowest_perf": 18, "lowest_mhz": 400, "nominal_mhz": 4501},
        "shared_type": 1,
        "domain_info": {"num_entries": 5, "revision": 0, "domain": 0, "coord_type": 0xFE,
                        "num_processors": 2}}


def test_cppc_on_a_4_17_stand_in_says_xen_is_too_old(fake_privcmd: FakePrivcmd) -> None:
    """4.17's header has no XEN_PM_CPPC: type 4 is an unknown type (EINVAL)."""
    run = fake_privcmd([sys.executable, "-c", CPPC_UPLOAD], cpus="0:0:2,1:2:4")
    assert run.returncode == 0, run.stderr
    errno_line, error = run.stdout.splitlines()[:2]
    assert errno_line == "22"
    assert "Xen is too old for CPPC (needs 4.21): this is Xen 4.17" in error
    assert "ACPI id" not in error.split("failed:")[1]  # the cause is not the ACPI id
    assert [r["cmd"] for r in run.records if r.get("cmd")] == [54]


# --------------------------------------------------- simulated Xen modes


def test_cppc_mode_keeps_cppc_and_drops_px() -> None:
    sim = SimulatedXen(cpufreq="amd-cppc")
    hv = Hypervisor(sim)
    r = hv.upload_cppc(1, ZEN4)
    assert r.ok and r.dropped == ()
    assert sim.held(1).cppc == ZEN4 and sim.held(1).cppc_initialised
    px = load_table(ROOT / "examples" / "px-pstates.toml").processors[0].px
    assert px is not None
    r = hv.upload_px(1, px)
    assert r.ok and r.dropped and "not in P-state mode (cpufreq=amd-cppc)" in r.dropped[0]


def test_px_mode_drops_cppc_with_0() -> None:
    sim = SimulatedXen()  # cpufreq=xen, Xen 4.22
    r = Hypervisor(sim).upload_cppc(0, ZEN4)
    assert r.ok and "not in CPPC mode (cpufreq=xen)" in r.dropped[0]
    assert sim.held(0).cppc is None


def test_xen_resets_a_broken_mhz_pair() -> None:
    sim = SimulatedXen(cpufreq="amd-cppc")
    r = Hypervisor(sim).upload_cppc(0, CppcInfo(166, 120, 41, 18, HW, lowest_mhz=4501,
                                                nominal_mhz=400))
    assert r.ok and "Xen holds 0 for both" in r.dropped[0]
    held = sim.held(0).cppc
    assert held is not None and (held.lowest_mhz, held.nominal_mhz) == (0, 0)


def test_unknown_acpi_id_in_cppc_mode_is_einval_naming_the_id() -> None:
    r = Hypervisor.simulated(cpufreq="amd-cppc").upload_cppc(9, ZEN4)
    assert r.errno == errno.EINVAL and r.error is not None
    assert "no physical CPU has this ACPI id" in r.error and "too old" not in r.error


def test_pre_4_21_refuses_cppc_as_too_old_and_nothing_else_changes() -> None:
    hv = Hypervisor.simulated(xen_version=(4, 17))
    table = table_from_mapping({"processors": [{"acpi_id": "all", "pdc": 0xBBF, "cppc": {
        "highest_perf": 166, "nominal_perf": 120, "lowest_nonlinear_perf": 41,
        "lowest_perf": 18, "psd": {"domain": 0, "coord_type": "HW_ALL", "num_processors": 2}}}]})
    result = hv.upload_table(table)
    assert [(r.acpi_id, r.kind, r.errno) for r in result.results] == [
        (0, "pdc", 0), (0, "cppc", 22), (1, "pdc", 0), (1, "cppc", 22)]
    for r in result.failed:
        assert r.error is not None
        assert "Xen is too old for CPPC (needs 4.21): this is Xen 4.17" in r.error
        assert "no physical CPU" not in r.error


def test_amd_cppc_mode_needs_4_21() -> None:
    with pytest.raises(ValueError, match="needs Xen 4.21"):
        SimulatedXen(cpufreq="amd-cppc", xen_version=(4, 20))


def test_pdc_answer_in_cppc_mode_leaves_p_bits_to_firmware() -> None:
    """4.21: in CPPC mode xen_processor_pmbits has no PX, so Xen does not take
    the _PDC P-state bits (acpi_set_pdc_bits masks only what it controls)."""
    px_mode = Hypervisor.simulated().upload_pdc(0, Pdc((0xBBF,)))
    cppc_mode = Hypervisor.simulated(cpufreq="amd-cppc").upload_pdc(0, Pdc((0xBBF,)))
    assert px_mode.pdc_out is not None and cppc_mode.pdc_out is not None
    p_mask = abi.ACPI_PDC_P_MASK
    assert cppc_mode.pdc_out & p_mask == 0xBBF & p_mask
    assert px_mode.pdc_out & p_mask != 0xBBF & p_mask


# ---------------------------------------------------------------- the CLI


CPPC_TABLES = {
    "good": ({"highest_perf": 166, "nominal_perf": 120, "lowest_nonlinear_perf": 41,
              "lowest_perf": 18, "lowest_mhz": 400, "nominal_mhz": 4501}, None),
    "perf-zero": ({"highest_perf": 0, "nominal_perf": 0, "lowest_nonlinear_perf": 0,
                   "lowest_perf": 0}, None),
    "mhz-swapped": ({"highest_perf": 166, "nominal_perf": 120, "lowest_nonlinear_perf": 41,
                     "lowest_perf": 18, "lowest_mhz": 4501, "nominal_mhz": 400}, None),
    "highest-256": ({"highest_perf": 256, "nominal_perf": 120, "lowest_nonlinear_perf": 41,
                     "lowest_perf": 18}, None),
    "sw-any": ({"highest_perf": 166, "nominal_perf": 120, "lowest_nonlinear_perf": 41,
                "lowest_perf": 18}, "SW_ANY"),
}


def _write(tmp_path: Path, name: str) -> Path:
    cpc, coord = CPPC_TABLES[name]
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps({"processors": [{"acpi_id": "all", "cppc": {
        **cpc, "psd": {"domain": 0, "coord_type": coord or "HW_ALL", "num_processors": 2}}}]}))
    return path


@pytest.mark.parametrize("name", sorted(CPPC_TABLES))
def test_check(name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, name)
    code = cli.main(["-v", "check", str(path)])
    out, err = capsys.readouterr()
    if name == "sw-any":
        assert code == 2 and out == ""
        assert err.strip() == (f"pyxenplatform: error: {path}: processors[0].cppc.psd."
                               "coord_type: 0xfd: in CPPC mode Xen accepts only HW_ALL (0xfe) "
                               "coordination and refuses any other with EINVAL ('Unsupported "
                               "sharing type', cpufreq.c set_cppc_pminfo)")
        return
    assert code == 0 and out.startswith(f"{path}: ok")
    notes = {"good": 0, "perf-zero": 4, "mhz-swapped": 1, "highest-256": 1}[name]
    assert err.count("INFO: ") == notes, err


# (mode, version) -> what each ACPI id's cppc result is: errno and a fragment
# of the dropped / error text ("" = kept whole).
MODES = {
    ("amd-cppc", "4.22"): (0, ""),
    ("xen", "4.22"): (0, "not in CPPC mode (cpufreq=xen)"),
    ("none", "4.22"): (0, "not in CPPC mode (cpufreq=none)"),
    ("xen", "4.17"): (22, "Xen is too old for CPPC (needs 4.21)"),
    ("none", "4.17"): (22, "Xen is too old for CPPC (needs 4.21)"),
}


@pytest.mark.parametrize(("mode", "version"), sorted(MODES))
@pytest.mark.parametrize("name", ["good", "perf-zero", "mhz-swapped", "highest-256"])
def test_upload_dry_run_in_each_mode(name: str, mode: str, version: str, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, name)
    code = cli.main(["upload", str(path), "--dry-run", "--json", "--cpufreq", mode,
                     "--xen-version", version])
    out, err = capsys.readouterr()
    report = json.loads(out)
    err_no, text = MODES[(mode, version)]
    assert code == (1 if err_no else 0), err
    assert [(r["acpi_id"], r["kind"], r["errno"]) for r in report["results"]] == \
        [(0, "cppc", err_no), (1, "cppc", err_no)]
    for r in report["results"]:
        said = r["error"] if err_no else " ".join(d["reason"] for d in r["dropped"])
        if name == "mhz-swapped" and (mode, version) == ("amd-cppc", "4.22"):
            text = "Xen holds 0 for both"
        assert (text in said) if text else said == "", said
        assert r["sent"]["flags"] == ["CPC", "PSD"]


def test_sw_any_upload_is_refused_before_sending(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["upload", str(_write(tmp_path, "sw-any")), "--dry-run",
                     "--cpufreq", "amd-cppc"])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and "only HW_ALL" in err


def test_amd_cppc_before_4_21_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["upload", str(ROOT / "examples" / "cppc-amd-zen4.toml"), "--dry-run",
                     "--cpufreq", "amd-cppc", "--xen-version", "4.17"])
    assert code == 2
    assert "--cpufreq: Xen 4.17 has no amd-cppc driver" in capsys.readouterr().err


def test_show_prints_the_cppc_fields(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["show", str(ROOT / "examples" / "cppc-amd-zen4.toml")]) == 0
    friendly = capsys.readouterr().out
    assert "u.set_pminfo.type = 4 (XEN_PM_CPPC)" in friendly
    assert "u.set_pminfo.u.cppc_data.flags = 0x3 (PSD|CPC)" in friendly
    assert "u.set_pminfo.u.cppc_data.cpc.nominal_mhz = 4501 MHz" in friendly
    assert "u.set_pminfo.u.cppc_data.shared_type = 1 (HW)" in friendly
    assert cli.main(["show", str(ROOT / "examples" / "cppc-amd-zen4.toml"), "--hex"]) == 0
    out = capsys.readouterr().out  # the raw view
    assert "u.set_pminfo.type = 4" in out
    assert "u.set_pminfo.u.cppc_data.flags = 0x3" in out
    assert "u.set_pminfo.u.cppc_data.pad = [0, 0, 0]" in out
    assert "u.set_pminfo.u.cppc_data.cpc.nominal_mhz = 0x1195" in out
    assert "u.set_pminfo.u.cppc_data.shared_type = 0x1" in out


# ------------------------------------------------------------- status


def test_status_says_which_xen_each_upload_needs() -> None:
    from pyxenplatform.xen_features import describe, features

    assert [f["available"] for f in features((4, 17))] == [True, False]
    assert [f["available"] for f in features((4, 22))] == [True, True]
    assert [f["available"] for f in features(None)] == [None, None]
    assert describe((4, 20))[1] == ("Xen 4.20: XEN_PM_CPPC (_CPC + _PSD, used with "
                                    "cpufreq=amd-cppc) needs Xen 4.21: not available")
