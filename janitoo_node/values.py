"""Runtime values: data, getters and setters, instances (indexes), polling, persistence, and the factory
catalogue of the original (`sensor_temperature`, `config_integer`, `action_switch_binary`, ...)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from janitoo_protocol import CommandClass, Genre, ValueInfo, ValueType
from janitoo_protocol.codes import COMMAND_CONFIGURATION, convert_data

from .validation import ValueRefused, check_converted, check_shape, short

if TYPE_CHECKING:
    from .node import Node

log = logging.getLogger("janitoo.values")

Getter = Callable[["Value", int], Any]
Setter = Callable[["Value", int, Any], None]


@dataclass(frozen=True)
class ValueSpec:
    """The static description of a value kind (what a factory entry produces)."""

    genre: int
    type: int
    cmd_class: int
    label: str | None = None
    units: str | None = None
    is_readonly: bool = False
    is_writeonly: bool = False
    poll_delay: float = 0
    list_items: tuple[Any, ...] | None = None
    default: Any = None
    min: Any = None
    max: Any = None


class Value:
    """One value of a node, with one data slot per instance index.

    `get` (if given) computes the data from state the program already holds (cheap, never blocks);
    `reader` (if given) reads the hardware (it may block: the bus runs it on its worker, for polls and
    GETs); `set` is called on a write after conversion; `persist` stores config values in the file.
    """

    def __init__(
        self,
        uuid: str,
        spec: ValueSpec,
        *,
        help: str | None = None,
        label: str | None = None,
        default: Any = None,
        entry_name: str | None = None,
        get: Getter | None = None,
        reader: Getter | None = None,
        set: Setter | None = None,
        poll_delay: float | None = None,
        list_items: tuple[Any, ...] | list[Any] | None = None,
        units: str | None = None,
        persist: bool = False,
        min: Any = None,
        max: Any = None,
        is_readonly: bool | None = None,
    ) -> None:
        self.uuid = uuid
        self.spec = spec
        self.genre = spec.genre
        self.type = spec.type
        self.cmd_class = spec.cmd_class
        self.help = help
        self.label = label if label is not None else spec.label
        self.units = units if units is not None else spec.units
        self.default = default if default is not None else spec.default
        self.min = min if min is not None else spec.min
        self.max = max if max is not None else spec.max
        self.list_items = list(list_items) if list_items is not None else (
            list(spec.list_items) if spec.list_items is not None else None
        )  # fmt: skip
        self.is_readonly = spec.is_readonly if is_readonly is None else is_readonly
        self.is_writeonly = spec.is_writeonly
        self.entry_name = entry_name
        self.getter = get
        self.reader = reader
        self.setter = set
        self.last_error: str | None = None  # the last read failure, logged once per failure streak
        # A bus may pause a value's polls (a state machine going quiet) without touching its period.
        self.paused = False
        # Persisted values are stored as `<uuid>_<index>` in the node's config section.
        self.persist = persist
        self.poll_delay = float(spec.poll_delay if poll_delay is None else poll_delay)
        self.node: Node | None = None
        self._data: dict[int, Any] = {}
        # Labels of the instances (from `<uuid>_config_<i>`): "Load (5 minutes)".
        self.instance_configs: dict[int, str] = {}
        self.poll_value: Value | None = None  # the `<uuid>_poll` companion
        self.config_value: Value | None = None  # the `<uuid>_config` companion
        self.master: Value | None = None  # for companions: the value they belong to
        self._lock = threading.Lock()

    # -- instances

    @property
    def indexes(self) -> list[int]:
        if self.instance_configs:
            return sorted(self.instance_configs)
        return sorted(set(self._data) | {0})

    @property
    def is_multi(self) -> bool:
        return len(self.instance_configs) > 0

    @property
    def is_polled(self) -> bool:
        # A `_poll` companion shows its master's default delay (as the original does) but is never polled.
        if self.master is not None or self.paused:
            return False
        return self.poll_delay > 0 and not self.is_writeonly

    # -- data

    def cached(self, index: int = 0) -> Any:
        """The current data without touching hardware: the getter's answer, or the stored data."""
        if self.getter is not None:
            return self.getter(self, index)
        with self._lock:
            data = self._data.get(index)
        return self.default if data is None else data

    def read(self, index: int = 0) -> Any:
        """Fresh data: the reader's answer (stored; None and one log line when the device fails)."""
        if self.reader is None:
            return self.cached(index)
        try:
            data = self.reader(self, index)
        except Exception as exc:  # noqa: BLE001 - a failing device must never stop the bus
            reason = str(exc) or type(exc).__name__
            if reason != self.last_error:
                where = f"{self.node.hadd} " if self.node is not None else ""
                log.error("%s%s: read failed: %s", where, self.uuid, reason)
            self.last_error = reason
            data = None
        else:
            if self.last_error is not None:
                log.info("%s: reads again", self.uuid)
            self.last_error = None
        with self._lock:
            self._data[index] = data
        return data

    def store(self, data: Any, index: int = 0) -> None:
        """Set the data without calling the setter (a component reporting a reading)."""
        with self._lock:
            self._data[index] = data

    def convert(self, data: Any) -> Any:
        """The data converted to this value's type; ValueRefused with the reason when it cannot be.

        This is the one gate for data from the wire and from the config file alike: what a SET may
        store is exactly what a restart loads back, and nothing that passes it can become structure
        in the INI file (no line breaks, no control characters, bounded length, finite numbers).
        """
        check_shape(self.type, data)
        try:
            converted = convert_data(self.type, data)
        except ValueError as exc:
            raise ValueRefused(str(exc)) from None
        check_converted(self.type, converted)
        if self.type == ValueType.LIST and self.list_items and converted not in self.list_items:
            raise ValueRefused(f"{short(data)} is not one of {', '.join(map(str, self.list_items))}")
        if isinstance(converted, int | float) and not isinstance(converted, bool):
            if self.min is not None and converted < self.min:
                raise ValueRefused(f"{converted} is below the minimum {self.min}")
            if self.max is not None and self.max != 0 and converted > self.max:
                raise ValueRefused(f"{converted} is above the maximum {self.max}")
        return converted

    def write(self, data: Any, index: int = 0) -> Any:
        """A network write: validate, call the setter, persist, store. Returns the stored data.

        Everything that can refuse runs before anything changes: a refused write leaves memory and
        file as they were. The setter may still refuse (hardware says no); it changes nothing then.
        """
        if self.is_readonly:
            raise ValueRefused(f"{self.uuid} is read-only")
        if data is None:
            raise ValueRefused(f"{self.uuid}: no data to set")
        converted = self.convert(data)
        if self.setter is not None:
            self.setter(self, index, converted)
        if self.persist and self.node is not None:
            self.node.persist(f"{self.uuid}_{index}", converted)
        with self._lock:
            self._data[index] = converted
        return converted

    # -- wire

    def info(self, index: int = 0, data: Any = None, fresh: bool = False) -> ValueInfo:
        """The wire description of one index (`data` overrides; `fresh` reads through the getter)."""
        node = self.node
        if data is None:
            data = self.read(index) if fresh else self.cached(index)
        label = self.label
        if self.is_multi and index in self.instance_configs:
            label = f"{self.label} ({self.instance_configs[index]})"
        return ValueInfo(
            uuid=self.uuid,
            hadd=None if node is None else node.hadd,
            node_uuid=None if node is None else node.uuid,
            genre=self.genre,
            type=self.type,
            cmd_class=self.cmd_class,
            index=index,
            data=data,
            default=self.default,
            label=label,
            help=self.help,
            units=self.units,
            min=self.min,
            max=self.max,
            list_items=self.list_items,
            is_readonly=self.is_readonly,
            is_writeonly=self.is_writeonly,
            is_polled=self.is_polled,
            poll_delay=_num(self.poll_delay),
            entry_name=self.entry_name,
        )

    def infos(self, fresh: bool = False) -> list[ValueInfo]:
        return [self.info(i, fresh=fresh) for i in self.indexes]

    def __repr__(self) -> str:
        return f"<Value {self.uuid} genre={self.genre} cmd_class={self.cmd_class}>"


