"""Runtime values: data, getters and setters, instances (indexes), polling, persistence, and the factory
catalogue of the original (`sensor_temperature`, `config_integer`, `action_switch_binary`, ...)."""

from __future__ import annotations

import logging
import sys
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

from janitoo_protocol import CommandClass, Genre, ValueInfo, ValueType
from janitoo_protocol.codes import COMMAND_CONFIGURATION, convert_data

from .validation import ValueRefused, check_converted, check_shape, short

if TYPE_CHECKING:
    from .node import Node

log = logging.getLogger("janitoo.values")

# Guards the dict of indexes beyond 0 of every value (index 0 is one attribute): one lock for all, as a
# dict operation is all it covers, rather than one lock per value of a simulated network.
_DATA_LOCK = threading.Lock()

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

    def __post_init__(self) -> None:
        # One float object for every value of a kind, rather than one converted per value.
        object.__setattr__(self, "poll_delay", float(self.poll_delay))


T = TypeVar("T")


@dataclass(frozen=True, eq=False, slots=True, weakref_slot=True)
class Traits:
    """What a value is, as opposed to what it holds: its kind, texts and bounds, as its constructor set them.

    Equal traits are one object (`shared`): the thousands of temperatures of a simulated network, or the
    system values of all its nodes, each hold a pointer rather than fourteen.
    """

    spec: ValueSpec
    genre: int
    type: int
    cmd_class: int
    help: str | None
    label: str | None
    units: str | None
    default: Any
    min: Any
    max: Any
    list_items: list[Any] | None
    is_readonly: bool
    is_writeonly: bool
    entry_name: str | None

    @classmethod
    def shared(cls, spec: ValueSpec, *, help: str | None, label: str | None, units: str | None, default: Any,
               min: Any, max: Any, list_items: list[Any] | None, is_readonly: bool,
               entry_name: str | None) -> Traits:  # fmt: skip
        """These traits, the object already made for equal ones if there is one alive."""
        traits = cls(spec, spec.genre, spec.type, spec.cmd_class, help, label, units, default, min, max, list_items,
                     is_readonly, spec.is_writeonly, entry_name)  # fmt: skip
        try:
            # Typed: 0, 0.0 and False are equal but not the same on the wire.
            key = (spec, help, label, units, _typed(default), _typed(min), _typed(max),
                   None if list_items is None else tuple(map(_typed, list_items)), is_readonly, entry_name)  # fmt: skip
            return _TRAITS.setdefault(key, traits)
        except TypeError:  # an unhashable default or list item: this value keeps its own
            return traits


def _typed(x: Any) -> tuple[type, Any]:
    return (type(x), x)


_TRAITS: weakref.WeakValueDictionary[tuple[Any, ...], Traits] = weakref.WeakValueDictionary()


class _Trait(Generic[T]):
    """An attribute of a Value that lives in its shared Traits (read-only: traits are set at creation)."""

    __slots__ = ("name",)

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, value: None, owner: type | None = None) -> _Trait[T]: ...
    @overload
    def __get__(self, value: Value, owner: type | None = None) -> T: ...
    def __get__(self, value: Value | None, owner: type | None = None) -> T | _Trait[T]:
        if value is None:
            return self
        result: T = getattr(value.traits, self.name)
        return result


