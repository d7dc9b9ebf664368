"""JanitooClient: one paho-mqtt 2.x connection with topic routing, re-subscription, last will,
request/reply with correlation, value GET/SET and fast discovery. The only module that imports paho."""

from __future__ import annotations

import itertools
import logging
import operator
import os
import queue
import socket
import threading
import time
import uuid as _uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from .addressing import Hadd
from .codes import NETWORK_REQUESTS, Genre, NodeState
from .decoding import decode, decode_parsed
from .deferred import Deferred, NeverRaised, deferred_imports
from .discovery import DiscoveryCollector
from .encoding import encode
from .errors import ConnectError, ProtocolError, RequestTimeout, UsageError
from .events import CORRELATION_KEY, DiscoveryRequest, Heartbeat, Message, ValueRequest
from .exchange import (
    Answer,
    address_of,
    check_source,
    correlated,
    discovery_filters,
    discovery_requests,
    from_retained,
    matches,
    no_answer,
    reply_filters,
    unpublished,
    value_answer,
    value_request,
)
from .model import ValueInfo
from .network import NetworkMap
from .readahead import ReadAheadSocket
from .retained import RetainedReader, RetainedTopics
from .topics import TopicInfo, Topics, filter_problem

# OpenSSL is loaded when a connection uses TLS (or a websocket, or a proxy), not by importing paho: a node
# without TLS keeps about 5 MB less resident (deferred.py). Until `ssl` is imported no TLS socket exists, so
# the `except` clauses that name its errors (paho's and ours) get a class nothing raises.
ssl = Deferred("ssl", dict.fromkeys(("SSLError", "SSLWantReadError", "SSLWantWriteError", "CertificateError"),
                                    NeverRaised))  # fmt: skip
with deferred_imports(ssl, Deferred("hashlib"), Deferred("urllib.request")):
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode

log = logging.getLogger("janitoo.transport")
_new_object = object.__new__
_monotonic = time.monotonic

# Heartbeat states of a controller that answers requests (the discovery's rule).
_ANSWERING = frozenset({NodeState.ONLINE, NodeState.BOOT, NodeState.CONFIG})

DEFAULT_REPLY_HADD = Hadd(9999, 9990)  # jnt_query's --myhadd default


@dataclass(frozen=True)
class TlsOptions:
    """TLS settings: a CA file, an optional client certificate/key, and `insecure` for test brokers."""

    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    insecure: bool = False


class Envelope:
    """One received MQTT message: `topic`, `payload`, `qos`, `retain`, `received_at` (monotonic seconds).

    `message` decodes it on first use: the typed message, or None when the payload is malformed (then
    `error` says why; a tool can still show the raw payload).
    """

    __slots__ = ("topic", "payload", "qos", "retain", "received_at", "_topics", "_info", "_message", "_error")

    def __init__(
        self, topic: str, payload: bytes, qos: int, retain: bool, received_at: float, topics: Topics
    ):
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
        self.received_at = received_at
        self._topics = topics
        # The parsed topic, when the receiver had it already (its route): decoding then skips parsing.
        self._info: TopicInfo | None = None
        self._message: Message | None = None
        self._error: ProtocolError | None = None

    def _decode(self) -> None:
        if self._message is None and self._error is None:
            try:
                info = self._info
                self._message = (
                    decode(self.topic, self.payload, self._topics)
                    if info is None
                    else decode_parsed(info, self.topic, self.payload)
                )
            except ProtocolError as exc:
                self._failed(exc)

    def _failed(self, exc: ProtocolError) -> None:
        self._error = exc
        if f"{self._topics.prefix}/retained/" in self.topic[: len(self._topics.prefix) + 10]:
            return  # the retained-state extension (retained.py) is no message of the original's
        # Bad input never crashes a receiver, and never vanishes silently either.
        log.warning("undecodable message on %s: %s", self.topic, exc.reason)

    @property
    def message(self) -> Message | None:
        """The decoded message; None when it could not be decoded (see `error`)."""
        message = self._message
        if message is None and self._error is None:
            # Decoded here rather than by _decode(): every handler of the receive path asks this once.
            try:
                info = self._info
                message = self._message = (
                    decode(self.topic, self.payload, self._topics)
                    if info is None
                    else decode_parsed(info, self.topic, self.payload)
                )
            except ProtocolError as exc:
                self._failed(exc)
        return message

    @property
    def error(self) -> ProtocolError | None:
        """Why the payload could not be decoded; None when it was."""
        self._decode()
        return self._error


Handler = Callable[[Envelope], None]
# A remembered route: the topic's text, its subscriptions, and its TopicInfo (None: not a Janitoo topic).
_Route = tuple[str, tuple["Subscription", ...], TopicInfo | None]


