"""tutorial3: the machine, the check (average, 2 of 3), timers, polls and the LED, on a fake clock."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from janitoo_node.apps.tutorial3 import (
    STATES,
    TRIGGERS,
    Change,
    CpuComponent,
    Decision,
    TriggerRefused,
    Tutorial3Machine,
    average,
    critical_count,
    decide,
)
from janitoo_node.components.dht import DhtComponent
from janitoo_protocol import Genre, ValuePublication

from .conftest import CONTROLLER, LED, LED_PIN, Appliance

AppFactory = Callable[..., Appliance]

# (state, trigger) -> the state it leads to; absent: refused.
LEGAL: dict[tuple[str, str], str] = {
    ("booting", "report"): "reporting",
    ("booting", "sleep"): "sleeping",
    ("sleeping", "wakeup"): "reporting",
    ("sleeping", "report"): "reporting",
    ("sleeping", "sleep"): "sleeping",
    ("reporting", "report"): "reporting",
    ("reporting", "sleep"): "sleeping",
    ("reporting", "ring"): "ringing",
    ("ringing", "report"): "reporting",
    ("ringing", "sleep"): "sleeping",
}
EVERY_PAIR = [(s, t) for s in STATES for t in TRIGGERS]


# ------------------------------------------------------------------------------------------ pure parts


def test_average_of_the_available_readings() -> None:
    assert average([19.5, 21.0, 45.0]) == 28.5
    assert average([19.5, None, 45.0]) == 32.25
    assert average([None, None, 45.0]) == 45.0
    assert average([None, None, None]) is None
    assert average([]) is None


def test_critical_means_strictly_above() -> None:
    assert critical_count([50.0, 50.0, 50.0], 50) == 0
    assert critical_count([50.1, 50.0, None], 50) == 1
    assert critical_count([55.0, 51.0, None], 50) == 2


@pytest.mark.parametrize(
    ("readings", "state", "expected"),
    [
        # 0 to 3 sensors available, in reporting.
        ([None, None, None], "reporting", Decision(None, 0, False, None)),
        ([55.0, None, None], "reporting", Decision(55.0, 1, False, None)),
        ([55.0, None, 55.0], "reporting", Decision(55.0, 2, True, "ring")),
        ([55.0, 21.0, 55.0], "reporting", Decision(43.67, 2, True, "ring")),
        ([55.0, 55.0, 55.0], "reporting", Decision(55.0, 3, True, "ring")),
        ([55.0, 21.0, 45.0], "reporting", Decision(40.33, 1, False, None)),
        ([50.0, 50.0, 50.0], "reporting", Decision(50.0, 0, False, None)),
        # While ringing: stay while 2 are above, report when fewer are.
        ([55.0, 21.0, 55.0], "ringing", Decision(43.67, 2, True, None)),
        ([55.0, 21.0, 45.0], "ringing", Decision(40.33, 1, False, "report")),
        ([None, None, 55.0], "ringing", Decision(55.0, 1, False, "report")),
        ([None, None, None], "ringing", Decision(None, 0, False, "report")),
        # Elsewhere overheat is noted but nothing is triggered.
        ([55.0, 55.0, 55.0], "sleeping", Decision(55.0, 3, True, None)),
    ],
)
def test_two_of_three_rule(readings: list[float | None], state: str, expected: Decision) -> None:
    assert decide(readings, 50.0, state) == expected


def _machine_in(state: str, ready: bool = True) -> Tutorial3Machine:
    machine = Tutorial3Machine(ready=lambda: ready)
    path = {"booting": [], "sleeping": ["sleep"], "reporting": ["report"], "ringing": ["report", "ring"]}
    for trigger in path[state]:
        machine.fire(trigger)
    assert machine.state == state
    return machine


@pytest.mark.parametrize(("state", "trigger"), EVERY_PAIR)
def test_machine_table(state: str, trigger: str) -> None:
    machine = _machine_in(state)
    changes: list[Change] = []
    machine._on_change = changes.append
    dest = LEGAL.get((state, trigger))
    if dest is None:
        with pytest.raises(TriggerRefused, match=f"{trigger} is not allowed from {state}"):
            machine.fire(trigger)
        assert machine.state == state and changes == []
    else:
        assert machine.fire(trigger) == dest
        assert changes == [Change(state, trigger, dest)] and machine.last_trigger == trigger


def test_machine_condition_and_unknown_triggers() -> None:
    machine = _machine_in("booting", ready=False)
    with pytest.raises(TriggerRefused, match="nodes are not all created"):
        machine.fire("report")
    assert machine.fire("sleep") == "sleeping"  # sleep has no condition
    with pytest.raises(TriggerRefused, match="nodes are not all created"):
        machine.fire("wakeup")
    with pytest.raises(TriggerRefused, match="'dance' is not a trigger"):
        machine.fire("dance")
    with pytest.raises(TriggerRefused, match="not a trigger"):
        machine.fire("to_ringing")  # no automatic to_<state> triggers


# ------------------------------------------------------------------------------------------ the appliance


def _enter(app_for: AppFactory, state: str) -> Appliance:
    if state == "booting":
        app = app_for(start=False)
        for rt in app.rig.runtimes:
            rt.manager.start()  # online, but the boot exit has not run yet (time has not moved)
    else:
        app = app_for()
        if state in ("reporting", "ringing"):
            assert app.trigger("tutorial3_transition", "wakeup") is None
        if state == "ringing":
            assert app.trigger("tutorial3_transition", "ring") is None
    assert app.state == state
    return app


@pytest.mark.parametrize("uuid", ["tutorial3_transition", "tutorial3_change"])
@pytest.mark.parametrize(("state", "trigger"), EVERY_PAIR)
def test_every_trigger_over_the_network(
    appliance_for: AppFactory, uuid: str, state: str, trigger: str
) -> None:
    app = _enter(appliance_for, state)
    last = app.bus.machine.last_trigger
    error = app.trigger(uuid, trigger)
    dest = LEGAL.get((state, trigger))
    if dest is None:
        only = "sleeping" if trigger == "wakeup" else "reporting"
        assert error == f"{trigger} is not allowed from {state} (only from {only})"
        assert app.state == state and app.bus.machine.last_trigger == last
    else:
        assert error is None
        assert app.state == dest and app.bus.machine.last_trigger == trigger
        assert app.rig.last_data(CONTROLLER, "tutorial3_state") == dest


def test_unknown_words_are_refused_with_the_reason(appliance: Appliance) -> None:
    words = "wakeup, report, sleep, ring"
    assert appliance.trigger("tutorial3_transition", "dance") == f"'dance' is not one of {words}"
    assert (
        appliance.trigger("tutorial3_change", "dance") == f"'dance' is not a trigger: expected one of {words}"
    )
    assert appliance.state == "sleeping"
    # The older value takes its words with spaces around, as a string value may carry them.
    assert appliance.trigger("tutorial3_change", " wakeup ") is None and appliance.state == "reporting"


def test_boot_reads_every_sensor_then_sleeps(appliance: Appliance) -> None:
    rig = appliance.rig
    assert appliance.state == "sleeping"
    assert rig.last_data("0225/0002", "temperature") == 19.5
    assert rig.last_data("0225/0001", "temperature") == 21.0
    assert rig.last_data("0225/0001", "humidity") == 40.0
    assert rig.last_data("0225/0003", "temperature") == 45.0
    states = rig.published(CONTROLLER, "tutorial3_state")
    assert [p.values[0].data for p in states if p.genre == Genre.BASIC] == ["booting", "sleeping"]
    # The seed's user twin (genre 2) is published with each change of state, not polled.
    assert [p.values[0].data for p in states if p.genre == Genre.USER] == ["sleeping"]
    assert appliance.bus.machine.last_trigger == "sleep"
    assert {rig.state(f"0225/000{i}") for i in range(5)} == {"ONLINE"}


def test_sleeping_is_quiet_but_for_the_state_every_900_s(appliance: Appliance) -> None:
    rig = appliance.rig
    rig.take()
    appliance.advance(1800)
    pubs = [(str(m.hadd), m.uuid, m.values[0].data) for m in rig.sent if isinstance(m, ValuePublication)]
    assert pubs == [(CONTROLLER, "tutorial3_state", "sleeping")] * 2
    # The configured periods are untouched: only the polls stopped.
    temperature = rig.component("tutorial3", "temperature")
    assert temperature.value("temperature_poll").cached() == 300
    assert not temperature.value("temperature").is_polled


def test_wakeup_checks_at_once_and_brings_the_polls_back(appliance: Appliance) -> None:
    rig = appliance.rig
    rig.take()
    assert appliance.trigger("tutorial3_transition", "wakeup") is None
    assert rig.last_data(LED, "blink") == "heartbeat"
    appliance.advance(0)
    assert rig.last_data(CONTROLLER, "tutorial3_temperature") == 28.5  # (19.5 + 21 + 45) / 3
    assert rig.last_data(CONTROLLER, "tutorial3_overheat") is False
    assert rig.last_data("0225/0002", "temperature") == 19.5
    rig.take()
    appliance.advance(300)
    polled = {(str(m.hadd), m.uuid) for m in rig.sent if isinstance(m, ValuePublication)}
    assert {("0225/0002", "temperature"), ("0225/0001", "humidity"), ("0225/0003", "voltage"),
            (CONTROLLER, "tutorial3_temperature"), (LED, "blink")} <= polled  # fmt: skip


def test_check_every_timer_delay_and_half_of_it_while_ringing(appliance: Appliance) -> None:
    rig = appliance.rig
    appliance.trigger("tutorial3_transition", "wakeup")
    appliance.advance(0)  # the check on waking up
    appliance.heat(55, 55)
    appliance.advance(44.9)
    assert appliance.state == "reporting"
    appliance.advance(0.1)  # 45 s after the first check
    assert appliance.state == "ringing"
    assert rig.last_data(CONTROLLER, "tutorial3_overheat") is True
    assert rig.last_data(LED, "blink") == "warning"
    assert appliance.bus.temperature.cached() == pytest.approx(43.67)  # published on its own poll
    appliance.heat(19.5, 45)
    appliance.advance(22.4)
    assert appliance.state == "ringing"
    appliance.advance(0.1)  # 22.5 s later while ringing
    assert appliance.state == "reporting"
    assert rig.last_data(CONTROLLER, "tutorial3_overheat") is False
    assert rig.last_data(LED, "blink") == "heartbeat"
    appliance.heat(55, 55)
    appliance.advance(44.9)
    assert appliance.state == "reporting"
    appliance.advance(0.1)
    assert appliance.state == "ringing"


def test_a_manual_ring_goes_back_to_reporting_at_the_next_check(appliance: Appliance) -> None:
    appliance.trigger("tutorial3_transition", "wakeup")
    appliance.advance(10)
    assert appliance.trigger("tutorial3_transition", "ring") is None
    appliance.advance(22.4)
    assert appliance.state == "ringing"
    appliance.advance(0.1)
    assert appliance.state == "reporting"


def test_report_from_booting_starts_the_check_too(appliance_for: AppFactory) -> None:
    # The original only started its timer when leaving sleeping (spec 5.4: fixed).
    app = _enter(appliance_for, "booting")
    assert app.trigger("tutorial3_transition", "report") is None
    app.advance(0)
    assert app.state == "reporting"  # the boot exit saw it was no longer booting
    assert app.bus.temperature.cached() == 28.5  # the check ran at once
    app.heat(55, 55)
    app.advance(45)
    assert app.state == "ringing"


def test_no_check_while_sleeping(appliance: Appliance) -> None:
    appliance.trigger("tutorial3_transition", "wakeup")
    appliance.advance(1)
    appliance.trigger("tutorial3_transition", "sleep")
    appliance.heat(55, 55)
    appliance.advance(1000)
    assert appliance.state == "sleeping"
    assert appliance.bus.overheat.cached() is False


def test_a_new_timer_delay_counts_from_now(appliance: Appliance) -> None:
    appliance.trigger("tutorial3_transition", "wakeup")
    appliance.advance(1)
    appliance.rig.request(CONTROLLER, "tutorial3_timer_delay", 3, 112, 10)
    assert appliance.rig.last_data(CONTROLLER, "tutorial3_timer_delay") == 10
    assert appliance.rig.config.get("tutorial3", "tutorial3_timer_delay_0") == "10"
    appliance.heat(55, 55)
    appliance.advance(9.9)
    assert appliance.state == "reporting"
    appliance.advance(0.1)
    assert appliance.state == "ringing"


def test_missing_readings_are_skipped(appliance: Appliance) -> None:
    rig = appliance.rig
    appliance.trigger("tutorial3_transition", "wakeup")
    appliance.heat("fail", 55)
    appliance.advance(0)
    # DS18B20 failed: one critical of two readings, no overheat, the average of the two.
    assert rig.last_data(CONTROLLER, "tutorial3_temperature") == 38.0  # (21 + 55) / 2
    assert appliance.state == "reporting"
    dht = appliance.bus.component(DhtComponent)
    assert dht is not None
    dht.sim_temperature.set("fail")
    appliance.advance(45)
    assert appliance.bus.temperature.cached() == 55.0
    assert appliance.state == "reporting"
    cpu = appliance.bus.component(CpuComponent)
    assert cpu is not None
    cpu.cpu.sim_temperature.set("fail")
    appliance.advance(45)
    # Nothing to average: the last average stays.
    assert appliance.bus.temperature.cached() == 55.0


def test_led_mode_per_state_drives_the_pin(appliance: Appliance) -> None:
    gpio = appliance.gpio()
    # Booting and sleeping: dark, nothing scheduled.
    gpio.assert_states_and_times(LED_PIN, [(0.0, False)])
    appliance.advance(100)
    gpio.assert_states_and_times(LED_PIN, [(0.0, False)])
    # Reporting: heartbeat, a 0.5 s flash every 300 s.
    appliance.trigger("tutorial3_transition", "wakeup")
    t = appliance.now
    appliance.advance(300.6)
    gpio.assert_states_and_times(LED_PIN, [(0.0, False), (t, True), (t + 0.5, False), (t + 300.5, True)])
    # Ringing: warning, a 0.6 s flash every 5.6 s.
    appliance.trigger("tutorial3_transition", "ring")
    r = appliance.now
    before = len(gpio.history_for(LED_PIN))
    appliance.advance(6)
    assert gpio.history_for(LED_PIN)[before - 1 :] == [(r, True), (r + 0.6, False), (r + 5.6, True)]
    # Sleeping again: dark at once, and it stays dark.
    appliance.trigger("tutorial3_transition", "sleep")
    s = appliance.now
    n = len(gpio.history_for(LED_PIN))
    appliance.advance(600)
    assert gpio.history_for(LED_PIN)[-1] == (s, False) and len(gpio.history_for(LED_PIN)) == n
    assert appliance.rig.last_data(LED, "blink") == "off"


def test_poll_periods_per_state(appliance_for: AppFactory) -> None:
    app = appliance_for()
    bus = app.bus
    assert (bus.state_value.poll_delay, bus.state_value.is_polled) == (900, True)
    assert not bus.overheat.is_polled and not bus.temperature.is_polled
    app.trigger("tutorial3_transition", "wakeup")
    assert (bus.state_value.poll_delay, bus.overheat.poll_delay) == (60, 60)
    assert bus.overheat.is_polled and bus.temperature.is_polled
    app.trigger("tutorial3_transition", "ring")
    assert (bus.state_value.poll_delay, bus.overheat.poll_delay) == (20, 20)
    # The periods switch in memory only.
    assert app.rig.config.get("tutorial3", "tutorial3_state_poll_0") is None
    # The configured period wins over the default.
    configured = appliance_for(overrides={("tutorial3", "tutorial3_state_poll_0"): 30})
    configured.trigger("tutorial3_transition", "wakeup")
    assert configured.bus.state_value.poll_delay == 30
    configured.trigger("tutorial3_transition", "ring")
    assert configured.bus.state_value.poll_delay == 10
    configured.trigger("tutorial3_transition", "sleep")
    assert configured.bus.state_value.poll_delay == 900


def test_ringing_publishes_state_and_overheat_every_third_of_their_period(appliance: Appliance) -> None:
    rig = appliance.rig
    appliance.trigger("tutorial3_transition", "wakeup")
    appliance.trigger("tutorial3_transition", "ring")
    rig.take()
    appliance.advance(20)
    pubs = {m.uuid for m in rig.sent if isinstance(m, ValuePublication) and str(m.hadd) == CONTROLLER}
    assert {"tutorial3_state", "tutorial3_overheat"} <= pubs


def test_auto_backend_on_a_pc_simulates_every_part(appliance_for: AppFactory) -> None:
    app = appliance_for(backend="auto")
    assert app.bus.kind == "sim"
    cpu = app.bus.component(CpuComponent)
    assert cpu is not None and cpu.kind == "sim"  # not the host's own CPU, unlike the stock hostsensor bus
    assert app.rig.last_data("0225/0003", "temperature") == 45.0
    assert app.rig.last_data("0225/0003", "voltage") == 1.2


def test_nodes_and_bus_values_as_the_tutorial_shows_them(appliance: Appliance) -> None:
    manager = appliance.rig.manager("tutorial3")
    nodes = {str(h): (n.uuid, n.oid, n.name, n.location, n.product_name, n.product_type)
             for h, n in manager.nodes.items()}  # fmt: skip
    assert nodes == {
        "0225/0000": ("tutorial3", "tutorial3", "Hello world", "Rapsberry", "Raspberry tutorial controller",
                      "Default product type"),
        "0225/0001": ("tutorial3__ambiance", "tutorial3.ambiance", "Ambiance 1", "DHT", "DHT",
                      "Temperature/humidity sensor"),
        "0225/0002": ("tutorial3__temperature", "tutorial3.temperature", "Temperature", "Onewire",
                      "DS18B20 sensor", "Temperature sensor"),
        "0225/0003": ("tutorial3__cpu", "tutorial3.cpu", "CPU", "Hostsensor", "CPU sensors", "Software component"),
        "0225/0004": ("tutorial3__led", "tutorial3.led", "Led", "GPIO", "LED", "Software"),
    }  # fmt: skip
    values = appliance.bus.node.values  # type: ignore[union-attr]
    rows = {u: (v.genre, v.type, v.cmd_class, v.default, v.poll_delay, v.help) for u, v in values.items()
            if u.startswith("tutorial3_") and not u.endswith("_poll")}  # fmt: skip
    appliance.trigger("tutorial3_transition", "wakeup")  # the periods as configured
    rows = {u: (*row[:4], values[u].poll_delay, row[5]) for u, row in rows.items()}
    assert rows == {
        "tutorial3_timer_delay": (3, 4, 112, 45, 0, "The delay between 2 checks"),
        "tutorial3_temperature_critical": (3, 4, 112, 50, 0, "The critical temperature. If 2 of the 3 "
                                           "temperature sensors are up to this value, a security notification is sent."),
        "tutorial3_temperature": (2, 3, 49, None, 300, "The average temperature of tutorial."),
        "tutorial3_overheat": (2, 1, 48, False, 60, "Temperature overheat."),
        "tutorial3_state": (1, 8, 49, None, 60, "The state of the fsm."),
        "tutorial3_transition": (1, 5, 4272, None, 60, "Trigger a transition on the fsm or get the last triggered"),
        "tutorial3_change": (2, 8, 0, None, 300, "Change the state of the machine."),
    }  # fmt: skip
    assert values["tutorial3_transition"].list_items == list(TRIGGERS)
    assert values["tutorial3_change"].list_items == list(TRIGGERS)
    assert {"rpigpio_boardmode", "rpi1wire_sensors_dir"} <= set(values)


def test_the_state_is_a_user_value_too_as_the_seed_lists_it(appliance: Appliance) -> None:
    """The seed's request_info_users row: tutorial3_state, genre 2, type 8, cmd_class 49, its own help."""
    node = appliance.bus.node
    assert node is not None
    twin = node.value_for("tutorial3_state", Genre.USER)
    basic = node.value_for("tutorial3_state", Genre.BASIC)
    assert twin is not None and basic is not None and twin is not basic
    assert (twin.genre, twin.type, twin.cmd_class, twin.help) == (2, 8, 49, "The state of the machine.")
    assert (basic.genre, basic.help) == (1, "The state of the fsm.")
    assert twin in node.values_of(Genre.USER) and basic in node.values_of(Genre.BASIC)
    assert twin.read(0) == appliance.state and not twin.is_polled
    # A second twin in the same genre, or one with no first value, is refused.
    with pytest.raises(ValueError, match="needs that value in another genre"):
        node.add_twin(twin)
