"""The technician's page in the real service: off by default (no TCP port listens), on without a
password (one error line, the artwork runs on), on with one (its port listens, and stops
listening when the service stops)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from appliance.web.passwords import store_password

CONFIG = """[source]
spec = "synthetic"
width = 160
height = 120
fps = 20
[output]
spec = "null"
[logging]
stats_every_s = 0
"""


def listening_tcp_ports(pid: int) -> set[int]:
    """The TCP ports process `pid` listens on (its socket inodes in /proc/net/tcp*)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # LISTEN
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def start(tmp_path, web: str, password: bool):
    state = tmp_path / "state"
    if password:
        store_password(state, "correct horse")
    config = tmp_path / "appliance.toml"
    config.write_text(CONFIG + web)
    log = tmp_path / "service.log"
    env = {k: v for k, v in os.environ.items() if k not in ("NOTIFY_SOCKET", "JOURNAL_STREAM")}
    proc = subprocess.Popen([sys.executable, "-m", "appliance", "service", "--config", str(config),
                             "--state-dir", str(state)], stdout=subprocess.DEVNULL, stderr=open(log, "w"), env=env)
    deadline = time.monotonic() + 30
    while not (state / "status.json").exists() and time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()
        time.sleep(0.1)
    time.sleep(0.5)
    return proc, log


def stop(proc) -> None:
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(10) == 0


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux /proc")
def test_off_by_default_nothing_listens(tmp_path):
    proc, log = start(tmp_path, "", password=True)
    try:
        assert listening_tcp_ports(proc.pid) == set()
    finally:
        stop(proc)
    assert "technician's page" not in log.read_text()


def test_on_without_a_password_is_one_error_line_and_the_artwork_runs_on(tmp_path):
    proc, log = start(tmp_path, '[web]\nenabled = true\nhost = "127.0.0.1"\nport = 1\n', password=False)
    try:
        assert proc.poll() is None
    finally:
        stop(proc)
    lines = [line for line in log.read_text().splitlines() if "technician's page" in line]
    assert len(lines) == 1 and "run `appliance password`" in lines[0] and "ERROR" in lines[0]


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux /proc")
def test_on_its_port_listens_until_the_service_stops(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc, _ = start(tmp_path, f'[web]\nenabled = true\nhost = "127.0.0.1"\nport = {port}\n', password=True)
    try:
        assert listening_tcp_ports(proc.pid) == {port}
    finally:
        stop(proc)
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", port)) != 0
