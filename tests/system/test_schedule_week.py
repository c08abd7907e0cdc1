"""A week of opening hours, driven by a fake clock through the real service in this process.

The service runs on the main thread (as under systemd: signals, the display loop), with a
video file standing in for the camera, the real pose model, gpiozero's MockFactory for the
button and LED, a fake `cec-ctl` on PATH that records its calls, a real UDP socket for OSC
and a test-owned notify socket for the watchdog. At every transition the test looks at what a
gallery would care about: is the camera file open, is a model mapped into memory, what was the
screen told, what does the LED do; and it checks that the watchdog pings never stopped.
"""

from __future__ import annotations

import datetime as dt
import gc
import os
import shutil
import signal
import socket
import sys
import threading
import time
from zoneinfo import ZoneInfo

import pytest

gpiozero = pytest.importorskip("gpiozero")
from gpiozero.pins.mock import MockFactory  # noqa: E402
from pythonosc.udp_client import SimpleUDPClient  # noqa: E402

from appliance import paths  # noqa: E402
from appliance.app.service import Service  # noqa: E402
from appliance.device.notify import Notifier  # noqa: E402

BERLIN = ZoneInfo("Europe/Berlin")
WATCHDOG_S = 3.0  # WATCHDOG_USEC as the unit would give it (pings at a third)
NEXT_PIN, LED_PIN = 17, 27

CONFIG = """
[source]
spec = "{clip}"
width = 320
height = 240
[output]
spec = "null"
[run]
mode = "skeleton"
[logging]
stats_every_s = 0
[gpio]
enabled = true
next_pin = {next_pin}
led_pin = {led_pin}
bounce_s = 0.0
[poses.osc]
listen_port = {osc_port}
[schedule]
enabled = true
timezone = "Europe/Berlin"
closed = ["2026-12-03"]
keep_awake_s = 3600
[schedule.hours]
mon = ""
tue = "10:00-18:00"
wed = "10:00-18:00"
thu = "10:00-18:00"
fri = "10:00-18:00"
sat = "10:00-13:00, 14:00-20:00"
sun = "10:00-18:00"
"""


class FakeClock:
    def __init__(self, start: dt.datetime):
        self.now = start
        self.lock = threading.Lock()

    def __call__(self) -> dt.datetime:
        with self.lock:
            return self.now

    def set(self, moment: dt.datetime) -> None:
        with self.lock:
            self.now = moment


class Watchdog:
    """The notify socket: every message with the real time it came."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.settimeout(0.1)
        self.pings: list[float] = []
        self.messages: list[str] = []
        self.running = True
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        while self.running:
            try:
                message = self.sock.recv(4096).decode()
            except socket.timeout:
                continue
            self.messages.append(message)
            if message == "WATCHDOG=1":
                self.pings.append(time.monotonic())

    def close(self) -> None:
        self.running = False
        self.thread.join(2)
        self.sock.close()


def fake_cec_ctl(tmp_path):
    """A `cec-ctl` that appends its arguments to a log, as the real one takes them."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "cec.log"
    script = bin_dir / "cec-ctl"
    script.write_text(f'#!/bin/sh\necho "$*" >> {log}\n')
    script.chmod(0o755)
    return bin_dir, log


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def camera_open(clip) -> bool:
    """The camera stand-in is open in this process (a file descriptor on it)."""
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}") == str(clip):
                return True
        except OSError:
            continue
    return False


def models_mapped() -> list[str]:
    """The .tflite files mapped into this process (a loaded model is mapped)."""
    gc.collect()  # the last pipeline's objects, once unreferenced, let go of their models
    with open("/proc/self/maps") as maps:
        return sorted({line.split()[-1] for line in maps if line.rstrip().endswith(".tflite")})


def wait(predicate, timeout=30.0, what="") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """A moment in the week of Monday 2026-11-30, Berlin time."""
    return dt.datetime(2026, 11, 30, hour, minute, tzinfo=BERLIN) + dt.timedelta(days=day)


