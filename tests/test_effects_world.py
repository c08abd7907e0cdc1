"""The generated world: it replaces the room and keeps the visitors, gathers round a visitor
standing still in a real recorded pose stream, follows hands, scatters on a jump, and is the
same for the same seed."""

from __future__ import annotations

import math

import cv2
import numpy as np

from appliance.app.render import LastFrameOutput, render
from appliance.config import Settings
from appliance.config.load import load_config
from appliance.core.frame import FrameMeta
from appliance.core.modes import Mode
from appliance.core.stages import AnalysisContext
from appliance.core.stats import StageTimes
from appliance.effects.world import GATHERERS, World
from appliance.poses.events import PoseEvent
from appliance.poses.recording import read_recording
from conftest import run_cli
from test_analysis_stages import SIZE, frames, masks, meta, real_skeleton, result_of
from test_poses_data import FPS


def world_mode_run(tmp_path, pictures: list[np.ndarray], mark: int = 0, **params):
    """The kandinsky-world mode over `pictures` (a clip at 10 fps), with the poses `appliance poses
    record` found in it (the real model's), through the mode's own stages. Returns the effect,
    where its shapes were at frame `mark`, and the last frame shown."""
    clip = tmp_path / "clip.avi"
    h, w = pictures[0].shape[:2]
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"MJPG"), FPS, (w, h))
    for picture in pictures:
        writer.write(picture)
    writer.release()
    stream = tmp_path / "clip.jsonl"
    done = run_cli("poses", "record", str(clip), "-o", str(stream))
    assert done.returncode == 0, done.stderr
    recorded = list(read_recording(stream))
    assert len(recorded) == len(pictures)
    settings = Settings()
    for key, value in params.items():
        setattr(settings.modes["kandinsky-world"].effects[0].params, key, value)
    mode = Mode("kandinsky-world", settings.modes["kandinsky-world"], AnalysisContext(settings, recorded_poses=True))
    world = next(e for _, e in mode.steps if isinstance(e, World))
    marked, out = None, None
    try:
        for i, (frame, picture) in enumerate(zip(recorded, pictures)):
            image = cv2.resize(picture, SIZE)
            m = FrameMeta(i, i / FPS, 0.0, poses=frame.poses)
            for stage in mode.analyzers:
                m.results.put(stage.name, stage.analyze(image, FrameMeta(i, m.t, 0.0, poses=frame.poses)), i)
            out = mode.apply(image, m, StageTimes())
            if i == mark:
                marked = [(s.x, s.y) for s in world.shapes]
        return world, marked, out
    finally:
        for stage in mode.analyzers:
            stage.close()
        mode.close()


def gap_to_visitors(world: World, points) -> list[float]:
    """Each gathering shape's distance to the nearest visitor, in that visitor's body sizes."""
    gaps = []
    for shape, (x, y) in zip(world.shapes, points):
        if shape.kind in GATHERERS:
            gaps.append(min(math.hypot(v.x - x, v.y - y) / v.size for v in world.visitors.values()))
    return gaps


STOP = 60  # the clip's walkers stop here and stand still


def walk_then_stand(seconds: float) -> list[np.ndarray]:
    """The clip's people walk in for 6 s, then stand still where they are (the frame held)."""
    return list(frames()[:STOP + 1]) + [frames()[STOP]] * int(seconds * FPS)


def test_shapes_gather_round_visitors_who_stand_still_in_a_recorded_pose_stream(tmp_path):
    world, stopped, _ = world_mode_run(tmp_path, walk_then_stand(6.0), mark=STOP)
    assert len(world.visitors) >= 4  # the clip's people, found by the real model, standing
    assert all(v.pull > 0.99 for v in world.visitors.values())
    before = gap_to_visitors(world, stopped)
    after = gap_to_visitors(world, [(s.x, s.y) for s in world.shapes])
    assert np.median(after) < 0.5 * np.median(before), (before, after)
    assert sum(g < 1.2 for g in after) >= 0.8 * len(after)  # nearly all are round someone now
    aloof, stopped, _ = world_mode_run(tmp_path, walk_then_stand(6.0), mark=STOP, gather=0.0)
    assert np.median(gap_to_visitors(aloof, [(s.x, s.y) for s in aloof.shapes])) > 0.7 * np.median(before)


