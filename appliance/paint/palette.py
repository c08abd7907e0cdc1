"""Colours shared by the pose effects: a Kandinsky-like palette of vivid primaries and black.

Each visitor keeps one colour for as long as they are tracked, so the colour is chosen from
the track id alone (no state): the same id gives the same colour in every effect and every
frame, and neighbouring ids (people who arrived one after the other) get far-apart colours.
Colours are BGR, OpenCV's order. `picture_palette` takes a palette from a painting instead:
its ground and its vivid colours, for an effect painted "in the colours of the style".
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from appliance.core.lazy import cv2

BLACK = (0, 0, 0)
DARK = (18, 16, 14)  # the "empty gallery" dark: not pure black, so the screen reads as on

# Ordered so that consecutive entries contrast strongly (primary, then its opposite, ...).
PALETTE: dict[str, tuple[int, int, int]] = {
    "red": (40, 30, 215),        # cadmium red
    "blue": (170, 70, 20),       # ultramarine
    "yellow": (20, 205, 250),    # chrome yellow
    "violet": (140, 40, 120),
    "orange": (10, 120, 245),    # vermilion orange
    "green": (80, 150, 20),
    "magenta": (130, 20, 210),
    "sky": (225, 160, 50),       # cerulean
}
COLOURS: tuple[tuple[int, int, int], ...] = tuple(PALETTE.values())


def track_colour(track_id: int) -> tuple[int, int, int]:
    """The colour of a track: stable for its lifetime, different from the next few ids."""
    return COLOURS[int(track_id) % len(COLOURS)]


def named_colour(name: str) -> tuple[int, int, int]:
    """A palette colour by name ("red", "blue" ...); unknown names get the first colour."""
    return PALETTE.get(name, COLOURS[0])


@dataclass(frozen=True)
class PicturePalette:
    """A painting's colours: its `ground` (the colour it shows most) and its vivid `colours`,
    the most used first, no two alike."""

    ground: tuple[int, int, int]
    colours: tuple[tuple[int, int, int], ...]


LOOK_AT = 128          # the picture is read at this size: colours, not detail
VIVID_SATURATION = 100  # HSV (0-255) a pixel needs to count as a colour, not a grey or the ground
VIVID_VALUE = 80
HUE_STEP = 8            # OpenCV hue (0-180) per bin: 20 degrees
MIN_SHARE = 0.005       # of the vivid pixels, for a hue to be a colour of the picture
DISTINCT = 50.0         # BGR distance below which two colours are the same colour


@functools.lru_cache(maxsize=8)
def picture_palette(path: Path, most: int = 8) -> PicturePalette:
    """The ground and up to `most` vivid colours of the picture at `path` (read once per
    process). Each colour is the median of the purer half of one hue's pixels, so a red is
    the red the painter laid, not its blend with the ground. Deterministic: the same picture
    gives the same palette. An unreadable picture gives the built-in palette on DARK."""
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        return PicturePalette(DARK, COLOURS)
    small = cv2.resize(image, (LOOK_AT, LOOK_AT), interpolation=cv2.INTER_AREA).reshape(-1, 3)
    hsv = cv2.cvtColor(small.reshape(1, -1, 3), cv2.COLOR_BGR2HSV).reshape(-1, 3).astype(np.int32)
    coarse = (small // 32).astype(np.int32) @ np.array([64, 8, 1])
    ground = small[coarse == np.bincount(coarse).argmax()].mean(axis=0)
    vivid = (hsv[:, 1] >= VIVID_SATURATION) & (hsv[:, 2] >= VIVID_VALUE)
    return PicturePalette(_bgr(ground), _hue_colours(small[vivid], hsv[vivid], most) or COLOURS)


def _hue_colours(pixels: np.ndarray, hsv: np.ndarray, most: int) -> tuple[tuple[int, int, int], ...]:
    bins = hsv[:, 0] // HUE_STEP
    counts = np.bincount(bins, minlength=180 // HUE_STEP + 1)
    chosen: list[np.ndarray] = []
    for b in np.argsort(-counts, kind="stable"):
        if counts[b] < MIN_SHARE * len(pixels) or len(chosen) == most:
            break
        saturation = hsv[bins == b, 1]
        colour = np.median(pixels[bins == b][saturation >= np.median(saturation)], axis=0)
        if all(np.linalg.norm(colour - c) >= DISTINCT for c in chosen):
            chosen.append(colour)
    return tuple(_bgr(c) for c in chosen)


def _bgr(colour: np.ndarray) -> tuple[int, int, int]:
    b, g, r = (int(round(float(v))) for v in colour)
    return b, g, r
