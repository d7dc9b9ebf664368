"""Sessions, login, CSRF and same-origin checks: signed HttpOnly cookies, HMAC tokens, constant-time compares."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

COOKIE = "jnt_session"
SESSION_LIFETIME = 12 * 3600
MAX_FAILURES = 5  # wrong passwords per FAILURE_WINDOW before logins are refused for the window
FAILURE_WINDOW = 60.0


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Session:
    sid: str
    authed: bool
    issued: int


class Guard:
    """Signs session cookies with a per-process secret (a restart logs everybody out, by design)."""

    def __init__(self, password: str | None, secret: bytes | None = None) -> None:
        self.password = password or None
        self._secret = secret or secrets.token_bytes(32)
        self._failures: deque[float] = deque(maxlen=MAX_FAILURES)

    @property
    def login_required(self) -> bool:
        return self.password is not None

    def _sign(self, text: str) -> str:
        return hmac.new(self._secret, text.encode(), hashlib.sha256).hexdigest()

    def new_session(self, authed: bool = False, now: float | None = None) -> tuple[Session, str]:
        """A fresh session and its cookie value."""
        session = Session(secrets.token_urlsafe(18), authed, int(now if now is not None else time.time()))
        body = f"{session.sid}.{int(authed)}.{session.issued}"
        return session, f"{body}.{self._sign(body)}"

    def read(self, cookie: str | None, now: float | None = None) -> Session | None:
        """The session a cookie carries, or None when it is absent, forged, malformed or expired."""
        if not cookie or len(cookie) > 200:
            return None
        parts = cookie.split(".")
        if len(parts) != 4:
            return None
        sid, authed, issued, mac = parts
        if not hmac.compare_digest(mac, self._sign(f"{sid}.{authed}.{issued}")):
            return None
        if authed not in ("0", "1") or not issued.isdigit():
            return None
        if (now if now is not None else time.time()) - int(issued) > SESSION_LIFETIME:
            return None
        return Session(sid, authed == "1", int(issued))

    def csrf_token(self, session: Session) -> str:
        return self._sign(f"csrf:{session.sid}")

    def csrf_ok(self, session: Session | None, token: str | None) -> bool:
        return (
            session is not None and token is not None and hmac.compare_digest(token, self.csrf_token(session))
        )

    def allowed(self, session: Session | None) -> bool:
        """May this session read pages (and, with a CSRF token, write)?"""
        return session is not None and (session.authed or not self.login_required)

    def check_password(self, given: str, now: float | None = None) -> bool | None:
        """True or False; None when too many wrong passwords were given lately (try again later)."""
        t = now if now is not None else time.monotonic()
        if len(self._failures) >= MAX_FAILURES and t - self._failures[0] < FAILURE_WINDOW:
            return None
        if self.password is not None and hmac.compare_digest(given.encode(), self.password.encode()):
            return True
        self._failures.append(t)
        return False


def same_origin(headers: Mapping[str, str]) -> bool:
    """Was the request sent by one of our own pages? The Origin header's host must be the Host header.

    Browsers send Origin on every POST and WebSocket handshake; a request without it is refused.
    """
    origin, host = headers.get("origin"), headers.get("host")
    if not origin or not host or origin == "null":
        return False
    try:
        parts = urlsplit(origin)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and parts.netloc.lower() == host.lower()
