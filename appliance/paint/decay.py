"""Film decay drawn cheaply: burns, chemical stains and flaking emulsion.

What real decay looks like (from archive and projection sources; see `appliance.effects.film`):
a frame stuck in a projector's gate blisters, goes dark and bubbly where the emulsion nearly
burns, and opens into a bright hole where the heat goes right through; decomposing nitrate
turns yellow, then amber, its silver image fades and the base blisters and goes sticky;
acetate with vinegar syndrome shrinks until the emulsion lifts off the base in flakes; wet
decay leaves stains with darker tide lines where the liquid's edge dried.

How it stays cheap: each kind of damage is one uint8 map, made once per frame size and seed,
whose value says when a pixel is reached (0 first .. 254 last, 255 never). Each frame turns the
decay of the moment into a 256-entry table and runs the map through it (`cv2.LUT`), so a
burning front with its bubbles, charred rim and glowing edge costs a lookup and a blend over
the part of the frame it covers, whatever its shape (and the looks are kept while the decay
holds). The burn's map is a distance in pixels, scaled, so the bands of its front (the char,
the glow) are as wide, relative to the frame, on any frame size.
"""

from __future__ import annotations

import numpy as np

from appliance.core.lazy import cv2

LEVELS = 254  # map values a front can reach; 255 is never reached
NEVER = 255
BURN_ORIGINS = ("gate", "edge", "splice", "any")

# A burn, by distance behind (+) or ahead of (-) its front, as a fraction of the frame height:
# (distance, opacity, BGR colour). Ahead, the picture browns and blisters; at the front it is
# charred black; behind, melted celluloid glows amber, then yellow, then the lamp shines through.
SCORCH = (20, 48, 92)
CHAR = (10, 14, 22)
GLOW = (30, 112, 228)
MELT = (140, 210, 255)
HOLE = (222, 244, 255)
BURN_BANDS = ((-0.040, 0.0, SCORCH), (-0.018, 0.45, SCORCH), (-0.004, 0.93, CHAR),
              (0.009, 1.0, CHAR), (0.015, 1.0, GLOW), (0.024, 1.0, MELT), (0.065, 1.0, HOLE))
BURN_DEFECT = -0.03  # from here behind the front the picture is browned or gone: a restorer fills it

# A stain, by distance inside (+) its edge, as a fraction of the frame height: how much of each
# channel (B, G, R) passes. A dark tide line where the edge dried, a yellow-brown blotch inside.
STAIN_BANDS = ((-0.005, (1.0, 1.0, 1.0)), (-0.001, (0.40, 0.52, 0.66)), (0.006, (0.38, 0.50, 0.64)),
               (0.02, (0.66, 0.81, 0.93)), (0.08, (0.76, 0.88, 0.97)))
FLAKE_LEVELS = 127  # flakes are numbered 1..127 in the order they lift (edges: +128)
BASE = (176, 206, 224)  # bare film base where the emulsion has gone, lamp-lit, yellowed
CURL = (38, 48, 60)      # the lifted emulsion's edge


def smooth_noise(rng: np.random.Generator, w: int, h: int, cells: int) -> np.ndarray:
    """Noise in -1..1 with about `cells` blobs across the frame height, float32 (w x h)."""
    ch, cw = max(2, cells), max(2, round(cells * w / h))
    return cv2.resize(rng.uniform(-1, 1, (ch + 1, cw + 1)).astype(np.float32), (w, h),
                      interpolation=cv2.INTER_CUBIC)


def table(points: list[tuple[float, ...]], at: np.ndarray) -> np.ndarray:
    """Values interpolated between control points (position, value...) at positions `at`:
    one column per value, the ends held."""
    xs = np.array([p[0] for p in points], np.float64)
    ys = np.array([p[1:] for p in points], np.float64)
    return np.stack([np.interp(at, xs, ys[:, i]) for i in range(ys.shape[1])], axis=1)


def lut(values: np.ndarray) -> np.ndarray:
    """256 values (one column per channel) as an OpenCV lookup table."""
    values = values.reshape(256, -1)
    return np.clip(np.round(values), 0, 255).astype(np.uint8).reshape(1, 256, values.shape[1])


