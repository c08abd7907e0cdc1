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
from appliance.poses.teach import PoseExamples
from appliance.poses.tracking import Track
from appliance.poses.watch import PoseWatcher

log = logging.getLogger(__name__)


@dataclass
class PoseResult:
    tracks: list[Track]
    smoothed: dict[int, np.ndarray]
    events: list[PoseEvent]
    active: dict[int, list[str]] = field(default_factory=dict)


def load_examples(settings: PoseSettings, state_dir: Path) -> PoseExamples:
    path = Path(settings.examples) if settings.examples else state_dir / "taught-poses.json"
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


class PoseAnalyzer:
    name = "pose"

    def __init__(self, estimator, watcher: PoseWatcher, reactions: Reactions | None = None,
                 osc=None):
        self.estimator = estimator
        self.watcher = watcher
        self.reactions = reactions
        self.osc = osc

    def analyze(self, image: np.ndarray, meta: FrameMeta) -> PoseResult:
        if self.osc:
            self.osc.frame_size = (image.shape[1], image.shape[0])
        poses = self.estimator.estimate(image)
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
        if self.osc:
            self.osc.close()


def create_pose_analyzer(settings: Settings, state_dir: Path,
                         on_action: Callable[[str], None]) -> PoseAnalyzer:
    """The pose stage as configured; ModelError/ConfigError name what is wrong."""
    from appliance.inference.manifest import ModelStore
    from appliance.inference.pose import create_estimator
    from appliance.poses.osc import OscSender

    p = settings.poses
    rules = load_rules(p.rules or DEFAULT_RULES)
    watcher = PoseWatcher(rules, p.mirror, examples=load_examples(p, state_dir))
    estimator = create_estimator(ModelStore.from_settings(settings.models), settings.models.pose)
    osc = (OscSender(p.osc.host, p.osc.port, (1, 1), keypoint_rate=p.osc.keypoints_hz)
           if p.osc.enabled else None)
    return PoseAnalyzer(estimator, watcher, Reactions(p, on_action) if p.reactions else None, osc)
