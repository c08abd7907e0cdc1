"""`appliance service`: the artwork as systemd runs it, which must never crash-loop.

Differences from `appliance run`, all for a box nobody watches:
- a config that is invalid at start is logged problem by problem (file and key) and the last
  good config (kept in the state directory) or the built-in defaults run instead;
- SIGHUP reloads the config in the same process: a bad new config is logged and the running
  one stays; a good one replaces the pipeline (camera and screen are reopened);
- `auto` output means the HDMI screen, and a file source loops.
"""

from __future__ import annotations

import logging
import signal
from pathlib import Path

from appliance import paths
from appliance.app.runner import build_pipeline, stop_on_signals
from appliance.app.status import StatusFile
from appliance.atomic import atomic_write_text
from appliance.config import Settings, dump_toml, load_config
from appliance.device.notify import Notifier
from appliance.errors import ConfigError

log = logging.getLogger(__name__)


class Service:
    def __init__(self, config: Path | None, state_dir: Path, notifier: Notifier | None = None):
        self.config = config
        self.state_dir = state_dir
        self.notifier = notifier or Notifier()
        self.reload_requested = False
        self.pipeline = None

    def load(self, current: Settings | None) -> Settings:
        """The config file if valid (saved as last good); else `current`, last good or defaults."""
        try:
            settings = load_config(self.config)
        except ConfigError as exc:
            for problem in exc.problems:
                log.error("config: %s", problem)
            return self._fallback(current)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.state_dir / paths.LAST_GOOD, dump_toml(settings))
        return settings

    def _fallback(self, current: Settings | None) -> Settings:
        if current is not None:
            log.error("config: keeping the config in force")
            return current
        last_good = self.state_dir / paths.LAST_GOOD
        try:
            settings = load_config(last_good)
            log.error("config: running with the last good config, %s", last_good)
            return settings
        except ConfigError as exc:
            log.error("config: no usable last good config (%s); running with the defaults",
                      exc.problems[0])
            return Settings()

    def run(self) -> int:
        settings = self.load(None)
        previous = signal.signal(signal.SIGHUP, self._on_sighup)
        try:
            while True:
                self.pipeline = build_pipeline(for_service(settings), notifier=self.notifier,
                                               state_dir=self.state_dir)
                self.pipeline.observers.append(StatusFile(self.state_dir))
                with stop_on_signals(self.pipeline):
                    summary = self.pipeline.run()
                for line in summary.lines():
                    log.info("%s", line)
                if not self.reload_requested:
                    return 0 if not summary.error else 3
                self.reload_requested = False
                self.notifier.send("RELOADING=1")
                self.notifier.ready_sent = False  # READY=1 again after the next first frame
                settings = self.load(settings)
        finally:
            signal.signal(signal.SIGHUP, previous)

    def _on_sighup(self, *_: object) -> None:
        log.info("SIGHUP: reloading %s", self.config)
        self.reload_requested = True
        if self.pipeline is not None:
            self.pipeline.stop("reload")


def for_service(settings: Settings) -> Settings:
    if settings.output.spec == "auto":
        settings.output.spec = "hdmi"
    settings.source.loop = True
    return settings