@pytest.fixture
def pins():
    previous = gpiozero.Device.pin_factory
    factory = MockFactory()
    gpiozero.Device.pin_factory = factory
    yield factory
    factory.reset()
    gpiozero.Device.pin_factory = previous


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc/self")
def test_a_week_of_opening_hours(tmp_path, monkeypatch, pins):
    clip = tmp_path / "camera.mp4"
    shutil.copy(paths.SAMPLE_CLIP, clip)
    bin_dir, cec_log = fake_cec_ctl(tmp_path)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    osc_port = free_udp_port()
    config = tmp_path / "appliance.toml"
    config.write_text(CONFIG.format(clip=clip, next_pin=NEXT_PIN, led_pin=LED_PIN, osc_port=osc_port))
    watchdog = Watchdog(tmp_path / "notify.sock")
    notifier = Notifier(environ={"NOTIFY_SOCKET": str(tmp_path / "notify.sock"),
                                 "WATCHDOG_USEC": str(int(WATCHDOG_S * 1e6))}, prefer_systemd_python=False)
    clock = FakeClock(at(0, 9))
    service = Service(config, tmp_path / "state", notifier, clock=clock)
    seen: list[tuple[str, dict]] = []
    errors: list[BaseException] = []

    def cec_calls() -> list[str]:
        return cec_log.read_text().splitlines() if cec_log.exists() else []

    def observe(label: str, awake: bool) -> None:
        """Wait for the service to settle in the expected state, then note what it holds."""
        if awake:
            wait(lambda: service.pipeline is not None and service.pipeline.frames_out > 0,
                 what=f"{label}: the artwork on screen")
        else:
            wait(lambda: service.pipeline is None and service.times is not None
                 and not service.times.should_run(), what=f"{label}: asleep")
        time.sleep(0.3)  # the LED follows the first frame shown, or the sleeping loop's start
        led = pins.pin(LED_PIN)
        samples = []
        for _ in range(10):  # the LED over 0.3 s: steady on, or off but for a short blip
            samples.append(led.state)
            time.sleep(0.03)
        seen.append((label, awake, {"camera": camera_open(clip), "models": models_mapped(),
                                    "cec": cec_calls()[-1] if cec_calls() else "", "led_on": sum(samples)}))

    def drive() -> None:
        try:
            observe("Mon 09:00 (closed day)", awake=False)
            clock.set(at(0, 10))
            time.sleep(1.0)  # opening time on a closed day: nothing happens
            observe("Mon 10:00 (closed day)", awake=False)
            clock.set(at(0, 12))
            pins.pin(NEXT_PIN).drive_low()
            pins.pin(NEXT_PIN).drive_high()  # a short press: kept awake for an hour
            observe("Mon 12:00 button", awake=True)
            clock.set(at(0, 12, 50))
            time.sleep(1.0)
            observe("Mon 12:50 still kept awake", awake=True)
            clock.set(at(0, 13, 1))
            observe("Mon 13:01 keep-awake over", awake=False)
            clock.set(at(0, 15))
            SimpleUDPClient("127.0.0.1", osc_port).send_message("/awake", [])
            observe("Mon 15:00 OSC /awake", awake=True)
            clock.set(at(0, 16, 1))
            observe("Mon 16:01 keep-awake over", awake=False)
            for day, name in ((1, "Tue"), (2, "Wed")):
                clock.set(at(day, 10))
                observe(f"{name} 10:00 opening", awake=True)
                clock.set(at(day, 18))
                observe(f"{name} 18:00 closing", awake=False)
            clock.set(at(3, 10))
            time.sleep(1.0)
            observe("Thu 10:00 (a closed date)", awake=False)
            clock.set(at(4, 10))
            observe("Fri 10:00 opening", awake=True)
            clock.set(at(4, 18))
            observe("Fri 18:00 closing", awake=False)
            for hour, awake in ((10, True), (13, False), (14, True), (20, False)):
                clock.set(at(5, hour))
                observe(f"Sat {hour}:00", awake=awake)
            clock.set(at(6, 10))
            observe("Sun 10:00 opening", awake=True)
            clock.set(at(6, 18))
            observe("Sun 18:00 closing", awake=False)
            clock.set(at(7, 10))
            time.sleep(1.0)
            observe("next Mon 10:00 (closed day)", awake=False)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            service._on_signal(signal.SIGTERM)

    driver = threading.Thread(target=drive, daemon=True)
    driver.start()
    started = time.monotonic()
    try:
        code = service.run()
        ended = time.monotonic()
    finally:
        driver.join(10)
        watchdog.close()
    assert not errors, errors[0]
    assert code == 0

    for label, awake, state in seen:
        assert state["camera"] is awake, (label, state)  # nobody is filmed while the building is shut
        if awake:
            assert any("movenet_multipose" in m for m in state["models"]), (label, state)
            assert state["cec"] == "-d /dev/cec0 --to 0 --image-view-on", (label, state)
            assert state["led_on"] == 10, (label, state)  # running: steady on
        else:
            assert state["models"] == [], (label, state)  # unloaded while closed
            assert state["cec"] == "-d /dev/cec0 --to 0 --standby", (label, state)
            assert state["led_on"] <= 3, (label, state)  # sleeping: a 0.05 s blip every 3 s
    # each standby and wake-up once per transition, after claiming a playback address
    calls = cec_log.read_text().splitlines()
    assert calls.count("-d /dev/cec0 --to 0 --standby") == 9
    assert calls.count("-d /dev/cec0 --to 0 --image-view-on") == 8
    assert calls.count("-d /dev/cec0 --playback") == 17
    # the watchdog was fed all week, asleep, waking and closing alike
    gaps = [b - a for a, b in zip(watchdog.pings, watchdog.pings[1:])]
    assert max(gaps) < WATCHDOG_S, max(gaps)
    assert watchdog.pings[0] - started < WATCHDOG_S and ended - watchdog.pings[-1] < WATCHDOG_S
    assert "READY=1" in watchdog.messages
