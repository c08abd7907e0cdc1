"""Recordings in the `appliance pose --json` format: the command's own output reads back
exactly, `PoseRecorder` writes the same lines, and replaying a recording gives the same pose
events as the live run it was recorded from."""

from __future__ import annotations

import numpy as np
import pytest

from appliance.errors import ConfigError
from appliance.poses.recording import PoseRecorder, frame_line, read_recording
from appliance.poses.rules import load_rules
from appliance.poses.watch import PoseWatcher
from conftest import run_cli
from test_poses_data import (FPS, as_pose, base, both_arms, crouch, multipose_frames, set_arm,
                             stand, torso, transform)


@pytest.fixture(scope="module")
def cli_lines() -> list[str]:
    done = run_cli("pose", "sample", "--json", "--frames", "40", "--model", "movenet_multipose")
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_the_pose_command_output_reads_back_line_for_line(tmp_path, cli_lines):
    path = tmp_path / "cli.jsonl"
    path.write_text("\n".join(cli_lines) + "\n")
    frames = list(read_recording(path))
    assert [f.frame for f in frames] == list(range(40))
    assert sum(len(f.poses) for f in frames) >= 20
    assert [frame_line(f.frame, f.t, f.poses) for f in frames] == cli_lines


def test_the_recorder_writes_what_the_pose_command_prints(tmp_path, cli_lines):
    from appliance.analysis.pose import pose_estimator
    from appliance.core.stages import AnalysisContext
    from test_poses_data import clip
    path = tmp_path / "live.jsonl"
    estimator = pose_estimator(AnalysisContext())  # as the command and the live stage look
    with PoseRecorder(path) as recorder:
        for index, frame in enumerate(clip()[:40]):
            recorder.write(index, index / FPS, estimator.estimate(frame))
    assert path.read_text().splitlines() == cli_lines


def test_a_recording_that_fails_midway_leaves_no_file(tmp_path):
    path = tmp_path / "broken.jsonl"
    with pytest.raises(RuntimeError):
        with PoseRecorder(path) as recorder:
            recorder.write(0, 0.0, [as_pose(base())])
            raise RuntimeError("camera unplugged")
    assert not path.exists() and list(tmp_path.iterdir()) == []


def test_a_bad_line_names_the_file_and_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    good = frame_line(0, 0.0, [as_pose(base())])
    path.write_text(good + "\n" + '{"frame": 1, "t": 0.1, "poses": [{"score": 1}]}\n')
    frames = read_recording(path)
    assert next(frames).frame == 0
    with pytest.raises(ConfigError, match=f"^{path}:2: not a pose frame"):
        next(frames)


def performance() -> list[list]:
    """The clip's walkers, plus a visitor near the screen who raises both arms, makes a T,
    waves, crouches and jumps (all bent from a real skeleton), 15 s at 10 fps."""
    me = transform(stand(base()), scale=1.6, shift=(150, -40))
    t = torso(me)
    script = ([me] * 10 + [both_arms(me, 165, 175)] * 15 + [me] * 10 + [both_arms(me, 90, 92)] * 15
              + [me] * 10
              + [set_arm(me, "right", 150, 180 + 35 * np.sin(2 * np.pi * 1.5 * i / FPS)) for i in range(25)]
              + [me] * 10 + [crouch(me, 70)] * 15 + [me] * 10
              + [transform(me, shift=(0, -h * t)) for h in (0.2, 0.5, 0.7, 0.5, 0.2)] + [me] * 15)
    walkers = multipose_frames()
    return [list(walkers[i % len(walkers)]) + [as_pose(kp)] for i, kp in enumerate(script)]


def record_performance(path):
    """`performance()` written as a recording (the `appliance pose --json` lines) at `path`."""
    with PoseRecorder(path) as recorder:
        for index, poses in enumerate(performance()):
            recorder.write(index, index / FPS, poses)
    return path


def events_of(frames) -> list[dict]:
    watcher = PoseWatcher(load_rules())
    return [e.to_json() for index, t, poses in frames for e in watcher.update(index, t, poses)]


def test_replaying_a_recording_gives_the_live_events(tmp_path):
    live_frames = [(i, i / FPS, poses) for i, poses in enumerate(performance())]
    path = tmp_path / "show.jsonl"
    with PoseRecorder(path) as recorder:
        for index, t, poses in live_frames:
            recorder.write(index, t, poses)
    live = events_of(live_frames)
    replayed = events_of((f.frame, f.t, f.poses) for f in read_recording(path))
    assert replayed == live
    started = {e["pose"] for e in live if e["event"] == "start"}
    assert {"arms_up", "t_pose", "wave", "crouch", "jump"} <= started, live


GOOD_FRAME = '{"frame": 1, "t": 0.1, "poses": []}'


@pytest.mark.parametrize("bad", [
    b'{"frame": 1, "t": 0.1, "poses": [], "note": "caf\xe9"}',  # latin-1, not UTF-8
    b'{"frame": 1e400, "t": 0.1, "poses": []}',
    b'{"frame": 1, "t": NaN, "poses": []}',
    b'{"frame": 1, "t": 0.1, "poses": ' + b"[" * 100_000 + b"]" * 100_000 + b'}',
    b'{"frame": 1, "t": 0.1, "poses": [{"keypoints": [1, 2], "box": [0, 0, 1, 1], "score": 1}]}',
    b'[1, 2, 3]',
])
def test_a_recording_no_camera_could_have_made_is_one_line_naming_file_and_line(tmp_path, bad):
    path = tmp_path / "bad.jsonl"
    path.write_bytes(GOOD_FRAME.encode() + b"\n" + bad + b"\n")
    with pytest.raises(ConfigError) as caught:
        list(read_recording(path))
    [problem] = caught.value.problems
    assert problem.startswith(f"{path}:2: not a pose frame") and "\n" not in problem and len(problem) < 500


def test_times_written_in_milliseconds_replay_at_the_recorded_rate(tmp_path, caplog):
    from appliance.sources.recording import PoseRecordingSource
    path = tmp_path / "ms.jsonl"
    path.write_text("".join(f'{{"frame": {i}, "t": {i * 100}, "poses": []}}\n' for i in range(20)))
    source = PoseRecordingSource(path)
    with caplog.at_level("WARNING"):
        source.open()
    assert source.fps == pytest.approx(10.0)
    assert any("milliseconds" in r.getMessage() for r in caplog.records)


def test_a_picture_larger_than_a_camera_gives_is_scaled_down_with_one_line(tmp_path, caplog):
    import cv2
    from appliance.sources.image import ImageSource
    path = tmp_path / "huge.png"
    big = np.zeros((6000, 8000, 3), np.uint8)
    cv2.circle(big, (4000, 3000), 2000, (0, 0, 255), -1)
    cv2.imwrite(str(path), big)
    source = ImageSource(path)
    with caplog.at_level("WARNING"):
        source.open()
    frame = source.read()
    assert frame.shape == (1440, 1920, 3) and tuple(frame[720, 960]) == (0, 0, 255)
    assert sum("larger than a camera gives" in r.getMessage() for r in caplog.records) == 1
