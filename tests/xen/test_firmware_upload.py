"""From firmware to Xen in a real dom0: every physical CPU gets its own tables.

One VM for this module (see firmware_vm.py): Xen 4.17 with 4 physical CPUs, dom0 with one vCPU,
and an SSDT (percpu-power.asl) that gives each of QEMU's processors different power objects, some
chosen by the ``_PDC``/``_OSC`` handshake, one read from machine memory.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from .firmware_vm import PHYSICAL_CPUS, boot_firmware_vm, compile_ssdt
from .vm import XenVM

pytestmark = pytest.mark.xen


@pytest.fixture(scope="module")
def ssdt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return compile_ssdt(tmp_path_factory.mktemp("ssdt"))


@pytest.fixture(scope="module")
def firmware_vm(ssdt: Path) -> Iterator[XenVM]:
    with boot_firmware_vm(ssdt) as vm:
        yield vm


def test_dom0_sees_the_ssdt_one_vcpu_and_xen_all_cpus(firmware_vm: XenVM, ssdt: Path) -> None:
    # The firmware's table reached dom0 byte for byte (-acpitable file= keeps its header).
    shown = firmware_vm.run("od -An -v -tx1 /sys/firmware/acpi/tables/SSDT")
    assert shown.returncode == 0, shown.output
    assert bytes.fromhex(shown.stdout.replace("\n", " ").replace(" ", "")) == ssdt.read_bytes()
    vcpus = firmware_vm.run("nproc")
    assert vcpus.stdout.strip() == "1", vcpus.output
    cpus = firmware_vm.run("python3 -m pyxenplatform cpus --json")
    assert cpus.returncode == 0, cpus.output
    assert [(c["xen_cpuid"], c["acpi_id"], c["online"]) for c in json.loads(cpus.stdout)] == [
        (n, n, True) for n in range(PHYSICAL_CPUS)
    ]
