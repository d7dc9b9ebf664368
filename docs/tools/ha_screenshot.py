"""Take docs/home-assistant.png: the HelloWorld V3 appliance (sim) in a real Home Assistant, through the bridge.

Needs the Home Assistant venv (.ci/install-ha-venv), mosquitto, Playwright and Debian's chromium.
Run from the repository root:  python3 docs/tools/ha_screenshot.py [OUTPUT.png]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from playwright.sync_api import sync_playwright  # noqa: E402

from janitoo_node.apps.demo import prepare_config  # noqa: E402
from janitoo_node.broker import MosquittoBroker  # noqa: E402
from tests.helpers import NodeProcess  # noqa: E402
from tests.homeassistant.hass import HomeAssistant  # noqa: E402

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-extensions",
                 "--disable-sync", "--no-first-run", "--disable-default-apps"]  # fmt: skip


def main(output: Path) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="jnt-ha-shot-"))
    with MosquittoBroker() as broker:
        (tmp / "node").mkdir()
        node = NodeProcess(prepare_config(tmp / "node", broker.port).conf).start()
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        bridge = subprocess.Popen([sys.executable, "-m", "janitoo_cli", "bridge", "homeassistant",
                                   "--port", str(broker.port), "--web-url", "http://raspberrypi.local:8080"],
                                  env=env)  # fmt: skip
        ha = HomeAssistant(tmp / "config", broker.port)
        try:
            ha.start()
            ha.wait_state("sensor.ambiance_1_temperature", lambda s: s["state"] == "21.0", timeout=30)
            ha.api("POST", "/api/services/select/select_option",
                   {"entity_id": "select.led_blink", "option": "heartbeat"})  # fmt: skip
            ha.wait_state("select.led_blink", lambda s: s["state"] == "heartbeat")
            tokens = {"hassUrl": ha.url, "clientId": ha.url + "/", "expires": int(time.time() * 1000) + 10**10,
                      "refresh_token": "", "access_token": ha.token, "token_type": "Bearer", "expires_in": 10**7}  # fmt: skip
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.goto(ha.url + "/auth/authorize")  # any page of the origin, to reach its localStorage
                page.evaluate("t => localStorage.setItem('hassTokens', JSON.stringify(t))", tokens)
                page.goto(ha.url + "/lovelace/0")
                page.wait_for_selector("home-assistant", timeout=30000)
                page.wait_for_timeout(6000)  # the dashboard's cards render in several passes
                page.screenshot(path=str(output))
                browser.close()
        finally:
            bridge.terminate()
            bridge.wait(15)
            node.stop()
            ha.stop()
    print(json.dumps({"screenshot": str(output)}))


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "docs" / "home-assistant.png")