class Subscription:
    """A topic filter with a handler; iterate it (or call `get`) when it was opened as a queue.

    Close it (or leave its `with` block) to stop receiving; iteration ends when it or its client closes.
    """

    def __init__(self, client: JanitooClient, topic_filter: str, handler: Handler | None, maxsize: int = 0):
        self.client = client
        self.filter = topic_filter
        self.queue: queue.Queue[Envelope] | None = None
        if handler is None:
            self.queue = queue.Queue(maxsize)
            handler = self._enqueue
        self.handler = handler
        self.closed = threading.Event()

    def _enqueue(self, env: Envelope) -> None:
        assert self.queue is not None
        try:
            self.queue.put_nowait(env)
        except queue.Full:
            log.warning("subscription %s is not keeping up: message on %s dropped", self.filter, env.topic)

    def get(self, timeout: float | None = None) -> Envelope | None:
        """The next message, or None after `timeout` seconds or once closed."""
        if self.queue is None:
            raise UsageError("this subscription has a handler; it is not a queue")
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.closed.is_set():
            wait = 0.2 if deadline is None else min(0.2, deadline - time.monotonic())
            if wait <= 0:
                return None
            try:
                return self.queue.get(timeout=wait)
            except queue.Empty:
                continue
        return None

    def __iter__(self) -> Iterator[Envelope]:
        while True:
            env = self.get()
            if env is None:
                return
            yield env

    def close(self) -> None:
        """Unsubscribe (the filter stays subscribed while another subscription of this client uses it)."""
        self.closed.set()
        self.client._remove(self)

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# paho's ERROR lines about a broker that went away: "Client is not connected" on every try while it
# is away, "failed to receive on socket" when it goes.
_PAHO_RETRY_LINES = ("Client is not connected", "failed to receive on socket")