def _num(x: float) -> float | int:
    return int(x) if float(x).is_integer() else x


def with_companions(value: Value, *, poll: bool = True, config: bool = False,
                    config_help: str = "A value config", config_type: int = ValueType.STRING) -> list[Value]:  # fmt: skip
    """The value plus its `<uuid>_poll` (and `<uuid>_config`) companions, as the original factory makes."""
    out = [value]
    if poll:
        pv = Value(f"{value.uuid}_poll", POLL_SPEC, help="The poll delay of the value", label="poll_delay",
                   poll_delay=value.poll_delay, get=lambda v, i: _num(value.poll_delay) if i == 0 else v._data.get(i))  # fmt: skip
        pv.master = value
        value.poll_value = pv
        out.append(pv)
    if config:
        cv = Value(
            f"{value.uuid}_config", replace(CONFIG_SPEC, type=config_type), help=config_help, label="config"
        )
        cv.master = value
        value.config_value = cv
        out.append(cv)
    return out


# ------------------------------------------------------------------------------------------ catalogue

_S = ValueSpec
SENSOR = CommandClass.SENSOR_MULTILEVEL
POLL_SPEC = _S(Genre.CONFIG, ValueType.INT, COMMAND_CONFIGURATION, units="seconds")
CONFIG_SPEC = _S(Genre.CONFIG, ValueType.BYTE, COMMAND_CONFIGURATION)

