"""Masks on people: the pixels each masked mode changes, held against where people walk.

For `kandinsky-people` that is what is painted, for `kandinsky-room` what is spared, for the
anonymizer what is silhouetted: each effect says which pixels it judged a person on the last
frame (`person_region`). The ground truth is the clip's own (`appliance.bench.truth`). Over the
whole clip, precision is the share of those pixels on walkers and recall the share of walkers'
pixels they cover. A blob on nobody is a region of 0.1 % of the frame or more that touches no
walker at all: a painted patch on the van, the building or the lamp post.

Every frame is analysed before it is shown (as `render` does), with the mode's stages as
configured, except the style network: which pixels a mode paints does not depend on the
painting.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from appliance.bench.truth import walker_masks
from appliance.config import Settings
from appliance.core.frame import FrameMeta
from appliance.core.lazy import cv2
from appliance.core.modes import Mode
from appliance.core.stages import AnalysisContext, MarksPeople
from appliance.core.stats import StageTimes

MASKED_MODES = ("kandinsky-people", "kandinsky-room", "anonymizer")
BLOB = 0.001  # of the frame: a region on nobody this large is a blob


def mask_match(settings: Settings, frames: tuple[np.ndarray, ...],
               modes: tuple[str, ...] = MASKED_MODES) -> dict[str, Any]:
    truth = walker_masks(frames)
    return {name: mode_match(settings, name, frames, truth) for name in modes if name in settings.modes}


def mode_match(settings: Settings, name: str, frames: tuple[np.ndarray, ...],
               truth: np.ndarray) -> dict[str, Any]:
    mode = Mode(name, settings.modes[name], AnalysisContext(settings))
    try:
        effects = [e for _, e in mode.steps if isinstance(e, MarksPeople)]
        stages = [a for a in mode.analyzers if not a.name.startswith("style")]
        hits = marked = blobs = 0
        times = StageTimes()
        for index, frame in enumerate(frames):
            meta = FrameMeta(index, index / 10.0, 0.0)
            for stage in stages:
                meta.results.put(stage.name, stage.analyze(frame, FrameMeta(index, meta.t, 0.0)), index)
            mode.apply(frame, meta, times)
            region = effects[0].person_region
            if region is None:
                continue
            hits += int(np.count_nonzero(region & truth[index]))
            marked += int(np.count_nonzero(region))
            blobs += blobs_on_nobody(region, truth[index])
    finally:
        for stage in mode.analyzers:
            stage.close()
        mode.close()
    walked = int(np.count_nonzero(truth))
    return {"precision": round(hits / max(1, marked), 3), "recall": round(hits / max(1, walked), 3),
            "blobs_on_nobody": blobs, "frames": len(frames), "model": settings.models.person_masks}


def blobs_on_nobody(region: np.ndarray, truth: np.ndarray) -> int:
    count, labels, stats, _ = cv2.connectedComponentsWithStats(region.view(np.uint8))
    on_walkers = np.zeros(count, bool)
    on_walkers[np.unique(labels[truth])] = True
    large = stats[:, cv2.CC_STAT_AREA] >= BLOB * region.size
    return int(np.count_nonzero(large[1:] & ~on_walkers[1:]))


def mask_lines(result: dict[str, Any]) -> list[str]:
    far = result.get("far_visitors")
    return [f"mask on people, {name}: precision {r['precision']:.2f}, recall {r['recall']:.2f} "
            f"(goal 0.8 each), {r['blobs_on_nobody']} blobs on nobody over {r['frames']} frames"
            for name, r in result.items() if name != "far_visitors"] + \
        ([f"mask on far visitors (90 px at 640x480, {far['groups']} alone or in pairs): precision "
          f"{far['precision']:.2f}, recall {far['recall']:.2f}"] if far else [])


def far_mask_match(settings: Settings, frames: tuple[np.ndarray, ...]) -> dict[str, Any]:
    """The mask stage on far visitors (`appliance.bench.far`: 90 px tall at 640x480, alone and
    in pairs, walking into a room seen empty first), against the pasted people's own masks
    (grown by 4 px, as the clip's truth is)."""
    from appliance.analysis.mask import build
    from appliance.bench.far import EMPTY_FRAMES, STEP_PX, WALK_FRAMES, cutouts, paste, room
    from appliance.core.stages import mask_request
    background, cuts = room(frames), cutouts(frames)
    groups = [[c] for c in cuts] + [cuts[k:k + 2] for k in range(0, len(cuts) - 1, 2)]
    hits = marked = walked = 0
    grow = np.ones((9, 9), np.uint8)
    for k, group in enumerate(groups):
        stage = build(mask_request("meet"), AnalysisContext(settings))
        for step in range(-EMPTY_FRAMES, WALK_FRAMES):
            scene, marker = background.copy(), np.zeros_like(background)
            for j, cut in enumerate(group if step >= 0 else []):
                x, y = 120 + 150 * (k % 3) + j * 45 + step * STEP_PX, 220 + 60 * (k % 2)
                paste(scene, cut, x, y)
                paste(marker, replace(cut, image=np.full_like(cut.image, 1)), x, y)
            mask = stage.analyze(scene, FrameMeta(step + EMPTY_FRAMES, (step + EMPTY_FRAMES) / 10, 0.0))
            region = mask.at(scene.shape[1], scene.shape[0]) >= 0.5
            truth = cv2.dilate(marker[..., 0], grow) > 0
            hits += int(np.count_nonzero(region & truth))
            marked += int(np.count_nonzero(region))
            walked += int(np.count_nonzero(truth))
        stage.close()
    return {"precision": round(hits / max(1, marked), 3), "recall": round(hits / max(1, walked), 3),
            "groups": len(groups), "model": settings.models.person_masks}
