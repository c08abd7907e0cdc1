"""A Kandinsky-like composition the appliance makes itself: a breathing ground and the shapes
that move over it.

The vocabulary is that of the project's own style picture (deploy/tools/make_kandinsky_style.py,
after Kandinsky's Bauhaus years): a warm cloudy ground with soft fields of yellow, violet and
blue; a dark sun in a yellow halo; discs ringed in black; ringed dots; red and blue triangles;
black arcs and bars; bundles of thin parallel lines; small checkerboards.

Everything is seeded, so one seed gives one composition on any machine. The ground is painted
once per frame size (two versions, which the world crossfades to make the fields breathe); a
shape is a handful of cv2 primitives drawn each frame where the world has moved it, so a frame
costs one blend and about thirty small drawings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from appliance.core.lazy import cv2

# BGR, as in make_kandinsky_style.py
CREAM, YELLOW, DEEP_YELLOW = (170, 225, 245), (40, 215, 250), (20, 170, 235)
RED, VERMILION, CRIMSON = (40, 40, 210), (30, 80, 235), (60, 20, 150)
BLUE, ULTRAMARINE, SKY = (170, 90, 30), (140, 40, 40), (225, 200, 140)
VIOLET, LAVENDER, INK = (120, 50, 95), (200, 150, 170), (25, 20, 20)
GREEN, ORANGE, SUN = (80, 150, 60), (30, 130, 240), (70, 70, 80)

SHAPE_COLOURS = (RED, BLUE, YELLOW, VIOLET, ORANGE, ULTRAMARINE, CRIMSON, GREEN, VERMILION, SKY)
# How many of each kind a composition of 30 shapes has; others scale with the count.
KINDS = (("sun", 1), ("disc", 5), ("ringed_dot", 8), ("triangle", 5), ("arc", 4), ("bar", 3),
         ("bundle", 2), ("checker", 2))


@dataclass
class Shape:
    """One element of the composition. Sizes are fractions of the picture's height; `x`, `y`
    its centre in pixels (moved by the world); `home` where it drifts around when nobody calls it."""

    kind: str
    home: tuple[float, float]
    size: float
    colour: tuple[int, int, int]
    angle: float       # radians, for the shapes that have a direction
    spin: float        # radians per second
    phase: float       # its own moment in the breathing and the drift
    x: float = 0.0
    y: float = 0.0
    vx: float = 0.0    # pixels per second, from a scatter; fades
    vy: float = 0.0


def layout(seed: int, w: int, h: int, count: int) -> list[Shape]:
    """`count` shapes spread over a w x h picture, the same for the same seed."""
    rng = np.random.default_rng((seed, 31))
    kinds = [kind for kind, share in KINDS for _ in range(max(1, round(share * count / 30)))][:count]
    shapes = []
    for i, kind in enumerate(kinds):
        x, y = float(rng.uniform(0.08, 0.92) * w), float(rng.uniform(0.1, 0.9) * h)
        size = {"sun": 0.12, "disc": 0.07, "ringed_dot": 0.028, "triangle": 0.09, "arc": 0.22,
                "bar": 0.3, "bundle": 0.16, "checker": 0.06}[kind] * float(rng.uniform(0.7, 1.3))
        shapes.append(Shape(kind, (x, y), size, SHAPE_COLOURS[i % len(SHAPE_COLOURS)],
                            float(rng.uniform(0, 2 * math.pi)), float(rng.uniform(-0.25, 0.25)),
                            float(rng.uniform(0, 2 * math.pi)), x, y))
    return shapes


def ground(seed: int, w: int, h: int) -> np.ndarray:
    """The warm cloudy ground with soft colour fields and a violet rim, BGR uint8. Painted at a
    quarter size and enlarged: it is all soft, and a Pi makes it in a blink."""
    rng = np.random.default_rng((seed, 17))
    sw, sh = max(8, w // 4), max(8, h // 4)
    img = np.zeros((sh, sw, 3), np.float32) + np.float32(CREAM)
    for colour, amount in ((YELLOW, 0.6), (SKY, 0.5), (LAVENDER, 0.5), (DEEP_YELLOW, 0.35), (VIOLET, 0.3)):
        field = cv2.resize(rng.random((4, 5)).astype(np.float32), (sw, sh), interpolation=cv2.INTER_CUBIC)
        field = np.clip((field - 0.45) * 2.2, 0, 1)[..., None] * amount
        img = img * (1 - field) + np.float32(colour) * field
    yy, xx = np.mgrid[0:sh, 0:sw].astype(np.float32)
    edge = np.maximum(np.abs(xx / sw - 0.5), np.abs(yy / sh - 0.5)) * 2
    wobble = cv2.resize(rng.random((6, 6)).astype(np.float32), (sw, sh), interpolation=cv2.INTER_CUBIC)
    rim = np.clip((edge + 0.25 * wobble - 0.85) * 4, 0, 0.65)[..., None]
    img = img * (1 - rim) + np.float32(VIOLET) * rim
    grain = rng.normal(0, 4, (sh, sw, 1)).astype(np.float32)
    small = np.clip(img + grain, 0, 255).astype(np.uint8)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)


def _pt(x: float, y: float) -> tuple[int, int]:
    return int(round(x)), int(round(y))


def _outline(h: int) -> int:
    return max(1, round(h / 160))


def draw(img: np.ndarray, shape: Shape, breath: float, radius: float | None = None) -> None:
    """Draw `shape` at its place, scaled by `breath` (about 1); `radius` (pixels) overrides its size."""
    h = img.shape[0]
    r = max(2.0, (shape.size * h if radius is None else radius) * breath)
    DRAWERS[shape.kind](img, shape, r, _outline(h))


def _sun(img, s, r, line):
    c = _pt(s.x, s.y)
    cv2.circle(img, c, int(r * 1.8), DEEP_YELLOW, -1, cv2.LINE_AA)
    cv2.circle(img, c, int(r * 1.35), YELLOW, -1, cv2.LINE_AA)
    cv2.circle(img, c, int(r), SUN, -1, cv2.LINE_AA)
    cv2.circle(img, c, int(r), INK, 2 * line, cv2.LINE_AA)


def _disc(img, s, r, line):
    c = _pt(s.x, s.y)
    cv2.circle(img, c, int(r), s.colour, -1, cv2.LINE_AA)
    cv2.circle(img, c, int(r), INK, line, cv2.LINE_AA)


def _ringed_dot(img, s, r, line):
    c = _pt(s.x, s.y)
    cv2.circle(img, c, int(r * 1.7), s.colour, -1, cv2.LINE_AA)
    cv2.circle(img, c, int(r), INK, -1, cv2.LINE_AA)


def _triangle(img, s, r, line):
    corners = [(s.x + r * math.cos(s.angle + k * 2.1), s.y + r * math.sin(s.angle + k * 2.1)) for k in range(3)]
    pts = np.array(corners, np.float32).round().astype(np.int32)
    cv2.fillPoly(img, [pts], s.colour, cv2.LINE_AA)
    cv2.polylines(img, [pts], True, INK, line, cv2.LINE_AA)


def _arc(img, s, r, line):
    start = math.degrees(s.angle)
    cv2.ellipse(img, _pt(s.x, s.y), (int(r), int(r)), 0, start, start + 80, INK, 2 * line + 1, cv2.LINE_AA)


def _bar(img, s, r, line):
    dx, dy = r * math.cos(s.angle), r * math.sin(s.angle)
    cv2.line(img, _pt(s.x - dx, s.y - dy), _pt(s.x + dx, s.y + dy), INK, 3 * line + 1, cv2.LINE_AA)


def _bundle(img, s, r, line):
    dx, dy = r * math.cos(s.angle), r * math.sin(s.angle)
    nx, ny = -dy / max(r, 1) * r * 0.09, dx / max(r, 1) * r * 0.09
    for k in range(-2, 3):
        ox, oy = s.x + k * nx, s.y + k * ny
        cv2.line(img, _pt(ox - dx, oy - dy), _pt(ox + dx, oy + dy), INK, line, cv2.LINE_AA)


def _checker(img, s, r, line):
    cell = max(2, int(r / 2))
    x0, y0 = int(s.x - 2 * cell), int(s.y - 2 * cell)
    colours = (s.colour, INK, CREAM, YELLOW, RED, BLUE)
    for i in range(4):
        for j in range(4):
            colour = colours[(i * 3 + j * 5 + int(s.phase * 7)) % len(colours)]
            cv2.rectangle(img, (x0 + i * cell, y0 + j * cell), (x0 + (i + 1) * cell - 1, y0 + (j + 1) * cell - 1),
                          colour, -1)


DRAWERS = {"sun": _sun, "disc": _disc, "ringed_dot": _ringed_dot, "triangle": _triangle, "arc": _arc,
           "bar": _bar, "bundle": _bundle, "checker": _checker}
