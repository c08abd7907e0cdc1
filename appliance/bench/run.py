"""`appliance bench`: the pipeline with null output, timed per stage, as text and JSON.

Numbers from one run are compared with each other (ratios), never with fixed wall-clock
limits: the machines this runs on are shared and noisy.
"""

from __future__ import annotations

import os
import platform
import time
from typing import Any

import cv2
import numpy as np

from appliance import __version__, paths
from appliance.app.runner import build_pipeline, run_pipeline
from appliance.config import Settings
from appliance.config.schema import to_plain
from appliance.core.pipeline import PipelineOptions
from appliance.models.manifest import resolve_threads


def machine_info() -> dict[str, Any]:
    return {"machine": platform.machine(), "system": platform.platform(),
            "cpus": os.cpu_count(), "python": platform.python_version(),
            "numpy": np.__version__, "opencv": cv2.__version__, "appliance": __version__}


def sample_frames(count: int = 5) -> list[np.ndarray]:
    """Frames spread over the bundled clip: real pictures for timing the models."""
    clip = clip_frames(10_000)
    return [clip[int(i)] for i in np.linspace(0, len(clip) - 1, count)]


def clip_frames(count: int, start: int = 0, size: tuple[int, int] | None = None) -> list[np.ndarray]:
    """`count` consecutive frames of the bundled clip (people walking), optionally resized."""
    cap = cv2.VideoCapture(str(paths.SAMPLE_CLIP))
    cap.set(cv2.CAP_PROP_POS_FRAMES, start)
    frames = []
    while len(frames) < count:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame if size is None else cv2.resize(frame, size, interpolation=cv2.INTER_AREA))
    cap.release()
    return frames


def run_model_bench(settings: Settings, runs: int = 30) -> dict[str, Any]:
    from appliance.bench.models import bench_models
    from appliance.models.manifest import ModelStore
    store = ModelStore.from_settings(settings.models)
    return bench_models(store, sample_frames(), resolve_threads(settings.models.threads), runs)


def run_bench(settings: Settings, realtime: bool = False) -> dict[str, Any]:
    """Run `settings.run.frames` frames through the configured mode to a null output.

    By default capture waits for the display, so fps is the display loop's throughput and
    nothing is dropped; with `realtime` files are paced like a camera and drops are counted.
    """
    options = PipelineOptions(realtime=realtime, wait_for_display=not realtime,
                              max_frames=settings.run.frames)
    settings.source.loop = True  # a short clip must not end the measurement early
    pipeline = build_pipeline(settings, options, output_spec="null")
    summary = run_pipeline(pipeline)
    summary.display = {"source_interval_ms": round(1000.0 / pipeline.source.fps, 2)}
    return {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": machine_info(),
        "realtime": realtime,
        "source": to_plain(settings.source),
        "mode": settings.run.mode,
        "summary": summary.as_dict(),
        "summary_lines": summary.lines(),
    }
