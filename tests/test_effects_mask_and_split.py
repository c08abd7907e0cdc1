"""[style, mask]: only the people painted (keep = "room"), or only the room (keep = "people"),
judged on a real frame with the real person-segmentation model."""

from __future__ import annotations

import functools

import cv2
import numpy as np
import pytest

from appliance.effects.mask import Mask
from appliance.paint.masks import feathered
from appliance.effects.style import Style
from appliance.errors import ConfigError
from appliance.core.frame import Frame, FrameMeta
from appliance.models.manifest import ModelStore
from appliance.core.stages import AnalysisContext
from appliance.core.results import MaskResult
from appliance.paths import SAMPLE_CLIP

from stagekit import analyse_into, built_stages


@pytest.fixture(scope="module")
def context(tmp_path_factory) -> AnalysisContext:
    return AnalysisContext(state_dir=tmp_path_factory.mktemp("state"), _store=ModelStore(threads=2))


@functools.cache
def clip_start() -> list[np.ndarray]:
    """The clip's first 61 frames at 640x480: the last has people near the camera."""
    cap = cv2.VideoCapture(str(SAMPLE_CLIP))
    frames = []
    for _ in range(61):
        ok, frame = cap.read()
        assert ok
        frames.append(cv2.resize(frame, (640, 480), interpolation=cv2.INTER_AREA))
    cap.release()
    return frames


@pytest.fixture(scope="module")
def scene(context):
    """A real frame with people near the camera, its painting and the segmentation result."""
    style = Style(Style.Params(style="builtin:5", carry_forward=False))
    [painter] = built_stages(style, context)
    mask_effect = Mask(Mask.Params())
    [segmenter] = built_stages(mask_effect, context)
    assert segmenter.name == "mask:meet"
    for index, frame in enumerate(clip_start()):  # the mask stage learns the room from the frames before
        mask = segmenter.analyze(frame, FrameMeta(index, index / 10, 0.0))
    results = {painter.name: painter.analyze(frame, FrameMeta(0, 0.0, 0.0)), segmenter.name: mask}
    return frame, style, results


def apply(scene, keep: str, with_mask: bool = True) -> np.ndarray:
    """The mode [style, mask keep=...] on the scene's frame, as Mode.apply runs it."""
    frame, style, results = scene
    if not with_mask:
        results = {k: v for k, v in results.items() if not k.startswith("mask")}
    meta = FrameMeta(1, 0.0, 0.0)
    for key, result in results.items():
        meta.results.put(key, result, 0)
    meta.original = frame
    image = style.process(frame, meta)
    return Mask(Mask.Params(keep=keep)).process(image, meta)


def regions(scene):
    frame, _, results = scene
    mask: MaskResult = results["mask:meet"]
    probability = mask.at(frame.shape[1], frame.shape[0])
    people = cv2.erode((probability > 0.9).astype(np.uint8), np.ones((13, 13), np.uint8)) > 0  # inside the feather
    room = cv2.erode((probability < 0.1).astype(np.uint8), np.ones((31, 31), np.uint8)) > 0
    assert people.mean() > 0.005 and room.mean() > 0.5, "the model should find the walkers"
    return people, room


def difference(a, b, where):
    return np.abs(a.astype(np.float32) - b).mean(axis=2)[where].mean()


def test_keep_room_paints_only_the_people(scene):
    frame = scene[0]
    people, room = regions(scene)
    out = apply(scene, "room")
    assert difference(out, frame, people) > 25, "the people are painted"
    assert difference(out, frame, room) < 1.0, "the room is the camera picture"


def test_keep_people_paints_only_the_room(scene):
    frame = scene[0]
    people, room = regions(scene)
    out = apply(scene, "people")
    assert difference(out, frame, room) > 25
    assert difference(out, frame, people) < 1.0


def test_before_the_first_mask_nobody_is_a_person(scene):
    frame = scene[0]
    assert np.array_equal(apply(scene, "room", with_mask=False), frame)
    painted = apply(scene, "people", with_mask=False)
    assert np.abs(painted.astype(np.float32) - frame).mean() > 25


