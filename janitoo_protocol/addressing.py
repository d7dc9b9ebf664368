"""Home addresses (HADD): the `CCCC/NNNN` controller/node pair that names every Janitoo node."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .errors import ProtocolError


@dataclass(frozen=True, order=True, slots=True)
class Hadd:
    """A node address: controller part and node part; node 0 is the controller node itself."""

    controller: int
    node: int

    @classmethod
    def parse(cls, text: object) -> Hadd:
        """Parse `0225/0003` (the original splits on '/' and calls int() on each half)."""
        if isinstance(text, Hadd):
            return text
        if type(text) is str:
            # Receivers parse the same few addresses over and over: remember them.
            cached = _PARSED.get(text)
            if cached is not None:
                return cached
            hadd = cls._parse_text(text)
            if len(_PARSED) >= _PARSED_MAX:
                _PARSED.clear()
            _PARSED[text] = hadd
            return hadd
        return cls._parse_text(text)

    @classmethod
    def _parse_text(cls, text: object) -> Hadd:
        if not isinstance(text, str):
            raise ProtocolError(f"invalid hadd {text!r}: expected text like '0225/0003'")
        parts = text.strip().split("/")
        if len(parts) != 2:
            raise ProtocolError(f"invalid hadd {text!r}: expected text like '0225/0003'")
        try:
            return cls(int(parts[0]), int(parts[1]))
        except ValueError:
            raise ProtocolError(f"invalid hadd {text!r}: both parts must be integers") from None

    @classmethod
    def of(cls, controller: int, node: int = 0) -> Hadd:
        """The address of `node` (default 0: the controller node) on `controller`."""
        return cls(int(controller), int(node))

    @property
    def is_controller(self) -> bool:
        """True for `NNNN/0000`, the node that stands for the whole controller (bus)."""
        return self.node == 0

    @property
    def controller_hadd(self) -> Hadd:
        """The controller node of this address's sub-network."""
        return Hadd(self.controller, 0)

    def __str__(self) -> str:
        # "%0.4d" pads to at least 4 digits; wider numbers simply widen, negatives render "-001".
        return f"{self.controller:04d}/{self.node:04d}"

    def __repr__(self) -> str:
        return f"Hadd('{self}')"


_PARSED: dict[str, Hadd] = {}
_PARSED_MAX = 65536


def known_hadds() -> Mapping[str, Hadd]:
    """The texts `Hadd.parse` parsed lately and their addresses (read-only: a decoder's fast path)."""
    return _PARSED


def parse_hadd_or_none(text: object) -> Hadd | None:
    """Parse an optional hadd: None, '' and 'None' mean no address (the original sends all three)."""
    if text is None or text == "" or text == "None":
        return None
    return Hadd.parse(text)
