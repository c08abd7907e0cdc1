"""The whole chain per frame (track, judge, debounce; smooth for drawing) on real skeletons."""

from __future__ import annotations

import numpy as np

from appliance.poses.rules import load_rules
from appliance.poses.tracking import Tracker
from appliance.poses.watch import PoseWatcher
from test_poses_data import FPS, as_pose, base, both_arms, jitter, set_arm


def test_a_visitor_holding_a_pose_then_leaving_gives_start_then_end():
    watcher = PoseWatcher(load_rules(), tracker=Tracker(max_missed=3))
    up = as_pose(both_arms(base(), 165, 175))
    events = []
    for i in range(10):
        events += watcher.update(i, i / FPS, [up])
    for i in range(10, 15):  # they walk out of view
        events += watcher.update(i, i / FPS, [])
    assert [(e.pose, e.event, e.frame) for e in events] == [("arms_up", "start", 3), ("arms_up", "end", 13)]
    assert watcher.smoothed == {}  # the dropped track's filter and keypoints are gone


def test_the_mirror_setting_reaches_the_rules():
    points = as_pose(set_arm(base(), "left", 88, 90))  # the visitor's own left arm, out to their left
    plain, mirrored = PoseWatcher(load_rules()), PoseWatcher(load_rules(), mirror=True)
    started = {}
    for name, watcher in (("plain", plain), ("mirrored", mirrored)):
        events = [e for i in range(6) for e in watcher.update(i, i / FPS, [points])]
        started[name] = [e.pose for e in events if e.event == "start"]
    assert started == {"plain": ["point_right"], "mirrored": ["point_left"]}


def test_smoothed_keypoints_steady_a_still_visitor_for_drawing():
    rng = np.random.default_rng(2)
    watcher = PoseWatcher(load_rules())
    still = base()
    raw_err, smooth_err = [], []
    for i in range(60):
        noisy = jitter(still, rng, 1.5)
        watcher.update(i, i / 30.0, [as_pose(noisy)])
        (track,) = watcher.tracks
        if i >= 30:
            raw_err.append(np.abs(noisy[:, :2] - still[:, :2]).mean())
            smooth_err.append(np.abs(watcher.smoothed[track.id][:, :2] - still[:, :2]).mean())
    assert np.mean(smooth_err) * 2 < np.mean(raw_err)
