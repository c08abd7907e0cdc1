"""Generation loss: a still of the room decays and is restored from its own damage, again and
again; each generation keeps less of the room (SSIM on a real frame), the generations follow
frame time, the same seed gives the same frames, and visitors walk through it live."""

from __future__ import annotations

import logging

import cv2
import numpy as np
import pytest

from appliance.config import Settings, load_config
from appliance.config.sections import default_modes
from appliance.core.frame import FrameMeta
from appliance.core.results import MaskResult
from appliance.effects import generations as module
from appliance.effects.generations import Generations, damaged_print, film_for, generation_loss, median
from appliance.errors import ConfigError
from appliance.paint.repair import repair, ssim

FPS = 10


def short(**params) -> Generations.Params:
    """A cycle of 2.5 s: decay 1, hold 0.5, heal 0.5, clean 0.5; the still gathered over 0.6 s."""
    return Generations.Params(**{**dict(decay_s=1.0, hold_s=0.5, heal_s=0.5, clean_s=0.5, gather_s=0.6),
                                 **params})


def run(effect: Generations, frames: list[np.ndarray], count: int, results=None):
    """Each frame's picture and generation, the clip looped at FPS."""
    shown, generations = [], []
    for i in range(count):
        meta = FrameMeta(i, i / FPS, 0.0)
        if results is not None:
            meta.results.put("mask:meet", results, i)
        shown.append(effect.process(frames[i % len(frames)], meta))
        generations.append(effect.generation)
    return shown, generations


@pytest.fixture(scope="module")
def room(sample_frames) -> np.ndarray:
    return cv2.resize(sample_frames[0], (640, 480), interpolation=cv2.INTER_AREA)


def test_each_generation_keeps_less_of_the_room(room):
    series = generation_loss(room, generations=8, seed=1)
    print("SSIM per generation:", [round(s, 3) for s in series])
    assert series[0] < 0.95                                     # one generation already loses
    assert all(b <= a + 0.02 for a, b in zip(series, series[1:])), series  # never (much) better
    assert series[-1] < series[0] - 0.15                        # and much worse over eight
    assert series[-1] > 0.2                                     # still a picture of the room


def test_a_generation_repairs_what_its_decay_did(room):
    p = Generations.Params(seed=1)
    damaged, defects = damaged_print(film_for(p, 0, (640, 480)), room, 0)
    assert ssim(repair(damaged, defects), room) > ssim(damaged, room) + 0.05


def test_each_generation_burns_somewhere_else():
    p = Generations.Params(seed=1, burn_from="gate")
    maps = [film_for(p, g, (320, 240))._burn.index for g in range(3)]
    assert not np.array_equal(maps[0], maps[1]) and not np.array_equal(maps[1], maps[2])


def test_generations_follow_frame_time(sample_frames):
    effect = Generations(short())
    shown, generations = run(effect, sample_frames, 100)
    assert all(np.array_equal(shown[i], sample_frames[i]) for i in range(6))  # live while gathering
    assert all(b - a in (0, 1) for a, b in zip(generations, generations[1:]))
    # the still is in at 0.6 s; each cycle's healing (into its restoration) starts 1.5 s later
    assert generations[20] == 0 and generations[22] == 1 and generations[47] == 2
    assert generations[-1] == 4


def test_same_seed_same_generations_other_seed_other(sample_frames):
    one, _ = run(Generations(short(seed=3)), sample_frames, 60)
    two, _ = run(Generations(short(seed=3)), sample_frames, 60)
    other, _ = run(Generations(short(seed=4)), sample_frames, 60)
    assert all(np.array_equal(a, b) for a, b in zip(one, two))
    assert np.abs(one[40].astype(int) - other[40].astype(int)).mean() > 1.0


def test_the_still_leaves_out_people_walking_through():
    room = np.full((120, 160, 3), 120, np.uint8)
    frames = []
    for k in range(7):
        frame = room.copy()
        cv2.rectangle(frame, (10 + 20 * k, 40), (30 + 20 * k, 90), (20, 20, 20), -1)  # a walker
        frames.append(frame)
    assert np.array_equal(median(frames), room)
    effect = Generations(short(gather_s=0.6))
    run(effect, frames, 7)
    assert np.array_equal(effect.still, room)


def test_visitors_walk_through_the_old_room_live(sample_frames):
    effect = Generations(short(gather_s=0.0))
    still = sample_frames[0]
    visitor = still.copy()
    visitor[200:300, 300:360] = (40, 200, 255)                  # someone in bright yellow
    probability = np.zeros((144, 256), np.float32)
    probability[48:76, 98:120] = 1.0                            # the mask: where they stand
    frames = [still] + [visitor] * 29
    shown, _ = run(effect, frames, 30, results=MaskResult(probability))
    clean = shown[22]                                           # the restoration, resting clean
    assert np.abs(clean[230:270, 315:340].astype(int) - (40, 200, 255)).max() < 3
    decaying = shown[5]                                         # half decayed: toned, still there
    assert decaying[220:280, 310:350, 2].mean() > decaying[220:280, 310:350, 0].mean() + 80
    assert not (effect.still[200:300, 300:360] == (40, 200, 255)).all()  # not in the still


