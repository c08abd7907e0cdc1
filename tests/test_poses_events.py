"""Events from flickering verdicts: a hold before "start", hysteresis before "end", and
"unknown" bridging short gaps. Verdicts come from real skeletons through the shipped rules."""

from __future__ import annotations

import numpy as np

from appliance.poses.events import PoseEvent, PoseEvents
from appliance.poses.rules import load_rules
from test_poses_data import base, both_arms, hide, jitter

RULES = load_rules()
FPS = 10.0


def run(verdicts: list[bool | None], events: PoseEvents | None = None, pose: str = "arms_up"):
    events = events or PoseEvents(hold=0.3, release=0.4, grace=1.0)
    out = []
    for i, verdict in enumerate(verdicts):
        out += events.update(i / FPS, i, 7, {pose: verdict})
    return [(e.frame, e.event) for e in out]


def rule_verdicts(frames: list[np.ndarray]) -> list[bool | None]:
    return [RULES.evaluate(kp)["arms_up"] for kp in frames]


def test_hold_time_delays_start_and_a_blip_starts_nothing():
    up, down = both_arms(base(), 165, 175), both_arms(base(), 8, 4)
    verdicts = rule_verdicts([down] * 3 + [up] * 2 + [down] * 3 + [up] * 6)
    assert verdicts[3:5] == [True, True]
    assert run(verdicts) == [(11, "start")]  # 0.3 s after the arms went up for good (frame 8)


def test_flicker_never_retriggers_and_end_waits_for_release():
    up, down = both_arms(base(), 165, 175), both_arms(base(), 8, 4)
    frames = [up] * 5 + [down, up, down, down, up, down, up] + [up] * 3 + [down] * 6
    verdicts = rule_verdicts(frames)
    assert run(verdicts) == [(3, "start"), (19, "end")]  # 0.4 s after the last True (frame 14)


def test_a_short_unknown_gap_keeps_the_pose_and_a_long_one_ends_it():
    up = both_arms(base(), 165, 175)
    short = rule_verdicts([up] * 5 + [hide(up, "left_wrist")] * 6 + [up] * 3)
    assert short[5:11] == [None] * 6
    assert run(short) == [(3, "start")]
    long = rule_verdicts([up] * 5 + [hide(up, "left_wrist")] * 14)
    assert run(long) == [(3, "start"), (15, "end")]  # 1.0 s grace after the first unknown


def test_unknown_does_not_count_towards_the_hold():
    assert run([True, None, True, None, True, None, True]) == []
    assert run([True, True, None, True, True, True, True]) == [(6, "start")]


def test_noisy_real_keypoints_give_one_start_and_one_end():
    rng = np.random.default_rng(11)
    up, down = both_arms(base(), 165, 175), both_arms(base(), 8, 4)
    frames = [jitter(kp, rng, 1.5) for kp in [down] * 5 + [up] * 20 + [down] * 10]
    assert [e for _, e in run(rule_verdicts(frames))] == ["start", "end"]


def test_per_pose_timing_from_the_rules_file_overrides_the_default():
    events = PoseEvents(hold=0.3, release=0.4, timing=RULES.timing())
    assert RULES.timing()["jump"] == (0.0, 0.3)
    assert run([False, True, False, False, False, False], events, pose="jump") == [(1, "start"), (5, "end")]


def test_a_lost_track_ends_its_held_poses_once():
    events = PoseEvents(hold=0.0)
    events.update(0.0, 0, 3, {"arms_up": True, "t_pose": False})
    assert events.active(3) == ["arms_up"]
    ended = events.end_track(0.5, 5, 3)
    assert ended == [PoseEvent(0.5, 5, 3, "arms_up", "end")]
    assert events.end_track(0.6, 6, 3) == []


def test_event_json_has_the_documented_fields():
    event = PoseEvent(1.23456, 12, 4, "wave", "start")
    assert event.to_json() == {"t": 1.2346, "frame": 12, "track": 4, "pose": "wave", "event": "start"}
