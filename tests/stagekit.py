"""Stages as the pipeline builds them, for tests that drive effects and stages by hand."""

from __future__ import annotations

from dataclasses import dataclass

from appliance.core.frame import FrameMeta
from appliance.core.modes import stage_recipe
from appliance.core.stages import AnalysisContext
from appliance.errors import ModelError


def built_stages(effect, context: AnalysisContext) -> list:
    """The stages `effect` declares, built by the registry as a mode builds them."""
    return [stage_recipe(request, context)() for request in effect.stages(context)]


def analyse_into(stages, frame, meta: FrameMeta) -> FrameMeta:
    """Run each stage on `frame` and publish its result in `meta` (an offline render's step)."""
    for stage in stages:
        meta.results.put(stage.name, stage.analyze(frame, FrameMeta(meta.index, meta.t, 0.0)),
                         meta.index)
    return meta


class NeedsAModel:
    """A test effect whose analysis cannot be built: its model is missing (a ModelError), the way
    a deleted or corrupt .tflite makes a mode unavailable."""

    name = "needs-model"

    @dataclass
    class Params:
        pass

    def __init__(self, params):
        pass

    def stages(self, context):
        raise ModelError("movenet_thunder: models_tflite/movenet_thunder_int8.tflite is missing")

    def process(self, image, meta):
        return image

    def close(self):
        pass
