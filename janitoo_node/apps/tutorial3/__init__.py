"""The HelloWorld V3 appliance (`tutorial3`): three temperatures, their average, a LED and a state machine.

The package: `machine` (states and table, run by `transitions`), `check` (the 2-of-3 rule), `components`,
and `bus` (what each state does).

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

from .bus import Tutorial3Bus
from .check import Decision, average, critical_count, decide
from .components import AmbianceComponent, CpuComponent, StateLedComponent, TemperatureComponent
from .machine import (
    BOOTING,
    CONDITION,
    LED_MODES,
    REPORTING,
    RINGING,
    SLEEPING,
    SLEEPING_STATE_POLL,
    STATES,
    TRANSITIONS,
    TRIGGERS,
    Change,
    TransitionRule,
    TriggerRefused,
    Tutorial3Machine,
    machine_kwargs,
)

__all__ = [
    "BOOTING",
    "CONDITION",
    "LED_MODES",
    "REPORTING",
    "RINGING",
    "SLEEPING",
    "SLEEPING_STATE_POLL",
    "STATES",
    "TRANSITIONS",
    "TRIGGERS",
    "AmbianceComponent",
    "Change",
    "CpuComponent",
    "Decision",
    "StateLedComponent",
    "TemperatureComponent",
    "TransitionRule",
    "TriggerRefused",
    "Tutorial3Bus",
    "Tutorial3Machine",
    "average",
    "critical_count",
    "decide",
    "machine_kwargs",
]
