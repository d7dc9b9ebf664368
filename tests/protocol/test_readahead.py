"""The transport's read-ahead socket: paho's small reads served from one big one, over a socket pair, then a
held-back burst through a real mosquitto, in plain TCP and in TLS, arriving whole and in order."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from janitoo_node.broker import MosquittoBroker, free_port
from janitoo_protocol.readahead import READ_AHEAD, ReadAheadSocket
from janitoo_protocol.transport import Envelope, JanitooClient, TlsOptions
from tests.brokerkit import make_pki, public_folder

WAIT = 20.0


class Counted:
    """A real socket that counts the reads made of it."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.reads = 0

    def recv(self, n: int) -> bytes:
        self.reads += 1
        return self.sock.recv(n)

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    a, b = socket.socketpair()
    with a, b:
        yield a, b


def test_small_reads_are_served_from_one_read_of_the_socket(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    writer, reader = pair
    # Three PUBLISH packets' worth: paho asks for 1 byte, 1 byte of length, then the rest, each time.
    stream = b"".join(bytes([0x30, len(body)]) + body for body in (b"a" * 20, b"b" * 100, b"c" * 7))
    writer.sendall(stream)
    inner = Counted(reader)
    s = ReadAheadSocket(inner)
    got = b""
    while len(got) < len(stream):
        got += s.recv(1)
        got += s.recv(1)
        got += s.recv(got[-1])
        assert s.pending() == s.buffered() == len(stream) - len(got)
    assert got == stream
    assert inner.reads == 1


def test_a_read_bigger_than_the_read_ahead_is_handed_over_without_a_copy_kept(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    writer, reader = pair
    writer.setblocking(False)
    big = bytes(range(256)) * 300  # 76,800 bytes, more than READ_AHEAD
    assert len(big) > READ_AHEAD
    sent = writer.send(big)
    s = ReadAheadSocket(reader)
    got = s.recv(len(big))
    assert got == big[: len(got)] and len(got) <= sent
    assert s.buffered() == 0


def test_buffered_bytes_come_before_the_end_of_the_stream(pair: tuple[socket.socket, socket.socket]) -> None:
    writer, reader = pair
    writer.sendall(b"abc")
    writer.shutdown(socket.SHUT_WR)
    s = ReadAheadSocket(reader)
    assert s.recv(1) == b"a"
    assert s.recv(10) == b"bc"
    assert s.recv(10) == b""  # the end of the stream, as a socket says it


def test_nothing_to_read_raises_what_the_socket_raises_and_only_then(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    writer, reader = pair
    reader.setblocking(False)
    s = ReadAheadSocket(reader)
    with pytest.raises(BlockingIOError):
        s.recv(1)
    writer.sendall(b"xy")
    assert s.recv(1) == b"x"
    assert s.recv(1) == b"y"  # from the buffer: the socket is not asked
    with pytest.raises(BlockingIOError):
        s.recv(1)


def test_everything_else_is_the_sockets_own_and_close_drops_the_buffer(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    writer, reader = pair
    s = ReadAheadSocket(reader)
    assert s.fileno() == reader.fileno()
    s.setblocking(False)
    assert reader.getblocking() is False
    assert s.send(b"hi") == 2 and writer.recv(2) == b"hi"
    writer.sendall(b"1234")
    assert s.recv(1) == b"1" and s.buffered() == 3
    s.close()
    assert s.buffered() == 0 and reader.fileno() == -1


def test_the_pending_bytes_of_a_tls_socket_are_counted_with_the_buffered_ones(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    class Decrypted(Counted):
        """What a TLS socket adds: bytes decrypted and not read yet."""

        def pending(self) -> int:
            return 5

    writer, reader = pair
    writer.sendall(b"abc")
    s = ReadAheadSocket(Decrypted(reader))
    assert s.pending() == 5
    s.recv(1)
    assert s.pending() == 2 + 5


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.binary(min_size=1, max_size=3000), min_size=1, max_size=30),
    st.lists(st.integers(1, 5000), min_size=1, max_size=50),
)
def test_any_stream_read_in_any_sizes_comes_out_unchanged(chunks: list[bytes], sizes: list[int]) -> None:
    a, b = socket.socketpair()
    with a, b:
        stream = b"".join(chunks)
        s = ReadAheadSocket(b)
        got = bytearray()
        i = 0
        for chunk in chunks:  # the writer's pieces and the reader's sizes fall where they may
            a.sendall(chunk)
            got += s.recv(sizes[i % len(sizes)])
            i += 1
        while len(got) < len(stream):
            got += s.recv(sizes[i % len(sizes)])
            i += 1
        assert bytes(got) == stream
        assert s.buffered() == 0


def test_the_paho_internals_the_transport_replaces_are_there() -> None:
    # Without them JanitooClient still works, on paho as shipped, only slower: a paho release that renamed
    # them must be noticed here, not in a benchmark.
    from paho.mqtt.enums import CallbackAPIVersion

    from janitoo_protocol import transport

    assert transport._READ_AHEAD and transport._DIRECT_ON_MESSAGE
    client = transport._PahoClient(CallbackAPIVersion.VERSION2)
    assert client._sock is None and client._in_callback_mutex is not None


# --------------------------------------------------------------------------------------- through mosquitto

# Payload sizes across the packet's length encoding (1, 2 and 3 bytes) and beyond one read-ahead.
SIZES = (0, 1, 100, 121, 122, 500, 16_000, 16_380, 16_400, 70_000, 200_000)


@pytest.fixture(scope="module")
def tls_broker() -> Iterator[tuple[MosquittoBroker, int, str]]:
    """A private mosquitto that queues everything for a subscriber that does not read, with a TLS
    listener as well (server certificate only)."""
    with public_folder("jnt-readahead-") as d:
        pki = make_pki(d)
        tls_port = free_port()
        extra = (
            "max_queued_messages 0\nmax_queued_bytes 0\n"
            f"listener {tls_port} 127.0.0.1\ncafile {pki.ca}\ncertfile {pki.server_cert}\nkeyfile {pki.server_key}\n"
        )
        with MosquittoBroker(extra_config=extra) as broker:
            yield broker, tls_port, str(pki.ca)


def held_back_burst(broker: MosquittoBroker, port: int, tls: TlsOptions | None, prefix: str) -> None:
    """A receiver holds its first message while 1,150 more pile up, then takes them all at once: each must
    come whole and in order, the last ones too (they sit in the buffer with nothing more to read)."""
    sizes = [SIZES[i % len(SIZES)] for i in range(1100)] + [10] * 50  # the tail: small ones, many per read
    sent = [
        (f"{prefix}/burst/{i % 7}", f"{i}:".encode() + bytes([65 + i % 26]) * size)
        for i, size in enumerate(sizes)
    ]
    got: list[tuple[str, bytes]] = []
    gate, done = threading.Event(), threading.Event()

    def handler(env: Envelope) -> None:
        gate.wait(WAIT)
        got.append((env.topic, env.payload))
        if len(got) == len(sent):
            done.set()

    with JanitooClient(broker.host, port, tls=tls) as rx:
        assert isinstance(rx._mqtt._sock, ReadAheadSocket)  # paho's socket is wrapped: the hook still works
        rx.subscribe(f"{prefix}/burst/#", handler)
        with JanitooClient(broker.host, broker.port) as tx:
            for topic, payload in sent:
                tx.publish_raw(topic, payload)
            assert tx.wait_written(WAIT)
        gate.set()
        assert done.wait(WAIT), f"{len(got)} of {len(sent)} messages arrived"
        # The connection still works both ways after the burst: a request out, its echo back.
        echo = rx.subscribe(f"{prefix}/echo")
        rx.publish_raw(f"{prefix}/echo", b"after")
        env = echo.get(WAIT)
        assert env is not None and env.payload == b"after"
    assert [t for t, _ in got] == [t for t, _ in sent]
    assert got == sent


def test_a_held_back_burst_arrives_whole_and_in_order(tls_broker: tuple[MosquittoBroker, int, str]) -> None:
    broker, _, _ = tls_broker
    held_back_burst(broker, broker.port, None, "plain")


def test_a_held_back_burst_arrives_whole_and_in_order_over_tls(
    tls_broker: tuple[MosquittoBroker, int, str],
) -> None:
    broker, tls_port, ca = tls_broker
    held_back_burst(broker, tls_port, TlsOptions(ca_file=ca), "tls")


# ------------------------------------------------------------------------------------ a broker gone wrong


def _packet(first: int, body: bytes) -> bytes:
    length, n = b"", len(body)
    while True:
        n, digit = divmod(n, 128)
        length += bytes([digit | (128 if n else 0)])
        if not n:
            return bytes([first]) + length + body


def _publish(topic: str, payload: bytes) -> bytes:
    t = topic.encode()
    return _packet(0x30, len(t).to_bytes(2, "big") + t + payload)


def _read_packet(conn: socket.socket) -> tuple[int, bytes]:
    def exactly(n: int) -> bytes:
        data = b""
        while len(data) < n:
            part = conn.recv(n - len(data))
            if not part:
                raise EOFError
            data += part
        return data

    first = exactly(1)[0]
    length, shift = 0, 0
    while True:
        digit = exactly(1)[0]
        length += (digit & 127) << shift
        shift += 7
        if not digit & 128:
            return first, exactly(length)


def test_bytes_after_a_malformed_packet_die_with_their_connection() -> None:
    """A broker that sends two messages, a packet with a five-byte length (malformed) and a third message
    in one write: the two come, the connection is dropped, and the third, buffered behind the bad packet,
    is never delivered, on this connection or the next (where the broker's next message comes)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(2)
    port = server.getsockname()[1]
    sends = [
        _publish("x/a", b"1") + _publish("x/b", b"2") + b"\x30\xff\xff\xff\xff\x7f" + _publish("x/c", b"3"),
        _publish("x/d", b"4"),
    ]

    def fake_broker() -> None:
        for wire in sends:
            conn, _ = server.accept()
            with conn:
                assert _read_packet(conn)[0] == 0x10  # CONNECT
                conn.sendall(b"\x20\x02\x00\x00")  # CONNACK, accepted
                kind, body = _read_packet(conn)
                assert kind == 0x82  # SUBSCRIBE
                conn.sendall(b"\x90\x03" + body[:2] + b"\x00")  # SUBACK, QoS 0
                conn.sendall(wire)
                try:
                    while True:  # until the client hangs up (or the test ends)
                        _read_packet(conn)
                except (EOFError, OSError):
                    pass

    threading.Thread(target=fake_broker, daemon=True).start()
    got: list[tuple[str, bytes]] = []
    fourth = threading.Event()

    def handler(env: Envelope) -> None:
        got.append((env.topic, env.payload))
        if env.topic == "x/d":
            fourth.set()

    with server, JanitooClient("127.0.0.1", port, reconnect_min=0.05, reconnect_max=0.1) as c:
        c.subscribe("x/#", handler)
        assert fourth.wait(WAIT), f"after the bad packet, only {got}"
        assert got == [("x/a", b"1"), ("x/b", b"2"), ("x/d", b"4")]
