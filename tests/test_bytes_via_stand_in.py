"""The bytes the real transport hands to the ioctl, as Xen's headers decode them.

Each test runs the package in a subprocess with the C stand-in privcmd
preloaded (tests/stand_in): the package's own Privcmd transport issues real
ioctls, and the stand-in decodes them through ``<xen/platform.h>`` -- not
through pyxenplatform.abi -- and checks every buffer is in locked memory.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from tests.stand_in.fixtures import FakePrivcmd

EXAMPLE_CX = """
from pyxenplatform import *
hv = Hypervisor()
cx = CxInfo((CState(1, 1, 1000, Register.ffh(0x00)),
             CState(2, 64, 500, Register.system_io(0x414),
                    (CStateDependency(0, 0xFD, 2),)),
             CState(3, 96, 250, Register.system_io(0x415))),
            CxFlags(bm_check=True, bm_control=False, has_cst=True))
print(hv.upload_cx(4, cx).ok)
"""


def set_pminfo_records(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in records if r.get("cmd") == 54]


def test_cx_bytes_are_what_xen_reads(fake_privcmd: FakePrivcmd) -> None:
    run = fake_privcmd([sys.executable, "-c", EXAMPLE_CX], cpus="0:0:2,1:2:4")
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "True"
    (rec,) = set_pminfo_records(run.records)
    assert rec["interface_version"] == 0x03000001 and rec["errno"] == 0
    assert all(b["locked"] for b in rec["buffers"]), rec["buffers"]
    info = rec["set_pminfo"]
    assert (info["id"], info["type"]) == (4, 0)
    power = info["power"]
    assert power["count"] == 3
    assert power["flags"] == {"bm_control": 0, "bm_check": 1, "has_cst": 1,
                              "power_setup_done": 0, "bm_rld_set": 0}
    s1, s2, s3 = power["states"]
    assert s1["reg"] == {"space_id": 0x7F, "bit_width": 1, "bit_offset": 2,
                         "access_size": 1, "address": 0}
    assert (s1["type"], s1["latency"], s1["power"], s1["dpcnt"]) == (1, 1, 1000, 0)
    assert s2["reg"] == {"space_id": 1, "bit_width": 8, "bit_offset": 0,
                         "access_size": 1, "address": 0x414}
    assert (s2["type"], s2["latency"], s2["power"], s2["dpcnt"]) == (2, 64, 500, 1)
    assert s2["dp"] == [{"domain": 0, "coord_type": 0xFD, "num": 2}]
    assert (s3["type"], s3["reg"]["address"]) == (3, 0x415)


PX = """
from pyxenplatform import *
hv = Hypervisor()
px = PxInfo(Register(0x7F, 0, 0, 0, 0), Register(0x7F, 0, 0, 0, 0),
            (PState(2401, 35000, 10, 10, 0x1800, 0x1800),
             PState(1600, 20000, 10, 10, 0x1000, 0x1000)),
            PsdDomain(0, CoordType.SW_ANY, 2), ppc=1)
