"""A show of three boxes, for real: a private mosquitto on the loopback address, three appliance
processes (two `appliance run`, one `appliance service`; synthetic or recorded sources, null
outputs) and the test listening to the show's topics as any MQTT client would.

A show-wide reaction that fires on one box switches all three within 200 ms; messages that are
not the show's change nothing and are each logged once; the broker killed leaves all three
playing, and started again they rejoin by themselves and play together again."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from appliance.poses.recording import PoseRecorder
from appliance.show.broker import Broker, mosquitto_path

from test_poses_data import as_pose, base, both_arms, stand, transform

pytestmark = pytest.mark.skipif(mosquitto_path() is None, reason="mosquitto is not installed (apt install mosquitto)")
mqtt = pytest.importorskip("paho.mqtt.client")

SHOW = "test"
BOXES = ("one", "two", "three")
SWITCH_S = 0.200

CONFIG = """
[source]
spec = "{source}"
width = 160
height = 120
fps = 20
loop = true
[output]
spec = "null"
[run]
mode = "passthrough"
[logging]
stats_every_s = 0
[show]
enabled = true
broker = "127.0.0.1"
port = {port}
name = "{show}"
box = "{box}"
boxes = ["one", "two", "three"]
"""

REACTIONS = """
[poses]
enabled = true
[[poses.reactions]]
pose = "arms_up"
action = "mode:aged-film"
scope = "show"
[[poses.reactions]]
pose = "t_pose"
action = "mode:mirror"
scope = "show"
"""


def record_visitor(path, fps: float = 20.0):
    """A visitor who stands, raises both arms, stands, makes a T, stands: 9 s at a camera's
    20 fps, looped by the source, so box one's show-wide reactions fire again and again."""
    me = transform(stand(base()), scale=1.6, shift=(150, -40))
    seconds = [(me, 4.0), (both_arms(me, 165, 175), 1.5), (me, 1.0), (both_arms(me, 90, 92), 1.5), (me, 1.0)]
    script = [kp for kp, s in seconds for _ in range(round(s * fps))]
    with PoseRecorder(path) as recorder:
        for i, kp in enumerate(script):
            recorder.write(i, i / fps, [as_pose(kp)])
    return path


class Listener:
    """The show's topics as the test hears them: (arrived, topic, payload) for every message."""

    def __init__(self, port: int):
        self.heard: list[tuple[float, str, dict]] = []
        self.lock = threading.Lock()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="test-listener")
        self.client.reconnect_delay_set(1, 2)
        self.client.on_connect = lambda c, *_: c.subscribe(f"show/{SHOW}/#", qos=1)
        self.client.on_message = self._heard
        self.client.connect_async("127.0.0.1", port)
        self.client.loop_start()

    def _heard(self, _client, _userdata, message):
        try:
            payload = json.loads(message.payload)
        except ValueError:
            payload = {}
        with self.lock:
            self.heard.append((time.time(), message.topic, payload if isinstance(payload, dict) else {}))

    def messages(self, kind: str, box: str | None = None, since: float = 0.0) -> list[dict]:
        with self.lock:
            return [p for arrived, t, p in self.heard if t.split("/")[2] == kind and arrived >= since
                    and (box is None or p.get("box") == box)]

    def wait(self, what, timeout: float, boxes: list[Box]):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = what()
            if found:
                return found
            for box in boxes:
                assert box.proc.poll() is None, f"box {box.name} died: {box.log_text()[-2000:]}"
            time.sleep(0.02)
        pytest.fail(f"timed out; heard {self.heard[-12:]}; logs: " + " | ".join(b.log_text()[-600:] for b in boxes))

    def publish(self, topic: str, payload: bytes) -> None:
        self.client.publish(topic, payload, qos=1).wait_for_publish(5)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


class Box:
    def __init__(self, tmp_path, name: str, port: int, source: str, service: bool = False, extra: str = ""):
        self.name = name
        folder = tmp_path / name
        folder.mkdir()
        self.config = folder / "appliance.toml"
        self.config.write_text(CONFIG.format(source=source, port=port, show=SHOW, box=name) + extra)
        self.log = folder / "stderr.log"
        command = ["service", "--state-dir", str(folder / "state")] if service else ["run"]
        env = dict(os.environ, SDL_VIDEODRIVER="dummy")
        env.pop("NOTIFY_SOCKET", None)
        self.proc = subprocess.Popen([sys.executable, "-m", "appliance", *command, "--config", str(self.config)],
                                     stdout=subprocess.DEVNULL, stderr=open(self.log, "w"), env=env)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(10)


