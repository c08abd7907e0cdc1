"""The style networks as painters: a BGR frame in, a painting (BGR, at the network's size) out.

`MultiStyle` paints in one (or a mixture) of the 26 built-in styles at any resolution;
`ArbitraryStyle` paints in the style of any picture, through its style vector (computed once by
the predictor network and cached on disk by `appliance.styles.cache`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from appliance.styles.cache import StyleVectorCache
from appliance.styles.sources import StyleSpec

ARBITRARY_SIDE = 384  # the arbitrary-style transformer's longer side
MIN_SIDE = 64  # its reflection padding inside needs a picture at least this big


class Stylizer(Protocol):
    def stylize(self, image_bgr: np.ndarray) -> np.ndarray: ...


def _input_name(model, rank: int) -> str:
    return next(d["name"] for d in model.inputs if len(d["shape"]) == rank)


def _to_bgr(stylized_rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor((np.clip(stylized_rgb, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8), cv2.COLOR_RGB2BGR)


def _run_at(model, image_name: str, rgb: np.ndarray, others: dict[str, np.ndarray]) -> np.ndarray:
    """The network on `rgb` (1, h, w, 3), its input resized to that shape first: resize and run
    as one step under the model's lock (another stage may share the model)."""
    with model.lock:
        if model.input_shape != rgb.shape:
            model.resize_input(image_name, rgb.shape)
        out = model.run({**others, image_name: rgb})
    return next(iter(out.values()))[0]


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
        return _to_bgr(_run_at(self.model, self._image_name, rgb[None], {self._weights_name: self.weights}))


class ArbitraryStyle:
    """Any picture's style vector through the transformer, at the frame's aspect.

    The converted transformer is fully convolutional, so its input is resized to the frame
    (longer side 384, both sides multiples of 4) instead of padding a 4:3 frame to 384x384:
    a quarter less work per keyframe, so a Pi paints keyframes a third more often. The
    painting differs from the padded one by about the network's own frame-to-frame change.
    """

    def __init__(self, model, vector: np.ndarray):
        self.model = model
        self.vector = np.asarray(vector, np.float32).reshape(1, 1, 1, -1)
        self._vector_name = next(d["name"] for d in model.inputs if d["dtype"] == np.float32)
        self._image_name = next(d["name"] for d in model.inputs if d["dtype"] == np.uint8)

    def stylize(self, image_bgr: np.ndarray) -> np.ndarray:
        short = round(ARBITRARY_SIDE * min(image_bgr.shape[:2]) / max(image_bgr.shape[:2]))
        w, h = keyframe_size(image_bgr.shape[1], image_bgr.shape[0], max(4, short))
        small = cv2.resize(image_bgr, (w, h), interpolation=cv2.INTER_AREA)
        pw, ph = max(w, MIN_SIDE), max(h, MIN_SIDE)  # a sliver of a frame: reflect-padded, cropped after
        if (pw, ph) != (w, h):
            small = cv2.copyMakeBorder(small, 0, ph - h, 0, pw - w, cv2.BORDER_REFLECT_101 if min(w, h) > 1
                                       else cv2.BORDER_REPLICATE)
        rgb = cv2.cvtColor(small, cv2.COLOR_BGR2RGB)[None]
        return _to_bgr(_run_at(self.model, self._image_name, rgb, {self._vector_name: self.vector})[:h, :w])


def create_stylizer(spec: StyleSpec, store, cache_dir: Path, short_side: int) -> Stylizer:
    """The stylizer for `spec`, loading (and verifying) its models from `store`."""
    if spec.kind == "builtin":
        return MultiStyle(store.load("style_multistyle26"), spec.weight_array(), short_side)
    def predict(picture: np.ndarray) -> np.ndarray:
        """Loaded only when the vector is not cached yet, and let go right after."""
        return next(iter(store.load("style_arbitrary_predict").run(picture).values()))

    cache = StyleVectorCache(cache_dir, predict, store.entries["style_arbitrary_predict"].sha256)
    return ArbitraryStyle(store.load("style_arbitrary_transform"), cache.vector(spec.image))
