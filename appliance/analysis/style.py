"""The style stage: stylised keyframes, the slow model run, beside the display loop.

A keyframe (`Keyframe`) carries the painting (BGR, at the model's resolution) and a small grey
copy of the frame it was painted from, which the display side needs to carry it forward along
optical flow.
"""

from __future__ import annotations

import time

import cv2
import numpy as np

from appliance import paths
from appliance.core.frame import FrameMeta
from appliance.core.registry import register_stage
from appliance.core.results import Keyframe
from appliance.core.stages import AnalysisContext, StageRequest, StyleParams
from appliance.models.stylizers import Stylizer, create_stylizer
from appliance.styles.flow import FlowCarrier, flow_frame
from appliance.styles.sources import parse_style


STEADY_S = 0.4  # `steadiness` is the share kept over this time (a Pi 4's keyframe interval)


class StyleStage:
    """Paints the newest frame it is given; its result is a Keyframe.

    The network repaints still parts of the scene a little differently every time (its brush
    texture follows camera noise), which would make each new keyframe jump. With `steadiness`
    s > 0, where the picture has not changed since the previous keyframe, the new painting keeps
    a share of the previous one (moved along flow): s for keyframes STEADY_S apart, s**(dt /
    STEADY_S) for keyframes dt apart, so still areas settle at the same pace in time whatever
    the board's keyframe rate (a faster board must not shimmer more). Where the picture moved,
    keyframes STEADY_S apart are taken afresh, closer ones keep 1 - dt / STEADY_S of the last
    (moved along flow): the network's own noise on a walking visitor, repainted twice as often,
    would otherwise shimmer twice as much.
    """

    def __init__(self, name: str, stylizer: Stylizer, flow_width: int, steadiness: float = 0.0):
        self.name = name
        self.stylizer = stylizer
        self.flow_width = flow_width
        self.steadiness = steadiness
        self._carrier = FlowCarrier(flow_width, 0)
        self._last: Keyframe | None = None

    def analyze(self, image: np.ndarray, meta: FrameMeta) -> Keyframe:
        started = time.perf_counter()
        painting = self.stylizer.stylize(image)
        grey = flow_frame(image, self.flow_width)
        painting = self._steady(painting, grey, float(meta.t))
        ms = (time.perf_counter() - started) * 1000.0
        self._last = Keyframe(painting, grey, meta.index, ms, float(meta.t))
        return self._last

    def _steady(self, painting: np.ndarray, grey: np.ndarray, t: float) -> np.ndarray:
        last = self._last
        if self.steadiness <= 0 or last is None or last.image.shape != painting.shape \
                or last.source_grey.shape != grey.shape:
            return painting
        flow, moving = self._carrier.flow_and_motion(grey, last.source_grey)
        previous = self._carrier.warp(last.image, flow * moving[..., None])
        dt = min(t - last.t, 10 * STEADY_S) if t > last.t else STEADY_S  # no time given: as a Pi 4
        share = self.steadiness ** (dt / STEADY_S)
        moving_share = max(0.0, 1.0 - dt / STEADY_S)
        keep = cv2.resize((1.0 - moving) * share + moving * moving_share, painting.shape[1::-1],
                          interpolation=cv2.INTER_LINEAR)
        return cv2.blendLinear(previous, painting, keep, 1.0 - keep)

    def close(self) -> None:
        self.stylizer = None


@register_stage("style")
def build(request: StageRequest, context: AnalysisContext) -> StyleStage:
    p: StyleParams = request.params
    spec = parse_style(p.style, p.styles_dir)
    stylizer = create_stylizer(spec, context.store, paths.style_cache_dir(context.state_dir), p.size)
    return StyleStage(request.key, stylizer, p.flow_width, p.steadiness)
