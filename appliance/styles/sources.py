"""A style as config names it, resolved to what a model needs.

    "kandinsky"              the project's own Kandinsky-like composition (data/styles/kandinsky.png)
    "builtin:N"              one of the 26 styles built into the multistyle network (0-25)
    "blend:N=w,M=w"          a mixture of built-in styles (weights are normalised to sum to 1)
    "NAME" or "NAME.jpg"     a picture in `styles_dir`, else in the shipped styles folder
    "/path/to/painting.png"  any picture file

Built-in styles run on the multistyle network (any frame size); pictures go through the
arbitrary-style predictor (picture -> style vector) and transformer (fixed 384x384).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from appliance import paths
from appliance.errors import ConfigError

BUILTIN_COUNT = 26
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp")


class StyleError(ConfigError):
    """A style that names nothing usable; one line saying what was expected."""

    def __init__(self, message: str):
        super().__init__([message])


@dataclass(frozen=True)
class StyleSpec:
    """Either `weights` (26 floats summing to 1) or `image` (a picture file)."""

    text: str
    weights: tuple[float, ...] | None = None
    image: Path | None = None

    @property
    def kind(self) -> str:
        return "builtin" if self.weights is not None else "image"

    def weight_array(self) -> np.ndarray:
        return np.asarray(self.weights, np.float32)


def parse_style(text: str, styles_dir: str | Path = "") -> StyleSpec:
    """The StyleSpec for `text`; StyleError says what was wrong and what was expected."""
    text = text.strip()
    if text.startswith("builtin:"):
        return StyleSpec(text, weights=_weights({_index(text[8:], text): 1.0}))
    if text.startswith("blend:"):
        return StyleSpec(text, weights=_weights(_blend(text[6:], text)))
    return StyleSpec(text, image=find_style_image(text, styles_dir))


def _index(raw: str, text: str) -> int:
    try:
        index = int(raw)
    except ValueError:
        index = -1
    if not 0 <= index < BUILTIN_COUNT:
        raise StyleError(f"style {text!r}: expected a built-in style number 0-{BUILTIN_COUNT - 1}")
    return index


def _blend(raw: str, text: str) -> dict[int, float]:
    parts: dict[int, float] = {}
    for item in filter(None, (p.strip() for p in raw.split(","))):
        index, _, weight = item.partition("=")
        try:
            value = float(weight)
        except ValueError:
            value = -1.0
        if value < 0:
            raise StyleError(f"style {text!r}: expected N=weight pairs with weights >= 0, e.g. blend:3=0.7,17=0.3")
        parts[_index(index, text)] = parts.get(_index(index, text), 0.0) + value
    if not parts or sum(parts.values()) <= 0:
        raise StyleError(f"style {text!r}: expected at least one N=weight with a weight above 0")
    return parts


def _weights(parts: dict[int, float]) -> tuple[float, ...]:
    weights = np.zeros(BUILTIN_COUNT, np.float64)
    for index, value in parts.items():
        weights[index] = value
    return tuple(float(w) for w in weights / weights.sum())


def find_style_image(name: str, styles_dir: str | Path = "") -> Path:
    """A picture by path, or by name (with or without suffix) in `styles_dir`, then the shipped folder."""
    direct = paths.expanded(name)
    if direct.is_absolute() or len(direct.parts) > 1:
        if paths.is_file(direct):
            return direct
        raise StyleError(f"style {name[:80]!r}: no such picture file")
    folders = [paths.expanded(styles_dir)] if styles_dir else []
    folders.append(paths.SHIPPED_STYLES)
    for folder in folders:
        for candidate in [folder / name, *(folder / f"{name}{s}" for s in IMAGE_SUFFIXES)]:
            if paths.is_file(candidate):
                return candidate
    known = sorted({p.stem for f in folders if paths.is_dir(f) for p in f.iterdir()
                    if p.suffix.lower() in IMAGE_SUFFIXES})
    raise StyleError(f"style {name[:80]!r}: not a picture in {', '.join(str(f)[:200] for f in folders)} "
                     f"(expected builtin:N, blend:N=w,..., a picture path, or one of: {', '.join(known) or 'none'})")

