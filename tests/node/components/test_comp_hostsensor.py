"""hostsensor: load and uptime wire dicts equal the original's; picpu on sim, on a fake sysfs, and failing."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from janitoo_node.components.hostsensor import HostSensorBus, LoadComponent, PiCpuComponent
from janitoo_protocol import DiscoveryReply, DiscoveryRequest, Hadd, encode

from .conftest import ME, Rig

DATA = Path(__file__).parents[2] / "data" / "original"
CPU = "0222/0001"


def original_reply(kind: str) -> dict[str, Any]:
    for line in (DATA / "original-query-network.jsonl").read_text().splitlines():
        m = json.loads(line)
        if m["topic"].startswith("/broadcast/reply/"):
            payload = json.loads(m["payload"])
            if payload["uuid"] == kind and any(
                h.startswith("0121/") or h == "hostsensor" for h in payload["data"]
            ):
                return payload
    raise AssertionError(kind)


def our_reply(rig: Rig, kind: str) -> dict[str, Any]:
    before = len(rig.sent)
    rig.manager("hostsensor").handle(DiscoveryRequest(kind, ME))
    (reply,) = rig.sent[before:]
    assert isinstance(reply, DiscoveryReply)
    return dict(json.loads(encode(reply)[1]))


@pytest.fixture
def original_rig(tmp_path: Path) -> Rig:
    """The captured original hostsensor config, on a root whose /proc holds the captured readings."""
    root = tmp_path / "host"
    (root / "proc").mkdir(parents=True)
    (root / "proc/loadavg").write_text("0.111328125 0.19921875 0.1806640625 1/234 5678\n")
    (root / "proc/uptime").write_text("1503.59 2904.11\n")
    conf = tmp_path / "hostsensor.conf"
    conf.write_text((DATA / "original-hostsensor-node.conf").read_text())
    rig = Rig(conf, root).start()
    yield rig
    rig.stop()


def test_basics_reply_is_the_originals_byte_for_byte(original_rig: Rig) -> None:
    assert isinstance(original_rig.bus("hostsensor"), HostSensorBus)
    assert our_reply(original_rig, "request_info_basics") == original_reply("request_info_basics")


def test_nodes_reply_matches_the_original(original_rig: Rig) -> None:
    ours, theirs = our_reply(original_rig, "request_info_nodes"), original_reply("request_info_nodes")
    # Byte for byte but our extension key, which says the node honours `index` (the original ignores it).
    for node in ours["data"].values():
        assert node.pop("jnt_index") is True
    assert ours == theirs


def test_load_config_and_poll_companions_match_the_original(original_rig: Rig) -> None:
    ours = our_reply(original_rig, "request_info_configs")["data"]
    theirs = original_reply("request_info_configs")["data"]
    assert ours["0121/0001"]["load_config"] == theirs["0121/0001"]["load_config"]
    for hadd, uuid in (("0121/0001", "load_poll"), ("0121/0002", "uptime_poll")):
        # Same wire dict, including the original's habit of showing the master's default poll as the
        # companion's poll_delay next to the configured delay as its data.
        assert ours[hadd][uuid] == theirs[hadd][uuid]


def test_load_publication_is_indexed_with_the_instance_labels(original_rig: Rig) -> None:
    (pub,) = original_rig.published("0121/0001", "load")
    assert pub.indexed
    assert [v.label for v in pub.values] == ["Load (1 minutes)", "Load (5 minutes)", "Load (15 minutes)"]
    assert [v.poll_delay for v in pub.values] == [20, 20, 20]


def test_load_has_three_instances_by_default(rig_for: Callable[..., Rig]) -> None:
    rig = rig_for("""
[hostsensor]
hadd = 0121/0000
backend = sim
components.load = hostsensor.load
components.uptime = hostsensor.uptime

[hostsensor__load]
hadd = 0121/0001
sim_load = 0.5

[hostsensor__uptime]
hadd = 0121/0002
sim_uptime = 42.5
""")
    load = rig.component("hostsensor", "load")
    assert isinstance(load, LoadComponent)
    info = load.load.infos()
    assert [(v.index, v.label, v.data) for v in info] == [
        (0, "Load (1 minutes)", 0.5), (1, "Load (5 minutes)", 0.5), (2, "Load (15 minutes)", 0.5)]  # fmt: skip
    assert (info[0].genre, info[0].cmd_class, info[0].help, info[0].poll_delay) == (
        1,
        49,
        "The load average",
        60,
    )
    assert rig.last_data("0121/0002", "uptime") == 42.5
    uptime = rig.published("0121/0002", "uptime")[-1].values[0]
    assert (uptime.genre, uptime.help, uptime.poll_delay, uptime.label) == (
        1,
        "Uptime in seconds",
        300,
        "Uptime",
    )
    assert rig.state("0121/0001") == rig.state("0121/0002") == "ONLINE"


def test_load_and_uptime_read_the_real_host(rig_for: Callable[..., Rig]) -> None:
    rig = rig_for("""