class _PahoRetriesAtDebug(logging.Filter):
    """Our own "lost ... reconnecting" and "reconnected ... after" lines say a broker loss once each;
    paho's lines about it (one per retry) go to DEBUG."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.DEBUG and str(record.msg).startswith(_PAHO_RETRY_LINES):
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
            return logging.getLogger("janitoo.paho").isEnabledFor(logging.DEBUG)
        return True


_PAHO_LOG = logging.getLogger("janitoo.paho")
_PAHO_LOG.addFilter(_PahoRetriesAtDebug())

# paho 2's private methods that _PahoClient replaces: checked, not assumed (paho without them runs as is).
_READ_AHEAD = callable(getattr(mqtt.Client, "_create_socket", None))
_DIRECT_ON_MESSAGE = callable(getattr(mqtt.Client, "_handle_on_message", None))


def _text_of_topic(msg: mqtt.MQTTMessage) -> str:
    key = _topic_key(msg)
    return key.decode("utf-8", "replace") if isinstance(key, bytes) else key


class _PahoClient(mqtt.Client):
    """paho's client, reading its socket ahead, and minus a call into logging for each packet while nobody
    listens at DEBUG.

    paho reads a packet in three or four system calls and waits in `select` before each packet; on a
    burst of value publications that was most of the receiving. Its socket is wrapped in a
    ReadAheadSocket (one `recv` for many packets) and `loop_read` goes on while whole packets may be
    buffered. Both hook paho 2's private `_create_socket` and `_sock`: without them (another paho
    release), paho reads its socket itself, as before, only slower. Likewise every message goes straight
    to on_message (`_handle_on_message`): JanitooClient has no use for paho's per-filter callbacks.

    paho writes a DEBUG line for every packet it sends or receives through the logger it was given; with
    `janitoo.paho` above DEBUG that call (Logger.log, finding nothing to do) cost about 0.3 us a message,
    a tenth of decoding one. Lines at other levels, and DEBUG lines once someone listens, go as before.
    """

    if _READ_AHEAD:

        def _create_socket(self) -> Any:
            return ReadAheadSocket(super()._create_socket())

    if _DIRECT_ON_MESSAGE:

        def _handle_on_message(self, message: mqtt.MQTTMessage) -> None:
            # paho first looks for callbacks added per topic filter (message_callback_add), decoding the
            # topic twice and walking its filter tree (about 2 us a message); JanitooClient adds none (it
            # routes topics itself), so on_message gets every message, as paho would give it.
            on_message = self.on_message
            if on_message is None:
                return
            with self._in_callback_mutex:
                try:
                    on_message(self, self._userdata, message)
                except Exception as err:
                    self._easy_log(mqtt.MQTT_LOG_ERR, "Caught exception in on_message: %s", err)
                    if not self.suppress_exceptions:
                        raise

    def loop_read(self, max_packets: int = 1) -> MQTTErrorCode:
        rc = super().loop_read(max_packets)
        # paho reads one packet per wake-up (per QoS 1 or 2 message in flight, more): read on while the
        # buffer has bytes, up to _MORE_PACKETS times, after which paho's loop sends what is waiting and,
        # told by pending() that bytes are buffered, comes back without waiting in select.
        for _ in range(_MORE_PACKETS):
            sock = getattr(self, "_sock", None)
            if rc != _SUCCESS or type(sock) is not ReadAheadSocket or not sock.buffered():
                break
            rc = super().loop_read(max_packets)
        return rc

    def _easy_log(self, level: Any, fmt: str, *args: Any) -> None:
        if level is _PAHO_DEBUG and not _PAHO_LOG.isEnabledFor(logging.DEBUG):
            return
        super()._easy_log(level, fmt, *args)


# Packets read from the buffer by one loop_read beyond paho's own: about a millisecond of them, the
# longest a PUBLISH queued meanwhile waits to be sent.
_MORE_PACKETS = 64
_SUCCESS = mqtt.MQTT_ERR_SUCCESS


_PAHO_DEBUG = mqtt.MQTT_LOG_DEBUG

# A received message's topic as paho holds it (bytes, `_topic`), the key of the remembered routes: reading
# `msg.topic` would decode it again for every message. `_topic` is paho 2's, not its API: should a paho
# release drop it, the decoded topic is the key, slower but the same.
_topic_key: Callable[[mqtt.MQTTMessage], bytes | str] = (
    operator.attrgetter("_topic")
    if hasattr(mqtt.MQTTMessage(0, b"t"), "_topic")
    else operator.attrgetter("topic")
)

# Seconds between two log lines about dropped oversized payloads.
_OVERSIZED_LOG_EVERY = 10.0


class JanitooClient:
    """A Janitoo peer on one MQTT connection. Thread-safe; use as a context manager.

    `with JanitooClient(host, port) as client:` connects (raising `ConnectError` with the reason) and
    disconnects cleanly at the end. Then `discover()` the network, `get`/`set` values, `watch` heartbeats
    and value publications, or `subscribe` any topic with a handler. paho's network thread delivers the
    messages: handlers run on it, so they must be quick (or hand the work to a queue).

    Options: `username`/`password`, `tls` (`TlsOptions`), `prefix` (a topic prefix; default none, the
    original's `/nodes/...`), `reply_hadd` (the address answers come to), `will` (a message the broker
    publishes if we vanish), `on_connection_change` (called with True/False on paho's thread),
    `max_payload` (longer payloads are dropped before anything decodes them), `will_retain` (the will is
    retained: only for the retained-state extension's own topics).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 1883,
        *,
        keepalive: int = 60,
        client_id: str | None = None,
        username: str | None = None,
        password: str | None = None,
        tls: TlsOptions | None = None,
        prefix: str = "",
        reply_hadd: Hadd | str = DEFAULT_REPLY_HADD,
        will: Message | tuple[str, bytes] | None = None,
        will_retain: bool = False,
        connect_timeout: float = 5.0,
        reconnect_min: float = 0.1,
        reconnect_max: float = 5.0,
        on_connection_change: Callable[[bool], None] | None = None,
        max_payload: int | None = None,
    ) -> None:
        self.host = host
        self.port = int(port)
        self.keepalive = keepalive
        self.topics = Topics(prefix)
        self.reply_hadd = Hadd.parse(reply_hadd)
        self.connect_timeout = connect_timeout
        self.on_connection_change = on_connection_change
        self.client_id = client_id or f"jnt-{os.getpid()}-{_uuid.uuid4().hex[:10]}"
        self._lock = threading.RLock()
        self._subs: list[Subscription] = []
        # topic, as paho's bytes -> (its text, the matching subscriptions, its TopicInfo)
        self._routes: dict[bytes | str, _Route] = {}
        self._filters: dict[str, int] = {}  # filter -> number of subscriptions using it
        self._suback: dict[int, threading.Event] = {}
        self._connected = threading.Event()  # CONNACK received
        self._ready = threading.Event()  # connected and every subscription acknowledged again
        self._resub_mid: int | None = None
        self._connack: threading.Event = threading.Event()
        self._connack_reason: str | None = None
        self._closing = False
        self._started = False
        self._cids = itertools.count(1)
        self._cid_prefix = _uuid.uuid4().hex[:8]
        self._lost_at: float | None = None  # when the broker was lost, until the reconnection
        # Payloads longer than this are dropped before anything decodes them (None: no limit).
        self.max_payload = max_payload
        self.oversized = 0  # how many were dropped
        self._oversized_logged_at = -_OVERSIZED_LOG_EVERY

        c = _PahoClient(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            clean_session=True,
            protocol=mqtt.MQTTv311,
        )
        c.enable_logger(_PAHO_LOG)
        # paho types these as int, but its back-off arithmetic works with fractions of a second.
        c.reconnect_delay_set(reconnect_min, reconnect_max)  # type: ignore[arg-type]
        if username is not None and username != "":
            c.username_pw_set(username, password)
        if tls is not None:
            try:
                c.tls_set(ca_certs=tls.ca_file, certfile=tls.cert_file, keyfile=tls.key_file)
            except (OSError, ssl.SSLError, ValueError) as exc:
                raise ConnectError(f"MQTT broker {host}:{port}: TLS setup failed: {exc}") from None
            if tls.insecure:
                c.tls_insecure_set(True)
        if will is not None:
            topic, payload = will if isinstance(will, tuple) else encode(will, self.topics)
            # Retained only for the retained-state extension's status; the original's topics never are.
            c.will_set(topic, payload, qos=0, retain=will_retain)
        c.on_connect = self._on_connect
        c.on_disconnect = self._on_disconnect
        c.on_message = self._on_message
        c.on_subscribe = self._on_subscribe
        self._mqtt = c
        self._last_published: mqtt.MQTTMessageInfo | None = None  # for wait_written()

    # ------------------------------------------------------------------------------ connection

    @property
    def broker(self) -> str:
        """`host:port`, for messages."""
        return f"{self.host}:{self.port}"

    @property
    def connected(self) -> bool:
        """Connected to the broker right now (paho reconnects by itself after a loss)."""
        return self._connected.is_set()

    def connect(self) -> JanitooClient:
        """Connect and wait for the broker's answer; raises ConnectError with a one-line reason."""
        if self._started:
            return self
        # A new attempt after a refused one (a retry loop): wait for this attempt's CONNACK, not the old one.
        self._connack.clear()
        self._connack_reason = None
        try:
            self._mqtt.connect(self.host, self.port, self.keepalive)
        except ssl.SSLError as exc:
            raise ConnectError(
                f"MQTT broker {self.broker}: TLS handshake failed: {exc.reason or exc}"
            ) from None
        except ConnectionRefusedError:
            raise ConnectError(
                f"MQTT broker {self.broker}: connection refused (is the broker running?)"
            ) from None
        except TimeoutError:
            raise ConnectError(f"MQTT broker {self.broker}: no answer (timed out)") from None
        except socket.gaierror as exc:
            raise ConnectError(f"MQTT broker {self.broker}: unknown host ({exc.strerror})") from None
        except OSError as exc:
            raise ConnectError(f"MQTT broker {self.broker}: unreachable ({exc.strerror or exc})") from None
        self._mqtt.loop_start()
        self._started = True
        if not self._connack.wait(self.connect_timeout):
            self._shutdown()
            raise ConnectError(f"MQTT broker {self.broker}: no CONNACK within {self.connect_timeout:g} s")
        if self._connack_reason is not None:
            reason = self._connack_reason
            self._shutdown()
            raise ConnectError(f"MQTT broker {self.broker}: connection refused: {reason}")
        return self

    def close(self) -> None:
        """Disconnect cleanly (no will is sent) and stop the network thread."""
        with self._lock:
            subs = list(self._subs)
        for sub in subs:
            sub.closed.set()
        self._shutdown()

    def _shutdown(self) -> None:
        self._closing = True
        if self._started:
            # paho logs "Client is not connected" at ERROR when its loop turns once more after sending the
            # DISCONNECT it was asked for, before loop_stop() ends it: a clean close is not an error.
            self._mqtt.disable_logger()
            try:
                self._mqtt.disconnect()
            finally:
                self._mqtt.loop_stop()
                self._started = False
        self._connected.clear()
        self._ready.clear()

    def __enter__(self) -> JanitooClient:
        return self.connect()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def wait_connected(self, timeout: float) -> bool:
        """Wait until connected with every subscription in place again (after a broker restart)."""
        return self._ready.wait(timeout)

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        if reason.is_failure:
            # A refusal of the first CONNACK is connect()'s ConnectError; only a reconnect's is logged here.
            reconnecting = self._connack.is_set()
            self._connack_reason = str(reason)
            self._connack.set()
            if reconnecting and self._started and not self._closing:
                # A refusal at a reconnect (e.g. credentials changed): keep trying with back-off.
                log.error("MQTT broker %s refused the connection: %s", self.broker, reason)
            return
        self._connack_reason = None
        # The original went deaf after a broker restart: clean sessions lose subscriptions, so every
        # filter is subscribed again on every (re)connect. Snapshot, `connected` and SUBSCRIBE under the
        # lock subscribe() holds: a filter added meanwhile is in the snapshot or subscribed by subscribe().
        with self._lock:
            filters = list(self._filters)
            self._connected.set()
            if filters:
                result, mid = client.subscribe([(f, 0) for f in filters])
        lost_at, self._lost_at = self._lost_at, None
        if lost_at is None:
            log.info("connected to MQTT broker %s", self.broker)
        else:
            log.info("reconnected to MQTT broker %s after %.1f s", self.broker, time.monotonic() - lost_at)
        if filters:
            if result == mqtt.MQTT_ERR_SUCCESS and mid is not None:
                # Ready (and announced) only once the broker acknowledged the re-subscription.
                self._resub_mid = mid
                self._connack.set()
                return
        self._ready.set()
        self._connack.set()
        self._notify(True)

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        was = self._connected.is_set()
        self._connected.clear()
        self._ready.clear()
        if was and not self._closing:
            self._lost_at = time.monotonic()
            log.warning("lost the MQTT broker %s (%s); reconnecting", self.broker, reason)
        if was:
            self._notify(False)

    def _notify(self, up: bool) -> None:
        if self.on_connection_change is not None:
            try:
                self.on_connection_change(up)
            except Exception:  # an owner's hook must not kill paho's thread
                log.exception("on_connection_change hook failed")

    # ------------------------------------------------------------------------------ routing

    def _on_subscribe(self, client: mqtt.Client, userdata: Any, mid: int, codes: Any, props: Any) -> None:
        with self._lock:
            ev = self._suback.setdefault(mid, threading.Event())
        ev.set()
        if mid == self._resub_mid:
            with self._lock:
                self._suback.pop(mid, None)
            self._resub_mid = None
            self._ready.set()
            self._notify(True)

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        payload = msg.payload
        if self.max_payload is not None and len(payload) > self.max_payload:
            self._drop_oversized(msg, len(payload))
            return
        # Matching every filter costs a Python call each; the same topics come again and again, so a
        # topic's text and matching subscriptions are remembered, by the topic's bytes as paho holds them
        # (msg.topic would decode them again for each message), until the subscriptions change. A
        # remembered route is read without the lock (one dict look-up is atomic); subscribe() and
        # _remove() clear them under it before the broker can route anything new.
        route = self._routes.get(_topic_key(msg))
        if route is None:
            route = self._route(msg)
            if route is None:
                return
        topic, subs, info = route
        # Envelope's fields set here rather than by its __init__: one call less per message.
        env = _new_object(Envelope)
        env.topic = topic
        env.payload = payload if type(payload) is bytes else bytes(payload)
        env.qos = msg.qos
        env.retain = msg.retain
        env.received_at = _monotonic()
        env._topics = self.topics
        env._info = info
        env._message = None
        env._error = None
        for sub in subs:
            try:
                sub.handler(env)
            except Exception:  # never raise into paho's network thread
                log.exception("handler for %s failed on %s", sub.filter, topic)

    def _route(self, msg: mqtt.MQTTMessage) -> _Route | None:
        """The topic's text, matching subscriptions and parsed form, remembered; None for a topic that is
        not UTF-8."""
        try:
            topic = msg.topic
        except UnicodeDecodeError:
            # A broker checks topics; one that does not must still not crash paho's thread.
            log.warning("message on a topic that is not UTF-8 dropped: %.100r", _topic_key(msg))
            return None
        try:
            info: TopicInfo | None = self.topics.parse(topic)
        except ProtocolError:
            info = None  # not a Janitoo topic: decode() says why, when a handler asks
        with self._lock:
            route = (topic, tuple(s for s in self._subs if mqtt.topic_matches_sub(s.filter, topic)), info)
            if len(self._routes) >= 65536:
                self._routes.clear()
            self._routes[_topic_key(msg)] = route
        return route

    def _drop_oversized(self, msg: mqtt.MQTTMessage, size: int) -> None:
        self.oversized += 1
        now = time.monotonic()
        # One line per period at most: a flood of big payloads must not become a flood of log lines.
        if now - self._oversized_logged_at >= _OVERSIZED_LOG_EVERY:
            self._oversized_logged_at = now
            log.warning("dropped a payload of %d bytes on %.100s (limit %d bytes; %d dropped so far)",
                        size, _text_of_topic(msg), self.max_payload,
                        self.oversized)  # fmt: skip

    def subscribe(
        self, topic_filter: str, handler: Handler | None = None, *, wait: bool = True, maxsize: int = 0
    ) -> Subscription:
        """Route messages matching `topic_filter` to `handler` (or to a queue when no handler is given).

        With `wait`, returns once the broker acknowledged the subscription, so a request published right
        after cannot be answered before we listen.
        """
        problem = filter_problem(topic_filter)
        if problem is not None:
            # Checked before it is kept: a bad filter would break every re-subscription after a reconnect.
            raise UsageError(f"cannot subscribe to {topic_filter[:80]!r}: {problem}")
        sub = Subscription(self, topic_filter, handler, maxsize)
        mid: int | None = None
        with self._lock:
            self._subs.append(sub)
            self._routes.clear()
            new = self._filters.get(topic_filter, 0) == 0
            self._filters[topic_filter] = self._filters.get(topic_filter, 0) + 1
            # SUBSCRIBE is queued under the lock: another thread sharing this filter returns (and publishes
            # its request) only after it, so the broker has the subscription before routing the answer.
            if new and self._connected.is_set():
                result, mid = self._mqtt.subscribe(topic_filter, 0)
                if result != mqtt.MQTT_ERR_SUCCESS:
                    mid = None
        if mid is not None and wait:
            with self._lock:
                ev = self._suback.setdefault(mid, threading.Event())
            ev.wait(self.connect_timeout)
            with self._lock:
                self._suback.pop(mid, None)
        return sub

    def _remove(self, sub: Subscription) -> None:
        with self._lock:
            if sub not in self._subs:
                return
            self._subs.remove(sub)
            self._routes.clear()
            n = self._filters.get(sub.filter, 0) - 1
            if n <= 0:
                self._filters.pop(sub.filter, None)
                if self._connected.is_set():
                    self._mqtt.unsubscribe(sub.filter)
            else:
                self._filters[sub.filter] = n

    def watch(self, kind: str = "all", topic: str | None = None, maxsize: int = 100000) -> Subscription:
        """A queue of decoded messages: `heartbeats`, `values`, `resolv` or `all` (the spy's `/#`)."""
        filters = {
            "all": self.topics.everything(),
            "heartbeats": self.topics.heartbeat_all(),
            "values": self.topics.values_all(),
            "resolv": self.topics.resolv_all(),
        }
        if topic is None and kind not in filters:
            raise UsageError(f"unknown watch kind {kind!r}; expected one of {', '.join(filters)}")
        return self.subscribe(topic or filters[kind], None, maxsize=maxsize)

    # ------------------------------------------------------------------------------ publishing

    def publish(self, message: Message) -> None:
        """Encode and publish one message (QoS 0, not retained, as the original)."""
        topic, payload = encode(message, self.topics)
        # publish_raw's body, not a call to it: a node's every publication comes this way.
        try:
            info = self._mqtt.publish(topic, payload)
        except ValueError as exc:  # paho's checks of the topic and payload size: ours is the error family
            raise UsageError(f"cannot publish to {topic[:80]!r}: {exc}") from None
        if info.rc:  # MQTT_ERR_SUCCESS is 0
            self._publish_failed(topic, info.rc)
        self._last_published = info

    def publish_raw(self, topic: str, payload: bytes | str, qos: int = 0, retain: bool = False) -> None:
        """Publish bytes as they are (tools that replay captured traffic)."""
        try:
            info = self._mqtt.publish(topic, payload, qos=qos, retain=retain)
        except (
            ValueError
        ) as exc:  # paho's checks of the topic, payload size and qos: ours is the error family
            raise UsageError(f"cannot publish to {topic[:80]!r}: {exc}") from None
        if info.rc:
            self._publish_failed(topic, info.rc)
        self._last_published = info

    @staticmethod
    def _publish_failed(topic: str, rc: int) -> None:
        # Not connected is no failure: paho reconnects by itself and the next publication goes out.
        if rc != mqtt.MQTT_ERR_NO_CONN:
            log.warning("publish on %s failed: %s", topic, mqtt.error_string(rc))

    def wait_written(self, timeout: float) -> bool:
        """Wait until everything published so far is written to the connection (True); False after
        `timeout` seconds or when not connected. A program that publishes in bursts (thousands of
        simulated nodes) calls it now and then, so what waits to be sent stays small."""
        info = self._last_published
        if info is None:
            return True
        try:
            if not info.is_published() and self.connected:
                info.wait_for_publish(timeout)
            return info.is_published()
        except (RuntimeError, ValueError):  # published while the connection was down: it will not be written
            return False

    def new_correlation(self) -> str:
        """A fresh correlation id for a request (unique to this client)."""
        return f"{self._cid_prefix}-{next(self._cids)}"

    # ------------------------------------------------------------------------------ request / reply

    def request(self, request: DiscoveryRequest | ValueRequest, timeout: float = 3.0) -> Answer:
        """Send a request to its node and return the first matching reply; RequestTimeout otherwise."""
        req = correlated(request, self.reply_hadd, self.new_correlation())
        cid = str(req.extra[CORRELATION_KEY])
        answers: queue.Queue[Answer] = queue.Queue()

        def handler(env: Envelope) -> None:
            m = env.message
            if matches(req, m, cid):
                answers.put(m)  # type: ignore[arg-type]

        # Checked before subscribing anything: raising later would leak the reply subscription.
        filters = reply_filters(req, self.topics, self.reply_hadd)
        subs = [self.subscribe(f, handler) for f in filters]
        try:
            self.publish(req)
            try:
                return answers.get(timeout=timeout)
            except queue.Empty:
                what = req.kind if isinstance(req, DiscoveryRequest) else f"{req.uuid}"
                where = req.target or "the network"
                raise RequestTimeout(f"no answer from {where} to {what} within {timeout:g} s") from None
        finally:
            for s in subs:
                s.close()

    def get(self, value: ValueInfo, timeout: float = 3.0) -> ValueInfo:
        """Read `value` (as found by `discover`) from its node: its hadd, uuid, genre, cmd_class and index
        come from it. Returns the node's answer; RequestTimeout or RequestRefused otherwise."""
        hadd, index = address_of(value)
        return self._value_call(value_request(hadd, value.uuid, value.genre, value.cmd_class, index, None, False,
                                              self.reply_hadd), timeout)  # fmt: skip

    def set(self, value: ValueInfo, data: Any, timeout: float = 3.0) -> ValueInfo:
        """Write `data` to `value` (as found by `discover`); returns the node's acknowledgement.

        A refusal raises RequestRefused and no acknowledgement within `timeout` raises RequestTimeout: a
        SET is never silently lost."""
        hadd, index = address_of(value)
        return self._value_call(value_request(hadd, value.uuid, value.genre, value.cmd_class, index, data, True,
                                              self.reply_hadd), timeout)  # fmt: skip

    def get_value(
        self,
        hadd: Hadd | str,
        uuid: str,
        genre: Genre | int | str,
        cmd_class: int | None = None,
        index: int | None = None,
        timeout: float = 3.0,
    ) -> ValueInfo:
        """Read one value from its node by address; `cmd_class` may be left out for config and system
        values (the node checks it for the others)."""
        return self._value_call(value_request(hadd, uuid, genre, cmd_class, index, None, False, self.reply_hadd),
                                timeout)  # fmt: skip

    def set_value(
        self,
        hadd: Hadd | str,
        uuid: str,
        genre: Genre | int | str,
        data: Any,
        cmd_class: int | None = None,
        index: int | None = None,
        timeout: float = 3.0,
    ) -> ValueInfo:
        """Write one value; returns the node's acknowledgement. A refusal raises RequestRefused and no
        acknowledgement within `timeout` raises RequestTimeout: a SET is never silently lost."""
        return self._value_call(value_request(hadd, uuid, genre, cmd_class, index, data, True, self.reply_hadd),
                                timeout)  # fmt: skip

    def _value_call(self, req: ValueRequest, timeout: float) -> ValueInfo:
        try:
            answer = self.request(req, timeout)
        except RequestTimeout:
            raise no_answer(req, timeout) from None
        return value_answer(req, answer)

    # ------------------------------------------------------------------------------ discovery

    def discover(
        self,
        kinds: Iterable[str] = NETWORK_REQUESTS,
        timeout: float = 5.0,
        quiet: float = 0.3,
        idle: float = 1.0,
        target: Hadd | str | None = None,
        expected: Iterable[int] = (),
        source: str = "requests",
    ) -> NetworkMap:
        """Ask the network (or one controller) for nodes and values; returns as soon as it has answered.

        `source` says where from: `requests` (the default) asks the nodes, as the original did; `retained`
        reads the retained state our nodes leave on the broker (no request sent, see `read_retained`);
        `auto` reads the retained state and asks the nodes when it holds nothing (a network of the
        original's nodes) or nothing of `target`; otherwise it asks, directly, only the controllers heard
        alive in a heartbeat during the reading that have no retained state (`jnt query network` does
        this). A mixed network's original controllers that do not heartbeat meanwhile are missed: ask
        with `requests` there. From the retained state, the map holds every kind.

        All requests go out at once. The discovery is complete when every controller that answered the
        nodes request has answered every other one and nothing more came for `quiet` seconds; it never
        runs past `timeout`, and ends after `idle` seconds when nobody answers at all. Controllers known
        to exist (`expected`, heard in heartbeats, listed by the primary) are waited for up to `timeout`;
        those that never answered are in the map's `unanswered`.
        """
        tgt = None if target is None else Hadd.parse(target)
        if check_source(source) != "requests":
            heard: set[int] = set()

            def alive(env: Envelope) -> None:
                m = env.message
                if isinstance(m, Heartbeat) and m.state in _ANSWERING:
                    heard.add(m.hadd.controller)

            # Heartbeats heard meanwhile name controllers that may not publish a retained state.
            beats = self.subscribe(self.topics.heartbeat_all(), alive) if source == "auto" else None
            try:
                kept = from_retained(self.read_retained(timeout=min(timeout, 2.0)), source, tgt)
            finally:
                if beats is not None:
                    beats.close()
            if kept is not None:
                others = [] if tgt is not None or source == "retained" else unpublished(kept, heard)
                if others:
                    asked = self._ask(kinds, timeout, quiet, idle, [Hadd(c, 0) for c in others], others)
                    kept.update(asked)
                    kept.unanswered = asked.unanswered
                return kept
        return self._ask(kinds, timeout, quiet, idle, tgt, expected)

    def _ask(
        self,
        kinds: Iterable[str],
        timeout: float,
        quiet: float,
        idle: float,
        tgt: Hadd | list[Hadd] | None,
        expected: Iterable[int],
    ) -> NetworkMap:
        """The discovery by requests: to the whole network (`tgt` None), one controller, or several."""
        targets = tgt if isinstance(tgt, list) else None
        one = None if isinstance(tgt, list) else tgt
        cid = self.new_correlation()
        collector = DiscoveryCollector(kinds, time.monotonic(), timeout, quiet, idle, cid, expected)
        inbox: queue.Queue[Message] = queue.Queue()

        def handler(env: Envelope) -> None:
            m = env.message
            if m is not None:
                inbox.put(m)

        filters = discovery_filters(self.topics, self.reply_hadd, targets[0] if targets else one)
        subs = [self.subscribe(f, handler) for f in filters]
        try:
            per_target: list[Hadd | None] = list(targets) if targets else [one]
            for t in per_target:
                for req in discovery_requests(collector, self.reply_hadd, t, cid):
                    self.publish(req)
            while True:
                now = time.monotonic()
                if collector.done(now):
                    break
                try:
                    message = inbox.get(timeout=max(0.0, collector.next_wake() - now))
                except queue.Empty:
                    continue
                collector.take(message, time.monotonic())
        finally:
            for s in subs:
                s.close()
        collector.map.unanswered = collector.missing()
        return collector.map

    def read_retained(self, timeout: float = 2.0) -> NetworkMap:
        """The network as the broker's retained state tells it (our nodes' extension): no request sent.

        Subscribes to `<prefix>/retained/#`, then publishes a marker on its own sync topic: the broker
        delivers every retained message before it, so the reading ends at the marker. A broker or ACL that
        drops the marker ends it `timeout` seconds after the last message. Malformed or lying payloads are
        left out.
        """
        return self.retained_snapshot(timeout).network_map()

    def retained_snapshot(
        self, timeout: float = 2.0, status_of: Iterable[int] | None = None
    ) -> RetainedReader:
        """The raw reading behind `read_retained`; with `status_of`, only these controllers' status topics
        (a node process reading back what its last run left)."""
        rtopics = RetainedTopics(self.topics.prefix)
        reader = RetainedReader(rtopics, self.client_id, _uuid.uuid4().hex)
        done = threading.Event()
        last = [time.monotonic()]

        def handler(env: Envelope) -> None:
            # Fed on paho's thread as the messages come: the reading is done when the marker is.
            last[0] = env.received_at
            if reader.feed(env.topic, env.payload):
                done.set()

        if status_of is None:
            filters = [rtopics.everything()]
        else:
            filters = [rtopics.sync(self.client_id)] + [rtopics.status(c) for c in status_of]
        subs = [self.subscribe(f, handler) for f in filters]
        try:
            self.publish_raw(rtopics.sync(self.client_id), reader.nonce)
            last[0] = max(last[0], time.monotonic())
            # `timeout` runs from the last message, not the first: a busy client still reading a large
            # state is not cut short; a state that keeps changing is, at ten times `timeout`.
            give_up = time.monotonic() + 10 * timeout
            while not done.wait(max(0.0, min(last[0] + timeout, give_up) - time.monotonic())):
                if time.monotonic() >= min(last[0] + timeout, give_up):
                    break
        finally:
            for s in subs:
                s.close()
        if reader.rejected:
            log.warning("retained state: %d malformed payloads left out", reader.rejected)
        return reader
