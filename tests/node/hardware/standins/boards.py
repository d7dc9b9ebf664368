"""Fixture trees of real boards: what /proc, /sys, /dev and /etc look like on a Pi 3, 4, 5, CM5, Pi 500 and a PC.

Each detail is taken from the kernel or the firmware, not invented:

* ``/proc/device-tree/model`` and ``compatible``: NUL-terminated device-tree strings, board first and
  SoC last (arch/arm64/boot/dts/broadcom/bcm2712-rpi-5-b.dts: "raspberrypi,5-model-b", "brcm,bcm2712";
  bcm2712-rpi-cm5.dtsi: "raspberrypi,5-compute-module"; bcm2712-rpi-500.dts: "raspberrypi,500").
* GPIO chips (drivers/gpio/gpiolib.c, gpiolib-sysfs.c): ``/sys/bus/gpio/devices/gpiochipN`` links to the
  chip under its controller's platform device, whose ``of_node/compatible`` names the controller; the
  legacy ``gpio/gpiochip<base>`` directory holds ``base`` and ``ngpio``. Numbering per generation:
  kernel <= 6.5 on a Pi 3/4: header chip 0, sysfs base 0; 6.6+: sysfs bases from 512 (the rpi-6.6.y
  kernel stopped forcing base 0: raspberrypi/linux#6037); Pi 5 before 6.6.45: four brcmstb chips
  0-3 and the RP1 header chip on gpiochip4; later: RP1 on gpiochip0, brcmstb on 10-13 and a
  ``/dev/gpiochip4`` link kept for old code (raspberrypi/linux#6144).
* DHT (drivers/iio/humidity/dht11.c): the IIO device is named after its platform device, which the
  dht11 overlay names ``dht11@<gpiopin in hex>``; ``in_temp_input`` and ``in_humidityrelative_input``
  in milli-units.
* 1-wire (drivers/w1/slaves/w1_therm.c): ``/sys/bus/w1/devices/<id>/w1_slave``, two lines.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

GOOD_W1_SLAVE = "72 01 4b 46 7f ff 0e 10 57 : crc=57 YES\n72 01 4b 46 7f ff 0e 10 57 t=23125\n"


@dataclass(frozen=True)
class Chip:
    number: int
    compatible: str
    platform: str  # the controller's platform device name
    base: int  # the legacy sysfs base
    ngpio: int


@dataclass(frozen=True)
class BoardSpec:
    name: str
    model: str | None
    compatible: tuple[str, ...]
    kernel: str
    chips: tuple[Chip, ...] = ()
    dev_links: dict[str, str] = field(default_factory=dict)


_BCM2835 = "brcm,bcm2835-gpio"
_FIRMWARE = "raspberrypi,firmware-gpio"
_RP1 = "raspberrypi,rp1-gpio"
_BRCMSTB = "brcm,brcmstb-gpio"

BOARDS: dict[str, BoardSpec] = {
    # A Pi 3 B+ on a 6.1 kernel (Bookworm before March 2024): sysfs numbers from 0, RPi.GPIO edges work.
    "pi3-6.1": BoardSpec(
        "pi3-6.1",
        "Raspberry Pi 3 Model B Plus Rev 1.3",
        ("raspberrypi,3-model-b-plus", "brcm,bcm2837"),
        "6.1.21-v8+",
        (Chip(0, _BCM2835, "soc/3f200000.gpio", 0, 54), Chip(1, _FIRMWARE, "soc/firmware/gpio", 504, 8)),
    ),
    # The same Pi 3 on 6.6: sysfs numbers from 512, RPi.GPIO's edge detection fails.
    "pi3": BoardSpec(
        "pi3",
        "Raspberry Pi 3 Model B Plus Rev 1.3",
        ("raspberrypi,3-model-b-plus", "brcm,bcm2837"),
        "6.6.51+rpt-rpi-v8",
        (Chip(0, _BCM2835, "soc/3f200000.gpio", 512, 54), Chip(1, _FIRMWARE, "soc/firmware/gpio", 566, 8)),
    ),
    "pi4": BoardSpec(
        "pi4",
        "Raspberry Pi 4 Model B Rev 1.4",
        ("raspberrypi,4-model-b", "brcm,bcm2711"),
        "6.6.51+rpt-rpi-v8",
        (
            Chip(0, "brcm,bcm2711-gpio", "soc/fe200000.gpio", 512, 58),
            Chip(1, _FIRMWARE, "soc/firmware/gpio", 570, 8),
        ),
    ),
    # A Pi 5 on an early 6.6 kernel: the header is gpiochip4; gpiochip0 is a SoC chip (wrong to guess).
    "pi5-6.6.20": BoardSpec(
        "pi5-6.6.20",
        "Raspberry Pi 5 Model B Rev 1.0",
        ("raspberrypi,5-model-b", "brcm,bcm2712"),
        "6.6.20+rpt-rpi-2712",
        (
            Chip(0, _BRCMSTB, "soc/107d508500.gpio", 512, 32),
            Chip(1, _BRCMSTB, "soc/107d508500.gpio:1", 544, 4),
            Chip(2, _BRCMSTB, "soc/107d517c00.gpio", 548, 17),
            Chip(3, _BRCMSTB, "soc/107d517c00.gpio:1", 565, 6),
            Chip(4, _RP1, "axi/1000120000.pcie/1f000d0000.gpio", 571, 54),
        ),
    ),
    # A Pi 5 on a current kernel: RP1 on gpiochip0, the SoC chips on 10-13, /dev/gpiochip4 a link to 0.
    "pi5": BoardSpec(
        "pi5",
        "Raspberry Pi 5 Model B Rev 1.0",
        ("raspberrypi,5-model-b", "brcm,bcm2712"),
        "6.12.25+rpt-rpi-2712",
        (
            Chip(0, _RP1, "axi/1000120000.pcie/1f000d0000.gpio", 569, 54),
            Chip(10, _BRCMSTB, "soc/107d508500.gpio", 623, 32),
            Chip(11, _BRCMSTB, "soc/107d508500.gpio:1", 655, 4),
            Chip(12, _BRCMSTB, "soc/107d517c00.gpio", 659, 17),
            Chip(13, _BRCMSTB, "soc/107d517c00.gpio:1", 676, 6),
        ),
        {"gpiochip4": "gpiochip0"},
    ),
    # A numbering where gpiochip4 exists but is a SoC chip (the renumbering of raspberrypi/linux#6144):
    # the old "gpiochip4 when it exists" guess drives the wrong lines; only the compatible tells.
    "pi5-renumbered": BoardSpec(
        "pi5-renumbered",
        "Raspberry Pi 5 Model B Rev 1.0",
        ("raspberrypi,5-model-b", "brcm,bcm2712"),
        "6.6.31+rpt-rpi-2712",
        (
            Chip(0, _RP1, "axi/1000120000.pcie/1f000d0000.gpio", 569, 54),
            Chip(1, _BRCMSTB, "soc/107d508500.gpio", 623, 32),
            Chip(2, _BRCMSTB, "soc/107d508500.gpio:1", 655, 4),
            Chip(3, _BRCMSTB, "soc/107d517c00.gpio", 659, 17),
            Chip(4, _BRCMSTB, "soc/107d517c00.gpio:1", 676, 6),
        ),
    ),
    # Compute Module 5 and Pi 500: the same SoC, model strings without "Raspberry Pi 5".
    "cm5": BoardSpec(
        "cm5",
        "Raspberry Pi Compute Module 5 Rev 1.0",
        ("raspberrypi,5-compute-module", "brcm,bcm2712"),
        "6.12.25+rpt-rpi-2712",
        (Chip(0, _RP1, "axi/1000120000.pcie/1f000d0000.gpio", 569, 54),),
        {"gpiochip4": "gpiochip0"},
    ),
    "pi500": BoardSpec(
        "pi500",
        "Raspberry Pi 500 Rev 1.0",
        ("raspberrypi,500", "brcm,bcm2712"),
        "6.12.25+rpt-rpi-2712",
        (Chip(0, _RP1, "axi/1000120000.pcie/1f000d0000.gpio", 569, 54),),
        {"gpiochip4": "gpiochip0"},
    ),
    # An x86 PC: no device tree, no GPIO.
    "pc": BoardSpec("pc", None, (), "6.8.0-45-generic"),
}


def _dt_strings(*strings: str) -> bytes:
    return b"".join(s.encode() + b"\x00" for s in strings)


def build_board(
    root: Path,
    name: str,
    *,
    groups: dict[str, list[str]] | None = None,
    i2c_buses: tuple[int, ...] | None = None,
    w1: bool = False,
) -> Path:
    """Write board ``name``'s tree under ``root`` (created); return root.

    ``groups`` is /etc/group (group -> members; default: the Raspberry Pi OS groups with the user
    ``janitoo`` in none of them); ``i2c_buses`` the /dev/i2c-N nodes (default: 1 on a Pi);
    ``w1`` adds the 1-wire master directory the w1-gpio overlay creates.
    """
    spec = BOARDS[name]
    root.mkdir(parents=True, exist_ok=True)
    proc = root / "proc"
    (proc / "sys/kernel").mkdir(parents=True, exist_ok=True)
    (proc / "sys/kernel/osrelease").write_text(spec.kernel + "\n")
    dev = root / "dev"
    dev.mkdir(exist_ok=True)
    if spec.model is not None:
        (proc / "device-tree").mkdir(parents=True, exist_ok=True)
        (proc / "device-tree/model").write_bytes(_dt_strings(spec.model))
        (proc / "device-tree/compatible").write_bytes(_dt_strings(*spec.compatible))
    gpio_class = root / "sys/class/gpio"
    if spec.chips:
        gpio_class.mkdir(parents=True, exist_ok=True)
        (gpio_class / "export").write_text("")
        (gpio_class / "unexport").write_text("")
        (dev / "gpiomem").write_text("")
    bus = root / "sys/bus/gpio/devices"
    for chip in spec.chips:
        platform = root / "sys/devices/platform" / chip.platform
        (platform / "of_node").mkdir(parents=True, exist_ok=True)
        (platform / "of_node/compatible").write_bytes(_dt_strings(chip.compatible))
        chip_dir = platform / f"gpiochip{chip.number}"
        legacy = chip_dir / "gpio" / f"gpiochip{chip.base}"
        legacy.mkdir(parents=True)
        (legacy / "base").write_text(f"{chip.base}\n")
        (legacy / "ngpio").write_text(f"{chip.ngpio}\n")
        (legacy / "label").write_text(f"{chip.platform.rsplit('/', 1)[-1]}\n")
        bus.mkdir(parents=True, exist_ok=True)
        (bus / f"gpiochip{chip.number}").symlink_to(os.path.relpath(chip_dir, bus))
        (gpio_class / f"gpiochip{chip.base}").symlink_to(os.path.relpath(legacy, gpio_class))
        (dev / f"gpiochip{chip.number}").write_text("")
    for link, target in spec.dev_links.items():
        (dev / link).symlink_to(target)
    if spec.model is not None:
        (dev / "vchiq").write_text("")
        for bus_number in (1,) if i2c_buses is None else i2c_buses:
            (dev / f"i2c-{bus_number}").write_text("")
    elif i2c_buses:
        for bus_number in i2c_buses:
            (dev / f"i2c-{bus_number}").write_text("")
    for node in dev.iterdir():
        if not node.is_symlink():
            # udev (raspberrypi-sys-mods' rules) makes them root:gpio, root:i2c, root:video 0660.
            node.chmod(0o660)
    if w1:
        (root / "sys/bus/w1/devices/w1_bus_master1").mkdir(parents=True, exist_ok=True)
    etc = root / "etc"
    etc.mkdir(exist_ok=True)
    if groups is None:
        groups = {"gpio": [], "i2c": [], "spi": [], "video": []} if spec.model is not None else {"video": []}
    lines = ["root:x:0:", "janitoo:x:999:"]
    lines += [f"{group}:x:{990 - i}:{','.join(members)}" for i, (group, members) in enumerate(groups.items())]
    (etc / "group").write_text("\n".join(lines) + "\n")
    (etc / "passwd").write_text(
        "root:x:0:0:root:/root:/bin/bash\njanitoo:x:999:999::/var/lib/janitoo:/usr/sbin/nologin\n"
    )
    return root


def add_dht11(root: Path, index: int, pin: int, temp: str = "21000", humidity: str = "40000") -> Path:
    """The IIO device of ``dtoverlay=dht11,gpiopin=<pin>``: named ``dht11@<pin in hex>``."""
    device = root / "sys/bus/iio/devices" / f"iio:device{index}"
    device.mkdir(parents=True)
    (device / "name").write_text(f"dht11@{pin:x}\n")
    (device / "in_temp_input").write_text(temp + "\n")
    (device / "in_humidityrelative_input").write_text(humidity + "\n")
    return device


def add_ds18b20(root: Path, hexadd: str, text: str = GOOD_W1_SLAVE) -> Path:
    device = root / "sys/bus/w1/devices" / hexadd
    device.mkdir(parents=True, exist_ok=True)
    (device / "w1_slave").write_text(text)
    return device