[hostsensor]
hadd = 0121/0000
components.load = hostsensor.load
components.uptime = hostsensor.uptime

[hostsensor__load]
hadd = 0121/0001

[hostsensor__uptime]
hadd = 0121/0002
""", root=Path("/"))  # fmt: skip
    assert all(isinstance(rig.last_data("0121/0001", "load", i), float) for i in range(3))
    assert rig.last_data("0121/0002", "uptime") > 0


PICPU = """
[hostsensor]
hadd = 0222/0000
backend = {backend}
components.picpu = hostsensor.picpu

[hostsensor__picpu]
hadd = 0222/0001
{extra}
"""


def test_picpu_values_keep_the_original_names(rig_for: Callable[..., Rig]) -> None:
    rig = rig_for(PICPU.format(backend="sim", extra=""))
    node = rig.component("hostsensor", "picpu").node
    assert node is not None and node.name == "Raspberry pi CPU"
    v = {uuid: node.values[uuid].info() for uuid in ("temperature", "frequency", "voltage", "cpu_governor")}
    assert [(i.label, i.units, i.help, i.poll_delay) for i in v.values()] == [
        ("CPUTemp", "°C", "The temperature of the CPU", 300),
        ("CPUFreq", "MHz", "The frequency of the CPU", 300),
        ("CPUVolt", "V", "The voltage of the CPU", 300),
        ("governor", None, "Change the cpu governor", 300),
    ]
    assert (v["cpu_governor"].genre, v["cpu_governor"].type, v["cpu_governor"].cmd_class) == (2, 8, 1)
    assert [rig.last_data(CPU, u) for u in v] == [45.0, 1000.0, 1.2, "conservative"]
    assert rig.state(CPU) == "ONLINE"


def test_picpu_sim_governor_is_checked(rig_for: Callable[..., Rig]) -> None:
    rig = rig_for(PICPU.format(backend="sim", extra="sim_temperature = 45, 61.5"))
    assert "error" not in rig.reply(CPU, "cpu_governor", 2, 1, "performance").value.extra
    assert rig.reply(CPU, "cpu_governor", 2, 1, is_set=False).value.data == "performance"
    refused = rig.reply(CPU, "cpu_governor", 2, 1, "turbo; rm -rf /")
    assert "unknown CPU governor" in refused.value.extra["error"]
    assert rig.reply(CPU, "temperature", 2, 49, is_set=False).value.data == 61.5


def test_picpu_real_on_a_plain_linux_sysfs(rig_for: Callable[..., Rig], tmp_path: Path) -> None:
    root = tmp_path / "pc"
    (root / "sys/class/thermal/thermal_zone0").mkdir(parents=True)
    (root / "sys/class/thermal/thermal_zone0/temp").write_text("48312\n")
    cpufreq = root / "sys/devices/system/cpu/cpu0/cpufreq"
    cpufreq.mkdir(parents=True)
    (cpufreq / "scaling_cur_freq").write_text("1500000\n")
    (cpufreq / "scaling_available_governors").write_text("ondemand performance powersave\n")
    (cpufreq / "scaling_governor").write_text("ondemand\n")
    rig = rig_for(PICPU.format(backend="auto", extra=""), root=root)
    component = rig.component("hostsensor", "picpu")
    assert isinstance(component, PiCpuComponent) and component.cpu.backend == "real"
    assert rig.last_data(CPU, "temperature") == 48.312
    assert rig.last_data(CPU, "frequency") == 1500.0
    assert rig.last_data(CPU, "voltage") is None  # no such value off a Pi, and not a failure
    assert rig.last_data(CPU, "cpu_governor") == "ondemand"
    assert rig.state(CPU) == "ONLINE"
    rig.reply(CPU, "cpu_governor", 2, 1, "powersave")
    assert (cpufreq / "scaling_governor").read_text() == "powersave\n"


def test_picpu_without_any_source_is_failed(rig_for: Callable[..., Rig], tmp_path: Path) -> None:
    root = tmp_path / "bare"
    root.mkdir()
    rig = rig_for(PICPU.format(backend="real", extra=""), root=root)
    assert rig.last_data(CPU, "temperature") is None
    assert rig.state(CPU) == "FAILED"
    assert rig.state("0222/0000") == "ONLINE"
    assert Hadd.parse(CPU) in rig.manager("hostsensor").nodes
