"""Discard every picture: for benchmarks and for runs that only analyse."""

import numpy as np


class NullOutput:
    description = "null"

    def __init__(self) -> None:
        self.frames = 0

    def open(self, width: int, height: int, fps: float) -> None:
        pass

    def show(self, image: np.ndarray) -> None:
        self.frames += 1

    def commands(self) -> list[str]:
        return []

    def close(self) -> None:
        pass
