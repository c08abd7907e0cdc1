"""The skeleton effect draws real skeletons on their bones, one colour per visitor."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from appliance.paint.palette import track_colour
from appliance.effects.skeleton import Skeleton
from appliance.paint.bodies import body_size, bone_width, people, visible
from appliance.poses.keypoints import SKELETON

from test_analysis_stages import frames, meta, pose_results, real_skeleton, result_of, save
from test_poses_data import K, transform


def bone_zone(kp: np.ndarray, shape: tuple[int, int], min_score: float = 0.3, slack: int = 3) -> np.ndarray:
    """Where drawing may be: within the bone width, joint radius and outline of each trusted
    bone and joint, plus `slack` pixels for antialiasing."""
    zone = np.zeros(shape, np.uint8)
    seen = visible(kp, min_score)
    reach = 2 * bone_width(body_size(kp, seen), 1.0) + slack
    for i in np.flatnonzero(seen):
        cv2.circle(zone, (int(round(kp[i, 0])), int(round(kp[i, 1]))), reach, 1, -1)
    for a, b in SKELETON:
        if seen[a] and seen[b]:
            cv2.line(zone, tuple(int(round(v)) for v in kp[a, :2]), tuple(int(round(v)) for v in kp[b, :2]), 1, 2 * reach)
    return zone.astype(bool)


def near_colour(image: np.ndarray, colour, tol: int = 12) -> np.ndarray:
    return (np.abs(image.astype(np.int16) - np.array(colour, np.int16)) <= tol).all(axis=2)


def bone_midpoints(kp: np.ndarray, min_score: float = 0.3) -> list[tuple[int, int]]:
    """The middle of each drawn bone long enough to show its colour between its joints."""
    seen = visible(kp, min_score)
    least = 3 * bone_width(body_size(kp, seen), 1.0)
    return [tuple(int(round(v)) for v in (kp[a, :2] + kp[b, :2]) / 2) for a, b in SKELETON
            if seen[a] and seen[b] and np.hypot(*(kp[a, :2] - kp[b, :2])) >= least]


@pytest.fixture(scope="module")
def real_frames():
    """Frames of the clip where the pose stage tracked someone, with their results."""
    picked = [(i, r) for i, r in enumerate(pose_results()) if r.tracks][::10]
    assert len(picked) >= 5
    return picked


def test_skeleton_pixels_lie_on_the_real_bones_and_nowhere_else(real_frames):
    effect = Skeleton(Skeleton.Params(background="black"))
    for i, result in real_frames:
        out = effect.process(frames()[i], meta(i, pose=(result, i)))
        zones = {track_id: bone_zone(kp, out.shape[:2]) for track_id, kp in people(result)}
        zone = np.zeros(out.shape[:2], bool)
        for track_id, kp in people(result):
            zone |= zones[track_id]
            others = np.zeros(out.shape[:2], bool)
            for other, z in zones.items():
                if other != track_id:
                    others |= z
            for x, y in bone_midpoints(kp):  # along every drawn bone: the track's colour (where
                if others[y, x]:             # another visitor's bones cross it, theirs may be on top)
                    continue
                assert near_colour(out[y - 1:y + 2, x - 1:x + 2], track_colour(track_id)).any()
        drawn = out.max(axis=2) > 0
        assert drawn.sum() > 0
        assert not (drawn & ~zone).any(), f"frame {i}: pixels drawn away from the bones"
    save("skeleton-black-real", out)


def test_over_the_picture_only_the_bones_change(real_frames):
    effect = Skeleton(Skeleton.Params())
    i, result = real_frames[2]
    picture = frames()[i]
    out = effect.process(picture, meta(i, pose=(result, i)))
    zone = np.zeros(out.shape[:2], bool)
    for _, kp in people(result):
        zone |= bone_zone(kp, out.shape[:2])
    assert np.array_equal(out[~zone], picture[~zone])
    assert not np.array_equal(out[zone], picture[zone])
    assert out is not picture and np.array_equal(picture, frames()[i])  # the frame is not drawn on
    save("skeleton-over-picture", out)


def test_each_track_gets_its_own_vivid_colour():
    a, b = real_skeleton(0), real_skeleton(1)
    b = transform(b, shift=(a[:, 0].mean() - b[:, 0].mean() + 150, a[:, 1].mean() - b[:, 1].mean()))
    result = result_of((3, a), (4, b))
    out = Skeleton(Skeleton.Params(background="black")).process(frames()[0], meta(0, pose=(result, 0)))
    assert track_colour(3) != track_colour(4)
    for track_id, kp in ((3, a), (4, b)):
        mids = bone_midpoints(kp)
        own = sum(near_colour(out[y - 1:y + 2, x - 1:x + 2], track_colour(track_id)).any() for x, y in mids)
        other = sum(near_colour(out[y - 1:y + 2, x - 1:x + 2], track_colour(7 - track_id)).any() for x, y in mids)
        assert own == len(mids) and other == 0
    save("skeleton-two-tracks", out)


def test_low_score_keypoints_and_their_bones_are_not_drawn():
    kp = real_skeleton(0).copy()
    wrist = K["right_wrist"]
    kp[wrist, :2] = kp[[5, 6, 11, 12], :2].mean(0) + np.array([150.0, 0.0])  # far out, alone
    kp[wrist, 2] = 0.1
    out = Skeleton(Skeleton.Params(background="black")).process(frames()[0], meta(0, pose=(result_of((1, kp)), 0)))
    x, y = int(kp[wrist, 0]), int(kp[wrist, 1])
    assert out[y - 8:y + 9, x - 8:x + 9].max() == 0
    ex, ey = (kp[K["right_elbow"], :2] + kp[wrist, :2]) / 2  # the forearm's middle
    assert out[int(ey) - 2:int(ey) + 3, int(ex) - 2:int(ex) + 3].max() == 0


def test_thickness_follows_body_size():
    kp = real_skeleton(0)
    small = Skeleton(Skeleton.Params(background="black")).process(frames()[0], meta(0, pose=(result_of((1, kp)), 0)))
    big_kp = transform(kp, scale=2.0, shift=(0.0, -150.0))
    big = Skeleton(Skeleton.Params(background="black")).process(frames()[0], meta(0, pose=(result_of((1, big_kp)), 0)))
    ratio = (big.max(axis=2) > 0).sum() / max(1, (small.max(axis=2) > 0).sum())
    assert ratio > 3  # twice as long and about twice as thick


def test_missing_old_odd_results_and_size_changes_never_raise():
    effect = Skeleton(Skeleton.Params())
    picture = frames()[0]
    assert np.array_equal(effect.process(picture, meta(0)), picture)  # no result yet
    broken = real_skeleton(0).copy()
    broken[3, :2] = np.nan
    broken[4, :2] = 1e12
    odd = [result_of(), result_of((1, broken)), "garbage", None, result_of((2, np.zeros((17, 3))))]
    for k, result in enumerate(odd):
        effect.process(picture, meta(k + 1, pose=(result, 0)))
    small = cv2.resize(picture, (320, 240))
    out = effect.process(small, meta(9, pose=(pose_results()[20], 3)))  # old result, new size
    assert out.shape == small.shape
    assert effect.process(np.zeros((0, 0, 3), np.uint8), meta(10)).shape == (0, 0, 3)
    effect.close()
