"""The pose features as a user meets them: commands on recordings, and reactions in the live
pipeline switching modes and reaching a real UDP socket over OSC."""

from __future__ import annotations

import json
import socket
import threading

import numpy as np
import pytest

from appliance.config import ReactionSettings, Settings
from appliance.outputs.null import NullOutput
from appliance.core.pipeline import Pipeline, PipelineOptions
from appliance.analysis.pose import PoseStage, Reactions
from appliance.poses.osc import OscSender
from appliance.poses.recording import PoseRecorder
from appliance.poses.rules import load_rules
from appliance.poses.watch import PoseWatcher
from appliance.sources.synthetic import SyntheticSource

from conftest import run_cli
from test_poses_data import FPS, base, both_arms, stand, transform
from test_poses_recording import performance, record_performance


@pytest.fixture(scope="module")
def show(tmp_path_factory):
    return record_performance(tmp_path_factory.mktemp("show") / "show.jsonl")


def test_events_command_replays_a_recording_like_the_live_watcher(show):
    result = run_cli("poses", "events", str(show), "--json")
    assert result.returncode == 0, result.stderr
    printed = [json.loads(line) for line in result.stdout.splitlines()]
    watcher = PoseWatcher(load_rules(), mirror=True)  # the config default: a mirror
    expected = [e.to_json() for i, poses in enumerate(performance())
                for e in watcher.update(i, i / FPS, poses)]
    assert printed == expected
    assert {"arms_up", "t_pose", "crouch"} <= {e["pose"] for e in printed if e["event"] == "start"}
    assert set(printed[0]) == {"t", "frame", "track", "pose", "event"}


def test_teach_then_recognise_a_new_pose(tmp_path):
    me = transform(stand(base()), scale=1.6, shift=(150, -40))
    salute = both_arms(me, 120, 30)   # far from standing (feature distance 0.32 > 0.25)
    from test_poses_data import as_pose
    lesson, later = tmp_path / "lesson.jsonl", tmp_path / "later.jsonl"
    with PoseRecorder(lesson) as recorder:
        for i in range(25):
            recorder.write(i, i / FPS, [as_pose(salute)])
    with PoseRecorder(later) as recorder:
        for i, kp in enumerate([me] * 10 + [transform(salute, scale=0.8, shift=(-90, 30))] * 15 + [me] * 10):
            recorder.write(i, i / FPS, [as_pose(kp)])
    config = tmp_path / "appliance.toml"
    config.write_text(f'[poses]\nexamples = "{tmp_path / "taught.json"}"\n')
    taught = run_cli("poses", "teach", "salute", "--source", str(lesson), "--config", str(config))
    assert taught.returncode == 0, taught.stderr
    assert "taught 'salute': 21 examples" in taught.stdout  # 2 s at 10 fps
    events = run_cli("poses", "events", str(later), "--json", "--config", str(config))
    taught_events = [e for e in map(json.loads, events.stdout.splitlines()) if e["pose"] == "salute"]
    assert [e["event"] for e in taught_events] == ["start", "end"]
    assert 1.0 <= taught_events[0]["t"] <= 1.5 and 2.5 <= taught_events[1]["t"] <= 3.0


class ReplayEstimator:
    """Stands in for the pose model: the recorded performance, frame by frame."""

    def __init__(self):
        self.frames = performance()
        self.calls = 0

    def estimate(self, image, region=None):
        poses = self.frames[min(self.calls, len(self.frames) - 1)]
        self.calls += 1
        return poses


def test_arms_up_switches_the_mode_and_goes_out_over_osc():
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    receiver.settimeout(5)
    port = receiver.getsockname()[1]
    settings = Settings()
    settings.poses.reactions = [ReactionSettings(pose="arms_up", people=1, action="mode:aged-film")]
    pipeline_box = {}
    analyzer = PoseStage(ReplayEstimator(), PoseWatcher(load_rules()),
                            Reactions(settings.poses, lambda a: pipeline_box["p"].apply_action(a)),
                            OscSender("127.0.0.1", port, (768, 576)))
    options = PipelineOptions(realtime=False, inline_analysis=True, max_frames=40)
    pipeline = Pipeline(SyntheticSource(160, 120, FPS), NullOutput(), settings.modes, "passthrough",
                        [lambda: analyzer], options)
    pipeline_box["p"] = pipeline
    runner = threading.Thread(target=pipeline.run)
    runner.start()
    runner.join(30)
    assert pipeline.mode_name == "aged-film"
    from pythonosc.osc_message import OscMessage
    message = OscMessage(receiver.recv(1024))
    receiver.close()
    assert message.address == "/pose/event"
    assert message.params[1:] == ["arms_up", "start"] and isinstance(message.params[0], int)


