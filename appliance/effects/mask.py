"""Let the effects before this one touch only the people, or only the room.

The mask stage ("mask:<model>", a person-segmentation model) says per pixel how likely it is a
person. This effect puts the picture from before the mode's effects (`meta.original`) back in
one region, with feathered edges: `keep = "room"` restores the room, so only the people keep
the effects before it ([style, mask keep=room]: only the people are painted);
`keep = "people"` restores the people, so the room is painted around them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from appliance.config.schema import setting
from appliance.core.frame import FrameMeta
from appliance.core.registry import register_effect
from appliance.core.stages import AnalysisContext, StageRequest, mask_request
from appliance.core.lazy import cv2
from appliance.paint.masks import SEGMENTATION_MODELS, MaskShares


@register_effect
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
        self.request = mask_request(params.model)
        # (effected, original) shares: the effected picture is on the people when the room is kept
        self.shares = MaskShares(self.request.key, params.threshold, params.feather,
                                 people_first=params.keep == "room")

    @property
    def person_region(self) -> np.ndarray | None:
        """Where the last frame's mask put people (bool): the pixels painted or spared, which
        the mask benchmark holds against where people really walked."""
        people = self.shares.people
        return None if people is None else people >= 0.5

    def stages(self, context: AnalysisContext) -> list[StageRequest]:
        return [self.request]

    def process(self, image: np.ndarray, meta: FrameMeta) -> np.ndarray:
        shares = self.shares.at(meta, image.shape[1], image.shape[0])
        original = meta.original
        if original is None or original is image or original.shape != image.shape:
            return image
        return cv2.blendLinear(image, original, *shares)

    def close(self) -> None:
        pass
