"""Buttons and status LED joined to a running pipeline, as one pipeline observer."""

from __future__ import annotations

import logging
import subprocess
from typing import Any, Callable, Protocol

from appliance.device.buttons import ButtonActions, ButtonPanel
from appliance.device.led import StatusLed

log = logging.getLogger(__name__)


class Teacher(Protocol):
    """What a long press reaches: the pose stage that learns a visitor's pose."""

    def teach(self) -> bool: ...  # False: nothing can learn (no [poses] stage)

    @property
    def teaching(self) -> bool: ...


def poweroff() -> None:
    """The safe shutdown a very long press asks for (the unit's user may run it via polkit)."""
    subprocess.run(["systemctl", "poweroff"], check=False)


class DeviceControls:
    """Maps button presses onto the pipeline and the pipeline's state onto the LED."""

    def __init__(self, pipeline: Any, settings: Any, teacher: Teacher | None = None,
                 pin_factory: Any = None, shutdown: Callable[[], Any] = poweroff,
                 save_painting: Callable[[], Any] | None = None, pressed: Callable[[], Any] | None = None):
        """`save_painting`: what a long press of the previous button asks for; `pressed`: told
        of every press first (the opening hours' keep-awake). Both thread-safe: gpiozero calls
        them from its own thread."""
        self.pipeline = pipeline
        self.teacher = teacher
        self.led = StatusLed(settings.led_pin, pin_factory) if settings.led_pin else None
        self.pressed = pressed
        actions = ButtonActions(next_mode=self._told(lambda: pipeline.switch_mode(1)),
                                previous_mode=self._told(lambda: pipeline.switch_mode(-1)),
                                teach_pose=self._told(self._teach), shutdown=self._shutdown(shutdown),
                                save_painting=self._told(save_painting or self._cannot_save))
        self.panel = ButtonPanel(settings, actions, pin_factory)

    def _told(self, action: Callable[[], Any]) -> Callable[[], None]:
        def run() -> None:
            if self.pressed is not None:
                self.pressed()
            action()
        return run

    @staticmethod
    def _cannot_save() -> None:
        log.warning("long press on previous: no painting can be saved here")

    def _teach(self) -> None:
        """Long press: the pose stage learns the pose the nearest visitor holds."""
        if self.teacher is None or not self.teacher.teach():
            log.warning("long press: teaching needs [poses] enabled = true; nothing was recorded")

    def _shutdown(self, shutdown: Callable[[], Any]) -> Callable[[], None]:
        def run() -> None:
            log.warning("very long press: shutting down")
            self.pipeline.stop("shutdown button")
            shutdown()
        return run

    def frame_shown(self, pipeline: Any) -> None:
        if self.led:
            self.led.show(self.state(pipeline))

    def state(self, pipeline: Any) -> str:
        """error: the camera is lost or the mode cannot run (its card is on screen)."""
        mode = pipeline.mode
        if pipeline.capture.lost or (mode is not None and mode.error):
            return "error"
        if self.teacher is not None and self.teacher.teaching:
            return "teaching"
        return "running"

    def stopped(self, pipeline: Any) -> None:
        """The pins are released with the pipeline, so a reloaded one can claim them again."""
        self.close()

    def close(self) -> None:
        self.panel.close()
        if self.led:
            self.led.close()


def attach_controls(pipeline: Any, settings: Any, teacher: Teacher | None = None,
                    save_painting: Callable[[], Any] | None = None,
                    pressed: Callable[[], Any] | None = None) -> DeviceControls | None:
    """Buttons and LED when enabled; on a machine without GPIO, one warning and none."""
    if not settings.enabled:
        return None
    try:
        controls = DeviceControls(pipeline, settings, teacher, save_painting=save_painting, pressed=pressed)
    except Exception as exc:  # gpiozero raises BadPinFactory and friends off a Pi
        log.warning("gpio: buttons and LED unavailable (%s: %s); running without them",
                    type(exc).__name__, exc)
        return None
    pipeline.observers.append(controls)
    return controls
