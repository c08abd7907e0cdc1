"""Events from flickering verdicts: a hold before "start", hysteresis before "end", and
"unknown" bridging short gaps. Verdicts come from real skeletons through the shipped rules."""

from __future__ import annotations

import numpy as np
import pytest

from appliance.poses.events import PoseEvent, PoseEvents
from appliance.poses.rules import load_rules
from test_poses_data import base, both_arms, crouch, hide, jitter, stand

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


def test_unknown_pauses_the_hold_without_restarting_it():
    """Known-true time adds up across unknown frames: 3 intervals of 0.1 s reach the 0.3 s hold."""
    assert run([True, None, True, None, True, None, True]) == [(6, "start")]
    assert run([True, True, None, True, True, True, True]) == [(4, "start")]
    assert run([True, None, None, None, None, None, True]) == []  # only 0.1 s of it was seen true


def test_unknown_pauses_the_release_without_restarting_it():
    held = [True] * 4  # start at frame 3
    assert run(held + [False, None, False, None, False, None, False, None, False]) == [(3, "start"), (12, "end")]
    assert run(held + [False, None, False, True, False, None, False]) == [(3, "start")]  # a True restarts it


def test_a_crouch_held_2_s_with_a_flickering_ankle_is_recognised_for_all_of_it():
    """The ankle drops below its score every other frame at 20 fps: the verdict is unknown on
    those frames, which pause the hold: the crouch starts once `hold` seconds of it were seen
    (twice that on the clock, half the frames being unknown) and lasts until the person stands.
    Restarting the hold on every unknown frame, it would never start."""
    fps = 20.0
    down, up = crouch(base()), stand(base())
    frames = [up] * 10 + [hide(down, "left_ankle") if i % 2 else down for i in range(40)] + [up] * 20
    verdicts = [RULES.evaluate(kp)["crouch"] for kp in frames]
    assert verdicts[10:14] == [True, None, True, None]
    events = PoseEvents(timing=RULES.timing())
    out = []
    for i, verdict in enumerate(verdicts):
        out += [(e.frame, e.event) for e in events.update(i / fps, i, 7, {"crouch": verdict})]
    hold, release = RULES.timing().get("crouch", (None, None))
    hold = events.hold if hold is None else hold
    release = events.release if release is None else release
    start_frame = out[0][0]
    assert out[0][1] == "start" and (start_frame - 10) / fps == pytest.approx(2 * hold, abs=0.5 / fps)
    assert out[1:] == [(50 + round(release * fps), "end")]  # held through every flicker to the end


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