class Value:
    """One value of a node, with one data slot per instance index.

    `get` (if given) computes the data from state the program already holds (cheap, never blocks);
    `reader` (if given) reads the hardware (it may block: the bus runs it on its worker, for polls and
    GETs); `set` is called on a write after conversion; `persist` stores config values in the file.
    """

    # A simulated network holds one Value per system, config and user value of every node (7 per node
    # at least): slots, what it is in a Traits shared with the values alike, and no dict nor lock of its
    # own until a value needs one, keep each one small.
    __slots__ = (
        "uuid", "traits", "getter", "reader", "setter", "last_error", "paused", "persist", "poll_delay", "node",
        "poll_value", "config_value", "master", "_data0", "_data", "_configs",
    )  # fmt: skip

    spec = _Trait[ValueSpec]()
    genre = _Trait[int]()
    type = _Trait[int]()
    cmd_class = _Trait[int]()
    help = _Trait[str | None]()
    label = _Trait[str | None]()
    units = _Trait[str | None]()
    default = _Trait[Any]()
    min = _Trait[Any]()
    max = _Trait[Any]()
    list_items = _Trait[list[Any] | None]()
    is_readonly = _Trait[bool]()
    is_writeonly = _Trait[bool]()
    entry_name = _Trait[str | None]()

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
        items = list_items if list_items is not None else spec.list_items
        self.traits = Traits.shared(
            spec,
            help=help,
            label=label if label is not None else spec.label,
            units=units if units is not None else spec.units,
            default=default if default is not None else spec.default,
            min=min if min is not None else spec.min,
            max=max if max is not None else spec.max,
            list_items=None if items is None else list(items),
            is_readonly=spec.is_readonly if is_readonly is None else is_readonly,
            entry_name=entry_name,
        )
        self.getter = get
        self.reader = reader
        self.setter = set
        self.last_error: str | None = None  # the last read failure, logged once per failure streak
        # A bus may pause a value's polls (a state machine going quiet) without touching its period.
        self.paused = False
        # Persisted values are stored as `<uuid>_<index>` in the node's config section.
        self.persist = persist
        delay = spec.poll_delay if poll_delay is None else poll_delay
        self.poll_delay = delay if type(delay) is float else float(delay)
        self.node: Node | None = None
        # The data of index 0, and of the other indexes (most values have none) once one is stored.
        self._data0: Any = None
        self._data: dict[int, Any] | None = None
        # Labels of the instances (from `<uuid>_config_<i>`): "Load (5 minutes)"; None while there are none.
        self._configs: dict[int, str] | None = None
        self.poll_value: Value | None = None  # the `<uuid>_poll` companion
        self.config_value: Value | None = None  # the `<uuid>_config` companion
        self.master: Value | None = None  # for companions: the value they belong to

    # -- instances

    @property
    def instance_configs(self) -> dict[int, str]:
        """Labels of the instances by index (from `<uuid>_config_<i>`); add to it to declare instances."""
        if self._configs is None:
            self._configs = {}
        return self._configs

    @property
    def indexes(self) -> list[int]:
        if self._configs:
            return sorted(self._configs)
        if self._data is None:  # most values: one index, and no lock to take on every publication
            return [0]
        with _DATA_LOCK:
            return sorted({0, *self._data}) if self._data else [0]

    @property
    def is_multi(self) -> bool:
        return bool(self._configs)

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
        data = self.stored(index)
        return self.default if data is None else data

    def stored(self, index: int = 0) -> Any:
        """The data last stored for `index` (read, written or reported), None when there is none."""
        if index == 0:
            return self._data0
        with _DATA_LOCK:
            return None if self._data is None else self._data.get(index)

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
        self.store(data, index)
        return data

    def store(self, data: Any, index: int = 0) -> None:
        """Set the data without calling the setter (a component reporting a reading)."""
        if index == 0:
            self._data0 = data  # one attribute store: atomic
            return
        with _DATA_LOCK:
            if self._data is None:
                self._data = {}
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
        self.store(converted, index)
        return converted

    # -- wire

    def info(self, index: int = 0, data: Any = None, fresh: bool = False) -> ValueInfo:
        """The wire description of one index (`data` overrides; `fresh` reads through the getter)."""
        node = self.node
        if data is None:
            data = self.read(index) if fresh else self.cached(index)
        t = self.traits  # read once: each trait through its descriptor is a Python call, on every publication
        label = t.label
        configs = self._configs
        if configs and index in configs:
            label = f"{t.label} ({configs[index]})"
        delay = self.poll_delay
        polled = self.master is None and not self.paused and delay > 0 and not t.is_writeonly  # is_polled
        delay = int(delay) if type(delay) is float and delay.is_integer() else _num(delay)
        hadd = None if node is None else node.hadd
        node_uuid = None if node is None else node.uuid
        # Built positionally, in ValueInfo's field order (a third cheaper than by keywords, and this runs
        # for every publication); tests/node/test_publish_path.py checks every field.
        info = ValueInfo(
            self.uuid,
            hadd,
            node_uuid,
            t.genre,
            t.type,
            t.cmd_class,
            index,
            data,
            t.default,
            label,
            t.help,
            t.units,
            t.min,
            t.max,
            t.list_items,
            t.is_readonly,
            t.is_writeonly,
            polled,
            delay,
            None,  # voice_uuid
            None,  # reply_hadd
            t.entry_name,
            {},  # extra
        )
        # Every field but data comes from these (the traits are immutable, shared by equal values only; the
        # delay's type, as 30 and 30.0 are equal but not the same text): the encoder keeps the text by it.
        info.alike = (self.uuid, hadd, node_uuid, t, index, label, polled, delay, type(delay))
        return info

    def infos(self, fresh: bool = False) -> list[ValueInfo]:
        return [self.info(i, fresh=fresh) for i in self.indexes]

    def __repr__(self) -> str:
        return f"<Value {self.uuid} genre={self.genre} cmd_class={self.cmd_class}>"


def _num(x: float) -> float | int:
    return int(x) if float(x).is_integer() else x


def _master_poll_delay(poll_value: Value, index: int) -> Any:
    """A `_poll` companion's data: its master's delay at index 0 (another index: what a SET stored there)."""
    master = poll_value.master
    if index == 0 and master is not None:
        return _num(master.poll_delay)
    return poll_value.stored(index)


def with_companions(value: Value, *, poll: bool = True, config: bool = False,
                    config_help: str = "A value config", config_type: int = ValueType.STRING,
                    config_label: str = "config") -> list[Value]:  # fmt: skip
    """The value plus its `<uuid>_poll` (and `<uuid>_config`) companions, as the original factory makes."""
    out = [value]
    if poll:
        pv = Value(sys.intern(f"{value.uuid}_poll"), POLL_SPEC, help="The poll delay of the value", label="poll_delay",
                   poll_delay=value.poll_delay, get=_master_poll_delay)  # fmt: skip
        pv.master = value
        value.poll_value = pv
        out.append(pv)
    if config:
        cv = Value(
            sys.intern(f"{value.uuid}_config"),
            replace(CONFIG_SPEC, type=config_type),
            help=config_help,
            label=config_label,
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
