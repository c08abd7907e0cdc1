"""The picture unchanged: the baseline every other mode is judged against."""

from dataclasses import dataclass

import numpy as np

from appliance.core.frame import FrameMeta
from appliance.core.registry import register_effect
from appliance.core.stages import AnalysisContext, StageRequest


@register_effect
class Passthrough:
    name = "passthrough"

    @dataclass
    class Params:
        pass

    def __init__(self, params: "Passthrough.Params"):
        self.params = params

    def stages(self, context: AnalysisContext) -> list[StageRequest]:
        return []

    def process(self, image: np.ndarray, meta: FrameMeta) -> np.ndarray:
        return image

    def close(self) -> None:
        pass
