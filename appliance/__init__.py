"""appliance: a headless installation that paints gallery visitors in motion."""

__version__ = "0.1.0"
