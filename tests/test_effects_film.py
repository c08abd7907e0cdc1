"""Aged film on real frames: deterministic per seed, damage grows with decay, healing restores."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from appliance.effects.film import Film, decay_at
from appliance.core.frame import FrameMeta


def meta(t: float, index: int = 0) -> FrameMeta:
    return FrameMeta(index=index, t=t, captured_at=0.0)


def damage(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(int) - b.astype(int)).mean())


def test_same_seed_same_film_other_seed_other_film(sample_frames):
    frame = sample_frames[0]
    one, two, other = Film(Film.Params(seed=3)), Film(Film.Params(seed=3)), Film(Film.Params(seed=4))
    for index, t in enumerate((6.0, 12.0, 19.0)):
        a = one.process(frame, meta(t, index))
        assert np.array_equal(a, two.process(frame, meta(t, index)))
        assert damage(a, other.process(frame, meta(t, index))) > 1.0


def test_damage_grows_with_decay_and_heals_away(sample_frames):
    frame = sample_frames[5]
    film = Film(Film.Params(decay_s=10, hold_s=2, heal_s=5, clean_s=3))
    rising = [damage(film.process(frame, meta(t, 7)), frame) for t in (0.0, 2.5, 5.0, 7.5, 10.0)]
    assert rising[0] == 0.0                               # decay 0: the picture untouched
    assert all(b > a for a, b in zip(rising, rising[1:])), rising
    assert rising[-1] > 40                                # fully decayed: clearly ruined
    healing = [damage(film.process(frame, meta(t, 7)), frame) for t in (12.0, 14.5, 17.0)]
    assert healing[0] == pytest.approx(rising[-1], rel=0.05)
    assert healing[1] < healing[0] and healing[2] == 0.0  # healed back to the clean picture


def test_full_decay_looks_like_old_film(sample_frames):
    frame = sample_frames[2]
    out = Film(Film.Params(burn=0.0)).process(frame, meta(20.0))
    b, g, r = (out[..., c].astype(float).mean() for c in range(3))
    assert r > g > b                                       # sepia: warm brown, not the green lawn
    assert out.std() < frame.std()                         # faded: contrast lost
    h, w = out.shape[:2]
    centre = out[h // 3:2 * h // 3, w // 3:2 * w // 3].mean()
    corners = np.mean([out[:h // 8, :w // 8].mean(), out[-h // 8:, -w // 8:].mean()])
    assert corners < centre                                # vignette


@pytest.mark.parametrize("t, expected", [(0, 0.0), (5, 0.5), (10, 1.0), (11, 1.0), (14.5, 0.5),
                                         (18, 0.0), (20, 0.0), (25, 0.5)])
def test_decay_cycle(t, expected):
    assert decay_at(t, decay_s=10, hold_s=2, heal_s=5, clean_s=3, cycle=True) == pytest.approx(expected)


def test_without_cycle_decay_stays():
    assert decay_at(500, decay_s=10, hold_s=2, heal_s=5, clean_s=3, cycle=False) == 1.0


def test_a_heal_event_starts_healing_from_the_damage_of_the_moment(sample_frames):
    film = Film(Film.Params(decay_s=10, hold_s=2, heal_s=5, clean_s=3))
    assert film.decay(meta(8.0)) == pytest.approx(0.8)
    healing = FrameMeta(index=81, t=8.1, captured_at=0.0, events=["heal"])
    assert film.decay(healing) == pytest.approx(0.81, abs=1e-6)  # no jump in the picture ...
    later = [film.decay(meta(8.1 + s)) for s in (1.0, 2.0, 4.05)]
    assert later[0] < 0.81 and later[1] < later[0] and later[2] == pytest.approx(0.0)  # ... it heals


def test_reaction_event_reaches_the_effects(monkeypatch):
    from appliance.core.registry import EFFECTS
    from appliance.core.pipeline import Pipeline, PipelineOptions
    from appliance.sources.synthetic import SyntheticSource
    from test_core_pipeline import MetaProbe, RecordingOutput, modes_with, run_in_thread
    seen = []
    monkeypatch.setitem(EFFECTS, "probe", MetaProbe)
    monkeypatch.setattr(MetaProbe, "process", lambda self, image, m: (seen.append(list(m.events)), image)[1])
    pipeline = Pipeline(SyntheticSource(160, 120, 30), RecordingOutput(), modes_with(), "probe",
                        options=PipelineOptions(realtime=False, wait_for_display=True, max_frames=5))
    pipeline.apply_action("effect:heal")
    run_in_thread(pipeline)
    assert seen[0] == ["heal"] and all(events == [] for events in seen[1:])


# -- the damage reads as film decay ------------------------------------------------------------

ONLY_BURN = dict(burn=1.0, stains=0.0, flakes=0.0, dust=0.0, scratches=0.0, grain=0.0, vignette=0.0,
                 weave=0.0, flicker=0.0)


def rings(mask: np.ndarray, inner: int, outer: int) -> np.ndarray:
    """The pixels between `inner` and `outer` pixels outside `mask` (bool)."""
    grow = lambda r: cv2.dilate(mask.astype(np.uint8), cv2.getStructuringElement(  # noqa: E731
        cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))) > 0
    return grow(outer) & ~grow(inner)


def largest(mask: np.ndarray) -> np.ndarray:
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8))
    return labels == 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))


@pytest.mark.parametrize("origin", ["gate", "edge", "splice"])
def test_a_burn_opens_a_bright_hole_with_a_charred_rim(sample_frames, origin):
    frame = sample_frames[4]
    out = Film(Film.Params(burn_from=origin, **ONLY_BURN)).process(frame, meta(20.0))
    grey = cv2.cvtColor(out, cv2.COLOR_BGR2GRAY)
    hole = largest(grey > 200)
    assert 0.05 < hole.mean() < 0.5                            # one hole, eating part of the picture
    rim, beyond = rings(hole, 3, 9), rings(hole, 40, 70)
    assert grey[rim].mean() < 0.75 * grey[beyond].mean()        # charred dark around it
    b, g, r = (out[..., c][rings(hole, 0, 3)].astype(float).mean() for c in range(3))
    assert r > g > b                                            # glowing amber at the hole's edge
    if origin == "edge":
        assert hole[:, 0].any() or hole[:, -1].any()            # eaten from one side of the frame


@pytest.mark.parametrize("origin", ["gate", "edge", "splice"])
def test_a_burn_blisters_ahead_of_its_front(sample_frames, origin):
    frame, unburnt = sample_frames[4], dict(ONLY_BURN, burn=0.0)
    out = Film(Film.Params(burn_from=origin, **ONLY_BURN)).process(frame, meta(17.0))  # on its way
    clean = Film(Film.Params(burn_from=origin, **unburnt)).process(frame, meta(17.0))
    burnt = np.abs(out.astype(int) - clean.astype(int)).max(axis=2) > 25
    n, labels, stats, _ = cv2.connectedComponentsWithStats(burnt.astype(np.uint8))
    front = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    blisters = [k for k in range(1, n) if k != front and stats[k, cv2.CC_STAT_AREA] >= 4]
    assert len(blisters) >= 3                                   # bubbles char before the front arrives


def test_stains_are_yellow_brown_with_a_darker_tide_line():
    from appliance.paint.decay import Stains
    grey = np.full((480, 640, 3), 200, np.uint8)
    stains = Stains(640, 480, np.random.default_rng(5))
    out = grey.copy()
    stains.draw(out, 0.8)
    stained = (out != 200).any(axis=2)
    assert 0.03 < stained.mean() < 0.45
    b, g, r = (out[..., c][stained].astype(float).mean() for c in range(3))
    assert b < g < r                                            # yellow-brown, not grey
    inside = cv2.erode(stained.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
    edge = stained & ~inside
    assert out[edge].mean() < out[inside].mean() - 15           # the tide line is darker


def test_flakes_are_sharp_edged_and_lift_one_after_another():
    from appliance.paint.decay import Flakes
    grey = np.full((480, 640, 3), 90, np.uint8)
    flakes = Flakes(640, 480, np.random.default_rng(6))
    shares = []
    for amount in (0.2, 0.5, 1.0):
        out = grey.copy()
        flakes.draw(out, amount)
        changed = (out != 90).any(axis=2)
        assert np.array_equal(out[changed], flakes.colour[changed])  # no blended edge pixel
        shares.append(changed.mean())
    assert 0 < shares[0] < shares[1] < shares[2] < 0.25


def test_the_defects_say_where_the_picture_is_gone(sample_frames):
    frame = sample_frames[4]
    film = Film(Film.Params())
    defects = np.zeros(frame.shape[:2], np.uint8)
    out = film.age(frame, 1.0, 3, defects=defects, projected=False)
    hole = cv2.cvtColor(out, cv2.COLOR_BGR2GRAY) > 235
    assert defects[hole].min() == 255                           # burned through: gone
    assert 0.03 < (defects > 0).mean() < 0.4
    assert np.array_equal(out, film.age(frame, 1.0, 3, projected=False))  # the same print


def test_new_settings_are_checked(tmp_path):
    from appliance.config import load_config
    from appliance.errors import ConfigError
    path = tmp_path / "appliance.toml"
    path.write_text('[modes.old]\n'
                    'effects = [{ effect = "film", burn_from = "sun", stains = 2, flakes = "many" }]\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    problems = caught.value.problems
    assert len(problems) == 3 and all("\n" not in p for p in problems)
    assert any("modes.old.effects[0].burn_from: 'sun' is not allowed "
               "(expected one of: gate, edge, splice, any)" in p for p in problems)
    assert any("modes.old.effects[0].stains: 2 is out of range" in p for p in problems)
