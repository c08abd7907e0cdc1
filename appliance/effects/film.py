"""Aged film: the picture disintegrates into old, damaged film and then heals, in a cycle.

Everything the damage does scales with one number, `decay` (0 clean .. 1 ruined), which follows
time: it rises over `decay_s`, holds for `hold_s`, falls back over `heal_s` and stays clean for
`clean_s`, then the cycle repeats. At decay 0 the picture is untouched, so healing really
restores it. The damage is drawn from a random generator seeded with (seed, frame index): the
same seed gives the same film, frame for frame, on any machine. In a show of several boxes the
cycle and the frame index follow the show's clock (`FrameMeta.show_t`), so boxes started at
different times show the same frame of the same picture at the same moment.

The damage follows what film archives and projectionists describe, in the order it comes:
- The print fades and browns: nitric acid from a decomposing nitrate base fades the silver
  image and turns the emulsion brown, the base yellow and then amber (NFSA's glossary,
  nfsa.gov.au/preservation/preservation-glossary/decomposition; Kodak's nitrate storage note,
  motion.kodak.com/motion/Support/Technical_Information/Storage/storage_nitrate.htm; the stage
  table in heritagesciencejournal.springeropen.com/articles/10.1186/s40494-020-00395-y/tables/1;
  filmcare.org/vd_silverfading.php: corroded silver redeposits as yellow-brown colloidal silver).
- Stains (from 30 % decay): blotches that spread, yellow-brown, with a darker tide line where
  their edge dried (the "staining and tide lines" of the Gelatin Silver Print guide,
  docplayer.net/172962-A-guide-to-fiber-base-gelatin-silver-print-condition-and-deterioration.html);
  acid decay works in patches, not evenly (bac-lac.gc.ca visual glossary of acetate decay).
- Flakes (from 50 %): a shrinking base leaves the emulsion behind: it lifts and flakes off in
  sharp-edged patches, often from the edges (NFSA handbook, "emulsion lift",
  nfsa.gov.au/preservation/handbook/damage-films/shrinkage/; asc.ucalgary.ca/photohistory/
  deterioration/: vinegar syndrome makes the emulsion delaminate).
- A burn (from 60 %): a frame held in the gate under the lamp blisters, goes dark and bubbly
  where the emulsion nearly burns, and opens into a bright hole where it burns through
  (ny.filmfix.com/en/blog/what-is-a-burn-hole; filmforever.org/chap5.html: "a blistered or
  burnt frame"; kinographics.blogspot.com/2011/04/film-burns.html: the film melts in the
  gate). It starts at a hot spot in the gate, at one side of the frame (a misaligned lamphouse
  burns one side: sprocketschool.org "On Screen Troubleshooting") or at a splice (a bad splice
  jams: cinematography.wonderhowto.com/news/8mm-film-burning-melting-art-its-best-0115415/).
The maps that make burns, stains and flakes cheap are in `appliance.paint.decay`.
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
from appliance.paint.decay import BURN_ORIGINS, Burn, Flakes, Stains

SEPIA = np.array([0.55, 0.78, 1.0], np.float32)  # BGR tint of old prints (brown)
LUMA = np.array([0.114, 0.587, 0.299], np.float32)  # BGR weights of grey
STAINS_FROM, FLAKES_FROM, BURN_FROM = 0.3, 0.5, 0.6  # decay at which each kind of damage starts
GRAIN_TILES = 8
GRAIN_STD = 40.0  # grain tiles are stored as uint8 around 128 with this spread
SHOW_FILM_FPS = 24  # on a show's clock, the damage changes as a projector's frames do


def ramp(d: float, start: float) -> float:
    """0 until decay `start`, rising to 1 at full decay."""
    return max(0.0, (d - start) / (1.0 - start))


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
        burn: float = setting(0.6, min=0.0, max=1.0, help="how far a burn eats the picture near full decay")
        burn_from: str = setting("gate", choices=BURN_ORIGINS,
                                 help="where the burn starts: a hot spot in the gate, the frame's edge, "
                                      "a splice across the frame, or any (chosen by the seed)")
        stains: float = setting(0.5, min=0.0, max=1.0,
                                help="chemical stains: yellow-brown blotches with dark tide lines")
        flakes: float = setting(0.5, min=0.0, max=1.0,
                                help="emulsion flaking off the base in sharp-edged patches")
        heal_on: str = setting("heal", help="an effect event (from a pose reaction) that starts "
                               "the healing at once")

    def __init__(self, params: "Film.Params"):
        self.p = params
        self._size = (0, 0)
        self._shift = 0.0  # seconds added to media time: moved by events

    def prepare(self, w: int, h: int) -> None:
        """Per-size textures, made once, in uint8 so each frame is a few cv2 passes (a Pi 4
        must age a 640x480 frame in a few ms): grain tiles, the vignette falloff, and the maps
        of the burn, the stains and the flakes. Made on the first frame of a size, or ahead of
        it (from another thread) by whoever knows the size."""
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
        self._burn = Burn(w, h, rng, self.p.burn_from) if self.p.burn > 0 else None
        self._stains = Stains(w, h, rng) if self.p.stains > 0 else None
        self._flakes = Flakes(w, h, rng) if self.p.flakes > 0 else None
        self._size = (w, h)
        release_free_memory()  # the float scratch above is gone: give its pages back

    def clock(self, meta: FrameMeta) -> tuple[float, int]:
        """The film's time and frame number: the show's when boxes play together (a cycling
        film only: one that decays once does so from its own start), so every box shows the
        same frame at the same moment, its damage drawn for the show's frame number; else the
        frame's own."""
        if meta.show_t is not None and self.p.cycle:
            return meta.show_t, int(meta.show_t * SHOW_FILM_FPS)
        return meta.t, meta.index

    def decay(self, meta: FrameMeta) -> float:
        p = self.p
        t = self.clock(meta)[0]
        if p.heal_on and p.heal_on in meta.events:
            self._heal_now(t)
        return decay_at(t + self._shift, p.decay_s, p.hold_s, p.heal_s, p.clean_s, p.cycle)

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
            self.prepare(w, h)
        d = self.decay(meta)
        if d <= 0.0:
            return image
        return self.age(image, d, self.clock(meta)[1])

    def age(self, image: np.ndarray, d: float, index: int, defects: np.ndarray | None = None,
            projected: bool = True, marks: bool = True) -> np.ndarray:
        """`image` as this film shows it at decay `d` (0..1) on frame `index`, as a new picture.

        `projected=False`: the print itself, without the projector's weave, flicker and lens
        vignette (what a restorer scans). `marks=False`: the film's colour, grain and
        projection only, without its scratches, dust, stains, flakes and burns. `defects`
        (uint8, the frame's size), if given, is set to 255 where the damage took the picture
        away (burns, flakes, scratches, dust): what a restorer's defect detector would find.
        """
        h, w = image.shape[:2]
        if (w, h) != self._size:
            self.prepare(w, h)
        rng = np.random.default_rng((self.p.seed, index))
        out = self._weave(image, d, rng) if projected else image
        flicker = 1.0 + self.p.flicker * d * 0.25 * float(rng.normal()) if projected else 1.0
        out = cv2.transform(out, self._colour_matrix(d, flicker))
        amount = 0.12 * self.p.grain * d * 255 / GRAIN_STD
        out = cv2.addWeighted(out, 1.0, self._grain[int(rng.integers(GRAIN_TILES))], amount, -128 * amount)
        if projected:
            shade = self.p.vignette * (0.35 + 0.65 * d)
            out = cv2.addWeighted(out, 1.0, cv2.multiply(out, self._falloff, scale=1 / 255), -shade, 0)
        if marks:
            self._scratch(out, d, index, defects)
            self._dust(out, d, rng, defects)
            self._decompose(out, d, defects)  # last: where the film is gone, so are its scratches
        return out

    def _decompose(self, out: np.ndarray, d: float, defects: np.ndarray | None) -> None:
        """Stains, then flakes (the stained emulsion lifts with them), then the burn, each
        from its own point of the decay to its full extent at decay 1."""
        if self._stains is not None:
            self._stains.draw(out, self.p.stains * ramp(d, STAINS_FROM))
        if self._flakes is not None:
            self._flakes.draw(out, self.p.flakes * ramp(d, FLAKES_FROM), defects)
        if self._burn is not None:
            self._burn.draw(out, self.p.burn * ramp(d, BURN_FROM), defects)

    def _weave(self, image: np.ndarray, d: float, rng: np.random.Generator) -> np.ndarray:
        """The frame jumps a pixel or two in the gate, a new place each frame (whole pixels: a
        copy, not a resampling, at a fifth of the cost)."""
        amplitude = self.p.weave * d * image.shape[0] / 160
        if amplitude < 0.3:
            return image
        dx, dy = round(rng.normal(0, amplitude * 0.4)), round(rng.normal(0, amplitude))
        if dx == 0 and dy == 0:
            return image
        h, w = image.shape[:2]
        padded = cv2.copyMakeBorder(image, max(dy, 0), max(-dy, 0), max(dx, 0), max(-dx, 0),
                                    cv2.BORDER_REPLICATE)
        return padded[max(-dy, 0):max(-dy, 0) + h, max(-dx, 0):max(-dx, 0) + w]

    def _colour_matrix(self, d: float, flicker: float) -> np.ndarray:
        """One 3x4 affine colour transform: towards sepia-toned grey, faded (contrast lost,
        blacks lifted) and flickering, all in a single pass over the pixels."""
        amount = self.p.sepia * d
        toned = np.outer(SEPIA, LUMA)  # grey from BGR, then tinted
        mix = (1 - amount) * np.eye(3, dtype=np.float32) + amount * toned
        gain = (1 - 0.25 * d) * flicker
        offset = np.full((3, 1), 0.12 * d * 255 * flicker, np.float32)
        return np.hstack([mix * gain, offset]).astype(np.float32)

    def _scratch(self, out: np.ndarray, d: float, index: int, defects: np.ndarray | None) -> None:
        """Long vertical scratches that stay put for a while, as on a worn print."""
        count = int(round(self.p.scratches * d * 4))
        h, w = out.shape[:2]
        for k in range(count):
            rng = np.random.default_rng((self.p.seed, 7919, k, index // 12))
            x = int(rng.integers(w))
            x += int(rng.normal(0, 1.5))
            shade = 255 if rng.random() < 0.6 else 20
            y0, y1 = sorted(rng.integers(0, h, 2))
            ends = (x, int(y0 * 0.3)), (x + int(rng.normal(0, 3)), int(h - (h - y1) * 0.3))
            cv2.line(out, *ends, (shade, shade, shade), 1, cv2.LINE_AA)
            if defects is not None:
                cv2.line(defects, *ends, 255, 2)

    def _dust(self, out: np.ndarray, d: float, rng: np.random.Generator, defects: np.ndarray | None) -> None:
        h, w = out.shape[:2]
        for _ in range(int(rng.poisson(self.p.dust * d * 25))):
            centre = (int(rng.integers(w)), int(rng.integers(h)))
            radius = max(1, int(rng.exponential(1.2) * h / 400))
            shade = 15 if rng.random() < 0.7 else 240
            cv2.circle(out, centre, radius, (shade, shade, shade), -1, cv2.LINE_AA)
            if defects is not None:
                cv2.circle(defects, centre, radius + 1, 255, -1)

    def close(self) -> None:
        pass
