"""Read a value, set it, and read it back: the map found by discovery knows each value's genre,
command class and index, so `get` and `set` need nothing else.

Usage: python examples/get_and_set.py HADD UUID DATA [--host HOST] [--port PORT] [--prefix PREFIX]
"""

from __future__ import annotations

import argparse
import sys

from janitoo_protocol import JanitooClient, JanitooError


def main(hadd: str, uuid: str, data: str, host: str = "127.0.0.1", port: int = 1883, prefix: str = "") -> int:
    with JanitooClient(host, port, prefix=prefix) as client:
        network = client.discover()
        try:
            value = network.value(hadd, uuid)  # NotFound when the network has no such value
            print(f"{hadd} {uuid} was {client.get(value).data!r}")
            ack = client.set(value, data)  # RequestRefused / RequestTimeout: a SET is never lost silently
        except JanitooError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        print(f"{hadd} {uuid} is now {ack.data!r}")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="the MQTT broker (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=1883)
    parser.add_argument("--prefix", default="", help="the network's topic prefix (default none)")
    parser.add_argument("hadd")
    parser.add_argument("uuid")
    parser.add_argument("data")
    args = parser.parse_args()
    sys.exit(main(args.hadd, args.uuid, args.data, args.host, args.port, args.prefix))
