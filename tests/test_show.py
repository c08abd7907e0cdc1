"""A show of several boxes: the messages (untrusted, checked), the show's clock (the film in
phase on boxes started 7 s apart), the MQTT link against a real mosquitto (unreachable,
refused, rejoined, credentials, TLS), and show-wide reactions."""

from __future__ import annotations

import json
import logging
import subprocess
import threading
import time

import numpy as np
import pytest

from appliance.analysis.pose import Reactions
from appliance.config import ReactionSettings, Settings
from appliance.config.sections import ShowSettings
from appliance.core.frame import FrameMeta
from appliance.core.pipeline import Pipeline, PipelineOptions
from appliance.poses.events import PoseEvent
from appliance.show.box import ShowBox, attach_show
from appliance.show.broker import Broker, free_port, mosquitto_path
from appliance.show.clock import EPOCH, ShowClock
from appliance.show.messages import BadMessage, action_problem, decode, encode, name_problem

needs_broker = pytest.mark.skipif(mosquitto_path() is None, reason="mosquitto is not installed (apt install mosquitto)")


# -- messages -------------------------------------------------------------------------------

def test_a_message_reads_back_as_it_was_said():
    m = decode("gallery", "show/gallery/action", encode("hall", 12.5, action="mode:aged-film"))
    assert (m.kind, m.box, m.t, m["action"], m.retained) == ("action", "hall", 12.5, "mode:aged-film", False)
    p = decode("gallery", "show/gallery/presence/hall", encode("hall", 1.0, online=True), retained=True)
    assert p.retained and p["online"] is True


@pytest.mark.parametrize("topic, payload, why", [
    ("show/gallery/action", b"\xff\xfe", "not JSON"),
    ("show/gallery/action", b"[1, 2]", "not a JSON object"),
    ("show/gallery/action", b'{"box": "hall", "t": NaN, "action": "next_mode"}', "not JSON"),
    ("show/gallery/action", b'{"box": "hall", "t": 1e999, "action": "next_mode"}', "no time t"),
    ("show/gallery/action", b'{"box": "hall/x", "t": 1, "action": "next_mode"}', "no valid box name"),
    ("show/gallery/action", b'{"box": "hall", "t": "noon", "action": "next_mode"}', "no time t"),
    ("show/gallery/action", b'{"box": "hall", "t": 1, "action": 7}', "action missing"),
    ("show/gallery/action", b'{"box": "hall", "t": 1, "action": "a\\u0007"}', "action missing"),
    ("show/gallery/pose", b'{"box": "hall", "t": 1, "track": true, "pose": "x", "event": "start"}', "track missing"),
    ("show/gallery/action", b'{"box": "hall", "t": 1, "action": "' + b"x" * 3000 + b'"}', "bytes (at most"),
    ("show/gallery/action", b"[" * 1000 + b"]" * 1000, "not JSON"),  # nested past the recursion limit
    ("show/gallery/presence/stairs", b'{"box": "hall", "t": 1, "online": true}', "another box's name"),
    ("show/gallery/secrets", b'{"box": "hall", "t": 1}', "not a topic of the show"),
    ("show/other/action", b'{"box": "hall", "t": 1, "action": "next_mode"}', "not a topic of the show"),
])
def test_what_is_not_the_shows_is_refused_saying_why(topic, payload, why):
    with pytest.raises(BadMessage, match=why.replace("(", r"\(")):
        decode("gallery", topic, payload)


@pytest.mark.parametrize("name, ok", [("hall", True), ("box-2.left_A", True), ("", False), ("a/b", False),
                                      ("a+", False), ("#", False), ("with space", False), ("x" * 65, False),
                                      ("täsch", False)])
def test_names_are_one_topic_level_without_wildcards(name, ok):
    assert (name_problem(name) is None) == ok


def test_actions_are_checked_against_this_boxs_own_modes():
    modes = {"passthrough": 1, "aged-film": 2}
    assert action_problem("mode:aged-film", modes) is None
    assert action_problem("next_mode", modes) is None and action_problem("effect:heal", modes) is None
    assert "no mode 'disco'" in action_problem("mode:disco", modes)
    assert "not an action" in action_problem("explode", modes)
    assert "not an action" in action_problem("effect:", modes)


# -- the show's clock ----------------------------------------------------------------------

def test_a_frame_gets_the_show_time_of_its_capture():
    clock = ShowClock(wall=lambda: EPOCH + 500.0, monotonic=lambda: 20.0)
    assert clock.now() == 500.0
    assert clock.frame_time(FrameMeta(0, 0.0, captured_at=19.75)) == 499.75  # waited 0.25 s for the display


class Frames:
    """A null output that keeps every picture shown."""

    description = "frames"

    def __init__(self):
        self.shown: list[np.ndarray] = []

    def open(self, width, height, fps):
        pass

    def show(self, image):
        self.shown.append(image.copy())

    def commands(self):
        return []

    def close(self):
        pass


