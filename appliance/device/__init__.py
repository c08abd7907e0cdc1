"""The device side: systemd supervision, buttons and LED, screens without a desktop."""
