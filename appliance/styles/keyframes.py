"""Stylised keyframes: the slow model run, done beside the display loop on the newest frame.

A keyframe carries the painting (BGR, at the model's resolution) and a small grey copy of the
frame it was painted from, which the display side needs to carry it forward along optical flow.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from appliance.frame import FrameMeta
from appliance.styles.cache import StyleVectorCache
from appliance.styles.flow import FlowCarrier, flow_frame
from appliance.styles.sources import StyleSpec

ARBITRARY_SIDE = 384  # the arbitrary-style transformer's fixed input


@dataclass
class Keyframe:
    image: np.ndarray        # the painting, BGR uint8, at keyframe resolution
    source_grey: np.ndarray  # the frame it was painted from, grey, at flow resolution
    index: int               # that frame's index
    ms: float                # how long painting it took


class Stylizer(Protocol):
    def stylize(self, image_bgr: np.ndarray) -> np.ndarray: ...


def _input_name(model, rank: int) -> str:
    return next(d["name"] for d in model.inputs if len(d["shape"]) == rank)


def _to_bgr(stylized_rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor((np.clip(stylized_rgb, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8), cv2.COLOR_RGB2BGR)


def keyframe_size(width: int, height: int, short_side: int) -> tuple[int, int]:
    """(w, h) with the short side near `short_side`, both multiples of 4 (the network needs it)."""
    scale = short_side / min(width, height)
    return max(4, int(round(width * scale / 4)) * 4), max(4, int(round(height * scale / 4)) * 4)


class MultiStyle:
    """The 26 built-in styles (or a mixture) at any resolution: resize_input follows the frame."""

    def __init__(self, model, weights: np.ndarray, short_side: int):
        self.model = model
        self.weights = np.asarray(weights, np.float32)
        self.short_side = short_side
        self._weights_name = _input_name(model, 1)
        self._image_name = _input_name(model, 4)

    def stylize(self, image_bgr: np.ndarray) -> np.ndarray:
        w, h = keyframe_size(image_bgr.shape[1], image_bgr.shape[0], self.short_side)
        rgb = cv2.cvtColor(cv2.resize(image_bgr, (w, h), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2RGB)
        with self.model.lock:  # resize and run as one step
            if self.model.input_shape != (1, h, w, 3):
                self.model.resize_input(self._image_name, (1, h, w, 3))
            out = self.model.run({self._weights_name: self.weights, self._image_name: rgb[None]})
        return _to_bgr(next(iter(out.values()))[0])


class ArbitraryStyle:
    """Any picture's style vector through the transformer: longer side to 384, reflect-padded."""

    def __init__(self, model, vector: np.ndarray):
        self.model = model
        self.vector = np.asarray(vector, np.float32).reshape(1, 1, 1, -1)
        self._vector_name = next(d["name"] for d in model.inputs if d["dtype"] == np.float32)
        self._image_name = next(d["name"] for d in model.inputs if d["dtype"] == np.uint8)

    def stylize(self, image_bgr: np.ndarray) -> np.ndarray:
        h, w = image_bgr.shape[:2]
        scale = ARBITRARY_SIDE / max(h, w)
        sw, sh = max(1, round(w * scale)), max(1, round(h * scale))
        small = cv2.resize(image_bgr, (sw, sh), interpolation=cv2.INTER_AREA)
        padded = cv2.copyMakeBorder(small, 0, ARBITRARY_SIDE - sh, 0, ARBITRARY_SIDE - sw, cv2.BORDER_REFLECT_101)
        rgb = cv2.cvtColor(padded, cv2.COLOR_BGR2RGB)[None]
        out = self.model.run({self._vector_name: self.vector, self._image_name: rgb})
        return _to_bgr(next(iter(out.values()))[0][:sh, :sw])


def create_stylizer(spec: StyleSpec, store, cache_dir: Path, short_side: int) -> Stylizer:
    """The stylizer for `spec`, loading (and verifying) its models from `store`."""
    if spec.kind == "builtin":
        return MultiStyle(store.load("style_multistyle26"), spec.weight_array(), short_side)
    def predict(picture: np.ndarray) -> np.ndarray:
        """Loaded only when the vector is not cached yet, and let go right after."""
        return next(iter(store.load("style_arbitrary_predict").run(picture).values()))

    cache = StyleVectorCache(cache_dir, predict, store.entries["style_arbitrary_predict"].sha256)
    return ArbitraryStyle(store.load("style_arbitrary_transform"), cache.vector(spec.image))


class StyleAnalyzer:
    """Paints the newest frame it is given; its result is a Keyframe.

    The network repaints still parts of the scene a little differently every time (its brush
    texture follows camera noise), which would make each new keyframe jump. With `steadiness`
    s > 0, where the picture has not changed since the previous keyframe, the new painting is
    s parts the previous one (moved along flow) and 1-s parts new: still areas settle, moving
    ones are painted afresh.
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
        painting = self._steady(painting, grey)
        ms = (time.perf_counter() - started) * 1000.0
        self._last = Keyframe(painting, grey, meta.index, ms)
        return self._last

    def _steady(self, painting: np.ndarray, grey: np.ndarray) -> np.ndarray:
        last = self._last
        if self.steadiness <= 0 or last is None or last.image.shape != painting.shape \
                or last.source_grey.shape != grey.shape:
            return painting
        flow, moving = self._carrier.flow_and_motion(grey, last.source_grey)
        previous = self._carrier.warp(last.image, flow * moving[..., None])
        keep = cv2.resize((1.0 - moving) * self.steadiness, painting.shape[1::-1], interpolation=cv2.INTER_LINEAR)
        return cv2.blendLinear(previous, painting, keep, 1.0 - keep)

    def close(self) -> None:
        self.stylizer = None
