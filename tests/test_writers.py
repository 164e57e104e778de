"""Tables out (pyxenplatform.writers): what they write, load_table reads back unchanged."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from pyxenplatform.model import (
    CState,
    CStateDependency,
    CxInfo,
    Pdc,
    PowerTable,
    ProcessorPower,
    Register,
)
from pyxenplatform.sources import load_table, table_from_mapping
from pyxenplatform.writers import dumps_json, dumps_toml

EXAMPLES = sorted(Path(__file__).parent.parent.joinpath("examples").glob("*.[jt][so][om]*"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_round_trips_through_both_formats(path: Path) -> None:
    table = load_table(path)
    for back in (table_from_mapping(tomllib.loads(dumps_toml(table))),
                 table_from_mapping(json.loads(dumps_json(table)))):
        assert back == table
        assert [p.description for p in back.processors] == \
            [p.description for p in table.processors]


def test_odd_descriptions_ids_and_deps_survive() -> None:
    c1 = CState(1, 1, 1000, Register.ffh(0), (CStateDependency(3, 0xFD, 2),))
    table = PowerTable((ProcessorPower((1, 0x10), cx=CxInfo((c1,)), pdc=Pdc((0xBBF, 1)),
                                       description='"\\_PR.CPU0"\n\t\x7f é \U0001f600'),
                        ProcessorPower("all", pdc=Pdc((0x3B,)))), "a\\b")
    for text, load in ((dumps_toml(table), tomllib.loads), (dumps_json(table), json.loads)):
        back = table_from_mapping(load(text))
        assert back == table  # description does not take part in ==: compare it too
        assert [back.description, *(p.description for p in back.processors)] == \
            [table.description, *(p.description for p in table.processors)]
    toml = dumps_toml(table)
    assert "acpi_id = [1, 16]" in toml and "pdc = [0xbbf, 0x1]" in toml
    assert 'coord_type = "SW_ANY"' in toml and "address = 0x0" in toml


def test_an_empty_table_is_still_a_table() -> None:
    assert tomllib.loads(dumps_toml(PowerTable(()))) == {"processors": []}
    assert json.loads(dumps_json(PowerTable((), "x"))) == {"description": "x", "processors": []}
