"""What the technician's page shows, read from the running service without disturbing it.

Everything here runs on the page's own thread (or an executor beside it), never on the display
loop: the loop only keeps a reference to the last picture it showed (`Pipeline.last_shown`),
and the page reads it, shrinks it and encodes it as JPEG at most `[web] preview_fps` times a
second, and only while a page asks for it.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from appliance import paths
from appliance.config.files import config_in_force, describe
from appliance.errors import ConfigError

STATS_EVERY_S = 1.0
DOCTOR_EVERY_S = 30.0


class Preview:
    """The newest shown picture as a small JPEG, encoded at most `fps` times a second, shared
    by every page that asks."""

    def __init__(self, fps: float, width: int):
        self.every_s = 1.0 / fps
        self.width = width
        self._lock = threading.Lock()
        self._jpeg: bytes | None = None
        self._at = -1e9
        self.encoded = 0

    def jpeg(self, picture: Any) -> bytes | None:
        """A JPEG of `picture` (None: nothing shown), re-encoded only when the last encoding
        is older than 1/fps: any number of pages cost one encoding per 1/fps."""
        if picture is None:
            return None
        with self._lock:
            now = time.monotonic()
            if self._jpeg is None or now - self._at >= self.every_s:
                self._jpeg, self._at = self._encode(picture), now
                self.encoded += 1
            return self._jpeg

    def _encode(self, picture: Any) -> bytes | None:
        import cv2
        h, w = picture.shape[:2]
        if w > self.width:
            size = (self.width, max(1, round(h * self.width / w)))
            picture = cv2.resize(picture, size, interpolation=cv2.INTER_AREA)
        ok, data = cv2.imencode(".jpg", picture, [cv2.IMWRITE_JPEG_QUALITY, 80])
        return data.tobytes() if ok else None


class PageState:
    """The service seen from the page: `service` has `pipeline` (None while asleep or
    between two pipelines), `settings`, `config`, `state_dir` and `reload_requested`."""

    def __init__(self, service: Any, fps: float, width: int):
        self.service = service
        self.preview = Preview(fps, width)
        self._stats: tuple[float, dict[str, Any]] = (-1e9, {})
        self._doctor: tuple[float, list[str]] = (-1e9, [])
        self._doctor_lock = threading.Lock()

    def picture(self) -> bytes | None:
        pipeline = self.service.pipeline
        return self.preview.jpeg(getattr(pipeline, "last_shown", None) if pipeline else None)

    def status(self) -> dict[str, Any]:
        """Mode, modes and the stats line (recomputed at most once a second)."""
        at, cached = self._stats
        if time.monotonic() - at < STATS_EVERY_S:
            return cached
        pipeline = self.service.pipeline
        if pipeline is None:
            status = {"running": False, "mode": None, "modes": [],
                      "stats": "asleep: no picture is being made (outside opening hours, or "
                               "between two configs)"}
        else:
            summary = pipeline._summary()
            status = {"running": True, "mode": pipeline.mode_name, "modes": list(pipeline.modes),
                      "stats": summary.lines()[1]}
        self._stats = (time.monotonic(), status)
        return status

    def switch_mode(self, name: str) -> str | None:
        """Ask the pipeline for mode `name`; a problem line if that cannot be."""
        pipeline = self.service.pipeline
        if pipeline is None:
            return "the artwork is asleep: no mode to switch"
        if name not in pipeline.modes:
            return "unknown mode"
        pipeline.apply_action(f"mode:{name}")
        self._stats = (-1e9, {})
        return None

    def config_path(self) -> Path | None:
        return config_in_force(self.service.config, Path(self.service.state_dir))

    def config_text(self) -> tuple[str, str]:
        """(the text of the config file in force, which file that is)."""
        path = self.config_path()
        where = describe(path, self.service.config)
        if path is None:
            from appliance.config import Settings, dump_toml
            return dump_toml(Settings()), where
        try:
            return path.read_text(encoding="utf-8"), where
        except (OSError, UnicodeDecodeError) as exc:
            return "", f"{where}: cannot be read ({exc})"

    def taught_poses(self) -> list[str]:
        """Each taught pose with its number of examples."""
        from appliance.poses.teach import PoseExamples
        settings = self.service.settings
        path = paths.taught_poses(settings.poses.examples if settings else "", self.service.state_dir)
        if not path.exists():
            return []
        try:
            examples = PoseExamples.load(path).examples
        except ConfigError as exc:
            return [exc.problems[0]]
        return [f"{name} ({len(features)} examples)" for name, features in sorted(examples.items())]

    def doctor(self) -> list[str]:
        """`appliance doctor`'s lines for the config in force (kept DOCTOR_EVERY_S seconds;
        blocking: call it in an executor). Models are checked by their files' sha256, not
        loaded a second time beside the running artwork."""
        with self._doctor_lock:
            at, lines = self._doctor
            if time.monotonic() - at < DOCTOR_EVERY_S:
                return lines
            from appliance.app.doctor import run_doctor
            findings = run_doctor(self.service.config, state_dir=Path(self.service.state_dir),
                                  load_models=False)
            lines = [f.line() for f in findings]
            self._doctor = (time.monotonic(), lines)
            return lines
