"""A REPL session with pyxenplatform, against the simulated Xen.

Every ``>>>`` line below runs as written (``python examples/repl_walkthrough.py``
checks them with :mod:`doctest`).  In a real dom0 replace
``Hypervisor.simulated(...)`` by ``Hypervisor()``; everything else is the same,
except that only the simulated Xen can say which C-states it kept.

A host with two physical CPUs whose ACPI ids are 2 and 4 -- firmware numbers
processors as it likes, and power data is keyed by *ACPI id*, not by Xen's
CPU number (``xen_cpuid``):

>>> from pyxenplatform import (CState, CxInfo, Hypervisor, PhysicalCpu, Register,
...                            SpaceId, ValidationError, load_table)
>>> hv = Hypervisor.simulated([PhysicalCpu(xen_cpuid=0, acpi_id=2, apic_id=0, online=True),
...                            PhysicalCpu(xen_cpuid=1, acpi_id=4, apic_id=2, online=True)])
>>> for cpu in hv.physical_cpus():          # XENPF_get_cpuinfo, CPU 0 first
...     print(cpu.xen_cpuid, cpu.acpi_id)
0 2
1 4

C-states by hand (latency in us, power in mW; ``Register.ffh(hint)`` is an
MWAIT hint, ``Register.system_io(port)`` a P_LVLx port read):

>>> cx = CxInfo((CState(1, latency=1, power=1000, register=Register.ffh(0x00)),
...              CState(2, latency=1, power=500, register=Register.system_io(0x1014)),
...              CState(3, latency=35, power=250, register=Register.system_io(0x1015))))
>>> result = hv.upload_cx(2, cx)
>>> result.ok, result.kept
(True, (0, 1, 2, 3))
>>> hv.transport.held(2).cstate_types     # what Xen holds: C0, C1, C2, C3
[0, 1, 2, 3]
>>> hv.transport.held(4).cstate_types     # nothing uploaded for ACPI id 4 yet
[]

Xen drops a state its ``check_cx`` dislikes *silently* and still returns 0.
This CPU has two MWAIT sub-states of C3 (CPUID leaf 5), so hint 0x23 (C3,
sub-state 3) is dropped; the simulated Xen says so:

>>> result = hv.upload_cx(4, CxInfo((CState(3, 100, 100, Register.ffh(0x23)),)))
>>> result.ok, result.kept, result.dropped
(True, (0, 1), ('C3: the CPU has no MWAIT sub-state 0x23',))

An ACPI id no physical CPU has: Xen answers EINVAL, the result carries it
(nothing is raised, so one bad id does not stop the rest of a table):

>>> result = hv.upload_cx(3, cx)
>>> result.ok, result.errno
(False, 22)

A table from a file (TOML or JSON, see ``examples/``):

>>> from pathlib import Path
>>> table = load_table(Path(__file__).with_name("per-cpu.toml"))
>>> [p.acpi_ids for p in table.processors]
['all', (4,)]
>>> outcome = hv.upload_table(table)
>>> [(r.acpi_id, r.kind, r.kept) for r in outcome.results]
[(2, 'cx', (0, 1, 2, 3)), (4, 'cx', (0, 1))]

Data Xen would drop is refused *before* anything is sent, with the path
of the offending field and the rule (FFH needs bit_width 1, bit_offset 2):

>>> halt_c1 = Register(SpaceId.FIXED_HARDWARE, bit_width=0, bit_offset=0)
>>> hv.upload_cx(2, CxInfo((CState(1, 1, 1000, halt_c1),)))
Traceback (most recent call last):
  ...
pyxenplatform.errors.ValidationError: cx.states[0].register: an FFH register needs bit_width 1 (vendor Intel) and bit_offset 2 (native C-state beyond halt), not 0/0: Xen drops the state (cpu_idle.c check_cx)
>>> try:
...     hv.upload_cx(2, CxInfo((CState(0, 0, 0, Register.ffh(0x00)),)))
... except ValidationError as exc:
...     print(exc.path)
cx.states[0].type
>>> hv.close()
"""

if __name__ == "__main__":
    import doctest
    import sys

    failures, _ = doctest.testmod()
    sys.exit(1 if failures else 0)
