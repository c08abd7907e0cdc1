"""Let the effects before this one touch only the people, or only the room.

A person-segmentation model (an analysis stage, "mask:<model>") says per pixel how likely it
is a person. This effect puts the picture from before the mode's effects (`meta.original`)
back in one region, with feathered edges: `keep = "room"` restores the room, so only the
people keep the effects before it ([style, mask keep=room]: only the people are painted);
`keep = "people"` restores the people, so the room is painted around them.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from appliance.frame import FrameMeta
from appliance.settings_schema import setting

SEGMENTATION_MODELS = ("meet", "selfie")
MASK_WORK_WIDTH = 320  # feathering is done this wide: soft edges need no full-resolution blur


class SegmentationAnalyzer:
    """Person probability (float32 HxW, 0-1) of the newest frame."""

    def __init__(self, name: str, segmenter):
        self.name = name
        self.segmenter = segmenter

    def analyze(self, image: np.ndarray, meta: FrameMeta) -> np.ndarray:
        return self.segmenter.probability(image)

    def close(self) -> None:
        self.segmenter = None


def feathered(mask: np.ndarray, size: tuple[int, int], threshold: float, feather: float) -> np.ndarray:
    """The mask as 0-1 weights at `size` (w, h): hardened around `threshold`, edges blurred by
    `feather` (a fraction of the picture's height)."""
    w, h = size
    work = (MASK_WORK_WIDTH, max(8, round(h * MASK_WORK_WIDTH / w)))
    small = cv2.resize(mask.astype(np.float32), work, interpolation=cv2.INTER_AREA)
    small = np.clip((small - threshold) * 8.0 + 0.5, 0.0, 1.0)
    sigma = feather * work[1]
    if sigma > 0.3:
        small = cv2.GaussianBlur(small, (0, 0), sigma)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def person_weight(mask: np.ndarray | None, size: tuple[int, int], threshold: float, feather: float) -> np.ndarray:
    """Feathered person weights at `size`; before the first mask arrives, nobody is a person."""
    if mask is None:
        return np.zeros((size[1], size[0]), np.float32)
    return feathered(mask, size, threshold, feather)


def composite(effected: np.ndarray, original: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """effected where weight is 1, original where it is 0."""
    weight = np.ascontiguousarray(weight, np.float32)
    return cv2.blendLinear(effected, original, weight, 1.0 - weight)


class Mask:
    name = "mask"

    @dataclass
    class Params:
        keep: str = setting("room", choices=("room", "people"),
                            help='"room": only the people keep the effects before this; "people": only the room does')
        model: str = setting("meet", choices=SEGMENTATION_MODELS, help="person segmentation model")
        threshold: float = setting(0.5, min=0.05, max=0.95, help="person probability where the edge sits")
        feather: float = setting(0.01, min=0.0, max=0.1, help="edge softness, a fraction of the picture height")

    def __init__(self, params: "Mask.Params"):
        self.p = params
        self.analyzer_name = f"mask:{params.model}"

    def analyzers(self, context) -> list[SegmentationAnalyzer]:
        from appliance.models.segmentation import create_segmenter
        return [SegmentationAnalyzer(self.analyzer_name, create_segmenter(context.store, self.p.model))]

    def process(self, image: np.ndarray, meta: FrameMeta) -> np.ndarray:
        original = meta.original
        if original is None or original is image or original.shape != image.shape:
            return image
        mask = meta.results.get(self.analyzer_name)
        h, w = image.shape[:2]
        people = person_weight(mask, (w, h), self.p.threshold, self.p.feather)
        weight = people if self.p.keep == "room" else 1.0 - people
        return composite(image, original, weight)

    def close(self) -> None:
        pass


class Split:
    """Two modes at once: one for the people, another for the room, joined along the person mask.

    E.g. people = "kandinsky-people-only" (a mode with a style), room = "aged-film". The named
    modes' own analysis stages run too. A split may not name a mode that itself splits.
    """

    name = "split"

    @dataclass
    class Params:
        people: str = setting("", help="mode whose picture the people get")
        room: str = setting("", help="mode whose picture the room gets")
        model: str = setting("meet", choices=SEGMENTATION_MODELS, help="person segmentation model")
        threshold: float = setting(0.5, min=0.05, max=0.95)
        feather: float = setting(0.01, min=0.0, max=0.1)

    def __init__(self, params: "Split.Params"):
        self.p = params
        self.analyzer_name = f"mask:{params.model}"
        self.modes: dict[str, object] = {}

    def analyzers(self, context) -> list:
        from appliance.errors import ConfigError
        from appliance.modes import Mode
        found = []
        for role in ("people", "room"):
            name = getattr(self.p, role)
            settings = context.settings.modes.get(name)
            if settings is None or any(step.effect == "split" for step in settings.effects):
                raise ConfigError([f"split.{role}: {name!r} is not a mode without a split "
                                   f"(expected one of: {', '.join(context.settings.modes)})"])
            self.modes[role] = mode = Mode(name, settings, context)
            if mode.error:
                raise ConfigError([f"split.{role}: mode {name}: {mode.error}"])
            found += mode.analyzers
        return found + Mask(Mask.Params(model=self.p.model)).analyzers(context)

    def process(self, image: np.ndarray, meta: FrameMeta) -> np.ndarray:
        from appliance.stats import StageTimes
        if not self.modes:
            return image
        times = StageTimes()
        people = self.modes["people"].apply(image, meta, times)
        room = self.modes["room"].apply(image, meta, times)
        mask = meta.results.get(self.analyzer_name)
        h, w = image.shape[:2]
        weight = person_weight(mask, (w, h), self.p.threshold, self.p.feather)
        return composite(people, room, weight)

    def close(self) -> None:
        for mode in self.modes.values():
            mode.close()
        self.modes = {}
