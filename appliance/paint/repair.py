"""Restoration from the damaged picture alone, the way a restoration model works, and how close
a picture is to another (SSIM).

`repair` sees only the damaged print and where its defects are (what a restorer's defect
detector finds: burns, flaked emulsion, scratches, dust), never the picture before the
damage. It fills the defects in from their surroundings (OpenCV's Telea inpainting), takes the
grain out with an edge-preserving filter, and puts the colour back by balancing the channels
(grey world) and stretching each channel's levels. It cannot bring back what was lost: the
detail under a burn is guessed from its edges, fine texture goes with the grain, and a channel
the sepia toned away comes back as grey. Repairing the repair's own next decay loses a little
more each time: generation loss.

This lives in `appliance.paint` (pictures in, pictures out, no settings of its own): an effect
and the tests call it alike, and `appliance.effects` holds only registered effects.
"""

from __future__ import annotations

import numpy as np

from appliance.core.lazy import cv2

FILL_RADIUS = 0.008      # of the frame height: how far around a defect inpainting looks
GROW_DEFECTS = 0.004     # of the frame height: defects grown by this (their soft edges too)
WIDE = 0.01              # of the frame height: a defect wider than twice this is filled coarsely
COARSE = 8               # wide defects are filled at 1/COARSE of the size: a soft guess
FEATHER = 0.006          # of the frame height: the coarse fill's edge blends in over this
GRAIN_FILTER = (30.0, 9)  # bilateral filter: colour sigma (0-255), neighbourhood diameter (px)
LEVELS_CLIP = 0.2        # percent of each channel's darkest and brightest pixels let clip
SSIM_SIGMA = 1.5         # SSIM's gaussian window (Wang et al. 2004)


def repair(damaged: np.ndarray, defects: np.ndarray) -> np.ndarray:
    """The damaged picture (BGR uint8) restored from itself and its defect mask (uint8, 255
    where the picture is gone): filled in, de-grained, its colour balanced."""
    return rebalance(degrain(fill(damaged, defects)))


def fill(picture: np.ndarray, defects: np.ndarray) -> np.ndarray:
    """The defects filled in from their surroundings: thin ones (scratches, dust) by Telea's
    fast-marching inpainting at full size; wide ones (burns, flakes) by the same at an eighth
    of the size, so a hole is filled with a soft guess of what was around it, not with the
    streaks inpainting drags across a wide hole at full size."""
    h = picture.shape[0]
    grow = max(1, round(GROW_DEFECTS * h))
    mask = cv2.dilate(defects, _disc(grow))
    if not cv2.countNonZero(mask):
        return picture.copy()
    wide = cv2.morphologyEx(mask, cv2.MORPH_OPEN, _disc(max(2, round(WIDE * h))))
    thin = cv2.subtract(mask, wide)
    out = cv2.inpaint(picture, thin, max(2.0, FILL_RADIUS * h), cv2.INPAINT_TELEA) \
        if cv2.countNonZero(thin) else picture.copy()
    if cv2.countNonZero(wide):
        _fill_wide(out, wide)
    return out


def _fill_wide(picture: np.ndarray, wide: np.ndarray) -> None:
    """Fill the wide defects in place from an eighth-size inpainting, its edge feathered."""
    h, w = picture.shape[:2]
    small = (max(8, w // COARSE), max(8, h // COARSE))
    coarse_mask = cv2.resize(wide, small, interpolation=cv2.INTER_AREA)
    np.greater(coarse_mask, 0, out=coarse_mask)
    coarse = cv2.inpaint(cv2.resize(picture, small, interpolation=cv2.INTER_AREA), coarse_mask * 255,
                         3, cv2.INPAINT_TELEA)
    guess = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)
    weight = cv2.GaussianBlur(wide.astype(np.float32) / 255, (0, 0), max(1.0, FEATHER * h))
    np.maximum(weight, wide.astype(np.float32) / 255, out=weight)
    picture[:] = cv2.blendLinear(guess, picture, weight, 1.0 - weight)


def _disc(radius: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))


def degrain(picture: np.ndarray) -> np.ndarray:
    """The film grain smoothed away, edges kept: a bilateral filter. Its neighbourhood does not
    grow with the frame: the grain is made at half the frame's size, a couple of pixels across
    at any size. Measured at 640x480 on the sample clip's first frame over eight generations,
    it keeps as much of the picture as non-local means (h=6; SSIM within 0.05) at about a sixth
    of the cost (50 ms against 290 ms per repair on a desktop core)."""
    sigma_colour, diameter = GRAIN_FILTER
    return cv2.bilateralFilter(picture, diameter, sigma_colour, diameter / 2)


def rebalance(picture: np.ndarray) -> np.ndarray:
    """The colour put back: each channel scaled to the same mean (grey world: a brown cast
    goes), then stretched so its darkest and brightest LEVELS_CLIP % reach 0 and 255 (the
    fade and lifted blacks go)."""
    step = max(1, picture.shape[0] // 120)
    sample = picture[::step, ::step].reshape(-1, 3).astype(np.float32)
    means = sample.mean(axis=0) + 1e-3
    gain = means.mean() / means
    lo, hi = np.percentile(sample * gain, [LEVELS_CLIP, 100 - LEVELS_CLIP], axis=0)
    channels = []
    for c, channel in enumerate(cv2.split(picture)):
        levels = np.arange(256, dtype=np.float32) * gain[c]
        table = np.clip((levels - lo[c]) * 255.0 / max(hi[c] - lo[c], 1.0), 0, 255)
        channels.append(cv2.LUT(channel, np.round(table).astype(np.uint8)))
    return cv2.merge(channels)


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Structural similarity of two pictures' greys, 1 for the same picture (Wang, Bovik,
    Sheikh and Simoncelli 2004: a gaussian window of sigma 1.5, K1 = 0.01, K2 = 0.03)."""
    x, y = (_grey(p).astype(np.float64) for p in (a, b))
    blur = lambda z: cv2.GaussianBlur(z, (11, 11), SSIM_SIGMA)  # noqa: E731
    mx, my = blur(x), blur(y)
    sxx, syy, sxy = blur(x * x) - mx * mx, blur(y * y) - my * my, blur(x * y) - mx * my
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    score = (2 * mx * my + c1) * (2 * sxy + c2) / ((mx * mx + my * my + c1) * (sxx + syy + c2))
    return float(score.mean())


def _grey(picture: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(picture, cv2.COLOR_BGR2GRAY) if picture.ndim == 3 else picture