class RefusingDesk:
    """An OSC client whose every send fails, as to a broadcast address without permission."""

    def send_message(self, address, values):
        raise PermissionError(13, "Permission denied")

    def close(self):
        pass


@pytest.mark.parametrize("connect", [lambda h, p: RefusingDesk(),
                                     lambda h, p: (_ for _ in ()).throw(socket.gaierror(-2, "not known"))])
def test_an_osc_desk_that_cannot_be_reached_stops_nothing(connect, caplog):
    """Sends that fail, or a host that never resolves: the poses are still analysed, the
    reaction still switches the mode, and the trouble is logged once."""
    settings = Settings()
    settings.poses.reactions = [ReactionSettings(pose="arms_up", people=1, action="mode:aged-film")]
    box = {}
    analyzer = PoseStage(ReplayEstimator(), PoseWatcher(load_rules()),
                         Reactions(settings.poses, lambda a: box["p"].apply_action(a)),
                         OscSender("desk.local", 9000, (768, 576), connect=connect))
    box["p"] = pipeline = Pipeline(SyntheticSource(160, 120, FPS), NullOutput(), settings.modes, "passthrough",
                                   [lambda: analyzer], PipelineOptions(realtime=False, inline_analysis=True,
                                                                       max_frames=40))
    with caplog.at_level("WARNING", logger="appliance.poses.osc"):
        summary = pipeline.run()
    assert pipeline.mode_name == "aged-film"
    assert summary.analysis["pose"]["processed"] >= 30, summary.analysis
    assert len([r for r in caplog.records if "desk.local:9000" in r.getMessage()]) == 1


def test_reaction_config_is_checked(tmp_path):
    from appliance.config import load_config
    from appliance.errors import ConfigError
    path = tmp_path / "a.toml"
    path.write_text('[[poses.reactions]]\npose = "arms_up"\naction = "mode:disco"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.problems[0].startswith(
        f"{path}: poses.reactions[0].action: 'mode:disco' is not an action")


def test_a_long_press_teaches_the_pose_being_held(tmp_path):
    """The button path: the pose stage records the visitor for 2 s, saves, and from then on
    recognises the new pose in the live stream."""
    from test_poses_data import as_pose
    me = transform(stand(base()), scale=1.6, shift=(150, -40))
    held = both_arms(me, 120, 30)

    class Visitor:
        def __init__(self):
            self.calls = 0

        def estimate(self, image, region=None):
            self.calls += 1
            kp = held if self.calls <= 25 or 40 < self.calls <= 60 else me
            return [as_pose(kp)]

    path = tmp_path / "taught.json"
    analyzer = PoseStage(Visitor(), PoseWatcher(load_rules(), True), examples_path=path)
    from appliance.core.frame import FrameMeta
    image = np.zeros((576, 768, 3), np.uint8)
    name = analyzer.teach(seconds=2.0)
    assert name == "taught-1" and analyzer.teaching
    events = []
    for i in range(70):
        result = analyzer.analyze(image, FrameMeta(index=i, t=i / FPS, captured_at=0.0))
        events += [(e.pose, e.event, e.frame) for e in result.events if e.pose == name]
    assert not analyzer.teaching and path.is_file()
    assert [e[:2] for e in events] == [("taught-1", "start"), ("taught-1", "end"),
                                       ("taught-1", "start"), ("taught-1", "end")]


def test_run_replays_a_recording_and_its_reactions_without_a_camera(show, tmp_path):
    config = tmp_path / "rehearsal.toml"
    config.write_text('[poses]\nenabled = true\nmirror = false\n'
                      '[[poses.reactions]]\npose = "t_pose"\naction = "mode:aged-film"\n')
    # played at its recorded pace, like a camera; the T comes at about 4 s
    result = run_cli("run", "--config", str(config), "--source", str(show), "--output", "null",
                     "--frames", "60")
    assert result.returncode == 0, result.stderr
    assert "mode aged-film: ended by 60 frames shown" in result.stdout
    assert "reaction: 1 holding t_pose -> mode:aged-film" in result.stderr
    assert "movenet" not in result.stderr  # the poses came with the frames: no pose model loaded
