"""A long exposure in paint: translucent brush strokes piling up on one canvas over a dusk ground.

Each stroke is laid *over* what is there, as a glaze: where it covers `a`, the paint becomes
paint (1 - a) + colour a and the bare part of the canvas shrinks to bare (1 - a). So strokes
build up, newest on top, and nothing fades: a hand that passes ten times lays a denser colour
than one that passed once.

What the screen shows is the paint over the room darkened into the ground colour:
out = paint + bare ((1 - room) ground + room picture). The canvas (float32, the frame's size)
keeps `front` = paint + bare (1 - room) ground, which a stroke changes by the same glaze rule,
and `bare`; so out = front + room bare picture, one OpenCV blend of a uint8 `layer` and the
picture with weights 1 - w and w = room bare, all three refreshed only inside the rectangle a
new stroke touched. A frame without a new pose result costs that one blend, as the trails' does.

The brush is flat and made of bristles side by side along its edge, each with its own load of
paint (streaks, a dry edge), fixed per visitor and keypoint so a stroke's streaks run on
unbroken. Its coverage is multiplied by the canvas's tooth (a fixed weave-and-grain texture),
so paint sits thicker on the ridges, as on a primed canvas.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from appliance.core.lazy import cv2

Box = tuple[int, int, int, int]  # y0, y1, x0, x1
BRISTLE_PX = 2.5      # brush width per bristle: a 20 px brush has 8 bristles
MAX_BRISTLES = 12
BRISTLE_OVERLAP = 0.65  # half a bristle's width, in bristle spacings: neighbours overlap a little
TOOTH = (0.62, 1.0)   # the canvas texture scales coverage between these
SEAM_PX = 0.75        # a segment starts this far past the last one's end: their shared edge is painted once
SHIFT = 4             # fractional bits of the quads' corners: sub-pixel edges
SUBPIXEL = 1 << SHIFT


@functools.lru_cache(maxsize=2)
def canvas_tooth(h: int, w: int, seed: int = 7) -> np.ndarray:
    """A primed canvas's surface (float32, TOOTH[0]..TOOTH[1]): a fine weave of threads every
    few pixels and some soft grain, the same for every canvas of this size (made once: a mode
    switch back to the evening does not pay for it again). Read-only."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    weave = 0.5 + 0.25 * (np.sin(xx * 1.9) + np.sin(yy * 1.9))
    grain = cv2.resize(rng.random((max(1, h // 3), max(1, w // 3))).astype(np.float32), (w, h),
                       interpolation=cv2.INTER_LINEAR)
    surface = 0.55 * weave + 0.45 * grain
    lo, hi = TOOTH
    tooth = (lo + (hi - lo) * (surface - surface.min()) / (np.ptp(surface) + 1e-6)).astype(np.float32)
    tooth.flags.writeable = False
    return tooth


@dataclass(frozen=True)
class Brush:
    """A flat brush: the direction its edge is held in (a unit vector: a painter holds a brush
    at one angle whichever way the hand moves) and each bristle's load of paint."""

    nib: np.ndarray
    loads: np.ndarray


class Bristles:
    """One brush per visitor and keypoint, drawn from a generator seeded by (track, keypoint),
    so it never changes: its edge held at 45-135 degrees (a walker, moving sideways, lays broad
    bands), its bristles loaded 0.35-1 (the streaks)."""

    def __init__(self) -> None:
        self._brushes: dict[tuple[int, int], Brush] = {}

    def of(self, track: int, point: int) -> Brush:
        key = (int(track) & 0xFFFF, int(point))
        if key not in self._brushes:
            if len(self._brushes) > 512:  # an evening of visitors: old brushes go
                self._brushes.clear()
            rng = np.random.default_rng(key)
            angle = np.radians(rng.uniform(45.0, 135.0))
            self._brushes[key] = Brush(np.array([np.cos(angle), np.sin(angle)]),
                                       rng.uniform(0.35, 1.0, MAX_BRISTLES))
        return self._brushes[key]


def band_quads(a: np.ndarray, b: np.ndarray, nib: np.ndarray, width: np.ndarray,
               n: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """S segments at once, from a[s] to b[s] ((S, 2) pixels), each painted by n[s] bands side
    by side along the unit vector nib[s] over width[s] px: a flat brush's bristles (n > 1), or
    one broad band, a glaze (n = 1). Returns each band's parallelogram (T, 4, 2), the segment
    it belongs to and its place in the brush (T,). Flat-ended, not round-capped: consecutive
    segments of a stroke (laid by consecutive results, each over the last) then meet edge to
    edge, where round caps would overlap and a glaze show a bead at every joint. And as the
    brush does not turn, they share that edge exactly."""
    along = b - a
    a = a + along * (SEAM_PX / np.maximum(np.hypot(along[:, 0], along[:, 1]), 2 * SEAM_PX))[:, None]
    owner = np.repeat(np.arange(len(n)), n)
    place = np.arange(owner.size) - np.repeat(np.cumsum(n) - n, n)
    step = width / n
    half = step * np.where(n > 1, BRISTLE_OVERLAP, 0.5)
    offset = ((place - (n[owner] - 1) / 2) * step[owner])[:, None] * nib[owner]
    side = nib[owner] * half[owner][:, None]
    start, end = a[owner] + offset, b[owner] + offset
    return np.stack([start - side, start + side, end + side, end - side], axis=1), owner, place


def bristle_count(width: np.ndarray) -> np.ndarray:
    """Bristles of brushes `width` px wide: one per BRISTLE_PX, 3 to MAX_BRISTLES."""
    return np.clip(np.round(width / BRISTLE_PX), 3, MAX_BRISTLES).astype(np.int64)


class Patch:
    """One visitor's new strokes before they are laid: their coverage (uint8) over the
    rectangle `box` of the canvas that holds them, all in the visitor's `colour`. Not
    antialiased: a soft edge drawn over a neighbouring bristle would cut a dark line into the
    stroke, and two soft edges meeting at a joint would paint it twice (`Exposure.lay` softens
    the whole patch instead)."""

    def __init__(self, box: Box, colour: tuple[int, int, int]):
        self.box = box
        y0, y1, x0, x1 = box
        self.alpha = np.zeros((y1 - y0, x1 - x0), np.uint8)
        self.colour = (*(float(c) for c in colour), 0.0)  # an OpenCV scalar

    @classmethod
    def of(cls, quads: np.ndarray, alphas: np.ndarray, colour: tuple[int, int, int],
           size: tuple[int, int]) -> Patch | None:
        """The quads, each with its coverage (0-255) and drawn in order (later over earlier),
        on a patch just big enough (None: nothing lands inside the h x w canvas)."""
        corners = quads.reshape(-1, 2)
        h, w = size
        x0, y0 = np.maximum(np.floor(corners.min(axis=0)) - 2, 0).astype(int)  # 2: the blur's reach
        x1, y1 = np.minimum(np.ceil(corners.max(axis=0)) + 3, [w, h]).astype(int)
        if x0 >= x1 or y0 >= y1:
            return None
        patch = cls((int(y0), int(y1), int(x0), int(x1)), colour)
        fixed = np.round((quads - [x0, y0]) * SUBPIXEL).astype(np.int32)
        for quad, alpha in zip(fixed, np.minimum(alphas, 255.0).tolist()):
            cv2.fillConvexPoly(patch.alpha, quad, alpha, cv2.LINE_8, SHIFT)
        return patch


def painting_of(front: np.ndarray, bare: np.ndarray, lit_ground: np.ndarray) -> np.ndarray:
    """The painting alone on its ground (uint8 BGR), from `Exposure.copy()`: no camera
    picture, so nobody's face."""
    out = front + bare[..., None] * lit_ground
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def bgra_of(front: np.ndarray, bare: np.ndarray, lit_ground: np.ndarray) -> np.ndarray:
    """The painting with its coverage as alpha: what is kept on disk."""
    alpha = np.clip((1.0 - bare) * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return np.dstack([painting_of(front, bare, lit_ground), alpha])


class Exposure:
    """The painting and what the screen shows of it (see the module's docstring)."""

    def __init__(self, h: int, w: int, ground: tuple[int, int, int], room: float):
        self.ground = np.asarray(ground, np.float32)
        self.room = float(room)
        self.front = np.empty((h, w, 3), np.float32)
        self.bare = np.empty((h, w), np.float32)
        self.tooth = canvas_tooth(h, w) / 255.0  # coverage per level of a patch's 0-255
        self.layer = np.empty((h, w, 3), np.uint8)
        self.w_picture = np.empty((h, w), np.float32)
        self.w_layer = np.empty((h, w), np.float32)
        self.clear()

    @property
    def shape(self) -> tuple[int, int]:
        return self.bare.shape

    def show(self, picture: np.ndarray, out: np.ndarray) -> np.ndarray:
        """The paint over the darkened room: one blend."""
        return cv2.blendLinear(self.layer, picture, self.w_layer, self.w_picture, dst=out)

    def lay(self, patch: Patch) -> None:
        """Lay a patch's strokes over the paint (textured by the tooth) and refresh its box."""
        y0, y1, x0, x1 = box = patch.box
        a = cv2.GaussianBlur(patch.alpha, (3, 3), 0).astype(np.float32)  # paint, not cut paper
        a *= self.tooth[y0:y1, x0:x1]
        keep = 1.0 - a
        # front (1 - a) + colour a, in OpenCV: numpy broadcasting a weight over 3 channels of a
        # strided slice takes three times as long (not cv2.blendLinear: it adds 1e-5 to the
        # weights' sum, and over an evening of strokes that darkens the paint)
        self.front[y0:y1, x0:x1] = cv2.add(cv2.multiply(self.front[y0:y1, x0:x1], cv2.merge([keep] * 3)),
                                           cv2.multiply(cv2.merge([a] * 3), patch.colour))
        self.bare[y0:y1, x0:x1] *= keep
        self.painted = True
        self._refresh(box)

    def _refresh(self, box: Box) -> None:
        y0, y1, x0, x1 = box
        w_picture = self.room * self.bare[y0:y1, x0:x1]
        self.w_picture[y0:y1, x0:x1] = w_picture
        w_layer = 1.0 - w_picture
        self.w_layer[y0:y1, x0:x1] = w_layer
        self.layer[y0:y1, x0:x1] = cv2.divide(self.front[y0:y1, x0:x1], cv2.merge([w_layer] * 3), dtype=cv2.CV_8U)

    def copy(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """What `painting_of`/`bgra_of` make the painting from, as it is now, for another
        thread (two copies, a millisecond or two: the display thread never encodes a PNG)."""
        return self.front.copy(), self.bare.copy(), self.room * self.ground

    def load_bgra(self, bgra: np.ndarray) -> None:
        """Take a kept painting back (resized to this canvas if the frame size changed)."""
        h, w = self.shape
        if bgra.shape[:2] != (h, w):
            bgra = cv2.resize(bgra, (w, h), interpolation=cv2.INTER_AREA)
        self.bare[:] = 1.0 - bgra[..., 3].astype(np.float32) / 255.0
        front = bgra[..., :3].astype(np.float32) - self.bare[..., None] * (self.room * self.ground)
        np.maximum(front, 0.0, out=self.front)
        self.painted = bool(self.bare.min() < 1.0)
        self._refresh((0, h, 0, w))

    def clear(self) -> None:
        self.front[:] = (1.0 - self.room) * self.ground
        self.bare.fill(1.0)
        self.painted = False  # any paint at all
        self._refresh((0, self.shape[0], 0, self.shape[1]))
