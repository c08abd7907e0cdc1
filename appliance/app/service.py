"""`appliance service`: the artwork as systemd runs it, which must never crash-loop.

Differences from `appliance run`, all for a box nobody watches:
- a config that is invalid at start is logged problem by problem (file and key) and the last
  good config (kept in the state directory) or the built-in defaults run instead;
- SIGHUP reloads the config, as systemd's reload protocol has it: RELOADING=1 with
  MONOTONIC_USEC, the new config checked while the picture goes on, then READY=1. A bad or
  unchanged config changes nothing on the screen; a good new one replaces the pipeline (camera
  and screen are reopened). SIGHUPs that arrive while one is pending make one reload;
- SIGTERM and SIGINT at any moment (starting, reloading, switching modes) stop it with exit 0;
  the handlers are in place from the start of the process (`appliance.app.early`), so a signal
  during start-up is kept and acted on, never lost;
- SIGUSR1 saves the evening's painting (`appliance snapshot` sends it to the PID the service
  records in the state folder, `service.pid`, while it runs);
- `auto` output means the HDMI screen, and a file source loops;
- with `[schedule] enabled`, outside opening hours it sleeps (`appliance.schedule`): no
  pipeline, so no camera and no models, the screen in standby, the watchdog still fed.
"""

from __future__ import annotations

import copy
import datetime
import logging
import signal
import time
from pathlib import Path
from typing import Callable

from appliance import paths
from appliance.app.early import take_early_signals
from appliance.app.paintings import PaintingSaves, forget_pid, record_pid
from appliance.app.runner import build_pipeline
from appliance.app.status import StatusFile, write_asleep
from appliance.atomic import atomic_write_text, remove_stale_temp_files
from appliance.config import Settings, dump_toml, load_config, settings_equal
from appliance.device.controls import poweroff
from appliance.device.notify import Notifier
from appliance.errors import ApplianceError, ConfigError
from appliance.outputs import create_output
from appliance.schedule.screen import Cec, ScreenPower
from appliance.schedule.sleep import (
    BLACK_EVERY_S,
    POLL_S,
    STATUS_EVERY_S,
    ClosingTime,
    OpeningTimes,
    sleep_controls,
    sleep_osc,
    utc_now,
)

log = logging.getLogger(__name__)

STOP_SIGNALS = {signal.SIGTERM: "SIGTERM", signal.SIGINT: "SIGINT"}
HANDLED = (*STOP_SIGNALS, signal.SIGHUP, signal.SIGUSR1)


