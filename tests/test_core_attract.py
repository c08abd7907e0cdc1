"""The empty room's attract mode: on a recorded pose stream of the empty room and then the
bundled clip's walkers (the real pose model's poses for both), it starts after `idle_after_s`
of the stream's own time, shows the attract mode's picture, and gives the picture back to the
chosen mode on the very frame the first visitor is found. Off by default."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from appliance.app.render import render
from appliance.config import Settings
from appliance.core.attract import BODY, MIN_BODY, MIN_SCORE, IdleClock
from appliance.core.frame import FrameMeta
from appliance.core.modes import Mode
from appliance.core.stages import AnalysisContext
from appliance.core.stats import StageTimes
from appliance.poses.recording import read_recording
from conftest import run_cli
from test_analysis_stages import empty_room, frames
from test_config import problems_of, write
from test_core_pipeline import RecordingOutput
from test_poses_data import FPS

EMPTY = 50     # frames of the empty room (5 s at the clip's 10 fps), then the walkers
VISITORS = 30  # frames of the clip's walkers
IDLE_S = 2.0
SIZE = (640, 480)  # what a recording replays at


@pytest.fixture(scope="module")
def stream(tmp_path_factory):
    """`appliance poses record` on a clip of the empty room, then people walking in."""
    folder = tmp_path_factory.mktemp("attract")
    clip = folder / "room.avi"
    pictures = [empty_room()] * EMPTY + list(frames()[:VISITORS])
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"MJPG"), FPS, SIZE)
    for picture in pictures:
        writer.write(picture)
    writer.release()
    path = folder / "room.jsonl"
    done = run_cli("poses", "record", str(clip), "-o", str(path))
    assert done.returncode == 0, done.stderr
    return path


def first_visitor(path) -> int:
    """The first recorded frame with a person by the attract's rule (raw keypoints)."""
    for frame in read_recording(path):
        if any((p.keypoints[BODY, 2] >= MIN_SCORE).sum() >= MIN_BODY for p in frame.poses):
            return frame.frame
    raise AssertionError("nobody in the recording")


class Watch:
    """What the pipeline showed instead of its mode, frame by frame."""

    def __init__(self) -> None:
        self.attracting: list[str] = []
        self.modes: list[str] = []

    def frame_shown(self, pipeline) -> None:
        self.attracting.append(pipeline.attracting)
        self.modes.append(pipeline.mode_name)

    def stopped(self, pipeline) -> None:
        pass


def run(stream, mode: str, settings: Settings | None = None, commands=None):
    """Render `mode` over the stream (every frame analysed, inline): the pictures and the watch."""
    settings = settings or Settings()
    output, watch = RecordingOutput(commands), Watch()
    summary = render(settings, str(stream), mode, output, observers=[watch])
    assert summary.frames_out == EMPTY + VISITORS
    return output.images, watch


def idle(mode: str, seconds: float = IDLE_S, attract: str = "kandinsky-world", *more: str) -> Settings:
    settings = Settings()
    for name in (mode, *more):
        settings.modes[name].idle_after_s = seconds
        settings.modes[name].attract = attract
    return settings


def attract_alone(stream, start: int, stop: int, name: str = "kandinsky-world") -> list[np.ndarray]:
    """The attract mode built at frame `start` and shown until `stop`, on its own: its stages fresh,
    each frame's meta as the pipeline makes it (the recording's dark frame, its poses, its time)."""
    recorded = list(read_recording(stream))
    settings = Settings()
    mode = Mode(name, settings.modes[name], AnalysisContext(settings, recorded_poses=True))
    out = []
    try:
        for i in range(start, stop):
            image = np.full((SIZE[1], SIZE[0], 3), 24, np.uint8)
            meta = FrameMeta(i, i / FPS, 0.0, poses=list(recorded[i].poses))
            for stage in mode.analyzers:
                meta.results.put(stage.name, stage.analyze(image, meta), i)
            out.append(mode.apply(image, meta, StageTimes()))
        return out
    finally:
        for stage in mode.analyzers:
            stage.close()
        mode.close()


def test_the_attract_mode_plays_in_the_empty_room_and_the_first_visitor_ends_it(stream, caplog):
    caplog.set_level("INFO", logger="appliance.core.attract")
    visitor = first_visitor(stream)
    assert visitor == EMPTY  # the real model finds nobody in the empty room, the walkers at once
    starts = round(IDLE_S * FPS)  # frame 0 is the first empty one; 2 s later by the stream's clock
    shown, watch = run(stream, "motion-painting", idle("motion-painting"))
    assert watch.attracting == [""] * starts + ["kandinsky-world"] * (visitor - starts) + [""] * VISITORS
    assert set(watch.modes) == {"motion-painting"}  # never unloaded
    chosen, _ = run(stream, "motion-painting")
    for i in [*range(starts), *range(visitor, EMPTY + VISITORS)]:
        assert np.array_equal(shown[i], chosen[i]), i  # the chosen mode's own picture, visitor frame too
    world = attract_alone(stream, starts, visitor)
    for i, picture in zip(range(starts, visitor), world):
        assert np.array_equal(shown[i], picture), i  # the attract mode's picture
        assert np.mean(np.abs(picture.astype(int) - chosen[i]).max(axis=2) > 40) > 0.5  # not the room
    said = [r.getMessage() for r in caplog.records if r.name == "appliance.core.attract"]
    assert said == ["attract: room empty for 2 s, playing kandinsky-world",
                    "attract: visitor found, back to motion-painting"]


