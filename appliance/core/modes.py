"""A mode: a named, ordered chain of effects built from config, applied to each shown frame.

Each effect declares the analysis it needs (`Effect.stages`); the mode builds one stage per
distinct request (two effects that read the person mask share one mask stage) and the pipeline
runs them in worker threads while the mode is shown. If a stage cannot be built (a missing or
corrupt model), the mode shows a card saying so instead of its picture; the other modes, and the
buttons to reach them, keep working.
"""

from __future__ import annotations

import logging
from typing import Any, Callable

import numpy as np

from appliance.config import ModeSettings
from appliance.core import registry
from appliance.core.cards import message_card
from appliance.core.frame import FrameMeta
from appliance.core.stages import AnalysisContext, Analyzer, Effect, StageRequest
from appliance.core.stats import StageTimes, Stopwatch
from appliance.errors import ApplianceError, ConfigError

log = logging.getLogger(__name__)


def create_effect(name: str, params: Any) -> Effect:
    cls = registry.effect(name)
    if cls is None:
        raise ConfigError([f"effect {name!r}: unknown (expected one of: {', '.join(registry.effect_names())})"])
    return cls(params)


def stage_recipe(request: StageRequest, context: AnalysisContext) -> Callable[[], Analyzer]:
    """A function that builds the stage `request` asks for (again, when the supervisor must)."""
    build = registry.stage_builder(request.kind)
    return lambda: build(request, context)


class Mode:
    def __init__(self, name: str, settings: ModeSettings, context: AnalysisContext | None = None,
                 build_stages: bool = True):
        """`build_stages=False`: the effects only (a mode inside a split, whose stages the
        outer mode builds)."""
        self.name = name
        self.description = settings.description
        self.steps: list[tuple[str, Effect]] = []
        self.analyzers: list[Analyzer] = []  # built once here, so a broken model shows at once
        self.builds: list[Callable[[], Analyzer]] = []  # the same stages' recipes, for rebuilding
        self.error = ""
        self._failed: set[str] = set()
        try:
            for step in settings.effects:
                self.steps.append((f"effect:{step.effect}", create_effect(step.effect, step.params)))
        except Exception:
            self.close()
            raise
        if build_stages:
            self._build_stages(context or AnalysisContext())

    def requests(self, context: AnalysisContext) -> list[StageRequest]:
        """Every stage the effects need, once each, in the order they asked."""
        found: dict[str, StageRequest] = {}
        for _, effect in self.steps:
            for request in effect.stages(context):
                found.setdefault(request.key, request)
        return list(found.values())

    def _build_stages(self, context: AnalysisContext) -> None:
        try:
            for request in self.requests(context):
                build = stage_recipe(request, context)
                self.analyzers.append(build())
                self.builds.append(build)
        except ApplianceError as exc:
            self.error = str(exc)
            log.error("mode %s cannot run: %s", self.name, exc)
            for analyzer in self.analyzers:
                analyzer.close()
            self.analyzers, self.builds = [], []

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
