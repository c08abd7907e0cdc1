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

from appliance import __version__
from appliance.config import Settings
from appliance.pipeline import PipelineOptions
from appliance.runner import build_pipeline, run_pipeline
from appliance.settings_schema import to_plain


def machine_info() -> dict[str, Any]:
    return {"machine": platform.machine(), "system": platform.platform(),
            "cpus": os.cpu_count(), "python": platform.python_version(),
            "numpy": np.__version__, "opencv": cv2.__version__, "appliance": __version__}


def sample_frames(count: int = 5) -> list[np.ndarray]:
    """Frames spread over the bundled clip: real pictures for timing the models."""
    from appliance.sources import SAMPLE_CLIP
    cap = cv2.VideoCapture(str(SAMPLE_CLIP))
    total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) or 150
    frames = []
    for index in np.linspace(0, total - 1, count).astype(int):
        cap.set(cv2.CAP_PROP_POS_FRAMES, int(index))
        ok, frame = cap.read()
        if ok:
            frames.append(frame)
    cap.release()
    return frames


def run_model_bench(settings: Settings, runs: int = 30) -> dict[str, Any]:
    from appliance.bench_models import bench_models
    from appliance.inference.manifest import ModelStore
    store = ModelStore.from_settings(settings.models)
    return bench_models(store, sample_frames(), settings.models.threads, runs)


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
    return {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": machine_info(),
        "realtime": realtime,
        "source": to_plain(settings.source),
        "mode": settings.run.mode,
        "summary": summary.as_dict(),
        "summary_lines": summary.lines(),
    }