def test_a_mode_without_poses_of_its_own_gets_a_pose_stage_to_find_visitors(stream):
    _, watch = run(stream, "mirror", idle("mirror", attract="skeleton"))
    starts = round(IDLE_S * FPS)
    assert watch.attracting == [""] * starts + ["skeleton"] * (EMPTY - starts) + [""] * VISITORS


def test_off_by_default(stream):
    assert all(mode.idle_after_s == 0 for mode in Settings().modes.values())
    _, watch = run(stream, "motion-painting")
    assert watch.attracting == [""] * (EMPTY + VISITORS)


def test_a_mode_switch_while_attracting_shows_the_new_mode_and_starts_the_idle_time_again(stream):
    switch = 25  # after 25 frames shown, the button: the next mode from frame 25 on
    settings = idle("motion-painting", IDLE_S, "kandinsky-world", "evening")
    _, watch = run(stream, "motion-painting", settings, commands={switch: "next_mode"})
    assert watch.modes[switch - 1:switch + 1] == ["motion-painting", "evening"]
    again = switch + round(IDLE_S * FPS)
    assert watch.attracting[switch - 1] == "kandinsky-world"
    assert watch.attracting[switch:] == ([""] * (again - switch) + ["kandinsky-world"] * (EMPTY - again)
                                         + [""] * VISITORS)


def test_idle_time_is_the_frames_own_and_survives_a_clock_that_steps_back():
    clock = IdleClock()
    assert [clock.update(t, False) for t in (5.0, 5.5, 6.0)] == [0.0, 0.5, 1.0]
    assert clock.update(0.0, False) == 1.0  # a camera reconnected: its clock starts again
    assert clock.update(0.25, False) == 1.25
    assert clock.update(0.5, True) == 0.0
    assert clock.update(0.75, False) == 0.0 and clock.update(1.0, False) == 0.25


@pytest.mark.parametrize("text, problem", [
    ("idle_after_s = -1", "modes.evening.idle_after_s: -1 is out of range (expected a value from 0.0 to 86400.0)"),
    ("idle_after_s = \"soon\"", "modes.evening.idle_after_s: expected a number, got a string 'soon'"),
    ("idle_after_s = 60\nattract = \"disco\"", "modes.evening.attract: 'disco' is not another mode (expected one of: "),
    ("idle_after_s = 60\nattract = \"evening\"",
     "modes.evening.attract: 'evening' is not another mode (expected one of: "),
    ("idle_after_s = 60\nattracts = \"skeleton\"", "modes.evening.attracts: unknown key (expected one of: description, "
                                                   "effects, idle_after_s, attract)"),
])
def test_bad_attract_settings_are_one_line_naming_the_key(tmp_path, text, problem):
    path = write(tmp_path, f"[modes.evening]\n{text}\n")
    (line,) = problems_of(path)
    assert line.startswith(f"{path}: {problem}")


def test_a_built_in_mode_given_only_its_idle_time_keeps_its_effects(tmp_path):
    from appliance.config import load_config
    settings = load_config(write(tmp_path, "[modes.evening]\nidle_after_s = 60\n"))
    evening = settings.modes["evening"]
    assert (evening.idle_after_s, evening.attract) == (60.0, "kandinsky-world")
    assert [e.effect for e in evening.effects] == ["evening", "mirror"]
    assert evening.description == Settings().modes["evening"].description


def test_with_analysis_in_threads_the_attract_mode_still_comes_and_goes(stream):
    """As the service runs it: stages in their own threads, their results arriving late, the
    recording paced like a camera (8 s)."""
    import threading

    from appliance.core.pipeline import Pipeline, PipelineOptions
    from appliance.sources import create_source
    settings = idle("motion-painting", attract="skeleton")
    source = create_source(str(stream))
    watch = Watch()
    before = threading.active_count()
    pipeline = Pipeline(source, RecordingOutput(), settings.modes, "motion-painting",
                        options=PipelineOptions(realtime=True, wait_for_display=True), observers=[watch],
                        context=AnalysisContext(settings, recorded_poses=True))
    summary = pipeline.run()
    assert summary.frames_out == EMPTY + VISITORS and not summary.error
    played = [i for i, name in enumerate(watch.attracting) if name]
    assert played and played[0] >= round(IDLE_S * FPS)  # never before the idle time
    assert played == list(range(played[0], played[-1] + 1))  # once, without a break
    assert EMPTY <= played[-1] + 1 < EMPTY + VISITORS  # until a visitor was found
    assert threading.active_count() <= before  # its stages' threads ended


def test_config_show_writes_the_attract_settings_back(tmp_path):
    from appliance.config import dump_toml, load_config, settings_equal
    settings = idle("evening", 60.0, "skeleton")
    again = load_config(write(tmp_path, dump_toml(settings)))
    assert settings_equal(again, settings) and again.modes["evening"].attract == "skeleton"
    assert "idle_after_s" not in dump_toml(Settings())  # nothing said of what is off