class StillSource:
    """The same picture again and again at 8 fps (frame times exact in binary: k / 8)."""

    live = False
    fps = 8.0
    description = "still"

    def __init__(self, image, frames: int):
        self.image, self.frames, self.index = image, frames, 0

    def open(self):
        self.index = 0

    def read(self):
        self.index += 1
        return self.image.copy() if self.index <= self.frames else None

    def close(self):
        pass


def film_box(image, started: float, seconds: float, shared: bool = True) -> dict[float, np.ndarray]:
    """A box started at show time `started`, playing aged film for `seconds`: its pictures by
    show time (`shared`: on the show's clock, else on its own, as a box alone)."""
    settings = Settings()
    output = Frames()
    frames = int(seconds * StillSource.fps)
    pipeline = Pipeline(StillSource(image, frames), output, settings.modes, "aged-film",
                        options=PipelineOptions(realtime=False, wait_for_display=True))
    if shared:
        pipeline.show_clock = lambda meta: started + meta.t  # the box's own frame time, from its start
    pipeline.run()
    return {started + i / StillSource.fps: picture for i, picture in enumerate(output.shown)}


def test_the_film_on_two_boxes_started_7_s_apart_shows_the_same_frame_at_the_same_show_time(sample_frames):
    """The film's default cycle is 36 s from show time 0; from 1017 (9 s into a cycle) the
    picture is decaying: the first box has played 7 s of it, the second just starts."""
    image = sample_frames[0]
    first = film_box(image, 1010.0, 12.0)
    second = film_box(image, 1017.0, 5.0)
    common = sorted(set(first) & set(second))
    assert len(common) == 40
    for t in common:
        assert np.array_equal(first[t], second[t]), t
    assert len({first[t].tobytes() for t in common}) == len(common)  # damage that moves, frame to frame
    alone = film_box(image, 1010.0, 12.0, shared=False), film_box(image, 1017.0, 5.0, shared=False)
    assert not any(np.array_equal(alone[0][t], alone[1][t]) for t in common)  # each on its own time: apart


# -- the link, against a real broker ----------------------------------------------------------

def show_settings(port: int, box: str, **more) -> ShowSettings:
    return ShowSettings(enabled=True, broker="127.0.0.1", port=port, name="t", box=box, **more)


def wait_until(predicate, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


class FakePipeline:
    def __init__(self):
        self.modes = Settings().modes
        self.mode_name = "passthrough"
        self.actions: list[str] = []
        self.observers: list = []
        self.show_clock = None

    def apply_action(self, action: str) -> None:
        self.actions.append(action)


@pytest.fixture
def broker(tmp_path):
    if mosquitto_path() is None:
        pytest.skip("mosquitto is not installed (apt install mosquitto)")
    b = Broker(tmp_path).start()
    yield b
    b.close()


def test_boxes_do_each_others_show_wide_actions_and_not_their_own(broker, caplog):
    a, b = FakePipeline(), FakePipeline()
    show_a = attach_show(a, show_settings(broker.port, "a", boxes=["a", "b"]))
    show_b = attach_show(b, show_settings(broker.port, "b", boxes=["a", "b"]))
    try:
        assert a.show_clock is not None and a.observers == [show_a]
        wait_until(lambda: show_a.link.connected and show_b.link.connected)
        time.sleep(0.2)  # both subscribed
        show_a.publish_action("mode:aged-film")
        show_a.publish_action("mode:disco")  # not a mode of b's
        show_a.publish_pose(PoseEvent(0.0, 1, 3, "arms_up", "start"))
        wait_until(lambda: b.actions == ["mode:aged-film"] and show_b.link.received >= 4)
        time.sleep(0.3)
        assert a.actions == [] and b.actions == ["mode:aged-film"]  # no echo, nothing of its own
        assert show_b.link.rejected == 1
        assert any("no mode 'disco' on this box" in r.getMessage() for r in caplog.records)
    finally:
        show_a.stopped(a)
        show_b.stopped(b)


def test_an_unreachable_broker_delays_nothing_and_is_joined_when_it_comes(tmp_path, caplog):
    if mosquitto_path() is None:
        pytest.skip("mosquitto is not installed (apt install mosquitto)")
    port = free_port()
    pipeline = FakePipeline()
    started = time.monotonic()
    with caplog.at_level(logging.INFO, logger="appliance.show"):
        show = attach_show(pipeline, show_settings(port, "a"))
        assert time.monotonic() - started < 0.5
        begun = time.perf_counter()
        for i in range(10_000):  # the display loop and the pose stage say things meanwhile
            show.frame_shown(pipeline)
            show.publish_pose(PoseEvent(0.0, i, 1, "crouch", "start"))
        assert time.perf_counter() - begun < 2.0
        time.sleep(3.5)  # tried again at 1 s and 3 s
        broker = Broker(tmp_path, port).start()
        try:
            wait_until(lambda: show.link.connected, 20)
            lines = [r.getMessage() for r in caplog.records]
            assert sum("playing alone" in line for line in lines) == 1, lines
            assert any("rejoined" in line for line in lines)
        finally:
            show.stopped(pipeline)
            broker.close()


@pytest.mark.skipif(not mosquitto_path() or not subprocess.run(["which", "mosquitto_passwd"],
                                                                   capture_output=True).returncode == 0,
                    reason="mosquitto_passwd is not installed")
def test_credentials_from_a_password_file(tmp_path, caplog):
    broker = Broker(tmp_path, passwords={"box": "s3cret"}).start()
    (tmp_path / "right").write_text("s3cret\n")
    (tmp_path / "wrong").write_text("guess\n")
    good, bad = FakePipeline(), FakePipeline()
    try:
        with caplog.at_level(logging.WARNING, logger="appliance.show"):
            joined = attach_show(good, show_settings(broker.port, "a", username="box",
                                                     password_file=str(tmp_path / "right")))
            refused = attach_show(bad, show_settings(broker.port, "b", username="box",
                                                     password_file=str(tmp_path / "wrong")))
            wait_until(lambda: joined.link.connected)
            time.sleep(1.5)
            assert not refused.link.connected
            lines = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
            assert len(lines) == 1 and "playing alone" in lines[0]
        joined.stopped(good)
        refused.stopped(bad)
        assert attach_show(FakePipeline(), show_settings(broker.port, "c", username="box",
                                                         password_file=str(tmp_path / "missing"))) is None
    finally:
        broker.close()


def make_certificates(folder):
    """A CA and a broker certificate for 127.0.0.1, made with openssl."""
    def run(*args):
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True)
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
        "-subj", "/CN=test CA")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1")
    (folder / "ext").write_text("subjectAltName=IP:127.0.0.1\n")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", "server.crt", "-days", "2", "-extfile", "ext")


