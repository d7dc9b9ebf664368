"""Deferred imports: paho is imported without ssl, hashlib and urllib.request, which load when first used
(TLS configured), and the stand-ins behave like the modules they stand for."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from janitoo_protocol.deferred import Deferred, NeverRaised, deferred_imports

ROOT = Path(__file__).resolve().parents[2]


def _fresh(code: str) -> str:
    """Run `code` in a new interpreter (this one has imported ssl long ago) and return its stdout."""
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                         cwd=ROOT, timeout=60)  # fmt: skip
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_importing_the_protocol_loads_no_openssl_nor_http_client() -> None:
    loaded = _fresh("""
        import sys
        import janitoo_protocol  # (asyncio, and so janitoo_protocol.aio, imports ssl itself)
        print(sorted(m for m in ("ssl", "_ssl", "hashlib", "_hashlib", "urllib.request", "http.client", "email")
                     if m in sys.modules))
    """)
    assert loaded == "[]"


def test_a_tls_client_loads_ssl_and_paho_uses_the_real_module() -> None:
    out = _fresh("""
        import sys
        from janitoo_protocol import JanitooClient, TlsOptions
        print("ssl" in sys.modules)
        client = JanitooClient(tls=TlsOptions(insecure=True))
        import ssl
        print(type(client._mqtt._ssl_context) is ssl.SSLContext)
    """)
    assert out.splitlines() == ["False", "True"]


def test_a_socket_error_on_a_plain_connection_does_not_load_ssl() -> None:
    # paho names ssl.SSLWantReadError in the except clauses of every socket read: Python evaluates them
    # when a plain socket raises (the broker went away), which must neither fail nor load OpenSSL.
    out = _fresh("""
        import sys
        from janitoo_protocol.transport import mqtt

        class Reset:
            def recv(self, n):
                raise ConnectionResetError("reset by peer")

        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        client._sock = Reset()
        try:
            client._sock_recv(1)
        except ConnectionResetError as exc:
            print(exc)
        print("ssl" in sys.modules)
    """)
    assert out.splitlines() == ["reset by peer", "False"]


@pytest.fixture
def modules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder on sys.path for throwaway modules; they leave sys.modules afterwards."""
    monkeypatch.syspath_prepend(str(tmp_path))
    before = set(sys.modules)
    yield tmp_path
    for name in set(sys.modules) - before:
        del sys.modules[name]


def _module(folder: Path, name: str, body: str) -> None:
    path = folder.joinpath(*name.split(".")).with_suffix(".py")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(body))


def test_a_stand_in_imports_its_module_on_the_first_attribute_read(modules: Path) -> None:
    _module(modules, "jnt_heavy", """
        import builtins
        builtins.jnt_heavy_runs = getattr(builtins, "jnt_heavy_runs", 0) + 1
        ANSWER = 42
    """)  # fmt: skip
    import builtins

    with deferred_imports(Deferred("jnt_heavy")):
        import jnt_heavy  # type: ignore[import-not-found]

        assert isinstance(jnt_heavy, Deferred)
    assert "jnt_heavy" not in sys.modules  # the import system is as before
    assert not hasattr(builtins, "jnt_heavy_runs")
    assert jnt_heavy.ANSWER == 42
    assert builtins.jnt_heavy_runs == 1  # type: ignore[attr-defined]
    import jnt_heavy as real

    assert real is sys.modules["jnt_heavy"] and not isinstance(real, Deferred)
    assert jnt_heavy.ANSWER == real.ANSWER and builtins.jnt_heavy_runs == 1  # type: ignore[attr-defined]
    del builtins.jnt_heavy_runs  # type: ignore[attr-defined]


def test_unused_attributes_answer_until_the_real_module_is_imported(modules: Path) -> None:
    _module(modules, "jnt_tls", """
        class WantRead(Exception):
            pass
    """)  # fmt: skip
    stand_in = Deferred("jnt_tls", {"WantRead": NeverRaised})
    assert stand_in.WantRead is NeverRaised
    assert "jnt_tls" not in sys.modules
    import jnt_tls  # type: ignore[import-not-found]

    assert stand_in.WantRead is jnt_tls.WantRead  # once imported, its errors can happen: the real class


def test_a_stand_in_for_a_submodule_is_reachable_from_its_package(modules: Path) -> None:
    _module(modules, "jnt_pkg.__init__", "")
    _module(modules, "jnt_pkg.sub", "VALUE = 'sub'\n")
    with deferred_imports(Deferred("jnt_pkg.sub")):
        import jnt_pkg.sub  # type: ignore[import-not-found]
    assert "jnt_pkg.sub" not in sys.modules
    assert isinstance(jnt_pkg.sub, Deferred)
    assert jnt_pkg.sub.VALUE == "sub"
    assert not isinstance(sys.modules["jnt_pkg"].sub, Deferred)  # the real import replaced the stand-in


def test_a_module_already_imported_is_left_alone(modules: Path) -> None:
    _module(modules, "jnt_loaded", "X = 1\n")
    import jnt_loaded  # type: ignore[import-not-found]

    with deferred_imports(Deferred("jnt_loaded")):
        import jnt_loaded as again  # type: ignore[import-not-found]
    assert again is jnt_loaded and sys.modules["jnt_loaded"] is jnt_loaded


def test_probing_special_names_does_not_import(modules: Path) -> None:
    _module(modules, "jnt_probe", "raise RuntimeError('imported')\n")
    stand_in = Deferred("jnt_probe")
    assert not hasattr(stand_in, "__path__") and not hasattr(stand_in, "__file__")
    assert repr(stand_in) == "<deferred module 'jnt_probe'>"
    with pytest.raises(RuntimeError, match="imported"):
        stand_in.anything  # noqa: B018 - the read is the point
