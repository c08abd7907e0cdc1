"""What every source is: open, read a picture (or a picture with what it knows), close."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np


@dataclass
class Captured:
    """What a source that knows more than the picture returns from `read()`: the picture and
    the poses recorded with it (a recorded pose stream replayed without a camera)."""

    image: np.ndarray
    poses: list


class Source(Protocol):
    description: str
    fps: float
    live: bool

    def open(self) -> None: ...

    def read(self) -> np.ndarray | Captured | None: ...

    def close(self) -> None: ...
