"""Aged film: the picture disintegrates into old, damaged film and then heals, in a cycle.

Everything the damage does scales with one number, `decay` (0 clean .. 1 ruined), which follows
time: it rises over `decay_s`, holds for `hold_s`, falls back over `heal_s` and stays clean for
`clean_s`, then the cycle repeats. At decay 0 the picture is untouched, so healing really
restores it. The damage is drawn from a random generator seeded with (seed, frame index): the
same seed gives the same film, frame for frame, on any machine.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from appliance.config.schema import setting
from appliance.core.frame import FrameMeta
from appliance.core.lazy import cv2
from appliance.core.registry import register_effect
from appliance.core.stages import AnalysisContext, StageRequest
from appliance.core.stats import release_free_memory

SEPIA = np.array([0.55, 0.78, 1.0], np.float32)  # BGR tint of old prints (brown)
LUMA = np.array([0.114, 0.587, 0.299], np.float32)  # BGR weights of grey
BURN_COLOUR = (199, 224, 242)  # washed-out emulsion, BGR
GRAIN_TILES = 8
GRAIN_STD = 40.0  # grain tiles are stored as uint8 around 128 with this spread


def decay_at(t: float, decay_s: float, hold_s: float, heal_s: float, clean_s: float, cycle: bool) -> float:
    """Decay 0..1 at time t: rise, hold, heal, rest; repeating when `cycle`."""
    period = decay_s + hold_s + heal_s + clean_s
    if cycle and period > 0:
        t = t % period
    if t < decay_s:
        return t / decay_s
    if t < decay_s + hold_s or not cycle:
        return 1.0
    if t < decay_s + hold_s + heal_s:
        return 1.0 - (t - decay_s - hold_s) / heal_s
    return 0.0


@register_effect
class Film:
    name = "film"

    @dataclass
    class Params:
        seed: int = setting(1, min=0, help="the same seed gives the same film")
        decay_s: float = setting(20.0, min=0.1, max=3600.0, help="seconds to fall apart")
        hold_s: float = setting(4.0, min=0.0, max=3600.0, help="seconds fully decayed")
        heal_s: float = setting(8.0, min=0.1, max=3600.0, help="seconds to heal")
        clean_s: float = setting(4.0, min=0.0, max=3600.0, help="seconds clean before decaying again")
        cycle: bool = setting(True, help="decay and heal again and again (false: decay once and stay)")
        sepia: float = setting(0.85, min=0.0, max=1.0, help="faded brown colour at full decay")
        grain: float = setting(0.5, min=0.0, max=1.0)
        dust: float = setting(0.5, min=0.0, max=1.0)
        scratches: float = setting(0.5, min=0.0, max=1.0)
        flicker: float = setting(0.5, min=0.0, max=1.0)
        vignette: float = setting(0.6, min=0.0, max=1.0)
        weave: float = setting(0.5, min=0.0, max=1.0, help="gate weave: the frame jitters in the gate")
        burn: float = setting(0.6, min=0.0, max=1.0, help="emulsion eaten away near full decay")
        heal_on: str = setting("heal", help="an effect event (from a pose reaction) that starts "
                               "the healing at once")

    def __init__(self, params: "Film.Params"):
        self.p = params
        self._size = (0, 0)
        self._shift = 0.0  # seconds added to media time: moved by events

    def _prepare(self, w: int, h: int) -> None:
        """Per-size textures, made once, in uint8 so each frame is a few cv2 passes (a Pi 4
        must age a 640x480 frame in a few ms): grain tiles, the vignette falloff, the burn field."""
        rng = np.random.default_rng(self.p.seed)
        small = (max(1, w // 2), max(1, h // 2))
        self._grain = []
        for _ in range(GRAIN_TILES):
            noise = cv2.resize(rng.normal(0, 1, (small[1], small[0])).astype(np.float32), (w, h))
            grey = np.clip(128 + noise * GRAIN_STD, 0, 255).astype(np.uint8)
            self._grain.append(cv2.merge([grey, grey, grey]))
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        r2 = (np.hypot((xx - w / 2) / (w / 2), (yy - h / 2) / (h / 2)) / np.sqrt(2)) ** 2
        falloff = np.clip(r2 * 255, 0, 255).astype(np.uint8)
        self._falloff = cv2.merge([falloff, falloff, falloff])
        field = cv2.resize(rng.random((8, 10)).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
        field += 0.25 * cv2.resize(rng.random((32, 40)).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
        self._burn_field = (field - field.min()) / (np.ptp(field) + 1e-6)
        self._burn_colour = np.full((h, w, 3), BURN_COLOUR, np.uint8)
        self._size = (w, h)
        release_free_memory()  # the float scratch above is gone: give its pages back

    def decay(self, meta: FrameMeta) -> float:
        p = self.p
        if p.heal_on and p.heal_on in meta.events:
            self._heal_now(meta.t)
        return decay_at(meta.t + self._shift, p.decay_s, p.hold_s, p.heal_s, p.clean_s, p.cycle)

    def _heal_now(self, t: float) -> None:
        """Jump the cycle to the point of healing that matches today's damage, so the picture
        starts to heal from where it is, without a jump."""
        p = self.p
        d = decay_at(t + self._shift, p.decay_s, p.hold_s, p.heal_s, p.clean_s, p.cycle)
        if d <= 0:
            return
        period = p.decay_s + p.hold_s + p.heal_s + p.clean_s
        heal_point = p.decay_s + p.hold_s + (1.0 - d) * p.heal_s
        self._shift += (heal_point - (t + self._shift)) % period if p.cycle else 0.0

    def stages(self, context: AnalysisContext) -> list[StageRequest]:
        return []

    def process(self, image: np.ndarray, meta: FrameMeta) -> np.ndarray:
        h, w = image.shape[:2]
        if (w, h) != self._size:  # before the early return: the first frame pays, not a later one
            self._prepare(w, h)
        d = self.decay(meta)
        if d <= 0.0:
            return image
        rng = np.random.default_rng((self.p.seed, meta.index))
        out = self._weave(image, d, rng)
        flicker = 1.0 + self.p.flicker * d * 0.25 * float(rng.normal())
        out = cv2.transform(out, self._colour_matrix(d, flicker))
        amount = 0.12 * self.p.grain * d * 255 / GRAIN_STD
        out = cv2.addWeighted(out, 1.0, self._grain[int(rng.integers(GRAIN_TILES))], amount, -128 * amount)
        shade = self.p.vignette * (0.35 + 0.65 * d)
        out = cv2.addWeighted(out, 1.0, cv2.multiply(out, self._falloff, scale=1 / 255), -shade, 0)
        out = self._burn(out, d)
        self._scratch(out, d, meta.index)
        self._dust(out, d, rng)
        return out

    def _weave(self, image: np.ndarray, d: float, rng: np.random.Generator) -> np.ndarray:
        amplitude = self.p.weave * d * image.shape[0] / 160
        if amplitude < 0.3:
            return image
        dx, dy = rng.normal(0, amplitude * 0.4), rng.normal(0, amplitude)
        shift = np.float32([[1, 0, dx], [0, 1, dy]])
        return cv2.warpAffine(image, shift, (image.shape[1], image.shape[0]), borderMode=cv2.BORDER_REPLICATE)

    def _colour_matrix(self, d: float, flicker: float) -> np.ndarray:
        """One 3x4 affine colour transform: towards sepia-toned grey, faded (contrast lost,
        blacks lifted) and flickering, all in a single pass over the pixels."""
        amount = self.p.sepia * d
        toned = np.outer(SEPIA, LUMA)  # grey from BGR, then tinted
        mix = (1 - amount) * np.eye(3, dtype=np.float32) + amount * toned
        gain = (1 - 0.25 * d) * flicker
        offset = np.full((3, 1), 0.12 * d * 255 * flicker, np.float32)
        return np.hstack([mix * gain, offset]).astype(np.float32)

    def _burn(self, out: np.ndarray, d: float) -> np.ndarray:
        """Past 60 % decay, patches of emulsion wash out, growing until full decay."""
        reach = (d - 0.6) / 0.4 * self.p.burn
        if reach <= 0:
            return out
        edge = np.clip((reach * 0.45 - self._burn_field) / 0.06 + 1.0, 0.0, 1.0)
        return cv2.blendLinear(out, self._burn_colour, 1.0 - edge, edge)

    def _scratch(self, out: np.ndarray, d: float, index: int) -> None:
        """Long vertical scratches that stay put for a while, as on a worn print."""
        count = int(round(self.p.scratches * d * 4))
        h, w = out.shape[:2]
        for k in range(count):
            rng = np.random.default_rng((self.p.seed, 7919, k, index // 12))
            x = int(rng.integers(w))
            x += int(rng.normal(0, 1.5))
            shade = 255 if rng.random() < 0.6 else 20
            y0, y1 = sorted(rng.integers(0, h, 2))
            cv2.line(out, (x, int(y0 * 0.3)), (x + int(rng.normal(0, 3)), int(h - (h - y1) * 0.3)),
                     (shade, shade, shade), 1, cv2.LINE_AA)

    def _dust(self, out: np.ndarray, d: float, rng: np.random.Generator) -> None:
        h, w = out.shape[:2]
        for _ in range(int(rng.poisson(self.p.dust * d * 25))):
            centre = (int(rng.integers(w)), int(rng.integers(h)))
            radius = max(1, int(rng.exponential(1.2) * h / 400))
            shade = 15 if rng.random() < 0.7 else 240
            cv2.circle(out, centre, radius, (shade, shade, shade), -1, cv2.LINE_AA)

    def close(self) -> None:
        pass
