"""The acpiexec oracle's own parser, on acpiexec output captured by hand and on known machines.

If the oracle misread acpiexec, the comparison with the AML reader would prove
nothing: these tests pin its reading of every value form, then check values
read by hand from acpiexec's output for real machines.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pyxenplatform.acpi.tables import load_tables
from tests import acpiexec, acpiexec_values
from tests.acpi.support import machine_tables, tool

# acpiexec 20200925's stdout for a few evaluations (tests/data/asl style), verbatim.
CAPTURED = """\
- evaluate \\PKG1
Evaluating \\PKG1
Evaluation of \\PKG1 returned object 0x5603853d6d60, external buffer length 158
  [Package] Contains 7 Elements:
    [Integer] = 0000000000000001
    [String] Length 03 = "two"
    [Buffer] Length 03 =     0000: 01 02 03                                         // ...
    [Package] Contains 2 Elements:
      [Integer] = 0000000000000004
      [Integer] = 0000000000000005
    [Integer] = 0000000000001234
    [String] Length 0D = "hello \\"x\\" \\\\"
    [Package] Contains 3 Elements:
      [Integer] = 0000000000000001
      [Null Object] (Type=0)
      [Null Object] (Type=0)

- evaluate \\RT
Evaluating \\RT
Evaluation of \\RT returned object 0x5603853d6d60, external buffer length 30
  [Buffer] Length 11 = 
    0000: 82 0C 00 7F 01 02 01 10 00 00 00 00 00 00 00 79  // ...............y
    0010: 00                                               // .

- evaluate \\BUF1
Evaluating \\BUF1
Evaluation of \\BUF1 returned object 0x5603853d6d60, external buffer length 30
  [Buffer] Length 14 = 
    0000: 01 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00  // ................
    0010: 00 00 00 00                                      // ....

- evaluate \\NORT
Evaluating \\NORT
No object was returned from evaluation of \\NORT
- evaluate \\FAIL
Evaluating \\FAIL
Evaluation of \\FAIL failed with status AE_AML_PACKAGE_LIMIT
- evaluate \\EBUF
Evaluating \\EBUF
Evaluation of \\EBUF returned object 0x5603853d6d60, external buffer length 18
  [Buffer] Length 00 = 

- quit
"""
COMMANDS = ["evaluate \\PKG1", "evaluate \\RT", "evaluate \\BUF1", "evaluate \\NORT",
            "evaluate \\FAIL", "evaluate \\EBUF"]


def test_every_value_form_of_captured_output() -> None:
    sections = acpiexec.split_by_command(CAPTURED, COMMANDS)
    values = [acpiexec_values.evaluation_value(s) for s in sections]
    assert values == [
        [1, {"string": "two"}, {"buffer": "010203"}, [4, 5], 0x1234,
         {"string": 'hello "x" \\'}, [1, None, None]],
        {"space_id": 0x7F, "bit_width": 1, "bit_offset": 2, "access_size": 1,
         "address": "0x10"},
        {"buffer": "01" + "00" * 19},
        None,
        {"error": "AE_AML_PACKAGE_LIMIT"},
        {"buffer": ""},
    ]


def test_echo_split_by_another_thread_still_cuts() -> None:
    """acpiexec's notify/GPE threads can print between the ``- `` prompt and the command."""
    garbled = CAPTURED.replace("- evaluate \\RT\n", "- \nevaluate \\RT\n").replace(
        "- evaluate \\FAIL\n", "[AcpiExec] Received a Notify - evaluate \\FAIL\n")
    assert garbled != CAPTURED
    assert acpiexec.split_by_command(garbled, COMMANDS) == \
        acpiexec.split_by_command(CAPTURED, COMMANDS)


# acpiexec's stdout for "namespace" on 11-starlabs-starlite-coreboot on a loaded
# machine (cut): the notify thread printed its four lines between prompt and echo.
NOTIFIES_AFTER_PROMPT = """\
ACPI: Enabled 3 GPEs in block 00 to 7F
- ACPI Exec: Global:    Received a Device Notify on [CP00] 0x55cb24441280 Value 0x81 (Information Change)
ACPI Exec: Global:    Received a Device Notify on [CP01] 0x55cb24444b00 Value 0x81 (Information Change)
ACPI Exec: Global:    Received a Device Notify on [CP02] 0x55cb24446f40 Value 0x81 (Information Change)
ACPI Exec: Global:    Received a Device Notify on [CP03] 0x55cb24449380 Value 0x81 (Information Change)
namespace
ACPI Namespace (from Namespace Root):
 0  _PR_ Scope        0x55cb243f9770 000 
- quit
"""


def test_notify_lines_between_prompt_and_echo_still_cut() -> None:
    sections = acpiexec.split_by_command(NOTIFIES_AFTER_PROMPT, ["namespace"])
    assert sections == ["\nACPI Namespace (from Namespace Root):\n 0  _PR_ Scope        "
                        "0x55cb243f9770 000 \n"]


def test_notify_line_inside_a_line_is_taken_out() -> None:
    """A Notify the method queued can print while the main thread prints a value."""
    notify = ("ACPI Exec: Handler 1: Received a Device Notify on [CP00] 0x55cb24441280 "
              "Value 0x81 (Information Change)\n")
    garbled = CAPTURED.replace("[Integer] = 0000000000001234", "[Integer] = " + notify
                               + "0000000000001234").replace("- evaluate \\BUF1",
                                                             "- " + notify + "evaluate \\BUF1")
    assert garbled.count(notify) == 2
    assert acpiexec.split_by_command(garbled, COMMANDS) == \
        acpiexec.split_by_command(CAPTURED, COMMANDS)


