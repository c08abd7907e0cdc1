"""The box between closing and opening: asleep, yet alive to systemd and to the staff.

While the gallery is closed the service holds no pipeline: the camera is closed (nobody is
filmed while the building is shut), the models are unloaded, the screen is in standby (or
black), the status LED gives one short blip every three seconds, and the watchdog is still
fed. A press of either button, or OSC `/awake`, wakes it for `keep_awake_s` (rehearsals,
cleaning); so does every press while it runs, so the staff working late are not put out.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import Any, Callable

from appliance.schedule.hours import OpeningHours, describe

log = logging.getLogger(__name__)

CHECK_EVERY_S = 0.5  # how often a running pipeline asks whether it is closing time
POLL_S = 0.2  # the sleeping loop's beat (signals, reloads, wake-ups are seen this fast)
BLACK_EVERY_S = 5.0
STATUS_EVERY_S = 5.0


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class OpeningTimes:
    """Whether the artwork should run now: the opening hours, or kept awake by the staff.

    `clock` gives aware datetimes (the seam a test drives through a week). `keep_awake` is
    thread-safe: buttons and OSC call it from their own threads."""

    def __init__(self, schedule: Any, clock: Callable[[], dt.datetime] = utc_now):
        self.clock = clock
        self.keep_awake_s = schedule.keep_awake_s
        self.hours = OpeningHours.from_settings(schedule) if schedule.enabled else None
        self.awake_until: dt.datetime | None = None
        self.woke_at = 0.0  # monotonic: when the last sleep ended (for the start-up figure)

    def replaced(self, schedule: Any) -> "OpeningTimes":
        """For a reloaded config; a keep-awake in force stays in force."""
        times = OpeningTimes(schedule, self.clock)
        times.awake_until = self.awake_until
        return times

    def keep_awake(self) -> None:
        if self.hours is None:
            return
        until = self.clock() + dt.timedelta(seconds=self.keep_awake_s)
        if self.awake_until is None or self.awake_until < self.clock():
            log.info("schedule: kept awake until %s", describe(until.astimezone(self.hours.zone)))
        self.awake_until = until

    def should_run(self) -> bool:
        if self.hours is None:
            return True
        now = self.clock()
        return self.hours.is_open(now) or (self.awake_until is not None and now < self.awake_until)

    def next_opening(self) -> str:
        if self.hours is None:
            return "now"
        now = self.clock()
        change = self.hours.next_change(now) if not self.hours.is_open(now) else now
        return describe(change)


class ClosingTime:
    """A pipeline observer: at closing time (and no keep-awake) the pipeline stops, and the
    service goes to sleep. It also logs how long the first frame took after a wake-up."""

    def __init__(self, times: OpeningTimes):
        self.times = times
        self._last_check = 0.0
        self._first_frame = True

    def frame_shown(self, pipeline: Any) -> None:
        now = time.monotonic()
        if self._first_frame and self.times.woke_at and pipeline.frames_out:
            log.info("schedule: awake, the artwork on screen %.2f s after waking", now - self.times.woke_at)
            self._first_frame = False
        if now - self._last_check >= CHECK_EVERY_S:
            self._last_check = now
            if not self.times.should_run():
                log.info("schedule: closing time; asleep until %s", self.times.next_opening())
                pipeline.stop("closing time")

    def stopped(self, pipeline: Any) -> None:
        pass


class SleepControls:
    """The buttons and LED while asleep: any press wakes the box; the LED says "sleeping"."""

    def __init__(self, gpio: Any, wake: Callable[[], None], shutdown: Callable[[], None],
                 pin_factory: Any = None):
        from appliance.device.buttons import ButtonActions, ButtonPanel
        from appliance.device.led import StatusLed
        self.led = StatusLed(gpio.led_pin, pin_factory) if gpio.led_pin else None
        if self.led:
            self.led.show("sleeping")
        actions = ButtonActions(next_mode=wake, previous_mode=wake, teach_pose=wake,
                                shutdown=shutdown, save_painting=wake)
        self.panel = ButtonPanel(gpio, actions, pin_factory)

    def close(self) -> None:
        self.panel.close()
        if self.led:
            self.led.close()


def sleep_controls(gpio: Any, wake: Callable[[], None], shutdown: Callable[[], None]) -> SleepControls | None:
    if not gpio.enabled:
        return None
    try:
        return SleepControls(gpio, wake, shutdown)
    except Exception as exc:  # gpiozero off a Pi
        log.warning("gpio: buttons and LED unavailable while asleep (%s: %s)", type(exc).__name__, exc)
        return None


def sleep_osc(osc: Any, wake: Callable[[], None]):
    """OSC `/awake` while asleep, when [poses.osc] listen_port is set (None if it cannot bind)."""
    if not osc.listen_port:
        return None
    from appliance.poses.osc import OscListener
    try:
        return OscListener(osc.listen_host, osc.listen_port, {"/awake": wake})
    except OSError as exc:
        log.error("OSC: cannot listen on %s:%d while asleep (%s)", osc.listen_host, osc.listen_port, exc)
        return None
