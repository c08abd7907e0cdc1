"""`appliance bench --models`: each shipped model's bare invoke, timed on real frames.

Every model runs on inputs made from frames of the sample clip the way the appliance feeds it,
with 1 thread and with the configured count, under every runtime installed, all in one run,
so the numbers are compared with each other (ratios), never with a fixed limit.
"""

from __future__ import annotations

import time
from typing import Any

import cv2
import numpy as np

from appliance.models.manifest import ModelEntry, ModelStore
from appliance.models.runtime import TFLiteModel, available_runtimes, load_runtime


def example_inputs(entry: ModelEntry, frame_bgr: np.ndarray) -> dict[str, np.ndarray]:
    """Inputs for `entry` from a real frame: pictures resized to the input, a one-hot style
    choice, and a fixed style vector (the predictor's output for a frame is not needed to time)."""
    inputs = {}
    for spec in entry.inputs:
        if len(spec.shape) == 4 and spec.shape[-1] == 3:
            _, h, w, _ = spec.shape
            picture = cv2.resize(frame_bgr, (w, h), interpolation=cv2.INTER_AREA)
            inputs[spec.name] = cv2.cvtColor(picture, cv2.COLOR_BGR2RGB)[None]
        elif spec.shape == (26,):
            inputs[spec.name] = np.eye(26, dtype=np.float32)[0]
        else:
            inputs[spec.name] = np.random.default_rng(0).normal(0, 1, spec.shape).astype(spec.dtype)
    return inputs


def time_invokes(model: TFLiteModel, inputs: list[dict[str, np.ndarray]], runs: int) -> dict[str, float]:
    model.run(inputs[0])  # warm-up: first invoke allocates and packs weights
    ms = []
    for i in range(runs):
        started = time.perf_counter()
        model.run(inputs[i % len(inputs)])
        ms.append((time.perf_counter() - started) * 1000)
    return {"median_ms": round(float(np.median(ms)), 3),
            "p95_ms": round(float(np.percentile(ms, 95)), 3), "runs": runs}


def bench_models(store: ModelStore, frames: list[np.ndarray], threads: int, runs: int = 30,
                 names: list[str] | None = None) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for runtime_name in available_runtimes():
        runtime = load_runtime(runtime_name)
        per_model = results.setdefault(runtime.label, {})
        for name in names or list(store.entries):
            entry = store.entries[name]
            inputs = [example_inputs(entry, f) for f in frames]
            per_model[name] = {}
            for count in sorted({1, threads}):
                model = TFLiteModel(store.dir / entry.file, runtime, count, "off", entry.output_names())
                per_model[name][f"{count} thread{'s' if count > 1 else ''}"] = time_invokes(model, inputs, runs)
    return results


def model_lines(results: dict[str, Any]) -> list[str]:
    lines = []
    for runtime, models in results.items():
        lines.append(f"models under {runtime} (bare invoke, median / p95 ms):")
        for name, by_threads in models.items():
            cells = "   ".join(f"{k}: {v['median_ms']:7.2f} / {v['p95_ms']:7.2f}" for k, v in by_threads.items())
            lines.append(f"  {name:<26} {cells}")
    return lines
