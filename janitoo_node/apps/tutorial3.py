"""The HelloWorld V3 appliance (`tutorial3`): three temperatures, their average, a LED and a state machine.

One bus, controller `0225/0000` in the example, aggregates what its four components need: a GPIO backend
for the LED, a 1-wire master for the DS18B20, and the backend choice (real on a Pi, simulated elsewhere)
for the DHT and the CPU. Its machine, from the original tutorial::

    trigger  source     dest       condition
    wakeup   sleeping   reporting  the nodes exist
    report   *          reporting  the nodes exist
    sleep    *          sleeping
    ring     reporting  ringing    the nodes exist

booting (LED off) is left for sleeping as soon as the nodes exist and have their first readings.
sleeping: LED off, every polled value quiet but the state (published every 900 s), no check.
reporting: LED heartbeat, polls back, a check every `tutorial3_timer_delay` seconds.
ringing: LED warning, state and overheat polled 3 times as often, a check every half delay.
The check averages the available temperatures into `tutorial3_temperature`; when 2 of the 3 are above
`tutorial3_temperature_critical`, `tutorial3_overheat` turns true and the machine rings; when fewer than 2
stay above, overheat turns false and a ringing machine goes back to reporting.

Everything the machine does runs on the bus worker (network SETs, timers, the boot exit), one job at a
time, so no lock is needed where the original took its bus lock.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import Any, TypeVar

from transitions import Machine, MachineError

from janitoo_protocol import Genre

from ..bus import Bus, BusContext, Component
from ..components._common import Kind, backend_kind, sim_source
from ..components.dht import DhtComponent
from ..components.gpio import GpioBus, LedComponent
from ..components.hostsensor import PiCpuComponent
from ..components.onewire import Ds18b20Component, OneWireBus, OneWireMaster
from ..config import ComponentDecl
from ..hardware.gpio import GpioBackend
from ..scheduler import Timer
from ..values import CATALOGUE, Value, ValueRefused, make_value, with_companions

log = logging.getLogger("janitoo.apps.tutorial3")

# ------------------------------------------------------------------------------------------ the machine

BOOTING, SLEEPING, REPORTING, RINGING = "booting", "sleeping", "reporting", "ringing"
STATES: tuple[str, ...] = (BOOTING, SLEEPING, REPORTING, RINGING)
TRIGGERS: tuple[str, ...] = ("wakeup", "report", "sleep", "ring")


@dataclass(frozen=True)
class TransitionRule:
    """One row of the machine's table; `sources` None means from any state."""

    trigger: str
    sources: tuple[str, ...] | None
    dest: str
    needs_nodes: bool

    def allowed_from(self, state: str) -> bool:
        return self.sources is None or state in self.sources

    @property
    def source_text(self) -> str:
        return "*" if self.sources is None else ", ".join(self.sources)


TRANSITIONS: tuple[TransitionRule, ...] = (
    TransitionRule("wakeup", (SLEEPING,), REPORTING, True),
    TransitionRule("report", None, REPORTING, True),
    TransitionRule("sleep", None, SLEEPING, False),
    TransitionRule("ring", (REPORTING,), RINGING, True),
)
CONDITION = "nodes_ready"

# The LED's blink mode in each state (booting: the blink value's default).
LED_MODES: dict[str, str] = {BOOTING: "off", SLEEPING: "off", REPORTING: "heartbeat", RINGING: "warning"}
SLEEPING_STATE_POLL = 900.0


class TriggerRefused(Exception):
    """A trigger the machine does not take now (unknown, not allowed from this state, or nodes missing)."""


@dataclass(frozen=True)
class Change:
    """One applied transition."""

    source: str
    trigger: str
    dest: str


def machine_kwargs() -> dict[str, Any]:
    """The `transitions` description of the machine (also used to draw it)."""
    return {
        "states": list(STATES),
        "transitions": [
            {
                "trigger": t.trigger,
                "source": "*" if t.sources is None else list(t.sources),
                "dest": t.dest,
                **({"conditions": CONDITION} if t.needs_nodes else {}),
            }
            for t in TRANSITIONS
        ],
        "initial": BOOTING,
        "auto_transitions": False,
    }


