"""The exception family of Janitoo: every error a protocol user can catch."""

from __future__ import annotations


class JanitooError(Exception):
    """Base class of every error raised by janitoo_protocol."""


class ProtocolError(JanitooError, ValueError):
    """A malformed topic, payload, address or value; says where (the topic) and what is wrong."""

    def __init__(self, reason: str, topic: str | None = None) -> None:
        self.reason = reason
        self.topic = topic
        super().__init__(f"{topic}: {reason}" if topic else reason)


class ConnectError(JanitooError):
    """The broker could not be reached or refused us (which broker, and why)."""


class RequestTimeout(JanitooError):
    """Nobody answered a request in time."""


class RequestRefused(JanitooError):
    """A node answered a request with an error (unknown value, read-only, bad data...)."""


class UsageError(JanitooError, ValueError, TypeError):
    """A call that cannot work as made: a value without the cmd_class its node checks, an unknown genre
    word or request kind, something that is not a message given to `encode`...

    It is also a ValueError and a TypeError, so code written against the builtin errors still catches it.
    """


class RoleConfigError(JanitooError, ValueError):
    """An impossible network controller configuration (one line: what and what to do)."""


class NotFound(JanitooError, LookupError):
    """The network map has no such node or value (which one, and where it was looked for)."""
