"""What a browser sends is checked: hadds, SET data against type and bounds; sessions, CSRF and origins."""

from __future__ import annotations

import pytest

from janitoo_protocol.addressing import Hadd
from janitoo_protocol.model import ValueInfo
from janitoo_web.guard import MAX_FAILURES, Guard, is_loopback, same_origin
from janitoo_web.validate import Invalid, checked_data, input_kind, parse_hadd, parse_set

H = Hadd(225, 4)


def _v(vtype: int, **kw: object) -> ValueInfo:
    return ValueInfo("v", H, genre=3, type=vtype, is_readonly=False, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text", ["0225/4", "225/0004", "0225/0004/", "../../etc", "٠٢٢٥/٠٠٠٤", "0225/0004\n", None, 225]
)
def test_a_hadd_is_four_digits_slash_four_digits(text: object) -> None:
    with pytest.raises(Invalid):
        parse_hadd(text)


def test_parse_set_checks_every_field() -> None:
    assert parse_set({"hadd": "0225/0004", "genre": 1, "uuid": "blink", "data": "on"}).index == 0
    for bad in ([], {"hadd": "0225/0004", "genre": True, "uuid": "b"}, {"hadd": "0225/0004", "genre": 1, "uuid": ""},
                {"hadd": "0225/0004", "genre": 1, "uuid": "b", "index": -1},
                {"hadd": "0225/0004", "genre": 1, "uuid": "x" * 101}):  # fmt: skip
        with pytest.raises(Invalid):
            parse_set(bad)


def test_numbers_are_checked_against_type_and_bounds() -> None:
    assert checked_data(_v(4, min=1, max=10), "7") == 7
    assert checked_data(_v(3), "2.5") == 2.5
    assert checked_data(_v(4), 3.0) == 3
    for data, why in (("0", "below the minimum 1"), ("11", "above the maximum 10"), ("1.5", "integer"),
                      (True, "number"), ("nan", "integer"), ([1], "integer")):  # fmt: skip
        with pytest.raises(Invalid, match=why):
            checked_data(_v(4, min=1, max=10), data)
    with pytest.raises(Invalid, match="finite"):
        checked_data(_v(3), "inf")
    with pytest.raises(Invalid, match="above the maximum 255"):
        checked_data(_v(2), "256")


def test_bools_lists_texts_and_read_only() -> None:
    assert checked_data(_v(1), "on") is True and checked_data(_v(1), "false") is False
    with pytest.raises(Invalid, match="on or off"):
        checked_data(_v(1), "maybe")
    blink = _v(5, list_items=["off", "blink"])
    assert input_kind(blink) == "select" and checked_data(blink, "blink") == "blink"
    with pytest.raises(Invalid, match="one of off, blink"):
        checked_data(blink, "<script>")
    assert checked_data(_v(8), "Kitchen <b>") == "Kitchen <b>"  # kept as text; escaped when shown
    for data in ("a\x00b", "x" * 1025, 5):
        with pytest.raises(Invalid):
            checked_data(_v(8), data)
    assert checked_data(_v(0x20), "0225/0001") == "0225/0001"
    with pytest.raises(Invalid, match="read-only"):
        checked_data(ValueInfo("t", H, type=3, is_readonly=True), 1)


def test_session_cookies_cannot_be_forged_and_expire() -> None:
    guard = Guard("pw", secret=b"k" * 32)
    session, cookie = guard.new_session(authed=False, now=1000)
    assert guard.read(cookie, now=1001) == session
    sid, authed, issued, mac = cookie.split(".")
    assert guard.read(f"{sid}.1.{issued}.{mac}", now=1001) is None  # promoted to logged in: refused
    assert guard.read(cookie, now=1000 + 13 * 3600) is None
    assert guard.read(Guard("pw").new_session(True)[1]) is None  # another process's secret
    for junk in ("", "a.b", "x" * 500, "a.b.c.d"):
        assert guard.read(junk) is None
    assert not guard.allowed(session) and guard.allowed(guard.read(guard.new_session(True)[1]))
    assert guard.csrf_ok(session, guard.csrf_token(session))
    assert not guard.csrf_ok(session, "0" * 64) and not guard.csrf_ok(None, guard.csrf_token(session))


def test_wrong_passwords_lock_logins_for_a_while() -> None:
    guard = Guard("right")
    for k in range(MAX_FAILURES):
        assert guard.check_password("wrong", now=float(k)) is False
    assert guard.check_password("right", now=10.0) is None
    assert guard.check_password("right", now=70.0) is True


def test_same_origin_and_loopback() -> None:
    assert same_origin({"origin": "http://127.0.0.1:8080", "host": "127.0.0.1:8080"})
    for headers in ({"origin": "http://evil:8080", "host": "127.0.0.1:8080"}, {"host": "127.0.0.1:8080"},
                    {"origin": "null", "host": "127.0.0.1:8080"},
                    {"origin": "file://127.0.0.1:8080", "host": "127.0.0.1:8080"}):  # fmt: skip
        assert not same_origin(headers)
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.2") and not is_loopback("evil")
