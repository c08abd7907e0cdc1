"""A mode: a named, ordered chain of effects built from config, applied to each shown frame.

Effects that need slow analysis (a pose model, a person mask, style keyframes) declare it with
`analyzers(context)`; the mode collects them (one per name) and the pipeline runs them in
worker threads while the mode is shown. If an analyzer cannot start (a missing or corrupt
model), the mode shows a card saying so instead of its picture; the other modes, and the
buttons to reach them, keep working.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from appliance.cards import message_card
from appliance.config import ModeSettings, Settings
from appliance.effects import Effect, create_effect
from appliance.errors import ApplianceError
from appliance.frame import FrameMeta
from appliance.stats import StageTimes, Stopwatch

log = logging.getLogger(__name__)


@dataclass
class AnalysisContext:
    """What analyzers may need: the models, the settings, a writable folder for caches."""

    settings: Settings = field(default_factory=Settings)
    state_dir: Path | None = None
    _store: Any = None

    pose_override: Any = None  # an estimator replaying recorded poses, when the source is a .jsonl

    def pose_estimator(self, follow: bool = True):
        """The pose model as configured, or the recorded poses when replaying a recording."""
        if self.pose_override is not None:
            return self.pose_override
        from appliance.models.pose import create_estimator
        return create_estimator(self.store, self.settings.models.pose, follow=follow)

    @property
    def store(self):
        if self._store is None:
            from appliance.models.manifest import ModelStore
            self._store = ModelStore.from_settings(self.settings.models)
        return self._store


class Mode:
    def __init__(self, name: str, settings: ModeSettings, context: AnalysisContext | None = None):
        self.name = name
        self.description = settings.description
        self.steps: list[tuple[str, Effect]] = []
        self.analyzers: list[Any] = []
        self.error = ""
        self._failed: set[str] = set()
        try:
            for step in settings.effects:
                self.steps.append((f"effect:{step.effect}", create_effect(step.effect, step.params)))
        except Exception:
            self.close()
            raise
        self._collect_analyzers(context or AnalysisContext())

    def _collect_analyzers(self, context: AnalysisContext) -> None:
        names: set[str] = set()
        try:
            for _, effect in self.steps:
                for analyzer in getattr(effect, "analyzers", lambda c: [])(context):
                    if analyzer.name not in names:
                        names.add(analyzer.name)
                        self.analyzers.append(analyzer)
        except ApplianceError as exc:
            self.error = str(exc)
            log.error("mode %s cannot run: %s", self.name, exc)
            for analyzer in self.analyzers:
                analyzer.close()
            self.analyzers = []

    def apply(self, image: np.ndarray, meta: FrameMeta, times: StageTimes) -> np.ndarray:
        """Run each effect in order; one that raises is skipped for this frame and logged once."""
        if self.error:
            h, w = image.shape[:2]
            return message_card(w, h, f"{self.name}: not available", self.error)
        if meta.original is None:
            meta.original = image
        for stage, effect in self.steps:
            with Stopwatch(times, stage):
                try:
                    image = effect.process(image, meta)
                except Exception:
                    if stage not in self._failed:
                        self._failed.add(stage)
                        log.exception("mode %s: %s failed; showing the picture without it",
                                      self.name, stage)
        return image

    def close(self) -> None:
        """Close the effects; the analyzers are closed by the workers that run them."""
        for _, effect in self.steps:
            effect.close()
        self.steps = []