def test_edges_are_feathered_not_cut():
    mask = np.zeros((240, 320), np.float32)
    mask[80:160, 120:200] = 1.0
    soft = feathered(mask, (640, 480), 0.5, 0.02)
    row = soft[240, 180:300]
    assert soft[240, 320] > 0.99 and soft[10, 10] < 0.01
    assert ((row > 0.05) & (row < 0.95)).sum() >= 8  # a gradual edge several pixels wide
    hard = feathered(mask, (640, 480), 0.5, 0.0)
    assert ((hard[240, 180:300] > 0.05) & (hard[240, 180:300] < 0.95)).sum() <= 3


@pytest.fixture
def registered(monkeypatch):
    """style and mask in the effect registry, as the integrator will register them."""
    from appliance.core import registry as effects
    monkeypatch.setitem(effects.EFFECTS, "style", Style)
    monkeypatch.setitem(effects.EFFECTS, "mask", Mask)


def test_a_kandinsky_people_mode_runs_its_stages_and_paints_only_the_people(registered, context, scene):
    from appliance.config import EffectSettings, ModeSettings
    from appliance.core.modes import Mode
    from appliance.core.stats import StageTimes
    from appliance.core.workers import AnalysisWorker
    frame = scene[0]
    settings = ModeSettings("only the people painted", [EffectSettings("style", Style.Params()),
                                                        EffectSettings("mask", Mask.Params(keep="room"))])
    mode = Mode("kandinsky-people", settings, context)
    assert not mode.error and [a.name for a in mode.analyzers] == ["style:kandinsky", "mask:meet"]
    times = StageTimes()
    workers = [AnalysisWorker(build, times, a) for a, build in zip(mode.analyzers, mode.builds)]
    for index, earlier in enumerate(clip_start()[:-1]):  # the mask stage learns the room first
        workers[1].run_inline(Frame(earlier, FrameMeta(index, index / 10, 0.0)))
    meta = FrameMeta(60, 6.0, 0.0)
    for worker in workers:  # what the pipeline does with inline analysis (offline renders)
        worker.run_inline(Frame(frame, meta))
        result, index, _ = worker.latest()
        meta.results.put(worker.key, result, index)
    out = mode.apply(frame, meta, times)
    people, room = regions(scene)
    assert difference(out, frame, people) > 25 and difference(out, frame, room) < 1.0
    mode.close()


def test_a_style_picture_that_is_not_there_shows_a_card_not_a_crash(registered, context):
    from appliance.config import EffectSettings, ModeSettings
    from appliance.core.modes import Mode
    mode = Mode("lost", ModeSettings("", [EffectSettings("style", Style.Params(style="no-such-painting"))]), context)
    assert "no-such-painting" in mode.error and "expected" in mode.error
    card = mode.apply(np.zeros((480, 640, 3), np.uint8), FrameMeta(0, 0.0, 0.0), None)
    assert card.shape == (480, 640, 3) and card.any()


def test_split_gives_the_people_one_mode_and_the_room_another(registered, context, scene, monkeypatch):
    from appliance.core import registry as effects
    from appliance.config import EffectSettings, ModeSettings, Settings
    from appliance.effects.split import Split
    monkeypatch.setitem(effects.EFFECTS, "split", Split)
    frame = scene[0]
    settings = Settings()
    paint = Style.Params(style="builtin:5", carry_forward=False)
    settings.modes["painted"] = ModeSettings("", [EffectSettings("style", paint)])
    flip = effects.EFFECTS["mirror"].Params(axis="vertical")
    settings.modes["flipped"] = ModeSettings("", [EffectSettings("mirror", flip)])
    split_context = AnalysisContext(settings=settings, state_dir=context.state_dir, _store=context.store)
    split = Split(Split.Params(people="painted", room="flipped"))
    stages = built_stages(split, split_context)
    assert [a.name for a in stages] == ["style:builtin:5@288", "mask:meet"]
    meta = analyse_into(stages, frame, FrameMeta(0, 0.0, 0.0))
    meta.original = frame
    out = split.process(frame, meta)
    people, room = regions(scene)
    assert difference(out, frame, people) > 25
    flipped = cv2.flip(frame, 0)
    assert difference(out, flipped, room) < 1.0
    split.close()
    with pytest.raises(ConfigError, match="expected one of"):
        Split(Split.Params(people="nosuchmode", room="flipped")).stages(split_context)
