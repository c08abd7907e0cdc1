"""Stable track ids for the people a pose model finds, frame after frame.

Pose models forget who is who between frames; effects and events need "the same visitor".
Each track predicts where its person will be now (constant velocity of the box centre), and
poses are matched to predictions greedily by a cost that mixes keypoint and box-centre
distance, both divided by body size so one threshold works near and far from the camera.
A track survives a few missed frames (a model blinking, two people overlapping) before it is
dropped, so a brief occlusion does not hand out a new id.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from appliance.poses.keypoints import Pose


@dataclass
class Track:
    """One person: `pose` is the latest matched pose, `t` when it was seen."""

    id: int
    pose: Pose
    t: float
    velocity: np.ndarray = field(default_factory=lambda: np.zeros(2))  # box centre, px/s
    missed: int = 0
    hits: int = 1

    @property
    def size(self) -> float:
        return body_size(self.pose)

    def predicted(self, t: float) -> np.ndarray:
        """Keypoint x,y (17, 2) expected at time `t` if the person keeps moving as before."""
        return self.pose.keypoints[:, :2] + self.velocity * (t - self.t)


def body_size(pose: Pose) -> float:
    """Body size in pixels: the longer side of the box (height, for people standing), >= 1."""
    x0, y0, x1, y1 = pose.box
    return max(y1 - y0, x1 - x0, 1.0)


def _centre(pose: Pose) -> np.ndarray:
    x0, y0, x1, y1 = pose.box
    return np.array([(x0 + x1) / 2, (y0 + y1) / 2])


class Tracker:
    """Greedy matching of poses to predicted tracks; see the module docstring for why."""

    def __init__(self, max_cost: float = 0.6, max_missed: int = 5, min_score: float = 0.2,
                 velocity_smoothing: float = 0.5):
        self.max_cost = max_cost
        self.max_missed = max_missed
        self.min_score = min_score
        self.velocity_smoothing = velocity_smoothing
        self.tracks: list[Track] = []
        self.dropped: list[int] = []  # ids dropped by the latest update
        self._next_id = 1

    def costs(self, poses: list[Pose], t: float) -> np.ndarray:
        """(tracks, poses): mean keypoint distance plus box-centre distance to each track's
        prediction, per body size; the box-centre distance alone where fewer than 3 keypoints
        are seen on both. A track's row is one set of array operations over every pose (a room
        of visitors is tens of pairs), with temporaries of one row's size."""
        costs = np.zeros((len(self.tracks), len(poses)))
        if not poses:
            return costs
        pose_kp = np.array([p.keypoints for p in poses])                   # (P, 17, 3)
        pose_seen = pose_kp[:, :, 2] >= self.min_score
        pose_centres = np.array([_centre(p) for p in poses])
        pose_sizes = np.array([body_size(p) for p in poses])
        for row, track in enumerate(self.tracks):
            shift = track.velocity * (t - track.t)
            size = np.maximum(track.size, pose_sizes)
            centre = np.hypot(*(_centre(track.pose) + shift - pose_centres).T) / size
            both = pose_seen & (track.pose.keypoints[:, 2] >= self.min_score)
            gaps = np.hypot(*np.moveaxis(track.predicted(t) - pose_kp[:, :, :2], 2, 0))  # (P, 17)
            count = both.sum(axis=1)
            mean_gap = np.where(both, gaps, 0.0).sum(axis=1) / np.maximum(count, 1)
            costs[row] = np.where(count < 3, centre, 0.5 * centre + 0.5 * mean_gap / size)
        return costs

    def update(self, poses: list[Pose], t: float) -> list[Track]:
        """Match `poses` seen at time `t` (seconds); return the tracks seen now, by id."""
        costs = self.costs(poses, t)
        near = np.nonzero(costs <= self.max_cost)
        pairs = sorted((float(costs[ti, pi]), ti, pi) for ti, pi in zip(near[0].tolist(), near[1].tolist()))
        used_tracks: set[int] = set()
        used_poses: set[int] = set()
        for cost, ti, pi in pairs:
            if ti in used_tracks or pi in used_poses:
                continue
            used_tracks.add(ti)
            used_poses.add(pi)
            self._follow(self.tracks[ti], poses[pi], t)
        seen = [self.tracks[ti] for ti in used_tracks]
        self._age(used_tracks)
        for pi, pose in enumerate(poses):
            if pi not in used_poses:
                seen.append(self._start(pose, t))
        return sorted(seen, key=lambda track: track.id)

    def _follow(self, track: Track, pose: Pose, t: float) -> None:
        dt = t - track.t
        if dt > 0:
            measured = (_centre(pose) - _centre(track.pose)) / dt
            k = self.velocity_smoothing if track.hits > 1 else 1.0
            track.velocity = k * measured + (1 - k) * track.velocity
        track.pose, track.t = pose, t
        track.missed = 0
        track.hits += 1

    def _age(self, matched: set[int]) -> None:
        self.dropped = []
        kept = []
        for index, track in enumerate(self.tracks):
            if index not in matched:
                track.missed += 1
            if track.missed > self.max_missed:
                self.dropped.append(track.id)
            else:
                kept.append(track)
        self.tracks = kept

    def _start(self, pose: Pose, t: float) -> Track:
        track = Track(self._next_id, pose, t)
        self._next_id += 1
        self.tracks.append(track)
        return track
