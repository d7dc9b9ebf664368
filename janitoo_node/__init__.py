"""Janitoo node runtime: turns a Raspberry Pi's sensors and outputs into protocol nodes."""