class Reach:
    """Where a map reaches up to a level: the rows and columns to work on (a front covers part
    of the frame; the rest is not touched)."""

    def __init__(self, index: np.ndarray):
        self.rows = index.min(axis=1)
        self.cols = index.min(axis=0)

    def box(self, level: float) -> tuple[slice, slice] | None:
        rows = np.flatnonzero(self.rows <= level)
        cols = np.flatnonzero(self.cols <= level)
        if not rows.size or not cols.size:
            return None
        return slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)


class Burn:
    """Film eaten by heat from one place: a hot spot in the gate, a frame edge (a lamphouse out
    of line), or a splice across the frame. The front is ragged (noise at three scales) and
    blisters ahead of itself: bubbles are small dips in the map, so they char and pop open just
    before the front swallows them."""

    REACH = {"gate": 0.42, "edge": 0.4, "splice": 0.25}  # at full burn, of the frame height

    def __init__(self, w: int, h: int, rng: np.random.Generator, origin: str):
        if origin == "any":
            origin = ("gate", "edge", "splice")[int(rng.integers(3))]
        self.origin = origin
        distance = self._distance(w, h, rng, origin)
        distance += h * (0.09 * smooth_noise(rng, w, h, 3) + 0.035 * smooth_noise(rng, w, h, 12)
                         + 0.008 * smooth_noise(rng, w, h, 60))
        self.k = LEVELS / (self.REACH[origin] * h)  # map levels per pixel
        levels = distance * self.k
        levels -= self._bubbles(levels, h, rng)
        self.index = np.clip(levels, 0, NEVER).astype(np.uint8)
        self.index3 = cv2.merge([self.index] * 3)
        self.reach = Reach(self.index)
        self.h = h
        self._looks: tuple | None = None  # (front, its look), kept while the front stays put

    @staticmethod
    def _distance(w: int, h: int, rng: np.random.Generator, origin: str) -> np.ndarray:
        """Pixels from where the burn starts."""
        source = np.full((h, w), 255, np.uint8)
        if origin == "gate":
            x, y = int(w * rng.uniform(0.25, 0.75)), int(h * rng.uniform(0.25, 0.7))
            source[y, x] = 0
        elif origin == "edge":
            source[:, 0 if rng.random() < 0.5 else w - 1] = 0
        else:
            y = h * rng.uniform(0.2, 0.8)
            slope = h * rng.uniform(-0.04, 0.04)
            cv2.line(source, (0, int(y - slope)), (w - 1, int(y + slope)), 0, 1)
        return cv2.distanceTransform(source, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)

    @staticmethod
    def _bubbles(levels: np.ndarray, h: int, rng: np.random.Generator) -> np.ndarray:
        """Blisters: round dips (in map levels) with soft rims, where the front can reach
        (elsewhere they would never be seen); the deeper of two overlapping ones wins."""
        dips = np.zeros_like(levels)
        count = levels.size // 220
        ys, xs = rng.uniform(0, levels.shape[0], count), rng.uniform(0, levels.shape[1], count)
        radii = h * np.minimum(0.022, 0.003 + rng.exponential(0.004, count))
        depths = np.minimum(30.0, 4 + rng.exponential(5, count))
        reached = levels[ys.astype(int), xs.astype(int)] < LEVELS + 40
        order = np.argsort(depths[reached], kind="stable")
        for x, y, r, depth in np.stack([xs, ys, radii, depths], axis=1)[reached][order]:
            cv2.circle(dips, (round(x * 4), round(y * 4)), round(r * 4), float(depth), -1, cv2.LINE_8, 2)
        return cv2.GaussianBlur(dips, (0, 0), max(0.8, h / 480))

    def tables(self, front: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For a front at map level `front`: what of the picture is kept (0-255 per channel),
        what colour is added (premultiplied), and where the picture is gone (0/255)."""
        behind = (front - np.arange(256)) / self.k / self.h  # of the frame height, + burned
        bands = table([(d, a, *c) for d, a, c in BURN_BANDS], behind)
        alpha = bands[:, 0]
        alpha[NEVER] = 0.0
        keep = np.repeat(((1.0 - alpha) * 255)[:, None], 3, axis=1)
        add = bands[:, 1:] * alpha[:, None]
        gone = np.where((behind >= BURN_DEFECT) & (np.arange(256) != NEVER), 255, 0)
        return lut(keep), lut(add), lut(gone)

    def draw(self, out: np.ndarray, reach: float, defects: np.ndarray | None = None) -> None:
        """Burn `out` in place up to `reach` (0: not started .. 1: the burn's full extent).
        The front starts a scorch's width before the first pixel, so a burn begins as a
        browning, then chars, then opens."""
        if reach <= 0:
            return
        lead = -BURN_BANDS[0][0] * self.k * self.h
        front = round(reach * (LEVELS + lead) - lead)  # whole levels (about a pixel): looks are kept
        if self._looks is None or self._looks[0] != front:
            self._looks = (front, self._look(front))
        box, keep, add, gone = self._looks[1]
        if box is None:
            return
        part = out[box]
        cv2.multiply(part, keep, dst=part, scale=1 / 255)
        cv2.add(part, add, dst=part)
        if defects is not None:
            cv2.max(defects[box], gone, dst=defects[box])

    def _look(self, front: int) -> tuple:
        """The box the burn covers with the front at `front`, and within it what of the picture
        is kept, the colour added and where the picture is gone: the same for as long as the
        front stays on this level (the hold at full decay, and a frame or two while it moves)."""
        box = self.reach.box(front - BURN_BANDS[0][0] * self.k * self.h)
        if box is None:
            return None, None, None, None
        keep, add, gone = self.tables(front)
        return box, cv2.LUT(self.index3[box], keep), cv2.LUT(self.index3[box], add), \
            cv2.LUT(self.index[box], gone)


class Stains:
    """Chemical stains: blotches that spread (wet decay, or the acid of a nitrate or
    vinegar-syndrome base), yellow-brown inside with a darker tide line at the edge. The map is
    a smooth field, so a spreading stain keeps a round, blotchy outline; its levels per pixel
    (the field's slope) vary a little, and so does the width of the tide line, as on film."""

    COVER = 0.4  # of the frame, stained at full amount

    def __init__(self, w: int, h: int, rng: np.random.Generator):
        field = smooth_noise(rng, w, h, 5) + 0.3 * smooth_noise(rng, w, h, 16) \
            + 0.04 * smooth_noise(rng, w, h, 70)
        low, edge = float(field.min()), float(np.quantile(field, self.COVER))
        levels = (field - low) * (LEVELS / max(edge - low, 1e-6))
        slope = cv2.magnitude(cv2.Sobel(levels, cv2.CV_32F, 1, 0, ksize=3) / 8,
                              cv2.Sobel(levels, cv2.CV_32F, 0, 1, ksize=3) / 8)
        self.k = max(0.05, float(np.median(slope[levels <= LEVELS])))  # map levels per pixel
        self.index = np.clip(levels, 0, NEVER).astype(np.uint8)
        self.index3 = cv2.merge([self.index] * 3)
        self.reach = Reach(self.index)
        self.h = h
        self._passes: tuple | None = None  # (edge, its look), kept while the edge stays put

    def draw(self, out: np.ndarray, amount: float) -> None:
        """Stain `out` in place; `amount` 0..1 of the stains' full spread."""
        edge = round(amount * LEVELS)
        if edge <= 0:
            return
        if self._passes is None or self._passes[0] != edge:
            self._passes = (edge, self._look(edge))
        box, passes = self._passes[1]
        if box is not None:
            part = out[box]
            cv2.multiply(part, passes, dst=part, scale=1 / 255)

    def _look(self, edge: int) -> tuple:
        """The box the stains cover with their edges at `edge`, and how much of each channel
        passes within it (kept while the edge stays on this level)."""
        box = self.reach.box(edge - STAIN_BANDS[0][0] * self.k * self.h)
        if box is None:
            return None, None
        inside = (edge - np.arange(256)) / self.k / self.h
        passes = table([(d, *c) for d, c in STAIN_BANDS], inside)
        passes[NEVER] = 1.0
        return box, cv2.LUT(self.index3[box], lut(passes * 255))


class Flakes:
    """Emulsion lifting off the base: sharp, jagged patches, in clusters that start more often
    near the frame's edges, lifting one after another; where one has gone the bare base shows,
    bright, with the curled edge dark."""

    CLUSTERS = 9

    def __init__(self, w: int, h: int, rng: np.random.Generator):
        self.index = np.zeros((h, w), np.uint8)
        shapes = self._shapes(w, h, rng)
        thickness = max(2, h // 240)
        numbered = list(enumerate(shapes, start=1))[::-1]  # the earliest drawn last: it wins
        for level, points in numbered:
            cv2.polylines(self.index, [points], True, 128 + level, thickness)
        for level, points in numbered:  # no edge inside a patch: flakes lift together
            cv2.fillPoly(self.index, [points], level)
        grain = rng.standard_normal((h, w, 1), dtype=np.float32) * 7
        base = np.clip(np.float32(BASE) + grain, 0, 255).astype(np.uint8)
        curl = np.broadcast_to(np.uint8(CURL), (h, w, 3))
        self.colour = np.where((self.index >= 128)[..., None], curl, base)
        self.reach = Reach(np.where(self.index == 0, NEVER, self.index & 127).astype(np.uint8))

    @staticmethod
    def _shapes(w: int, h: int, rng: np.random.Generator) -> list[np.ndarray]:
        """FLAKE_LEVELS jagged polygons, in the order they lift: CLUSTERS patches, each
        spreading flake by flake from where it started, all spreading at once."""
        patches = []
        for _ in range(Flakes.CLUSTERS):
            x, y = Flakes._cluster(w, h, rng)
            patch = []
            for _ in range(-(-FLAKE_LEVELS // Flakes.CLUSTERS)):
                patch.append(Flakes._polygon(x, y, h * rng.uniform(0.01, 0.035), rng))
                step, turn = h * rng.uniform(0.008, 0.025), rng.uniform(0, 2 * np.pi)
                x, y = x + step * np.cos(turn), y + step * np.sin(turn)
            patches.append(patch)
        return [patch[i] for i in range(len(patches[0])) for patch in patches][:FLAKE_LEVELS]

    @staticmethod
    def _cluster(w: int, h: int, rng: np.random.Generator) -> tuple[float, float]:
        """Where a cluster of flakes starts: more often near an edge, where film lifts first."""
        if rng.random() >= 0.6:
            return rng.uniform(0, w), rng.uniform(0, h)
        side, along, depth = int(rng.integers(4)), rng.uniform(0, 1), rng.uniform(0, 0.12)
        if side < 2:  # top, bottom
            return along * w, (depth if side == 0 else 1 - depth) * h
        return (depth if side == 2 else 1 - depth) * w, along * h

    @staticmethod
    def _polygon(x: float, y: float, size: float, rng: np.random.Generator) -> np.ndarray:
        n = int(rng.integers(6, 13))
        angles = np.sort(rng.uniform(0, 2 * np.pi, n))
        radii = size * rng.uniform(0.35, 1.0, n)
        points = np.stack([x + radii * np.cos(angles), y + radii * 0.8 * np.sin(angles)], axis=1)
        return np.round(points).astype(np.int32)

    def draw(self, out: np.ndarray, amount: float, defects: np.ndarray | None = None) -> None:
        """Lift the first `amount` (0..1) of the flakes from `out`, in place."""
        lifted = int(amount * FLAKE_LEVELS)
        box = self.reach.box(lifted)
        if box is None or lifted < 1:
            return
        v = np.arange(256)
        mask = cv2.LUT(self.index[box], lut(np.where((v > 0) & ((v & 127) <= lifted) & (v != 128), 255, 0)))
        cv2.copyTo(self.colour[box], mask, out[box])
        if defects is not None:
            cv2.max(defects[box], mask, dst=defects[box])
