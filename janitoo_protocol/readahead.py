"""`ReadAheadSocket`: the threaded transport's socket, read in big gulps; paho takes a packet from it in pieces.

Part of the threaded transport (transport.py wraps the socket paho opens in it). paho reads each packet in
three or four calls: its first byte, its length one byte at a time, then the rest, each a system call of
its own; for a value publication those calls cost more than decoding it. Here one `recv` of up to 64 kB
fills a buffer and paho's small reads are served from it.

Bytes in the buffer are invisible to `select`, which paho waits on before reading again, so `pending()`
counts them: paho's loop already asks a TLS socket for its `pending()` bytes and reads them without
waiting. The buffer belongs to one connection; a reconnection opens a new socket and a new buffer.
"""

from __future__ import annotations

from typing import Any

READ_AHEAD = 65536
"""Bytes asked of the socket by one `recv`: a burst of value publications (about 500 bytes each)."""


class ReadAheadSocket:
    """A connected socket (plain or TLS) whose `recv` reads ahead; everything else is the socket's own."""

    __slots__ = ("sock", "_buf", "_pos")

    def __init__(self, sock: Any) -> None:
        self.sock = sock
        self._buf = b""
        self._pos = 0  # where the unread bytes of _buf start

    def recv(self, bufsize: int) -> bytes:
        """Up to `bufsize` bytes: buffered ones first; b"" at the end of the stream, as `socket.recv`.

        With nothing buffered, one read of up to READ_AHEAD bytes (or `bufsize`, when more) is made; what
        paho did not ask for is kept. The socket's exceptions (BlockingIOError, TLS's want-read) come
        through unchanged, and only when nothing is buffered.
        """
        buf = self._buf
        pos = self._pos
        if pos >= len(buf):
            data: bytes = self.sock.recv(bufsize if bufsize > READ_AHEAD else READ_AHEAD)
            if len(data) <= bufsize:
                return data  # all of it asked for (a big payload, or the end of the stream): nothing to keep
            self._buf = buf = data
            pos = 0
        out = buf[pos : pos + bufsize]
        self._pos = pos + len(out)
        return out

    def buffered(self) -> int:
        """Bytes read from the socket and not yet taken."""
        return len(self._buf) - self._pos

    def pending(self) -> int:
        """Bytes readable without waiting: the buffered ones and, under TLS, those decrypted and unread."""
        inner = getattr(self.sock, "pending", None)
        return self.buffered() + (inner() if inner is not None else 0)

    def send(self, data: bytes | bytearray) -> int:
        return int(self.sock.send(data))

    def fileno(self) -> int:
        return int(self.sock.fileno())

    def close(self) -> None:
        self._buf = b""
        self._pos = 0
        self.sock.close()

    def __getattr__(self, name: str) -> Any:
        # setblocking, settimeout, getpeercert...: the socket's own (only called for names not above).
        if name == "sock":  # not set yet (a copy being built): no endless recursion
            raise AttributeError(name)
        return getattr(self.sock, name)

    def __repr__(self) -> str:
        return f"<ReadAheadSocket {self.buffered()} bytes buffered, of {self.sock!r}>"
