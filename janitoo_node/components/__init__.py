"""The hardware buses and components of the original Raspberry packages, on the hardware layer's backends.

One module per bus kind: `gpio` (rpigpio), `onewire` (rpi1wire), `dht` (rpibasic), `hostsensor` and
`i2c` (rpii2c). Each registers through the `janitoo.threads` / `janitoo.components` entry points.
"""