class Tutorial3Machine:
    """The state machine alone: `fire(trigger)` applies a trigger or raises TriggerRefused with the reason.

    `ready()` is the condition of wakeup/report/ring; `on_change(change)` runs after every transition.
    """

    state: str  # set by transitions

    def __init__(self, ready: Callable[[], bool] = lambda: True,
                 on_change: Callable[[Change], None] | None = None) -> None:  # fmt: skip
        self._ready = ready
        self._on_change = on_change
        self.last_trigger: str | None = None
        self._machine = Machine(
            model=self, send_event=True, after_state_change="_changed", **machine_kwargs()
        )

    def nodes_ready(self, event: Any = None) -> bool:
        return bool(self._ready())

    def _changed(self, event: Any) -> None:
        change = Change(event.transition.source, event.event.name, event.transition.dest)
        self.last_trigger = change.trigger
        if self._on_change is not None:
            try:
                self._on_change(change)
            except Exception:  # noqa: BLE001 - the state has changed; a failing callback must not undo that
                log.exception("tutorial3: after %s (%s -> %s)", change.trigger, change.source, change.dest)

    def fire(self, trigger: str) -> str:
        """Apply `trigger`; returns the new state. TriggerRefused says why when it cannot be applied."""
        rule = next((t for t in TRANSITIONS if t.trigger == trigger), None)
        if rule is None:
            raise TriggerRefused(f"{trigger!r} is not a trigger: expected one of {', '.join(TRIGGERS)}")
        source = self.state
        if not rule.allowed_from(source):
            raise TriggerRefused(f"{trigger} is not allowed from {source} (only from {rule.source_text})")
        try:
            applied = self._machine.events[trigger].trigger(self)
        except MachineError as exc:  # pragma: no cover - the table above already said no
            raise TriggerRefused(f"{trigger} is not allowed from {source}: {exc.value}") from None
        if not applied:
            raise TriggerRefused(f"{trigger} refused in {source}: the nodes are not all created yet")
        return self.state


# ------------------------------------------------------------------------------------------ the check


@dataclass(frozen=True)
class Decision:
    """What one periodic check concludes."""

    average: float | None  # None: no reading at all (the average keeps its last data)
    critical_count: int
    overheat: bool
    trigger: str | None  # "ring", "report" or None


def average(readings: Iterable[float | None]) -> float | None:
    """The mean of the available readings (None ones skipped), None when there is none."""
    available = [r for r in readings if r is not None]
    if not available:
        return None
    return round(sum(available) / len(available), 2)


def critical_count(readings: Iterable[float | None], critical: float) -> int:
    """How many available readings are strictly above `critical` (the original's `>`)."""
    return sum(1 for r in readings if r is not None and r > critical)


def decide(readings: Sequence[float | None], critical: float, state: str) -> Decision:
    """The 2-of-3 rule: overheat when at least 2 readings are above `critical`.

    Overheat in reporting rings; fewer than 2 above clears overheat, and a ringing machine reports again.
    """
    count = critical_count(readings, critical)
    overheat = count >= 2
    trigger: str | None = None
    if overheat and state == REPORTING:
        trigger = "ring"
    elif not overheat and state == RINGING:
        trigger = "report"
    return Decision(average(readings), count, overheat, trigger)


# ------------------------------------------------------------------------------------------ components


class AmbianceComponent(DhtComponent):
    """`tutorial3.ambiance`: the DHT (sim: 21 °C, 40 %)."""


class TemperatureComponent(Ds18b20Component):
    """`tutorial3.temperature`: the DS18B20 (sim: 19.5 °C, the tutorial's reading)."""

    def __init__(self, bus: Bus, decl: ComponentDecl) -> None:
        super().__init__(bus, decl)
        self.sim = sim_source(self, "sim_temperature", "19.5", f"DS18B20 {decl.section} (sim)")


class CpuComponent(PiCpuComponent):
    """`tutorial3.cpu`: the Pi's CPU, real on a Pi and simulated elsewhere, like the bus's other parts.

    (The stock `hostsensor` bus reads any Linux host on `auto`; the tutorial's three temperatures are
    one appliance, so a PC runs them all on the simulator: 45 °C, 1000 MHz, 1.2 V.)
    """

    product_type = "Software component"

    @property
    def kind(self) -> Kind:
        return backend_kind(self.bus)


