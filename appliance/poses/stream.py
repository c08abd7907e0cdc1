"""Poses frame by frame from any SOURCE: a camera or clip run through the pose model, or a
recorded `.jsonl` pose stream replayed without any model (an artist rehearsing reactions on a
laptop, without a camera)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Iterator

from appliance.config import Settings
from appliance.errors import ConfigError
from appliance.poses.recording import RecordedFrame, read_recording


def is_recording(spec: str) -> bool:
    return spec.lower().endswith(".jsonl")


def pose_frames(spec: str, settings: Settings, model: str | None = None,
                limit: int = 0) -> Iterator[RecordedFrame]:
    """Every frame's poses, in source pixels, with the frame number and media time."""
    frames = _replay(spec) if is_recording(spec) else _estimate(spec, settings, model)
    for count, frame in enumerate(frames):
        if limit and count >= limit:
            return
        yield frame


def _replay(spec: str) -> Iterator[RecordedFrame]:
    if not Path(spec).is_file():
        raise ConfigError([f"SOURCE: no such recording {spec!r} (expected a .jsonl file)"])
    yield from read_recording(spec)


def _estimate(spec: str, settings: Settings, model: str | None) -> Iterator[RecordedFrame]:
    from appliance.analysis.pose import pose_estimator
    from appliance.core.stages import AnalysisContext
    from appliance.sources import create_source

    s = settings.source
    try:
        source = create_source(spec, width=s.width, height=s.height, fps=s.fps)
    except ValueError as exc:
        raise ConfigError([f"SOURCE: {exc}"]) from None
    if model:
        settings.models.pose = model
    estimator = pose_estimator(AnalysisContext(settings))  # exactly as the live pose stage looks
    source.open()
    started = time.monotonic()
    try:
        index = 0
        while (image := source.read()) is not None:
            t = time.monotonic() - started if source.live else index / source.fps
            yield RecordedFrame(index, round(t, 4), estimator.estimate(image))
            index += 1
    finally:
        source.close()
