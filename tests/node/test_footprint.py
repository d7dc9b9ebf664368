"""What a running node keeps resident: the modules it needs, not those of features it does not use (TLS,
file logging, config writes), which load when used and then work."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Loaded only for a feature: TLS (ssl, hashlib: OpenSSL), a proxy (urllib.request, http.client, email),
# plugins of other packages (importlib.metadata), a persisted SET (configupdater), a log file
# (logging.handlers).
ON_DEMAND = ("ssl", "hashlib", "urllib.request", "http.client", "email", "importlib.metadata", "configupdater",
             "logging.handlers")  # fmt: skip


def _run(code: str) -> list[str]:
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, cwd=ROOT,
                         timeout=60)  # fmt: skip
    assert out.returncode == 0, out.stderr
    return out.stdout.strip().splitlines()


def test_the_appliance_starts_without_the_modules_of_features_it_does_not_use(tmp_path: Path) -> None:
    conf = shutil.copy(ROOT / "examples" / "helloworldv3.conf", tmp_path / "helloworldv3.conf")
    lines = _run(f"""
        import sys
        from pathlib import Path
        import janitoo_node.cli
        from janitoo_node.config import JanitooConfig
        from janitoo_node.logconfig import setup_logging
        from janitoo_node.scheduler import ManualScheduler
        from janitoo_node.server import load_buses, preflight
        cfg = JanitooConfig(Path({str(conf)!r}))
        setup_logging(cfg)
        preflight(cfg).broker.client()
        runtimes = load_buses(cfg, ManualScheduler(), lambda s: lambda m: None, threads=False, backend="sim")
        on_demand = {ON_DEMAND!r}
        print([m for m in on_demand if m in sys.modules])
        # A persisted SET loads the config writer, and writes.
        runtimes[0].manager.controller.values["location"].write("Garden shed")
        print("configupdater" in sys.modules)
    """)
    assert lines == ["[]", "True"]
    assert "location = Garden shed" in conf.read_text()


def test_a_log_file_handler_still_rotates(tmp_path: Path) -> None:
    conf = tmp_path / "node.conf"
    log = tmp_path / "node.log"
    text = (ROOT / "examples" / "helloworldv3.conf").read_text()
    text = text.replace("keys = console", "keys = console,file").replace(
        "handlers = console", "handlers = console,file"
    )
    conf.write_text(text.replace("('/var/log/janitoo/jnt_tutorial.log',)", f"({str(log)!r},)"))
    lines = _run(f"""
        import logging
        from pathlib import Path
        from janitoo_node.config import JanitooConfig
        from janitoo_node.logconfig import setup_logging
        setup_logging(JanitooConfig(Path({str(conf)!r})))
        logging.getLogger("janitoo.test").warning("to the file")
        print(sorted(type(h).__name__ for h in logging.getLogger().handlers))
    """)
    assert lines == ["['RotatingFileHandler', 'StreamHandler']"]
    assert "to the file" in log.read_text()
