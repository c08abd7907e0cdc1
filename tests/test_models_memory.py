"""What keeps memory within a 1 GB Pi and models safe across threads, on the shipped models:
models are shared while held and freed when let go, a mode switch lets the old mode's models
go, one interpreter is never run by two threads at once, and low_memory runs the style
networks on the builtin kernels with the same picture."""

from __future__ import annotations

import gc
import threading
import time

import cv2
import numpy as np
import pytest

from appliance.bench.run import clip_frames
from appliance.config import Settings
from appliance.models.manifest import ModelStore, resolve_low_memory, resolve_threads
from appliance.models.pose import create_estimator
from appliance.models.runtime import Cancelled, cancel_runs_when
from appliance.core.stages import AnalysisContext
from appliance.outputs import create_output
from appliance.core.pipeline import Pipeline, PipelineOptions
from appliance.sources import create_source


@pytest.fixture(scope="module")
def walking() -> list[np.ndarray]:
    return clip_frames(12, 40)


def test_a_model_is_shared_while_held_and_freed_when_let_go():
    store = ModelStore(threads=1)
    first = store.load("meet")
    assert store.load("meet") is first
    assert store.loaded_names() == ["meet"]
    del first
    gc.collect()
    assert store.loaded_names() == []
    assert store.problem("meet") is None  # verification is remembered, the model is not kept


def test_checking_a_model_does_not_keep_it_loaded():
    store = ModelStore(threads=1)
    assert store.problem("movenet_lightning") is None
    gc.collect()
    assert store.loaded_names() == []


class SwitchAt:
    """Observer: switch to `mode` at frame `at`, note the models loaded at frame `look`."""

    def __init__(self, mode: str, at: int, look: int):
        self.mode, self.at, self.look = mode, at, look
        self.before: list[str] = []
        self.after: list[str] = []

    def frame_shown(self, pipeline) -> None:
        if pipeline.frames_out == self.at:
            self.before = pipeline.context.store.loaded_names()
            pipeline.apply_action(f"mode:{self.mode}")
        if pipeline.frames_out == self.look:
            gc.collect()
            self.after = pipeline.context.store.loaded_names()

    def stopped(self, pipeline) -> None:
        pass


def test_a_mode_switch_lets_the_old_modes_models_go(tmp_path):
    settings = Settings()
    settings.models.threads = 1
    source = create_source("sample", loop=True)
    switch = SwitchAt("skeleton", at=15, look=40)
    pipeline = Pipeline(source, create_output("null"), settings.modes, "kandinsky-people", [],
                        PipelineOptions(realtime=True, max_frames=41), [switch],
                        AnalysisContext(settings, tmp_path))
    summary = pipeline.run()
    assert summary.mode == "skeleton"
    assert {"style_arbitrary_transform", "meet"} <= set(switch.before)
    assert switch.after == [settings.models.pose]


def test_two_threads_on_one_interpreter_get_what_one_thread_gets(walking):
    """Two pose stages sharing one loaded model (as an old and a new mode's stage do for a
    moment after a switch) must each get their own frame's poses, never the other's."""
    store = ModelStore(threads=1)
    expected = [create_estimator(store, "movenet_lightning").estimate(f)[0].keypoints for f in walking]
    results: dict[int, list] = {0: [], 1: []}
    errors: list[BaseException] = []

    def work(who: int) -> None:
        estimator = create_estimator(store, "movenet_lightning")
        try:
            for _ in range(5):
                for i, frame in enumerate(walking):
                    results[who].append((i, estimator.estimate(frame)[0].keypoints))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(who,)) for who in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    for who in (0, 1):
        assert len(results[who]) == 5 * len(walking)
        for i, keypoints in results[who]:
            assert np.array_equal(keypoints, expected[i])


def test_low_memory_runs_only_the_style_networks_without_xnnpack_and_paints_the_same(walking):
    fast, lean = ModelStore(threads=1), ModelStore(threads=1, low_memory=True)
    assert lean.load("movenet_lightning").xnnpack and lean.load("meet").xnnpack
    lean_transform, fast_transform = lean.load("style_arbitrary_transform"), fast.load("style_arbitrary_transform")
    assert fast_transform.xnnpack and not lean_transform.xnnpack
    feeds = {}
    for d in fast_transform.inputs:
        if d["dtype"] == np.uint8:
            picture = cv2.resize(walking[0], tuple(int(v) for v in d["shape"][2:0:-1]))
            feeds[d["name"]] = cv2.cvtColor(picture, cv2.COLOR_BGR2RGB)[None]
        else:
            feeds[d["name"]] = np.random.default_rng(1).normal(0, 0.5, tuple(d["shape"])).astype(np.float32)
    a = next(iter(fast_transform.run(feeds).values()))
    b = next(iter(lean_transform.run(feeds).values()))
    assert a.shape == b.shape
    assert float(np.abs(a - b).mean()) < 0.02  # same int8 graph, two kernel libraries
    assert float(np.abs(a - a.mean()).mean()) > 0.05  # and it is a picture, not a flat field


@pytest.mark.parametrize("total_mb, setting, expected", [
    (906, "auto", True), (3790, "auto", False), (906, "off", False), (7800, "on", True)])
def test_low_memory_auto_follows_the_boards_ram(monkeypatch, total_mb, setting, expected):
    monkeypatch.setattr("appliance.models.manifest.total_memory_mb", lambda: total_mb)
    assert resolve_low_memory(setting) is expected


@pytest.mark.parametrize("cores, setting, expected", [(4, 0, 3), (2, 0, 1), (1, 0, 1), (4, 2, 2)])
def test_threads_0_leaves_one_core_to_the_display(monkeypatch, cores, setting, expected):
    monkeypatch.setattr("os.cpu_count", lambda: cores)
    assert resolve_threads(setting) == expected


def test_a_stopped_stage_waiting_for_a_shared_model_gives_up():
    model = ModelStore(threads=1).load("movenet_lightning")
    stopped, outcome = threading.Event(), []

    def stage() -> None:
        cancel_runs_when(stopped)
        try:
            model.run(np.zeros(model.input_shape, np.uint8))
            outcome.append("ran")
        except Cancelled:
            outcome.append("cancelled")

    with model.lock:  # another stage is busy with the model
        waiting = threading.Thread(target=stage)
        waiting.start()
        time.sleep(0.1)
        stopped.set()  # the mode was switched away meanwhile
    waiting.join(5)
    assert outcome == ["cancelled"]


class SwitchEvery:
    def __init__(self, frames: int):
        self.frames = frames

    def frame_shown(self, pipeline) -> None:
        if pipeline.frames_out % self.frames == 0:
            pipeline.switch_mode(1)

    def stopped(self, pipeline) -> None:
        pass


def test_quick_mode_switches_leave_no_queue_of_stopped_stages(tmp_path):
    """Fifty visits to a style mode in a blink: each stopped style stage would otherwise wait
    its turn on the shared network and paint a keyframe nobody sees, holding its frame."""
    settings = Settings()
    settings.models.threads = 1
    modes = {name: settings.modes[name] for name in ("passthrough", "kandinsky")}
    pipeline = Pipeline(create_source("sample", loop=True), create_output("null"), modes, "passthrough", [],
                        PipelineOptions(realtime=False, wait_for_display=True, max_frames=200),
                        [SwitchEvery(2)], AnalysisContext(settings, tmp_path))
    pipeline.run()
    assert [t.name for t in threading.enumerate() if t.name.startswith("analysis-")] == []
