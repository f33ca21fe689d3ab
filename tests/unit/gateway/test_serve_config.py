"""serve's choice of wire for each simulated node: --wire for all, --wire-for one."""

from __future__ import annotations

from gateway.serve import ServeConfig
from network.participants import DEFAULT_PARTICIPANTS
from switch.scheme.codes import WireFormat

VIETCOMBANK, VIETTEL_MONEY = "970436", "971005"


def test_without_a_choice_every_simulated_node_speaks_json() -> None:
    assert {spec.wire for spec in ServeConfig().participants()} == {WireFormat.JSON}


def test_a_node_named_on_the_xml_wire_speaks_xml_and_the_others_keep_json() -> None:
    config = ServeConfig(wires={VIETCOMBANK: WireFormat.ISO20022_XML, VIETTEL_MONEY: WireFormat.ISO20022_XML})

    wires = {spec.bin: spec.wire for spec in config.participants()}

    assert wires[VIETCOMBANK] == wires[VIETTEL_MONEY] == WireFormat.ISO20022_XML
    assert {w for b, w in wires.items() if b not in (VIETCOMBANK, VIETTEL_MONEY)} == {WireFormat.JSON}
    assert [spec.bin for spec in config.participants()] == [spec.bin for spec in DEFAULT_PARTICIPANTS]
