"""A world of its own behind the visitors: the room is replaced by a Kandinsky-like composition
that the appliance generates and animates (appliance.paint.composition), and the people stay
themselves, joined in along the person mask.

The world answers the people in it. Discs, triangles and checkerboards drift around their
homes until a visitor stands still; then they gather round that visitor, the longer the still,
the closer (a still visitor becomes the centre of the painting). Ringed dots fly to the hands
in view and follow them, drawn in front of the visitor. A jump (the `jump` motion of the pose
rules) throws every shape away from the jumper. Everything moves with frame time and the
newest pose result, so a seed, a clip and its poses give the same frames on any machine; in a
show of several boxes, time is the show's (`FrameMeta.show_t`), so their worlds drift and breathe
in step.

The picture before this effect is what the people are made of: alone, the visitors are the
camera's; after a style effect (`effects = [{effect = "style"}, {effect = "world"}]`) they
are painted and the world is not.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from appliance.config.schema import setting
from appliance.core.frame import FrameMeta
from appliance.core.lazy import cv2
from appliance.core.registry import register_effect
from appliance.core.results import PoseResult, result_key
from appliance.core.stages import POSE, AnalysisContext, StageRequest, mask_request
from appliance.paint.bodies import FrameBuffer, body_size, people, pose_result, visible
from appliance.paint.composition import Shape, draw, ground, layout
from appliance.paint.masks import SEGMENTATION_MODELS, MaskShares
from appliance.poses.keypoints import KEYPOINTS

GATHERERS = ("disc", "triangle", "checker")
HANDS = (KEYPOINTS.index("left_wrist"), KEYPOINTS.index("right_wrist"))
HIPS = (KEYPOINTS.index("left_hip"), KEYPOINTS.index("right_hip"))
SHOULDERS = (KEYPOINTS.index("left_shoulder"), KEYPOINTS.index("right_shoulder"))
MAX_STEP_S = 0.1      # a longer gap (a stall, a restarted clip) moves the world no further
STILL_SPEED = 0.35    # body sizes per second: slower than this, a visitor is standing still
STILL_FULL_S = 1.5    # seconds of standing still for the shapes to gather all the way
GATHER_TAU_S = 0.9    # how quickly shapes follow their target (time constant)
HAND_TAU_S = 0.12
HAND_DOT = 0.08       # radius of a dot held in a hand, times the holder's body size
SCATTER_TAU_S = 0.8   # how long a jump's throw lasts
BREATH_S = 6.0        # period of the shapes' breathing
GROUND_S = 23.0       # period of the ground's two versions crossfading


@dataclass
class Visitor:
    """A tracked person as the world sees them: where they stand, how big, for how long still."""

    x: float
    y: float
    size: float
    t: float
    still_s: float = 0.0
    hands: tuple[tuple[float, float], ...] = ()

    @property
    def pull(self) -> float:
        """0 (walking) .. 1 (stood still long enough): how strongly shapes gather round them."""
        u = min(1.0, self.still_s / STILL_FULL_S)
        return u * u * (3 - 2 * u)


def _mean_point(kp: np.ndarray, seen: np.ndarray, points: tuple[int, ...]) -> tuple[float, float] | None:
    known = [i for i in points if seen[i]]
    if not known:
        return None
    return float(np.mean(kp[known, 0])), float(np.mean(kp[known, 1]))


@register_effect
class World:
    name = "world"

    @dataclass
    class Params:
        seed: int = setting(1925, min=0, help="the same seed gives the same world")
        shapes: int = setting(30, min=4, max=120, help="how many shapes the composition has")
        drift: float = setting(1.0, min=0.0, max=5.0, help="how far shapes wander round their homes")
        gather: float = setting(1.0, min=0.0, max=1.0, help="how strongly shapes gather round a visitor "
                                "standing still (0: they ignore people)")
        hands: bool = setting(True, help="ringed dots follow the visitors' hands")
        scatter: float = setting(1.0, min=0.0, max=5.0, help="how hard a jump throws the shapes away")
        model: str = setting("meet", choices=SEGMENTATION_MODELS, help="person segmentation model")
        threshold: float = setting(0.5, min=0.05, max=0.95, help="person probability where the edge sits")
        feather: float = setting(0.01, min=0.0, max=0.1, help="edge softness, a fraction of the picture height")
        min_score: float = setting(0.3, min=0.0, max=1.0, help="keypoints scored lower are not used")

    def __init__(self, params: "World.Params"):
        self.p = params
        self.request = mask_request(params.model)
        self.size = (0, 0)
        self.shapes: list[Shape] = []
        self.visitors: dict[int, Visitor] = {}
        self.followers: dict[int, tuple[float, float, float]] = {}  # shape index -> hand x, y, dot radius
        self.canvas = FrameBuffer()
        self.out = FrameBuffer()
        self._grounds: tuple[np.ndarray, np.ndarray] | None = None
        self.shares = MaskShares(self.request.key, params.threshold, params.feather)  # (people's, world's)
        self._seen: object = None
        self._t: float | None = None

    def stages(self, context: AnalysisContext) -> list[StageRequest]:
        return [POSE, self.request]

    def process(self, image: np.ndarray, meta: FrameMeta) -> np.ndarray:
        if image.ndim != 3 or image.shape[2] != 3 or image.size == 0:
            return image
        h, w = image.shape[:2]
        if (w, h) != self.size:
            self._prepare(w, h)
        t = float(meta.t if meta.show_t is None else meta.show_t)  # a show's boxes move together
        self._see(meta, t)
        self._move(t)
        world = self._paint(t)
        out = cv2.blendLinear(image, world, *self.shares.at(meta, w, h), dst=self.out.like(image))
        self._draw_followers(out, t)
        return out

    def _prepare(self, w: int, h: int) -> None:
        """A new composition for a new frame size (shapes are placed in pixels)."""
        self.size = (w, h)
        self.shapes = layout(self.p.seed, w, h, self.p.shapes)
        self._grounds = (ground(self.p.seed, w, h), ground(self.p.seed + 1, w, h))
        self.followers = {}

    # -- the people, from the newest pose result -------------------------------------------------

    def _see(self, meta: FrameMeta, t: float) -> None:
        result = pose_result(meta)
        key = result_key(meta, POSE.key)
        if result is None or key == self._seen:
            return
        self._seen = key
        self._update_visitors(result, t)
        for event in result.events:
            if event.pose == "jump" and event.event == "start" and event.track in self.visitors:
                self._scatter(self.visitors[event.track])

    def _update_visitors(self, result: PoseResult, t: float) -> None:
        visitors: dict[int, Visitor] = {}
        for track_id, kp in people(result):
            seen = visible(kp, self.p.min_score)
            where = _mean_point(kp, seen, HIPS) or _mean_point(kp, seen, SHOULDERS)
            if where is None:
                continue
            size = body_size(kp, seen)
            hands = tuple((float(kp[i, 0]), float(kp[i, 1])) for i in HANDS if seen[i])
            visitors[track_id] = self._follow(self.visitors.get(track_id), where, size, hands, t)
        self.visitors = visitors

    @staticmethod
    def _follow(before: Visitor | None, where: tuple[float, float], size: float,
                hands: tuple[tuple[float, float], ...], t: float) -> Visitor:
        """The visitor now, with how long they have stood still (walking resets it)."""
        now = Visitor(where[0], where[1], size, t, hands=hands)
        if before is not None and t > before.t:
            dt = t - before.t
            speed = math.hypot(where[0] - before.x, where[1] - before.y) / max(size, 1.0) / dt
            now.still_s = before.still_s + dt if speed < STILL_SPEED else 0.0
        return now

    def _scatter(self, jumper: Visitor) -> None:
        """Throw every shape away from the jumper, the nearer the harder."""
        h = self.size[1]
        for shape in self.shapes:
            dx, dy = shape.x - jumper.x, shape.y - jumper.y
            dist = math.hypot(dx, dy) or 1.0
            push = self.p.scatter * 2.5 * h / (1.0 + dist / max(jumper.size, 1.0))
            shape.vx += push * dx / dist
            shape.vy += push * dy / dist
        jumper.still_s = 0.0

    # -- the shapes -------------------------------------------------------------------------------

    def _move(self, t: float) -> None:
        dt = 0.0 if self._t is None else min(max(t - self._t, 0.0), MAX_STEP_S)
        self._t = t
        self.followers = self._assign_hands() if self.p.hands else {}
        gather = 1.0 - math.exp(-dt / GATHER_TAU_S)
        follow = 1.0 - math.exp(-dt / HAND_TAU_S)
        damping = math.exp(-dt / SCATTER_TAU_S)
        for i, shape in enumerate(self.shapes):
            hand = self.followers.get(i)
            tx, ty = hand[:2] if hand is not None else self._target(shape, t)
            rate = follow if hand is not None else gather
            shape.x += (tx - shape.x) * rate + shape.vx * dt
            shape.y += (ty - shape.y) * rate + shape.vy * dt
            shape.vx *= damping
            shape.vy *= damping
            shape.angle += shape.spin * dt

    def _target(self, shape: Shape, t: float) -> tuple[float, float]:
        """Where the shape is heading: its slow drift round home, pulled towards the nearest
        visitor standing still (onto a ring round them, each shape at its own angle)."""
        w, h = self.size
        reach = 0.05 * self.p.drift
        dx = reach * w * math.sin(t * 0.21 + shape.phase) + 0.4 * reach * w * math.sin(t * 0.53 + 2 * shape.phase)
        dy = reach * h * math.cos(t * 0.17 + 1.3 * shape.phase)
        x, y = shape.home[0] + dx, shape.home[1] + dy
        if shape.kind not in GATHERERS or not self.visitors or self.p.gather <= 0:
            return x, y
        near = min(self.visitors.values(), key=lambda v: math.hypot(v.x - x, v.y - y))
        pull = near.pull * self.p.gather
        if pull <= 0:
            return x, y
        angle = shape.phase + 0.25 * t
        ring = near.size * (0.55 + 0.25 * math.sin(shape.phase * 3.0))
        ox, oy = near.x + ring * math.cos(angle), near.y + 0.8 * ring * math.sin(angle)
        return x + pull * (ox - x), y + pull * (oy - y)

    def _assign_hands(self) -> dict[int, tuple[float, float, float]]:
        """Each hand in view takes the nearest free ringed dot, sized to the hand's owner (a dot
        must not hide a visitor far away)."""
        dots = [i for i, s in enumerate(self.shapes) if s.kind == "ringed_dot"]
        taken: dict[int, tuple[float, float, float]] = {}
        for visitor in self.visitors.values():
            for hand in visitor.hands:
                free = [i for i in dots if i not in taken]
                if not free:
                    return taken
                nearest = min(free, key=lambda i: math.hypot(self.shapes[i].x - hand[0], self.shapes[i].y - hand[1]))
                taken[nearest] = (hand[0], hand[1], HAND_DOT * visitor.size)
        return taken

    def _breath(self, shape: Shape, t: float) -> float:
        return 1.0 + 0.12 * math.sin(2 * math.pi * t / BREATH_S + shape.phase)

    def _paint(self, t: float) -> np.ndarray:
        """The ground, its two versions crossfading (the fields breathe), and the shapes on it."""
        a, b = self._grounds
        mix = 0.5 + 0.5 * math.sin(2 * math.pi * t / GROUND_S)
        canvas = cv2.addWeighted(a, 1.0 - mix, b, mix, 0.0, dst=self.canvas.like(a))
        for i, shape in enumerate(self.shapes):
            if i not in self.followers:
                draw(canvas, shape, self._breath(shape, t))
        return canvas

    def _draw_followers(self, out: np.ndarray, t: float) -> None:
        """Dots on hands are drawn in front of the visitor, as if held."""
        for i, (_, _, radius) in self.followers.items():
            draw(out, self.shapes[i], self._breath(self.shapes[i], t), radius)

    def close(self) -> None:
        self.canvas = FrameBuffer()
        self.out = FrameBuffer()
        self._grounds = None
        self.size = (0, 0)