def test_the_visitors_stay_themselves_and_the_room_is_gone(tmp_path):
    world, _, out = world_mode_run(tmp_path, walk_then_stand(0.5), hands=False)
    image = cv2.resize(frames()[STOP], SIZE)
    mirrored = cv2.flip(out, 1)  # the mode ends with the mirror
    person = cv2.resize(masks()[STOP], SIZE) > 0.9  # the segmentation model alone, as a reference
    nobody = cv2.resize(masks()[STOP], SIZE) < 0.05
    kept = np.abs(mirrored.astype(int) - image.astype(int)).max(axis=2)
    share = world.shares.shares[0]  # how much of the camera's picture the world shows, per pixel
    assert person.sum() > 2000 and np.median(share[person]) > 0.85  # the people are shown
    shown = share > 0.99
    assert shown.sum() > 2000 and np.all(kept[shown] <= 3)  # as the camera saw them (1 % of world)
    assert np.mean(kept[nobody] > 30) > 0.6  # the room is gone


def test_dots_follow_a_hand_and_a_jump_throws_shapes_away():
    world = World(World.Params())
    black = np.zeros((SIZE[1], SIZE[0], 3), np.uint8)
    visitor = real_skeleton(0)
    wrist = visitor[9, :2]
    for i in range(10):
        world.process(black, meta(i, pose=(result_of((1, visitor)), i)))
    assert world.followers
    assert min(math.hypot(world.shapes[k].x - wrist[0], world.shapes[k].y - wrist[1]) for k in world.followers) < 3
    hips = visitor[[11, 12], :2].mean(axis=0)
    before = np.median([math.hypot(s.x - hips[0], s.y - hips[1]) for s in world.shapes])
    jump = result_of((1, visitor))
    jump.events.append(PoseEvent(1.0, 10, 1, "jump", "start"))
    world.process(black, meta(10, pose=(jump, 10)))
    for i in range(11, 16):
        world.process(black, meta(i, pose=(jump, 10)))
    after = np.median([math.hypot(s.x - hips[0], s.y - hips[1]) for s in world.shapes])
    assert after > before + 0.1 * SIZE[1], (before, after)


def test_a_seed_gives_one_world_and_another_seed_another():
    def last(seed: int) -> np.ndarray:
        settings = Settings()
        settings.modes["kandinsky-world"].effects[0].params.seed = seed
        output = LastFrameOutput()
        render(settings, "sample", "kandinsky-world", output, frames=12)
        return output.last
    first, again, other = last(7), last(7), last(8)
    assert np.array_equal(first, again)
    assert np.abs(first.astype(int) - other.astype(int)).mean() > 10


def test_after_a_style_effect_the_visitors_are_painted_in_the_world(tmp_path):
    """The README's recipe for painted visitors: a mode of [style, world] from a config file."""
    config = tmp_path / "appliance.toml"
    config.write_text('[modes.painted-world]\ndescription = "painted visitors in the world"\n'
                      'effects = [{effect = "style"}, {effect = "world", hands = false}]\n')
    settings = load_config(config)
    output = LastFrameOutput()
    render(settings, "sample", "painted-world", output, frames=STOP + 1)
    camera = cv2.resize(frames()[STOP], (output.last.shape[1], output.last.shape[0]))
    person = cv2.resize(masks()[STOP], (camera.shape[1], camera.shape[0])) > 0.9
    changed = np.abs(output.last.astype(int) - camera.astype(int)).max(axis=2)
    assert person.sum() > 2000 and np.median(changed[person]) > 40  # painted (the camera's people: about 12)


class Watch:
    """A pipeline observer keeping the world effect's shapes at one frame and at the last."""

    def __init__(self, mark: int):
        self.mark, self.frames, self.world, self.marked = mark, 0, None, None

    def frame_shown(self, pipeline) -> None:
        self.world = next(e for _, e in pipeline.mode.steps if isinstance(e, World))
        if self.frames == self.mark:
            self.marked = [(s.x, s.y) for s in self.world.shapes]
        self.frames += 1

    def stopped(self, pipeline) -> None:
        pass


def test_render_of_a_recorded_pose_stream_gathers_the_shapes_round_the_still_visitors(tmp_path):
    """`appliance poses record` of people walking in and stopping, then `render` of that stream."""
    clip = tmp_path / "clip.avi"
    pictures = walk_then_stand(5.0)
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"MJPG"), FPS, pictures[0].shape[1::-1])
    for picture in pictures:
        writer.write(picture)
    writer.release()
    stream = tmp_path / "clip.jsonl"
    assert run_cli("poses", "record", str(clip), "-o", str(stream)).returncode == 0
    watch = Watch(mark=STOP)
    summary = render(Settings(), str(stream), "kandinsky-world", LastFrameOutput(), observers=[watch])
    assert summary.frames_out == len(pictures) and watch.marked is not None
    world = watch.world
    assert len(world.visitors) >= 4
    before = gap_to_visitors(world, watch.marked)
    after = gap_to_visitors(world, [(s.x, s.y) for s in world.shapes])
    assert np.median(after) < 0.5 * np.median(before), (before, after)
