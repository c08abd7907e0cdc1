"""Offline rendering: a mode applied to every frame of a clip, waiting for every stage.

`appliance render` and the contact sheet run the pipeline with capture waiting for the display
and analysis inline on every frame, so the result does not depend on how fast the machine is:
it shows exactly what the mode does, frame for frame.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from appliance.app.runner import is_pose_recording
from appliance.config import Settings
from appliance.core.pipeline import Pipeline, PipelineOptions
from appliance.core.stages import AnalysisContext
from appliance.sources import create_source

RENDER = PipelineOptions(realtime=False, wait_for_display=True, inline_analysis=True)


class LastFrameOutput:
    """Keeps the newest picture in memory (for contact sheets and tests)."""

    description = "memory"

    def __init__(self) -> None:
        self.last: np.ndarray | None = None
        self.frames = 0

    def open(self, width: int, height: int, fps: float) -> None:
        pass

    def show(self, image: np.ndarray) -> None:
        self.last = image.copy()
        self.frames += 1

    def commands(self) -> list[str]:
        return []

    def close(self) -> None:
        pass


class Caption:
    """What the shown mode's effects say about the frame last shown (the generation of
    `generation-loss`): an effect with a `caption()` method adds its words to the tile's name."""

    def __init__(self) -> None:
        self.text = ""

    def frame_shown(self, pipeline) -> None:
        mode = pipeline.mode
        words = [effect.caption() for _, effect in (mode.steps if mode else []) if hasattr(effect, "caption")]
        self.text = ", ".join(w for w in words if w)

    def stopped(self, pipeline) -> None:
        pass


def render(settings: Settings, source_spec: str, mode: str, output, frames: int = 0,
           loop: bool = False, state_dir: Path | None = None, observers: list | None = None):
    """Run `mode` over the source into `output` with every frame analysed; the run summary."""
    s = settings.source
    source = create_source(source_spec, width=s.width, height=s.height, fps=s.fps, loop=loop)
    options = PipelineOptions(**{**RENDER.__dict__, "max_frames": frames})
    context = AnalysisContext(settings, state_dir, recorded_poses=is_pose_recording(source))
    pipeline = Pipeline(source, output, settings.modes, mode, options=options, context=context,
                        observers=observers)
    return pipeline.run()


def contact_sheet(settings: Settings, source_spec: str = "sample", frames: int = 200,
                  modes: list[str] | None = None, tile_width: int = 384) -> np.ndarray:
    """Every mode's picture after `frames` frames of the source, tiled with its name."""
    tiles = []
    for name in modes or list(settings.modes):
        output, caption = LastFrameOutput(), Caption()
        render(settings, source_spec, name, output, frames, loop=True, observers=[caption])
        tiles.append(_label(output.last, f"{name} ({caption.text})" if caption.text else name, tile_width))
    columns = min(3, len(tiles))
    blank = np.full_like(tiles[0], 255)
    rows = [np.hstack(_spaced(tiles[i:i + columns] + [blank] * (columns - len(tiles[i:i + columns]))))
            for i in range(0, len(tiles), columns)]
    return np.vstack(_spaced(rows, axis=0))


def _label(image: np.ndarray, name: str, width: int) -> np.ndarray:
    height = round(image.shape[0] * width / image.shape[1])
    tile = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
    cv2.rectangle(tile, (0, height - 28), (width, height), (0, 0, 0), -1)
    cv2.putText(tile, name, (8, height - 9), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 255), 1, cv2.LINE_AA)
    return tile


def _spaced(parts: list[np.ndarray], axis: int = 1, gap: int = 6) -> list[np.ndarray]:
    """The parts with white gaps between them, so neighbouring tiles never blend."""
    out = []
    for i, part in enumerate(parts):
        if i:
            shape = (part.shape[0], gap, 3) if axis == 1 else (gap, part.shape[1], 3)
            out.append(np.full(shape, 255, np.uint8))
        out.append(part)
    return out
