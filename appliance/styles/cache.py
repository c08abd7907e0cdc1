"""Style vectors of pictures, cached on disk by what the picture IS, not what it is called.

The key is sha256(picture bytes) + sha256 of the predictor model: renaming a picture reuses its
vector, editing it (same name, new bytes) or shipping a new predictor computes a new one. Files
are written atomically (temp, fsync, rename), so a power cut leaves the old cache or the new one.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

from appliance.atomic import atomic_path
from appliance.errors import ModelError

log = logging.getLogger(__name__)

PREDICT_SIDE = 256
Predictor = Callable[[np.ndarray], np.ndarray]  # RGB uint8 [1,256,256,3] -> style vector


def predictor_input(image_bgr: np.ndarray) -> np.ndarray:
    """The predictor's input per the manifest: RGB, centre square crop, area-resized to 256x256."""
    h, w = image_bgr.shape[:2]
    side = min(h, w)
    y, x = (h - side) // 2, (w - side) // 2
    square = cv2.resize(image_bgr[y:y + side, x:x + side], (PREDICT_SIDE, PREDICT_SIDE),
                        interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(square, cv2.COLOR_BGR2RGB)[None]


class StyleVectorCache:
    """`vector(path)`: the picture's style vector, from disk when its content was seen before."""

    def __init__(self, folder: Path, predictor: Predictor, model_sha256: str):
        self.folder = Path(folder)
        self.predictor = predictor
        self.model_sha256 = model_sha256
        self.computed = 0  # predictor runs, for tests and logs

    def key(self, data: bytes) -> str:
        return f"{hashlib.sha256(data).hexdigest()}-{self.model_sha256[:16]}"

    def vector(self, path: Path) -> np.ndarray:
        data = Path(path).read_bytes()
        cached = self.folder / f"{self.key(data)}.npy"
        vector = self._load(cached)
        if vector is None:
            vector = self._compute(data, path)
            self._store(cached, vector)
        return vector

    def _load(self, cached: Path) -> np.ndarray | None:
        try:
            vector = np.load(cached, allow_pickle=False)
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            log.warning("style cache %s unreadable (%s); computing it again", cached, exc)
            return None
        return vector.astype(np.float32) if vector.size == 100 else None

    def _compute(self, data: bytes, path: Path) -> np.ndarray:
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        if image is None:
            raise ModelError(f"style picture {path}: not a readable image")
        self.computed += 1
        return np.asarray(self.predictor(predictor_input(image)), np.float32).reshape(1, 1, 1, 100)

    def _store(self, cached: Path, vector: np.ndarray) -> None:
        """Best effort: a read-only disk costs a recomputation at the next start, nothing more."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with atomic_path(cached) as tmp:
                with open(tmp, "wb") as handle:
                    np.save(handle, vector.astype(np.float32), allow_pickle=False)
        except OSError as exc:
            log.warning("style cache %s not written (%s)", cached, exc)
