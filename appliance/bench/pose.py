"""The pose stage against its own model's bare invoke, and what it allocates per frame.

The stage is the live one (`PoseStage.analyze`: letterbox, invoke, decode, track, smooth,
rules). Right after each stage run the same interpreter is invoked again on the input the stage
left in it: that is the bare invoke, timed on the same frame in the same run, so the ratio
stage / bare is what the Python around the model costs, whatever the machine's speed.

Allocations are measured in a second pass under tracemalloc (which slows Python down, so
never while timing): per frame, the peak of traced memory above what was live before the frame
(everything allocated and freed inside it, numpy buffers included) and what stayed allocated.
"""

from __future__ import annotations

import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np

from appliance.config import Settings
from appliance.core.frame import FrameMeta
from appliance.core.stages import AnalysisContext
from appliance.models.manifest import resolve_threads


def _tflite_model(estimator: Any) -> Any:
    """The TFLiteModel inside a PoseModel or a FollowingSinglePose."""
    model = estimator.model
    return model.model if hasattr(model, "model") else model


def _ms(values: list[float]) -> dict[str, float]:
    a = np.asarray(values)
    return {"median_ms": round(float(np.median(a)), 3), "p95_ms": round(float(np.percentile(a, 95)), 3)}


def time_stage(analyzer: Any, frames: list[np.ndarray], runs: int) -> dict[str, Any]:
    """Stage and bare-invoke times, interleaved frame by frame; with motion crops, the time spent
    finding where people are is reported apart (it is real work, budgeted with the mask stage)."""
    from appliance.analysis.pose import RegionPose
    finder = analyzer.estimator if isinstance(analyzer.estimator, RegionPose) else None
    interpreter = _tflite_model(analyzer.estimator).interpreter
    for i, frame in enumerate(frames[:5]):  # warm-up: weights packed, tracks started
        analyzer.analyze(frame, FrameMeta(i, i / 30, 0.0))
    stage, bare, regions = [], [], []
    for i in range(runs):
        frame = frames[i % len(frames)]
        started = time.perf_counter()
        analyzer.analyze(frame, FrameMeta(i, i / 30, 0.0))
        stage.append((time.perf_counter() - started) * 1000)
        regions.append(finder.regions_ms if finder else 0.0)
        started = time.perf_counter()
        interpreter.invoke()
        bare.append((time.perf_counter() - started) * 1000)
    around = np.asarray(stage) - np.asarray(regions)
    return {"stage": _ms(stage), "bare_invoke": _ms(bare), "regions": _ms(regions),
            "ratio": round(float(np.median(stage) / np.median(bare)), 3),
            "ratio_without_regions": round(float(np.median(around) / np.median(bare)), 3),
            "overhead_ms": round(float(np.median(around) - np.median(bare)), 3), "runs": runs}


def time_mask_stage(context: AnalysisContext, frames: list[np.ndarray], runs: int) -> dict[str, float]:
    """The person-mask stage (meet) on the same frames: with the pose stage, what a frame costs.
    Its frames differ (the network is asked on every NETWORK_EVERY-th), so each time is a whole
    cycle's mean per frame, and the median is taken over cycles."""
    from appliance.analysis.mask import NETWORK_EVERY
    from appliance.core.modes import stage_recipe
    from appliance.core.stages import mask_request
    stage = stage_recipe(mask_request("meet"), context)()
    cycles = []
    for cycle in range(max(1, runs // NETWORK_EVERY)):
        started = time.perf_counter()
        for k in range(NETWORK_EVERY):
            i = cycle * NETWORK_EVERY + k
            stage.analyze(frames[i % len(frames)], FrameMeta(i, i / 30, 0.0))
        cycles.append((time.perf_counter() - started) * 1000 / NETWORK_EVERY)
    stage.close()
    return _ms(cycles)


def allocations(analyzer: Any, frames: list[np.ndarray], runs: int) -> dict[str, Any]:
    """Steady-state bytes allocated per frame by the stage (tracemalloc)."""
    transient, kept = [], []
    tracemalloc.start()
    try:
        for i in range(runs + 5):
            before = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
            analyzer.analyze(frames[i % len(frames)], FrameMeta(i, i / 30, 0.0))
            current, peak = tracemalloc.get_traced_memory()
            if i >= 5:  # steady state only
                transient.append(peak - before)
                kept.append(current - before)
    finally:
        tracemalloc.stop()
    input_bytes = int(np.prod(_tflite_model(analyzer.estimator).input_shape))
    return {"peak_bytes_per_frame_median": int(np.median(transient)),
            "peak_bytes_per_frame_max": int(np.max(transient)),
            "kept_bytes_total": int(np.sum(kept)), "frames": runs,
            "frame_bytes": int(frames[0].nbytes), "model_input_bytes": input_bytes,
            # a resized copy of the frame, or a float copy of an output, would be this big
            "picture_sized_allocations": bool(np.max(transient) >= input_bytes // 4)}


def pose_stage_bench(settings: Settings, frames: list[np.ndarray], runs: int = 60) -> dict[str, Any]:
    """The configured pose model's stage vs its bare invoke, with allocations per frame."""
    from appliance.analysis.pose import build_pose_stage, pose_estimator

    with tempfile.TemporaryDirectory() as state:
        context = AnalysisContext(settings, Path(state))
        analyzer = build_pose_stage(settings, Path(state), pose_estimator(context), lambda action: None)
        try:
            result = {"model": settings.models.pose, "threads": resolve_threads(settings.models.threads),
                      "frame_size": list(frames[0].shape[1::-1])}
            result.update(time_stage(analyzer, frames, runs))
            result["mask_stage"] = time_mask_stage(context, frames, runs)
            result["pose_and_mask_over_bare"] = round((result["stage"]["median_ms"] + result["mask_stage"]["median_ms"])
                                                      / result["bare_invoke"]["median_ms"], 3)
            result["allocations"] = allocations(analyzer, frames, min(runs, 30))
        finally:
            analyzer.close()
    return result


def pose_stage_lines(result: dict[str, Any]) -> list[str]:
    alloc = result["allocations"]
    return [f"pose stage ({result['model']}, {result['threads']} threads): median "
            f"{result['stage']['median_ms']:.2f} ms ({result['regions']['median_ms']:.2f} ms finding where people "
            f"are) vs bare invoke {result['bare_invoke']['median_ms']:.2f} ms = {result['ratio_without_regions']:.3f}x "
            f"without the regions (budget 1.10x)",
            f"pose + mask stages: {result['stage']['median_ms']:.2f} + {result['mask_stage']['median_ms']:.2f} ms = "
            f"{result['pose_and_mask_over_bare']:.2f}x the bare pose invoke (budget 2x)",
            f"pose stage allocations per frame: peak {alloc['peak_bytes_per_frame_median'] / 1024:.1f} KiB "
            f"(max {alloc['peak_bytes_per_frame_max'] / 1024:.1f} KiB; the model input is "
            f"{alloc['model_input_bytes'] / 1024:.0f} KiB), "
            f"kept {alloc['kept_bytes_total']} bytes over {alloc['frames']} frames"]
