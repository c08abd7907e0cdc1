"""Named poses from poses.toml on real skeletons bent into each pose: each is recognised, its
neighbours are not, mirroring swaps left and right, size and position do not matter, unseen
keypoints give "unknown", and a broken poses.toml is reported in one line per problem."""

from __future__ import annotations

import numpy as np
import pytest

from appliance.errors import ConfigError
from appliance.poses.rules import PoseJudge, load_rules, parse_rules
from appliance.poses.tracking import Tracker
from test_poses_data import (FPS, K, base, both_arms, crouch, hide, jitter, multipose_frames,
                             place_wrist, set_arm, stand, thunder_frames, torso, transform)

RULES = load_rules()
STILL = list(RULES.poses)


def hips(kp, side):
    return kp[K[f"{side}_hip"], :2] + np.array([0.0, -0.1 * torso(kp)])


def chest(kp):
    return kp[[5, 6, 11, 12], :2].mean(0) + np.array([0.0, -0.2 * torso(kp)])


def made(name: str) -> np.ndarray:
    """The base skeleton bent into a named pose (the visitor faces the camera)."""
    b = base()
    if name == "standing":
        return stand(both_arms(b, 8, 4))
    if name == "arms_up":
        return both_arms(b, 165, 175)
    if name == "t_pose":
        return both_arms(b, 90, 92)
    if name == "hands_on_hips":
        return place_wrist(place_wrist(b, "left", 40, hips(b, "left")), "right", 40, hips(b, "right"))
    if name == "crouch":
        return crouch(b, 70)
    if name == "visitor_points_left":  # their own left arm out to their left
        return set_arm(b, "left", 88, 90)
    if name == "hands_together":
        return place_wrist(place_wrist(b, "left", 20, chest(b)), "right", 20, chest(b))
    raise KeyError(name)


def detected(kp: np.ndarray, mirror: bool = False) -> set[str]:
    return {name for name, verdict in RULES.evaluate(kp, mirror).items() if verdict}


@pytest.mark.parametrize("name", ["arms_up", "t_pose", "hands_on_hips", "crouch", "hands_together"])
def test_each_pose_is_recognised_and_no_other(name):
    assert detected(made(name)) == {name}
    assert detected(made(name), mirror=True) == {name}


def test_standing_is_no_pose_and_every_still_pose_is_known():
    verdicts = RULES.evaluate(made("standing"))
    assert verdicts == {name: False for name in STILL}


@pytest.mark.parametrize("upper, fore, expected", [
    (165, 175, {"arms_up"}),     # straight up
    (135, 150, {"arms_up"}),     # a V overhead
    (112, 118, set()),           # out and a little up: neither up nor a T
    (90, 92, {"t_pose"}),        # out sideways
    (90, 40, set()),             # elbows out, forearms hanging: not a T
    (60, 60, set()),             # arms raised a little
])
def test_arms_up_and_t_pose_are_told_apart(upper, fore, expected):
    assert detected(both_arms(base(), upper, fore)) == expected


def test_crouch_needs_bent_knees():
    assert detected(crouch(base(), 70)) == {"crouch"}
    assert detected(crouch(base(), 150)) == set()


def test_mirror_swaps_point_left_and_point_right():
    """Facing the camera, a visitor's left arm appears on the image's right: pointing there is
    point_right on a plain screen, and point_left on a mirrored one (their own left)."""
    kp = made("visitor_points_left")
    assert detected(kp, mirror=False) == {"point_right"}
    assert detected(kp, mirror=True) == {"point_left"}
    other = set_arm(base(), "right", 88, 90)
    assert detected(other, mirror=False) == {"point_left"}
    assert detected(other, mirror=True) == {"point_right"}


def test_pointing_with_both_arms_is_a_t_pose_not_a_point():
    kp = both_arms(base(), 88, 90)
    assert detected(kp) == {"t_pose"}


@pytest.mark.parametrize("scale, degrees, shift", [(0.5, 0, (0, 0)), (2.5, 0, (0, 0)),
                                                    (1.0, 8, (0, 0)), (1.7, -8, (-200, 40))])
@pytest.mark.parametrize("name", ["arms_up", "t_pose", "hands_on_hips", "crouch", "hands_together",
                                  "visitor_points_left"])
