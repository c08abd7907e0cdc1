"""Output specs as written in config or after `--output`, checked without opening anything."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from appliance import paths

VIDEO_SUFFIXES = {".mp4": "mp4v", ".avi": "MJPG"}
STILL_SUFFIXES = {".png", ".jpg", ".jpeg"}
KEYWORDS = ("auto", "window", "hdmi", "null")


@dataclass(frozen=True)
class OutputSpec:
    kind: str  # auto | window | hdmi | null | video | still
    path: Path | None = None


def parse_output_spec(spec: str) -> OutputSpec:
    """Parse an output spec; raise ValueError with a one-line reason when it cannot be used."""
    if spec in KEYWORDS:
        return OutputSpec(spec)
    if not spec.startswith("file:") or not spec[5:]:
        raise ValueError(f"unknown output {spec!r} (expected auto, window, hdmi, null or file:PATH)")
    path = Path(spec[5:]).expanduser()
    suffix = path.suffix.lower()
    if suffix in VIDEO_SUFFIXES:
        kind = "video"
    elif suffix in STILL_SUFFIXES:
        kind = "still"
    else:
        known = ", ".join([*VIDEO_SUFFIXES, *STILL_SUFFIXES])
        raise ValueError(f"cannot write {path.name[:80]!r} (expected a file ending in {known})")
    if not paths.is_dir(path.parent):
        raise ValueError(f"folder {str(path.parent)[:200]!r} does not exist")
    return OutputSpec(kind, path)
