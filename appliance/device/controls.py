"""Buttons and status LED joined to a running pipeline, as one pipeline observer."""

from __future__ import annotations

import logging
import subprocess
from typing import Any, Callable

from appliance.device.buttons import ButtonActions, ButtonPanel
from appliance.device.led import StatusLed

log = logging.getLogger(__name__)


def poweroff() -> None:
    """The safe shutdown a very long press asks for (the unit's user may run it via polkit)."""
    subprocess.run(["systemctl", "poweroff"], check=False)


class DeviceControls:
    """Maps button presses onto the pipeline and the pipeline's state onto the LED."""

    def __init__(self, pipeline: Any, settings: Any, pin_factory: Any = None,
                 shutdown: Callable[[], Any] = poweroff):
        self.pipeline = pipeline
        self.led = StatusLed(settings.led_pin, pin_factory) if settings.led_pin else None
        actions = ButtonActions(next_mode=lambda: pipeline.switch_mode(1),
                                previous_mode=lambda: pipeline.switch_mode(-1),
                                teach_pose=self._teach, shutdown=self._shutdown(shutdown))
        self.panel = ButtonPanel(settings, actions, pin_factory)

    def _teach(self) -> None:
        """Long press: the pose stage learns the pose the nearest visitor holds."""
        stage = next((w.analyzer for w in self.pipeline.workers if hasattr(w.analyzer, "teach")), None)
        if stage is None:
            log.warning("long press: teaching needs [poses] enabled = true; nothing was recorded")
            return
        stage.teach()
        self._teaching = stage

    _teaching = None

    def _shutdown(self, shutdown: Callable[[], Any]) -> Callable[[], None]:
        def run() -> None:
            log.warning("very long press: shutting down")
            self.pipeline.stop("shutdown button")
            shutdown()
        return run

    def frame_shown(self, pipeline: Any) -> None:
        if self.led:
            teaching = self._teaching is not None and self._teaching.teaching
            self.led.show("teaching" if teaching else "running")

    def stopped(self, pipeline: Any) -> None:
        """The pins are released with the pipeline, so a reloaded one can claim them again."""
        self.close()

    def close(self) -> None:
        self.panel.close()
        if self.led:
            self.led.close()


def attach_controls(pipeline: Any, settings: Any) -> DeviceControls | None:
    """Buttons and LED when enabled; on a machine without GPIO, one warning and none."""
    if not settings.enabled:
        return None
    try:
        controls = DeviceControls(pipeline, settings)
    except Exception as exc:  # gpiozero raises BadPinFactory and friends off a Pi
        log.warning("gpio: buttons and LED unavailable (%s: %s); running without them",
                    type(exc).__name__, exc)
        return None
    pipeline.observers.append(controls)
    return controls
