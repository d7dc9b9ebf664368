"""The tutorial3 bus: the shared GPIO and 1-wire, the machine and what each state does, the check."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import Any, TypeVar

from janitoo_protocol import Genre

from ...bus import Bus, BusContext, Component
from ...components._common import Kind, backend_kind
from ...components.dht import DhtComponent
from ...components.gpio import GpioBus, LedComponent
from ...components.hostsensor import PiCpuComponent
from ...components.onewire import Ds18b20Component, OneWireBus, OneWireMaster
from ...hardware.gpio import GpioBackend
from ...scheduler import Timer
from ...values import CATALOGUE, Value, ValueRefused, make_value, with_companions
from .check import Decision, decide
from .machine import (
    BOOTING,
    LED_MODES,
    REPORTING,
    RINGING,
    SLEEPING,
    SLEEPING_STATE_POLL,
    TRIGGERS,
    Change,
    TriggerRefused,
    Tutorial3Machine,
)

log = logging.getLogger("janitoo.apps.tutorial3")

C = TypeVar("C", bound=Component)


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
        # The seed's transcript (the older tutorial) lists the state as a user value too: genre 2, help
        # "The state of the machine." It is read on request and published with the basic one, not polled.
        self.user_state = Value(f"{oid}_state", CATALOGUE["sensor_string"], entry_name="sensor_string",
                                help="The state of the machine.", label="State", poll_delay=0,
                                get=lambda v, i: self.machine.state)  # fmt: skip
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
        if self.node is not None and (Genre.USER, self.user_state.uuid) not in self.node.twins:
            self.node.add_twin(self.user_state)  # the basic state is on the node by now
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
        self.ctx.publish_value(self.user_state)
        for listener in list(self.listeners):
            try:
                listener(change)
            except Exception:  # an observer must not break the machine
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
        except Exception:  # a LED failure must not stop the machine
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
