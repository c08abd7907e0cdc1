"""The pose stage: model -> tracks -> pose events -> reactions and OSC.

It runs as an analysis worker beside the display loop (on the newest frame, never holding the
picture up). Its result, `PoseResult`, is what effects draw from (`meta.results` under "pose");
its events switch modes through `on_action`, which the runner binds to the pipeline's own
thread-safe actions, and go out over OSC when that is on. `build_pose_stage` is the one place
it is built: for the [poses] section (with reactions and OSC) and for a mode's effects alike.
A frame that brings its own poses (a recorded pose stream) is not given to the model.
"""

from __future__ import annotations

import collections
import logging
import time
from pathlib import Path
from typing import Callable

import numpy as np

from appliance import paths
from appliance.config import PoseSettings, Settings
from appliance.core.frame import FrameMeta
from appliance.core.registry import register_stage
from appliance.core.results import PoseResult
from appliance.core.stages import AnalysisContext, StageRequest
from appliance.errors import ConfigError
from appliance.poses.events import PoseEvent
from appliance.poses.keypoints import box_area
from appliance.poses.recording import RecordedFrame
from appliance.poses.rules import load_rules
from appliance.poses.teach import PoseExamples, teach_from_frames
from appliance.poses.watch import PoseWatcher

log = logging.getLogger(__name__)

STILL_SCORE = 0.3  # a pose this sure keeps its place in the next frame's crops, moving or not
WHOLE_FRAME = 0.5  # a region over half the frame (no background learned yet): look at all of it


def load_examples(settings: PoseSettings, state_dir: Path | None) -> PoseExamples:
    """The taught poses (none, with one error line, when the file is damaged)."""
    path = paths.taught_poses(settings.examples, state_dir)
    if not path.exists():
        return PoseExamples()
    try:
        return PoseExamples.load(path)
    except ConfigError as exc:
        log.error("taught poses: %s; recognising named poses only", exc.problems[0])
        return PoseExamples()


class Reactions:
    """Turns pose events into actions: "3 people arms_up -> next_mode" fires once when the
    third person's arms go up, and may fire again only after the crowd has come apart. A
    reaction of `scope = "show"` goes to `on_show_action` (this box and every box of the show)."""

    def __init__(self, settings: PoseSettings, on_action: Callable[[str], None],
                 on_show_action: Callable[[str], None] | None = None):
        self.rules = settings.reactions
        self.on_action = on_action
        self.on_show_action = on_show_action or on_action
        self.holding: dict[str, set[int]] = collections.defaultdict(set)
        self.fired: set[int] = set()

    def handle(self, event: PoseEvent) -> None:
        people = self.holding[event.pose]
        (people.add if event.event == "start" else people.discard)(event.track)
        for i, rule in enumerate(self.rules):
            if rule.pose != event.pose:
                continue
            if len(people) >= rule.people and i not in self.fired:
                self.fired.add(i)
                log.info("reaction: %d holding %s -> %s%s", len(people), rule.pose, rule.action,
                         " (the whole show)" if rule.scope == "show" else "")
                (self.on_show_action if rule.scope == "show" else self.on_action)(rule.action)
            elif len(people) < rule.people:
                self.fired.discard(i)


class Lesson:
    """Collects one person's pose for a few seconds, then saves it as a taught pose."""

    def __init__(self, name: str, seconds: float, path: Path, mirror: bool):
        self.name, self.seconds, self.path, self.mirror = name, seconds, path, mirror
        self.frames: list = []

    def add(self, frame) -> bool:
        """Keep the frame; True once the lesson has lasted long enough."""
        self.frames.append(frame)
        return frame.t - self.frames[0].t >= self.seconds

    def finish(self) -> PoseExamples:
        teach_from_frames(self.name, iter(self.frames), self.path, self.seconds, self.mirror)
        return PoseExamples.load(self.path)


