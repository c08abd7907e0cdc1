"""Every mode's display path against a bare MoveNet Lightning invoke, measured in one process.

The display path is what the display loop does for each frame: every effect of the mode and
the conversion of the result for the screen (turned to RGB at the frame's size and copied to
SDL, as the HDMI output does; SDL's renderer scales it to the screen on the GPU). It is timed
apart from the analysis, as behind a 30 fps camera: each stage's newest result is computed
beforehand at the rate a Pi 4 would deliver it (a new result every few frames) and handed to
the effects exactly as the pipeline does, so two cores shared with the analysis threads do not colour the figure. A bare
Lightning invoke (1 thread) is timed between modes in the same process, so the ratio compares
two things measured on the same machine at the same moment.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from appliance.config import Settings
from appliance.core.frame import FrameMeta
from appliance.core.modes import Mode
from appliance.core.stages import AnalysisContext
from appliance.core.stats import StageTimes
from appliance.outputs.screen import ScreenPicture

SCREEN = (1920, 1080)
CAMERA_FPS = 30.0  # the display path is timed as behind a 30 fps camera: frame times 1/30 s apart,
# and each analysis result shown for as many frames as a Pi 4 takes to make the next
PI4_RESULT_EVERY = {"pose": 8, "mask": 2, "style": 11}  # 30 fps frames between results on a Pi 4
# (as `bench --all` projected them when the arm counts were made; it passes its own figures)
BUDGET_RATIO = 1.25  # the yardstick: a mode's display path <= 1.25 bare Lightning invokes
# Modes that follow the clock are timed mid-cycle, not in their first seconds: before the timed
# frames, WARM_UP_FRAMES frames are shown untimed, spread over WARM_UP_S seconds, so the film has
# decayed to 0.8 and generation-loss has gathered its still and is at full decay.
WARM_UP_S = 16.0
WARM_UP_FRAMES = 24


def frame_time(i: int) -> float:
    """The time of frame i: the warm-up frames spread over WARM_UP_S, then 30 fps."""
    if i < WARM_UP_FRAMES:
        return i * WARM_UP_S / WARM_UP_FRAMES
    return WARM_UP_S + (i - WARM_UP_FRAMES) / CAMERA_FPS


def result_every(stage: str, every: dict[str, int]) -> int:
    """Frames between two results of `stage` (pose, mask:meet, style:...) at a Pi 4's rate."""
    kind = stage.split(":", 1)[0]
    return max(1, int(every.get(kind, 1)))


