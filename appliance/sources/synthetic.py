"""Generated frames: a moving scene that needs no file, camera or display.

Each frame carries its own index as a row of black/white blocks in the top-left corner
(`encode_index`/`decode_index`), so a test can tell exactly which frames reached an output,
even after lossy video encoding.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

INDEX_BITS = 16
BLOCK = 12  # pixels per bit block; big enough to survive MPEG-4 compression


def encode_index(image: np.ndarray, index: int) -> None:
    for bit in range(INDEX_BITS):
        value = 255 if (index >> bit) & 1 else 0
        image[:BLOCK, bit * BLOCK:(bit + 1) * BLOCK] = value


def decode_index(image: np.ndarray) -> int:
    index = 0
    for bit in range(INDEX_BITS):
        block = image[2:BLOCK - 2, bit * BLOCK + 2:(bit + 1) * BLOCK - 2]
        if block.mean() > 127:
            index |= 1 << bit
    return index


class SyntheticSource:
    live = False

    def __init__(self, width: int = 640, height: int = 480, fps: float = 30.0):
        if width < INDEX_BITS * BLOCK:
            width = INDEX_BITS * BLOCK
        self.size = (width, height)
        self.fps = fps
        self.description = f"synthetic {width}x{height} @ {fps:g} fps"
        self._index = 0
        self._background = self._make_background(width, height)

    @staticmethod
    def _make_background(width: int, height: int) -> np.ndarray:
        ramp = np.linspace(40, 110, height, dtype=np.float32)[:, None]
        image = np.zeros((height, width, 3), np.uint8)
        image[..., 0] = ramp.astype(np.uint8)  # blue deepens downwards
        image[..., 1] = (ramp * 0.4).astype(np.uint8)
        image[..., 2] = 20
        return image

    def open(self) -> None:
        self._index = 0

    def read(self) -> np.ndarray:
        image = self.render(self._index)
        self._index += 1
        return image

    def render(self, index: int) -> np.ndarray:
        """The frame for `index`: the same index always gives the same picture."""
        w, h = self.size
        image = self._background.copy()
        t = index / self.fps
        colours = ((0, 215, 255), (40, 40, 220), (200, 90, 20))  # yellow, red, blue (BGR)
        for k, colour in enumerate(colours):
            cx = int(w * (0.5 + 0.35 * math.sin(t * (0.7 + 0.3 * k) + k)))
            cy = int(h * (0.55 + 0.3 * math.cos(t * (0.5 + 0.2 * k) + 2 * k)))
            cv2.circle(image, (cx, cy), int(min(w, h) * (0.06 + 0.03 * k)), colour, -1, cv2.LINE_AA)
        self._draw_figure(image, t)
        encode_index(image, index)
        return image

    def _draw_figure(self, image: np.ndarray, t: float) -> None:
        """A waving stick figure, so effects that follow people have something to follow."""
        w, h = self.size
        s = min(w, h) / 480
        x = int(w * 0.5 + w * 0.2 * math.sin(t * 0.4))
        hip, neck = (x, int(h * 0.62)), (x, int(h * 0.38))
        wave = math.sin(t * 3.0)
        hands = [(x - int(110 * s), int(h * 0.38 - 80 * s * wave)), (x + int(110 * s), int(h * 0.38 + 80 * s * wave))]
        feet = [(x - int(50 * s), int(h * 0.9)), (x + int(50 * s), int(h * 0.9))]
        white = (235, 235, 235)
        thick = max(2, int(8 * s))
        cv2.circle(image, (x, int(h * 0.38 - 40 * s)), int(28 * s), white, thick, cv2.LINE_AA)
        cv2.line(image, neck, hip, white, thick, cv2.LINE_AA)
        for end in hands:
            cv2.line(image, neck, end, white, thick, cv2.LINE_AA)
        for end in feet:
            cv2.line(image, hip, end, white, thick, cv2.LINE_AA)

    def close(self) -> None:
        pass