def test_poses_do_not_depend_on_size_place_or_a_slight_lean(name, scale, degrees, shift):
    kp = made(name)
    assert RULES.evaluate(transform(kp, scale, degrees, shift)) == RULES.evaluate(kp)


def test_real_keypoint_noise_does_not_change_the_verdict():
    rng = np.random.default_rng(3)
    for name in ("arms_up", "t_pose", "hands_on_hips", "crouch", "hands_together"):
        kp = made(name)
        agree = sum(RULES.evaluate(jitter(kp, rng, 1.0)) == RULES.evaluate(kp) for _ in range(20))
        assert agree >= 19, name


def test_unseen_keypoints_make_a_pose_unknown_not_false():
    kp = made("arms_up")
    assert RULES.evaluate(hide(kp, "left_wrist"))["arms_up"] is None
    assert RULES.evaluate(hide(kp, "left_hip", "right_hip"))["arms_up"] is None  # no torso, no scale
    # a pose already contradicted by what is seen stays False despite an unseen keypoint
    assert RULES.evaluate(hide(made("standing"), "left_wrist"))["arms_up"] is False
    # a low score counts as unseen, not just a zero
    low = made("t_pose")
    low[K["right_elbow"], 2] = RULES.min_score - 0.01
    assert RULES.evaluate(low)["t_pose"] is None
    low[K["right_elbow"], 2] = RULES.min_score
    assert RULES.evaluate(low)["t_pose"] is True


def test_real_walkers_rarely_strike_a_named_pose():
    """On 150 frames of real people walking, no still pose fires on more than 3% of them."""
    poses = [p for frame in thunder_frames() for p in frame]
    assert len(poses) >= 500
    fired = {name: 0 for name in STILL}
    for pose in poses:
        for name in detected(pose.keypoints):
            fired[name] += 1
    assert max(fired.values()) <= 0.03 * len(poses), fired


# ---- motions over time ----

def run_judge(sequence, fps=15.0, mirror=False):
    judge = PoseJudge(RULES, mirror)
    return [judge.update(1, kp, i / fps) for i, kp in enumerate(sequence)]


def waving(seconds=2.0, fps=15.0, hz=1.5, upper=150, swing=35):
    """The right forearm, raised, swinging side to side about vertical at `hz`."""
    b = set_arm(base(), "left", 8, 4)
    n = int(seconds * fps)
    return [set_arm(b, "right", upper, 180 + swing * np.sin(2 * np.pi * hz * i / fps)) for i in range(n)]


@pytest.mark.parametrize("hz", [1.0, 1.5, 2.5])
def test_a_raised_hand_swinging_is_a_wave_after_three_swings(hz):
    fps = 15.0
    verdicts = run_judge(waving(seconds=3.0, fps=fps, hz=hz), fps=fps)
    first = next(i for i, v in enumerate(verdicts) if v["wave"]) / fps
    # three legs of the swing (half a period each) after the first quarter, and not before
    assert 1.25 / hz <= first <= 1.75 / hz + 2 / fps
    assert all(v["wave"] for v in verdicts[int(first * fps):])


def test_a_still_raised_hand_or_a_low_swing_is_no_wave():
    assert not any(v["wave"] for v in run_judge(waving(swing=3)))
    assert not any(v["wave"] for v in run_judge(waving(upper=30)))  # hand below the shoulder


def test_jumping_is_a_jump_and_standing_up_is_not():
    b = stand(base())
    t = torso(b)
    lift = [0, 0, 0, 0, 0, 0.2, 0.5, 0.7, 0.5, 0.2, 0, 0, 0, 0]
    jump = [transform(b, shift=(0, -h * t)) for h in lift]
    verdicts = run_judge(jump, fps=FPS)
    assert not any(v["jump"] for v in verdicts[:6])
    assert any(v["jump"] for v in verdicts[6:9])
    rise = [crouch(b, 70)] * 5 + [crouch(b, 110), crouch(b, 150), b, b]
    assert not any(v["jump"] for v in run_judge(rise, fps=FPS))