class Lightning:
    """Bare MoveNet Lightning invokes (1 thread, the default runtime) on real frames: the
    yardstick, timed one invoke at a time between displayed frames."""

    def __init__(self, settings: Settings, frames: list[np.ndarray]):
        from appliance.bench.models import example_inputs
        from appliance.models.manifest import ModelStore
        from appliance.models.runtime import TFLiteModel, load_runtime
        store = ModelStore.from_settings(settings.models)
        entry = store.entries["movenet_lightning"]
        self.model = TFLiteModel(store.dir / entry.file, load_runtime(settings.models.runtime), 1, "off",
                                 entry.output_names())
        self.inputs = [example_inputs(entry, f) for f in frames[::max(1, len(frames) // 5)]]
        self.model.run(self.inputs[0])  # the first invoke allocates and packs the weights
        self.runs = 0

    def invoke_ms(self) -> float:
        started = time.perf_counter()
        self.model.run(self.inputs[self.runs % len(self.inputs)])
        self.runs += 1
        return (time.perf_counter() - started) * 1000.0


def handed_to_sdl(rgb: np.ndarray, uploads: dict) -> None:
    """The copies SDL makes of each picture on a Pi: the blit onto the window's surface and the
    upload of that surface into the renderer's texture (the GPU's scaling is not on the CPU)."""
    for name in ("surface", "texture"):
        buffer = uploads.get(name)
        if buffer is None or buffer.shape != rgb.shape:
            buffer = uploads[name] = np.empty_like(rgb)
        np.copyto(buffer, rgb)


def mode_display_ms(name: str, settings: Settings, context: AnalysisContext, frames: list[np.ndarray],
                    every: dict[str, int], screen: ScreenPicture, lightning: Lightning) -> dict[str, Any]:
    """Per-frame cost of one mode's effects plus the screen conversion, with analysis results
    arriving as on a Pi 4 (computed untimed), and a Lightning invoke after each frame: the
    machine's speed drifts, and the ratio must compare the two at the same moments."""
    mode = Mode(name, settings.modes[name], context)
    times = StageTimes()
    totals, yardstick, newest, uploads = [], [], {}, {}
    try:
        for i, image in enumerate(frames[:WARM_UP_FRAMES] + frames):
            meta = FrameMeta(i, frame_time(i), time.monotonic())
            for analyzer in mode.analyzers:
                if i % result_every(analyzer.name, every) == 0:
                    newest[analyzer.name] = (analyzer.analyze(image, meta), i)
            for key, (result, index) in newest.items():
                meta.results.put(key, result, index)
            started = time.perf_counter()
            shown = mode.apply(image, meta, times if i >= WARM_UP_FRAMES else StageTimes())
            handed_to_sdl(screen.convert(shown), uploads)
            if i >= WARM_UP_FRAMES:
                totals.append((time.perf_counter() - started) * 1000.0)
                yardstick.append(lightning.invoke_ms())
    finally:
        for analyzer in mode.analyzers:
            analyzer.close()
        mode.close()
    warm = totals[len(totals) // 5:]  # the first timed frames may still learn the room
    effects = {stage: round(t["median_ms"], 3) for stage, t in times.summary().items()}
    lightning_ms = float(np.median(yardstick))
    return {"mean_ms": round(float(np.mean(warm)), 3), "median_ms": round(float(np.median(warm)), 3),
            "p95_ms": round(float(np.percentile(warm, 95)), 3), "effects_median_ms": effects,
            "lightning_ms": round(lightning_ms, 3), "over_lightning": round(float(np.mean(warm)) / lightning_ms, 3),
            "frames": len(warm), "error": mode.error or None}


def display_paths(settings: Settings, frames: list[np.ndarray], every: dict[str, int],
                  say: Callable[[str], None] = print) -> dict[str, Any]:
    """Each mode's display path and the Lightning yardstick, timed in turns in this process."""
    with tempfile.TemporaryDirectory() as state:
        return _display_paths(settings, frames, every, AnalysisContext(settings=settings, state_dir=Path(state)), say)


def _display_paths(settings: Settings, frames: list[np.ndarray], every: dict[str, int], context: AnalysisContext,
                   say: Callable[[str], None]) -> dict[str, Any]:
    screen = ScreenPicture(screen=SCREEN)
    lightning = Lightning(settings, frames)
    modes = {}
    for name in settings.modes:
        m = modes[name] = mode_display_ms(name, settings, context, frames, every, screen, lightning)
        say(f"display path, {name}: {m['mean_ms']:.2f} ms a frame = {m['over_lightning']:.2f}x a bare "
            f"Lightning invoke ({m['lightning_ms']:.2f} ms, timed between its frames)")
    return {"screen": list(SCREEN), "result_every": every, "frames": len(frames), "modes": modes,
            "lightning_ms": round(float(np.median([m["lightning_ms"] for m in modes.values()])), 3),
            "corner_pin": corner_pin_ms(frames, lightning)}


# a projector aimed from below and to the left, as `[output] corners` would pin it
BENCH_CORNERS = [[0.06, 0.02], [0.97, 0.08], [0.93, 0.95], [0.02, 0.9]]


def corner_pin_ms(frames: list[np.ndarray], lightning: Lightning) -> dict[str, Any]:
    """What `[output] corners` adds to every frame's trip to the screen, the same frames in
    turns beside a Lightning invoke: on SDL's screen the renderer draws the pin (the CPU turns
    the picture to RGB and uploads it once, as a texture); on the framebuffer fallback the CPU
    warps it (`warp_extra_ms`)."""
    plain, warped = ScreenPicture(screen=SCREEN), ScreenPicture(screen=SCREEN, corners=BENCH_CORNERS)
    by_gpu = ScreenPicture(screen=SCREEN, corners=BENCH_CORNERS)
    by_gpu.gpu_pinned = True
    paths = {"plain": lambda im, up: handed_to_sdl(plain.convert(im), up),
             "gpu": lambda im, up: np.copyto(_buffer(up, "pinned", by_gpu.size(640, 480)), by_gpu.convert(im)),
             "warp": lambda im, up: handed_to_sdl(warped.convert(im), up)}
    times: dict[str, list[float]] = {name: [] for name in paths}
    yardstick, uploads = [], {}
    for image in frames:
        for name, path in paths.items():
            started = time.perf_counter()
            path(image, uploads)
            times[name].append((time.perf_counter() - started) * 1000.0)
        yardstick.append(lightning.invoke_ms())
    mean = {name: float(np.mean(t[len(t) // 5:])) for name, t in times.items()}
    lightning_ms = float(np.median(yardstick))
    extra, warp = mean["gpu"] - mean["plain"], mean["warp"] - mean["plain"]
    return {"extra_ms": round(extra, 3), "warp_extra_ms": round(warp, 3), "lightning_ms": round(lightning_ms, 3),
            "extra_over_lightning": round(extra / lightning_ms, 3),
            "warp_over_lightning": round(warp / lightning_ms, 3), "corners": BENCH_CORNERS}


def _buffer(uploads: dict, name: str, size: tuple[int, int]) -> np.ndarray:
    """The texture the pinned screen uploads each picture into (one copy, as SDL makes it)."""
    if name not in uploads:
        uploads[name] = np.empty((size[1], size[0], 3), np.uint8)
    return uploads[name]
