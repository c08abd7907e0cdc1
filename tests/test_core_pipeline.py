"""The frame pipeline: the display never waits for analysis, nothing queues, drops are counted."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import numpy as np
import pytest

from appliance.config import ModeSettings, Settings, EffectSettings
from appliance.core.registry import EFFECTS
from appliance.errors import ModelError, SourceError
from appliance.core.pipeline import Pipeline, PipelineOptions
from appliance.core.slots import LatestSlot
from appliance.sources.synthetic import SyntheticSource, decode_index


class RecordingOutput:
    """An Output that keeps what it was shown and can play back viewer commands."""

    description = "recording"

    def __init__(self, commands_after: dict[int, str] | None = None):
        self.images: list[np.ndarray] = []
        self.commands_after = commands_after or {}
        self.closed = False
        self.opened_size: tuple[int, int] | None = None

    def open(self, width, height, fps):
        self.opened_size = (width, height)

    def show(self, image):
        self.images.append(image.copy())

    def commands(self):
        command = self.commands_after.pop(len(self.images), None)
        return [command] if command else []

    def close(self):
        self.closed = True

    def indices(self) -> list[int]:
        return [decode_index(i) for i in self.images]


class BlockedAnalyzer:
    """An analysis stage stuck until the test releases it: the slowest stage there can be."""

    name = "stuck"

    def __init__(self):
        self.release = threading.Event()
        self.seen: list[int] = []

    def analyze(self, image, meta):
        self.seen.append(meta.index)
        self.release.wait(10)
        return meta.index

    def close(self):
        self.release.set()


class SlowAnalyzer:
    name = "slow"

    def __init__(self, seconds: float):
        self.seconds = seconds

    def analyze(self, image, meta):
        time.sleep(self.seconds)
        return meta.index

    def close(self):
        pass


class MetaProbe:
    """A test effect that records each frame's record as the display sees it."""

    name = "probe"
    seen: list = []

    @dataclass
    class Params:
        delay_s: float = 0.0
        fail: bool = False

    def __init__(self, params):
        self.params = params

    def process(self, image, meta):
        if self.params.fail:
            raise RuntimeError("probe asked to fail")
        time.sleep(self.params.delay_s)
        keys = meta.results.keys()
        MetaProbe.seen.append((meta.index, {k: meta.results.get(k, object) for k in keys},
                               {k: meta.results.frame_of(k) for k in keys}))
        return image

    def stages(self, context):
        return []

    def close(self):
        pass


@pytest.fixture
def probe(monkeypatch):
    monkeypatch.setitem(EFFECTS, "probe", MetaProbe)
    MetaProbe.seen = []
    return MetaProbe


def modes_with(**probe_params) -> dict[str, ModeSettings]:
    modes = Settings().modes
    modes["probe"] = ModeSettings("", [EffectSettings("probe", MetaProbe.Params(**probe_params))])
    return modes


def run_in_thread(pipeline: Pipeline, timeout: float = 20.0):
    box = {}
    thread = threading.Thread(target=lambda: box.setdefault("summary", pipeline.run()), daemon=True)
    thread.start()
    thread.join(timeout)
    assert not thread.is_alive(), "the pipeline hung"
    return box["summary"]


def test_display_keeps_going_while_analysis_is_stuck():
    analyzer = BlockedAnalyzer()
    output = RecordingOutput()
    options = PipelineOptions(realtime=False, wait_for_display=True, max_frames=60)
    pipeline = Pipeline(SyntheticSource(320, 240, 30), output, Settings().modes, "passthrough",
                        [lambda: analyzer], options)
    summary = run_in_thread(pipeline)
    assert output.indices() == list(range(60))      # every frame shown, in order
    assert len(analyzer.seen) == 1                   # the analyzer is still on its first frame
    # 60 frames handed over: one in the analyzer's hands, one waiting, the rest dropped (no queue)
    assert summary.analysis["stuck"]["dropped"] == 58
    assert output.closed


def test_results_come_from_the_newest_analysed_frame(probe):
    options = PipelineOptions(realtime=False, wait_for_display=True, max_frames=40)
    pipeline = Pipeline(SyntheticSource(320, 240, 30), RecordingOutput(), modes_with(delay_s=0.01),
                        "probe", [lambda: SlowAnalyzer(0.05)], options)
    summary = run_in_thread(pipeline)
    with_result = [(i, r["slow"], f["slow"]) for i, r, f in probe.seen if "slow" in r]
    assert with_result, "no analysis result ever reached the display"
    assert all(result == frame_of_result < shown for shown, result, frame_of_result in with_result)
    assert 0 < summary.analysis["slow"]["processed"] < 40
    assert summary.analysis["slow"]["dropped"] > 0


def test_inline_analysis_sees_every_frame(probe):
    options = PipelineOptions(realtime=False, inline_analysis=True, max_frames=15)
    pipeline = Pipeline(SyntheticSource(320, 240, 30), RecordingOutput(), modes_with(),
                        "probe", [lambda: SlowAnalyzer(0.0)], options)
    summary = run_in_thread(pipeline)
    assert [(i, f["slow"]) for i, _, f in probe.seen] == [(i, i) for i in range(15)]
    assert summary.analysis["slow"] == {"processed": 15, "dropped": 0}


