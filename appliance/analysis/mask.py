"""The mask stage: where people are, as a per-pixel probability, from a segmentation model.

One stage per model ("mask:meet"), whichever effects read it: the style modes' people/room
masks, the split effect and the anonymizer all share it. The result (`MaskResult`) stays at the
model's resolution (a new array each frame, handed to the display thread); each effect
stretches it to the size it works at, so the stage never makes a full-frame float copy.
"""

from __future__ import annotations

import numpy as np

from appliance.core.frame import FrameMeta
from appliance.core.registry import register_stage
from appliance.core.results import MaskResult
from appliance.core.stages import AnalysisContext, StageRequest
from appliance.models.segmentation import Segmenter, create_segmenter


class MaskStage:
    def __init__(self, name: str, segmenter: Segmenter):
        self.name = name
        self.segmenter: Segmenter | None = segmenter

    def analyze(self, image: np.ndarray, meta: FrameMeta) -> MaskResult:
        return MaskResult(self.segmenter.probability(image))

    def close(self) -> None:
        self.segmenter = None  # let the model go: the store frees what no stage holds


@register_stage("mask")
def build(request: StageRequest, context: AnalysisContext) -> MaskStage:
    """An unknown or missing model raises ModelError, which turns the mode into a card."""
    return MaskStage(request.key, create_segmenter(context.store, request.params))
