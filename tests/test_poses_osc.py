"""OSC over UDP to a socket this test binds on loopback: events, and rate-limited keypoints."""

from __future__ import annotations

import socket

import numpy as np
import pytest
from pythonosc.osc_message import OscMessage
from pythonosc.udp_client import SimpleUDPClient

from appliance.poses.events import PoseEvent
from appliance.poses.osc import OscSender
from test_poses_data import base

FRAME = (768, 576)


@pytest.fixture
def receiver():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(5.0)  # only a bound on a lost datagram; nothing is timed
    yield sock
    sock.close()


@pytest.fixture
def sender(receiver):
    out = OscSender("127.0.0.1", receiver.getsockname()[1], FRAME, keypoint_rate=5.0)
    yield out
    out.close()


def received(sock: socket.socket) -> OscMessage:
    return OscMessage(sock.recv(65536))


def pending(sock: socket.socket) -> int:
    sock.setblocking(False)
    count = 0
    try:
        while sock.recv(65536):
            count += 1
    except BlockingIOError:
        pass
    sock.settimeout(5.0)
    return count


def test_events_arrive_as_track_pose_and_start_or_end(sender, receiver):
    sender.send_event(PoseEvent(1.5, 15, 3, "arms_up", "start"))
    sender.send_event(PoseEvent(2.5, 25, 3, "arms_up", "end"))
    first, second = received(receiver), received(receiver)
    assert first.address == "/pose/event" and first.params == [3, "arms_up", "start"]
    assert second.params == [3, "arms_up", "end"]
    assert isinstance(first.params[0], int)


def test_keypoints_arrive_as_51_floats_normalised_to_the_frame(sender, receiver):
    kp = base()
    assert sender.send_keypoints(7, kp, 0.0)
    message = received(receiver)
    assert message.address == "/pose/7/keypoints"
    values = np.array(message.params, dtype=np.float64).reshape(17, 3)
    assert len(message.params) == 51 and all(isinstance(v, float) for v in message.params)
    assert np.allclose(values[:, 0] * FRAME[0], kp[:, 0], atol=1e-3)
    assert np.allclose(values[:, 1] * FRAME[1], kp[:, 1], atol=1e-3)
    assert np.allclose(values[:, 2], kp[:, 2], atol=1e-6)
    assert ((values[:, :2] >= 0) & (values[:, :2] <= 1)).all()


def test_a_keypoint_the_model_put_outside_the_frame_is_clipped_to_its_edge(sender, receiver):
    kp = base()
    kp[0, 0], kp[16, 1] = -12.0, FRAME[1] + 30.0
    sender.send_keypoints(1, kp, 0.0)
    values = np.array(received(receiver).params).reshape(17, 3)
    assert values[0, 0] == 0.0 and values[16, 1] == 1.0


def test_keypoints_are_rate_limited_per_track_by_frame_time(sender, receiver):
    """30 fps for 2 s at 5 messages a second: 10 per track, each track counted apart."""
    kp = base()
    sent = {1: 0, 2: 0}
    for i in range(60):
        for track in (1, 2):
            sent[track] += sender.send_keypoints(track, kp, i / 30.0)
    assert sent == {1: 10, 2: 10}
    addresses = [received(receiver).address for _ in range(20)]
    assert addresses.count("/pose/1/keypoints") == 10 and addresses.count("/pose/2/keypoints") == 10
    assert pending(receiver) == 0


def test_no_keypoints_unless_asked(receiver):
    sender = OscSender("127.0.0.1", receiver.getsockname()[1], FRAME)
    assert not sender.send_keypoints(1, base(), 0.0)
    sender.send_event(PoseEvent(0.0, 0, 1, "wave", "start"))
    assert received(receiver).address == "/pose/event"
    assert pending(receiver) == 0
    sender.close()


def test_the_pose_stage_forgets_the_rate_limit_of_visitors_who_left(sender, receiver):
    """A track the tracker dropped takes its keypoint rate limit with it, so the sender's
    memory is the people present, not everyone who ever came by (months of visitors)."""
    from appliance.analysis.pose import PoseStage
    from appliance.core.frame import FrameMeta
    from appliance.poses.rules import load_rules
    from appliance.poses.watch import PoseWatcher
    from test_poses_data import as_pose

    visitor = as_pose(base())

    class Comes:
        def __init__(self):
            self.calls = 0

        def estimate(self, image, region=None):
            self.calls += 1
            return [visitor] if self.calls <= 10 else []

    stage = PoseStage(Comes(), PoseWatcher(load_rules()), osc=sender)
    image = np.zeros((FRAME[1], FRAME[0], 3), np.uint8)
    seen = set()
    for i in range(30):
        result = stage.analyze(image, FrameMeta(i, i / 10, 0.0))
        seen |= {t.id for t in result.tracks}
        if i == 9:
            assert set(sender._last_sent) == seen and seen  # keypoints went out for the visitor
    assert received(receiver).address.endswith("/keypoints")
    assert sender._last_sent == {}  # gone with the track


