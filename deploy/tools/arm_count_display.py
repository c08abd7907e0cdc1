"""Each mode's display path counted on a Pi's own wheels (`../shared/tools/arm-count`).

The display path is every effect of the mode plus the picture handed to SDL, as
`appliance.bench.display` times it here. Under QEMU the analysis would cost far more than the
display (a style keyframe is ~2 G instructions), so it is done beforehand on this machine:

    python deploy/tools/arm_count_display.py prepare /var/tmp/display-inputs.pkl 60
    ../shared/tools/arm-count -- python /src/deploy/tools/arm_count_display.py count /var/tmp/display-inputs.pkl MODE N

`prepare` keeps 60 frames of the sample clip (640x480) and, per mode, the analysis results each
frame would carry behind a 30 fps camera on a Pi 4 (a new pose, mask or keyframe every few
frames, as `bench --all` projects). `count` replays N of them through the mode's effects only (no model is loaded),
after the same untimed warm-up as the display bench (modes that follow the clock are counted mid-cycle).
`MODE+corners` counts the mode with `[output] corners` (the bench's corners) as the SDL screen
draws them (the GPU pins the picture: the CPU part is one upload), `MODE+warp` as the framebuffer
fallback does (the CPU warps it). `lightning` counts N bare Lightning invokes the same way,
`keyframe H W N` N bare style transformer invokes at H x W. Run with N and 2N (N <= 20): the
difference over N is one frame. The figures are kept in
tests/bench/display-arm64-count.json.
"""

import pickle
import sys
import tempfile
from pathlib import Path

import numpy as np


def prepare(path: str, n: int) -> None:
    import cv2

    from appliance.bench.display import CAMERA_FPS, PI4_RESULT_EVERY, result_every
    from appliance.bench.truth import read_clip
    from appliance.config import Settings
    from appliance.core.frame import FrameMeta
    from appliance.core.modes import Mode
    from appliance.core.stages import AnalysisContext

    frames = [cv2.resize(f, (640, 480), interpolation=cv2.INTER_AREA) for f in read_clip()[40:40 + n]]
    settings = Settings()
    results = {}
    with tempfile.TemporaryDirectory() as state:
        context = AnalysisContext(settings=settings, state_dir=Path(state))
        for name in settings.modes:
            mode = Mode(name, settings.modes[name], context)
            newest, per_frame = {}, []
            for i, image in enumerate(frames):
                for analyzer in mode.analyzers:
                    if i % result_every(analyzer.name, PI4_RESULT_EVERY) == 0:
                        newest[analyzer.name] = (analyzer.analyze(image, FrameMeta(i, i / CAMERA_FPS, 0.0)), i)
                per_frame.append(dict(newest))
            for analyzer in mode.analyzers:
                analyzer.close()
            mode.close()
            results[name] = per_frame
    with open(path, "wb") as f:
        pickle.dump({"frames": np.array(frames), "results": results}, f)


def count(path: str, name: str, n: int) -> None:
    from appliance.bench.display import BENCH_CORNERS, SCREEN, WARM_UP_FRAMES, _buffer, frame_time, handed_to_sdl
    from appliance.config import Settings
    from appliance.core.frame import FrameMeta
    from appliance.core.modes import Mode
    from appliance.core.stats import StageTimes
    from appliance.outputs.screen import ScreenPicture

    with open(path, "rb") as f:
        kept = pickle.load(f)
    settings = Settings()
    name, _, pinned = name.partition("+")  # MODE+corners / MODE+warp: with `[output] corners`
    mode = Mode(name, settings.modes[name], build_stages=False)
    screen = ScreenPicture(screen=SCREEN, corners=BENCH_CORNERS if pinned else None)
    screen.gpu_pinned = pinned == "corners"  # SDL's renderer pins it: the CPU uploads it once
    hand_over = (lambda rgb, up: np.copyto(_buffer(up, "pinned", rgb.shape[1::-1]), rgb)) if screen.gpu_pinned \
        else handed_to_sdl
    uploads, times = {}, StageTimes()
    for i in range(WARM_UP_FRAMES + n):
        if i == WARM_UP_FRAMES:
            settle()
        image = kept["frames"][i % len(kept["frames"])]
        meta = FrameMeta(i, frame_time(i), 0.0)
        for key, (result, index) in kept["results"][name][i % len(kept["frames"])].items():
            meta.results.put(key, result, index)
        hand_over(screen.convert(mode.apply(image, meta, times)), uploads)
    print(name, n, "done")


def settle() -> None:
    """Let the work the warm-up started beside the display (generation-loss's restoration) end
    before the counted frames, so that two counts differ by their frames alone."""
    import threading
    for thread in threading.enumerate():
        if thread.name in ("repair", "film"):
            thread.join(600)


def lightning(path: str, n: int) -> None:
    """N bare MoveNet Lightning invokes (1 thread): the yardstick, counted the same way."""
    from appliance.bench.display import Lightning
    from appliance.config import Settings

    with open(path, "rb") as f:
        frames = list(pickle.load(f)["frames"])
    yardstick = Lightning(Settings(), frames)
    for _ in range(n):
        yardstick.invoke_ms()
    print("lightning", n, "done")


def keyframe(h: int, w: int, n: int) -> None:
    """N bare invokes of the style transformer at h x w: a keyframe at the frame's aspect
    (288x384) against the padded square (384x384) it used to be painted at."""
    from appliance.config import Settings
    from appliance.models.manifest import ModelStore

    model = ModelStore.from_settings(Settings().models).load("style_arbitrary_transform")
    vector = next(d["name"] for d in model.inputs if d["dtype"] == np.float32)
    image = next(d["name"] for d in model.inputs if d["dtype"] == np.uint8)
    if model.input_shape != (1, h, w, 3):
        model.resize_input(image, (1, h, w, 3))
    picture = np.random.default_rng(0).integers(0, 255, (1, h, w, 3), dtype=np.uint8)
    style = np.random.default_rng(1).normal(0, 1, (1, 1, 1, 100)).astype(np.float32)
    for _ in range(n):
        model.run({vector: style, image: picture})
    print("keyframe", h, w, n, "done")


if __name__ == "__main__":
    if sys.argv[1] == "prepare":
        prepare(sys.argv[2], int(sys.argv[3]))
    elif sys.argv[1] == "keyframe":
        keyframe(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
    elif sys.argv[1] == "lightning":
        lightning(sys.argv[2], int(sys.argv[3]))
    else:
        count(sys.argv[2], sys.argv[3], int(sys.argv[4]))
