"""Stand-in for the RPi package (RPi.GPIO 0.7.1)."""
