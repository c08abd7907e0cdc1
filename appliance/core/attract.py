"""The empty room's attract mode: with nobody seen for a mode's `idle_after_s`, another mode
(`attract`, the generated Kandinsky world by default) plays until the first visitor is found.

The chosen mode is never unloaded while the attract plays: its analysis stages keep running
(they are how a visitor is found, and a style mode keeps its keyframes fresh), only its effects
rest. So the frame on which a visitor is first found already shows the chosen mode, with no
model to load. The attract mode's own effects, and those of its stages the pipeline does not
already run (the world's person mask), are built when it starts and let go when it ends.

Time is the frames' own (`meta.t`): a file's frame times, a camera's clock, so an offline
render of a recording attracts exactly where a live run of it would.
"""

from __future__ import annotations

import logging
from typing import Callable

from appliance.config import ModeSettings
from appliance.core.frame import Frame, FrameMeta
from appliance.core.modes import Mode, stage_recipe
from appliance.core.results import PoseResult
from appliance.core.stages import POSE, AnalysisContext
from appliance.core.stats import StageTimes
from appliance.core.workers import AnalysisWorker
from appliance.errors import ApplianceError
from appliance.paint.bodies import people, visible
from appliance.poses.keypoints import KEYPOINTS

log = logging.getLogger(__name__)

MIN_SCORE = 0.3  # a keypoint as sure as the skeleton, trails and world effects draw
BODY = [KEYPOINTS.index(k) for k in ("left_shoulder", "right_shoulder", "left_hip", "right_hip")]
MIN_BODY = 2  # of those four: a torso seen, not a stray hand or a ghost of one keypoint


def someone_in(result: PoseResult | None) -> bool:
    """Whether the pose result shows a person: a track seen in its frame with at least two of
    its shoulders and hips at the effects' drawing score."""
    return any(int(visible(kp, MIN_SCORE)[BODY].sum()) >= MIN_BODY for _, kp in people(result))


class IdleClock:
    """How long nobody has been seen: the time since the first frame of the empty stretch, in
    the frames' own time. A clock that steps back (a camera reconnected starts again at 0)
    keeps the idle time so far."""

    def __init__(self) -> None:
        self.idle_s = 0.0
        self._since: float | None = None  # when the empty stretch began
        self._last_t = 0.0

    def update(self, t: float, someone: bool) -> float:
        if someone:
            self._since = None
        elif self._since is None:
            self._since = t
        elif t < self._last_t:
            self._since = t - self.idle_s
        self._last_t = t
        self.idle_s = 0.0 if self._since is None else t - self._since
        return self.idle_s


class Attract:
    """Decides, frame by frame, whether the attract mode or the chosen mode `name` is shown, and
    owns the attract mode while it plays. `inline`: its stages run on the display thread (offline
    renders), else in workers the caller supervises (`workers`) and joins (`retired`)."""

    def __init__(self, name: str, modes: dict[str, ModeSettings], context: AnalysisContext,
                 times: StageTimes, inline: bool = False):
        chosen = modes[name]
        self.chosen = name
        self.after_s = chosen.idle_after_s
        self.name = chosen.attract
        self.enabled = self.after_s > 0 and self.name in modes and self.name != name
        self._settings = modes.get(self.name)
        self.context, self.times, self.inline = context, times, inline
        self.clock = IdleClock()
        self.mode: Mode | None = None
        self.workers: list[AnalysisWorker] = []
        self.retired: list[AnalysisWorker] = []
        self._gave_up = False  # the attract mode could not be built: not again until a visitor

    @property
    def playing(self) -> bool:
        return self.mode is not None

    def update(self, meta: FrameMeta, running: set[str]) -> bool:
        """Whether this frame shows the attract mode, from the newest pose result in `meta`;
        starts it after `after_s` of nobody (building what `running` stages lack), ends it on
        the first frame with someone."""
        if not self.enabled:
            return False
        someone = someone_in(meta.results.get(POSE.key, PoseResult))
        idle = self.clock.update(meta.t, someone)
        if someone:
            self._gave_up = False
            if self.playing:
                log.info("attract: visitor found, back to %s", self.chosen)
                self.close()
        elif not self.playing and not self._gave_up and idle >= self.after_s:
            self._start(idle, running)
        return self.playing

    def analyse(self, frame: Frame, put: Callable[[AnalysisWorker], None]) -> None:
        """Hand the frame to the attract mode's own stages (or run them, inline); `put` moves
        each one's newest result into the frame's record, as the pipeline does for its own."""
        for worker in self.workers:
            if self.inline:
                worker.run_inline(frame)
            else:
                worker.inbox.put(frame)
            put(worker)

    def _start(self, idle: float, running: set[str]) -> None:
        try:
            mode = Mode(self.name, self._settings, self.context, build_stages=False)
        except ApplianceError as exc:
            self._give_up(exc)
            return
        self.mode = mode
        try:
            for request in mode.requests(self.context):
                if request.key not in running | {w.key for w in self.workers}:
                    self.workers.append(AnalysisWorker(stage_recipe(request, self.context), self.times))
        except ApplianceError as exc:
            self.close()
            self._give_up(exc)
            return
        if not self.inline:
            for worker in self.workers:
                worker.start()
        log.info("attract: room empty for %.0f s, playing %s", idle, self.name)

    def _give_up(self, exc: ApplianceError) -> None:
        self._gave_up = True
        log.error("attract: %s cannot play (%s); %s stays on", self.name, exc, self.chosen)

    def close(self) -> None:
        """End the attract mode: its effects closed, its stages stopped without waiting (a
        model busy on a frame must not hold the display; `retired` are joined at shutdown)."""
        for worker in self.workers:
            worker.stop()
        self.retired = [w for w in self.retired + self.workers if w.alive]
        self.workers = []
        if self.mode is not None:
            self.mode.close()
            self.mode = None
