"""When a discovery is complete, sans-IO: the rule that replaces the original's fixed 12 s wait.

All requests go out at once. Every controller answers each broadcast request exactly once, but an
empty answer does not say who sent it, so completion is counted: the discovery is complete when every
requested kind has received at least as many replies as `request_info_nodes` did (one per controller
that answered), and then nothing more has arrived for `quiet` seconds. It never runs past `timeout`;
with no answer at all it ends after `idle` seconds (an empty network is answered by silence).

The quiet rule cannot wait for a controller it does not know of: a slow Pi on Wi-Fi answering after
the quiet period would be left out without a word. So controllers *known* to exist (given by the
caller, heard in heartbeats, listed by the primary while the discovery runs) are waited for up to the
timeout, and those that never answered are reported by `missing()`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from .codes import NETWORK_REQUESTS, NodeState, RequestKind
from .errors import UsageError
from .events import DiscoveryReply, Heartbeat, Message, ReplyRoute
from .network import NetworkMap

NODES = RequestKind.NODES
# A controller in one of these states is expected to answer; OFFLINE, FAILED or DEAD ones are not.
_ANSWERING = frozenset({NodeState.ONLINE, NodeState.BOOT, NodeState.CONFIG})


def _alive(state: str | None) -> bool:
    return state in _ANSWERING


class DiscoveryCollector:
    """Collects discovery replies into a NetworkMap and says when the discovery is done."""

    def __init__(
        self,
        kinds: Iterable[str],
        started: float,
        timeout: float = 5.0,
        quiet: float = 0.3,
        idle: float = 1.0,
        correlation: str | None = None,
        expected: Iterable[int] = (),
    ) -> None:
        kinds = list(dict.fromkeys(kinds))
        for k in kinds:
            if k not in NETWORK_REQUESTS:
                raise UsageError(
                    f"unknown discovery request {k!r}; expected one of {', '.join(NETWORK_REQUESTS)}"
                )
        # The nodes request is always made: its answers tell how many controllers to wait for.
        self.kinds = [NODES, *[k for k in kinds if k != NODES]]
        self.started = started
        self.deadline = started + timeout
        self.quiet = quiet
        self.idle = idle
        self.correlation = correlation
        self.counts: Counter[str] = Counter()
        self.last_reply: float | None = None
        self.map = NetworkMap()
        self.expected: set[int] = set(expected)
        self.controllers: set[int] = set()  # the controllers whose nodes request was answered

    def accepts(self, reply: DiscoveryReply) -> bool:
        """Ours: matching correlation, or none at all (a peer that drops unknown keys)."""
        if reply.kind not in self.kinds:
            return False
        cid = reply.correlation
        return cid is None or self.correlation is None or cid == self.correlation

    def feed(self, reply: DiscoveryReply, now: float) -> bool:
        """Take a reply; returns False if it is not part of this discovery."""
        if not self.accepts(reply):
            return False
        self.counts[reply.kind] += 1
        self.last_reply = now
        self.map.merge_reply(reply)
        if reply.kind == NODES:
            self.controllers.update(n.hadd.controller for n in reply.nodes if n.hadd is not None)
        return True

    def take(self, message: Message, now: float) -> None:
        """Any message heard during the discovery: a reply is fed; a heartbeat, or the primary's list
        of nodes (a resolv reply), names controllers known to exist."""
        if isinstance(message, DiscoveryReply):
            if message.route is not ReplyRoute.RESOLV:
                self.feed(message, now)
            elif message.kind == NODES and self.accepts(message):
                self.expect(
                    n.hadd.controller for n in message.nodes if n.hadd is not None and _alive(n.state)
                )
        elif isinstance(message, Heartbeat) and _alive(message.state):
            self.expect((message.hadd.controller,))

    def expect(self, controllers: Iterable[int]) -> None:
        """Controllers known to exist: the discovery waits for their answers up to the timeout."""
        self.expected.update(controllers)

    def missing(self) -> list[int]:
        """Known controllers that have not answered the nodes request (so far), sorted."""
        return sorted(self.expected - self.controllers)

    def answered(self) -> bool:
        """Every controller that answered the nodes request has answered every other request."""
        n = self.counts[NODES]
        return n > 0 and all(self.counts[k] >= n for k in self.kinds)

    def done(self, now: float) -> bool:
        if now >= self.deadline:
            return True
        if self.missing():
            return False  # a known controller has not answered yet: wait for it, up to the deadline
        if self.last_reply is None:
            return now >= self.started + self.idle
        # The same sum as next_wake(): `now - last_reply >= quiet` can be False at now == next_wake()
        # by float rounding, and a driver waking exactly then would never see the discovery end.
        return self.answered() and now >= self.last_reply + self.quiet

    def next_wake(self) -> float:
        """When `done` may next become true without a new reply."""
        if self.missing():
            return self.deadline
        if self.last_reply is None:
            return min(self.deadline, self.started + self.idle)
        if self.answered():
            return min(self.deadline, self.last_reply + self.quiet)
        return self.deadline