class Network:
    """A network that fails `lookups` times (as at boot, before the name server answers), then
    reaches the receiver; sends fail with `send_error` while it is set."""

    def __init__(self, receiver, lookups: int):
        self.port, self.lookups, self.send_error = receiver.getsockname()[1], lookups, None
        self.now = 0.0

    def connect(self, host, port):
        if self.lookups > 0:
            self.lookups -= 1
            raise socket.gaierror(-2, "Name or service not known")
        client = SimpleUDPClient("127.0.0.1", self.port)
        send = client.send_message

        def send_or_fail(address, values):
            if self.send_error:
                raise self.send_error
            send(address, values)
        client.send_message = send_or_fail
        return client


def test_a_host_not_found_at_start_drops_messages_logs_once_and_is_found_later(receiver, caplog):
    net = Network(receiver, lookups=3)
    sender = OscSender("desk.local", 9000, FRAME, clock=lambda: net.now, connect=net.connect)
    event = PoseEvent(1.5, 15, 3, "arms_up", "start")
    with caplog.at_level("INFO", logger="appliance.poses.osc"):
        for step in range(40):  # 40 events over 40 s: lookups at 0, 1, 3, then 7 s
            sender.send_event(event)
            sender.wait_for_lookup()
            net.now += 1.0
    warnings = [r for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1 and "desk.local:9000" in warnings[0].getMessage()
    assert any("works again" in r.getMessage() for r in caplog.records)
    assert pending(receiver) >= 30  # every event from the moment it was found
    sender.close()


def test_a_failing_send_is_dropped_and_logged_once_then_sending_resumes(receiver, caplog):
    net = Network(receiver, lookups=0)
    sender = OscSender("desk.local", 9000, FRAME, clock=lambda: net.now, connect=net.connect)
    event = PoseEvent(1.5, 15, 3, "arms_up", "start")
    sender.send_event(event)
    assert received(receiver).params == [3, "arms_up", "start"]
    net.send_error = PermissionError(13, "Permission denied")
    with caplog.at_level("WARNING", logger="appliance.poses.osc"):
        for _ in range(10):
            sender.send_event(event)
            sender.wait_for_lookup()
            net.now += 0.5
    assert len(caplog.records) == 1 and "Permission denied" in caplog.records[0].getMessage()
    net.send_error = None
    for _ in range(130):  # the pause has grown; it is tried again within a minute
        sender.send_event(event)
        sender.wait_for_lookup()
        net.now += 0.5
    assert pending(receiver) > 0
    sender.close()


def test_commands_come_in_over_udp_and_other_addresses_are_ignored(caplog):
    """The listener (what `[poses.osc] listen_port` starts) on a port the system chooses."""
    import threading

    from appliance.poses.osc import OscListener
    saves = threading.Event()
    listener = OscListener("127.0.0.1", 0, {"/painting/save": saves.set})
    try:
        host, port = listener.address
        desk = SimpleUDPClient(host, port)
        desk.send_message("/painting/nonsense", [1])
        desk.send_message("/painting/save", [])
        assert saves.wait(5.0)  # a bound on a lost datagram; nothing is timed
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.sendto(b"not osc at all", (host, port))
        sock.close()
    finally:
        listener.close()
    assert "OSC /painting/nonsense: not a command here" in caplog.text
    assert not listener.thread.is_alive()
    again = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    again.bind((host, port))  # closed: the port is free
    again.close()


def test_a_port_in_use_is_one_error_line_and_the_pipeline_runs_without(caplog):
    from appliance.app.runner import attach_osc_listener
    from appliance.config import OscSettings
    taken = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    taken.bind(("127.0.0.1", 0))
    try:
        pipeline = type("P", (), {"observers": []})()
        attach_osc_listener(pipeline, OscSettings(listen_port=taken.getsockname()[1]), {"/x": lambda: None})
    finally:
        taken.close()
    assert pipeline.observers == []
    [line] = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert line.startswith("OSC: cannot listen on 127.0.0.1:") and "running without OSC commands" in line
