"""The restorer, from the damaged picture alone: it fills, de-grains and rebalances, and it
really repairs (closer to the picture before the damage), judged by SSIM on a real frame."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from appliance.effects.film import Film
from appliance.paint.repair import fill, rebalance, repair, ssim


@pytest.fixture(scope="module")
def room(sample_frames) -> np.ndarray:
    return cv2.resize(sample_frames[0], (640, 480), interpolation=cv2.INTER_AREA)


def test_ssim_is_one_for_the_same_picture_and_falls_with_noise(room):
    rng = np.random.default_rng(0)
    noisy = [np.clip(room + rng.normal(0, s, room.shape), 0, 255).astype(np.uint8) for s in (5, 20)]
    assert ssim(room, room) == pytest.approx(1.0)
    assert 1.0 > ssim(room, noisy[0]) > ssim(room, noisy[1]) > 0.0
    assert ssim(room, noisy[0]) == pytest.approx(ssim(noisy[0], room))


def test_a_repair_repairs(room):
    film = Film(Film.Params(seed=2))
    defects = np.zeros(room.shape[:2], np.uint8)
    damaged = film.age(room, 1.0, 0, defects=defects, projected=False)
    repaired = repair(damaged, defects)
    before, after = ssim(damaged, room), ssim(repaired, room)
    assert after > before + 0.05, (before, after)
    gone = defects > 0
    error = lambda p: np.abs(p[gone].astype(int) - room[gone].astype(int)).mean()  # noqa: E731
    assert error(repaired) < 0.6 * error(damaged)               # the holes are filled with the room


def test_a_wide_hole_is_filled_softly_from_its_surroundings():
    picture = np.zeros((480, 640, 3), np.uint8)
    picture[:, :320] = (40, 80, 160)
    picture[:, 320:] = (160, 120, 40)
    damaged = picture.copy()
    defects = np.zeros((480, 640), np.uint8)
    cv2.circle(defects, (200, 240), 60, 255, -1)                # a burn, in the left half
    cv2.line(defects, (500, 0), (500, 479), 255, 1)             # a scratch, in the right half
    damaged[defects > 0] = 255
    filled = fill(damaged, defects)
    assert np.abs(filled[240, 200].astype(int) - (40, 80, 160)).max() < 12
    assert np.abs(filled[100:400, 500].astype(int) - (160, 120, 40)).max() < 12


def test_rebalance_takes_a_brown_cast_and_the_fade_away(room):
    grey = cv2.cvtColor(room, cv2.COLOR_BGR2GRAY).astype(np.float32)
    toned = np.clip(30 + 0.7 * grey[..., None] * np.float32([0.55, 0.78, 1.0]), 0, 255).astype(np.uint8)
    balanced = rebalance(toned)
    means = balanced.reshape(-1, 3).mean(axis=0)
    assert means.max() - means.min() < 6                        # no cast left
    assert balanced.std() > toned.std() * 1.2                   # contrast back
    assert ssim(balanced, room) > ssim(toned, room)