class StateLedComponent(LedComponent):
    """`tutorial3.led`: the LED showing the machine's state."""


C = TypeVar("C", bound=Component)


# ------------------------------------------------------------------------------------------ the bus


class Tutorial3Bus(Bus):
    """The `tutorial3` bus: shared GPIO and 1-wire, the machine, the check, and the bus values."""

    oid = "tutorial3"
    product_name = "Raspberry tutorial controller"

    def __init__(self, ctx: BusContext) -> None:
        super().__init__(ctx)
        self.kind: Kind = backend_kind(self)
        # The stock buses own the shared resources (and the original's sub-bus values
        # `rpigpio_boardmode`, `rpi1wire_sensors_dir`); this bus only aggregates them.
        self.gpio_bus = GpioBus(replace(ctx, section="rpigpio", backend=self.kind))
        self.onewire_bus = OneWireBus(replace(ctx, section="rpi1wire", backend=self.kind))
        self.machine = Tutorial3Machine(ready=self.nodes_ready, on_change=self._changed)
        self.listeners: list[Callable[[Change], None]] = []
        self.started = False
        self._check_timer: Timer | None = None
        self._check_generation = 0
        self._wake_timers: list[Timer] = []
        self._default_polls: dict[str, float] = {}

    # -- shared resources, found by the stock components on their bus

    @property
    def gpio(self) -> GpioBackend | None:
        return self.gpio_bus.gpio

    @property
    def onewire(self) -> OneWireMaster | None:
        return self.onewire_bus.onewire

    # -- values

    def create_values(self) -> list[Value]:
        oid = self.oid
        self.timer_delay = make_value("config_integer", f"{oid}_timer_delay", help="The delay between 2 checks",
                                      label="Timer.", default=45, min=1, set=self._set_timer_delay)  # fmt: skip
        self.critical = make_value("config_integer", f"{oid}_temperature_critical", label="Critical", default=50,
                                   help="The critical temperature. If 2 of the 3 temperature sensors are up to "
                                        "this value, a security notification is sent.")  # fmt: skip
        self.temperature = make_value("sensor_temperature", f"{oid}_temperature", label="Temp", poll_delay=300,
                                      help="The average temperature of tutorial.")  # fmt: skip
        self.overheat = make_value("sensor_boolean", f"{oid}_overheat", help="Temperature overheat.",
                                   label="Overheat", poll_delay=60, default=False)  # fmt: skip
        self.state_value = Value(f"{oid}_state", replace(CATALOGUE["sensor_string"], genre=Genre.BASIC),
                                 entry_name="sensor_string", help="The state of the fsm.", label="State",
                                 poll_delay=60, get=lambda v, i: self.machine.state)  # fmt: skip
        self.transition = make_value("transition_fsm", f"{oid}_transition", label="Transit",
                                     help="Trigger a transition on the fsm or get the last triggered",
                                     list_items=TRIGGERS, poll_delay=60,
                                     get=lambda v, i: self.machine.last_trigger,
                                     set=lambda v, i, data: self.fire(str(data)))  # fmt: skip
        # The older tutorial's way to fire a trigger, kept: a user string value (cmd_class 0 as it showed).
        self.change = Value(f"{oid}_change", replace(CATALOGUE["action_string"], cmd_class=0),
                            entry_name="action_string", help="Change the state of the machine.", label="Change",
                            list_items=TRIGGERS, poll_delay=300, get=lambda v, i: self.machine.last_trigger,
                            set=lambda v, i, data: self.fire(str(data).strip()))  # fmt: skip
        # The periods before the config's `_poll` keys are loaded: the defaults the state switches back to.
        self._default_polls = {v.uuid: v.poll_delay for v in (self.state_value, self.overheat)}
        return [
            *self.gpio_bus.create_values(),
            *self.onewire_bus.create_values(),
            self.timer_delay,
            self.critical,
            *with_companions(self.temperature),
            *with_companions(self.overheat),
            *with_companions(self.state_value),
            *with_companions(self.transition),
            *with_companions(self.change),
        ]

    def _set_timer_delay(self, value: Value, index: int, data: Any) -> None:
        value.store(data, index)
        # A new delay counts from now, not after the pending wait.
        if self._check_timer is not None:
            self._arm_check()

    # -- components

    def component(self, cls: type[C]) -> C | None:
        """The first component of a kind (the config's keys may differ from the tutorial's)."""
        return next((c for c in self.components.values() if isinstance(c, cls)), None)

    def temperature_values(self) -> list[Value]:
        """The three temperatures of the check: DS18B20, DHT, CPU (the ones configured)."""
        out = []
        for cls in (Ds18b20Component, DhtComponent, PiCpuComponent):
            comp = self.component(cls)
            if comp is not None and comp.node is not None:
                out.append(comp.node.values["temperature"])
        return out

    def quiet_values(self) -> list[Value]:
        """What sleeping silences: every value of the appliance's nodes but the state (and the `_poll`
        companions, never polled themselves)."""
        nodes = [self.node, *(c.node for c in self.components.values())]
        return [v for n in nodes if n is not None for v in n.values.values()
                if v is not self.state_value and v.master is None]  # fmt: skip

    def nodes_ready(self) -> bool:
        """The original's condition_values: every node has been created."""
        return self.node is not None and all(c.node is not None for c in self.components.values())

    # -- life cycle

    def start(self) -> None:
        for sub in (self.gpio_bus, self.onewire_bus):
            sub.node = self.node
            sub.start()
        self.started = True

        # The node manager schedules the first polls right after this start; one more pass through the
        # scheduler puts the boot exit behind them, so every sensor has its first reading before the
        # machine goes quiet (with the threaded scheduler and with the manual one alike).
        def behind_the_first_polls() -> None:
            self.call_later(0, self._leave_booting)

        self.call_later(0, behind_the_first_polls)

    def stop(self) -> None:
        self.started = False
        self._cancel_check()
        self._cancel_wake()
        self.onewire_bus.stop()
        self.gpio_bus.stop()

    def _leave_booting(self) -> None:
        if self.started and self.machine.state == BOOTING:
            self.try_fire("sleep")

    # -- triggers

    def fire(self, trigger: str) -> None:
        """A trigger written over the network: a refusal is the SET's error answer, never ignored."""
        try:
            self.machine.fire(trigger)
        except TriggerRefused as exc:
            raise ValueRefused(str(exc)) from None

    def try_fire(self, trigger: str) -> bool:
        """A trigger from the appliance itself (boot exit, check, demo): a refusal is logged. Worker only."""
        try:
            self.machine.fire(trigger)
        except TriggerRefused as exc:
            log.warning("tutorial3: %s", exc)
            return False
        return True

    def _changed(self, change: Change) -> None:
        log.info("tutorial3: %s -> %s (%s)", change.source, change.dest, change.trigger)
        if change.dest == SLEEPING:
            self._enter_sleeping()
        elif change.dest == REPORTING:
            self._enter_reporting(change.source)
        elif change.dest == RINGING:
            self._enter_ringing()
        self.ctx.publish_value(self.state_value)
        for listener in list(self.listeners):
            try:
                listener(change)
            except Exception:  # noqa: BLE001 - an observer must not break the machine
                log.exception("tutorial3: state listener failed")

    def _enter_sleeping(self) -> None:
        self._cancel_check()
        self._cancel_wake()
        for value in self.quiet_values():
            self._set_quiet(value, True)
        self._set_led(LED_MODES[SLEEPING])
        self._set_poll(self.state_value, SLEEPING_STATE_POLL)

    def _enter_reporting(self, source: str) -> None:
        self._set_led(LED_MODES[REPORTING])
        self._set_poll(self.state_value, self.configured_poll(self.state_value))
        self._set_poll(self.overheat, self.configured_poll(self.overheat))
        self.ctx.publish_value(self.overheat)
        if source in (BOOTING, SLEEPING):
            # Waking up checks at once (as the original's on_exit_sleeping did), then every delay.
            self._arm_check(0.0)
        else:
            self._arm_check()
        # Scheduled after the check, so the average published first is the fresh one.
        woken = [v for v in self.quiet_values() if v.paused]
        for value in woken:
            self._set_quiet(value, False)
        self._publish_soon([v for v in woken if v.is_polled])

    def _enter_ringing(self) -> None:
        self._set_led(LED_MODES[RINGING])
        self._set_poll(self.state_value, self.configured_poll(self.state_value) / 3)
        self._set_poll(self.overheat, self.configured_poll(self.overheat) / 3)
        self.ctx.publish_value(self.overheat)
        self._arm_check()

    # -- the periodic check

    def check_delay(self) -> float:
        """The wait before the next check: the configured delay, half of it while ringing."""
        delay = float(self.timer_delay.cached() or 45)
        return delay / 2 if self.machine.state == RINGING else delay

    def _arm_check(self, delay: float | None = None) -> None:
        self._cancel_check()
        if not self.started or self.machine.state not in (REPORTING, RINGING):
            return
        generation = self._check_generation

        def run() -> None:
            self.check(generation)

        self._check_timer = self.call_later(self.check_delay() if delay is None else delay, run)

    def _cancel_check(self) -> None:
        # A check already handed to the worker when the timer is cancelled sees a newer generation.
        self._check_generation += 1
        if self._check_timer is not None:
            self._check_timer.cancel()
            self._check_timer = None

    def check(self, generation: int | None = None) -> Decision | None:
        """Read the three temperatures, store their average, apply the 2-of-3 rule, re-arm the timer."""
        if generation is not None and generation != self._check_generation:
            return None
        if not self.started or self.machine.state not in (REPORTING, RINGING):
            return None
        self._check_timer = None
        # Fresh readings (polls may be minutes apart); a failing sensor reads None and is skipped.
        readings = [value.read() for value in self.temperature_values()]
        state = self.machine.state
        decision = decide(readings, float(self.critical.cached()), state)
        if decision.average is not None:
            self.temperature.store(decision.average)
        overheat_changed = bool(self.overheat.cached()) != decision.overheat
        self.overheat.store(decision.overheat)
        if overheat_changed:
            log.warning("tutorial3: overheat %s: %d of %d temperatures above %s °C (%s)", decision.overheat,
                        decision.critical_count, len(readings), self.critical.cached(), readings)  # fmt: skip
        fired = decision.trigger is not None and self.try_fire(decision.trigger)
        if overheat_changed and not fired:
            # Entering ringing or reporting publishes it; otherwise the change is published here.
            self.ctx.publish_value(self.overheat)
        self._arm_check()
        return decision

    # -- helpers

    def led(self) -> LedComponent | None:
        return self.component(LedComponent)

    def _set_led(self, mode: str) -> None:
        led = self.led()
        if led is None or led.node is None or led.mode == mode:
            return
        try:
            led.set_mode(mode)
        except Exception:  # noqa: BLE001 - a LED failure must not stop the machine
            log.exception("tutorial3: LED %s failed", mode)
        self.ctx.publish_value(led.node.values["blink"])

    def configured_poll(self, value: Value) -> float:
        """The poll period in the config (`<uuid>_poll_0`), else the value's default."""
        default = self._default_polls.get(value.uuid, 60.0)
        if value.node is None:
            return default
        return self.config.get_float(value.node.section, f"{value.uuid}_poll_0", default)

    def _set_poll(self, value: Value, delay: float) -> None:
        # In memory only, as in the original: the config keeps the configured period.
        if value.poll_delay == delay:
            return
        value.poll_delay = delay
        if value.node is not None and value.node.on_poll_change is not None:
            value.node.on_poll_change(value)

    def _set_quiet(self, value: Value, quiet: bool) -> None:
        if value.paused == quiet:
            return
        value.paused = quiet
        if value.node is not None and value.node.on_poll_change is not None:
            value.node.on_poll_change(value)

    def _publish_soon(self, values: list[Value]) -> None:
        # The original added the polls back staggered by slow_start: readings come back one after the other.
        slow_start = self.config.get_float("system", "slow_start", 0.0)
        for i, value in enumerate(values):
            self._wake_timers.append(self.call_later(i * slow_start, partial(self._publish_fresh, value)))

    def _publish_fresh(self, value: Value) -> None:
        if self.started and not value.paused:
            for index in value.indexes:
                value.read(index)
            self.ctx.publish_value(value)

    def _cancel_wake(self) -> None:
        for timer in self._wake_timers:
            timer.cancel()
        self._wake_timers.clear()
