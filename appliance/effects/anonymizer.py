"""Privacy mode: the room without its visitors' faces; each person a flat shape or a skeleton.

The camera picture is never shown. The screen shows a model of the EMPTY room, learned from
the pixels nobody covers (by the person mask, by the pose model, and by a motion check for
walkers both miss), and draws each person on it as a flat palette
silhouette (from the mask, grown by a margin) and/or their skeleton. Before a pixel of the
room has been seen empty a few times it is shown dark, so the first frames, and a room that
never empties, show dark shapes, never a face.

Learning uses the frame the mask was computed on, not the frame being shown: analysis lags
the display, and pairing a new frame with an old mask would teach the room the pixels of a
person who has just moved there. Recent frames are kept (copied into a small ring of
preallocated buffers) for that pairing; a mask whose frame has left the ring is not learned
from. Where the mask is unsure the room is not learned (half the threshold, and a wider margin
than the silhouettes'): a ghost of the room beats a visible face.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from appliance.config.schema import setting
from appliance.core.frame import FrameMeta
from appliance.core.lazy import cv2
from appliance.core.registry import register_effect
from appliance.core.results import MaskResult, result_key
from appliance.core.stages import POSE, AnalysisContext, StageRequest, mask_request
from appliance.paint.bodies import FrameBuffer, draw_skeleton, fill_body, people, pose_result, visible
from appliance.paint.palette import BLACK, DARK, PALETTE, named_colour, track_colour

RING = 8  # recent frames kept to pair with a lagging mask
HOLD_S = 2.0  # a person the pose model found stays kept out of the room this long
KEEP_OUT = 0.02  # of the frame height: hair and shadows beside a person are not learned as the room
MOVED = 15  # a pixel whose colours changed this much (0-255, weighted as grey) has moved
LEARN_EVERY_S = 0.2  # a learned room is learned from at most one mask per this much frame time


def mask_of(result: MaskResult | None, shape: tuple[int, int]) -> np.ndarray | None:
    """The newest mask at the frame's size (a mask from before a size change is stretched),
    or None when there is none yet or it is not a 2-D array."""
    probability = result.probability if result is not None else None
    if not isinstance(probability, np.ndarray) or probability.ndim != 2 or probability.size == 0:
        return None
    return result.at(shape[1], shape[0])


def at_least(mask: np.ndarray, threshold: float, out: np.ndarray) -> np.ndarray:
    """uint8 1 where probability >= threshold, or NaN (unknown counts as a person), else 0."""
    np.less(mask, threshold, out=out)
    np.subtract(1, out, out=out)
    return out


class Grow:
    """Grow a 0/1 region by a round margin, with smooth edges: what is shown, the silhouettes
    and the dark not-yet-learned patches, must look like shapes, not boxes.

    A large round dilation at full size costs ~5 ms; done at a quarter of the size and
    scaled back it costs well under one, and the full-size region is added back in so no
    pixel of it is ever lost to the scaling. A quarter-size pixel counts as in when half of it
    is: a shape grows by its margin, not by the scaling's coarseness as well.
    """

    SHRINK = 4

    def __init__(self, h: int, w: int, radius: int):
        self.small_size = (max(1, w // self.SHRINK), max(1, h // self.SHRINK))
        self.small = np.empty(self.small_size[::-1], np.uint8)
        self.full = np.empty((h, w), np.uint8)
        r = math.ceil((radius + self.SHRINK / 2) / self.SHRINK) if radius > 0 else 0  # at least `radius`
        self.kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1)) if r else None

    def cover(self, mask: np.ndarray, threshold: float, out: np.ndarray) -> np.ndarray:
        """uint8 0/1 into `out`: the mask at `threshold`, grown."""
        return self.grow(at_least(mask, threshold, self.full), out)

    def grow(self, region: np.ndarray, out: np.ndarray) -> np.ndarray:
        """uint8 0/1 `region` grown into `out` (which may be `region`)."""
        np.multiply(region, 255, out=self.full)
        cv2.resize(self.full, self.small_size, dst=self.small, interpolation=cv2.INTER_AREA)
        if self.kernel is not None:
            cv2.dilate(self.small, self.kernel, dst=self.small)
        np.copyto(self.full, region)
        cv2.resize(self.small, (out.shape[1], out.shape[0]), dst=out, interpolation=cv2.INTER_LINEAR)
        np.greater_equal(out, 128, out=out)
        np.maximum(out, self.full, out=out)
        return out


class FrameRing:
    """The last few frames by index, in preallocated buffers."""

    def __init__(self, shape: tuple[int, ...]):
        self.frames = np.zeros((RING, *shape), np.uint8)
        self.index = [-1] * RING

    def put(self, index: int, image: np.ndarray) -> None:
        slot = index % RING
        np.copyto(self.frames[slot], image)
        self.index[slot] = index

    def get(self, index: int) -> np.ndarray | None:
        slot = index % RING
        return self.frames[slot] if self.index[slot] == index else None


class Room:
    """The empty room: a per-pixel running mean of the pixels nobody covered.

    Each pixel starts as a plain mean of its first views (so the room appears quickly) and
    then follows the light with an exponential time constant of `learn_s` seconds.
    """

    REFILL_S = 1.0  # the guess for the unlearned room is made again at most this often (frame time)

    def __init__(self, h: int, w: int, learn_s: float, views: int):
        self.learn_s, self.views = learn_s, views
        self.mean = np.zeros((h, w, 3), np.float32)
        self.count = np.zeros((h, w), np.float32)
        self.rate = np.empty((h, w), np.float32)
        self.rate3 = np.empty((h, w, 3), np.float32)
        self.diff = np.empty((h, w, 3), np.float32)
        self.shown = np.empty((h, w, 3), np.uint8)
        self.shown[:] = DARK
        self.guess = self.shown.copy()  # the unlearned room, filled in from the learned room around it
        self.unlearned = np.empty((h, w), np.uint8)
        self.t: float | None = None
        self._filled_at: float | None = None
        self.learned_share = 0.0  # of the pixels, seen empty often enough to show (at the last learn)

    def learn(self, frame: np.ndarray, empty: np.ndarray, t: float) -> None:
        """Fold `frame` into the room where `empty` (uint8 0/1) says nobody is (OpenCV passes:
        a third of numpy's cost with its broadcast)."""
        dt = t - self.t if self.t is not None and t > self.t else 1.0 / 30
        self.t = t
        follow = 1.0 - math.exp(-dt / self.learn_s)
        cv2.add(self.count, empty, dst=self.count, dtype=cv2.CV_32F)
        np.maximum(self.count, 1.0, out=self.rate)
        np.reciprocal(self.rate, out=self.rate)
        np.maximum(self.rate, follow, out=self.rate)
        cv2.multiply(self.rate, empty, dst=self.rate, dtype=cv2.CV_32F)
        cv2.merge((self.rate, self.rate, self.rate), dst=self.rate3)
        cv2.subtract(frame, self.mean, dst=self.diff, dtype=cv2.CV_32F)
        cv2.accumulateProduct(self.diff, self.rate3, self.mean)
        self._render(t)

    def _render(self, t: float) -> None:
        """The picture of the room: learned pixels as learned, the rest filled in from the
        learned room around them (dark while nothing is learned; the guess is a blur of the
        room, made again once a second, not on every frame)."""
        cv2.convertScaleAbs(self.mean, dst=self.shown)
        np.less(self.count, self.views, out=self.unlearned)
        unlearned = cv2.countNonZero(self.unlearned)
        self.learned_share = 1.0 - unlearned / self.unlearned.size
        if not unlearned:
            return
        if self._filled_at is None or not 0 <= t - self._filled_at < self.REFILL_S:
            self._filled_at = t
            self.guess = filled_in(self.shown, self.unlearned)
        cv2.copyTo(self.guess, self.unlearned, self.shown)

    def learned(self) -> float:
        """The fraction of the room seen empty often enough to show."""
        return float((self.count >= self.views).mean())


FILL_SHRINK = 8             # the room is filled in at an eighth of its size: it is a guess
FILL_SIGMAS = (1.0, 4.0, 16.0)  # at that size: the nearest learned room that says anything wins


def filled_in(room: np.ndarray, unlearned: np.ndarray) -> np.ndarray:
    """The room where it is not learned yet, guessed from the learned room around it (a
    normalised blur at widening scales, the finest that reaches a pixel used), so a patch
    where people walked in the first seconds shows the floor and walls around it, never dark
    and never a camera pixel. Where nothing learned is near, it stays dark."""
    h, w = unlearned.shape
    small = (max(1, w // FILL_SHRINK), max(1, h // FILL_SHRINK))
    learned = 1.0 - unlearned.astype(np.float32)
    known = cv2.resize(learned, small, interpolation=cv2.INTER_AREA)
    colour = cv2.resize(room * learned[..., None], small, interpolation=cv2.INTER_AREA)
    guess = np.zeros_like(colour)
    reached = np.zeros(known.shape, bool)
    for sigma in FILL_SIGMAS:
        weight = cv2.GaussianBlur(known, (0, 0), sigma)
        here = (weight > 0.05) & ~reached
        guess[here] = cv2.GaussianBlur(colour, (0, 0), sigma)[here] / weight[here][:, None]
        reached |= here
    guess[~reached] = DARK
    return cv2.resize(np.clip(guess, 0, 255).astype(np.uint8), (w, h), interpolation=cv2.INTER_LINEAR)


@register_effect
class Anonymizer:
    name = "anonymizer"

    @dataclass
    class Params:
        model: str = setting("meet", help="segmentation model for the person mask")
        show: str = setting("silhouette", choices=("silhouette", "skeleton", "both"),
                            help="how people appear on the empty room")
        colour: str = setting("blue", choices=tuple(PALETTE), help="silhouette colour")
        threshold: float = setting(0.5, min=0.01, max=0.9,
                                   help="person probability from which a pixel is covered")
        margin: float = setting(0.0, min=0.0, max=0.2,
                                help="silhouettes grown by this fraction of the frame height (the "
                                     "motion masks already carry a margin of a few pixels)")
        learn_s: float = setting(10.0, min=0.5, max=3600.0,
                                 help="time constant of the room following the light, seconds")
        learn_views: int = setting(10, min=1, max=100,
                                   help="views of a pixel, empty, before it is shown")
        min_score: float = setting(0.3, min=0.0, max=1.0, help="skeleton keypoints shown from this score")
        use_pose: bool = setting(True, help="also run the pose model: the people it finds are covered "
                                            "and kept out of the room even where the mask misses them")

    def __init__(self, params: "Anonymizer.Params"):
        self.p = params
        self.colour = np.array(named_colour(params.colour), np.uint8)
        self.out = FrameBuffer()
        self.room: Room | None = None
        self._learned_from = -1
        self._learned_at: float | None = None
        self.request = mask_request(params.model)

    def stages(self, context: AnalysisContext) -> list[StageRequest]:
        return [self.request, POSE] if self._wants_pose() else [self.request]

    @property
    def person_region(self) -> np.ndarray | None:
        """The pixels silhouetted on the last frame (bool), which the mask benchmark holds
        against where people really walked."""
        return None if self.room is None else self.cover.view(bool)

    def _wants_pose(self) -> bool:
        return self.p.use_pose or self.p.show != "silhouette"

    def process(self, image: np.ndarray, meta: FrameMeta) -> np.ndarray:
        if image.ndim != 3 or image.shape[2] != 3 or image.size == 0:
            return np.zeros_like(image)  # nothing recognisable can be shown from it
        h, w = image.shape[:2]
        self._prepare(h, w)
        self.ring.put(int(meta.index), image)
        mask = mask_of(meta.results.get(self.request.key, MaskResult), (h, w))
        found = list(people(pose_result(meta))) if self._wants_pose() else []
        pose_from = result_key(meta, POSE.key)
        if self.p.use_pose:
            self._bodies(found, float(meta.t), pose_from)
        if mask is not None:
            self._learn(mask, meta)
        figures_from = (result_key(meta, self.request.key), pose_from)
        if figures_from != self._figures_from:
            self._figures_from = figures_from
            self._draw_figures(mask, found)
        out = self.out.like(image)
        np.copyto(out, self.room.shown)
        cv2.copyTo(self.figures, self.drawn, out)
        return out

    def _bodies(self, found: list[tuple[int, np.ndarray]], t: float, result_frame: object) -> None:
        """Where the pose model sees people, drawn as thick body shapes: `self.limbs` (those
        seen now, covered on screen) and `self.boxes` (thicker still, and held HOLD_S after a
        track was last seen, as pose models blink on a standing person too: kept out of the
        room, and forgotten by it). Meet misses people a pose model finds, and a person
        standing still does not trip the motion check. Drawn again only when a new pose
        result arrives or a held track expires: thick lines over the whole frame are costly,
        and the display repeats each result for several frames."""
        held = {k: v for k, v in self.held.items() if 0 <= t - v[0] <= HOLD_S}
        fresh = result_frame != self._drawn_from
        if not fresh and held.keys() == self.held.keys():
            return
        if fresh:
            self._drawn_from = result_frame
            self.limbs.fill(0)
            for track_id, kp in found:
                if visible(kp, 0.2).sum() >= 2:
                    held[track_id] = (t, kp)
                    fill_body(self.limbs, kp, 0.2, scale=4.0)
        self.held = held
        self.boxes.fill(0)
        for _, kp in self.held.values():
            fill_body(self.boxes, kp, 0.2, scale=6.0)

    def _prepare(self, h: int, w: int) -> None:
        """All per-size buffers; a size change starts the room afresh."""
        if self.room is not None and self.room.count.shape == (h, w):
            return
        self.room = Room(h, w, self.p.learn_s, self.p.learn_views)
        self.ring = FrameRing((h, w, 3))
        self.cover = np.zeros((h, w), np.uint8)
        self.busy = np.empty((h, w), np.uint8)
        self.radius = int(round(self.p.margin * h))
        self.outline = Grow(h, w, self.radius)
        self.boxes = np.zeros((h, w), np.uint8)
        self.held: dict[int, tuple[float, np.ndarray]] = {}
        self._drawn_from: object = None  # the pose result the limbs were drawn from
        self.limbs = np.zeros((h, w), np.uint8)
        self.keep_out = Grow(h, w, 2 * self.radius + round(KEEP_OUT * h))
        self.figures = np.zeros((h, w, 3), np.uint8)  # the people as drawn, laid over the room
        self.drawn = np.zeros((h, w), np.uint8)  # where figures has anything drawn
        self._figures_from: object = None  # the (mask, pose) results they were drawn from
        self.solid = np.empty((h, w, 3), np.uint8)
        self.solid[:] = self.colour
        self.previous = np.empty((h, w, 3), np.uint8)
        self.previous_ok = False
        self.delta = np.empty((h, w, 3), np.uint8)
        self.moved = np.empty((h, w), np.uint8)
        self._learned_from = -1
        self._learned_at = None

    def _learn(self, mask: np.ndarray, meta: FrameMeta) -> None:
        """Learn from a mask once, with the frame it was computed on (if still in the ring);
        a mask that does not say its frame is drawn but never learned from."""
        index = meta.results.frame_of(self.request.key)
        frame = self.ring.get(int(index)) if isinstance(index, (int, np.integer)) else None
        if frame is None or index == self._learned_from:
            return
        if self._learned_at is not None and 0 <= float(meta.t) - self._learned_at < LEARN_EVERY_S \
                and self.room.learned_share > 0.99:
            return  # a learned room follows the light over seconds: five looks a second are plenty
        self._learned_from, self._learned_at = index, float(meta.t)
        at_least(mask, self.p.threshold / 2, self.busy)
        if self.p.use_pose:
            np.maximum(self.busy, self.boxes, out=self.busy)
            self._forget_people_learned(frame)
        self._still(frame)
        self.keep_out.grow(self.busy, self.busy)  # wider than the shown margin: hair, shadows
        np.subtract(1, self.busy, out=self.busy)  # now 1 where the room is seen empty
        self.room.learn(frame, self.busy, float(meta.t))

    def _forget_people_learned(self, frame: np.ndarray) -> None:
        """Someone still since before anybody saw them may have been learned as the room: where
        a pose is now and the frame looks like the learned room, the room holds them: forget it.
        Where someone walks over the learned room the two differ, and the room is kept."""
        cv2.absdiff(frame, self.room.shown, dst=self.delta)
        cv2.cvtColor(self.delta, cv2.COLOR_BGR2GRAY, dst=self.moved)
        np.less(self.moved, MOVED, out=self.moved)
        np.multiply(self.moved, self.limbs, out=self.moved)
        np.copyto(self.room.count, 0.0, where=self.moved.view(bool))

    def _still(self, frame: np.ndarray) -> None:
        """Mark in `self.busy` (1: keep out of the room) whatever moved since the last learned frame.

        The mask misses people (small, far, odd clothes); a person the mask misses but who
        moves still changes pixels, and those must not be learned as the room. Only pixels
        that are both unmasked and still are folded in.
        """
        if self.previous_ok:
            cv2.absdiff(frame, self.previous, dst=self.delta)
            cv2.cvtColor(self.delta, cv2.COLOR_BGR2GRAY, dst=self.moved)
            np.greater_equal(self.moved, MOVED, out=self.moved)
            np.maximum(self.busy, self.moved, out=self.busy)
        else:
            self.busy.fill(1)  # nothing to compare with: learn nothing yet
        np.copyto(self.previous, frame)
        self.previous_ok = True

    def _draw_figures(self, mask: np.ndarray | None, found: list[tuple[int, np.ndarray]]) -> None:
        """The people as shown (`self.figures`, and `self.drawn` where they are): drawn again
        only when a new mask or pose result arrives, and laid over the room on every frame."""
        self.figures.fill(0)
        self.drawn.fill(0)
        if (mask is not None or found) and self.p.show != "skeleton":
            self._silhouettes(mask)
        else:
            self.cover.fill(0)
        if self.p.show != "silhouette":
            for track_id, kp in found:
                draw_skeleton(self.figures, kp, track_colour(track_id), self.p.min_score)
                fill_body(self.drawn, kp, self.p.min_score, outlined=True)

    def _silhouettes(self, mask: np.ndarray | None) -> None:
        """Flat colour where the mask (and the pose model's people) are, grown, outlined in
        black like a cut-out."""
        if mask is None:
            self.cover.fill(0)
        else:
            at_least(mask, self.p.threshold, self.cover)
        if self.p.use_pose:
            np.maximum(self.cover, self.limbs, out=self.cover)
        self.outline.grow(self.cover, self.cover)
        cv2.copyTo(self.solid, self.cover, self.figures)
        np.copyto(self.drawn, self.cover)
        contours, _ = cv2.findContours(self.cover, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        thickness = max(2, self.figures.shape[0] // 240)
        cv2.drawContours(self.figures, contours, -1, BLACK, thickness, cv2.LINE_AA)
        cv2.drawContours(self.drawn, contours, -1, 1, thickness + 1)

    def close(self) -> None:
        self.room = None
        self.out = FrameBuffer()