# entry name -> spec, for the `janitoo.values` factory catalogue (spec §8.6).
CATALOGUE: dict[str, ValueSpec] = {
    "sensor_float": _S(2, 3, SENSOR, "Float", is_readonly=True, poll_delay=30),
    "sensor_temperature": _S(2, 3, SENSOR, "Temp.", "°C", is_readonly=True, poll_delay=30),
    "sensor_pressure": _S(2, 3, SENSOR, "Pressure", "Pa", is_readonly=True, poll_delay=30),
    "sensor_altitude": _S(2, 3, SENSOR, "Alt.", "m", is_readonly=True, poll_delay=30),
    "sensor_voltage": _S(2, 3, SENSOR, "Voltage", "V", is_readonly=True, poll_delay=30),
    "sensor_current": _S(2, 3, SENSOR, "Current", "A", is_readonly=True, poll_delay=30),
    "sensor_power": _S(2, 3, SENSOR, "Power", "W", is_readonly=True, poll_delay=30),
    "sensor_percent": _S(2, 3, SENSOR, "Percentage", "%", is_readonly=True, poll_delay=30),
    "sensor_rotation_speed": _S(2, 3, SENSOR, "Rot. speed", "rpm", is_readonly=True, poll_delay=30),
    "sensor_frequency": _S(2, 3, SENSOR, "Frequency", "MHz", is_readonly=True, poll_delay=30),
    "sensor_humidity": _S(2, 3, SENSOR, "humidity", "%", is_readonly=True, poll_delay=30),
    "sensor_distance": _S(2, 3, SENSOR, "distance", "m", is_readonly=True, poll_delay=30),
    "sensor_string": _S(2, 8, SENSOR, "String", is_readonly=True, poll_delay=30),
    "sensor_list": _S(2, 5, SENSOR, "List", is_readonly=True, poll_delay=30),
    "sensor_byte": _S(2, 2, SENSOR, "Byte", is_readonly=True, poll_delay=30),
    "sensor_integer": _S(2, 4, SENSOR, "Integer", is_readonly=True, poll_delay=30),
    "sensor_memory": _S(2, 4, SENSOR, "Memory", "Bytes", is_readonly=True, poll_delay=30),
    "sensor_boolean": _S(2, 1, CommandClass.SENSOR_BINARY, "Boolean", is_readonly=True, poll_delay=30),
    "sensor_presence": _S(2, 1, CommandClass.SENSOR_BINARY, "Presence", is_readonly=True, poll_delay=30),
    "sensor_basic_float": _S(1, 3, SENSOR, "Float", is_readonly=True, poll_delay=30),
    "sensor_basic_integer": _S(1, 4, SENSOR, "Integer", is_readonly=True, poll_delay=30),
    "sensor_basic_byte": _S(1, 2, SENSOR, "Byte", is_readonly=True, poll_delay=30),
    "config_string": _S(3, 8, COMMAND_CONFIGURATION),
    "config_list": _S(3, 5, COMMAND_CONFIGURATION, list_items=("value1", "value2")),
    "config_password": _S(3, 0x14, COMMAND_CONFIGURATION),
    "config_boolean": _S(3, 1, COMMAND_CONFIGURATION),
    "config_integer": _S(3, 4, COMMAND_CONFIGURATION),
    "config_byte": _S(3, 2, COMMAND_CONFIGURATION),
    "config_float": _S(3, 3, COMMAND_CONFIGURATION),
    "config_array": _S(3, 0x16, COMMAND_CONFIGURATION),
    "action_string": _S(2, 8, 0x01),
    "action_byte": _S(2, 2, 0x01),
    "action_integer": _S(2, 4, 0x01),
    "action_boolean": _S(2, 4, 0x01),
    "action_list": _S(2, 5, 0x01),
    "action_switch_binary": _S(
        2, 5, CommandClass.SWITCH_BINARY, "Switch", list_items=("on", "off"), default=0
    ),
    "action_switch_multilevel": _S(2, 2, CommandClass.SWITCH_MULTILEVEL, "dimmer", default=0, min=0, max=0),
    "transition_fsm": _S(1, 5, CommandClass.FSM, poll_delay=60),
    "blink": _S(1, 5, 12803, "Blink", default="off"),
}


def make_value(entry: str, uuid: str, **kwargs: Any) -> Value:
    """A value from the factory catalogue: `make_value("sensor_temperature", "temperature", help=...)`.

    Names not in the built-in catalogue are looked up in the `janitoo.values` entry points, whose
    factories are called as `factory(uuid=..., **kwargs)` and return a Value.
    """
    spec = CATALOGUE.get(entry)
    if spec is None:
        from .plugins import value_factories

        factory = value_factories().get(entry)
        if factory is None:
            raise KeyError(f"unknown value factory {entry!r}")
        value = factory(uuid=uuid, **kwargs)
        if not isinstance(value, Value):
            raise TypeError(f"value factory {entry!r} returned {type(value).__name__}, not a Value")
        return value
    if entry.startswith("config_"):
        kwargs.setdefault("persist", True)
    return Value(uuid, spec, entry_name=entry, **kwargs)
