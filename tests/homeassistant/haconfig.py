"""A ready-to-run Home Assistant config directory for tests: owner, token, MQTT entry, no UI step (stdlib).

The `.storage` layouts are Home Assistant internals, checked against 2025.4.4 (HA_VERSION): the owner
user with one long-lived access token (an HS256 JWT signed with its refresh token's key), onboarding
done, loopback-only network settings, and one MQTT config entry with discovery on.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HA_VERSION = "2025.4.4"
PY_VERSION = "3.13.0"
DEFAULT_VENV = Path(f"/var/cache/janitoo-ha-venv/py{PY_VERSION}-ha{HA_VERSION}")


def ha_venv() -> Path:
    """The Home Assistant venv: $JANITOO_HA_VENV, else where .ci/install-ha-venv puts it."""
    return Path(os.environ.get("JANITOO_HA_VENV") or DEFAULT_VENV)


def _store(storage: Path, key: str, data: Any, version: int = 1, minor: int = 1) -> None:
    body = {"version": version, "minor_version": minor, "key": key, "data": data}
    (storage / key).write_text(json.dumps(body, indent=1))


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def write_config(cfg: Path, http_port: int, mqtt_port: int) -> str:
    """Write the config directory; returns the access token."""
    storage = cfg / ".storage"
    storage.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC).isoformat()
    (cfg / "configuration.yaml").write_text(
        "homeassistant:\n  name: Janitoo test\n  latitude: 0\n  longitude: 0\n  elevation: 0\n"
        "  unit_system: metric\n  time_zone: UTC\n  currency: EUR\n  country: DE\n\n"
        f"http:\n  server_host: 127.0.0.1\n  server_port: {http_port}\n\napi:\n\n"
        "logger:\n  default: warning\n  logs:\n    homeassistant.components.mqtt: info\n"
    )
    user_id, token_id, jwt_key = uuid.uuid4().hex, uuid.uuid4().hex, secrets.token_hex(64)
    groups = [{"id": "system-admin", "name": "Administrators"}, {"id": "system-users", "name": "Users"},
              {"id": "system-read-only", "name": "Read Only"}]  # fmt: skip
    user = {"id": user_id, "group_ids": ["system-admin"], "is_owner": True, "is_active": True, "name": "ci",
            "system_generated": False, "local_only": False}  # fmt: skip
    refresh = {
        "id": token_id, "user_id": user_id, "client_id": None, "client_name": "ci", "client_icon": None,
        "token_type": "long_lived_access_token", "created_at": now, "access_token_expiration": 315360000.0,
        "token": secrets.token_hex(64), "jwt_key": jwt_key, "last_used_at": None, "last_used_ip": None,
        "expire_at": None, "credential_id": None, "version": None,
    }  # fmt: skip
    _store(
        storage, "auth", {"groups": groups, "users": [user], "credentials": [], "refresh_tokens": [refresh]}
    )
    _store(storage, "onboarding", {"done": ["user", "core_config", "analytics", "integration"]}, version=4)
    _store(storage, "core.network", {"configured_adapters": ["lo"]})
    entry = {
        "created_at": now, "modified_at": now, "entry_id": uuid.uuid4().hex[:26].upper(), "domain": "mqtt",
        "title": "127.0.0.1", "source": "user", "version": 1, "minor_version": 2,
        "data": {"broker": "127.0.0.1", "port": mqtt_port},
        "options": {"discovery": True, "discovery_prefix": "homeassistant"},
        "discovery_keys": {}, "disabled_by": None, "pref_disable_new_entities": False,
        "pref_disable_polling": False, "subentries": [], "unique_id": None,
    }  # fmt: skip
    _store(storage, "core.config_entries", {"entries": [entry]}, version=1, minor=5)
    # HA's access token: an HS256 JWT {iss: refresh token id, iat, exp} signed with the token's jwt_key.
    iat = int(time.time()) - 60
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    claims = _b64(
        json.dumps({"iss": token_id, "iat": iat, "exp": iat + 315360000}, separators=(",", ":")).encode()
    )
    signing_input = f"{header}.{claims}"
    signature = hmac.new(jwt_key.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"
