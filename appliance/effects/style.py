"""Paint the visitor in a style: Kandinsky's by default, any of 26 built-in ones, or any picture.

The painting itself is slow (~0.2 s on a PC, ~0.3 s projected on a Pi 4), so it is an analysis
stage: the worker paints KEYFRAMES of the newest frame while the display carries on. Every displayed frame
takes the newest keyframe and, with `carry_forward`, moves it along optical flow to where the
content is now (a few ms), so the painting follows the visitor between keyframes instead of
lagging and jumping. Until the first keyframe (at a start or a mode switch) the underpainting
is shown (`appliance.paint.underpainting`), and the first keyframe fades in over it: a style
mode never shows the camera picture. Put geometry effects (mirror) after this one: the
keyframes are painted from the camera's frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from appliance.config.schema import setting
from appliance.core.frame import FrameMeta
from appliance.core.lazy import cv2
from appliance.core.registry import register_effect
from appliance.core.results import Keyframe
from appliance.core.stages import AnalysisContext, StageRequest, StyleParams, style_request
from appliance.paint.underpainting import underpainting
from appliance.styles.flow import FlowCarrier
from appliance.styles.sources import StyleError, parse_style

FIRST_FADE_FRAMES = 10  # the first keyframe fades in over the underpainting this many frames


def _check_style(text: str) -> str | None:
    """Syntax of builtin:/blend: styles at config check; pictures are looked up when the mode starts."""
    if text.startswith(("builtin:", "blend:")):
        try:
            parse_style(text)
        except StyleError as exc:
            return str(exc)
    return None if text.strip() else "empty style"


@register_effect
class Style:
    name = "style"

    @dataclass
    class Params:
        style: str = setting("kandinsky", check=_check_style,
                             help='"kandinsky", "builtin:N" (0-25), "blend:N=w,M=w", or a picture name/path')
        styles_dir: str = setting("", help="folder of style pictures (any painting); empty: the shipped ones")
        strength: float = setting(1.0, min=0.0, max=1.0, help="0 the camera picture, 1 the painting")
        keep_colours: bool = setting(False, help="paint the light and dark only; keep the visitor's own colours")
        size: int = setting(288, min=128, max=720,
                            help="keyframe short side in px for built-in styles (pictures: fixed 384 long side)")
        carry_forward: bool = setting(True, help="move the newest painting along optical flow between keyframes")
        flow_width: int = setting(320, min=64, max=640, help="width of the frames optical flow is computed on")
        fade_frames: int = setting(0, min=0, max=30,
                                   help="frames over which a new keyframe fades in where nothing moved (the "
                                        "steadiness already settles still areas; useful with steadiness 0)")
        steadiness: float = setting(0.8, min=0.0, max=0.95,
                                    help="share of the previous keyframe kept where nothing moved, for "
                                         "keyframes 0.4 s apart (less shimmer; with carry_forward)")

        def problems(self) -> list[str]:
            """What the config check finds beyond each key alone: the style picture must be
            there (in `styles_dir`, or shipped) for the mode to start."""
            try:
                parse_style(self.style, self.styles_dir)
            except StyleError as exc:
                return [f"style: {exc}"]
            return []

    def __init__(self, params: "Style.Params"):
        self.p = params
        steadiness = params.steadiness if params.carry_forward else 0.0  # both follow flow
        self.request = style_request(StyleParams(params.style, params.styles_dir, params.size,
                                                 params.flow_width, steadiness))
        self.carrier = FlowCarrier(params.flow_width, params.fade_frames)
        self.first_fade = 0

    def stages(self, context: AnalysisContext) -> list[StageRequest]:
        return [self.request]

    def process(self, image: np.ndarray, meta: FrameMeta) -> np.ndarray:
        if self.p.strength <= 0.0:
            return image
        keyframe = meta.results.get(self.request.key, Keyframe)
        if keyframe is None:  # nothing painted yet (a start, a mode switch): the underpainting,
            painting = underpainting(image)  # never the camera picture, never a blank screen
            self.first_fade = FIRST_FADE_FRAMES
        else:
            painting = self._faded_in(self.painting(keyframe, image, meta), image)
        if self.p.keep_colours:
            painting = keep_colours(painting, image)
        if self.p.strength >= 1.0:
            return painting
        return cv2.addWeighted(painting, self.p.strength, image, 1.0 - self.p.strength, 0.0)

    def _faded_in(self, painting: np.ndarray, image: np.ndarray) -> np.ndarray:
        """The first keyframe after the underpainting fades in over FIRST_FADE_FRAMES."""
        if self.first_fade <= 0:
            return painting
        keep = self.first_fade / (FIRST_FADE_FRAMES + 1)
        self.first_fade -= 1
        return cv2.addWeighted(underpainting(image), keep, painting, 1.0 - keep, 0.0)

    def painting(self, keyframe: Keyframe, image: np.ndarray, meta: FrameMeta) -> np.ndarray:
        """The keyframe, carried to this frame (flow on the camera's picture), at the frame's size."""
        painting = keyframe.image
        if self.p.carry_forward:
            camera = meta.original if meta.original is not None else image
            painting = self.carrier.carry(painting, keyframe.source_grey, camera, keyframe.index,
                                          meta.index, keyframe.index)
        h, w = image.shape[:2]
        if painting.shape[:2] != (h, w):
            painting = cv2.resize(painting, (w, h), interpolation=cv2.INTER_LINEAR)
        return painting

    def close(self) -> None:
        self.carrier.reset()


def keep_colours(painting: np.ndarray, image: np.ndarray) -> np.ndarray:
    """The painting's light and dark (luma) with the picture's own colour (chroma)."""
    luma = cv2.cvtColor(painting, cv2.COLOR_BGR2YCrCb)
    colour = cv2.cvtColor(image, cv2.COLOR_BGR2YCrCb)
    colour[..., 0] = luma[..., 0]
    return cv2.cvtColor(colour, cv2.COLOR_YCrCb2BGR)