class PoseStage:
    """The analysis stage "pose"; `estimator` is None when every frame brings its own poses."""

    name = "pose"

    def __init__(self, estimator, watcher: PoseWatcher, reactions: Reactions | None = None,
                 osc=None, examples_path: Path | None = None,
                 on_event: Callable[[PoseEvent], None] | None = None):
        """`on_event`: told every pose event too (the show, when the box plays in one)."""
        self.estimator = estimator
        self.watcher = watcher
        self.reactions = reactions
        self.osc = osc
        self.on_event = on_event
        self.examples_path = examples_path
        self.lesson: Lesson | None = None

    def teach(self, seconds: float = 2.0) -> str:
        """Learn the pose the largest visitor holds over the next `seconds` (the long press)."""
        taught = self.watcher.examples.examples if self.watcher.examples else {}
        name = f"taught-{len(taught) + 1}"
        self.lesson = Lesson(name, seconds, self.examples_path, self.watcher.mirror)
        log.info("teaching %s: hold the pose for %g s", name, seconds)
        return name

    @property
    def teaching(self) -> bool:
        return self.lesson is not None

    def _learn(self, meta: FrameMeta, poses) -> None:
        if not self.lesson.add(RecordedFrame(meta.index, meta.t, poses)):
            return
        lesson, self.lesson = self.lesson, None
        try:
            self.watcher.examples = lesson.finish()
            log.info("taught %s (saved to %s)", lesson.name, lesson.path)
        except ConfigError as exc:
            log.error("teaching %s failed: %s", lesson.name, exc.problems[0])

    def analyze(self, image: np.ndarray, meta: FrameMeta) -> PoseResult:
        poses = self._poses(image, meta)
        if self.lesson is not None:
            self._learn(meta, poses)
        events = self.watcher.update(meta.index, meta.t, poses)
        for event in events:
            log.info("pose %s: track %d %s", event.event, event.track, event.pose)
            if self.reactions:
                self.reactions.handle(event)
            if self.on_event:
                self.on_event(event)
        if self.osc:
            self._send_osc(image, events, meta.t)
        active = {t.id: self.watcher.events.active(t.id) for t in self.watcher.tracks}
        return PoseResult(list(self.watcher.tracks), dict(self.watcher.smoothed), events, active)

    def _poses(self, image: np.ndarray, meta: FrameMeta) -> list:
        """The poses that came with the frame, else the model's (nobody, without a model)."""
        if meta.poses is not None:
            return meta.poses
        return self.estimator.estimate(image) if self.estimator is not None else []

    def _send_osc(self, image: np.ndarray, events: list[PoseEvent], t: float) -> None:
        self.osc.frame_size = (image.shape[1], image.shape[0])
        for event in events:
            self.osc.send_event(event)
        for track_id in self.watcher.tracker.dropped:
            self.osc.forget(track_id)  # its rate limit goes with it: the dict stays small
        for track_id, keypoints in self.watcher.smoothed.items():
            self.osc.send_keypoints(track_id, keypoints, t)

    def close(self) -> None:
        self.estimator = None  # let the model go: the store frees what no stage holds
        if self.osc:
            self.osc.close()


def build_pose_stage(settings: Settings, state_dir: Path | None, estimator=None,
                     on_action: Callable[[str], None] | None = None,
                     on_show_action: Callable[[str], None] | None = None,
                     on_event: Callable[[PoseEvent], None] | None = None) -> PoseStage:
    """The pose stage: `estimator` finds the poses (None: the frames bring their own); with
    `on_action`, the [poses] reactions, taught poses and OSC are on too (the pipeline-wide
    stage), without it the stage only tracks (a mode's own, when [poses] is off). Show-wide
    reactions go to `on_show_action` and every event to `on_event` (a show of several boxes).
    ModelError/ConfigError name what is wrong."""
    p = settings.poses
    rules = load_rules(p.rules)
    if on_action is None:
        return PoseStage(estimator, PoseWatcher(rules, p.mirror))
    watcher = PoseWatcher(rules, p.mirror, examples=load_examples(p, state_dir))
    osc = None
    if p.osc.enabled:
        from appliance.poses.osc import OscSender  # python-osc only when OSC is on
        osc = OscSender(p.osc.host, p.osc.port, (1, 1), keypoint_rate=p.osc.keypoints_hz)
    reactions = Reactions(p, on_action, on_show_action) if p.reactions else None
    return PoseStage(estimator, watcher, reactions, osc, paths.taught_poses(p.examples, state_dir), on_event)


def pose_estimator(context: AnalysisContext, follow: bool = True):
    """The configured pose model, or None when the source brings its own poses. With `follow`
    (the live stage), a single-person model follows its person with crops, and the multi-person
    model looks where people move (`[models] pose_crops = "motion"`)."""
    if context.recorded_poses:
        return None
    from appliance.models.pose import create_estimator
    models = context.settings.models
    estimator = create_estimator(context.store, models.pose, follow=follow)
    multi = context.store.entries[models.pose].task == "pose_multi"  # known: create_estimator checked
    if not (follow and multi and models.pose_crops == "motion"):
        return estimator
    from appliance.analysis.motion import MotionRegions
    return RegionPose(estimator, context.kept("motion-regions", MotionRegions))  # outlives a mode switch


class RegionPose:
    """The multi-person model shown where people are: the moving regions of the frame and the
    poses found in the previous one (visitors who stopped moving), cropped and packed into one
    input, for the cost of the one invoke the whole frame costs. With nobody there (an empty
    room), or with most of the frame moving (the first frames, before the room is learned, or the
    light changing), it looks at the whole frame."""

    def __init__(self, model, motion=None):
        from appliance.analysis.motion import MotionRegions
        from appliance.models.mosaic import Mosaic
        self.model = model
        self.name = model.name
        self.motion = motion or MotionRegions()
        self.mosaic = Mosaic(model)
        self.last: list = []
        self.regions_ms = 0.0

    def estimate(self, image_bgr: np.ndarray, region=None) -> list:
        started = time.perf_counter()
        regions = self.motion.regions(image_bgr, [p.box for p in self.last if p.score >= STILL_SCORE])
        self.regions_ms = (time.perf_counter() - started) * 1000.0  # for the bench
        h, w = image_bgr.shape[:2]
        if not regions or box_area(regions[0]) > WHOLE_FRAME * w * h:  # nobody, or the light changed
            poses = self.model.estimate(image_bgr)
        else:
            poses = self.mosaic.estimate(image_bgr, regions)
        self.last = poses
        return poses


@register_stage("pose")
def build(request: StageRequest, context: AnalysisContext) -> PoseStage:
    """A mode's pose stage (the effects' "pose" request), built as the [poses] one is."""
    return build_pose_stage(context.settings, context.state_dir, pose_estimator(context))
