"""Child process of test_firmware_fuzz: run seeded fuzz cases through ``read_firmware``.

``python -m tests.acpi.fuzz_worker SEED COUNT`` prints one line per case:
``ok N processors=P failed-objects=F``, ``firmware-error N``, or ``BAD N <what>`` (another exception, or a
case that outlived its alarm, i.e. a hang). Run in a child so that a hang or
a crash of the interpreter cannot take the test session with it.
"""

from __future__ import annotations

import random
import signal
import sys
import tempfile
import traceback
from pathlib import Path
from types import FrameType

from pyxenplatform.acpi import raw_json, read_firmware
from pyxenplatform.acpi.tables import load_tables
from pyxenplatform.errors import FirmwareError
from tests.acpi.support import CORPUS

MACHINES = ("02-intel-dg965lv", "07-dell-optiplex-7020", "11-starlabs-starlite-coreboot",
            "19-asus-a68hm-k")
CASE_SECONDS = 20
# Opcodes real firmware is made of, so random AML gets past the first byte more often.
COMMON = bytes([0x10, 0x14, 0x08, 0x12, 0x11, 0x0A, 0x0B, 0x0C, 0x0D, 0xA0, 0xA1, 0xA2, 0xA4,
                0x70, 0x72, 0x74, 0x88, 0x83, 0x87, 0x93, 0x95, 0x5B, 0x80, 0x81, 0x82, 0x60,
                0x61, 0x68, 0x69, 0x00, 0x01, 0xFF, 0x5C, 0x2E, 0x2F, 0x5F, 0x41, 0x42])


class Hang(Exception):
    pass


def on_alarm(signum: int, frame: FrameType | None) -> None:
    raise Hang()


def table(signature: bytes, aml: bytes, revision: int = 2) -> bytes:
    data = bytearray(signature + (36 + len(aml)).to_bytes(4, "little") + bytes([revision, 0])
                     + b"PYXEN FUZZTEST" + bytes(12) + aml)
    data[9] = (-sum(data)) & 0xFF
    return bytes(data)


def fixed(data: bytearray) -> bytes:
    """Length and checksum made valid again, so the mutation reaches the AML reader."""
    data[4:8] = len(data).to_bytes(4, "little")
    data[9] = 0
    data[9] = (-sum(data)) & 0xFF
    return bytes(data)


def case_tables(rng: random.Random) -> list[tuple[str, bytes]]:
    kind = rng.randrange(4)
    if kind == 0:
        body = bytes(rng.choice(COMMON) if rng.random() < 0.7 else rng.randrange(256)
                     for _ in range(rng.randrange(1, 400)))
        return [("dsdt.aml", table(b"DSDT", body, rng.choice([1, 2])))]
    tables = [(t.source, bytearray(t.data))
              for t in load_tables(CORPUS / rng.choice(MACHINES) / "tables")]
    out = []
    for source, data in tables:
        for _ in range(rng.randrange(0, 30)):
            data[rng.randrange(36, len(data))] ^= 1 << rng.randrange(8)
        if kind == 2 and rng.random() < 0.5:
            del data[rng.randrange(36, len(data)):]
        out.append((source, bytes(data) if kind == 3 else fixed(data)))
    return out


def main(seed: str, count: int) -> None:
    rng = random.Random(seed)
    signal.signal(signal.SIGALRM, on_alarm)
    for case in range(count):
        tables = case_tables(rng)
        with tempfile.TemporaryDirectory() as tmp:
            for source, data in tables:
                (Path(tmp) / source).write_bytes(data)
            signal.alarm(CASE_SECONDS)
            try:
                report = raw_json(read_firmware(tmp))["processors"]
                assert isinstance(report, list)
                failed = sum(1 for cpu in report for value in cpu["objects"].values()
                             if isinstance(value, dict) and "error" in value)
                print(f"ok {case} processors={len(report)} failed-objects={failed}", flush=True)
            except FirmwareError:
                print(f"firmware-error {case}", flush=True)
            except Hang:
                print(f"BAD {case} no answer in {CASE_SECONDS} s (hang?)", flush=True)
            except Exception:  # the point of the test: report it, do not die
                lines = traceback.format_exc().splitlines()
                print(f"BAD {case} {' | '.join(lines[-3:])}", flush=True)
            finally:
                signal.alarm(0)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
