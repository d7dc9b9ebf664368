"""Run a secondary network controller in your app: it follows the primary, keeps a replica of its network
map, and takes the primary's place when it goes away. Prints each change of role; Ctrl+C says goodbye.

The controller is sans-IO: it is fed messages and the time, and returns what to publish and when to be
called again. This loop is all the I/O it needs.

Usage: python examples/secondary_controller.py HADD [--seconds S] [--host HOST] [--port PORT] [--prefix PREFIX]
"""

from __future__ import annotations

import argparse
import queue
import time

from janitoo_protocol import Envelope, JanitooClient, Message, NetworkController, RoleConfig


def main(hadd: str, seconds: float, host: str, port: int, prefix: str) -> None:
    controller = NetworkController(hadd, RoleConfig(is_secondary=True))
    # One inbox for the messages heard and the connection going down (False) or back up (True).
    inbox: queue.Queue[Message | bool] = queue.Queue()

    def hear(envelope: Envelope) -> None:  # on paho's network thread: hand over, nothing else
        if envelope.message is not None:
            inbox.put(envelope.message)

    client = JanitooClient(host, port, prefix=prefix, reply_hadd=hadd, will=controller.will(),
                           on_connection_change=inbox.put)  # fmt: skip
    with client:
        client.subscribe(client.topics.everything(), hear)
        actions = controller.start(time.monotonic())
        end = time.monotonic() + seconds
        shown = None
        try:
            while True:
                for message in actions.publish:
                    client.publish(message)
                if (controller.role, controller.synced) != shown:
                    shown = (controller.role, controller.synced)
                    print(f"{controller.role} primary={controller.primary} synced={controller.synced} "
                          f"nodes={len(controller.map)}", flush=True)  # fmt: skip
                now = time.monotonic()
                if now >= end:
                    break
                wake = min(end, actions.wake_at if actions.wake_at is not None else end)
                try:
                    event = inbox.get(timeout=max(0.0, wake - now))
                except queue.Empty:
                    actions = controller.tick(time.monotonic())
                    continue
                if isinstance(event, bool):
                    actions = controller.connection_changed(event, time.monotonic())
                else:
                    actions = controller.receive(event, time.monotonic())
        except KeyboardInterrupt:
            pass
        # A clean close sends no will: say goodbye ourselves, so the others do not wait for a timeout.
        for message in controller.stop(time.monotonic()).publish:
            client.publish(message)
    print(f"{controller.role}", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("hadd", help="this controller's address, e.g. 0050/0000")
    parser.add_argument("--seconds", type=float, default=3600, help="run this long (default an hour)")
    parser.add_argument("--host", default="127.0.0.1", help="the MQTT broker (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=1883)
    parser.add_argument("--prefix", default="", help="the network's topic prefix (default none)")
    args = parser.parse_args()
    main(args.hadd, args.seconds, args.host, args.port, args.prefix)
