"""Effects: the steps a mode chains on the display path.

An effect is small: `Params` (a dataclass of its typed settings, validated from the mode's
TOML), `process(image, meta) -> image` called once per displayed frame, and `close()`.
Heavy work (models) belongs in analysis stages that run beside the display loop; an effect
reads their newest results from `meta.results` and must stay fast.
"""

from __future__ import annotations

from typing import Any, ClassVar, Protocol

import numpy as np

from appliance.effects.anonymizer import Anonymizer
from appliance.effects.film import Film
from appliance.effects.masking import Mask, Split
from appliance.effects.mirror import Mirror
from appliance.effects.passthrough import Passthrough
from appliance.effects.skeleton import Skeleton
from appliance.effects.style import Style
from appliance.effects.trails import Trails
from appliance.frame import FrameMeta


class Effect(Protocol):
    name: ClassVar[str]
    Params: ClassVar[type]

    def process(self, image: np.ndarray, meta: FrameMeta) -> np.ndarray: ...

    def close(self) -> None: ...


EFFECTS: dict[str, Any] = {cls.name: cls for cls in (Passthrough, Mirror, Film, Style, Mask, Split,
                                                      Skeleton, Trails, Anonymizer)}


def create_effect(name: str, params: Any) -> Effect:
    return EFFECTS[name](params)
