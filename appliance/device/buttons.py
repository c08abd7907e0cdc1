"""Gallery staff's only controls: one or two push buttons on GPIO, read through gpiozero.

On the "next" button: a short press shows the next mode; a long press (held past
`long_press_s`) teaches the pose being held; a very long press (past `shutdown_press_s`)
shuts the box down safely, only when enabled. On the optional "previous" button a short
press goes back one mode and a long press saves the evening's painting. The press is judged
on release, by how long it lasted, so one press never fires two actions. `pin_factory` is the
seam: gpiozero's MockFactory in tests, lgpio on a Pi.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any, Callable

log = logging.getLogger(__name__)


@dataclass
class ButtonActions:
    next_mode: Callable[[], Any]
    previous_mode: Callable[[], Any]
    teach_pose: Callable[[], Any]
    shutdown: Callable[[], Any]
    save_painting: Callable[[], Any]


def classify_press(seconds: float, long_press_s: float, shutdown_press_s: float) -> str:
    """'short', 'long' or 'very_long' (0 for shutdown_press_s: very long presses are long)."""
    if shutdown_press_s and seconds >= shutdown_press_s:
        return "very_long"
    return "long" if seconds >= long_press_s else "short"


class ButtonPanel:
    def __init__(self, settings: Any, actions: ButtonActions, pin_factory: Any = None,
                 clock: Callable[[], float] = time.monotonic):
        from gpiozero import Button

        self.settings = settings
        self.actions = actions
        self.clock = clock
        self._pressed_at: dict[int, float] = {}
        self.buttons = []
        for pin, handler in ((settings.next_pin, self._next_released),
                             (settings.previous_pin, self._previous_released)):
            if pin:
                button = Button(pin, pull_up=True, bounce_time=settings.bounce_s or None,
                                pin_factory=pin_factory)
                button.when_pressed = lambda p=pin: self._pressed_at.__setitem__(p, self.clock())
                button.when_released = lambda p=pin, h=handler: h(self._duration(p))
                self.buttons.append(button)
        log.info("buttons: next on GPIO%s, previous on GPIO%s, shutdown press %s",
                 settings.next_pin, settings.previous_pin or "-",
                 f"{settings.shutdown_press_s:g} s" if settings.shutdown_press_s else "off")

    def _duration(self, pin: int) -> float:
        started = self._pressed_at.pop(pin, None)
        return 0.0 if started is None else self.clock() - started

    def _next_released(self, seconds: float) -> None:
        kind = classify_press(seconds, self.settings.long_press_s, self.settings.shutdown_press_s)
        log.info("next button: %s press (%.1f s)", kind, seconds)
        {"short": self.actions.next_mode, "long": self.actions.teach_pose,
         "very_long": self.actions.shutdown}[kind]()

    def _previous_released(self, seconds: float) -> None:
        kind = classify_press(seconds, self.settings.long_press_s, 0.0)
        log.info("previous button: %s press (%.1f s)", kind, seconds)
        {"short": self.actions.previous_mode, "long": self.actions.save_painting}[kind]()

    def close(self) -> None:
        for button in self.buttons:
            button.close()
        self.buttons = []
