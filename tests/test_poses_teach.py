"""Poses taught by example: recognised on another real person at another size and place,
an untaught pose is "none", and the saved examples survive a kill -9 mid-save."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from appliance.errors import ConfigError
from appliance.poses.teach import NONE, PoseExamples, pose_feature
from test_poses_data import (K, both_arms, crouch, hide, jitter, place_wrist, set_arm, skeletons,
                             torso, transform)


def facing(kp: np.ndarray) -> np.ndarray:
    """The same body facing the camera (see test_poses_data.base)."""
    kp = kp.copy()
    if kp[K["left_shoulder"], 0] < kp[K["right_shoulder"], 0]:
        kp[:, 0] = 2 * kp[:, 0].mean() - kp[:, 0]
    return kp


def people() -> list[np.ndarray]:
    return [facing(kp) for kp in skeletons()[:3]]


POSES = {
    "arms_up": lambda kp: both_arms(kp, 165, 175),
    "t_pose": lambda kp: both_arms(kp, 90, 92),
    "left_arm_out": lambda kp: set_arm(set_arm(kp, "left", 90, 90), "right", 8, 4),
    "crouch": lambda kp: crouch(kp, 70),
    "hands_on_hips": lambda kp: place_wrist(place_wrist(kp, "left", 40, kp[K["left_hip"], :2]),
                                            "right", 40, kp[K["right_hip"], :2]),
}


@pytest.fixture(scope="module")
def taught() -> PoseExamples:
    """Three poses shown three times each by two of the clip's people."""
    rng = np.random.default_rng(5)
    examples = PoseExamples()
    for person in people()[:2]:
        for label in ("arms_up", "t_pose", "left_arm_out"):
            for _ in range(3):
                examples.add(label, pose_feature(jitter(POSES[label](person), rng, 1.0)))
    return examples


@pytest.mark.parametrize("label", ["arms_up", "t_pose", "left_arm_out"])
@pytest.mark.parametrize("scale, shift", [(1.0, (0, 0)), (0.6, (150, -40)), (2.2, (-90, 10))])
def test_a_taught_pose_is_recognised_on_another_person(taught, label, scale, shift):
    rng = np.random.default_rng(8)
    stranger = people()[2]
    kp = jitter(transform(POSES[label](stranger), scale=scale, degrees=4, shift=shift), rng, 1.0)
    assert taught.classify(pose_feature(kp)) == label


@pytest.mark.parametrize("label", ["crouch", "hands_on_hips"])
def test_an_untaught_pose_is_none_not_the_nearest(taught, label):
    kp = POSES[label](people()[2])
    nearest, distance = taught.nearest(pose_feature(kp))
    assert nearest != NONE and distance > taught.max_distance
    assert taught.classify(pose_feature(kp)) == NONE


def test_too_little_seen_is_none():
    kp = POSES["arms_up"](people()[0])
    examples = PoseExamples()
    examples.add("arms_up", pose_feature(kp))
    assert examples.classify(pose_feature(hide(kp, *list(K)[:10]))) == NONE  # 7 keypoints left
    assert examples.classify(pose_feature(hide(kp, "left_hip", "right_hip"))) == NONE  # no torso
    assert examples.classify(pose_feature(hide(kp, "nose", "left_ear"))) == "arms_up"


def test_the_feature_is_in_torso_lengths_from_the_hips_and_mirror_flips_it():
    kp = POSES["left_arm_out"](people()[0])
    feature = pose_feature(kp)
    hip = kp[[11, 12], :2].mean(0)
    assert np.allclose(feature[:, :2], (kp[:, :2] - hip) / torso(kp), atol=1e-4)
    flipped = kp.copy()
    flipped[:, 0] = -flipped[:, 0]
    assert np.allclose(pose_feature(kp, mirror=True), pose_feature(flipped))
    assert not np.allclose(pose_feature(kp, mirror=True), feature)


def test_examples_save_and_load_unchanged(tmp_path, taught):
    path = tmp_path / "examples.json"
    taught.save(path)
    loaded = PoseExamples.load(path)
    assert set(loaded.examples) == set(taught.examples)
    for label, features in taught.examples.items():
        assert np.allclose(np.array(loaded.examples[label]), np.array(features), atol=1e-4)
    stranger = POSES["t_pose"](people()[2])
    assert loaded.classify(pose_feature(stranger)) == "t_pose"


def test_a_broken_examples_file_is_one_clear_line(tmp_path):
    path = tmp_path / "examples.json"
    path.write_text('{"examples": {"up": [[1, 2]]}}')
    with pytest.raises(ConfigError, match=f"^{path}: not a pose examples file"):
        PoseExamples.load(path)
    with pytest.raises(ConfigError, match="cannot be read"):
        PoseExamples.load(tmp_path / "missing.json")


def example_set(n: int, size: int = 400) -> PoseExamples:
    examples = PoseExamples()
    for _ in range(size):
        examples.add(f"pose{n}", np.full((17, 3), float(n)))
    return examples


WRITER = """
import sys
from test_poses_teach import example_set
path = sys.argv[1]
sets = [example_set(1), example_set(2)]
sets[0].save(path)
print("ready", flush=True)
i = 1
while True:
    sets[i % 2].save(path)
    i += 1
"""

KILLED_AT = """
import os, pathlib, signal, sys
from test_poses_teach import example_set
path, step = sys.argv[1], sys.argv[2]
example_set(1).save(path)
die = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL)
real_replace, real_write = os.replace, pathlib.Path.write_text
if step == "write":  # half the text is on disk, then the power fails
    pathlib.Path.write_text = lambda self, text, **k: (real_write(self, text[: len(text) // 2], **k), die())
elif step == "fsync":
    os.fsync = die
elif step == "rename":
    os.replace = die
elif step == "dir-fsync":
    os.replace = lambda a, b: (real_replace(a, b), setattr(os, "fsync", die))
example_set(2).save(path)
"""


def run_child(script: str, *args: str) -> subprocess.Popen:
    here = os.path.dirname(os.path.abspath(__file__))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([here, os.path.dirname(here)]))
    return subprocess.Popen([sys.executable, "-c", script, *args], stdout=subprocess.PIPE, text=True, env=env)


@pytest.mark.parametrize("step, survivor", [("write", "pose1"), ("fsync", "pose1"),
                                            ("rename", "pose1"), ("dir-fsync", "pose2")])
def test_a_save_killed_at_each_step_leaves_the_old_or_the_new_file(tmp_path, step, survivor):
    path = tmp_path / "examples.json"
    child = run_child(KILLED_AT, str(path), step)
    assert child.wait() == -signal.SIGKILL
    child.stdout.close()
    assert list(PoseExamples.load(path).examples) == [survivor]


def test_a_writer_killed_at_random_moments_never_leaves_a_torn_file(tmp_path):
    """kill -9 a child saving two example sets alternately, at varied moments: the file always
    loads as one whole set."""
    path = tmp_path / "examples.json"
    for attempt in range(12):
        child = run_child(WRITER, str(path))
        assert child.stdout.readline().strip() == "ready"
        time.sleep(0.005 * (attempt % 6))  # kill at different points of the save cycle
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        child.stdout.close()
        loaded = PoseExamples.load(path)  # raises ConfigError on a torn file
        (label,) = loaded.examples
        assert label in ("pose1", "pose2") and len(loaded.examples[label]) == 400
