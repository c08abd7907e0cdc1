"""Two modes at once: one for the people, another for the room, joined along the person mask."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from appliance.config.schema import setting
from appliance.core.frame import FrameMeta
from appliance.core.registry import register_effect
from appliance.core.results import MaskResult
from appliance.core.stages import AnalysisContext, StageRequest, mask_request
from appliance.core.stats import StageTimes

if TYPE_CHECKING:
    from appliance.core.modes import Mode
from appliance.errors import ConfigError
from appliance.paint.masks import SEGMENTATION_MODELS, composite, person_weight


@register_effect
class Split:
    """Two modes at once: one for the people, another for the room, joined along the person mask.

    E.g. people = "kandinsky-people-only" (a mode with a style), room = "aged-film". The named
    modes' own analysis stages run too. A split may not name a mode that itself splits.
    """

    name = "split"

    @dataclass
    class Params:
        people: str = setting("", help="mode whose picture the people get")
        room: str = setting("", help="mode whose picture the room gets")
        model: str = setting("meet", choices=SEGMENTATION_MODELS, help="person segmentation model")
        threshold: float = setting(0.5, min=0.05, max=0.95)
        feather: float = setting(0.01, min=0.0, max=0.1)

    def __init__(self, params: "Split.Params"):
        self.p = params
        self.request = mask_request(params.model)
        self.modes: dict[str, Mode] = {}

    def stages(self, context: AnalysisContext) -> list[StageRequest]:
        """The two modes' own stages, and the mask that joins them."""
        from appliance.core.modes import Mode  # a mode holds effects: built when one is
        found: list[StageRequest] = []
        for role in ("people", "room"):
            name = getattr(self.p, role)
            settings = context.settings.modes.get(name)
            if settings is None or any(step.effect == "split" for step in settings.effects):
                raise ConfigError([f"split.{role}: {name!r} is not a mode without a split "
                                   f"(expected one of: {', '.join(context.settings.modes)})"])
            self.modes[role] = mode = Mode(name, settings, context, build_stages=False)
            found += mode.requests(context)
        return found + [self.request]

    def process(self, image: np.ndarray, meta: FrameMeta) -> np.ndarray:
        if not self.modes:
            return image
        times = StageTimes()
        people = self.modes["people"].apply(image, meta, times)
        room = self.modes["room"].apply(image, meta, times)
        mask = meta.results.get(self.request.key, MaskResult)
        h, w = image.shape[:2]
        weight = person_weight(mask, (w, h), self.p.threshold, self.p.feather)
        return composite(people, room, weight)

    def close(self) -> None:
        for mode in self.modes.values():
            mode.close()
        self.modes = {}
