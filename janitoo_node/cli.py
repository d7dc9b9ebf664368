"""`jnt-node`: run a node config, check it, install it as a service, and the demo tools."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

# Each command imports what it runs (the config reader pulls configupdater and the protocol): `jnt-node
# --help` and the commands that need no config stay quick.
if TYPE_CHECKING:
    from .config import JanitooConfig


def _fail(message: str) -> None:
    click.echo(f"jnt-node: error: {message}", err=True)
    sys.exit(2)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="janitoo", prog_name="jnt-node", message="%(prog)s %(version)s")
def main() -> None:
    """Janitoo node runtime: puts a Raspberry Pi's buses and components on a Janitoo network.

    \b
    Example:
      jnt-node run -c /etc/janitoo/jnt_tutorial.conf
      jnt-node demo
    """


@main.command()
@click.option("-c", "--config", "conf", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The node's config file (the original INI format).")  # fmt: skip
@click.option("--host", envvar="JNT_HOST", help="Broker host [env JNT_HOST; default: [system] broker_ip].")
@click.option("--port", type=click.IntRange(1, 65535), envvar="JNT_PORT",
              help="Broker port [env JNT_PORT; default: [system] broker_port].")  # fmt: skip
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=Path("/"), show_default=True,
              help="Root of /sys and /proc (a fake tree for simulations).")  # fmt: skip
@click.option("--backend", type=click.Choice(["auto", "real", "sim"]), help="Override every bus's backend.")
@click.option("-v", "--verbose", is_flag=True, help="Debug logging.")
def run(
    conf: Path, host: str | None, port: int | None, root: Path, backend: str | None, verbose: bool
) -> None:
    """Run a config file in the foreground until SIGTERM or Ctrl+C.

    \b
    Example:
      jnt-node run -c examples/helloworldv3.conf --backend sim
    """
    from .config import ConfigError, JanitooConfig
    from .logconfig import setup_logging
    from .server import BrokerSettings, Server

    try:
        cfg = JanitooConfig(conf)
        setup_logging(cfg, verbose)
        broker = BrokerSettings.from_config(cfg)
        if host:
            broker.host = host
        if port:
            broker.port = port
        broker.warn_if_clear()
        server = Server(conf, broker=broker, root=root, backend=backend)
    except ConfigError as exc:
        _fail(str(exc))  # exit status 2: the unit's RestartPreventExitStatus
        return
    try:
        code = server.run()
    except ConfigError as exc:
        _fail(str(exc))
        return
    sys.exit(code)


@main.command("check-config")
@click.option("-c", "--config", "conf", required=True, type=click.Path(dir_okay=False, path_type=Path))
def check_config(conf: Path) -> None:
    """Load a config file as `run` would, report the first problem, and exit non-zero on one.

    \b
    Example:
      jnt-node check-config -c examples/helloworldv3.conf
    """
    from .brokerconf import clear_password_warning
    from .config import ConfigError, JanitooConfig
    from .scheduler import ManualScheduler
    from .server import load_buses, preflight

    try:
        cfg = JanitooConfig(conf)
        # The broker keys first: a password or TLS file that `run` could not read fails here too.
        checked = preflight(cfg)
        # Built on simulated hardware: the machine that checks a config is not always the Pi that runs it.
        runtimes = load_buses(cfg, ManualScheduler(), lambda s: lambda m: None, threads=False, backend="sim")
    except ConfigError as exc:
        _fail(str(exc))
        return
    keys, role = checked.broker, checked.role
    for line in checked.warnings:
        click.echo(f"jnt-node: warning: {line}", err=True)
    for rt in runtimes:
        for node in rt.manager.nodes.values():
            click.echo(f"{node.hadd}  {node.uuid:<30} {node.name}")
    if role is not None:
        click.echo(
            f"network controller: {'primary' if role.is_primary else 'secondary'}, priority {role.priority}"
        )
    tls = "TLS" if keys.tls is not None else "no TLS"
    click.echo(f"broker: {keys.host}:{keys.port}, {tls}, user {keys.username or '(anonymous)'}")
    warning = clear_password_warning(keys.host, keys.port, keys.password, keys.tls)
    if warning is not None:
        click.echo(f"jnt-node: warning: {warning}", err=True)
    click.echo(f"{conf}: OK")


@main.command()
@click.option("-c", "--config", "confs", required=True, multiple=True,
              type=click.Path(dir_okay=False, path_type=Path),
              help="A node config (repeat for each node process); its [system] broker_user is its user.")  # fmt: skip
@click.option("--operator", "operators", multiple=True, metavar="USER",
              help="A user who reads everything and sends requests (GET/SET); repeatable.")  # fmt: skip
@click.option("--viewer", "viewers", multiple=True, metavar="USER",
              help="A user who may only subscribe; repeatable.")  # fmt: skip
@click.option("--prefix", "prefixes", multiple=True, metavar="PREFIX",
              help="Topic prefix operators and viewers get [default: every prefix of the configs].")  # fmt: skip
@click.option("--passwords", "passwords_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Plain user:password lines for operators and viewers (node passwords come from their config).")  # fmt: skip
@click.option("-o", "--acl-file", "acl_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the mosquitto acl_file here [default: print it].")  # fmt: skip
@click.option("--password-file", "password_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Write a mosquitto password_file (hashed, like mosquitto_passwd) for every known password.")  # fmt: skip
def acl(confs: tuple[Path, ...], operators: tuple[str, ...], viewers: tuple[str, ...],
        prefixes: tuple[str, ...], passwords_file: Path | None, acl_file: Path | None,
        password_file: Path | None) -> None:  # fmt: skip
    """Generate the broker's authorization from node configs: a mosquitto acl_file and password_file.

    Each node process connects as its own user ([system] broker_user) and may publish only under its own
    controllers' hadds (heartbeats, values) and answer requests; a network controller ([network]
    is_primary/is_secondary) also speaks on /dhcp/resolv/#. An operator reads everything and sends
    requests; a viewer only reads. See docs/security.md.

    \b
    Example:
      jnt-node acl -c /etc/janitoo/node1.conf -c /etc/janitoo/node2.conf --operator alice --viewer tv \\
          --passwords people.txt -o /etc/mosquitto/janitoo.acl --password-file /etc/mosquitto/janitoo.passwd
    """
    from . import acl as acls
    from .config import ConfigError

    try:
        passwords = acls.read_passwords(passwords_file) if passwords_file is not None else None
        users = acls.build_users(confs, operators, viewers, prefixes or None, passwords)
        text = acls.acl_text(users)
        secrets = acls.password_text(users) if password_file is not None else ""
    except (ConfigError, acls.AclError) as exc:
        _fail(str(exc))
        return
    try:
        if password_file is not None:
            acls.write_private(password_file, secrets)
        if acl_file is not None:
            acls.write_private(acl_file, text)
    except OSError as exc:
        _fail(f"cannot write {exc.filename}: {exc.strerror}")
    if acl_file is None:
        click.echo(text, nl=False)
    for user in users:
        known = "password set" if user.password is not None else "no password known"
        click.echo(f"{user.name:<20} {user.role:<18} {known:<18} {user.source}", err=True)
    missing = [u.name for u in users if u.password is None]
    if missing:
        target = password_file or "PASSWORD_FILE"
        click.echo(f"add the missing passwords with: mosquitto_passwd {target} USER   (for {', '.join(missing)})",
                   err=True)  # fmt: skip
    if acl_file is not None:
        click.echo(f"wrote {acl_file}" + (f" and {password_file}" if password_file else ""), err=True)


def _config_needs(cfg: JanitooConfig) -> list[str]:
    """What a config's auto-started buses need from the hardware, in hardware-check's words."""
    needs: list[str] = []
    for section in cfg.buses():
        if not cfg.get_bool(section, "auto_start", True) or (cfg.get(section, "backend") or "auto") == "sim":
            continue
        needs += {"rpigpio": ["gpio"], "rpi1wire": ["1-wire"], "rpii2c": ["i2c"]}.get(section, [])
        for decl in cfg.components(section):
            pin = cfg.get(decl.section, "pin_0")
            if decl.entry == "rpibasic.dht" and pin is not None and pin.strip().isdigit():
                needs.append(f"dht:{int(pin)}")
    return needs


@main.command("hardware-check")
@click.option("--root", type=click.Path(exists=True, file_okay=False, path_type=Path), default=Path("/"), show_default=True,
              help="Root of /proc, /sys, /dev and /etc (a fixture tree in tests).")  # fmt: skip
@click.option(
    "--user", default="janitoo", show_default=True, help="The service user whose groups are checked."
)
@click.option("-c", "--config", "conf", type=click.Path(dir_okay=False, path_type=Path),
              help="A node config: what its buses use becomes required.")  # fmt: skip
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def hardware_check(root: Path, user: str, conf: Path | None, fmt: str) -> None:
    """Check what this machine offers the node: board, kernel, GPIO libraries, gpiochip, 1-wire, IIO, I2C
    and the service user's groups. Each line is OK or says what to do; exits 1 when something needed is
    missing.

    \b
    Example:
      jnt-node hardware-check
      jnt-node hardware-check -c /etc/janitoo/jnt_tutorial.conf --format json
    """
    import json

    from .config import ConfigError, JanitooConfig
    from .hardware.check import run_checks

    needs: list[str] = []
    if conf is not None:
        try:
            needs = _config_needs(JanitooConfig(conf))
        except ConfigError as exc:
            _fail(str(exc))
    report = run_checks(root, user, needs=needs)
    if fmt == "json":
        click.echo(json.dumps(report.as_dict(), indent=2, ensure_ascii=False))
    else:
        click.echo(report.table(), nl=False)
    sys.exit(0 if report.ok else 1)


@main.command("install-service")
@click.option("-c", "--config", "conf", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--user", default="janitoo", show_default=True, help="The dedicated user the service runs as.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the unit here (default: /etc/systemd/system/<service>.service).")  # fmt: skip
@click.option("--print", "to_stdout", is_flag=True, help="Print the unit instead of writing it.")
def install_service(conf: Path, user: str, output: Path | None, to_stdout: bool) -> None:
    """Write a systemd unit that runs CONFIG (Type=notify, Restart=on-failure, dedicated user).

    The unit runs in a writable /run/<service> (lgpio needs one), with the gpio, i2c, spi and video
    groups that exist on this machine, and may rewrite files only in the config's directory. Create the
    user first: sudo useradd --system --home-dir /var/lib/janitoo --shell /usr/sbin/nologin janitoo.

    \b
    Example:
      sudo jnt-node install-service -c /etc/janitoo/jnt_tutorial.conf
      sudo systemctl daemon-reload && sudo systemctl enable --now jnt_tutorial
    """
    from .config import ConfigError, JanitooConfig
    from .service import systemd_unit

    try:
        cfg = JanitooConfig(conf)
    except ConfigError as exc:
        _fail(str(exc))
        return
    service = cfg.system("service")
    try:
        unit = systemd_unit(conf.resolve(), service, user)
    except ValueError as exc:
        _fail(f"{conf}: {exc}")
        return
    if to_stdout:
        click.echo(unit, nl=False)
        return
    target = output or Path("/etc/systemd/system") / f"{service}.service"
    try:
        target.write_text(unit)
    except OSError as exc:
        _fail(f"cannot write {target}: {exc.strerror} (run with sudo, or use --print / -o)")
    click.echo(f"wrote {target}; now: systemctl daemon-reload && systemctl enable --now {service}")


@main.command()
@click.option("--controllers", type=click.IntRange(1, 8999), default=1, show_default=True,
              help="How many controllers (buses).")  # fmt: skip
@click.option(
    "--nodes", type=click.IntRange(0, 9999), default=10, show_default=True, help="Nodes per controller."
)
@click.option(
    "--values", type=click.IntRange(0, 100), default=1, show_default=True, help="Polled values per node."
)
@click.option("--first", type=click.IntRange(1, 9999), default=1000, show_default=True,
              help="The first controller number (hadds <first>/0000, <first+1>/0000, ...).")  # fmt: skip
@click.option(
    "--heartbeat", type=float, default=30, show_default=True, help="Heartbeat period of every node (s)."
)
@click.option("--poll", type=float, default=30, show_default=True, help="Poll period of every value (s).")
@click.option(
    "--host", default="127.0.0.1", envvar="JNT_HOST", show_default=True, help="Broker host [env JNT_HOST]."
)
@click.option("--port", type=click.IntRange(1, 65535), default=1883, envvar="JNT_PORT", show_default=True,
              help="Broker port [env JNT_PORT]; the demo prints its own.")  # fmt: skip
@click.option("--prefix", default="", help="Topic prefix (default: the original topics).")
@click.option("-v", "--verbose", is_flag=True, help="Debug logging.")
def simulate(controllers: int, nodes: int, values: int, first: int, heartbeat: float, poll: float, host: str,
             port: int, prefix: str, verbose: bool) -> None:  # fmt: skip
    """Run a simulated network in one process, until Ctrl+C: every controller behaves on the wire like a
    real node runtime (heartbeats, discovery answers, GET/SET, polls).

    \b
    Example:
      jnt-node simulate --controllers 10 --nodes 100 --values 2
      jnt query network --vuuid all
    """
    import logging
    import signal
    import threading

    from janitoo_protocol import ConnectError

    from .simulate import SimulatedNetwork

    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)-7s [%(name)s] %(message)s")  # fmt: skip
    net = SimulatedNetwork(controllers, nodes, values, host=host, port=port, prefix=prefix, first=first,
                           heartbeat=heartbeat, poll=poll)  # fmt: skip
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    try:
        net.start()
    except ConnectError as exc:
        _fail(str(exc))
    click.echo(f"simulating {controllers} controllers, {net.node_count} nodes on {host}:{port}; Ctrl+C to stop",
               err=True)  # fmt: skip
    try:
        while not done.wait(3600):
            pass
    finally:
        net.stop()


@main.command("fsm-graph")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write here (png/svg default: tutorial3-fsm.<format>; mermaid/text default: stdout).")  # fmt: skip
@click.option("--format", "fmt", type=click.Choice(["png", "svg", "mermaid", "text"]),
              help="png or svg need graphviz [default: png with graphviz, else mermaid].")  # fmt: skip
def fsm_graph(output: Path | None, fmt: str | None) -> None:
    """Draw the HelloWorld V3 (tutorial3) state machine.

    With graphviz (pip install 'janitoo[graph]', apt-get install graphviz) it renders a picture through the
    graph extension of `transitions`; without it, a mermaid stateDiagram (paste it into a Markdown
    file or mermaid.live) or a text table.

    \b
    Example:
      jnt-node fsm-graph --format mermaid
      jnt-node fsm-graph --format svg -o fsm.svg
    """
    from .apps import fsmgraph

    if output is not None and not output.parent.is_dir():
        _fail(f"cannot write {output}: folder {output.parent} does not exist")
    if fmt is None:
        fmt = fsmgraph.default_format()
        if fmt == "mermaid":
            click.echo("no graphviz binding installed (pip install 'janitoo[graph]' and apt-get install graphviz "
                       "for pictures): writing mermaid", err=True)  # fmt: skip
    if fmt in ("mermaid", "text"):
        text = fsmgraph.mermaid() if fmt == "mermaid" else fsmgraph.text()
        if output is None:
            click.echo(text, nl=False)
            return
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            _fail(f"cannot write {output}: {exc.strerror}")
        click.echo(f"wrote {output}", err=True)
        return
    target = output or Path(f"tutorial3-fsm.{fmt}")
    try:
        fsmgraph.draw(target, fmt)
    except fsmgraph.GraphUnavailable as exc:
        _fail(str(exc))
    except Exception as exc:  # graphviz reports a missing `dot` in many ways
        _fail(f"cannot draw {target}: {exc} (is the graphviz `dot` program installed?)")
    click.echo(f"wrote {target}", err=True)


@main.command()
@click.option("--port", type=click.IntRange(1, 65535), help="Broker port [default: a free one].")
@click.option("--scenario", type=click.Choice(["normal", "overheat"]), default="normal", show_default=True,
              help="overheat: wake up, heat two sensors above 50 °C, watch it ring, cool them down.")  # fmt: skip
@click.option("--duration", type=click.FloatRange(min=0, min_open=True),
              help="Stop after this many seconds [default: run until Ctrl+C].")  # fmt: skip
def demo(port: int | None, scenario: str, duration: float | None) -> None:
    """Run the HelloWorld V3 appliance on simulated hardware with its own local broker.

    Starts mosquitto (or the embedded amqtt broker when mosquitto is not installed) on a free loopback
    port, runs the tutorial3 appliance of examples/helloworldv3.conf on simulated sensors, prints the
    `jnt` commands to try against it, and stops cleanly on Ctrl+C.

    \b
    Example:
      jnt-node demo
      jnt-node demo --scenario overheat
    """
    import signal
    import threading

    from janitoo_protocol import ConnectError

    from .apps.demo import Demo
    from .broker import BrokerError
    from .config import ConfigError

    show = Demo(port, scenario, echo=lambda line: click.echo(line))
    previous = {}
    if threading.current_thread() is threading.main_thread():
        previous = {s: signal.signal(s, lambda *_: show.stop()) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        try:
            show.prepare()
            click.echo(show.banner())
            show.start()
        except (BrokerError, ConfigError, ConnectError) as exc:
            show.close()
            _fail(str(exc))
        show.wait(duration)
        click.echo("stopping: OFFLINE heartbeats, broker down", err=True)
    finally:
        show.close()
        for s, handler in previous.items():
            signal.signal(s, handler)


if __name__ == "__main__":
    main()
