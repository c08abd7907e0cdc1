"""Skeletons: each tracked visitor drawn as coloured bones and joints with black outlines.

The look is Kandinsky's: flat vivid colours held by black lines (`appliance.paint.bodies`).
The colour comes from the track id (`appliance.paint.palette`), so a visitor keeps their colour.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from appliance.config.schema import setting
from appliance.core.frame import FrameMeta
from appliance.core.registry import register_effect
from appliance.core.stages import POSE, AnalysisContext, StageRequest
from appliance.paint.bodies import FrameBuffer, draw_skeleton, people, pose_result
from appliance.paint.palette import track_colour


@register_effect
class Skeleton:
    name = "skeleton"

    @dataclass
    class Params:
        background: str = setting("picture", choices=("picture", "black"),
                                  help="draw over the camera picture, or on black")
        min_score: float = setting(0.3, min=0.0, max=1.0,
                                   help="keypoints scored below this are not drawn")
        thickness: float = setting(1.0, min=0.2, max=5.0, help="bone thickness, times 3 % of body size")
        joints: bool = setting(True, help="draw a disc at each joint")

    def __init__(self, params: "Skeleton.Params"):
        self.p = params
        self.out = FrameBuffer()

    def stages(self, context: AnalysisContext) -> list[StageRequest]:
        return [POSE]

    def process(self, image: np.ndarray, meta: FrameMeta) -> np.ndarray:
        out = self.out.like(image)
        if self.p.background == "black":
            out.fill(0)
        else:
            np.copyto(out, image)
        if out.ndim != 3 or out.shape[2] != 3:
            return out
        for track_id, kp in people(pose_result(meta)):
            draw_skeleton(out, kp, track_colour(track_id), self.p.min_score, self.p.thickness,
                          self.p.joints)
        return out

    def close(self) -> None:
        self.out = FrameBuffer()
