"""Every visitor found, as `bench --all` measures it: the clip's own ground truth, and a recall
that counts exactly the walkers a pose lands on."""

from __future__ import annotations

import functools

import numpy as np

from appliance.bench.people import pose_recall
from appliance.bench.truth import walker_masks, walkers
from appliance.config import Settings
from appliance.poses.keypoints import Pose
from walkers import read_clip


@functools.cache
def clip():
    return read_clip()


@functools.cache
def truth():
    return walkers(walker_masks(clip()), 60)


class Oracle:
    """Returns a pose on every walker of each frame (or on none, or beside them)."""

    def __init__(self, keep=lambda walker: True, shift: int = 0):
        self.keep, self.shift, self.calls = keep, shift, 0

    def estimate(self, image):
        here = [w for w in truth() if w.frame == self.calls and self.keep(w)]
        self.calls += 1
        poses = []
        for w in here:
            x0, y0, x1, y1 = w.box
            ys, xs = np.nonzero(w.pixels)
            kp = np.zeros((17, 3), np.float32)
            kp[:, 0], kp[:, 1], kp[:, 2] = xs[:17] + self.shift, ys[:17], 0.9  # on the walker's own pixels
            poses.append(Pose(kp, (x0 + self.shift, y0, x1 + self.shift, y1), 0.9))
        return poses


def test_the_clip_has_several_walkers_a_frame_of_visitor_size():
    per_frame = len(truth()) / len(clip())
    assert 3 <= per_frame <= 8  # the clip shows 6-7 people; some merge or are under 60 px
    assert min(w.height for w in truth()) >= 60 and max(w.height for w in truth()) < clip()[0].shape[0]


def test_recall_counts_the_walkers_a_pose_covers_and_no_others():
    every = pose_recall(Settings(), clip(), Oracle())
    assert every["recall"] == 1.0 and every["keypoints_on_walkers"] == 1.0
    tall = pose_recall(Settings(), clip(), Oracle(keep=lambda w: w.height >= 100))
    assert tall["found"] == sum(w.height >= 100 for w in truth())
    beside = pose_recall(Settings(), clip(), Oracle(shift=400))
    assert beside["recall"] < 0.2  # a pose off to the side finds (almost) nobody


def test_the_models_keypoints_land_on_the_walkers_it_finds():
    result = pose_recall(Settings(), clip())
    assert result["found"] > 0 and result["keypoints_on_walkers"] >= 0.85
