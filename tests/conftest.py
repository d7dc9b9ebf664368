"""Shared fixtures: a real mosquitto broker on a free loopback port."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator

import pytest

from janitoo_node.broker import MosquittoBroker, mosquitto_path


def pytest_sessionstart(session: pytest.Session) -> None:
    # Most tests talk to a real broker: without one, say so once instead of erroring test by test.
    if mosquitto_path() is None:
        pytest.exit(
            "mosquitto is not installed: apt-get install mosquitto (the tests start their own)", returncode=4
        )


@pytest.fixture(autouse=True)
def _logging_put_back() -> Iterator[None]:
    """What a test changed in logging is undone after it.

    A test running a node in-process installs its config's logging sections (levels, propagation, a
    handler on the root): left in place, a later test's caplog would miss its INFO lines (the `janitoo`
    logger left at WARNING). pytest's own handlers on the root are its to add and remove.
    """
    root = logging.getLogger()
    loggers = {
        name: lg for name, lg in logging.Logger.manager.loggerDict.items() if isinstance(lg, logging.Logger)
    }
    saved = {name: (lg.level, lg.propagate, lg.disabled, list(lg.handlers)) for name, lg in loggers.items()}
    root_level, root_handlers = root.level, list(root.handlers)
    yield
    for name, lg in list(logging.Logger.manager.loggerDict.items()):
        if not isinstance(lg, logging.Logger):
            continue
        level, propagate, disabled, handlers = saved.get(name, (logging.NOTSET, True, False, []))
        lg.setLevel(level)
        lg.propagate, lg.disabled = propagate, disabled
        for h in [h for h in lg.handlers if h not in handlers]:
            lg.removeHandler(h)
            h.close()
        for h in handlers:
            if h not in lg.handlers:
                lg.addHandler(h)
    root.setLevel(root_level)
    for h in [
        h for h in root.handlers if h not in root_handlers and not type(h).__module__.startswith("_pytest")
    ]:
        root.removeHandler(h)
        h.close()


@pytest.fixture(scope="session")
def broker() -> Iterator[MosquittoBroker]:
    """One broker for the whole session; tests isolate themselves with their own topic prefix."""
    with MosquittoBroker() as b:
        yield b


@pytest.fixture
def private_broker() -> Iterator[MosquittoBroker]:
    """A broker of this test's own, for tests that kill or restart it."""
    with MosquittoBroker() as b:
        yield b


@pytest.fixture
def refused_port() -> Iterator[int]:
    """A loopback port where connections are refused, for the whole test.

    A port from free_port() is only free when asked: a client connecting to an unused port of the
    ephemeral range can even be connected to itself by the kernel (TCP self-connect; paho then reads
    its own CONNECT: "Unrecognised command 16"). A socket bound there and not listening holds the
    port, so every connection is refused.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        yield s.getsockname()[1]


_prefix_counter = 0


@pytest.fixture
def prefix(request: pytest.FixtureRequest) -> str:
    """A topic prefix unique to this test, so tests sharing the session broker never hear each other."""
    global _prefix_counter
    _prefix_counter += 1
    return f"t{_prefix_counter}"
