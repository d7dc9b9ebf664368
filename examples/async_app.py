"""The asyncio client: discover the network, set a value, then print value publications as they come.

Usage: python examples/async_app.py HADD UUID DATA [--count N] [--host HOST] [--port PORT] [--prefix PREFIX]
"""

from __future__ import annotations

import argparse
import asyncio

from janitoo_protocol import ValuePublication
from janitoo_protocol.aio import AsyncJanitooClient


async def main(hadd: str, uuid: str, data: str, count: int, host: str, port: int, prefix: str) -> None:
    async with AsyncJanitooClient(host, port, prefix=prefix) as client:
        network = await client.discover()
        print(f"{len(network)} nodes, {network.value_count()} values")
        # Subscribed before the SET, so its publication is among the ones printed below.
        async with client.watch("values") as values:
            ack = await client.set(network.value(hadd, uuid), data)
            print(f"{hadd} {uuid} set to {ack.data!r}")
            seen = 0
            async for envelope in values:
                if isinstance(envelope.message, ValuePublication):
                    pub = envelope.message
                    print(f"{pub.hadd} {pub.uuid} = {pub.value.data!r}")
                    seen += 1
                    if seen == count:
                        break


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("hadd")
    parser.add_argument("uuid")
    parser.add_argument("data")
    parser.add_argument(
        "--count", type=int, default=1, help="publications to print before leaving (default 1)"
    )
    parser.add_argument("--host", default="127.0.0.1", help="the MQTT broker (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=1883)
    parser.add_argument("--prefix", default="", help="the network's topic prefix (default none)")
    args = parser.parse_args()
    asyncio.run(main(args.hadd, args.uuid, args.data, args.count, args.host, args.port, args.prefix))
