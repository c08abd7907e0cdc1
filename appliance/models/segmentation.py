"""Person segmentation: a per-pixel "is this a person" probability in frame pixels.

meet (256x144, made for 16:9 video calls) and selfie (256x256) both take the whole frame
stretched to their input and return a probability map, which is stretched back. Buffers are
allocated once.
"""

from __future__ import annotations

import cv2
import numpy as np

from appliance.errors import ModelError
from appliance.models.manifest import ModelStore
from appliance.models.runtime import TFLiteModel


class Segmenter:
    def __init__(self, name: str, model: TFLiteModel):
        self.name = name
        self.model = model
        _, self.height, self.width, _ = model.input_shape
        self.buffer = np.zeros(model.input_shape, np.uint8)
        self._small = np.zeros((self.height, self.width, 3), np.uint8)

    def probability(self, image_bgr: np.ndarray) -> np.ndarray:
        """float32 (h, w) in 0-1 at the model's resolution, a new array each call (it is handed
        to the display thread). The effects resize it to the size they work at, so the live
        stage never makes a full-frame float copy."""
        cv2.resize(image_bgr, (self.width, self.height), dst=self._small, interpolation=cv2.INTER_AREA)
        cv2.cvtColor(self._small, cv2.COLOR_BGR2RGB, dst=self.buffer[0])
        return next(iter(self.model.run(self.buffer).values()))[0, :, :, 0]

    def mask(self, image_bgr: np.ndarray) -> np.ndarray:
        """float32 (H, W) in 0-1 for the frame: 1 where a person is."""
        h, w = image_bgr.shape[:2]
        return cv2.resize(self.probability(image_bgr), (w, h), interpolation=cv2.INTER_LINEAR)


def segmentation_models(store: ModelStore) -> list[str]:
    return [n for n, e in store.entries.items() if e.task == "segmentation"]


def create_segmenter(store: ModelStore, name: str) -> Segmenter:
    if name not in segmentation_models(store):
        raise ModelError(f"{name}: not a segmentation model (expected one of: "
                         f"{', '.join(segmentation_models(store))})")
    return Segmenter(name, store.load(name))
