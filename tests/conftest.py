"""Shared fixtures: a real mosquitto broker on a free loopback port."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from janitoo_node.broker import MosquittoBroker, mosquitto_path


def pytest_sessionstart(session: pytest.Session) -> None:
    # Most tests talk to a real broker: without one, say so once instead of erroring test by test.
    if mosquitto_path() is None:
        pytest.exit(
            "mosquitto is not installed: apt-get install mosquitto (the tests start their own)", returncode=4
        )


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


_prefix_counter = 0


@pytest.fixture
def prefix(request: pytest.FixtureRequest) -> str:
    """A topic prefix unique to this test, so tests sharing the session broker never hear each other."""
    global _prefix_counter
    _prefix_counter += 1
    return f"t{_prefix_counter}"
