"""Every visitor found, as `bench --all` measures it: the clip's own ground truth, and a recall
that counts exactly the walkers a pose lands on."""

from __future__ import annotations

import functools

import numpy as np

from appliance.bench.people import pose_recall
from appliance.bench.truth import read_clip, walker_masks, walkers
from appliance.config import Settings
from appliance.poses.keypoints import Pose, box_iou, coverage


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


def test_the_default_pose_stage_finds_the_walkers_and_lands_on_them():
    """#14's goal on the sample clip: >= 0.85 of the walkers >= 60 px carry a pose, its keypoints
    land on them, and no pose stands where nobody walks. Shrinking the whole room into the
    model's input (pose_crops = "whole") finds few of them: resolution on the person is what
    matters."""
    result = pose_recall(Settings(), clip())
    assert result["recall"] >= 0.85
    assert result["keypoints_on_walkers"] >= 0.85
    assert result["poses_on_nobody_per_frame"] < 0.1
    whole = Settings()
    whole.models.pose_crops = "whole"
    assert pose_recall(whole, clip())["recall"] < result["recall"] - 0.3


def test_a_pose_found_in_a_tile_lands_where_the_whole_frame_puts_it():
    """The way back from a tile to the frame: a walker near the camera, found by the model on
    the whole frame and on a mosaic of crops (alone, and among other crops), has its keypoints
    within a few pixels of the same places."""
    from appliance.core.stages import AnalysisContext
    from appliance.models.mosaic import Mosaic
    from appliance.models.pose import create_estimator

    frame = clip()[110]  # a walker near the camera, clearly found by every model
    model = create_estimator(AnalysisContext().store, "movenet_multipose")
    whole = max(model.estimate(frame), key=lambda p: p.box[3] - p.box[1])
    others = [w.box for w in truth() if w.frame == 110 and coverage(w.box, whole.box) < 0.1]
    mosaic = Mosaic(model)
    for regions in ([whole.box], [whole.box] + others[:5]):
        found = max(mosaic.estimate(frame, regions), key=lambda p: box_iou(p.box, whole.box))
        both = (found.keypoints[:, 2] > 0.3) & (whole.keypoints[:, 2] > 0.3)
        assert both.sum() >= 10
        error = np.linalg.norm(found.keypoints[both, :2] - whole.keypoints[both, :2], axis=1)
        assert np.median(error) < 0.05 * (whole.box[3] - whole.box[1]), (len(regions), np.median(error))


def test_far_visitors_are_found_where_the_whole_frame_misses_them():
    """People 90 px tall at 640x480, cut from the clip and walking across the empty room, alone
    and in pairs: the live stage (motion crops) places their keypoints; shrinking the whole
    frame into the model's input does not."""
    from appliance.bench.far import far_visitors
    result = far_visitors(Settings(), clip())
    assert result["visitors"] >= 4
    assert result["alone"]["pck"] >= 0.75 and result["pairs"]["pck"] >= 0.75
    whole = Settings()
    whole.models.pose_crops = "whole"
    assert far_visitors(whole, clip())["alone"]["pck"] < 0.4