@pytest.fixture
def show(tmp_path):
    broker = Broker(tmp_path / "broker" if (tmp_path / "broker").mkdir() is None else None).start()
    listener = Listener(broker.port)
    boxes: list[Box] = []
    yield broker, listener, boxes, tmp_path
    for box in boxes:
        if box.proc.poll() is None:
            box.proc.kill()
            box.proc.wait(5)
    listener.close()
    broker.close()


def online(listener: Listener, box: str, since: float = 0.0) -> bool:
    return any(p.get("online") is True for p in listener.messages("presence", box, since))


def switched_with(listener: Listener, action: dict, boxes: tuple[str, ...]) -> dict[str, float] | None:
    """Each box's delay from the action's time to its mode message for that mode, once all came."""
    mode = action["action"].removeprefix("mode:")
    delays = {}
    for box in boxes:
        after = [m for m in listener.messages("mode", box) if m["mode"] == mode and m["t"] >= action["t"] - 0.001]
        if not after:
            return None
        delays[box] = after[0]["t"] - action["t"]
    return delays


def played_together(listener: Listener, after: float) -> tuple[dict, dict[str, float]] | None:
    """The first of box one's actions heard after `after` that switched all three boxes, with
    their delays. (An action for the mode a box already shows switches nothing there: after the
    broker came back, box one may have switched alone meanwhile.)"""
    for action in listener.messages("action", "one", since=after):
        if time.time() - action["t"] < 1.0:
            return None  # let the boxes answer (each within 200 ms)
        delays = switched_with(listener, action, BOXES)
        if delays:
            return action, delays
    return None


def test_three_boxes_play_together_and_alone(show):
    broker, listener, boxes, tmp_path = show
    boxes.append(Box(tmp_path, "two", broker.port, "synthetic"))
    boxes.append(Box(tmp_path, "three", broker.port, "synthetic", service=True))
    listener.wait(lambda: online(listener, "two") and online(listener, "three"), 60, boxes)

    # messages that are not the show's change nothing, and each is one log line
    topic = f"show/{SHOW}/action"
    now = time.time()
    bad = [b"not json", b"{}", json.dumps({"box": "two/x", "t": now, "action": "next_mode"}).encode(),
           json.dumps({"box": "one", "t": "noon", "action": "next_mode"}).encode(),
           json.dumps({"box": "one", "t": now, "action": 7}).encode(), b'{"box": "one", "t": NaN}',
           json.dumps({"box": "one", "t": now, "action": "next_mode", "pad": "x" * 100_000}).encode(),
           json.dumps({"box": "stranger", "t": now, "action": "next_mode"}).encode(),
           json.dumps({"box": "one", "t": now, "action": "mode:disco"}).encode()]
    for payload in bad:
        listener.publish(topic, payload)
    listener.publish(f"show/{SHOW}/presence/two", json.dumps({"box": "one", "t": now, "online": True}).encode())
    time.sleep(1.5)
    for name in ("two", "three"):
        assert {m["mode"] for m in listener.messages("mode", name)} == {"passthrough"}
        log = boxes[["two", "three"].index(name)].log_text()
        assert log.count("; dropped") == len(bad) + 1, log
        assert log.count("unknown box: stranger") == 1 and log.count("bad message: ") == len(bad) - 2 + 1
        assert log.count("no mode 'disco' on this box") == 1 and "Traceback" not in log

    # a show-wide reaction on box one switches all three
    started = time.time()
    boxes.insert(0, Box(tmp_path, "one", broker.port, str(record_visitor(tmp_path / "visitor.jsonl")),
                        extra=REACTIONS))
    listener.wait(lambda: online(listener, "one"), 60, boxes)
    action, delays = listener.wait(lambda: played_together(listener, started), 30, boxes)
    print(f"switch delays after {action['action']}: " + ", ".join(f"{b} {d * 1000:.0f} ms" for b, d in delays.items()))
    assert max(delays.values()) < SWITCH_S, delays

    # the broker killed: all three go on, alone; started again, they rejoin and play together
    broker.stop()
    killed = time.time()
    time.sleep(2.5)
    for box in boxes:
        assert box.proc.poll() is None, box.log_text()[-2000:]
    broker.start()
    listener.wait(lambda: all(online(listener, b, since=killed) for b in BOXES), 60, boxes)
    for box in boxes:
        assert box.log_text().count("playing alone and trying again") == 1, box.log_text()[-1500:]
        assert "rejoined" in box.log_text()
    rejoined = time.time()
    action, delays = listener.wait(lambda: played_together(listener, rejoined), 30, boxes)
    print(f"after the broker came back, {action['action']}: "
          + ", ".join(f"{b} {d * 1000:.0f} ms" for b, d in delays.items()))
    assert max(delays.values()) < SWITCH_S, delays

    for box in boxes:
        assert box.stop() == 0, box.log_text()[-2000:]
