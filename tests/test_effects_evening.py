"""The evening's painting: on the clip's real poses every walker paints where they walked and
nowhere else, the paint stays for minutes, the canvas outlives a mode switch and a restart, it
is cleared at the configured hour (a fake clock), and a bad hour is one line of config error."""

from __future__ import annotations

from datetime import datetime

import cv2
import numpy as np
import pytest

from appliance.bench.truth import walkers as walker_regions
from appliance.config import load_config
from appliance.effects.evening import Evening, glowing, next_clear
from appliance.errors import ConfigError
from appliance.paint import album
from appliance.paint.palette import picture_palette
from appliance.paths import SHIPPED_STYLES

from test_analysis_stages import SIZE, frames, meta, pose_results, result_of, save, walkers

BLACK = np.zeros((SIZE[1], SIZE[0], 3), np.uint8)
PAINTED = 0.03  # coverage that shows (8 levels of 255)


class Clock:
    """Local wall-clock time, moved by the test."""

    def __init__(self, *when: int):
        self.now = datetime(*when).timestamp()

    def __call__(self) -> float:
        return self.now

    def to(self, *when: int) -> None:
        self.now = datetime(*when).timestamp()


def evening(clock: Clock | None = None, **params) -> Evening:
    return Evening(Evening.Params(**params), clock=clock or Clock(2026, 11, 30, 19, 0))


def coverage(effect: Evening) -> np.ndarray:
    return 1.0 - effect.canvas.bare


def paint_clip(effect: Evening, t0: float = 0.0) -> list[np.ndarray]:
    """The clip's real pose results, 2-3 frames old as live; the coverage after each frame."""
    results, covered = pose_results(), []
    for i in range(len(results)):
        source = max(0, i - 3 + i % 2)
        effect.process(frames()[i], meta(i, t=t0 + i / 10, pose=(results[source], source)))
        covered.append(coverage(effect).copy())
    return covered


def test_every_walker_paints_where_they_walked_and_nowhere_else():
    """Every walker the clip's own ground truth finds (difference to the empty room, 40 px
    tall and more) has paint within their box a second later, the painting grows as they
    walk, and no paint lies further than 15 px from where anybody walked."""
    covered = paint_clip(evening())
    painted = [c > PAINTED for c in covered]
    sizes = [int(p.sum()) for p in painted[::30]]
    assert sizes == sorted(sizes) and sizes[-1] > 3 * sizes[1] > 0
    regions = walker_regions(walkers(), min_height=40)
    assert len(regions) > 500
    seen = [covered[min(w.frame + 10, len(covered) - 1)][w.box[1]:w.box[3], w.box[0]:w.box[2]].max() > PAINTED
            for w in regions]
    assert np.mean(seen) > 0.98
    assert not (painted[-1] & ~near_walkers()).any()


def near_walkers() -> np.ndarray:
    """Within 15 px of where anybody walked in the clip."""
    return cv2.dilate(walkers().any(axis=0).astype(np.uint8), np.ones((31, 31), np.uint8)) > 0


def test_the_paint_stays_for_minutes_and_layers_where_people_pass_again():
    effect = evening()
    first = paint_clip(effect)[-1]
    for k in range(1800):  # three minutes of an empty room at 10 fps
        effect.process(BLACK, meta(1000 + k, t=15.0 + k / 10, pose=(result_of(), 1000 + k)))
    assert np.array_equal(coverage(effect), first)  # a long exposure: nothing fades
    again = paint_clip(effect, t0=200.0)[-1]  # the same walkers pass again
    assert (again >= first - 1e-6).all() and (again[first > PAINTED] > first[first > PAINTED] + 0.05).mean() > 0.3
    out = effect.process(frames()[0], meta(5000, t=300.0))
    save("evening-clip-twice", out)


def test_the_picture_shows_dimly_under_the_paint_in_the_style_colours():
    effect = evening()
    paint_clip(effect)
    picture = frames()[70]
    out = effect.process(picture, meta(500, t=50.0)).astype(float)
    bare = coverage(effect) < 0.001
    ground = np.array(effect.ground, float)
    expected = 0.3 * picture[bare].astype(float) + 0.7 * ground
    assert np.abs(out[bare] - expected).max() <= 1.5            # the room at 30 %, into the dusk
    colours = np.array(glowing(picture_palette(SHIPPED_STYLES / "kandinsky.png")), float)
    thick = coverage(effect) > 0.6
    nearest = np.linalg.norm(out[thick][:, None] - colours[None], axis=2).min(axis=1)
    assert np.median(nearest) < 60                               # the paint: the style's colours
    assert effect.process(picture[:0], meta(501)).size == 0      # odd input passes through
    broken = result_of((1, np.full((17, 3), np.nan)))
    before = coverage(effect).copy()
    for k, odd in enumerate([result_of(), None, "garbage", broken, result_of((2, np.zeros((17, 3))))]):
        effect.process(picture, meta(510 + k, t=60.0 + k, pose=(odd, 510 + k)))
    assert np.array_equal(coverage(effect), before)


