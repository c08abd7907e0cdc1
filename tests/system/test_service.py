"""`appliance service` as systemd runs it: a real child process, a test-owned notify socket,
config edits and SIGHUP, bad configs that must never take the artwork down."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import pytest

GOOD = """
[source]
spec = "synthetic"
width = 160
height = 120
fps = 20
[output]
spec = "null"
[run]
mode = "{mode}"
[logging]
stats_every_s = 0
"""


class Journal:
    """The notify socket and the stderr of a service child process."""

    def __init__(self, tmp_path, config, state_dir, extra_env=None):
        self.path = tmp_path / "notify.sock"
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(self.path))
        self.sock.settimeout(0.2)
        self.log = tmp_path / "stderr.log"
        env = dict(os.environ, NOTIFY_SOCKET=str(self.path), JOURNAL_STREAM="8:1234",
                   WATCHDOG_USEC="3000000", **(extra_env or {}))
        env.pop("WATCHDOG_PID", None)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "appliance", "service", "--config", str(config),
             "--state-dir", str(state_dir)], stdout=subprocess.DEVNULL,
            stderr=open(self.log, "w"), env=env)
        self.messages: list[str] = []

    def wait_for(self, predicate, timeout=20.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                message = self.sock.recv(4096).decode()
            except socket.timeout:
                assert self.proc.poll() is None, f"service died: {self.log.read_text()[-2000:]}"
                continue
            self.messages.append(message)
            if predicate(message):
                return message
        pytest.fail(f"timed out; got {self.messages[-10:]}; log: {self.log.read_text()[-1500:]}")

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(10)
        self.sock.close()
        return code


def test_reload_on_sighup_keeps_running_through_a_bad_config(tmp_path):
    config = tmp_path / "appliance.toml"
    config.write_text(GOOD.format(mode="passthrough"))
    service = Journal(tmp_path, config, tmp_path / "state")
    try:
        service.wait_for(lambda m: m == "READY=1")
        service.wait_for(lambda m: m.startswith("STATUS=mode passthrough"))
        assert (tmp_path / "state" / "last-good.toml").is_file()

        config.write_text(GOOD.format(mode="mirror") + "\n[source]\nfsp = 3\n")  # a typo
        service.proc.send_signal(signal.SIGHUP)
        reloading = service.wait_for(lambda m: m.startswith("RELOADING=1"))
        assert reloading.split("\n")[1].startswith("MONOTONIC_USEC=")  # systemd's reload protocol
        service.wait_for(lambda m: m == "READY=1")
        service.wait_for(lambda m: m.startswith("STATUS=mode passthrough"))  # old config stays

        config.write_text(GOOD.format(mode="mirror"))
        service.proc.send_signal(signal.SIGHUP)
        service.wait_for(lambda m: m.startswith("STATUS=mode mirror"))
    finally:
        assert service.stop() == 0
    log = service.log.read_text()
    assert f"<3>appliance.app.service: config: {config}: " in log  # an error-level journal line ...
    assert "unknown section" in log or "source" in log          # ... naming file and key


def test_invalid_config_at_start_runs_the_last_good_one(tmp_path):
    state = tmp_path / "state"
    config = tmp_path / "appliance.toml"
    config.write_text(GOOD.format(mode="mirror"))
    first = Journal(tmp_path, config, state)
    first.wait_for(lambda m: m.startswith("STATUS=mode mirror"))
    assert first.stop() == 0

    config.write_text(GOOD.format(mode="mirror").replace("fps = 20", "fps = -20"))
    (tmp_path / "notify.sock").unlink()
    second = Journal(tmp_path, config, state)
    try:
        second.wait_for(lambda m: m.startswith("STATUS=mode mirror"))
    finally:
        assert second.stop() == 0
    log = second.log.read_text()
    assert f"config: {config}: source.fps: -20 is out of range" in log
    assert "running with the last good config" in log


def test_no_good_config_ever_runs_the_defaults(tmp_path):
    config = tmp_path / "appliance.toml"
    config.write_text("this is not toml [")
    service = Journal(tmp_path, config, tmp_path / "state",
                      extra_env={"SDL_VIDEODRIVER": "dummy"})
    try:
        service.wait_for(lambda m: m == "READY=1")  # defaults: sample clip, hdmi or no screen
    finally:
        assert service.stop() == 0
    assert "running with the defaults" in service.log.read_text()


def test_a_broken_config_on_reload_leaves_the_picture_alone_and_reloads_coalesce(tmp_path):
    """Fifty SIGHUPs with a broken config: no pipeline is torn down (no run ends), the unit
    is never told it is stopping, and the frame count keeps climbing."""
    config = tmp_path / "appliance.toml"
    config.write_text(GOOD.format(mode="mirror"))
    service = Journal(tmp_path, config, tmp_path / "state")
    try:
        service.wait_for(lambda m: m.startswith("STATUS=mode mirror"))
        config.write_text(GOOD.format(mode="mirror") + "\n[source]\nfsp = 3\n")
        for _ in range(50):
            service.proc.send_signal(signal.SIGHUP)
            time.sleep(0.01)
        service.wait_for(lambda m: m == "READY=1")
        frames = [int(m.split(", ")[2].split()[0]) for m in service.messages if m.startswith("STATUS=")]
        service.wait_for(lambda m: m.startswith("STATUS=") and int(m.split(", ")[2].split()[0]) > frames[-1] + 20)
    finally:
        assert service.stop() == 0
    log = service.log.read_text()
    assert "ended by reload" not in log
    assert log.count("keeping the config in force") == 1 and log.count("Cannot declare") == 1  # said once
    assert not any(m.startswith("STOPPING=1") for m in service.messages[:-1])


@pytest.mark.parametrize("delay", [0.0, 0.05, 0.3])
def test_sigterm_during_a_reload_stops_the_service_with_exit_0(tmp_path, delay):
    config = tmp_path / "appliance.toml"
    config.write_text(GOOD.format(mode="passthrough"))
    service = Journal(tmp_path, config, tmp_path / "state")
    service.wait_for(lambda m: m == "READY=1")
    config.write_text(GOOD.format(mode="mirror"))  # a good new config: the pipeline is rebuilt
    service.proc.send_signal(signal.SIGHUP)
    time.sleep(delay)
    started = time.monotonic()
    service.proc.send_signal(signal.SIGTERM)
    code = service.proc.wait(10)
    assert code == 0 and time.monotonic() - started < 2.0, service.log.read_text()[-1500:]
    service.sock.close()


def caught_while_importing(pid: int, sig: int) -> None:
    """Wait (bounded) until the process catches `sig` (/proc's SigCgt mask): the entry point
    installs the handlers within ~30 ms, long before the ~0.3 s of imports end. The process
    has not been given a signal before that: an interpreter that has not started cannot catch."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        status = open(f"/proc/{pid}/status").read()
        mask = int(next(line.split()[1] for line in status.splitlines() if line.startswith("SigCgt:")), 16)
        if mask & (1 << (sig - 1)):
            return
        time.sleep(0.002)
    pytest.fail("the handler never came")


@pytest.mark.parametrize("sig", [signal.SIGHUP, signal.SIGTERM])
def test_a_signal_during_start_up_is_kept_not_fatal(tmp_path, sig):
    """SIGHUP 0.1 s after start used to end the process (its handler came after the imports);
    now it is kept and acted on: a reload (it keeps running), or a stop with exit 0."""
    config = tmp_path / "appliance.toml"
    config.write_text(GOOD.format(mode="passthrough"))
    service = Journal(tmp_path, config, tmp_path / "state")
    caught_while_importing(service.proc.pid, sig)
    service.proc.send_signal(sig)
    if sig == signal.SIGTERM:
        assert service.proc.wait(10) == 0
        service.sock.close()
        return
    try:
        service.wait_for(lambda m: m.startswith("STATUS=mode passthrough"))
    finally:
        assert service.stop() == 0
    assert "SIGHUP: reloading" in service.log.read_text()


def test_a_video_that_cannot_be_played_yet_is_waited_for_with_a_card(tmp_path):
    """A rehearsal video still being copied (there, but not a video yet): a card (READY=1, the
    watchdog flowing) until it can be played, then the video, with no restart."""
    import shutil
    from appliance.paths import SAMPLE_CLIP
    video = tmp_path / "rehearsal.mp4"
    video.write_bytes(b"")
    config = tmp_path / "appliance.toml"
    config.write_text(GOOD.format(mode="passthrough").replace('spec = "synthetic"', f'spec = "{video}"'))
    service = Journal(tmp_path, config, tmp_path / "state")
    try:
        service.wait_for(lambda m: m == "READY=1")
        service.wait_for(lambda m: m == "WATCHDOG=1")
        assert service.proc.poll() is None
        shutil.copy(SAMPLE_CLIP, video)
        service.wait_for(lambda m: m.startswith("STATUS=") and int(m.split(", ")[2].split()[0]) > 10)
    finally:
        assert service.stop() == 0
    assert "reconnecting" in service.log.read_text()


def test_a_state_folder_that_cannot_be_written_does_not_stop_the_service(tmp_path):
    """As on a full or read-only disk: the last good config and the status file cannot be
    written (here the state folder's path runs through a file, which even root cannot write
    into); that is logged, and the artwork goes on: READY, STATUS, a clean stop."""
    config = tmp_path / "appliance.toml"
    config.write_text(GOOD.format(mode="mirror"))
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    service = Journal(tmp_path, config, blocker / "state")
    try:
        service.wait_for(lambda m: m == "READY=1")
        service.wait_for(lambda m: m.startswith("STATUS=mode mirror"))
    finally:
        assert service.stop() == 0
    assert "cannot keep it as the last good config" in service.log.read_text()


def test_a_reload_of_an_unchanged_config_leaves_the_picture_alone(tmp_path):
    config = tmp_path / "appliance.toml"
    config.write_text(GOOD.format(mode="mirror"))
    service = Journal(tmp_path, config, tmp_path / "state")
    try:
        service.wait_for(lambda m: m.startswith("STATUS=mode mirror"))
        service.proc.send_signal(signal.SIGHUP)
        service.wait_for(lambda m: m.startswith("RELOADING=1"))
        service.wait_for(lambda m: m == "READY=1")
    finally:
        assert service.stop() == 0
    log = service.log.read_text()
    assert "config: unchanged" in log and "ended by reload" not in log
