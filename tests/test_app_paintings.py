"""Keeping the evening's painting through a real pipeline: the recorded performance (the clip's
walkers and a visitor who waves, crouches and jumps) plays into the evening mode with a state
folder; the canvas outlives a mode switch and a restart, and a long press of the previous
button (gpiozero's MockFactory), an OSC `/painting/save` over a real UDP socket and `appliance
snapshot` each leave one readable PNG in the state folder."""

from __future__ import annotations

import socket
import time

import cv2
import numpy as np
import pytest
from pythonosc.udp_client import SimpleUDPClient

from appliance.app.cli import main
from appliance.app.paintings import PaintingSaves, running_service, snapshot
from appliance.app.runner import build_pipeline
from appliance.config import GpioSettings, Settings
from appliance.core.pipeline import PipelineOptions
from appliance.effects.evening import Evening
from appliance.paint import album
from appliance.poses.osc import OscListener

from test_poses_recording import record_performance

W, H = 768, 576  # the clip's size, where the recorded poses are


@pytest.fixture(scope="module")
def show(tmp_path_factory):
    return record_performance(tmp_path_factory.mktemp("show") / "performance.jsonl")


def settings_for(show, mode: str = "evening") -> Settings:
    settings = Settings()
    settings.source.spec, settings.source.width, settings.source.height = str(show), W, H
    settings.run.mode, settings.output.spec = mode, "null"
    settings.logging.stats_every_s = 0
    return settings


class AtFrame:
    """A pipeline observer that runs `act(pipeline)` when frame `n` has been shown."""

    def __init__(self, **acts):
        self.acts = {int(k[1:]): act for k, act in acts.items()}  # f40=... -> frame 40

    def frame_shown(self, pipeline):
        act = self.acts.get(pipeline.frames_out)
        if act is not None:
            act(pipeline)

    def stopped(self, pipeline):
        pass


def run(settings, state, frames: int, saves: PaintingSaves | None = None, **acts):
    options = PipelineOptions(realtime=False, wait_for_display=True, inline_analysis=True, max_frames=frames)
    pipeline = build_pipeline(settings, options, state_dir=state, saves=saves)
    pipeline.observers.append(AtFrame(**acts))
    summary = pipeline.run()
    assert not summary.error and summary.frames_out == frames, summary
    return pipeline


def evening_of(pipeline) -> Evening | None:
    return next((e for _, e in pipeline.mode.steps if isinstance(e, Evening)), None) if pipeline.mode else None


def coverage(pipeline) -> np.ndarray:
    return 1.0 - evening_of(pipeline).canvas.bare.copy()


def test_the_canvas_outlives_a_mode_switch_and_a_restart(tmp_path, show):
    seen = {}
    run(settings_for(show), tmp_path, 120,
        f90=lambda p: (seen.setdefault("before", coverage(p)), p.apply_action("mode:skeleton")),
        f95=lambda p: seen.setdefault("other", p.mode_name),
        f100=lambda p: p.apply_action("mode:evening"),
        f101=lambda p: seen.setdefault("back", coverage(p)),
        f120=lambda p: seen.setdefault("end", coverage(p)))
    assert seen["other"] == "skeleton"
    assert (seen["before"] > 0.03).sum() > 5000  # the walkers' and the dancer's strokes
    assert np.abs(seen["back"] - seen["before"]).max() <= 1 / 255 + 1e-6  # taken back (8-bit file)
    assert (seen["end"] >= seen["back"] - 1 / 255).all() and seen["end"].sum() > seen["back"].sum()
    restarted = run(settings_for(show), tmp_path, 1, f1=lambda p: seen.setdefault("restart", coverage(p)))
    assert np.abs(seen["restart"] - seen["end"]).max() <= 1 / 255 + 1e-6
    assert restarted.mode_name == "evening"


def test_a_long_press_of_previous_saves_and_a_short_one_still_goes_back(tmp_path, show):
    from gpiozero.pins.mock import MockFactory

    from appliance.device.controls import DeviceControls
    factory, clock = MockFactory(), [100.0]
    saves = PaintingSaves()
    gpio = GpioSettings(enabled=True, next_pin=17, previous_pin=27, bounce_s=0.0)
    made = {}

    def press(seconds: float):
        def act(pipeline):
            controls = made.get("controls") or made.setdefault("controls", DeviceControls(
                pipeline, gpio, pin_factory=factory, save_painting=saves.request))
            controls.panel.clock = lambda: clock[0]
            factory.pin(27).drive_low()
            clock[0] += seconds
            factory.pin(27).drive_high()
        return act
    try:
        pipeline = run(settings_for(show), tmp_path, 80, saves=saves, f60=press(3.0),
                       f70=lambda p: made.setdefault("pending", p._pending_mode), f79=press(0.2))
    finally:
        made["controls"].close()
        factory.reset()
    assert made["pending"] is None  # the long press switched nothing
    names = list(pipeline.modes)
    assert pipeline.mode_name == names[names.index("evening") - 1]  # the short press: previous mode
    [saved] = album.saved_paintings(tmp_path)
    assert cv2.imread(str(saved)).shape == (H, W, 3)


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_osc_painting_save_over_udp_saves_it(tmp_path, show):
    settings = settings_for(show)
    settings.poses.osc.listen_port = port = free_udp_port()
    saves = PaintingSaves()

    def send(pipeline):
        SimpleUDPClient("127.0.0.1", port).send_message("/painting/save", [])
        deadline = time.monotonic() + 5.0  # the listener's thread takes it; a bound, not a pace
        while not saves.pending and time.monotonic() < deadline:
            time.sleep(0.01)
    pipeline = run(settings, tmp_path, 60, saves=saves, f50=send)
    assert [type(o).__name__ for o in pipeline.observers].count("OscListener") == 1
    [saved] = album.saved_paintings(tmp_path)
    assert cv2.imread(str(saved)).shape == (H, W, 3)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", port))  # closed with the pipeline: the port is free again


def test_nothing_listens_unless_a_port_is_set(tmp_path, show):
    pipeline = build_pipeline(settings_for(show), state_dir=tmp_path)
    assert not any(isinstance(o, OscListener) for o in pipeline.observers)


def test_a_save_in_another_mode_saves_the_kept_canvas(tmp_path, show):
    run(settings_for(show), tmp_path, 60)  # paints and keeps the canvas at close
    kept, _ = album.read_canvas(album.canvas_path(tmp_path))
    saves = PaintingSaves()
    run(settings_for(show, "skeleton"), tmp_path, 5, saves=saves, f2=lambda p: saves.request())
    [saved] = album.saved_paintings(tmp_path)
    assert np.array_equal(cv2.imread(str(saved)), kept[..., :3])


def test_snapshot_without_a_service_saves_the_kept_canvas_and_says_when_there_is_none(tmp_path, show, capsys):
    assert main(["snapshot", "--state-dir", str(tmp_path)]) == 6
    err = capsys.readouterr().err
    assert err.startswith("appliance: no painting to save: no canvas kept in") and err.count("\n") == 1
    run(settings_for(show), tmp_path, 40)
    (tmp_path / "service.pid").write_text("999999999\n")  # a service that is gone
    assert running_service(tmp_path) is None
    assert main(["snapshot", "--state-dir", str(tmp_path)]) == 0
    printed = capsys.readouterr().out.strip()
    assert album.saved_paintings(tmp_path) == [tmp_path / "paintings" / printed.rsplit("/", 1)[1]]
    assert cv2.imread(printed).shape == (H, W, 3)
    assert str(snapshot(tmp_path)) != printed and len(album.saved_paintings(tmp_path)) == 2  # never overwritten
