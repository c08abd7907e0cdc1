"""Frame sources: where pictures come from.

A source has a tiny interface (`open`, `read` -> BGR image or None at the end, `close`) plus
`fps` (its nominal rate), `live` (True when the device sets the pace, as a camera does) and
`description`. Specs, as written in config or after `--source`:

    auto        the Pi camera when picamera2 finds one, else the bundled sample clip
    picamera2   the Raspberry Pi camera (libcamera), imported only when chosen
    camera:N    USB/V4L2 camera N through OpenCV
    sample      the bundled clip of people walking (appliance/data/sample)
    synthetic   generated frames, no files or devices
    PATH        a video file, or an image file (one frame; repeats with loop), or a recorded
                pose stream (.jsonl): dark frames whose poses replay instead of the model
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from appliance import paths
from appliance.errors import SourceError
from appliance.sources.base import Captured, Source

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff"}
KEYWORDS = ("auto", "picamera2", "sample", "synthetic")


@dataclass(frozen=True)
class SourceSpec:
    kind: str  # auto | picamera2 | camera | sample | synthetic | image | video | recording
    device: int = 0
    path: Path | None = None


def parse_source_spec(spec: str) -> SourceSpec:
    """Parse a source spec; raise ValueError with a one-line reason when it cannot be used."""
    if spec in KEYWORDS:
        return SourceSpec(spec)
    if spec.startswith("camera:"):
        number = spec.partition(":")[2]
        if not number.isdigit():
            raise ValueError(f"camera number {number!r} is not a number (expected camera:0, camera:1, ...)")
        return SourceSpec("camera", device=int(number))
    path = paths.expanded(spec)
    suffix = path.suffix.lower()
    if not paths.is_file(path):
        raise ValueError(f"no such file {spec[:80]!r} (expected auto, picamera2, camera:N, sample, "
                         "synthetic or the path of a video or image file)")
    kind = "recording" if suffix == ".jsonl" else "image" if suffix in IMAGE_SUFFIXES else "video"
    return SourceSpec(kind, path=path)



def create_source(spec: str, *, width: int = 640, height: int = 480, fps: float = 30.0,
                  loop: bool = False) -> Source:
    """Build the source a spec names (not yet opened)."""
    parsed = parse_source_spec(spec)
    if parsed.kind == "auto":
        parsed = _resolve_auto()
    if parsed.kind == "picamera2":
        from appliance.sources.picamera2 import Picamera2Source
        return Picamera2Source(width, height, fps)
    if parsed.kind == "camera":
        from appliance.sources.video import CameraSource
        return CameraSource(parsed.device, width, height, fps)
    if parsed.kind == "synthetic":
        from appliance.sources.synthetic import SyntheticSource
        return SyntheticSource(width, height, fps)
    if parsed.kind == "recording":
        from appliance.sources.recording import PoseRecordingSource
        return PoseRecordingSource(parsed.path, width, height, loop)
    if parsed.kind == "image":
        from appliance.sources.image import ImageSource
        return ImageSource(parsed.path, fps, loop)
    from appliance.sources.video import VideoFileSource
    path = paths.SAMPLE_CLIP if parsed.kind == "sample" else parsed.path
    return VideoFileSource(path, loop)


def _resolve_auto() -> SourceSpec:
    from appliance.sources.picamera2 import picamera2_available
    found, reason = picamera2_available()
    if found:
        log.info("source auto: using the Pi camera")
        return SourceSpec("picamera2")
    log.info("source auto: no Pi camera (%s); playing the bundled sample clip", reason)
    return SourceSpec("sample")


__all__ = ["Captured", "Source", "SourceError", "SourceSpec", "create_source", "parse_source_spec"]
