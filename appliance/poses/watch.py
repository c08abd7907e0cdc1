"""The whole chain for one frame: track, judge, debounce -> pose events; smooth for drawing.

The display pipeline, a replayed recording and the tests all need the same order of steps,
and the bookkeeping when the tracker drops a person (end their held poses, free their filter
and history). Doing it in one place keeps live runs and replays giving identical events.

Rules see the model's own keypoints, not the smoothed ones: smoothing delays poses and damps
the very swings a wave is made of, and `PoseEvents` already debounces flicker. The smoothed
keypoints (`smoothed`, by track id) are for drawing skeletons and for OSC.
"""

from __future__ import annotations

import numpy as np

from appliance.poses.events import PoseEvent, PoseEvents
from appliance.poses.keypoints import Pose
from appliance.poses.rules import PoseJudge, PoseRules
from appliance.poses.smoothing import KeypointSmoother
from appliance.poses.teach import PoseExamples, pose_feature
from appliance.poses.tracking import Track, Tracker


class PoseWatcher:
    def __init__(self, rules: PoseRules, mirror: bool = False, tracker: Tracker | None = None,
                 smoother: KeypointSmoother | None = None, events: PoseEvents | None = None,
                 examples: PoseExamples | None = None):
        self.mirror = mirror
        self.examples = examples
        self.tracker = tracker or Tracker()
        self.smoother = smoother or KeypointSmoother()
        self.judge = PoseJudge(rules, mirror)
        self.events = events or PoseEvents(timing=rules.timing())
        self.tracks: list[Track] = []
        self.smoothed: dict[int, np.ndarray] = {}

    def update(self, frame: int, t: float, poses: list[Pose]) -> list[PoseEvent]:
        """Poses found in one frame at time `t` -> the pose events they cause."""
        self.tracks = self.tracker.update(poses, t)
        events: list[PoseEvent] = []
        for track in self.tracks:
            self.smoothed[track.id] = self.smoother.smooth(track.id, track.pose.keypoints, t)
            verdicts = self.judge.update(track.id, track.pose.keypoints, t)
            verdicts.update(self._taught_verdicts(track.pose.keypoints))
            events += self.events.update(t, frame, track.id, verdicts)
        for track_id in self.tracker.dropped:
            events += self.events.end_track(t, frame, track_id)
            self.judge.forget(track_id)
            self.smoother.forget(track_id)
            self.smoothed.pop(track_id, None)
        return events

    def _taught_verdicts(self, keypoints: np.ndarray) -> dict[str, bool | None]:
        """Taught poses judged like named ones: the nearest taught pose is true, the rest false;
        too few keypoints seen is unknown for all of them."""
        if not self.examples or not self.examples.examples:
            return {}
        feature = pose_feature(keypoints, self.mirror)
        if feature is None:
            return {label: None for label in self.examples.examples}
        label = self.examples.classify(feature)
        return {name: name == label for name in self.examples.examples}
