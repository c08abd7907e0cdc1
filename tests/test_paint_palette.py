"""A palette from a painting: the shipped Kandinsky gives its ground and its vivid colours."""

from __future__ import annotations

import cv2
import numpy as np

from appliance.paint.palette import COLOURS, DARK, picture_palette
from appliance.paths import SHIPPED_STYLES


def hue(bgr) -> float:
    return float(cv2.cvtColor(np.array([[bgr]], np.uint8), cv2.COLOR_BGR2HSV)[0, 0, 0]) * 2  # degrees


def test_the_kandinsky_picture_gives_its_mauve_ground_and_its_primaries():
    palette = picture_palette(SHIPPED_STYLES / "kandinsky.png")
    b, g, r = palette.ground
    assert r > g and b > g and 90 < g < 130  # the mauve that fills most of the picture
    hues = [hue(c) for c in palette.colours]
    assert 5 <= len(hues) <= 8
    for name, (lo, hi) in {"yellow": (40, 60), "orange": (25, 40), "red": (350, 360), "blue": (200, 250)}.items():
        assert any(lo <= h <= hi or (lo > hi and (h >= lo or h <= hi)) for h in hues) or \
            (name == "red" and any(h <= 5 or h >= 340 for h in hues)), (name, hues)
    colours = np.array(palette.colours, float)
    gaps = np.linalg.norm(colours[:, None] - colours[None], axis=2) + np.eye(len(colours)) * 999
    assert gaps.min() >= 50  # no two alike
    assert picture_palette(SHIPPED_STYLES / "kandinsky.png", 3).colours == palette.colours[:3]


def test_a_picture_that_cannot_be_read_gives_the_built_in_palette(tmp_path):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a picture")
    assert picture_palette(broken).colours == COLOURS and picture_palette(broken).ground == DARK
