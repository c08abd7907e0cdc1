"""Telling systemd how the appliance is: READY=1, WATCHDOG=1, STATUS=...

The unit is Type=notify with WatchdogSec: systemd restarts the appliance when the pings stop.
Pings come only from the display loop, after a frame really reached the screen, so a stalled
loop (a hung camera read, a deadlocked effect) stops them and gets the process restarted.

systemd-python's `systemd.daemon.notify` is used where installed (Debian: python3-systemd);
elsewhere the same datagram is sent by hand on $NOTIFY_SOCKET, which is all sd_notify does.
Outside systemd (no $NOTIFY_SOCKET) every call is a no-op.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from typing import Callable

log = logging.getLogger(__name__)


def _socket_sender(address: str) -> Callable[[str], bool]:
    """Send one sd_notify datagram to `address` (a path, or '@name' for the abstract namespace)."""
    target = "\0" + address[1:] if address.startswith("@") else address

    def send(message: str) -> bool:  # an OSError is the Notifier's to log (once)
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(target)
            sock.sendall(message.encode())
        return True
    return send


def _systemd_python_sender() -> Callable[[str], bool] | None:
    try:
        from systemd import daemon  # type: ignore[import-not-found]
    except ImportError:
        return None
    return lambda message: bool(daemon.notify(message))


class Notifier:
    """READY once, WATCHDOG at a third of the watchdog interval, STATUS when it changes."""

    def __init__(self, environ: dict[str, str] | None = None, prefer_systemd_python: bool = True,
                 clock: Callable[[], float] = time.monotonic):
        env = os.environ if environ is None else environ
        self.address = env.get("NOTIFY_SOCKET", "")
        self.clock = clock
        usec = env.get("WATCHDOG_USEC", "")
        pid = env.get("WATCHDOG_PID", "")
        watchdog_for_us = usec.isdigit() and (not pid or pid == str(os.getpid()))
        self.watchdog_interval = int(usec) / 1e6 / 3 if watchdog_for_us else None
        self._send = None
        self.backend = "none"
        if self.address:
            sender = _systemd_python_sender() if prefer_systemd_python else None
            self._send, self.backend = (sender, "systemd-python") if sender else (
                _socket_sender(self.address), "socket")
            log.info("sd_notify via %s to %s; watchdog ping every %s", self.backend, self.address,
                     f"{self.watchdog_interval:.1f} s" if self.watchdog_interval else "(off)")
        self.ready_sent = False
        self._send_failed = False
        self._last_ping = float("-inf")
        self._last_status = ""

    @property
    def enabled(self) -> bool:
        return self._send is not None

    def send(self, message: str) -> bool:
        """Send one notification; never raises (a signal may interrupt the send: it is sent
        again; a socket that went away is logged once, and the artwork goes on)."""
        if not self._send:
            return False
        for _ in range(3):
            try:
                return self._send(message)
            except InterruptedError:  # systemd-python does not retry a send a signal interrupted
                continue
            except OSError as exc:
                if not self._send_failed:
                    log.warning("sd_notify to %s failed (%s); going on without it", self.address, exc)
                self._send_failed = True
                return False
        return False

    def frame_shown(self) -> None:
        """Call from the display loop after each frame reached the output."""
        if not self._send:
            return
        if not self.ready_sent:
            self.ready_sent = self.send("READY=1")
        now = self.clock()
        if self.watchdog_interval and now - self._last_ping >= self.watchdog_interval:
            self.send("WATCHDOG=1")
            self._last_ping = now

    def status(self, text: str) -> None:
        if self._send and text != self._last_status:
            self.send(f"STATUS={text}")
            self._last_status = text

    def stopping(self) -> None:
        self.send("STOPPING=1")


class SystemdObserver:
    """Feeds the pipeline's progress to systemd: READY, watchdog pings, a STATUS line."""

    def __init__(self, notifier: Notifier, status_every_s: float = 5.0):
        self.notifier = notifier
        self.status_every_s = status_every_s
        self._last_status = float("-inf")

    def frame_shown(self, pipeline) -> None:
        self.notifier.frame_shown()
        now = self.notifier.clock()
        if now - self._last_status >= self.status_every_s:
            self._last_status = now
            self.notifier.status(f"mode {pipeline.mode_name}, {pipeline.recent_fps():.1f} fps, "
                                 f"{pipeline.frames_out} frames, dropped {pipeline.frames.dropped}")

    def stopped(self, pipeline) -> None:
        if pipeline.ended_by != "reload":  # a reload is RELOADING=1 then READY=1: the unit is not stopping
            self.notifier.stopping()
