"""sd_notify against a real AF_UNIX datagram socket owned by the test, as systemd would hold it."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from appliance.config import EffectSettings, ModeSettings, Settings
from appliance.device.notify import Notifier, SystemdObserver
from appliance.core.registry import EFFECTS
from appliance.outputs.null import NullOutput
from appliance.core.pipeline import Pipeline, PipelineOptions
from appliance.sources.synthetic import SyntheticSource
from dataclasses import dataclass


def _systemd_python() -> bool:
    try:
        from systemd import daemon  # noqa: F401
        return True
    except ImportError:
        return False


BACKENDS = ["socket"] + (["systemd-python"] if _systemd_python() else [])


@pytest.fixture
def notify_socket(tmp_path, monkeypatch):
    path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(0.05)
    monkeypatch.setenv("NOTIFY_SOCKET", str(path))
    monkeypatch.setenv("WATCHDOG_USEC", "300000")  # ping every 0.1 s
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    received: list[tuple[float, str]] = []
    stop = threading.Event()

    def collect():
        while not stop.is_set():
            try:
                message = sock.recv(4096).decode()
            except socket.timeout:
                continue
            received.append((time.monotonic(), message))
    thread = threading.Thread(target=collect, daemon=True)
    thread.start()
    yield received
    stop.set()
    thread.join()
    sock.close()


class Gate:
    """An effect that blocks the display loop while its gate is shut: a stalled loop."""

    name = "gate"
    open_ = threading.Event()
    shut_after = 0
    shown = 0

    @dataclass
    class Params:
        pass

    def __init__(self, params):
        pass

    def stages(self, context):
        return []

    def process(self, image, meta):
        Gate.shown += 1
        if Gate.shown == Gate.shut_after:
            Gate.open_.wait(10)
        return image

    def close(self):
        pass


@pytest.mark.parametrize("backend", BACKENDS)
def test_ready_after_first_frame_then_pings_stop_while_the_loop_stalls(notify_socket, monkeypatch, backend):
    monkeypatch.setitem(EFFECTS, "gate", Gate)
    Gate.open_ = threading.Event()
    Gate.shown, Gate.shut_after = 0, 20
    modes = Settings().modes
    modes["gate"] = ModeSettings("", [EffectSettings("gate", Gate.Params())])
    notifier = Notifier(prefer_systemd_python=backend == "systemd-python")
    assert notifier.backend == backend
    pipeline = Pipeline(SyntheticSource(160, 120, 50), NullOutput(), modes, "gate",
                        options=PipelineOptions(realtime=True, max_frames=60),
                        observers=[SystemdObserver(notifier, status_every_s=0.2)])
    runner = threading.Thread(target=pipeline.run)
    started = time.monotonic()
    runner.start()
    while Gate.shown < Gate.shut_after:
        time.sleep(0.01)
    stalled_at = time.monotonic()
    time.sleep(1.0)  # the loop is stuck inside the effect for a second
    resumed_at = time.monotonic()
    Gate.open_.set()
    runner.join(10)
    deadline = time.monotonic() + 2  # the collector thread may still be reading the last datagram
    while not any(m == "STOPPING=1" for _, m in notify_socket) and time.monotonic() < deadline:
        time.sleep(0.01)
    messages = [m for _, m in notify_socket]
    timeline = [(round(t - stalled_at, 3), m[:20]) for t, m in notify_socket]  # for failures
    assert messages[0] == "READY=1", timeline
    assert messages[-1] == "STOPPING=1", timeline
    pings = [t for t, m in notify_socket if m == "WATCHDOG=1"]
    assert any(t < stalled_at for t in pings) and any(t > resumed_at for t in pings), timeline
    assert not [t for t in pings if stalled_at + 0.05 < t < resumed_at], ("pinged while stalled", timeline)
    before = [t for t in pings if t < stalled_at]
    assert len(before) <= (stalled_at - started) / 0.1 + 1, timeline  # one per WatchdogSec/3
    statuses = [m for m in messages if m.startswith("STATUS=")]
    assert statuses and statuses[0].startswith("STATUS=mode gate, "), timeline
    assert started < pings[0]


def test_no_socket_means_no_messages(monkeypatch):
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    notifier = Notifier()
    assert not notifier.enabled
    notifier.frame_shown()  # no error, nothing sent
    assert notifier.send("READY=1") is False


def test_abstract_socket_address(monkeypatch):
    name = f"appliance-test-{time.monotonic_ns()}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + name)
    sock.settimeout(2)
    try:
        notifier = Notifier({"NOTIFY_SOCKET": "@" + name}, prefer_systemd_python=False)
        notifier.frame_shown()
        assert sock.recv(100) == b"READY=1"
    finally:
        sock.close()


def test_watchdog_for_another_pid_is_ignored():
    notifier = Notifier({"NOTIFY_SOCKET": "/nonexistent", "WATCHDOG_USEC": "1000000",
                         "WATCHDOG_PID": "1"}, prefer_systemd_python=False)
    assert notifier.watchdog_interval is None


def test_pings_are_rate_limited_to_a_third_of_the_watchdog_interval(tmp_path):
    path = tmp_path / "n.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.setblocking(False)
    now = [100.0]
    notifier = Notifier({"NOTIFY_SOCKET": str(path), "WATCHDOG_USEC": "3000000"},
                        prefer_systemd_python=False, clock=lambda: now[0])
    for step in range(40):  # 40 frames at 10 fps = 4 s; pings due every 1 s
        notifier.frame_shown()
        now[0] += 0.1
    messages = []
    while True:
        try:
            messages.append(sock.recv(100).decode())
        except BlockingIOError:
            break
    sock.close()
    assert messages == ["READY=1"] + ["WATCHDOG=1"] * 4
