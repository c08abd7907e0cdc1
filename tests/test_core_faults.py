"""Faults the appliance must live through without a restart, each injected for real."""

from __future__ import annotations

import threading
import time

import numpy as np

from appliance.core.capture import Backoff
from appliance.config import Settings
from appliance.errors import SourceError
from appliance.core.pipeline import Pipeline, PipelineOptions
from appliance.sources.synthetic import SyntheticSource, decode_index

from test_core_pipeline import RecordingOutput, run_in_thread


class UnpluggableCamera(SyntheticSource):
    """A live camera that is unplugged after `frames_before` frames and refuses to open
    `failed_opens` times before it is plugged back in."""

    live = True

    def __init__(self, frames_before: int, failed_opens: int):
        super().__init__(320, 240, 30)
        self.frames_before = frames_before
        self.failed_opens = failed_opens
        self.opens: list[float] = []
        self.unplugged = False

    def open(self):
        self.opens.append(time.monotonic())
        if self.unplugged:
            if self.failed_opens > 0:
                self.failed_opens -= 1
                raise SourceError("camera:0: cannot open /dev/video0")
            self.unplugged = False
        # the index keeps counting across reconnects, like a camera's sequence numbers would not

    def read(self):
        if not self.unplugged and self._index == self.frames_before:
            self.unplugged = True
            self._index += 1
            raise SourceError("camera:0: the camera stopped sending frames")
        time.sleep(1 / self.fps)  # a camera delivers at its own pace
        return super().read()


class LateCamera(UnpluggableCamera):
    """A camera not plugged in yet when the appliance starts: the first `failed_opens` opens fail."""

    def __init__(self, failed_opens: int):
        super().__init__(frames_before=10**9, failed_opens=failed_opens)
        self.unplugged = True


def run_until(pipeline, done, linger_s: float = 0.0, timeout_s: float = 10.0):
    """Run the pipeline until `done()` (or the timeout), then `linger_s` more, then stop it."""
    def stop_when_done():
        deadline = time.monotonic() + timeout_s
        while not done() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(linger_s)
        pipeline.stop("test")
    stopper = threading.Thread(target=stop_when_done)
    stopper.start()
    summary = run_in_thread(pipeline)
    stopper.join()
    return summary


def is_card(image: np.ndarray) -> bool:
    return bool((np.abs(image.astype(int) - (32, 24, 20)).sum(axis=2) < 10).mean() > 0.8)


def test_camera_lost_shows_a_card_and_recovers_without_restart():
    camera = UnpluggableCamera(frames_before=10, failed_opens=3)
    output = RecordingOutput()
    options = PipelineOptions(realtime=True, reconnect=Backoff(initial_s=0.1, max_s=0.4))
    pipeline = Pipeline(camera, output, Settings().modes, "passthrough", options=options)
    summary = run_until(pipeline, lambda: pipeline.capture.reconnects > 0, linger_s=0.5)

    kinds = ["card" if is_card(i) else decode_index(i) for i in output.images]
    first_card = kinds.index("card")
    assert kinds[:first_card] == list(range(10))             # the picture until the unplug
    after = [k for k in kinds[first_card:] if k != "card"]
    assert after and after[0] > 10 and after == sorted(after)  # the picture comes back
    assert kinds.count("card") >= 2                            # the card stays up while it is gone
    assert summary.error == "" and pipeline.capture.reconnects == 1
    # backoff: 0.1, 0.2, 0.4, 0.4 s between attempts (the first open is the start-up one)
    gaps = np.diff(camera.opens[1:])
    assert len(camera.opens) == 5
    assert all(later >= earlier * 0.9 for earlier, later in zip(gaps, gaps[1:]))
    assert gaps[-1] >= 0.35


def test_a_file_that_breaks_mid_run_ends_it_instead_of_retrying():
    class BrokenFile(SyntheticSource):
        def read(self):
            if self._index == 3:
                raise SourceError("clip.mp4: decoding failed")
            return super().read()
    output = RecordingOutput()
    pipeline = Pipeline(BrokenFile(320, 240, 30), output, Settings().modes, "passthrough",
                        options=PipelineOptions(realtime=False, wait_for_display=True))
    summary = run_in_thread(pipeline)
    assert summary.error == "clip.mp4: decoding failed" and len(output.images) == 3


def test_a_mode_whose_model_is_missing_shows_a_card_and_the_buttons_still_work(monkeypatch):
    from appliance.config import EffectSettings, ModeSettings
    from appliance.core.registry import EFFECTS
    from stagekit import NeedsAModel

    monkeypatch.setitem(EFFECTS, "needs-model", NeedsAModel)
    modes = Settings().modes
    modes = {"broken": ModeSettings("", [EffectSettings("needs-model", NeedsAModel.Params())]), **modes}
    output = RecordingOutput(commands_after={5: "next_mode", 9: "quit"})
    pipeline = Pipeline(SyntheticSource(320, 240, 30), output, modes, "broken",
                        options=PipelineOptions(realtime=False, wait_for_display=True))
    summary = run_in_thread(pipeline)
    assert summary.ended_by == "viewer quit"
    assert all(is_card(image) for image in output.images[:5])      # the broken mode says so
    assert [decode_index(i) for i in output.images[5:]] == [5, 6, 7, 8]  # the next mode runs
    assert pipeline.mode_name == "passthrough"


def test_a_camera_missing_at_start_shows_a_card_until_it_is_plugged_in():
    """In the service, not an exit (systemd would restart it every few seconds on a black screen): the card
    is on screen from the start (and counts as shown, so READY and the watchdog flow), and the
    picture comes when the camera does."""
    camera = LateCamera(failed_opens=4)
    output = RecordingOutput()
    shown = []

    class Watch:
        def frame_shown(self, pipeline):
            shown.append(pipeline.frames_out)

        def stopped(self, pipeline):
            pass

    options = PipelineOptions(realtime=True, reconnect=Backoff(initial_s=0.1, max_s=0.4), wait_for_source=True)
    pipeline = Pipeline(camera, output, Settings().modes, "passthrough", options=options, observers=[Watch()])

    summary = run_until(pipeline, lambda: pipeline.frames_out >= 5)
    kinds = ["card" if is_card(i) else decode_index(i) for i in output.images]
    assert kinds[0] == "card" and kinds.count("card") >= 2, kinds[:5]
    pictures = [k for k in kinds if k != "card"]
    assert len(pictures) >= 5 and pictures == sorted(pictures)
    assert summary.error == "" and pipeline.capture.reconnects == 1 and len(camera.opens) == 5
    assert shown[0] == 0  # the card was "shown" before any frame: READY=1 is not held back
    assert output.opened_size == (320, 240)
