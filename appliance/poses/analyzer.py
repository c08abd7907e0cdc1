"""The pose stage of the live pipeline: model -> tracks -> pose events -> reactions and OSC.

It runs as an analysis worker beside the display loop (on the newest frame, never holding the
picture up). Its result, `PoseResult`, is what effects draw from (`meta.results["pose"]`);
its events switch modes through `on_action`, which the pipeline binds to its own thread-safe
mode switch, and go out over OSC when that is on.
"""

from __future__ import annotations

import collections
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from appliance.config import PoseSettings, Settings
from appliance.errors import ConfigError
from appliance.frame import FrameMeta
from appliance.poses.events import PoseEvent
from appliance.poses.rules import DEFAULT_RULES, load_rules
from appliance.poses.teach import PoseExamples, teach_from_frames
from appliance.poses.tracking import Track
from appliance.poses.watch import PoseWatcher

log = logging.getLogger(__name__)


@dataclass
class PoseResult:
    tracks: list[Track]
    smoothed: dict[int, np.ndarray]
    events: list[PoseEvent]
    active: dict[int, list[str]] = field(default_factory=dict)


def examples_file(settings: PoseSettings, state_dir: Path) -> Path:
    return Path(settings.examples) if settings.examples else state_dir / "taught-poses.json"


def load_examples(settings: PoseSettings, state_dir: Path) -> PoseExamples:
    path = examples_file(settings, state_dir)
    if not path.exists():
        return PoseExamples()
    try:
        return PoseExamples.load(path)
    except ConfigError as exc:
        log.error("taught poses: %s; recognising named poses only", exc.problems[0])
        return PoseExamples()


class Reactions:
    """Turns pose events into actions: "3 people arms_up -> next_mode" fires once when the
    third person's arms go up, and may fire again only after the crowd has come apart."""

    def __init__(self, settings: PoseSettings, on_action: Callable[[str], None]):
        self.rules = settings.reactions
        self.on_action = on_action
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
                log.info("reaction: %d holding %s -> %s", len(people), rule.pose, rule.action)
                self.on_action(rule.action)
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


class PoseAnalyzer:
    name = "pose"

    def __init__(self, estimator, watcher: PoseWatcher, reactions: Reactions | None = None,
                 osc=None, examples_path: Path | None = None):
        self.estimator = estimator
        self.watcher = watcher
        self.reactions = reactions
        self.osc = osc
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
        from appliance.poses.recording import RecordedFrame
        if not self.lesson.add(RecordedFrame(meta.index, meta.t, poses)):
            return
        lesson, self.lesson = self.lesson, None
        try:
            self.watcher.examples = lesson.finish()
            log.info("taught %s (saved to %s)", lesson.name, lesson.path)
        except ConfigError as exc:
            log.error("teaching %s failed: %s", lesson.name, exc.problems[0])

    def analyze(self, image: np.ndarray, meta: FrameMeta) -> PoseResult:
        if self.osc:
            self.osc.frame_size = (image.shape[1], image.shape[0])
        poses = self.estimator.estimate(image)
        if self.lesson is not None:
            self._learn(meta, poses)
        events = self.watcher.update(meta.index, meta.t, poses)
        for event in events:
            log.info("pose %s: track %d %s", event.event, event.track, event.pose)
            if self.reactions:
                self.reactions.handle(event)
            if self.osc:
                self.osc.send_event(event)
        if self.osc:
            for track_id, keypoints in self.watcher.smoothed.items():
                self.osc.send_keypoints(track_id, keypoints, meta.t)
        active = {t.id: self.watcher.events.active(t.id) for t in self.watcher.tracks}
        return PoseResult(list(self.watcher.tracks), dict(self.watcher.smoothed), events, active)

    def close(self) -> None:
        self.estimator = None  # let the model go: the store frees what no stage holds
        if self.osc:
            self.osc.close()


def create_pose_analyzer(settings: Settings, state_dir: Path,
                         on_action: Callable[[str], None] = lambda action: None,
                         estimator=None) -> PoseAnalyzer:
    """The pose stage as configured (or fed by `estimator`, e.g. a replayed recording);
    ModelError/ConfigError name what is wrong. Reactions call `on_action`; the runner points
    it at its pipeline once that exists."""
    from appliance.models.manifest import ModelStore
    from appliance.models.pose import create_estimator

    p = settings.poses
    rules = load_rules(p.rules or DEFAULT_RULES)
    watcher = PoseWatcher(rules, p.mirror, examples=load_examples(p, state_dir))
    examples_path = examples_file(p, state_dir)
    estimator = estimator or create_estimator(ModelStore.from_settings(settings.models),
                                              settings.models.pose, follow=True)
    osc = None
    if p.osc.enabled:
        from appliance.poses.osc import OscSender  # python-osc only when OSC is on
        osc = OscSender(p.osc.host, p.osc.port, (1, 1), keypoint_rate=p.osc.keypoints_hz)
    return PoseAnalyzer(estimator, watcher, Reactions(p, on_action) if p.reactions else None, osc,
                        examples_path)
