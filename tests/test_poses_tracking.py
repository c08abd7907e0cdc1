"""Track ids on real walkers from the clip, and through crossings of two real skeletons."""

from __future__ import annotations

import numpy as np
import pytest

from appliance.poses.tracking import Tracker
from test_poses_data import (FPS, as_pose, jitter, multipose_frames, skeletons, thunder_frames,
                             transform)


def run_tracker(frames, fps=FPS):
    """{track id: [(frame, centre x, centre y, size)]} over a sequence of pose lists."""
    tracker, seen = Tracker(), {}
    for index, poses in enumerate(frames):
        for track in tracker.update(list(poses), index / fps):
            x0, y0, x1, y1 = track.pose.box
            seen.setdefault(track.id, []).append((index, (x0 + x1) / 2, (y0 + y1) / 2, track.size))
    return seen


@pytest.mark.parametrize("model", ["thunder", "multipose"])
def test_real_tracks_move_like_walking_people(model):
    """Over any second of a track, its box moves less than 1.5 body heights (walking is about
    one; the model's frame-to-frame jitter averages out over a second): an id handed to
    another person would show up as a jump."""
    frames = thunder_frames() if model == "thunder" else multipose_frames()
    tracks = run_tracker(frames)
    spans = 0
    for points in tracks.values():
        assert len({f for f, *_ in points}) == len(points)
        for f0, x0, y0, s0 in points:
            later = [p for p in points if p[0] - f0 >= FPS]
            if later:
                f1, x1, y1, s1 = later[0]
                spans += 1
                speed = np.hypot(x1 - x0, y1 - y0) / max(s0, s1) / ((f1 - f0) / FPS)
                assert speed <= 1.5, (f0, f1, speed)
    assert spans >= 80


def test_real_walkers_keep_their_ids_for_seconds():
    tracks = run_tracker(thunder_frames())
    lengths = sorted((len(points) for points in tracks.values()), reverse=True)
    assert sum(1 for n in lengths if n >= 50) >= 6  # most walkers are followed for 5 s or more
    assert len(tracks) <= 25


def test_a_walker_the_model_keeps_losing_keeps_one_id():
    """MultiPose misses the near walker in many frames (gaps of up to 5 frames); one track
    follows them anyway from frame 24 to the end."""
    tracks = run_tracker(multipose_frames())
    longest = max(tracks.values(), key=len)
    frames = [f for f, *_ in longest]
    gaps = np.diff(frames)
    assert frames[-1] - frames[0] >= 100 and gaps.max() >= 3


def crossing(offset_y: float, seed: int, occlude: int, speed: float = 12.0):
    """Two real people walk towards each other and cross; the one behind may be unseen for
    `occlude` frames as they pass."""
    rng = np.random.default_rng(seed)
    a, b = skeletons()[0], skeletons()[1]
    height = lambda kp: kp[:, 1].max() - kp[:, 1].min()  # noqa: E731
    b = transform(b, scale=height(a) / height(b))
    a = transform(a, shift=(300 - a[:, 0].mean(), 420 - a[:, 1].mean()))
    b = transform(b, shift=(540 - b[:, 0].mean(), 420 + offset_y - b[:, 1].mean()))
    frames, truth = [], []
    for i in range(21):
        pa = jitter(transform(a, shift=(speed * i, 0)), rng, 1.0)
        pb = jitter(transform(b, shift=(-speed * i, 0)), rng, 1.0)
        people = [("a", pa), ("b", pb)]
        if abs(i - 10) * 2 < occlude:
            people = people[:1]  # b is behind a
        rng.shuffle(people)
        frames.append([as_pose(kp) for _, kp in people])
        truth.append([name for name, _ in people])
    return frames, truth


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("offset_y, occlude", [(0, 0), (8, 0), (-15, 0), (0, 2), (10, 4)])
def test_ids_survive_two_people_crossing(offset_y, occlude, seed):
    frames, truth = crossing(offset_y, seed, occlude)
    tracker = Tracker()
    ids: dict[str, set[int]] = {"a": set(), "b": set()}
    for index, (poses, names) in enumerate(zip(frames, truth)):
        tracks = tracker.update(poses, index / FPS)
        for track in tracks:
            (name,) = [n for n, p in zip(names, poses) if p is track.pose]
            ids[name].add(track.id)
    assert len(ids["a"]) == 1 and len(ids["b"]) == 1 and ids["a"] != ids["b"], ids


def test_a_track_survives_a_few_missed_frames_then_is_dropped():
    person = as_pose(skeletons()[0])
    tracker = Tracker(max_missed=3)
    (first,) = tracker.update([person], 0.0)
    for i in range(1, 4):
        assert tracker.update([], i / FPS) == [] and tracker.dropped == []
    (again,) = tracker.update([person], 0.4)
    assert again.id == first.id
    for i in range(5, 9):
        tracker.update([], i / FPS)
    assert tracker.dropped == [first.id] or first.id not in [t.id for t in tracker.tracks]
    (new,) = tracker.update([person], 1.0)
    assert new.id != first.id
