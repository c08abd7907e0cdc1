"""A mode: a named, ordered chain of effects built from config, applied to each shown frame."""

from __future__ import annotations

import logging

import numpy as np

from appliance.config import ModeSettings
from appliance.effects import Effect, create_effect
from appliance.frame import FrameMeta
from appliance.stats import StageTimes, Stopwatch

log = logging.getLogger(__name__)


class Mode:
    def __init__(self, name: str, settings: ModeSettings):
        self.name = name
        self.description = settings.description
        self.steps: list[tuple[str, Effect]] = []
        try:
            for step in settings.effects:
                self.steps.append((f"effect:{step.effect}", create_effect(step.effect, step.params)))
        except Exception:
            self.close()
            raise
        self._failed: set[str] = set()

    def apply(self, image: np.ndarray, meta: FrameMeta, times: StageTimes) -> np.ndarray:
        """Run each effect in order; one that raises is skipped for this frame and logged once."""
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
        for _, effect in self.steps:
            effect.close()
        self.steps = []
