"""Effects and analysis stages by name, each registered by its own module.

An effect lives in `appliance/effects/<name>.py` and an analysis stage in
`appliance/analysis/<kind>.py`; each module registers itself when imported (`@register_effect`,
`@register_stage("kind")`), next to its own settings. Nothing here imports every module to learn
the names: a name is looked up by importing the one module it names, and the list of effects
(for "expected one of" messages) comes from the package's file names.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any, Callable, TypeVar

EFFECTS_PACKAGE = "appliance.effects"
STAGES_PACKAGE = "appliance.analysis"

EFFECTS: dict[str, type] = {}  # name -> effect class, as registered
STAGES: dict[str, Callable[..., Any]] = {}  # kind -> stage builder

C = TypeVar("C", bound=type)


def register_effect(cls: C) -> C:
    """Class decorator: the effect `cls.name`, with its `Params`, for configs and modes."""
    EFFECTS[cls.name] = cls
    return cls


def register_stage(kind: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Function decorator: the builder of the analysis stage `kind` from a StageRequest."""
    def register(build: Callable[..., Any]) -> Callable[..., Any]:
        STAGES[kind] = build
        return build
    return register


def _load(package: str, name: str) -> None:
    if not name.replace("_", "").isalnum() or name.startswith("_"):
        return
    try:
        importlib.import_module(f"{package}.{name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"{package}.{name}":
            raise


def effect(name: str) -> type | None:
    """The effect class called `name` (its module is imported on first use), or None."""
    if name not in EFFECTS:
        _load(EFFECTS_PACKAGE, name)
    return EFFECTS.get(name)


def effect_names() -> list[str]:
    """Every effect the package ships, from its module names."""
    package = importlib.import_module(EFFECTS_PACKAGE)
    return sorted(m.name for m in pkgutil.iter_modules(package.__path__)
                  if not m.ispkg and not m.name.startswith("_"))


def stage_builder(kind: str) -> Callable[..., Any]:
    """The builder of the analysis stage `kind`; KeyError names the kinds there are."""
    if kind not in STAGES:
        _load(STAGES_PACKAGE, kind)
    if kind not in STAGES:
        raise KeyError(f"no analysis stage {kind!r}")
    return STAGES[kind]