@needs_broker
def test_tls_with_the_shows_own_ca(tmp_path):
    try:
        make_certificates(tmp_path)
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("openssl cannot make test certificates here")
    broker = Broker(tmp_path)
    broker.config.write_text(broker.config.read_text().replace("persistence false", "") +
                             f"cafile {tmp_path / 'ca.crt'}\ncertfile {tmp_path / 'server.crt'}\n"
                             f"keyfile {tmp_path / 'server.key'}\n")
    broker.start()
    pipeline = FakePipeline()
    try:
        show = attach_show(pipeline, show_settings(broker.port, "a", tls=True, ca_file=str(tmp_path / "ca.crt")))
        wait_until(lambda: show.link.connected)
        show.stopped(pipeline)
        assert attach_show(FakePipeline(), show_settings(broker.port, "b", tls=True,
                                                         ca_file=str(tmp_path / "none.crt"))) is None
    finally:
        broker.close()


def test_closing_never_waits_for_a_broker_that_does_not_answer():
    """A broker that takes the connection and says nothing (a hung machine): closing still
    returns at once, as SIGTERM must end the run within 2 s."""
    import socket
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    pipeline = FakePipeline()
    show = attach_show(pipeline, show_settings(silent.getsockname()[1], "a"))
    time.sleep(0.5)
    started = time.monotonic()
    show.stopped(pipeline)
    assert time.monotonic() - started < 1.0
    silent.close()


# -- show-wide reactions ---------------------------------------------------------------------

def test_a_show_wide_reaction_goes_to_the_show_and_a_box_one_stays_here():
    settings = Settings()
    settings.poses.reactions = [ReactionSettings(pose="arms_up", action="mode:aged-film", scope="show"),
                                ReactionSettings(pose="crouch", action="next_mode")]
    here, everywhere = [], []
    reactions = Reactions(settings.poses, here.append, everywhere.append)
    reactions.handle(PoseEvent(0.0, 1, 1, "arms_up", "start"))
    reactions.handle(PoseEvent(0.1, 2, 1, "crouch", "start"))
    assert everywhere == ["mode:aged-film"] and here == ["next_mode"]


def test_show_config_is_checked(tmp_path):
    from appliance.config import load_config
    from appliance.errors import ConfigError
    path = tmp_path / "a.toml"
    path.write_text('[show]\nenabled = true\nname = "a/b"\nbox = "#"\nboxes = ["ok", "not ok"]\nport = 0\n'
                    '[[poses.reactions]]\npose = "arms_up"\naction = "next_mode"\nscope = "world"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    problems = "\n".join(caught.value.problems)
    for key in ("show.name", "show.box", "show.boxes", "show.port", "poses.reactions[0].scope"):
        assert f"{path}: {key}: " in problems, problems
    assert "no '/', '+', '#'" in problems
    path.write_text('[show]\nenabled = true\nbroker = "mqtt.gallery.lan"\nboxes = ["hall", "stairs"]\n'
                    '[[poses.reactions]]\npose = "arms_up"\naction = "next_mode"\nscope = "show"\n')
    settings = load_config(path)
    assert settings.show.boxes == ["hall", "stairs"] and settings.poses.reactions[0].scope == "show"
