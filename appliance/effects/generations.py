"""Generation loss: a still of the room decays into old film and is restored, again and again,
each restoration starting from the one before, while the visitors walk through it live.

When the mode starts, the still is gathered: the median of a few frames over `gather_s`, so
people walking through are left out (the live picture is shown meanwhile). Then the cycle of
the aged film runs on the still: it decays over `decay_s` (the burns, stains and flakes of
`appliance.effects.film`, a new film each generation), holds at full decay for `hold_s`,
heals over `heal_s` and rests clean for `clean_s`. It heals into a restoration
(`appliance.paint.repair`) made from the damaged print alone, never from the picture before
it, and the next generation decays that restoration. What the restorer cannot recover (what
a burn covered, the grain's fine detail, the colour the sepia took) is lost for good, and the
room wears away generation by generation; `generation_loss` measures it (SSIM).

The restoration takes about 50 ms at 640x480 on a desktop core, several times that on a Pi 4:
too long for a frame. It starts in a background thread when the film reaches full decay, and
its result is used when the healing starts, `hold_s` later. If it is not ready then, the display waits for it,
so an offline render, which runs faster than real time, shows the same frames on any machine.
The next generation's film textures are made in the same thread. `generation` is the number of
restorations the picture shown has been through (the contact sheet can label it); nothing extra
is drawn on the screen.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future
from dataclasses import dataclass, fields
from typing import Any, Callable

import numpy as np

from appliance.config.schema import setting
from appliance.core.frame import FrameMeta
from appliance.core.lazy import cv2
from appliance.core.registry import register_effect
from appliance.core.results import MaskResult, result_key
from appliance.core.stages import AnalysisContext, StageRequest, mask_request
from appliance.effects.film import Film
from appliance.paint.decay import BURN_ORIGINS
from appliance.paint.masks import SEGMENTATION_MODELS, person_weight
from appliance.paint.repair import repair, ssim

log = logging.getLogger(__name__)

STILL_SAMPLES = 7      # frames whose median is the still (odd)
END_WAIT_S = 10.0      # a mode switch waits this long at most for a restoration under way
WAIT_S = 60.0          # a restoration not done after this long has hung: the picture stays as it was


def film_for(params: Any, generation: int, size: tuple[int, int]) -> Film:
    """The film of one generation, its textures made for `size` (w, h): the settings it shares
    with the aged film, and a seed of its own, so each generation burns somewhere else."""
    shared = {f.name: getattr(params, f.name) for f in fields(Film.Params) if hasattr(params, f.name)}
    shared["seed"] = int(np.random.SeedSequence((params.seed, generation)).generate_state(1)[0])
    film = Film(Film.Params(**shared))
    film.prepare(*size)
    return film


def damaged_print(film: Film, picture: np.ndarray, generation: int) -> tuple[np.ndarray, np.ndarray]:
    """The picture as `film` leaves it at full decay, without the projector (what a restorer
    scans), and where the damage took the picture away (uint8, 255)."""
    defects = np.zeros(picture.shape[:2], np.uint8)
    return film.age(picture, 1.0, generation, defects=defects, projected=False), defects


def generation_loss(picture: np.ndarray, generations: int = 8, seed: int = 1,
                    params: Any = None) -> list[float]:
    """SSIM to `picture` of each generation's restoration, as the effect makes them (each
    decays and restores the one before)."""
    p = params or Generations.Params(seed=seed)
    size = (picture.shape[1], picture.shape[0])
    still, series = picture, []
    for generation in range(generations):
        still = repair(*damaged_print(film_for(p, generation, size), still, generation))
        series.append(ssim(still, picture))
    return series


def median(frames: list[np.ndarray]) -> np.ndarray:
    """The per-pixel median of an odd number of pictures (an odd-even transposition sort of
    cv2 min/max passes: a few ms where numpy's median takes tens)."""
    s = list(frames)
    for i in range(len(s)):
        for j in range(i % 2, len(s) - 1, 2):
            s[j], s[j + 1] = cv2.min(s[j], s[j + 1]), cv2.max(s[j], s[j + 1])
    return s[len(s) // 2]


class Background:
    """One job on a daemon thread; its result is waited for when it is needed (a job that
    raised raises there)."""

    def __init__(self, job: Callable[[], Any], name: str):
        self._future: Future = Future()
        self._thread = threading.Thread(target=self._run, args=(job,), name=name, daemon=True)
        self._thread.start()

    def end(self, timeout: float = END_WAIT_S) -> None:
        """Wait for the job to finish: OpenCV must not be mid-call in a daemon thread when the
        process exits (its C++ threads then abort the interpreter at teardown)."""
        self._thread.join(timeout)

    def _run(self, job: Callable[[], Any]) -> None:
        try:
            self._future.set_result(job())
        except BaseException as exc:  # handed to whoever waits
            self._future.set_exception(exc)

    def result(self, timeout: float = WAIT_S) -> Any:
        return self._future.result(timeout)


class Gatherer:
    """The still: the median of STILL_SAMPLES frames spread over `gather_s` from the first."""

    def __init__(self, t: float, gather_s: float):
        self.at = [t + gather_s * i / (STILL_SAMPLES - 1) for i in range(STILL_SAMPLES)]
        self.frames: list[np.ndarray] = []

    def offer(self, image: np.ndarray, t: float) -> np.ndarray | None:
        """Take the frame if it is time for the next sample; the still once all are in."""
        while len(self.frames) < STILL_SAMPLES and t >= self.at[len(self.frames)]:
            self.frames.append(image.copy())
        return median(self.frames) if len(self.frames) == STILL_SAMPLES else None


@register_effect
class Generations:
    name = "generations"

    @dataclass
    class Params:
        seed: int = setting(1, min=0, help="the same seed gives the same generations")
        decay_s: float = setting(12.0, min=0.1, max=3600.0, help="seconds to fall apart, each generation")
        hold_s: float = setting(3.0, min=0.0, max=3600.0,
                                help="seconds at full decay, while the restoration is made (if it is not "
                                     "done by then, the picture waits for it)")
        heal_s: float = setting(6.0, min=0.1, max=3600.0, help="seconds to heal into the restoration")
        clean_s: float = setting(4.0, min=0.0, max=3600.0, help="seconds the restoration rests clean")
        gather_s: float = setting(3.0, min=0.0, max=60.0,
                                  help="the still is the median of frames over this many seconds at the "
                                       "start, so people walking through are left out (0: the first frame)")
        sepia: float = setting(0.5, min=0.0, max=1.0, help="faded brown colour at full decay")
        grain: float = setting(0.35, min=0.0, max=1.0)
        dust: float = setting(0.4, min=0.0, max=1.0)
        scratches: float = setting(0.4, min=0.0, max=1.0)
        flicker: float = setting(0.5, min=0.0, max=1.0)
        vignette: float = setting(0.6, min=0.0, max=1.0)
        weave: float = setting(0.5, min=0.0, max=1.0, help="gate weave: the frame jitters in the gate")
        burn: float = setting(0.3, min=0.0, max=1.0, help="how far a burn eats the picture near full decay")
        burn_from: str = setting("any", choices=BURN_ORIGINS,
                                 help="where each generation's burn starts (any: chosen by the seed)")
        stains: float = setting(0.25, min=0.0, max=1.0,
                                help="chemical stains (printed in: the restorer leaves them)")
        flakes: float = setting(0.3, min=0.0, max=1.0, help="emulsion flaking off in sharp-edged patches")
        model: str = setting("meet", choices=SEGMENTATION_MODELS, help="person segmentation model")
        threshold: float = setting(0.5, min=0.05, max=0.95, help="person probability where the edge sits")
        feather: float = setting(0.01, min=0.0, max=0.1,
                                 help="edge softness, a fraction of the picture height")
        inset: float = setting(0.008, min=0.0, max=0.05,
                               help="the visitors' outline pulled in by this fraction of the picture "
                                    "height: a mask's margin would bring the live room along with them")

    def __init__(self, params: "Generations.Params"):
        self.p = params
        self.request = mask_request(params.model)
        self.period = params.decay_s + params.hold_s + params.heal_s + params.clean_s
        self._size = (0, 0)
        self._failed = False  # a restoration failed (logged once)
        self._start(0.0)

    def stages(self, context: AnalysisContext) -> list[StageRequest]:
        return [self.request]

    def _start(self, t: float) -> None:
        """Begin again: gather a new still from `t`."""
        self.generation = 0   # restorations the picture shown has been through
        self._cycles = 0      # cycles finished
        self._gatherer: Gatherer | None = None
        self._gathered_at = t
        self.still: np.ndarray | None = None    # the picture this cycle decays
        self.restored: np.ndarray | None = None  # its restoration, once it is in
        self._film_job: Background | None = None
        self._repair_job: Background | None = None
        self._people: np.ndarray | None = None
        self._weighed_from: object = None

    def process(self, image: np.ndarray, meta: FrameMeta) -> np.ndarray:
        h, w = image.shape[:2]
        t = float(meta.t)
        if (w, h) != self._size or t < self._gathered_at:  # a new size, or the source started over
            self._size = (w, h)
            self._start(t)
        if self.still is None and not self._gather(image, t):
            return image
        cycle, phase = divmod(t - self._gathered_at, self.period)
        while self._cycles < cycle:
            self._next_generation()
        picture, d = self._picture(phase, meta.index)
        return self._with_people(picture, image, d, meta)

    def _gather(self, image: np.ndarray, t: float) -> bool:
        """Collect the still (the first film's textures are made meanwhile); True once it is in."""
        if self._gatherer is None:
            self._gatherer = Gatherer(t, self.p.gather_s)
            size = self._size
            self._film_job = Background(lambda: film_for(self.p, 0, size), "film")
        still = self._gatherer.offer(image, t)
        if still is None:
            return False
        self.film = self._film_job.result()
        self.still, self._gathered_at, self._gatherer = still, t, None
        return True

    def _picture(self, phase: float, index: int) -> tuple[np.ndarray, float]:
        """The still at this point of its cycle, and its decay: decaying, held, healing into
        its restoration, or the restoration resting clean."""
        p = self.p
        if phase < p.decay_s:
            d = phase / p.decay_s
            return (self.film.age(self.still, d, index) if d > 0 else self.still.copy()), d
        self._start_repair()
        if phase < p.decay_s + p.hold_s:
            return self.film.age(self.still, 1.0, index), 1.0
        self._take_repair()
        if phase < p.decay_s + p.hold_s + p.heal_s:
            d = 1.0 - (phase - p.decay_s - p.hold_s) / p.heal_s
            return self.film.age(self.restored, d, index), d
        return self.restored.copy(), 0.0  # what is shown may be drawn on: the restoration is kept

    def _start_repair(self) -> None:
        """At full decay: restore the damaged print, and make the next film, in the background."""
        if self._repair_job is not None or self.restored is not None:
            return
        damaged, defects = damaged_print(self.film, self.still, self._cycles)
        nxt, size = self._cycles + 1, self._size
        self._repair_job = Background(lambda: (repair(damaged, defects), film_for(self.p, nxt, size)),
                                      "repair")

    def _take_repair(self) -> None:
        """The restoration, waited for if need be; if it failed, the picture stays as it was."""
        if self.restored is not None:
            return
        job, self._repair_job = self._repair_job, None
        try:
            self.restored, self._next_film = job.result()
        except Exception as exc:  # a restorer that raised or hung must not stop the show
            if not self._failed:
                log.error("generations: a restoration failed (%r); the picture stays as it was", exc)
            self._failed = True
            self.restored, self._next_film = self.still, self.film
        self.generation = self._cycles + 1

    def _next_generation(self) -> None:
        """End the cycle: the restoration becomes the still the next generation decays."""
        self._start_repair()
        self._take_repair()
        self.still, self.film, self.restored = self.restored, self._next_film, None
        self._cycles += 1

    def _with_people(self, picture: np.ndarray, live: np.ndarray, d: float, meta: FrameMeta) -> np.ndarray:
        """The live visitors laid over the picture along the person mask's feathered edge, in
        the film's colour and grain but in front of its damage: they walk through the decay."""
        made_from = result_key(meta, self.request.key)
        if made_from != self._weighed_from:
            self._weighed_from = made_from
            mask = meta.results.get(self.request.key, MaskResult)
            people = person_weight(mask, self._size, self.p.threshold, self.p.feather)
            inset = round(self.p.inset * self._size[1])
            if inset > 0:
                people = cv2.erode(people, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * inset + 1,) * 2))
            self._people = np.ascontiguousarray(people, np.float32) if people.max() > 0 else None
        if self._people is None:
            return picture
        if d > 0:
            live = self.film.age(live, d, meta.index, marks=False)
        return cv2.blendLinear(live, picture, self._people, 1.0 - self._people)

    def caption(self) -> str:
        """For the contact sheet: how many restorations the picture shown has been through."""
        return f"generation {self.generation}" if self.still is not None else "gathering the still"

    def close(self) -> None:
        for job in (self._film_job, self._repair_job):
            if job is not None:
                job.end()
        self._film_job = self._repair_job = None  # a running job ends on its own
