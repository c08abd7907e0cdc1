"""The picture unchanged: the baseline every other mode is judged against."""

from dataclasses import dataclass

import numpy as np

from appliance.frame import FrameMeta


class Passthrough:
    name = "passthrough"

    @dataclass
    class Params:
        pass

    def __init__(self, params: "Passthrough.Params"):
        self.params = params

    def process(self, image: np.ndarray, meta: FrameMeta) -> np.ndarray:
        return image

    def close(self) -> None:
        pass