def test_a_slow_display_drops_stale_frames_and_counts_them(probe):
    output = RecordingOutput()
    source = SyntheticSource(320, 240, fps=50)
    options = PipelineOptions(realtime=True)
    pipeline = Pipeline(source, output, modes_with(delay_s=0.06), "probe", [], options)
    original_read = source.read
    source.read = lambda: original_read() if source._index < 40 else None  # a 40-frame clip
    summary = run_in_thread(pipeline)
    shown = output.indices()
    assert summary.ended_by == "end of source"
    assert summary.frames_in == 40
    assert summary.dropped > 0
    assert summary.frames_out + summary.dropped == 40
    assert shown == sorted(shown) and len(set(shown)) == len(shown)
    assert shown[-1] == 39  # the newest frame is always the one shown


def test_viewer_commands_switch_mode_and_quit(sample_frames):
    output = RecordingOutput(commands_after={3: "next_mode", 6: "quit"})
    options = PipelineOptions(realtime=False, wait_for_display=True)
    pipeline = Pipeline(SyntheticSource(320, 240, 30), output, Settings().modes, "passthrough",
                        options=options)
    summary = run_in_thread(pipeline)
    assert summary.ended_by == "viewer quit" and len(output.images) == 6
    expected = SyntheticSource(320, 240, 30)
    assert np.array_equal(output.images[2], expected.render(2))
    assert np.array_equal(output.images[3], expected.render(3)[:, ::-1])  # now in mode "mirror"
    assert summary.mode == "mirror"


def test_a_failing_effect_never_stops_the_show(probe, caplog):
    output = RecordingOutput()
    options = PipelineOptions(realtime=False, wait_for_display=True, max_frames=5)
    pipeline = Pipeline(SyntheticSource(320, 240, 30), output, modes_with(fail=True), "probe",
                        options=options)
    run_in_thread(pipeline)
    assert output.indices() == [0, 1, 2, 3, 4]
    assert sum("effect:probe failed" in r.getMessage() for r in caplog.records) == 1


class FailingSource(SyntheticSource):
    def read(self):
        if self._index == 5:
            raise SourceError("camera:0: the camera stopped sending frames")
        return super().read()


def test_a_source_failing_mid_run_ends_it_with_the_reason():
    output = RecordingOutput()
    options = PipelineOptions(realtime=False, wait_for_display=True)
    pipeline = Pipeline(FailingSource(320, 240, 30), output, Settings().modes, "passthrough",
                        options=options)
    summary = run_in_thread(pipeline)
    assert output.indices() == [0, 1, 2, 3, 4]
    assert summary.error == "camera:0: the camera stopped sending frames"
    assert summary.ended_by == "source error"


def test_stop_from_another_thread_ends_a_live_run_quickly():
    pipeline = Pipeline(SyntheticSource(320, 240, 30), RecordingOutput(), Settings().modes,
                        "passthrough", [BlockedAnalyzer], PipelineOptions(realtime=True))
    threading.Timer(0.5, pipeline.stop, args=("test",)).start()
    started = time.monotonic()
    summary = run_in_thread(pipeline)
    assert summary.ended_by == "test"
    assert time.monotonic() - started < 5.0  # generous: the 2 s budget is checked on the CLI


def test_latest_slot_keeps_only_the_newest():
    slot: LatestSlot[int] = LatestSlot()
    for i in range(5):
        slot.put(i)
    assert slot.take(0) == 4 and slot.dropped == 4 and slot.take(0) is None
    slot.put(7)
    slot.close()
    assert slot.put(8) is False
    assert slot.take(0) == 7 and slot.closed


class UnbuildableEffect:
    """An effect whose construction fails the way a broken one does (an ApplianceError)."""

    name = "unbuildable"

    @dataclass
    class Params:
        pass

    def __init__(self, params):
        raise ModelError("unbuildable: its model is missing")


def test_a_mode_that_cannot_start_leaves_the_previous_mode_showing(monkeypatch, caplog):
    """The old mode is let go before the new one loads (memory); when the new one fails, the
    old one is built again and the show goes on in it."""
    monkeypatch.setitem(EFFECTS, "unbuildable", UnbuildableEffect)
    modes = {"passthrough": Settings().modes["passthrough"],
             "broken": ModeSettings("", [EffectSettings("unbuildable", UnbuildableEffect.Params())])}
    output = RecordingOutput(commands_after={3: "next_mode"})
    options = PipelineOptions(realtime=False, wait_for_display=True, max_frames=6)
    pipeline = Pipeline(SyntheticSource(320, 240, 30), output, modes, "passthrough", options=options)
    summary = run_in_thread(pipeline)
    assert summary.mode == "passthrough" and summary.frames_out == 6
    expected = SyntheticSource(320, 240, 30)
    assert np.array_equal(output.images[5], expected.render(5))
    assert any("mode broken cannot start" in r.getMessage() for r in caplog.records)
