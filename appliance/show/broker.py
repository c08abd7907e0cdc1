"""A private mosquitto on the loopback address, for the tests and the bench (never the box's own:
a box only connects out). Debian's `mosquitto` package; `MOSQUITTO` names another binary."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

CANDIDATES = ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto")


def mosquitto_path() -> str | None:
    """The broker binary, or None where it is not installed (callers skip with that reason)."""
    named = os.environ.get("MOSQUITTO") or shutil.which("mosquitto")
    return named or next((c for c in CANDIDATES if os.access(c, os.X_OK)), None)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Broker:
    """mosquitto on 127.0.0.1:`port` with a config of its own in `folder`; `passwords`
    (user -> password) turns anonymous access off. Stop and start it again on the same port."""

    def __init__(self, folder: Path | None = None, port: int = 0, passwords: dict[str, str] | None = None):
        binary = mosquitto_path()
        if binary is None:
            raise FileNotFoundError("mosquitto is not installed (Debian: apt install mosquitto)")
        self.binary = binary
        self._tmp = None if folder else tempfile.TemporaryDirectory(prefix="broker-")
        self.folder = Path(folder or self._tmp.name)
        self.port = port or free_port()
        self.log = self.folder / "mosquitto.log"
        self.config = self.folder / "mosquitto.conf"
        lines = [f"listener {self.port} 127.0.0.1", "persistence false"]
        if os.geteuid() == 0:  # as root mosquitto would become user mosquitto, who cannot read `folder`
            lines.append("user root")
        if passwords:
            lines += ["allow_anonymous false", f"password_file {self._password_file(passwords)}"]
        else:
            lines.append("allow_anonymous true")
        self.config.write_text("\n".join(lines) + "\n")
        self.process: subprocess.Popen | None = None

    def _password_file(self, passwords: dict[str, str]) -> Path:
        path = self.folder / "passwords"
        path.write_text("")
        for user, password in passwords.items():
            subprocess.run([shutil.which("mosquitto_passwd") or "mosquitto_passwd", "-b", str(path), user, password],
                           check=True, capture_output=True)
        path.chmod(0o600)
        return path

    def start(self, timeout: float = 10.0) -> "Broker":
        self.process = subprocess.Popen([self.binary, "-c", str(self.config)], stdout=subprocess.DEVNULL,
                                        stderr=open(self.log, "a"))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"mosquitto exited: {self.log.read_text()[-500:]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"mosquitto did not listen on {self.port} within {timeout} s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()  # as a crash or a power cut would: no goodbye to anyone
            self.process.wait(5)
        self.process = None

    def close(self) -> None:
        self.stop()
        if self._tmp is not None:
            self._tmp.cleanup()
