#!/usr/bin/env python3
"""Generate the project's own Kandinsky-like style picture, deterministically from a seed.

A warm, cloudy ground; big soft-edged fields of yellow, violet and blue; a dark circle in a
glowing halo; red and blue triangles and wedges; checkerboards; bold black straight lines,
arcs and a snake line; bundles of thin parallel lines; small ringed dots - the vocabulary of
Kandinsky's Bauhaus years (e.g. Yellow-Red-Blue, 1925), drawn from scratch so the project owns it.

    python deploy/tools/make_kandinsky_style.py [--seed 1925] [--size 512] [--out PATH]

The style predictor sees the centre square at 256x256, so the composition fills the square.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = ROOT / "appliance" / "data" / "styles" / "kandinsky.png"

# BGR
CREAM, YELLOW, DEEP_YELLOW = (170, 225, 245), (40, 215, 250), (20, 170, 235)
RED, VERMILION, CRIMSON = (40, 40, 210), (30, 80, 235), (60, 20, 150)
BLUE, ULTRAMARINE, SKY = (170, 90, 30), (140, 40, 40), (225, 200, 140)
VIOLET, LAVENDER, BLACK = (120, 50, 95), (200, 150, 170), (25, 20, 20)
GREEN, ORANGE = (80, 150, 60), (30, 130, 240)


def ground(rng: np.random.Generator, s: int) -> np.ndarray:
    """Warm cloudy ground: cream and yellow, pale blue and lavender drifting in at the edges."""
    img = np.zeros((s, s, 3), np.float32) + np.float32(CREAM)
    for colour, amount in ((YELLOW, 0.55), (SKY, 0.45), (LAVENDER, 0.5), (DEEP_YELLOW, 0.3)):
        field = cv2.resize(rng.random((4, 4)).astype(np.float32), (s, s), interpolation=cv2.INTER_CUBIC)
        field = np.clip((field - 0.45) * 2.2, 0, 1)[..., None] * amount
        img = img * (1 - field) + np.float32(colour) * field
    yy, xx = np.mgrid[0:s, 0:s].astype(np.float32) / s
    edge = np.maximum(np.abs(xx - .5), np.abs(yy - .5)) * 2
    wobble = cv2.resize(rng.random((6, 6)).astype(np.float32), (s, s), interpolation=cv2.INTER_CUBIC)
    rim = np.clip((edge + .25 * wobble - .85) * 4, 0, .65)[..., None]
    return img * (1 - rim) + np.float32(VIOLET) * rim


def blob(img: np.ndarray, draw, colour, alpha: float, blur: int) -> None:
    """Paint a shape drawn by `draw(mask)` with soft (feathered) edges."""
    mask = np.zeros(img.shape[:2], np.uint8)
    draw(mask)
    soft = cv2.GaussianBlur(mask.astype(np.float32) / 255.0, (0, 0), blur)[..., None] * alpha
    img *= 1 - soft
    img += np.float32(colour) * soft


def fields(rng, img, s) -> None:
    """The big colour fields: a yellow upright, a violet cloud, a blue wedge, red planes."""
    x = int(s * rng.uniform(0.18, 0.28))
    blob(img, lambda m: cv2.rectangle(m, (x, int(s * .2)), (x + int(s * .2), int(s * .75)), 255, -1), YELLOW, .95, 4)
    cloud = ((int(s * .68), int(s * .42)), (int(s * .28), int(s * .24)))
    blob(img, lambda m: cv2.ellipse(m, *cloud, -15, 0, 360, 255, -1), VIOLET, .85, 3)
    blob(img, lambda m: cv2.circle(m, (int(s * .62), int(s * .5)), int(s * .14), 255, -1), ULTRAMARINE, .7, 4)
    planes = (RED, VERMILION, CRIMSON, BLUE, GREEN, ORANGE, RED, ULTRAMARINE, CRIMSON, SKY, VIOLET, BLACK)
    for colour in planes:
        corners = int(rng.integers(3, 5))
        pts = (rng.uniform(0.12, 0.88, (1, 2)) + rng.normal(0, 0.12, (corners, 2))).clip(0.02, 0.98) * s
        pts = cv2.convexHull(pts.astype(np.int32))
        blob(img, lambda m, p=pts: cv2.fillPoly(m, [p], 255), colour, float(rng.uniform(.6, .9)), 1)


def circles(rng, img, s) -> None:
    """A dark sun in a yellow halo, ringed dots, a few plain discs."""
    c, r = (int(s * rng.uniform(.3, .45)), int(s * .13)), int(s * .07)
    blob(img, lambda m: cv2.circle(m, c, int(r * 1.9), 255, -1), DEEP_YELLOW, .9, 10)
    blob(img, lambda m: cv2.circle(m, c, r, 255, -1), (70, 70, 80), 1.0, 1)
    cv2.circle(img, c, r, BLACK, 3, cv2.LINE_AA)
    for _ in range(5):
        p, rr = tuple(int(v) for v in rng.uniform(.1, .9, 2) * s), int(rng.uniform(.015, .045) * s)
        ring = [RED, BLUE, ORANGE][int(rng.integers(3))]
        cv2.circle(img, p, int(rr * 1.7), ring, -1, cv2.LINE_AA)
        cv2.circle(img, p, rr, BLACK, -1, cv2.LINE_AA)


def checkers(rng, img, s) -> None:
    palette = [RED, YELLOW, BLUE, BLACK, CREAM, GREEN, VIOLET, ORANGE]
    for _ in range(3):
        x, y, n, c = int(rng.uniform(.1, .8) * s), int(rng.uniform(.1, .8) * s), int(rng.integers(3, 6)), int(s * .018)
        for i in range(n):
            for j in range(n):
                colour = palette[int(rng.integers(len(palette)))]
                cv2.rectangle(img, (x + i * c, y + j * c), (x + (i + 1) * c - 1, y + (j + 1) * c - 1), colour, -1)


def lines(rng, img, s) -> None:
    """Bold black strokes, arcs, a snake line and bundles of thin parallels."""
    for _ in range(10):
        a, b = rng.uniform(0, 1, 2) * s, rng.uniform(0, 1, 2) * s
        cv2.line(img, tuple(int(v) for v in a), tuple(int(v) for v in b), BLACK, int(rng.integers(2, 7)), cv2.LINE_AA)
    for _ in range(4):
        c = tuple(int(v) for v in rng.uniform(.2, .8, 2) * s)
        r = int(rng.uniform(.15, .4) * s)
        start = float(rng.uniform(0, 360))
        cv2.ellipse(img, c, (r, r), 0, start, start + rng.uniform(40, 110), BLACK, int(rng.integers(2, 5)), cv2.LINE_AA)
    t = np.linspace(0, 1, 200)
    snake = np.stack([s * (.55 + .35 * t), s * (.75 + .06 * np.sin(t * 18))], 1).astype(np.int32)
    cv2.polylines(img, [snake], False, BLACK, 7, cv2.LINE_AA)
    for _ in range(4):
        x, y, ang = rng.uniform(.05, .85) * s, rng.uniform(.05, .9) * s, rng.uniform(-.6, .6)
        d = np.array([np.cos(ang), np.sin(ang)]) * s * .14
        for k in range(int(rng.integers(4, 7))):
            p = np.array([x, y + k * s * .012])
            cv2.line(img, tuple(int(v) for v in p), tuple(int(v) for v in p + d), BLACK, 1, cv2.LINE_AA)


def brushwork(rng, img) -> np.ndarray:
    """Paint texture: directional smears and a faint canvas grain, so it reads as painted."""
    smeared = cv2.blur(img, (9, 3)) * 0.5 + cv2.blur(img, (3, 9)) * 0.5
    h, w = img.shape[:2]
    pick = cv2.resize(rng.random((h // 8, w // 8)).astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
    pick = np.clip((pick - 0.3) * 1.5, 0, 0.6)[..., None]
    out = img * (1 - pick) + smeared * pick
    grain = cv2.GaussianBlur(rng.normal(0, 3, (h, w)).astype(np.float32), (0, 0), 0.8)[..., None]
    return np.clip(out + grain, 0, 255).astype(np.uint8)


def make(seed: int = 1925, size: int = 512) -> np.ndarray:
    rng = np.random.default_rng(seed)
    img = ground(rng, size)
    fields(rng, img, size)
    circles(rng, img, size)
    checkers(rng, img, size)
    lines(rng, img, size)
    return brushwork(rng, img)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1925)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    ok, png = cv2.imencode(".png", make(args.seed, args.size), [cv2.IMWRITE_PNG_COMPRESSION, 9])
    if not ok:
        print("could not encode the picture", file=sys.stderr)
        return 1
    args.out.write_bytes(png.tobytes())
    print(f"{args.out}: {len(png)} bytes, seed {args.seed}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
