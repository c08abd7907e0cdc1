"""Analysis stages are supervised: a stage whose thread dies, or that blocks forever, is logged,
rebuilt and counted, and the display never stops meanwhile."""

from __future__ import annotations

import ctypes
import json
import logging
import threading
import time

import pytest

from appliance.app.doctor import check_stages
from appliance.app.status import StatusFile
from appliance.config import Settings
from appliance.core.frame import FrameMeta
from appliance.core.pipeline import Pipeline, PipelineOptions
from appliance.outputs.null import NullOutput
from appliance.sources.synthetic import SyntheticSource

FPS = 30


class ThreadKilled(BaseException):
    """What an uncaught error in a stage's thread looks like: it escapes every handler."""


class CountingStage:
    """Counts frames; the first one built can be killed or blocked by the test."""

    name = "counting"
    built: list["CountingStage"] = []

    def __init__(self) -> None:
        self.frames: list[int] = []
        self.entered = threading.Event()
        self.block = threading.Event()  # set: analyze blocks until the test ends
        self.released = threading.Event()
        self.thread_id: int | None = None
        self.built_at = time.monotonic()
        CountingStage.built.append(self)

    def analyze(self, image, meta: FrameMeta) -> int:
        self.thread_id = threading.get_ident()
        self.entered.set()
        if self.block.is_set():
            self.released.wait(30)  # "forever", for the test: released at its end
        else:
            time.sleep(0.005)  # a real stage takes a little while: a kill lands mid-run
        self.frames.append(meta.index)
        return meta.index

    def close(self) -> None:
        self.released.set()


def kill_thread(thread_id: int) -> None:
    """Raise ThreadKilled inside a running thread (CPython's async exception)."""
    done = ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), ctypes.py_object(ThreadKilled))
    assert done == 1


def run(pipeline: Pipeline, while_running) -> tuple:
    """Run the pipeline in a thread, call `while_running` once the first stage works, and keep
    the times frames were shown."""
    shown: list[float] = []

    class Clock:
        def frame_shown(self, p):
            shown.append(time.monotonic())

        def stopped(self, p):
            pass

    pipeline.observers.append(Clock())
    box = {}
    runner = threading.Thread(target=lambda: box.setdefault("summary", pipeline.run()), daemon=True)
    runner.start()
    assert CountingStage.built[0].entered.wait(10)
    while_running(CountingStage.built[0])
    runner.join(60)
    assert not runner.is_alive(), "the pipeline hung"
    CountingStage.built[0].released.set()
    return box["summary"], shown


def pipeline(frames: int) -> Pipeline:
    CountingStage.built = []
    options = PipelineOptions(realtime=True, max_frames=frames, hang_floor_s=0.5)
    return Pipeline(SyntheticSource(160, 120, FPS), NullOutput(), Settings().modes, "passthrough",
                    [CountingStage], options)


def shown_between(shown: list[float], start: float, end: float) -> int:
    return sum(start < t < end for t in shown)


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_stage_whose_thread_dies_is_restarted_and_the_display_goes_on(caplog):
    caplog.set_level(logging.INFO)
    p = pipeline(frames=3 * FPS)
    summary, shown = run(p, lambda first: kill_thread(first.thread_id))
    first, *rest = CountingStage.built
    assert len(rest) == 1, "the stage was built again once"
    assert len(rest[0].frames) > FPS  # the new stage analyses the frames after the restart
    assert min(rest[0].frames) > max(first.frames, default=-1)
    assert summary.frames_out == 3 * FPS and summary.restarts == {"counting": 1}  # the show went on
    restarts = [r.getMessage() for r in caplog.records if "restarted it" in r.getMessage()]
    assert restarts == ["analysis counting its thread died; restarted it (restart 1)"]
    assert "stages restarted: counting 1x" in summary.lines()[1]  # the periodic stats line


def test_a_stage_that_blocks_forever_is_restarted_and_the_display_goes_on(caplog, tmp_path):
    p = pipeline(frames=4 * FPS)
    p.observers.append(StatusFile(tmp_path, every_s=0.2))
    blocked = {}
    summary, shown = run(p, lambda first: (first.block.set(), blocked.setdefault("at", time.monotonic())))
    first, *rest = CountingStage.built
    assert len(rest) == 1 and len(rest[0].frames) > FPS
    assert summary.restarts == {"counting": 1} and summary.frames_out == 4 * FPS
    # the picture kept moving while the stage was stuck (>= 0.5 s: ~15 frames at 30 fps)
    assert shown_between(shown, blocked["at"] + 0.1, rest[0].built_at) >= 5
    [line] = [r.getMessage() for r in caplog.records if "restarted it" in r.getMessage()]
    assert line.startswith("analysis counting is stuck: ") and "on one frame" in line
    # ... and `appliance doctor` says so, from the status file the service writes
    status = json.loads((tmp_path / "status.json").read_text())
    assert status["stages"]["counting"]["restarts"] == 1
    finding = check_stages(tmp_path)
    assert finding.status == "WARN" and "counting restarted 1x" in finding.text


def test_a_healthy_slow_stage_is_not_restarted():
    """Busy longer than the floor on every frame but as long as usual: not stuck."""
    class Slow(CountingStage):
        def analyze(self, image, meta):
            time.sleep(0.3)
            return super().analyze(image, meta)

    CountingStage.built = []
    options = PipelineOptions(realtime=True, max_frames=2 * FPS, hang_floor_s=0.2)
    p = Pipeline(SyntheticSource(160, 120, FPS), NullOutput(), Settings().modes, "passthrough",
                 [Slow], options)
    summary = p.run()
    assert summary.restarts == {} and len(CountingStage.built) == 1
