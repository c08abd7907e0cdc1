"""Real skeletons for the pose tests, and tests that they are real.

Every pose test starts from keypoints the shipped models found on the bundled clip (real
proportions, real scores) and bends them into target poses with plain geometry: arm segments
rotated about the shoulder and elbow, knees bent, the body scaled, rotated or shifted. The
model runs once per test session (functools.cache), shared by the test_poses_* modules.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from appliance.models.manifest import ModelStore
from appliance.models.pose import create_estimator
from appliance.poses.keypoints import KEYPOINTS, Pose, box_of
from appliance.bench.truth import person_boxes, read_clip
from appliance.bench.truth import walker_masks as _walker_masks

K = {name: i for i, name in enumerate(KEYPOINTS)}
FPS = 10.0  # the bundled clip


@functools.cache
def clip() -> tuple[np.ndarray, ...]:
    return read_clip()


@functools.cache
def multipose_frames() -> tuple[tuple[Pose, ...], ...]:
    """MoveNet MultiPose on every frame of the clip."""
    estimator = create_estimator(ModelStore(), "movenet_multipose")
    return tuple(tuple(estimator.estimate(frame)) for frame in clip())


def walker_masks() -> np.ndarray:
    """Where people walk, per frame (see appliance/bench/truth.py)."""
    return _walker_masks(clip())


@functools.cache
def thunder_frames() -> tuple[tuple[Pose, ...], ...]:
    """MoveNet Thunder on a crop around each sizeable walker, every frame of the clip."""
    estimator = create_estimator(ModelStore(), "movenet_thunder")
    masks = walker_masks()
    return tuple(tuple(p for box in person_boxes(mask) for p in estimator.estimate(frame, region=box))
                 for frame, mask in zip(clip(), masks))


def skeletons() -> list[np.ndarray]:
    """The clip's best-seen people, one skeleton each (every keypoint scored >= 0.35), best first."""
    found = []
    for poses in multipose_frames():
        for pose in poses:
            if pose.keypoints[:, 2].min() >= 0.35:
                found.append(pose.keypoints.copy())
    found.sort(key=lambda kp: -float(kp[:, 2].min()))
    distinct: list[np.ndarray] = []
    for kp in found:  # one per person: skip skeletons near one already kept
        if all(np.hypot(*(kp[:, :2].mean(0) - d[:, :2].mean(0))) > 60 for d in distinct):
            distinct.append(kp)
    return distinct


def base() -> np.ndarray:
    """The most frontal of the clip's people, turned to face the camera as a visitor does.

    Walkers seen from behind have their left shoulder on the image's left; flipping x (labels
    kept) gives the same body seen from the front, the left shoulder on the image's right.
    """
    kp = max(skeletons()[:4], key=lambda k: abs(k[5, 0] - k[6, 0]) / torso(k)).copy()
    if kp[K["left_shoulder"], 0] < kp[K["right_shoulder"], 0]:
        kp[:, 0] = 2 * kp[:, 0].mean() - kp[:, 0]
    return kp


def as_pose(keypoints: np.ndarray) -> Pose:
    return Pose(keypoints.astype(np.float32), box_of(keypoints), float(keypoints[:, 2].mean()))


# ---- geometry: bend a real skeleton into a target pose ----

def torso(kp: np.ndarray) -> float:
    mid_s = kp[[5, 6], :2].mean(0)
    mid_h = kp[[11, 12], :2].mean(0)
    return float(np.hypot(*(mid_s - mid_h)))


def outward(kp: np.ndarray, side: str) -> float:
    """+1 or -1: the image x direction pointing away from the body on the visitor's `side`."""
    sign = np.sign(kp[K["left_shoulder"], 0] - kp[K["right_shoulder"], 0]) or 1.0
    return float(sign if side == "left" else -sign)


def _seg(kp: np.ndarray, a: str, b: str) -> float:
    return float(np.hypot(*(kp[K[a], :2] - kp[K[b], :2])))


def limb_lengths(kp: np.ndarray, side: str) -> tuple[float, float]:
    """Upper arm and forearm lengths; at least 0.45 torso (walkers' arms are foreshortened)."""
    t = torso(kp)
    upper = max(_seg(kp, f"{side}_shoulder", f"{side}_elbow"), 0.55 * t)
    fore = max(_seg(kp, f"{side}_elbow", f"{side}_wrist"), 0.45 * t)
    return upper, fore


def direction(kp: np.ndarray, side: str, degrees: float) -> np.ndarray:
    """0 degrees: straight down; 90: horizontal, away from the body; 180: straight up."""
    a = math.radians(degrees)
    return np.array([math.sin(a) * outward(kp, side), math.cos(a)])


def set_arm(kp: np.ndarray, side: str, upper_deg: float, fore_deg: float) -> np.ndarray:
    """Rotate the upper arm about the shoulder and the forearm about the elbow."""
    kp = kp.copy()
    upper, fore = limb_lengths(kp, side)
    shoulder = kp[K[f"{side}_shoulder"], :2]
    elbow = shoulder + upper * direction(kp, side, upper_deg)
    kp[K[f"{side}_elbow"], :2] = elbow
    kp[K[f"{side}_wrist"], :2] = elbow + fore * direction(kp, side, fore_deg)
    return kp


