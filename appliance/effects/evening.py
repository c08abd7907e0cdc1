"""The evening's painting: everyone's movement, stroke over stroke, on one canvas all evening.

A long exposure in paint. Every visitor's hands and feet drag a flat bristle brush loaded with
their own colour, and their hips lay a broad, thin glaze along the way they walked; nothing
fades, so over minutes and hours the canvas gathers where people went, densest where they
lingered. The colours are the style picture's own (`kandinsky` by default: its yellow, orange,
reds, blues and green, lifted a little so they glow), the ground is the picture's own ground
colour (Kandinsky's mauve) at dusk brightness.

Why a dark ground with the room faintly in it, and not paper: the piece is shown in the evening
in a dim room, where a bright screen glares and a long exposure is, by habit, dark with light
drawn into it; and visitors must find themselves to paint on purpose, so the camera picture
shows through the ground at `room` strength (0.3: a shadow of the room, never competing with
the paint). The kept and saved painting is the paint on the plain ground: no camera picture,
so no visitor's face is ever stored.

Per frame this costs one blend (see `appliance.paint.exposure`); strokes are laid only when a
new pose result arrives (`appliance.paint.strokes`, shared with `trails`), one patch per
visitor. The canvas outlives the effect: with a state folder (the service's) it is kept there
(`appliance.paint.album`) every `keep_every_s` seconds of frame time while it changes, when the
effect closes (a mode switch, a reload, a stop) and when a painting is saved, and taken back
when the effect starts; so it survives mode switches and restarts. It is cleared when the wall
clock passes `clear_at` (local time, once a day), including while nothing ran. PNGs are
encoded and written on one writer thread; the display loop waits for it only when the effect
closes, as the next effect reads the file. Without a state folder (`appliance run`, `render`,
the bench) nothing is kept: the painting lives as long as the mode is shown.
"""

from __future__ import annotations

import logging
import math
import re
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable

import numpy as np

from appliance import paths
from appliance.config.schema import setting
from appliance.core.frame import FrameMeta
from appliance.core.lazy import cv2
from appliance.core.registry import register_effect
from appliance.core.results import PoseResult
from appliance.core.stages import POSE, AnalysisContext, StageRequest
from appliance.errors import PaintingError
from appliance.paint import album
from appliance.paint.bodies import FrameBuffer, pose_result
from appliance.paint.exposure import Bristles, Exposure, Patch, band_quads, bgra_of, bristle_count, painting_of
from appliance.paint.palette import DISTINCT, PicturePalette, picture_palette
from appliance.paint.strokes import (
    Segment,
    StrokeFollower,
    max_jump_setting,
    min_score_setting,
    points_setting,
    stroke_width,
)
from appliance.poses.keypoints import KEYPOINTS
from appliance.styles.sources import StyleError, find_style_image

log = logging.getLogger(__name__)

HHMM = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")
DUSK = 0.32          # the ground: the style picture's ground colour at this brightness
GLOW = 200           # palette colours are lifted to at least this HSV value, to show on the dusk
WASH_POINTS = ("left_hip", "right_hip")
WASH_WIDTH = 0.3     # of the body's size: the glaze a body lays along its path


def _check_clear_at(text: str) -> str | None:
    return None if text == "" or HHMM.fullmatch(text) else f"{text[:20]!r} is not a time of day"


def _check_style(text: str) -> str | None:
    return None if text.strip() else "empty style"


def next_clear(after: float, clear_at: str) -> float:
    """The first moment after `after` (seconds since the epoch) at which the local clock reads
    `clear_at` ("HH:MM"); infinity for "" (never)."""
    if not clear_at:
        return math.inf
    hour, minute = (int(v) for v in clear_at.split(":"))
    day = datetime.fromtimestamp(after)
    for days in (0, 1, 2):  # 2: a day 25 h long, when the clocks go back
        at = (day + timedelta(days=days)).replace(hour=hour, minute=minute, second=0, microsecond=0)
        if at.timestamp() > after:
            return at.timestamp()
    return math.inf


