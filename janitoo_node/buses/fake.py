"""The `fake` bus and `fake.component`: a software-only test bus, as the original shipped one."""

from __future__ import annotations

from typing import Any

from janitoo_protocol import ValueType

from ..bus import Bus, Component
from ..values import Value, ValueSpec, make_value, with_companions

_PLAIN = {
    # The original's plain JNTValues (cmd_class 0); ours are text values so a SET of "hello" reads back.
    "test_basic": (1, "A basic test value"),
    "test_user": (2, "A user test value"),
    "test_config": (3, "A config test value"),
    "test_command": (5, "A command test value"),
}


class FakeBus(Bus):
    """A bus with no hardware: its controller node only has the automatic values."""

    product_name = "Fake server"


class FakeComponent(Component):
    """A component with one writable value per genre and a polled counter."""

    product_name = "Software generic component"
    default_name = "Fake component"

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.reads = 0

    def create_values(self) -> list[Value]:
        values = []
        for uuid, (genre, help_text) in _PLAIN.items():
            spec = ValueSpec(genre, ValueType.STRING, 0, label=uuid)
            values.append(Value(uuid, spec, help=help_text, persist=genre == 3))

        def count(value: Value, index: int) -> int:
            self.reads += 1
            return self.reads

        counter = make_value("sensor_integer", "counter", help="How many times the counter was read",
                             label="Counter", reader=count)  # fmt: skip
        values.extend(with_companions(counter))
        return values
