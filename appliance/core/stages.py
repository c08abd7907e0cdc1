"""The contract between a mode, its analysis stages and its effects.

- An **effect** paints one displayed frame (`Effect`): it declares what it needs analysed as
  `StageRequest`s and reads the typed results from `meta.results`; it never builds a model.
- An **analysis stage** (`Analyzer`) runs beside the display loop on the newest frame; each kind
  lives in its own module of `appliance.analysis` and registers a builder for its requests.
- Equal requests share one stage: two effects that need the person mask get one mask stage.

The result types are declared in `appliance.core.results`, so effects and stages agree on
them without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Protocol, runtime_checkable

import numpy as np

from appliance.config import Settings
from appliance.core.frame import FrameMeta

if TYPE_CHECKING:
    from appliance.models.manifest import ModelStore


@dataclass(frozen=True)
class StageRequest:
    """An analysis an effect needs: the stage `kind` (a module of appliance.analysis), the `key`
    its result is published under, and the kind's own settings (hashable)."""

    kind: str
    key: str
    params: Any = None


POSE = StageRequest("pose", "pose")  # one pose stage serves every effect and the reactions


def mask_request(model: str) -> StageRequest:
    """The person mask of `model`: one stage per model, whichever effects read it."""
    return StageRequest("mask", f"mask:{model}", model)


@dataclass(frozen=True)
class StyleParams:
    """What a style stage paints with (the style effect's settings that shape the keyframes)."""

    style: str
    styles_dir: str = ""
    size: int = 288
    flow_width: int = 160
    steadiness: float = 0.0


def style_request(params: StyleParams) -> StageRequest:
    """One style stage per distinct style, keyframe size and folder (the steadiness and flow
    width of the first effect that asks are used)."""
    suffix = f"@{params.size}" if params.style.startswith(("builtin:", "blend:")) else ""
    where = f"[{params.styles_dir}]" if params.styles_dir else ""
    return StageRequest("style", f"style:{params.style}{suffix}{where}", params)


class Analyzer(Protocol):
    """A slow stage run beside the display loop; its newest result lands in meta.results."""

    name: str  # the key of its results

    def analyze(self, image: np.ndarray, meta: FrameMeta) -> Any: ...

    def close(self) -> None: ...


class Effect(Protocol):
    """One step of a mode: fast, per displayed frame, painting from typed analysis results."""

    name: ClassVar[str]
    Params: ClassVar[type]

    def stages(self, context: AnalysisContext) -> list[StageRequest]: ...

    def process(self, image: np.ndarray, meta: FrameMeta) -> np.ndarray: ...

    def close(self) -> None: ...


@runtime_checkable
class MarksPeople(Protocol):
    """An effect that changes, or spares, the pixels it judges a person (the mask, the
    anonymizer): `person_region` is where on the last frame (bool, frame-sized; None before
    any), which the mask benchmark holds against where people really walked."""

    @property
    def person_region(self) -> np.ndarray | None: ...


@runtime_checkable
class KeepsPainting(Protocol):
    """An effect whose painting is worth keeping (the evening's): asked, from the display
    loop's thread between two frames, to save it as a PNG in the state folder. False: it has
    nothing painted to save (the kept canvas, if any, is then saved instead)."""

    def save_painting(self) -> bool: ...


@dataclass
class AnalysisContext:
    """What stages are built from: the settings, the models, a writable folder, and whether the
    source brings its own poses (a recorded pose stream: no pose model is loaded)."""

    settings: Settings = field(default_factory=Settings)
    state_dir: Path | None = None
    recorded_poses: bool = False
    _store: "ModelStore | None" = None
    _kept: dict = field(default_factory=dict, repr=False)

    def kept(self, name: str, make: Callable[[], Any]) -> Any:
        """One object per context (per run) under `name`, made on first use: what must outlive a
        mode switch, like the learned room (a new one would take in everyone standing in front
        of the camera as part of the room)."""
        if name not in self._kept:
            self._kept[name] = make()
        return self._kept[name]

    @property
    def store(self) -> "ModelStore":
        if self._store is None:
            from appliance.models.manifest import ModelStore
            self._store = ModelStore.from_settings(self.settings.models)
        return self._store

