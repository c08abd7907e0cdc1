"""Boxes playing together over MQTT: reactions that switch every box, time-based effects in phase."""
