"""One-Euro smoothing on a real skeleton: a still visitor steadies, a fast arm is not lagged."""

from __future__ import annotations

import numpy as np
import pytest

from appliance.poses.smoothing import KeypointSmoother, OneEuroFilter
from test_poses_data import base, set_arm

FPS = 30.0  # a Pi camera with a fast pose model


def noisy_still(seconds: float, px: float, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    kp = base()
    frames = []
    for _ in range(int(seconds * FPS)):
        noisy = kp.copy()
        noisy[:, :2] += rng.normal(0.0, px, (17, 2))
        frames.append(noisy)
    return frames


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_still_visitor_jitters_at_least_three_times_less(seed):
    frames = noisy_still(6.0, 1.5, seed)
    smoother = KeypointSmoother()
    out = np.array([smoother.smooth(1, kp, i / FPS) for i, kp in enumerate(frames)])[60:]
    raw = np.array(frames)[60:]
    truth = base()[:, :2]
    raw_jitter = np.std(raw[:, :, :2] - truth)
    smooth_jitter = np.std(out[:, :, :2] - truth)
    assert raw_jitter / smooth_jitter >= 3.0, (raw_jitter, smooth_jitter)
    assert np.array_equal(out[:, :, 2], raw[:, :, 2])  # scores pass through


def test_a_fast_arm_lags_by_only_a_few_pixels():
    """The wrist sweeps at a steady 400 px/s (a brisk wave for a person 150 px tall), with the
    same 1.5 px noise; once under way it trails the truth by under 5 px."""
    rng = np.random.default_rng(4)
    smoother = KeypointSmoother()
    lags = []
    for i in range(int(1.5 * FPS)):
        truth = base()
        truth[9:11, 0] += 400.0 * i / FPS
        noisy = truth.copy()
        noisy[:, :2] += rng.normal(0.0, 1.5, (17, 2))
        out = smoother.smooth(1, noisy, i / FPS)
        lags.append(np.hypot(*(out[9:11, :2] - truth[9:11, :2]).T).mean())
    assert np.mean(lags[15:]) < 5.0, np.round(lags, 1)
    assert max(lags[15:]) < 8.0


def test_a_plain_low_pass_this_steady_would_lag_far_more():
    """Why One-Euro: the same still-pose cutoff without the speed term trails the arm by tens
    of pixels."""
    fixed = OneEuroFilter(beta=0.0)
    adaptive = OneEuroFilter()
    for i in range(int(1.5 * FPS)):
        x = np.array([400.0 * i / FPS])
        lag_fixed, lag_adaptive = x - fixed(x, i / FPS), x - adaptive(x, i / FPS)
    assert lag_fixed[0] > 50 and lag_adaptive[0] < 5


def test_time_drives_the_filter_not_frame_count():
    """Half the frames at the same times' spacing doubled: a still pose is smoothed alike."""
    frames = noisy_still(6.0, 1.5, 7)
    truth = base()[:, :2]
    full, half = KeypointSmoother(), KeypointSmoother()
    a = [full.smooth(1, kp, i / FPS) for i, kp in enumerate(frames)][60:]
    b = [half.smooth(1, kp, i / FPS) for i, kp in enumerate(frames) if i % 2 == 0][30:]
    ja, jb = np.std(np.array(a)[:, :, :2] - truth), np.std(np.array(b)[:, :, :2] - truth)
    assert 0.6 < ja / jb < 1.0  # fewer samples average less noise, but same time constant


def test_tracks_are_smoothed_apart_and_forgotten():
    smoother = KeypointSmoother()
    a, b = base(), set_arm(base(), "left", 90, 90)
    b[:, 0] += 300
    smoother.smooth(1, a, 0.0)
    smoother.smooth(2, b, 0.0)
    assert np.allclose(smoother.smooth(2, b, 0.1)[:, :2], b[:, :2])  # not pulled towards track 1
    smoother.forget(1)
    moved = a.copy()
    moved[:, 0] += 200
    assert np.allclose(smoother.smooth(1, moved, 0.2)[:, :2], moved[:, :2])  # starts afresh