def place_wrist(kp: np.ndarray, side: str, upper_deg: float, wrist: np.ndarray) -> np.ndarray:
    """Upper arm at `upper_deg`, the hand at `wrist` (e.g. on the hip or at the chest)."""
    kp = kp.copy()
    upper, _ = limb_lengths(kp, side)
    kp[K[f"{side}_elbow"], :2] = kp[K[f"{side}_shoulder"], :2] + upper * direction(kp, side, upper_deg)
    kp[K[f"{side}_wrist"], :2] = wrist
    return kp


def both_arms(kp: np.ndarray, upper_deg: float, fore_deg: float) -> np.ndarray:
    return set_arm(set_arm(kp, "left", upper_deg, fore_deg), "right", upper_deg, fore_deg)


def stand(kp: np.ndarray) -> np.ndarray:
    """Walking -> standing: each foot under its hip, on the lower foot's ground line, and each
    knee halfway between hip and ankle (leg lengths kept as seen)."""
    kp = kp.copy()
    ground = kp[[15, 16], 1].max()
    for side in ("left", "right"):
        hip = kp[K[f"{side}_hip"], :2]
        leg = _seg(kp, f"{side}_hip", f"{side}_knee") + _seg(kp, f"{side}_knee", f"{side}_ankle")
        ankle = np.array([hip[0], max(ground, hip[1] + 0.8 * leg)])
        kp[K[f"{side}_ankle"], :2] = ankle
        kp[K[f"{side}_knee"], :2] = (hip + ankle) / 2
    return kp


def crouch(kp: np.ndarray, knee_deg: float = 80.0) -> np.ndarray:
    """Stand, then keep the feet; the hips drop (upper body with them) until the knees bend to about `knee_deg`.

    The drop comes from a shin leaning forward and a thigh leaning back, each by half the bend;
    each knee is then placed where its thigh and shin lengths meet, in front of the body."""
    kp = stand(kp)
    lean = math.radians((180.0 - knee_deg) / 2)
    legs = {}
    for side in ("left", "right"):
        thigh = max(_seg(kp, f"{side}_hip", f"{side}_knee"), 0.6 * torso(kp))
        shin = max(_seg(kp, f"{side}_knee", f"{side}_ankle"), 0.6 * torso(kp))
        legs[side] = (thigh, shin)
    drop_to = np.mean([kp[K[f"{s}_ankle"], 1] - (t + sh) * math.cos(lean) for s, (t, sh) in legs.items()])
    kp[:13, 1] += drop_to - kp[[11, 12], 1].mean()
    forward = outward(kp, "left")  # any fixed side: knees point the same way
    for side, (thigh, shin) in legs.items():
        kp[K[f"{side}_knee"], :2] = _meet(kp[K[f"{side}_hip"], :2], thigh,
                                           kp[K[f"{side}_ankle"], :2], shin, forward)
    return kp


def _meet(a: np.ndarray, ra: float, b: np.ndarray, rb: float, side: float) -> np.ndarray:
    """Where circles about a (radius ra) and b (radius rb) cross, on the `side` (+-x) of a->b."""
    d = float(np.hypot(*(b - a)))
    along = (d * d + ra * ra - rb * rb) / (2 * d)
    across = math.sqrt(max(ra * ra - along * along, 0.0))
    unit = (b - a) / d
    normal = np.array([-unit[1], unit[0]])
    if normal[0] * side < 0:
        normal = -normal
    return a + along * unit + across * normal


def transform(kp: np.ndarray, scale: float = 1.0, degrees: float = 0.0,
              shift: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    """Scale and rotate about the hip midpoint, then shift (the whole visitor)."""
    kp = kp.copy()
    centre = kp[[11, 12], :2].mean(0)
    a = math.radians(degrees)
    rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    kp[:, :2] = (kp[:, :2] - centre) @ rot.T * scale + centre + np.array(shift)
    return kp


def hide(kp: np.ndarray, *names: str) -> np.ndarray:
    kp = kp.copy()
    kp[[K[n] for n in names], 2] = 0.0
    return kp


def jitter(kp: np.ndarray, rng: np.random.Generator, px: float = 1.0) -> np.ndarray:
    kp = kp.copy()
    kp[:, :2] += rng.normal(0.0, px, (17, 2))
    return kp


# ---- the data is real ----

def test_the_clip_gives_fully_seen_upright_people():
    people = skeletons()
    assert len(people) >= 2
    for kp in people[:2]:
        assert kp[:, 2].min() >= 0.35
        assert kp[K["nose"], 1] < kp[K["left_hip"], 1] < kp[K["left_ankle"], 1]  # upright
        assert 25 <= torso(kp) <= 80  # people 60-200 px tall


def test_thunder_follows_walkers_in_most_frames():
    frames = thunder_frames()
    assert len(frames) == 150
    assert sum(1 for poses in frames if poses) >= 100