def test_the_canvas_is_kept_and_taken_back_by_the_next_effect(tmp_path):
    clock = Clock(2026, 11, 30, 21, 0)
    first = evening(clock)
    first.stages(context_with(tmp_path))
    paint_clip(first)
    before = coverage(first).copy()
    first.close()  # a mode switch or a stop: the canvas is written before the next effect reads it
    kept = tmp_path / "evening-canvas.png"
    assert kept.is_file() and kept.stat().st_mtime == pytest.approx(clock.now)
    assert cv2.imread(str(kept), cv2.IMREAD_UNCHANGED).shape == (SIZE[1], SIZE[0], 4)
    second = evening(clock)
    second.stages(context_with(tmp_path))
    second.process(BLACK, meta(0, t=0.0))
    assert np.abs(coverage(second) - before).max() <= 1 / 255 + 1e-6  # within the PNG's 8 bits


def context_with(state_dir):
    from appliance.core.stages import AnalysisContext
    return AnalysisContext(state_dir=state_dir)


def test_the_canvas_is_cleared_when_the_clock_passes_the_hour(tmp_path):
    clock = Clock(2026, 11, 30, 21, 0)
    effect = evening(clock, clear_at="06:00", keep_every_s=5.0)
    effect.stages(context_with(tmp_path))
    paint_clip(effect)
    painted = coverage(effect).copy()
    effect.flush()
    assert (tmp_path / "evening-canvas.png").is_file()  # kept every 5 s of frame time
    clock.to(2026, 12, 1, 5, 59)
    effect.process(BLACK, meta(200, t=20.0))
    assert np.array_equal(coverage(effect), painted)  # the whole night long
    clock.to(2026, 12, 1, 6, 0, 1)
    effect.process(BLACK, meta(201, t=20.1))
    assert coverage(effect).max() == 0.0
    effect.close()
    assert not (tmp_path / "evening-canvas.png").exists()  # cleared: no painting kept
    assert effect_at(tmp_path, clock, "06:00").max() == 0.0


def effect_at(state_dir, clock: Clock, clear_at: str) -> np.ndarray:
    """The coverage an effect starting now at `clock` takes from the state folder."""
    effect = evening(clock, clear_at=clear_at)
    effect.stages(context_with(state_dir))
    effect.process(BLACK, meta(0, t=0.0))
    covered = coverage(effect).copy()
    effect.close()
    return covered


def test_a_canvas_kept_before_the_hour_is_cleared_at_a_start_after_it(tmp_path):
    """The box was off at 06:00 (a power cut, a night switched off): the evening is over."""
    clock = Clock(2026, 11, 30, 23, 30)
    effect = evening(clock)
    effect.stages(context_with(tmp_path))
    paint_clip(effect)
    effect.close()
    clock.to(2026, 12, 1, 5, 0)
    assert effect_at(tmp_path, clock, "06:00").max() > 0.5  # still the same night
    clock.to(2026, 12, 1, 18, 0)
    assert effect_at(tmp_path, clock, "").max() > 0.5       # "": never cleared
    assert effect_at(tmp_path, clock, "06:00").max() == 0.0
    assert not (tmp_path / "evening-canvas.png").exists()


def test_next_clear_is_the_next_time_the_local_clock_reads_the_hour():
    at = datetime(2026, 11, 30, 21, 0).timestamp()
    assert next_clear(at, "06:00") == datetime(2026, 12, 1, 6, 0).timestamp()
    assert next_clear(at, "21:30") == datetime(2026, 11, 30, 21, 30).timestamp()
    assert next_clear(at, "21:00") == datetime(2026, 12, 1, 21, 0).timestamp()  # after, not at
    assert next_clear(at, "") == float("inf")


def test_saving_writes_the_painting_alone_named_by_the_time(tmp_path):
    clock = Clock(2026, 11, 30, 21, 4, 5)
    effect = evening(clock, mirrored=False)
    effect.stages(context_with(tmp_path))
    assert effect.save_painting() is False  # nothing painted yet
    paint_clip(effect)
    assert effect.save_painting() is True
    effect.close()
    path = tmp_path / "paintings" / "evening-2026-11-30T21-04-05.png"
    assert album.saved_paintings(tmp_path) == [path]
    saved = cv2.imread(str(path))
    assert saved.shape == (SIZE[1], SIZE[0], 3)
    nobody = ~near_walkers()
    assert nobody.mean() > 0.3 and np.abs(saved[nobody].astype(int) - effect.ground).max() <= 1  # no room
    assert (np.abs(saved[~nobody].astype(int) - effect.ground).max(axis=1) > 30).mean() > 0.1  # paint
    save("evening-saved", saved)


@pytest.mark.parametrize("bad", ["25:00", "6:00", "06:60", "evening"])
def test_a_bad_clear_hour_is_one_line_naming_the_field(tmp_path, bad):
    path = tmp_path / "a.toml"
    path.write_text(f'[modes.night]\neffects = [{{ effect = "evening", clear_at = "{bad}" }}]\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    [problem] = caught.value.problems
    assert f"modes.night.effects[0].clear_at: '{bad}' is not a time of day" in problem
    assert 'expected "HH:MM"' in problem and "\n" not in problem


def test_a_missing_style_picture_is_a_config_error(tmp_path):
    path = tmp_path / "a.toml"
    path.write_text('[modes.night]\neffects = [{ effect = "evening", style = "no-such-painting" }]\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert "modes.night.effects[0].style: style 'no-such-painting'" in caught.value.problems[0]