def glowing(palette: PicturePalette) -> tuple[tuple[int, int, int], ...]:
    """The palette's colours that differ from its ground, lifted to at least GLOW brightness
    (hue and saturation kept): on the dusk ground a dark blue would be lost."""
    ground = np.array(palette.ground, np.float64)
    far = [c for c in palette.colours if np.linalg.norm(np.array(c) - ground) >= DISTINCT] or list(palette.colours)
    hsv = cv2.cvtColor(np.array([far], np.uint8), cv2.COLOR_BGR2HSV)
    hsv[..., 2] = np.maximum(hsv[..., 2], GLOW)
    return tuple(tuple(int(v) for v in c) for c in cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)[0])


def loaded(speed: float) -> float:
    """How much paint a stroke leaves, 0.45-1: a slow hand lays it thick, a fast flick dry."""
    return 0.45 + 0.55 / (1.0 + max(speed, 0.0))


@register_effect
class Evening:
    name = "evening"

    @dataclass
    class Params:
        points: list[str] = points_setting()
        width: float = setting(2.5, min=0.5, max=8.0, help="brush width, times 2.5-7.5 % of body size")
        opacity: float = setting(0.7, min=0.05, max=1.0, help="how much a slow, loaded stroke covers")
        wash: float = setting(0.1, min=0.0, max=1.0,
                              help="how much the glaze each body lays along its path covers (0: none)")
        room: float = setting(0.3, min=0.0, max=0.9,
                              help="how much of the camera picture shows through the ground (0: none)")
        style: str = setting("kandinsky", check=_check_style,
                             help="the picture whose colours paint: a name in styles_dir or the "
                                  "shipped styles, or a path")
        styles_dir: str = setting("", help="folder of style pictures; empty: the shipped ones")
        clear_at: str = setting("06:00", check=_check_clear_at,
                                expected='"HH:MM" (24 h, local time), or "" for never',
                                help="the canvas is cleared when the clock passes this time each day")
        keep_every_s: float = setting(60.0, min=5.0, max=3600.0,
                                      help="seconds of frame time between keeping the canvas in the "
                                           "state folder while it changes (and at every close)")
        mirrored: bool = setting(True, help="the mode ends with mirror: the canvas is kept and saved "
                                            "flipped left-right, as the screen shows it")
        min_score: float = min_score_setting()
        max_jump: float = max_jump_setting()

        def problems(self) -> list[str]:
            """The style picture must be there for the mode to start."""
            try:
                find_style_image(self.style, self.styles_dir)
            except StyleError as exc:
                return [f"style: {exc}"]
            return []

    def __init__(self, params: "Evening.Params", clock: Callable[[], float] = time.time):
        """`clock`: the wall clock (seconds since the epoch) the clear hour and saved names follow."""
        self.p = params
        self.clock = clock
        palette = picture_palette(find_style_image(params.style, params.styles_dir))
        self.ground = tuple(int(round(v * DUSK)) for v in palette.ground)
        self.colours = glowing(palette)
        washed = WASH_POINTS if params.wash > 0 else ()
        self.follower = StrokeFollower([*params.points, *(n for n in washed if n not in params.points)],
                                       params.min_score, params.max_jump)
        self.brushed = {KEYPOINTS.index(n) for n in params.points if n in KEYPOINTS}
        self.washed = {KEYPOINTS.index(n) for n in washed}
        self.bristles = Bristles()
        self.out = FrameBuffer()
        self.canvas: Exposure | None = None
        self.kept_path: Path | None = None  # where the canvas is kept (None: no state folder)
        self.paintings = paths.paintings_dir(None)
        self.next_clear = math.inf
        self._kept_t: float | None = None  # frame time the canvas was last kept
        self._unkept = False  # painted since it was last kept
        self._writer: ThreadPoolExecutor | None = None
        self._keeping: Future | None = None
        self._troubles: set[str] = set()  # what was logged already (once each)

    def stages(self, context: AnalysisContext) -> list[StageRequest]:
        """The state folder comes with the context: a canvas is kept only where one was given
        (the service, tests), so offline renders and benchmarks never read an old evening."""
        if context.state_dir is not None:
            self.kept_path = album.canvas_path(Path(context.state_dir))
        self.paintings = paths.paintings_dir(context.state_dir)
        return [POSE]

    def process(self, image: np.ndarray, meta: FrameMeta) -> np.ndarray:
        if image.ndim != 3 or image.shape[2] != 3 or image.size == 0:
            return image
        now = self.clock()
        self._prepare(image.shape[0], image.shape[1], now)
        if now >= self.next_clear:
            self.clear(now)
        result = pose_result(meta)
        if result is not None and self.follower.is_new(meta):
            self.paint(result, float(meta.t))
        self._keep_now_and_then(float(meta.t), now)
        return self.canvas.show(image, self.out.like(image))

    # -- the canvas -------------------------------------------------------------------------
    def _prepare(self, h: int, w: int, now: float) -> None:
        """The canvas for this frame size: the one painted so far (kept, or of another size,
        resized), unless the clear hour passed since it was painted."""
        if self.canvas is not None and self.canvas.shape == (h, w):
            return
        old = self.canvas
        self.canvas = Exposure(h, w, self.ground, self.p.room)
        self.follower.reset()
        if old is not None:
            self.canvas.load_bgra(bgra_of(*old.copy()))
            return
        kept, since = self._read_kept(), now
        if kept is not None and next_clear(kept[1], self.p.clear_at) <= now:
            log.info("evening: the kept canvas is from before %s; starting a new one", self.p.clear_at)
            album.forget_canvas(self.kept_path)
        elif kept is not None:
            self.canvas.load_bgra(self._as_painted(kept[0]))
            since = kept[1]
        self.next_clear = next_clear(since, self.p.clear_at)

    def _read_kept(self) -> tuple[np.ndarray, float] | None:
        if self.kept_path is None:
            return None
        try:
            return album.read_canvas(self.kept_path)
        except PaintingError as exc:
            self._trouble(f"{exc}; starting a new canvas")
            return None

    def _as_painted(self, image: np.ndarray) -> np.ndarray:
        """Between the canvas (camera's orientation) and the kept files (the screen's)."""
        return np.ascontiguousarray(image[:, ::-1]) if self.p.mirrored else image

    def clear(self, now: float) -> None:
        """A new evening: a blank canvas, and no canvas kept until something is painted."""
        log.info("evening: %s passed; the canvas is cleared", self.p.clear_at)
        self.canvas.clear()
        self._unkept = False
        if self.kept_path is not None:
            self._submit(album.forget_canvas, self.kept_path)  # after any write still under way
        self.next_clear = next_clear(now, self.p.clear_at)

    # -- painting ---------------------------------------------------------------------------
    def paint(self, result: PoseResult, t: float) -> None:
        """Lay what the new result adds: each visitor's glaze, then their brush strokes over it,
        in one patch per visitor. The geometry of every stroke is computed at once."""
        segments = [s for s in self.follower.follow(result, t) if s.a != s.b]  # a brush paints
        # by being dragged: where a point is first seen (or leapt to) it only touches down, so
        # a keypoint flickering in and out far away stamps nothing
        glazed = [s for s in segments if s.point in self.washed]
        brushed = [s for s in segments if s.point in self.brushed]
        if not brushed + glazed:
            return
        quads, alphas, tracks = self._strokes(brushed, glazed)
        for track in dict.fromkeys(tracks.tolist()):
            mine = tracks == track
            patch = Patch.of(quads[mine], alphas[mine], self.colours[track % len(self.colours)],
                             self.canvas.shape)
            if patch is not None:
                self.canvas.lay(patch)
                self._unkept = True

    def _strokes(self, brushed: list[Segment], glazed: list[Segment]):
        """Every band the segments paint (glazes first), its coverage (0-255) and its track."""
        every = glazed + brushed
        brushes = [self.bristles.of(s.track, s.point) for s in every]
        glazes = len(glazed)
        width = np.array([s.size * WASH_WIDTH for s in glazed]
                         + [stroke_width(s.size, s.speed, self.p.width) for s in brushed], np.float64)
        n = np.concatenate([np.ones(glazes, np.int64), bristle_count(width[glazes:])])
        quads, owner, place = band_quads(np.array([s.a for s in every], np.float64),
                                         np.array([s.b for s in every], np.float64),
                                         np.array([b.nib for b in brushes]), width, n)
        strength = np.array([self.p.wash * 255.0] * glazes
                            + [self.p.opacity * loaded(s.speed) * 255.0 for s in brushed])
        loads = np.array([b.loads for b in brushes])
        loads[:glazes] = 1.0
        tracks = np.array([s.track for s in every])
        return quads, strength[owner] * loads[owner, place], tracks[owner]

    # -- keeping and saving -----------------------------------------------------------------
    def _keep_now_and_then(self, t: float, now: float) -> None:
        if self._kept_t is None or t < self._kept_t:  # the first frame, or a source started again
            self._kept_t = t
        if self._unkept and t - self._kept_t >= self.p.keep_every_s and not self._busy():
            self.keep(now)
            self._kept_t = t

    def _busy(self) -> bool:
        """A keep still being written (a slow card): the next one waits rather than queues."""
        return self._keeping is not None and not self._keeping.done()

    def keep(self, now: float) -> None:
        """Keep the canvas in the state folder (written on the writer thread)."""
        if self.kept_path is None or self.canvas is None:
            return
        self._keeping = self._submit(self._write_canvas, self.kept_path, self.canvas.copy(), now)
        self._unkept = False

    def save_painting(self) -> bool:
        """Save the painting as it is now as a PNG named by the time (False: nothing painted)."""
        if self.canvas is None or not self.canvas.painted:
            return False
        now = self.clock()
        self._submit(self._write_painting, self.canvas.copy(), now)
        self.keep(now)  # `appliance snapshot` without the service then finds this evening too
        return True

    def _write_canvas(self, path: Path, state: tuple, when: float) -> None:
        album.write_canvas(path, self._as_painted(bgra_of(*state)), when)

    def _write_painting(self, state: tuple, when: float) -> None:
        path = album.save_painting(self.paintings, self._as_painted(painting_of(*state)), when)
        log.info("evening: painting saved to %s", path)

    def _submit(self, job: Callable, *args) -> Future:
        if self._writer is None:
            self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="evening-writer")
        return self._writer.submit(self._guarded, job, *args)

    def _guarded(self, job: Callable, *args) -> None:
        """A full or read-only disk must not stop the painting: logged once per kind of trouble."""
        try:
            job(*args)
        except (OSError, PaintingError) as exc:
            self._trouble(f"cannot write ({exc})")

    def _trouble(self, text: str) -> None:
        if text not in self._troubles:
            self._troubles.add(text)
            log.error("evening: %s", text)

    def flush(self, timeout: float = 10.0) -> None:
        """Wait until everything asked of the writer so far is written (one worker: in order)."""
        if self._writer is not None:
            self._writer.submit(lambda: None).result(timeout)

    def close(self) -> None:
        """Keep what was painted since the last keep, and wait for the writer to finish: the
        next effect (a mode switch, a reload) reads the canvas from the file."""
        if self.canvas is not None and self._unkept:
            self.keep(self.clock())
        if self._writer is not None:
            self._writer.shutdown(wait=True)
            self._writer = None
        self.canvas = None
        self.out = FrameBuffer()
