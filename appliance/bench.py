"""`appliance bench`: the pipeline with null output, timed per stage, as text and JSON.

Numbers from one run are compared with each other (ratios), never with fixed wall-clock
limits: the machines this runs on are shared and noisy.
"""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path
from typing import Any, Callable

import cv2
import numpy as np

from appliance import __version__
from appliance.config import Settings
from appliance.models.manifest import resolve_threads
from appliance.pipeline import PipelineOptions
from appliance.runner import build_pipeline, run_pipeline
from appliance.settings_schema import to_plain


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
    from appliance.sources import SAMPLE_CLIP
    cap = cv2.VideoCapture(str(SAMPLE_CLIP))
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
    from appliance.bench_models import bench_models
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


def run_all(settings: Settings, config: Path | None, frames: int, soak_frames: int,
            say: Callable[[str], None] = print) -> dict[str, Any]:
    """Every budget of the performance issue from one run: every mode paced like a camera,
    the bare models, the pose stage against its bare invoke, the style budgets, and (each in a
    fresh process) peak memory with every model loaded, a long soak, and start-up."""
    from appliance.bench_memory import in_fresh_process
    from appliance.bench_models import bench_models, model_lines
    from appliance.bench_pose import pose_stage_bench, pose_stage_lines
    from appliance.bench_style import style_bench, style_lines
    from appliance.models.manifest import ModelStore

    runs = max(3, min(30, frames // 10))
    report: dict[str, Any] = {"when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                              "machine": machine_info(), "frames": frames,
                              "threads": resolve_threads(settings.models.threads),
                              "pose_model": settings.models.pose, "modes": {}}
    first_mode = settings.run.mode
    settings.run.frames = frames
    for name in settings.modes:
        settings.run.mode = name
        summary = run_bench(settings, realtime=True)["summary"]
        report["modes"][name] = summary
        say(f"mode {name}: {summary['fps']} fps, display interval p99 "
            f"{summary['stages'].get('display interval', {}).get('p99_ms', 0):.0f} ms, "
            f"{summary['stalls']} stalls, dropped {summary['dropped']}")
    settings.run.mode = first_mode
    report["models"] = bench_models(ModelStore.from_settings(settings.models), sample_frames(),
                                    resolve_threads(settings.models.threads), runs)
    for line in model_lines(report["models"]):
        say(line)
    report["pose_stage"] = pose_stage_bench(settings, clip_frames(60, 40), max(runs, 20))
    for line in pose_stage_lines(report["pose_stage"]):
        say(line)
    report["style"] = style_bench(settings, clip_frames(max(8, min(20, frames)), 40), runs=max(3, runs // 3))
    for line in style_lines(report["style"]):
        say(line)
    report["memory"] = {"all_models_loaded": in_fresh_process("loaded", config),
                        "all_models_loaded_low_memory": in_fresh_process("loaded", config, "--low-memory", "on"),
                        "soak": in_fresh_process("soak", config, "--frames", str(soak_frames))}
    report["startup"] = {mode: in_fresh_process("startup", config, "--mode", mode)
                         for mode in dict.fromkeys([first_mode, "kandinsky-people"]) if mode in settings.modes}
    for part, result in report["memory"].items():
        say(f"memory, {part}: {result.get('error') or str(result['peak_rss_mb']) + ' MB peak RSS'}")
    if "slope_mb_per_10k_frames" in report["memory"]["soak"]:
        say(f"memory, soak trend: {report['memory']['soak']['slope_mb_per_10k_frames']} MB per 10k frames")
    for mode, result in report["startup"].items():
        say(f"start-up to first frame, first mode {mode}: {result.get('startup_s', result.get('error'))} s")
    return report