@pytest.mark.parametrize("model", ["thunder", "multipose"])
def test_real_walkers_rarely_wave_or_jump(model):
    """Walking swings arms and the model's keypoints wander (walking away from the camera also
    moves a person up the image): on tracked real walkers, wave and jump stay under 1%."""
    frames = thunder_frames() if model == "thunder" else multipose_frames()
    tracker, judge = Tracker(), PoseJudge(RULES)
    counts = {"wave": 0, "jump": 0, "judged": 0}
    for index, poses in enumerate(frames):
        for track in tracker.update(list(poses), index / FPS):
            verdicts = judge.update(track.id, track.pose.keypoints, index / FPS)
            counts["judged"] += 1
            counts["wave"] += bool(verdicts["wave"])
            counts["jump"] += bool(verdicts["jump"])
    assert counts["judged"] >= 100
    assert max(counts["wave"], counts["jump"]) <= 0.01 * counts["judged"], counts


# ---- the file ----

def test_the_shipped_file_defines_the_promised_poses():
    assert {"arms_up", "t_pose", "hands_on_hips", "crouch", "point_left", "point_right",
            "hands_together", "wave", "jump"} <= set(RULES.names)


@pytest.mark.parametrize("data, problem", [
    ({"poses": {"up": {"all": [{"above": ["left_wrist", "nose"]}]}}},
     "poses.up.all[0]: has no bound (expected min, max or both)"),
    ({"poses": {"up": {"all": [{"above": ["left_wrist", "noze"], "min": 1}]}}},
     "poses.up.all[0].above: ['left_wrist', 'noze'] is not 2 keypoint names"),
    ({"poses": {"up": {"all": [{"above": ["left_wrist", "nose"], "min": 1, "mx": 2}]}}},
     "poses.up.all[0].mx: unknown key"),
    ({"poses": {"up": {"all": [{"any": [{"angle": ["a", "b"], "max": 3}]}]}}},
     "poses.up.all[0].any[0].angle:"),
    ({"poses": {"up": {"all": [{"apart": ["nose", "left_eye"], "min": 2, "max": 1}]}}},
     "poses.up.all[0]: min 2 is above max 1 (expected min <= max)"),
    ({"poses": {"up": {"hold": -1, "all": [{"apart": ["nose", "left_eye"], "min": 2}]}}},
     "poses.up.hold: -1 is not allowed (expected seconds from 0 to 10)"),
    ({"poses": {"up": {}}}, "poses.up: needs exactly one of all or any"),
    ({"motions": {"wave": {"kind": "spin"}}}, "motions.wave.kind: 'spin' is not a motion kind"),
    ({"motions": {"wave": {"kind": "swing", "points": ["left_wrist"], "anchors": [],
                           "min_swings": 4, "min_amplitude": 0.3}}},
     "motions.wave.anchors: [] is not a list of keypoint names"),
    ({"min_score": 2}, "min_score: 2 is not allowed (expected a number from 0 to 1)"),
])
def test_a_broken_rule_is_one_clear_line_naming_file_and_key(data, problem):
    with pytest.raises(ConfigError) as raised:
        parse_rules(data, "my_poses.toml")
    lines = raised.value.problems
    assert any(line.startswith(f"my_poses.toml: {problem}") for line in lines), lines
    assert all("\n" not in line for line in lines)


def test_a_file_that_is_not_toml_names_the_file(tmp_path):
    path = tmp_path / "poses.toml"
    path.write_text("[poses.up\n")
    with pytest.raises(ConfigError, match=f"^{path}: not valid TOML"):
        load_rules(path)
    with pytest.raises(ConfigError, match="cannot be read"):
        load_rules(tmp_path / "missing.toml")


def test_judging_every_pose_at_once_agrees_with_each_rule_tree():
    """The compiled judge (all measures in a few array operations) gives exactly the verdicts
    of the Measure/Group trees, on real skeletons bent and jittered, seen and half unseen."""
    from appliance.poses.body import Body
    rng = np.random.default_rng(3)
    bodies = [made(name) for name in ("standing", "arms_up", "t_pose", "hands_on_hips", "crouch",
                                      "visitor_points_left", "hands_together")]
    bodies += [jitter(kp, rng, 8.0) for kp in bodies for _ in range(20)]
    for k, kp in enumerate(bodies):
        if k % 3 == 0:
            kp = kp.copy()
            kp[rng.choice(17, 4, replace=False), 2] = 0.05  # some keypoints not seen
        for mirror in (False, True):
            body = Body.of(kp, mirror, RULES.min_score)
            trees = {name: rule.condition.judge(body) for name, rule in RULES.poses.items()}
            assert RULES.compiled.judge(body) == trees
    assert any(v is None for v in RULES.evaluate(hide(made("arms_up"), "left_wrist")).values())
