"""Discover a Janitoo network and print its nodes, then every user value.

Usage: python examples/print_network.py [--host HOST] [--port PORT] [--prefix PREFIX]
"""

from __future__ import annotations

import argparse

from janitoo_protocol import Genre, JanitooClient


def main(host: str = "127.0.0.1", port: int = 1883, prefix: str = "") -> None:
    with JanitooClient(host, port, prefix=prefix) as client:
        # Every controller answers at once; discover() returns as soon as they all have.
        network = client.discover()
    for hadd, node in sorted(network.nodes.items()):
        print(f"{hadd}  {node.name:<24} {node.location:<16} {node.state or '-'}")
    for value in network.value_list(Genre.USER):
        print(f"{value.hadd}  {value.uuid:<24} {value.data!r} {value.units or ''}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="the MQTT broker (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=1883)
    parser.add_argument("--prefix", default="", help="the network's topic prefix (default none)")
    args = parser.parse_args()
    main(args.host, args.port, args.prefix)
