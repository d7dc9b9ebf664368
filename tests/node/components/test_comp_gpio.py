"""rpigpio: the LED's modes and switch drive the simulated pin on the fake clock; output, input and PIR."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from janitoo_node.components.gpio import BLINK_DELAYS_WIRE, GpioBus, LedComponent
from janitoo_node.hardware.gpio import SimGpio
from janitoo_protocol import ValuePublication, ValueReply, encode

from .conftest import Rig

GPIO = """
[rpigpio]
auto_start = True
backend = sim
hadd = 0230/0000
name = GPIO
components.led = rpigpio.led
components.relay = rpigpio.output
components.button = rpigpio.input
components.pir = rpigpio.pir

[rpigpio__led]
hadd = 0230/0001
pin_0 = 19

[rpigpio__relay]
hadd = 0230/0002
pin_0 = 20

[rpigpio__button]
hadd = 0230/0003
pin_0 = 21

[rpigpio__pir]
hadd = 0230/0004
pin_0 = 22
bouncetime_0 = 0
"""
LED = "0230/0001"
BLINK = 12803


@pytest.fixture
def rig(rig_for: Callable[..., Rig]) -> Rig:
    return rig_for(GPIO)


def sim(rig: Rig) -> SimGpio:
    bus = rig.bus("rpigpio")
    assert isinstance(bus, GpioBus) and isinstance(bus.gpio, SimGpio)
    return bus.gpio


def set_blink(rig: Rig, mode: object) -> ValueReply:
    return rig.reply(LED, "blink", 1, BLINK, mode)


def test_values_keep_the_original_uuids_genres_and_help(rig: Rig) -> None:
    led = rig.component("rpigpio", "led")
    assert led.node is not None
    values = led.node.values
    switch, blink, pin = values["switch"].info(), values["blink"].info(), values["pin"].info()
    assert (switch.genre, switch.type, switch.cmd_class, switch.list_items) == (1, 5, 37, ["on", "off"])
    assert switch.help == "A switch. Valid values are : ['on', 'off']" and switch.poll_delay == 300
    assert (blink.genre, blink.type, blink.cmd_class, blink.default, blink.label) == (
        1,
        5,
        12803,
        "off",
        "Blink",
    )
    assert blink.list_items == ["off", "blink", "heartbeat", "info", "notify", "warning", "alert"]
    assert blink.extra["delays"]["heartbeat"] == {"on": 0.5, "off": 300.0}
    assert (pin.genre, pin.type, pin.cmd_class, pin.help, pin.data) == (
        3,
        4,
        112,
        "The pin number on the board",
        19,
    )
    assert {"switch_poll", "blink_poll"} <= set(values)
    ctrl = rig.bus("rpigpio").node
    assert ctrl is not None and ctrl.product_name == "Raspberry GPIO controller"
    mode = ctrl.values["rpigpio_boardmode"].info()
    assert (mode.list_items, mode.data, mode.help) == (["BCM", "BOARD"], "BOARD", "The board mode to use")
    # The published blink value carries the delay table, as the original's did.
    (pub,) = [m for m in rig.published(LED, "blink")]
    assert b'"delays"' in encode(pub)[1]


def test_all_gpio_nodes_are_online_with_their_pins_set_up(rig: Rig) -> None:
    gpio = sim(rig)
    assert [gpio.mode(p) for p in (19, 20, 21, 22)] == ["output", "output", "input", "input"]
    for hadd in ("0230/0000", LED, "0230/0002", "0230/0003", "0230/0004"):
        assert rig.state(hadd) == "ONLINE"


def test_heartbeat_mode_flashes_half_a_second_every_300_seconds(rig: Rig) -> None:
    gpio = sim(rig)
    rig.scheduler.advance(10)
    reply = set_blink(rig, "heartbeat")
    assert reply.value.data == "heartbeat" and "error" not in reply.value.extra
    rig.scheduler.advance(0.5)
    rig.scheduler.advance(300)
    rig.scheduler.advance(0.5)
    gpio.assert_states_and_times(19, [(0, False), (10, True), (10.5, False), (310.5, True), (311, False)])
    assert rig.reply(LED, "blink", 1, BLINK, is_set=False).value.data == "heartbeat"


def test_warning_mode_flashes_for_0_6_then_waits_5_seconds(rig: Rig) -> None:
    gpio = sim(rig)
    rig.scheduler.advance(2)
    set_blink(rig, "warning")
    rig.scheduler.advance(6.2)
    gpio.assert_states_and_times(19, [(0, False), (2, True), (2.6, False), (7.6, True), (8.2, False)])


def test_off_puts_the_led_out_at_once_and_stops_the_chain(rig: Rig) -> None:
    gpio = sim(rig)
    set_blink(rig, "alert")
    rig.scheduler.advance(0.3)
    set_blink(rig, "off")
    rig.scheduler.advance(1000)
    gpio.assert_states_and_times(19, [(0, False), (0, True), (0.3, False)])
    assert rig.scheduler.pending() > 0  # heartbeats and polls go on; the LED chain does not


def test_setting_the_running_mode_again_keeps_its_cycle(rig: Rig) -> None:
    gpio = sim(rig)
    set_blink(rig, "blink")
    rig.scheduler.advance(0.3)
    set_blink(rig, "blink")
    rig.scheduler.advance(0.3)
    gpio.assert_states_and_times(19, [(0, False), (0, True), (0.6, False)])


def test_switch_drives_the_pin_and_stops_any_blinking(rig: Rig) -> None:
    gpio = sim(rig)
    set_blink(rig, "blink")
    rig.scheduler.advance(1)
    assert rig.reply(LED, "switch", 1, 37, "on").value.data == "on"
    assert gpio.read(19) is True
    rig.scheduler.advance(100)
    assert gpio.read(19) is True  # steady: the blink chain was cancelled
    assert rig.reply(LED, "blink", 1, BLINK, is_set=False).value.data == "on"
    rig.reply(LED, "switch", 1, 37, 0)
    assert gpio.read(19) is False
    assert rig.reply(LED, "switch", 1, 37, is_set=False).value.data == "off"
    gpio.assert_states_and_times(19, [(0, False), (0, True), (0.6, False), (1, True), (101, False)])


def test_an_unknown_mode_is_refused_with_the_reason(rig: Rig) -> None:
    set_blink(rig, "warning")
    reply = set_blink(rig, "disco")
    assert "unknown blink mode 'disco'" in reply.value.extra["error"]
    led = rig.component("rpigpio", "led")
    assert isinstance(led, LedComponent) and led.mode == "warning"
    assert "error" in rig.reply(LED, "switch", 1, 37, "maybe").value.extra


def test_the_blink_value_also_takes_on_and_numbers(rig: Rig) -> None:
    gpio = sim(rig)
    set_blink(rig, 1)
    assert gpio.read(19) is True
    set_blink(rig, "info2")
    set_blink(rig, 0)
    assert gpio.read(19) is False


def test_a_new_pin_is_set_up_at_once_and_persisted(rig: Rig) -> None:
    gpio = sim(rig)
    set_blink(rig, "on")
    ack = rig.request(LED, "pin", 3, 112, 26)
    assert any(isinstance(m, ValuePublication) for m in ack)
    assert rig.config.get("rpigpio__led", "pin_0") == "26"
    assert gpio.read(19) is False and gpio.read(26) is True
    refused = rig.request(LED, "pin", 3, 112, 99)
    assert "error" in [m for m in refused if isinstance(m, ValueReply)][0].value.extra
    assert rig.config.get("rpigpio__led", "pin_0") == "26"
    assert rig.state(LED) == "ONLINE" and gpio.read(26) is True


def test_a_pin_that_cannot_be_set_up_makes_the_node_failed(rig_for: Callable[..., Rig]) -> None:
    rig = rig_for(GPIO.replace("pin_0 = 19", "pin_0 = 99"))
    assert rig.state(LED) == "FAILED"
    assert rig.state("0230/0000") == "ONLINE"
    # A mode set meanwhile is kept, not lost.
    assert "error" not in set_blink(rig, "warning").value.extra


def test_without_a_gpio_library_the_bus_and_its_components_are_failed(rig_for: Callable[..., Rig]) -> None:
    rig = rig_for(GPIO.replace("backend = sim", "backend = real"))
    assert isinstance(rig.bus("rpigpio"), GpioBus)
    assert rig.state("0230/0000") == "FAILED"
    assert rig.state(LED) == "FAILED"
    assert rig.heartbeats(LED) == ["FAILED"]
    rig.scheduler.advance(301)
    assert rig.last_data("0230/0002", "state") is None


def test_the_output_switch_drives_its_pin_and_publishes_the_state(rig: Rig) -> None:
    gpio = sim(rig)
    rig.take()
    out = rig.request("0230/0002", "switch", 2, 37, "on")
    assert gpio.read(20) is True
    assert [
        v.data for m in out if isinstance(m, ValuePublication) and m.uuid == "state" for v in m.values
    ] == [1]
    rig.request("0230/0002", "switch", 2, 37, False)
    assert gpio.read(20) is False
    assert rig.reply("0230/0002", "state", 2, 49, is_set=False).value.data == 0


def test_an_input_edge_is_published_at_once(rig: Rig) -> None:
    gpio = sim(rig)
    assert rig.reply("0230/0003", "state", 2, 49, is_set=False).value.data == 1  # pulled up
    rig.take()
    rig.scheduler.advance(1)
    assert gpio.simulate_input(21, False)
    assert rig.last_data("0230/0003", "state") == 0
    # Within the 300 ms bounce time the next edge is not reported; after it, it is.
    rig.scheduler.advance(0.1)
    assert not gpio.simulate_input(21, True)
    assert len(rig.published("0230/0003", "state")) == 1
    rig.scheduler.advance(0.3)
    assert gpio.simulate_input(21, False)
    assert len(rig.published("0230/0003", "state")) == 2


def test_without_trigger_an_edge_is_only_stored(rig: Rig) -> None:
    gpio = sim(rig)
    rig.request("0230/0004", "trigger", 3, 112, False)
    rig.take()
    gpio.simulate_input(22, True)
    assert rig.published("0230/0004", "state") == []
    rig.scheduler.advance(60)
    assert rig.last_data("0230/0004", "state") == 1


def test_a_new_pull_is_applied_at_once(rig: Rig) -> None:
    gpio = sim(rig)
    rig.request("0230/0004", "pullupdown", 3, 112, "PUD_DOWN")
    assert gpio.read(22) is False
    assert rig.config.get("rpigpio__pir", "pullupdown_0") == "PUD_DOWN"
    refused = [m for m in rig.request("0230/0004", "edge", 3, 112, "SIDEWAYS") if isinstance(m, ValueReply)]
    assert "error" in refused[0].value.extra


def test_stop_puts_the_led_out_and_releases_the_backend(rig: Rig) -> None:
    gpio = sim(rig)
    set_blink(rig, "on")
    rig.stop()
    assert gpio.history_for(19)[-1][1] is False
    assert gpio.closed


def test_delays_table_is_the_originals() -> None:
    assert BLINK_DELAYS_WIRE["warning"] == {"on": 0.6, "off": 5.0}
    assert BLINK_DELAYS_WIRE["alert"] == {"on": 0.6, "off": 1.0}