def test_other_text_between_prompt_and_echo_is_no_echo() -> None:
    """Only another thread's notify lines are taken out: a value line ends the search."""
    stray = NOTIFIES_AFTER_PROMPT.replace("ACPI Exec: Global:    Received a Device Notify on "
                                          "[CP02]", "[Integer] = 0000000000000001")
    assert acpiexec.split_by_command(stray, ["namespace"]) == []


def test_a_died_acpiexec_gives_fewer_sections() -> None:
    cut = CAPTURED[:CAPTURED.index("- evaluate \\NORT")] + "\nACPI Exec: Segmentation Fault\n"
    assert len(acpiexec.split_by_command(cut, COMMANDS)) == 3


def test_register_buffers() -> None:
    register = {"space_id": 1, "bit_width": 0x10, "bit_offset": 8, "access_size": 1,
                "address": "0x414"}
    descriptor = "820c0001100801" + "1404000000000000"
    assert acpiexec_values.buffer_json(bytes.fromhex(descriptor + "7900")) == register
    for other in (descriptor, descriptor + "7800", descriptor + "79", descriptor + "790000",
                  "820d00" + descriptor[6:] + "7900", "8a0c00" + descriptor[6:] + "7900"):
        assert acpiexec_values.buffer_json(bytes.fromhex(other)) == {"buffer": other}


def test_reference_elements() -> None:
    line = "    [Object Reference] = 0x55d0c3d0 <Node>            Name DEV0 Device"
    assert acpiexec_values.parse_value([line], 0) == ({"reference": "DEV0", "type": "Device"}, 1)


def test_namespace_dump_gives_paths_types_and_ids() -> None:
    dump = """\
ACPI Namespace (from Namespace Root):
 0  _PR_ Scope        0x558514619770 000 
 1    CPU0 Processor    0x5585146ab340 001 ID 0A Len 06 Addr 0000000000001810
 2      _PPC Integer      0x5585146e45f0 006 = 0000000000000003
 0  _SB_ Device       0x5603853d67e0 000 Notify Object: 0x5603853db200
 1    CP00 Device       0x5603853de210 001 
 2      _HID String       0x5603853de280 001 Len 08 "ACPI0007"
 2      _UID Integer      0x5603853de340 001 = 0000000000000005
 1    CP01 Device       0x5603853de430 001 
 2      _HID Integer      0x5603853de4a0 001 = 000000000700D041
 2      _UID String       0x5603853de590 001 Len 01 "7"
"""
    entries = acpiexec.parse_namespace(dump)
    assert [(e.path, e.kind) for e in entries][:3] == [
        ("\\_PR", "Scope"), ("\\_PR.CPU0", "Processor"), ("\\_PR.CPU0._PPC", "Integer")]
    assert entries[1].command_path == "\\_PR_.CPU0"
    result = acpiexec.OracleResult([], 0.0, 0)
    cpus = acpiexec.find_processors([], entries, result)
    assert [(c.entry.path, c.acpi_id) for c in cpus] == [("\\_PR.CPU0", 10), ("\\_SB.CP00", 5)]
    assert result.runs == 0


def oracle(machine: str) -> acpiexec.OracleResult:
    tool("acpiexec")
    folder = machine_tables(machine)
    return acpiexec.run_oracle([folder / t.source for t in load_tables(folder)])


def test_dell_optiplex_7020_values_read_by_hand() -> None:
    """From acpiexec's own printout after _PDC(0xBBF): CPU0's first _PSS entry is
    0xCE5 MHz (3301, turbo), 0x14820 mW, latencies 0xA, control/status 0x2500."""
    result = oracle("07-dell-optiplex-7020")
    assert [p["path"] for p in result.processors] == [f"\\_PR.CPU{n}" for n in range(8)]
    cpu0 = result.processors[0]
    assert cpu0["acpi_id"] == 1
    objects = cpu0["objects"]
    assert isinstance(objects, dict)
    assert objects["_PSS"][0] == [3301, 84000, 10, 10, 0x2500, 0x2500]
    assert len(objects["_PSS"]) == 16 and objects["_PSS"][-1][0] == 800
    assert objects["_PSD"] == [[5, 0, 0, 0xFE, 0]]
    assert objects["_CST"] == [1, [{"space_id": 0x7F, "bit_width": 0, "bit_offset": 0,
                                    "access_size": 0, "address": "0x0"}, 1, 1, 1000]]
    assert objects["_PPC"] == 0 and objects["_PCT"] is None
    assert result.runs == 2 and not result.crashes


def test_device_processors_take_their_uid() -> None:
    result = oracle("11-starlabs-starlite-coreboot")
    assert [(p["path"], p["acpi_id"]) for p in result.processors] == \
        [(f"\\_SB.CP0{n}", n) for n in range(4)]


def test_a_load_that_kills_acpiexec_costs_one_command() -> None:
    """acpiexec segfaults in each CPU's _PDC (Load from a zero-length region): every
    handshake is dropped, each in one more run, and the objects are still read."""
    result = oracle("12-hp-proliant-dl360-g5")
    assert len(result.crashes) == 8 and all("._PDC" in c for c in result.crashes)
    assert result.runs == 10 and len(result.processors) == 8
    assert all("_CST" in p["objects"] for p in result.processors)  # type: ignore[operator]


def test_acpiexec_dying_on_load_is_an_oracle_error(tmp_path: Path) -> None:
    tool("acpiexec")
    with pytest.raises(acpiexec.OracleError, match="died loading"):
        acpiexec.run_oracle([tmp_path / "missing.aml"])