def test_a_restoration_that_fails_leaves_the_picture_as_it_was(sample_frames, monkeypatch, caplog):
    def broken(damaged, defects):
        raise RuntimeError("restorer broke")
    monkeypatch.setattr(module, "repair", broken)
    effect = Generations(short())
    with caplog.at_level(logging.ERROR, logger=module.__name__):
        shown, generations = run(effect, sample_frames, 60)
    assert generations[-1] == 2 and all(s.shape == sample_frames[0].shape for s in shown)
    assert [r.getMessage() for r in caplog.records if "restoration failed" in r.getMessage()] \
        == ["generations: a restoration failed (RuntimeError('restorer broke')); the picture stays as it was"]


def test_the_mode_renders_the_sample_with_its_mask_stage(tmp_path):
    from appliance.app.render import RENDER, LastFrameOutput
    from appliance.core.pipeline import Pipeline, PipelineOptions
    from appliance.core.stages import AnalysisContext
    from appliance.sources import create_source

    settings = Settings()
    mode = settings.modes["generation-loss"]
    assert mode.description and [e.effect for e in mode.effects] == ["generations", "mirror"]
    for name, value in dict(decay_s=1.0, hold_s=0.5, heal_s=0.5, clean_s=0.5, gather_s=0.6).items():
        setattr(mode.effects[0].params, name, value)
    seen = []

    class Probe:
        def frame_shown(self, pipeline):
            effect = pipeline.mode.steps[0][1]
            seen.append((effect.generation, effect._people is not None))

        def stopped(self, pipeline):
            pass

    source = create_source("sample", width=640, height=480, fps=10, loop=True)
    options = PipelineOptions(**{**RENDER.__dict__, "max_frames": 60})
    pipeline = Pipeline(source, LastFrameOutput(), settings.modes, "generation-loss", options=options,
                        observers=[Probe()], context=AnalysisContext(settings, tmp_path))
    summary = pipeline.run()
    assert summary.frames_out == 60 and not summary.error
    assert [g for g, _ in seen][::10] == [0, 0, 0, 1, 1, 2]     # one more restoration every 2.5 s
    assert any(people for _, people in seen)                    # the mask found the walkers


def test_the_mode_is_built_in_after_aged_film():
    names = list(default_modes())
    assert names.index("generation-loss") == names.index("aged-film") + 1


def test_bad_settings_are_one_line_config_errors(tmp_path):
    path = tmp_path / "appliance.toml"
    path.write_text('[modes.loss]\neffects = [{ effect = "generations", gather_s = -1, burn_from = "sun", '
                    'decay_s = "slow", model = "owl", genrations = 3 }]\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    problems = caught.value.problems
    assert len(problems) == 5 and all("\n" not in p and p.startswith(f"{path}: modes.loss.effects[0].")
                                      for p in problems)
    assert f"{path}: modes.loss.effects[0].gather_s: -1 is out of range (expected a value from 0.0 to 60.0)" \
        in problems
    assert any("decay_s: expected a number, got a string 'slow'" in p for p in problems)
    assert any("genrations: unknown key (expected one of: seed, decay_s," in p for p in problems)


def test_appliance_render_gives_the_same_generations_every_time(tmp_path):
    from conftest import run_cli
    config = tmp_path / "short.toml"
    config.write_text('[modes.generation-loss]\n'
                      'effects = [{ effect = "generations", decay_s = 1.0, hold_s = 0.5, heal_s = 0.5, '
                      'clean_s = 0.5, gather_s = 0.6 }, { effect = "mirror" }]\n')
    stills = []
    for name in ("a.png", "b.png"):
        result = run_cli("render", "sample", "--mode", "generation-loss", "--frames", "55",
                         "--config", str(config), "-o", str(tmp_path / name))
        assert result.returncode == 0, result.stderr
        stills.append(cv2.imread(str(tmp_path / name)))
    assert np.array_equal(stills[0], stills[1])                 # two restorations in: the same picture


def test_closing_waits_for_the_work_under_way_beside_the_display(sample_frames):
    """A mode switch or the end of the run must not leave OpenCV working in a daemon thread: at
    the process's exit that aborted the interpreter (seen in the memory soak, 2 runs in 12)."""
    import threading
    effect = Generations(short())
    effect.process(sample_frames[0], FrameMeta(0, 0.0, 0.0))  # the first film is made beside it
    assert effect._film_job is not None
    effect.close()
    assert not any(t.name in ("film", "repair") and t.is_alive() for t in threading.enumerate())
