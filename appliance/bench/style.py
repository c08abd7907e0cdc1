"""The style budgets: keyframes per second, the carry-forward's cost per frame, and flicker.

Flicker is what a visitor sees as shimmer: the mean absolute difference between consecutive
output frames after the earlier one is moved along the INPUT's optical flow (so real motion is
not counted). It is measured on the same clip painted every frame (no carry-forward) and
painted every `keyframe_every` frames and carried along flow in between (the live mode).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from appliance.core.frame import FrameMeta
from appliance.core.modes import stage_recipe
from appliance.effects.style import Style

FRAME_SIZE = (640, 480)
CLIP_FPS = 10.0  # the sample clip's rate: a keyframe rate of r a second is one every 10/r frames


def flicker(outputs: list[np.ndarray], inputs: list[np.ndarray]) -> float:
    """Mean abs difference of consecutive outputs after moving the earlier one by the input's flow."""
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    h, w = inputs[0].shape[:2]
    grid = np.dstack(np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32)))
    grey = [cv2.cvtColor(i, cv2.COLOR_BGR2GRAY) for i in inputs]
    diffs = []
    for t in range(1, len(outputs)):
        flow = dis.calc(grey[t], grey[t - 1], None)
        before = cv2.remap(outputs[t - 1], grid + flow, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        diffs.append(np.abs(before.astype(np.float32) - outputs[t]).mean())
    return float(np.mean(diffs))


def shown(effect: Style, analyzer_name: str, keyframe: Any, image: np.ndarray, index: int = 1) -> np.ndarray:
    """What the style effect shows for `image` given the newest keyframe (as the pipeline calls it)."""
    meta = FrameMeta(index, index / CLIP_FPS, 0.0)
    meta.results.put(analyzer_name, keyframe, 0)
    meta.original = image
    return effect.process(image, meta)


def paint_clip(effect: Style, analyzer: Any, frames: list[np.ndarray], every: int) -> list[np.ndarray]:
    """The clip as shown when a keyframe is painted every `every` frames."""
    outputs, key = [], None
    for i, frame in enumerate(frames):
        if i % every == 0:
            key = analyzer.analyze(frame, FrameMeta(i, i / CLIP_FPS, 0.0))
        outputs.append(shown(effect, analyzer.name, key, frame, i))
    return outputs


def _make(context: Any, **params: Any) -> tuple[Style, Any]:
    effect = Style(Style.Params(**params))
    [request] = effect.stages(context)
    return effect, stage_recipe(request, context)()


def keyframe_rate(context: Any, frames: list[np.ndarray], style: str, runs: int) -> dict[str, Any]:
    effect, analyzer = _make(context, style=style, carry_forward=False)
    key = analyzer.analyze(frames[0], FrameMeta(0, 0.0, 0.0))  # warm-up
    square = _padded_square(context) if style == "kandinsky" else None
    ms, square_ms = [], []
    for i in range(runs):
        ms.append(analyzer.analyze(frames[i % len(frames)], FrameMeta(i, 0.0, 0.0)).ms)
        if square is not None:  # timed in turns with the keyframe: the ratio is what a Pi sees
            square_ms.append(square())
    median = float(np.median(ms))
    result = {"painted_size": list(key.image.shape[1::-1]), "median_ms": round(median, 2),
              "p95_ms": round(float(np.percentile(ms, 95)), 2), "per_s": round(1000.0 / median, 2)}
    if square_ms:
        result["padded_square_ms"] = round(float(np.median(square_ms)), 2)
    return result


def _padded_square(context: Any):
    """A bare style transformer invoke at the padded 384x384 its published time is for: a
    function returning its ms."""
    from appliance.bench.models import example_inputs
    from appliance.models.runtime import TFLiteModel, load_runtime
    store = context.store
    entry = store.entries["style_arbitrary_transform"]
    model = TFLiteModel(store.dir / entry.file, load_runtime(context.settings.models.runtime), 1, "off",
                        entry.output_names())
    inputs = example_inputs(entry, np.zeros((480, 640, 3), np.uint8))
    model.run(inputs)

    def invoke_ms() -> float:
        started = time.perf_counter()
        model.run(inputs)
        return (time.perf_counter() - started) * 1000.0
    return invoke_ms


def carry_cost(context: Any, frames: list[np.ndarray]) -> dict[str, Any]:
    """ms per displayed frame to carry a keyframe to it (flow + remap + resize to 640x480)."""
    effect, analyzer = _make(context, style="builtin:5")
    key = analyzer.analyze(frames[0], FrameMeta(0, 0.0, 0.0))
    ms = []
    for i, frame in enumerate(frames[1:], start=1):
        started = time.perf_counter()
        shown(effect, analyzer.name, key, frame, i)
        ms.append((time.perf_counter() - started) * 1000)
    return {"median_ms": round(float(np.median(ms)), 3), "p95_ms": round(float(np.percentile(ms, 95)), 3),
            "frames": len(ms), "frame_size": list(FRAME_SIZE)}


def style_bench(settings: Any, frames: list[np.ndarray], runs: int = 8, keyframe_every: int = 4) -> dict[str, Any]:
    """Every style budget on `frames` (consecutive frames of a real clip, resized to 640x480)."""
    from appliance.core.stages import AnalysisContext

    frames = [cv2.resize(f, FRAME_SIZE, interpolation=cv2.INTER_AREA) for f in frames]
    with tempfile.TemporaryDirectory() as state:
        context = AnalysisContext(settings=settings, state_dir=Path(state))
        every_frame = paint_clip(*_make(context, style="kandinsky", carry_forward=False), frames, 1)
        carried = paint_clip(*_make(context, style="kandinsky"), frames, keyframe_every)
        without, with_carry = flicker(every_frame, frames), flicker(carried, frames)
        return {
            "keyframes": {"kandinsky (any picture, 384 px)": keyframe_rate(context, frames, "kandinsky", runs),
                          "builtin:5 (384x288)": keyframe_rate(context, frames, "builtin:5", runs)},
            "carry_forward": carry_cost(context, frames),
            "flicker": {"painted_every_frame": round(without, 3), "carried": round(with_carry, 3),
                        "ratio": round(with_carry / without, 3), "keyframe_every": keyframe_every,
                        "frames": len(frames)},
        }


def style_lines(result: dict[str, Any]) -> list[str]:
    lines = [f"style keyframes, {name}: {k['median_ms']:.1f} ms = {k['per_s']:.1f}/s at "
             f"{k['painted_size'][0]}x{k['painted_size'][1]}" for name, k in result["keyframes"].items()]
    carry, fl = result["carry_forward"], result["flicker"]
    lines.append(f"style carry-forward: {carry['median_ms']:.2f} ms/frame at 640x480 (budget 5 ms)")
    lines.append(f"style flicker: painted every frame {fl['painted_every_frame']:.2f}, carried "
                 f"{fl['carried']:.2f} = {fl['ratio']:.2f}x (budget 0.5x)")
    return lines


def keyframe_every(keyframes_per_s: float) -> int:
    """Clip frames between keyframes at a board's projected keyframe rate."""
    return max(1, round(CLIP_FPS / max(keyframes_per_s, 1e-3)))


def style_at_pi_rate(settings: Any, frames: list[np.ndarray], walkers: list[np.ndarray],
                     every: dict[str, int]) -> dict[str, Any]:
    """What a visitor sees of `kandinsky` on a board painting a keyframe every `every[board]`
    clip frames (the style effect as configured by default, carried along flow in between):
    how far the shown painting is from a fresh painting of the same frame, on the walkers and
    elsewhere (0-255, mean absolute), and its flicker against the input's own."""
    from appliance.core.stages import AnalysisContext

    frames = [cv2.resize(f, FRAME_SIZE, interpolation=cv2.INTER_AREA) for f in frames]
    people = [cv2.resize(m.astype(np.uint8), FRAME_SIZE, interpolation=cv2.INTER_NEAREST) > 0 for m in walkers]
    with tempfile.TemporaryDirectory() as state:
        context = AnalysisContext(settings=settings, state_dir=Path(state))
        fresh = paint_clip(*_make(context, style="kandinsky", carry_forward=False), frames, 1)
        result: dict[str, Any] = {"frames": len(frames), "flicker_input": round(flicker(frames, frames), 3)}
        for board, k in every.items():
            carried = paint_clip(*_make(context, style="kandinsky"), frames, k)
            gaps = [np.abs(c.astype(np.int16) - f).mean(axis=2) for c, f in zip(carried, fresh)]
            on = np.concatenate([g[p] for g, p in zip(gaps, people)])
            off = np.concatenate([g[~p] for g, p in zip(gaps, people)])
            shimmer = flicker(carried, frames)
            result[board] = {"keyframe_every": k, "drift_people": round(float(on.mean()), 2),
                             "drift_elsewhere": round(float(off.mean()), 2), "flicker": round(shimmer, 3),
                             "flicker_over_input": round(shimmer / max(result["flicker_input"], 1e-6), 3)}
        return result


def pi_rate_lines(result: dict[str, Any]) -> list[str]:
    return [f"style at {board} rate (a keyframe every {r['keyframe_every']} clip frames): drift on walkers "
            f"{r['drift_people']:.1f} (goal 20), elsewhere {r['drift_elsewhere']:.1f}; flicker "
            f"{r['flicker']:.2f} = {r['flicker_over_input']:.2f}x the input's (goal 1.5x)"
            for board, r in result.items() if isinstance(r, dict)]
