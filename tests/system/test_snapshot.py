"""`appliance snapshot` against a real `appliance service` child process painting the recorded
performance in the evening mode: the service saves what it has painted (SIGUSR1 to the PID it
records), the command prints the PNG's path; once the service is stopped, the canvas it kept
on the way out is what a snapshot saves."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import cv2

from appliance.paint import album
from conftest import run_cli
from test_poses_recording import record_performance

CONFIG = """
[source]
spec = "{show}"
width = 768
height = 576
[output]
spec = "null"
[run]
mode = "evening"
[logging]
stats_every_s = 0
"""


def wait_until(predicate, timeout: float = 30.0, proc=None, log=None) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert proc is None or proc.poll() is None, f"service died: {log.read_text()[-2000:]}"
        assert time.monotonic() < deadline, f"timed out; log: {log.read_text()[-2000:] if log else ''}"
        time.sleep(0.1)


def test_snapshot_asks_the_running_service_then_reads_what_it_kept(tmp_path):
    show, state, log = record_performance(tmp_path / "show.jsonl"), tmp_path / "state", tmp_path / "stderr.log"
    config = tmp_path / "appliance.toml"
    config.write_text(CONFIG.format(show=show))
    proc = subprocess.Popen([sys.executable, "-m", "appliance", "service", "--config", str(config),
                             "--state-dir", str(state)], stdout=subprocess.DEVNULL, stderr=open(log, "w"),
                            env=dict(os.environ, SDL_VIDEODRIVER="dummy"))
    try:
        wait_until(lambda: (state / "service.pid").is_file() and (state / "status.json").is_file(),
                   proc=proc, log=log)
        assert (state / "service.pid").read_text().strip() == str(proc.pid)
        time.sleep(3.0)  # ~30 recorded frames painted at their pace (the service paces files)
        done = run_cli("snapshot", "--state-dir", str(state))
        assert done.returncode == 0, done.stderr
        [line] = done.stdout.splitlines()
        assert album.saved_paintings(state) == [state / "paintings" / line.rsplit("/", 1)[1]]
        assert cv2.imread(line).shape == (576, 768, 3)
        assert "evening: painting saved to" in log.read_text()
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
    assert not (state / "service.pid").exists()
    assert album.read_canvas(album.canvas_path(state)) is not None  # kept on the way out
    again = run_cli("snapshot", "--state-dir", str(state))
    assert again.returncode == 0, again.stderr
    assert len(album.saved_paintings(state)) == 2 and cv2.imread(again.stdout.strip()) is not None
