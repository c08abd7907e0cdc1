"""Flip the picture so visitors see themselves as in a mirror (raise the left hand, the left moves)."""

from dataclasses import dataclass

import numpy as np

from appliance.config.schema import setting
from appliance.core.frame import FrameMeta
from appliance.core.lazy import cv2
from appliance.core.registry import register_effect
from appliance.core.stages import AnalysisContext, StageRequest


@register_effect
class Mirror:
    name = "mirror"

    @dataclass
    class Params:
        axis: str = setting("horizontal", choices=("horizontal", "vertical", "both"))

    _FLIP_CODES = {"horizontal": 1, "vertical": 0, "both": -1}

    def __init__(self, params: "Mirror.Params"):
        self.code = self._FLIP_CODES[params.axis]

    def stages(self, context: AnalysisContext) -> list[StageRequest]:
        return []

    def process(self, image: np.ndarray, meta: FrameMeta) -> np.ndarray:
        return cv2.flip(image, self.code)

    def close(self) -> None:
        pass
