"""A status LED that tells an installer the state from across the room.

booting: fast even blink; running: steady on; teaching: slow even blink; error: one short
flash a second; sleeping (closed hours): one short blip every three seconds. Blinking runs in
gpiozero's background thread; `pin_factory` is the seam.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)

# state -> (on_s, off_s) of one blink cycle; None means steady on
PATTERNS: dict[str, tuple[float, float] | None] = {
    "booting": (0.1, 0.1),
    "running": None,
    "teaching": (0.5, 0.5),
    "error": (0.1, 0.9),
    "sleeping": (0.05, 2.95),
}


class StatusLed:
    def __init__(self, pin: int, pin_factory: Any = None):
        from gpiozero import LED

        self.led = LED(pin, pin_factory=pin_factory)
        self.state = ""
        self.show("booting")

    def show(self, state: str) -> None:
        if state == self.state:
            return
        self.state = state
        pattern = PATTERNS[state]
        if pattern is None:
            self.led.on()
        else:
            self.led.blink(on_time=pattern[0], off_time=pattern[1], background=True)
        log.debug("status LED: %s", state)

    def close(self) -> None:
        self.led.close()
