"""The corner pin drawn by the GPU: SDL's renderer lays the picture onto the screen as a grid of
textured quads whose corners are the perspective warp's own points.

On a Pi the CPU warp of `[output] corners` costs ~11 M instructions a frame (about 6 ms on a Pi
4, enough to take the heaviest modes under 30 fps); drawn this way the CPU only uploads the
picture, as it does without corners, and the GPU places it (SDL_RenderGeometry, which kmsdrm's
OpenGL ES renderer and the software renderer of the tests both have). Within each of the grid's
cells the texture is mapped linearly (two triangles); the vertices are exact, so with an 8x8
grid a moderate keystone is off by well under a pixel inside a cell and exact at the corners.
"""

from __future__ import annotations

import numpy as np

from appliance.outputs.keystone import CornerPin

GRID = 8  # cells a side


class QuadGrid:
    """The grid's quads for a w x h picture on a width x height screen, made once per size."""

    def __init__(self, pin: CornerPin, cells: int = GRID):
        self.pin = pin
        self.cells = cells
        self._made_for: tuple[int, int, int, int] | None = None
        self.quads: list[tuple[tuple, tuple]] = []  # ((4 screen points), (4 texture points 0..1))

    def for_size(self, w: int, h: int, width: int, height: int) -> list[tuple[tuple, tuple]]:
        if self._made_for != (w, h, width, height):
            self.quads = self._make(w, h, width, height)
            self._made_for = (w, h, width, height)
        return self.quads

    def _make(self, w: int, h: int, width: int, height: int) -> list[tuple[tuple, tuple]]:
        """Grid points through the warp. The warp works in pixel-centre coordinates (the
        picture's edge at -0.5); SDL's geometry in edge coordinates (the screen's edge at 0)."""
        n = self.cells
        u = np.linspace(0.0, 1.0, n + 1)
        uu, vv = np.meshgrid(u, u)
        source = np.stack([uu * w - 0.5, vv * h - 0.5, np.ones_like(uu)], axis=-1) @ self.pin.matrix(
            w, h, width, height).T
        points = source[..., :2] / source[..., 2:] + 0.5
        quads = []
        for j in range(n):
            for i in range(n):
                corners = ((j, i), (j, i + 1), (j + 1, i + 1), (j + 1, i))
                quads.append((tuple(tuple(map(float, points[c])) for c in corners),
                              tuple((float(uu[c]), float(vv[c])) for c in corners)))
        return quads

    def draw(self, texture, w: int, h: int, width: int, height: int) -> None:
        for xy, uv in self.for_size(w, h, width, height):
            texture.draw_quad(*xy, *uv)