class Service:
    def __init__(self, config: Path | None, state_dir: Path, notifier: Notifier | None = None,
                 clock: Callable[[], datetime.datetime] = utc_now):
        """`clock`: aware datetimes for the opening hours (a test drives it through a week)."""
        self.config = config
        self.clock = clock
        self.times: OpeningTimes | None = None  # opening hours and keep-awake, once configured
        self.state_dir = state_dir
        self.notifier = notifier or Notifier()
        self.saves = PaintingSaves()  # one for every pipeline built: SIGUSR1 reaches the one shown
        self.reload_requested = False
        self.stop_requested = ""  # the name of the signal that asked
        self.pipeline = None
        self.settings: Settings | None = None
        self._next: Settings | None = None  # a checked new config the pipeline stopped for
        self._last_problems: list[str] = []  # of the last load that failed (none since a good one)
        self._problems_logged = False  # whether the last failed load logged them
        self.page = None  # the technician's page, when [web] enabled
        self._in_force: Path | None = config  # the config file loaded last

    def load(self) -> Settings | None:
        """The config file if valid (saved as last good); else None, logged problem by problem."""
        path = self.config_in_force()
        try:
            settings = load_config(path)
        except Exception as exc:  # whatever the file holds, the artwork keeps running
            problems = exc.problems if isinstance(exc, ConfigError) else [
                f"{path}: cannot be read ({type(exc).__name__}: {exc})"]
            self._problems_logged = problems != self._last_problems  # a burst of reloads: logged once
            if self._problems_logged:
                for problem in problems:
                    log.error("config: %s", problem)
            self._last_problems = problems
            return None
        self._last_problems = []
        try:
            self.state_dir.mkdir(parents=True, exist_ok=True)
            atomic_write_text(self.state_dir / paths.LAST_GOOD, dump_toml(settings))
        except (OSError, ValueError) as exc:
            log.error("config: cannot keep it as the last good config (%s)", exc)
        return settings

    def config_in_force(self) -> Path | None:
        """--config, or the copy edited on the technician's page when newer (logged when that
        changes; `appliance.config.files`)."""
        from appliance.config.files import config_in_force, describe
        path = config_in_force(self.config, self.state_dir)
        if path != self._in_force:
            log.info("config: in force: %s", describe(path, self.config))
            self._in_force = path
        return path

    def follow_page(self) -> None:
        """Start, restart or stop the technician's page as the settings in force say."""
        if self.settings.web.enabled or self.page is not None:
            from appliance.web.server import follow_page
            self.page = follow_page(self.page, self, self.settings.web)

    def first_settings(self) -> Settings:
        """The config file, else the last good config, else the defaults."""
        settings = self.load()
        if settings is not None:
            return settings
        last_good = self.state_dir / paths.LAST_GOOD
        try:
            settings = load_config(last_good)
            log.error("config: running with the last good config, %s", last_good)
            return settings
        except Exception as exc:
            problem = exc.problems[0] if isinstance(exc, ConfigError) else f"{type(exc).__name__}: {exc}"
            log.error("config: no usable last good config (%s); running with the defaults", problem)
            return Settings()

    def run(self) -> int:
        previous = {sig: signal.signal(sig, self._on_signal) for sig in HANDLED}
        for sig in take_early_signals():  # arrived while the program was still importing
            self._on_signal(sig)
        pid_file = record_pid(self.state_dir)  # after the SIGUSR1 handler: whoever finds it may signal
        try:
            return self._serve()
        finally:
            if self.page is not None:  # the page stops serving when the service stops
                self.page.close()
            forget_pid(pid_file)
            self.notifier.stopping()
            for sig in previous:  # not the start-up keepers: a signal during teardown must act
                # (but a snapshot's SIGUSR1 that meets the end must not end the process)
                signal.signal(sig, signal.SIG_IGN if sig == signal.SIGUSR1 else signal.SIG_DFL)

    def _serve(self) -> int:
        for folder in (self.state_dir, paths.paintings_dir(self.state_dir)):
            for path in remove_stale_temp_files(folder):
                log.info("removed %s, left by a write that was cut short", path)
        self.settings = self.first_settings()
        self.times = OpeningTimes(self.settings.schedule, self.clock)
        self.follow_page()
        in_force: Settings | None = None  # the settings of the last pipeline that was built
        while not self.stop_requested:
            if not self.times.should_run():
                self._sleep()
                continue
            try:
                self.pipeline = build_pipeline(for_service(self.settings), notifier=self.notifier,
                                               state_dir=self.state_dir, wait_for_source=True,
                                               saves=self.saves, awake=self.times.keep_awake)
            except ApplianceError as exc:  # checked, yet cannot be built now (a file gone since)
                if in_force is None or in_force is self.settings:
                    raise
                log.error("config: cannot start it (%s); going back to the config in force", exc)
                self.settings = in_force
                continue
            in_force = self.settings
            self.pipeline.observers += [StatusFile(self.state_dir), ReloadWhileShowing(self),
                                        ClosingTime(self.times)]
            if self.stop_requested:  # a signal while the pipeline was being built
                self.pipeline.stop(self.stop_requested)
            summary = self.pipeline.run()
            ended_by, self.pipeline = self.pipeline.ended_by, None  # its models and camera go with it
            for line in summary.lines():
                log.info("%s", line)
            if self.stop_requested:
                return 0
            if ended_by == "closing time":
                continue
            if self._next is None:
                return 0 if not summary.error else 3
            self._take(self._next)
            self.notifier.ready_sent = False  # READY=1 again after the new pipeline's first frame
        return 0

    def _take(self, settings: Settings) -> None:
        """Put a checked new config in force (the pipeline is built from it next)."""
        self.settings, self._next = settings, None
        self.times = self.times.replaced(settings.schedule)
        self.follow_page()

    def _sleep(self) -> None:
        """Closed: screen to sleep, buttons and OSC to wake, the watchdog fed, reloads taken,
        until opening time, a keep-awake, or a stop. The camera and models are not held."""
        schedule, gpio = self.settings.schedule, self.settings.gpio
        o = for_service(self.settings).output
        screen = ScreenPower(schedule.screen, Cec(schedule.cec_device),
                             lambda: create_output(o.spec, o.title, o.fit, o.rotation, o.corners))
        log.info("schedule: closed; asleep until %s", self.times.next_opening())
        screen.sleep()
        wakers = [sleep_controls(gpio, self._wake, self._shutdown_button),
                  sleep_osc(self.settings.poses.osc, self._wake)]
        try:
            self._sleep_loop(screen)
        finally:
            for waker in filter(None, wakers):
                waker.close()
            if not self.stop_requested:
                self.times.woke_at = time.monotonic()
                screen.wake()

    def _sleep_loop(self, screen: ScreenPower) -> None:
        last_black = time.monotonic()
        last_status = float("-inf")
        while not self.stop_requested and not self.times.should_run():
            self.notifier.frame_shown()  # READY=1 (a box started at night is up) and the watchdog
            if self.reload_requested:
                self.reload()
                last_status = float("-inf")  # the hours may have changed
            now = time.monotonic()
            if now - last_black >= BLACK_EVERY_S:
                screen.keep()
                last_black = now
            if now - last_status >= STATUS_EVERY_S:  # the next opening is looked for a year ahead:
                self._say_asleep(screen)                # not on every beat
                last_status = now
            time.sleep(POLL_S)

    def _say_asleep(self, screen: ScreenPower) -> None:
        """The sleep, told to systemd (STATUS=) and to `appliance doctor` (status.json)."""
        until = self.times.next_opening()
        self.notifier.status(f"asleep until {until}, screen {screen.state}")
        write_asleep(self.state_dir, until, screen.state)

    def _wake(self) -> None:
        """A button or OSC while asleep: the opening hours are overridden for keep_awake_s."""
        self.times.keep_awake()

    def _shutdown_button(self) -> None:
        log.warning("very long press: shutting down")
        self.stop_requested = self.stop_requested or "shutdown button"
        poweroff()

    def _on_signal(self, signum: int, *_: object) -> None:
        """Only flags and a stop request: the work happens in the display loop."""
        if signum == signal.SIGUSR1:
            self.saves.request()
            return
        if signum == signal.SIGHUP:
            if not self.reload_requested:
                log.info("SIGHUP: reloading %s", self.config)
            self.reload_requested = True
            return
        self.stop_requested = self.stop_requested or STOP_SIGNALS.get(signum, str(signum))
        if self.pipeline is not None:
            self.pipeline.stop(self.stop_requested)

    def reload(self) -> None:
        """Check the config file while the picture goes on; stop the pipeline only for a good
        config that differs from the one in force (it is rebuilt by `_serve`)."""
        self.reload_requested = False
        self.notifier.send(f"RELOADING=1\nMONOTONIC_USEC={time.monotonic_ns() // 1000}")
        settings = self.load()
        if settings is None:
            if self._problems_logged:
                log.error("config: keeping the config in force")
        elif self.settings is None or not settings_equal(settings, self.settings):
            if self.pipeline is None:  # asleep: in force at once (it may change the hours)
                self._take(settings)
            else:
                self._next = settings
                self.pipeline.stop("reload")
                return
        else:
            log.info("config: unchanged")
        self.notifier.send("READY=1")


class ReloadWhileShowing:
    """A pipeline observer: a reload asked for by SIGHUP is done in the display loop, between
    two frames (or two cards), where nothing else is going on."""

    def __init__(self, service: Service):
        self.service = service

    def frame_shown(self, pipeline) -> None:
        if self.service.reload_requested and not self.service.stop_requested:
            try:
                self.service.reload()
            except ApplianceError as exc:
                log.error("config: reload failed (%s); keeping the config in force", exc)

    def stopped(self, pipeline) -> None:
        pass


def for_service(settings: Settings) -> Settings:
    """A copy of `settings` as the service runs them (the config as written stays as it is, so
    a reload can tell whether it changed)."""
    settings = copy.deepcopy(settings)
    if settings.output.spec == "auto":
        settings.output.spec = "hdmi"
    settings.source.loop = True
    return settings
