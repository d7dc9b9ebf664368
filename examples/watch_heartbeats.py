"""Print the heartbeats of the network as they come (COUNT of them, or until Ctrl+C).

Usage: python examples/watch_heartbeats.py [--count N] [--host HOST] [--port PORT] [--prefix PREFIX]
"""

from __future__ import annotations

import argparse

from janitoo_protocol import Heartbeat, HeartbeatDispatch, JanitooClient, NodeState


def main(count: int = 0, host: str = "127.0.0.1", port: int = 1883, prefix: str = "") -> None:
    seen = 0
    with JanitooClient(host, port, prefix=prefix) as client, client.watch("heartbeats") as heartbeats:
        for envelope in heartbeats:
            msg = envelope.message  # None for a malformed payload: logged, and skipped here
            if isinstance(msg, Heartbeat | HeartbeatDispatch):
                alive = "alive" if msg.state == NodeState.ONLINE else "not online"
                print(f"{msg.hadd} {msg.state} ({alive})")
                seen += 1
                if seen == count:
                    return


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="the MQTT broker (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=1883)
    parser.add_argument("--prefix", default="", help="the network's topic prefix (default none)")
    parser.add_argument("--count", type=int, default=0, help="stop after N heartbeats (default: never)")
    args = parser.parse_args()
    main(args.count, args.host, args.port, args.prefix)