r = hv.upload_px(2, px)
print(r.errno)
r = hv.set_ppc(2, px, 0)
print(r.errno, list(r.sent["flags"]))
"""


def test_px_bytes_and_enodev(fake_privcmd: FakePrivcmd) -> None:
    run = fake_privcmd([sys.executable, "-c", PX], cpus="0:0:2,1:2:4", errno="54/1=19")
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["19", "19", "['PPC']"]
    full, ppc_only = set_pminfo_records(run.records)
    perf = full["set_pminfo"]["perf"]
    assert perf["flags"] == 15 and perf["platform_limit"] == 1
    assert perf["control_register"] == {"descriptor": 0x82, "length": 12, "space_id": 0x7F,
                                        "bit_width": 0, "bit_offset": 0, "reserved": 0,
                                        "address": 0}
    assert perf["state_count"] == 2
    assert perf["states"][0] == {"core_frequency": 2401, "power": 35000,
                                 "transition_latency": 10, "bus_master_latency": 10,
                                 "control": 0x1800, "status": 0x1800}
    assert perf["domain_info"] == {"num_entries": 5, "revision": 0, "domain": 0,
                                   "coord_type": 0xFD, "num_processors": 2}
    assert perf["shared_type"] == 3  # XEN_CPUPERF_SHARED_TYPE_ANY for SW_ANY
    assert ppc_only["set_pminfo"]["perf"]["flags"] == 4
    assert ppc_only["set_pminfo"]["perf"]["platform_limit"] == 0


PDC = """
from pyxenplatform import *
hv = Hypervisor()
first = hv.upload_pdc(2, Pdc((0x3B,)))
again = hv.upload_pdc(2, Pdc((0x3B,)))
print(hex(first.pdc_out), again == first)
"""


def test_pdc_is_sent_every_time_and_pdc_out_is_the_word_xen_wrote(
        fake_privcmd: FakePrivcmd) -> None:
    # Privcmd.platform_op_image (the hot path) reads back what Xen wrote.
    run = fake_privcmd([sys.executable, "-c", PDC], cpus="0:0:2")
    assert run.returncode == 0, run.stderr
    written = (0x3B & 0x0084) | 0x031A | 0x082B  # the stand-in's answer, as Xen's
    assert run.stdout.split() == [hex(written), "True"]
    records = set_pminfo_records(run.records)
    assert [(r["set_pminfo"]["id"], r["set_pminfo"]["pdc"]) for r in records] == \
        [(2, [1, 1, 0x3B])] * 2
    assert all(r["set_pminfo"]["pdc_out"] == written for r in records)


def test_all_means_physical_cpus_cpu0_first(fake_privcmd: FakePrivcmd, tmp_path: Path) -> None:
    table = tmp_path / "t.json"
    table.write_text(json.dumps({"processors": [{"acpi_id": "all", "pdc": 0x3B, "cx": {
        "states": [{"type": 1, "latency": 1, "power": 1000,
                    "register": {"space_id": "FFH", "bit_width": 1, "bit_offset": 2}}]}}]}))
    # Xen CPU ids 0..3 whose ACPI ids are 6, 2, 8, 4: CPU 0 is ACPI id 6.
    run = fake_privcmd([sys.executable, "-m", "pyxenplatform", "upload", str(table), "--json"],
                       cpus="0:0:6,1:2:2,2:4:8,3:6:4")
    assert run.returncode == 0, run.stderr
    sent = [(r["set_pminfo"]["id"], r["set_pminfo"]["type"])
            for r in set_pminfo_records(run.records)]
    assert sent == [(6, 3), (6, 0), (2, 3), (2, 0), (8, 3), (8, 0), (4, 3), (4, 0)]
    pdc = set_pminfo_records(run.records)[0]["set_pminfo"]["pdc"]
    assert pdc[:3] == [1, 1, 0x3B]
    report = json.loads(run.stdout)
    assert [r["acpi_id"] for r in report["results"]] == [6, 6, 2, 2, 8, 8, 4, 4]


def test_cpus_json_lists_physical_cpus(fake_privcmd: FakePrivcmd) -> None:
    run = fake_privcmd([sys.executable, "-m", "pyxenplatform", "cpus", "--json"],
                       cpus="0:0:2,1:2:4,3:6:8:offline")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["cpus"] == [
        {"xen_cpuid": 0, "acpi_id": 2, "apic_id": 0, "online": True},
        {"xen_cpuid": 1, "acpi_id": 4, "apic_id": 2, "online": True},
        {"xen_cpuid": 3, "acpi_id": 8, "apic_id": 6, "online": False},
    ]


def test_unknown_acpi_id_is_reported_with_hint(fake_privcmd: FakePrivcmd) -> None:
    code = EXAMPLE_CX.replace("hv.upload_cx(4, cx).ok", "hv.upload_cx(9, cx).error")
    run = fake_privcmd([sys.executable, "-c", code], cpus="0:0:2,1:2:4")
    assert "for ACPI id 9 failed: EINVAL" in run.stdout
    assert "No CPU for ACPI ID" in run.stdout


def test_cli_refusal_exits_1_with_one_line(fake_privcmd: FakePrivcmd, tmp_path: Path) -> None:
    table = tmp_path / "t.toml"
    table.write_text('[[processors]]\nacpi_id = 9\npdc = 0x3b\n')
    run = fake_privcmd([sys.executable, "-m", "pyxenplatform", "upload", str(table)],
                       cpus="0:0:2")
    assert run.returncode == 1
    errors = [line for line in run.stderr.splitlines() if line.startswith("pyxenplatform:")]
    assert len(errors) == 1 and "ACPI id 9" in errors[0] and "EINVAL" in errors[0]
    assert "Traceback" not in run.stderr


def test_eperm_exits_4(fake_privcmd: FakePrivcmd) -> None:
    run = fake_privcmd([sys.executable, "-m", "pyxenplatform", "cpus"], errno="55=1")
    assert run.returncode == 4
    assert "EPERM" in run.stderr and "root in dom0" in run.stderr


def test_buffers_come_from_locked_pages(fake_privcmd: FakePrivcmd) -> None:
    code = ("from pyxenplatform import Hypervisor\nhv = Hypervisor()\nhv.physical_cpus()\n"
            "print(hv.transport.arena.kind)\n"
            "print([l for l in open('/proc/self/status') if l.startswith('VmLck')][0].strip())")
    run = fake_privcmd([sys.executable, "-c", code])
    assert run.returncode == 0, run.stderr
    kind, vmlck = run.stdout.splitlines()
    assert kind == "locked anonymous"  # no /dev/xen/hypercall outside a dom0
    assert int(vmlck.split()[1]) >= 4  # kB locked: the arena's page
    assert all(b["locked"] for r in run.records for b in r["buffers"])
