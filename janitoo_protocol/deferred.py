"""Stand-ins for modules a dependency imports at once but uses rarely: the real import happens on first use.

paho imports `ssl`, `hashlib` and `urllib.request` when it is imported, for TLS, websockets and proxies.
Loading them maps and initialises OpenSSL and pulls in http.client and email: about 5 MB of a node's
resident memory, spent whether or not the connection uses TLS. The transport imports paho inside
`deferred_imports(...)`, so paho holds stand-ins that import the real modules when it first reads an
attribute of them (when TLS is configured, a websocket handshakes, a proxy is looked up).
"""

from __future__ import annotations

import importlib
import sys
import threading
import types
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any


class NeverRaised(Exception):
    """An exception class that nothing raises: the answer for `ssl.SSLError` and its kin while `ssl` was
    never imported (no TLS socket exists before, so none of them can happen)."""


class Deferred(types.ModuleType):
    """Stands for module `name` until one of its attributes is read; then the real module is imported
    (once, through the import system, so everyone shares the same module) and the read answered from it.

    `unused` answers some attributes without importing, for as long as the real module was never
    imported: paho names `ssl.SSLWantReadError` in the `except` clauses of every socket read and write,
    which Python evaluates whenever a plain socket raises (a broker going away).
    """

    def __init__(self, name: str, unused: Mapping[str, object] | None = None) -> None:
        super().__init__(name)
        self._deferred_unused = dict(unused or {})

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__") and attr.endswith("__"):
            # The import system, copy, pickle and inspect probe these: no reason to load anything.
            raise AttributeError(attr)
        real = sys.modules.get(self.__name__)
        if real is None or real is self:
            if attr in self._deferred_unused:
                return self._deferred_unused[attr]
            real = _import(self)
        return getattr(real, attr)

    def __repr__(self) -> str:
        return f"<deferred module {self.__name__!r}>"


# Re-entrant: importing a real module may import another module that holds a stand-in.
_lock = threading.RLock()


def _import(stand_in: Deferred) -> types.ModuleType:
    with _lock:
        if sys.modules.get(stand_in.__name__) is stand_in:
            del sys.modules[stand_in.__name__]  # read during deferred_imports(): the real one now
        return importlib.import_module(stand_in.__name__)


@contextmanager
def deferred_imports(*stand_ins: Deferred) -> Iterator[None]:
    """Inside the block, `import <name>` gives the stand-in of each module not imported yet. Afterwards
    the import system is as before: the next `import <name>` anywhere imports the real module, and what
    imported a stand-in keeps it (it forwards every read to the real module)."""
    placed: list[Deferred] = []
    with _lock:
        for stand_in in stand_ins:
            name = stand_in.__name__
            if name in sys.modules:
                continue  # imported already: nothing left to save
            sys.modules[name] = stand_in
            parent, _, child = name.rpartition(".")
            if parent:
                # `import urllib.request` then reads `urllib.request` from the package: the stand-in stays
                # there until the real module is imported, which sets the package's attribute to itself.
                setattr(importlib.import_module(parent), child, stand_in)
            placed.append(stand_in)
    try:
        yield
    finally:
        with _lock:
            for stand_in in placed:
                if sys.modules.get(stand_in.__name__) is stand_in:
                    del sys.modules[stand_in.__name__]
