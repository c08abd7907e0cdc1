"""Aged film on real frames: deterministic per seed, damage grows with decay, healing restores."""

from __future__ import annotations

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
