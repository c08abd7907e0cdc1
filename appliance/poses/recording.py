"""Record the pose stream as JSONL and read it back, to replay instead of running the model.

The format is exactly what `appliance pose SOURCE --json` prints, one line per frame:
{"frame": n, "t": seconds, "poses": [{"score", "box", "keypoints": [[x, y, score] x 17]}]},
so a stream captured on the Pi with that command, or with `PoseRecorder`, can drive the
tracker, rules and events on a laptop, in tests, or while tuning poses.toml, without a camera
or a model. Recordings are written through a temp file and renamed when complete, so a power
cut never leaves a half-written recording under the real name.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from appliance.atomic import atomic_path
from appliance.errors import ConfigError
from appliance.poses.keypoints import Pose


@dataclass(frozen=True)
class RecordedFrame:
    frame: int
    t: float
    poses: list[Pose]


def frame_line(frame: int, t: float, poses: list[Pose]) -> str:
    """One frame as the `appliance pose --json` line (without the newline)."""
    return json.dumps({"frame": frame, "t": round(t, 4), "poses": [p.to_json() for p in poses]})


def pose_of(record: dict) -> Pose:
    keypoints = np.array(record["keypoints"], dtype=np.float32).reshape(17, 3)
    x0, y0, x1, y1 = (float(v) for v in record["box"])
    return Pose(keypoints, (x0, y0, x1, y1), float(record["score"]))


def parse_line(line: str) -> RecordedFrame:
    record = json.loads(line)
    frame, t = int(record["frame"]), float(record["t"])
    if not math.isfinite(t):
        raise ValueError(f"t is {t}")
    return RecordedFrame(frame, t, [pose_of(p) for p in record["poses"]])


MAX_LINE = 1 << 20  # a frame of a few people is a few KiB; a longer line is not a pose frame
MAX_BYTES = 256 << 20


def read_recording(path: str | Path) -> Iterator[RecordedFrame]:
    """Frames of a recording in order; a bad line raises ConfigError naming file and line."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_BYTES:
            raise ConfigError([f"{path}: larger than {MAX_BYTES >> 20} MiB (expected a pose recording)"])
        handle = path.open("rb")
    except OSError as exc:
        raise ConfigError([f"{path}: cannot be read ({exc.strerror})"]) from None
    with handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                if len(raw) > MAX_LINE:
                    raise ValueError(f"a line of {len(raw)} bytes")
                yield parse_line(raw.decode("utf-8"))
            except (ValueError, KeyError, TypeError, OverflowError, RecursionError, AttributeError) as exc:
                text = str(exc).replace("\n", " ")[:200]
                raise ConfigError([f"{path}:{number}: not a pose frame ({type(exc).__name__}: {text}) "
                                   "(expected a line of `appliance pose --json`)"]) from None


class PoseRecorder:
    """Context manager: `write(frame, t, poses)` per frame; the file appears complete on exit."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._atomic = atomic_path(self.path)
        self._handle = None

    def __enter__(self) -> PoseRecorder:
        self._handle = self._atomic.__enter__().open("w", encoding="utf-8")
        return self

    def write(self, frame: int, t: float, poses: list[Pose]) -> None:
        self._handle.write(frame_line(frame, t, poses) + "\n")

    def __exit__(self, *exc_info) -> None:
        self._handle.close()
        self._atomic.__exit__(*exc_info)
