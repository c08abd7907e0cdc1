"""Placing a frame on a screen of another shape: rotation for turned screens and projectors,
and fit (letterbox, the whole picture), fill (crop to cover the screen) or stretch."""

from __future__ import annotations

import cv2
import numpy as np

ROTATIONS = {0: None, 90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180,
             270: cv2.ROTATE_90_COUNTERCLOCKWISE}
FITS = ("fit", "fill", "stretch")


def place(image: np.ndarray, width: int, height: int, fit: str = "fit", rotation: int = 0,
          out: np.ndarray | None = None, pin=None) -> np.ndarray:
    """`image` rotated, scaled and centred onto a width x height BGR canvas (black borders);
    with a corner `pin` (appliance.outputs.keystone), warped into its quadrilateral instead."""
    if ROTATIONS[rotation] is not None:
        image = cv2.rotate(image, ROTATIONS[rotation])
    if pin is not None:
        return pin.apply(image, width, height, out=out)
    canvas = out if out is not None else np.zeros((height, width, 3), np.uint8)
    h, w = image.shape[:2]
    if fit == "stretch":
        cv2.resize(image, (width, height), dst=canvas, interpolation=cv2.INTER_AREA)
        return canvas
    scale = min(width / w, height / h) if fit == "fit" else max(width / w, height / h)
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    scaled = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    x, y = (width - nw) // 2, (height - nh) // 2
    if fit == "fill":  # scaled covers the canvas: x, y <= 0 are how much to crop on each side
        canvas[:] = scaled[-y:-y + height, -x:-x + width]
        return canvas
    if x or y:
        canvas[:] = 0
    canvas[y:y + nh, x:x + nw] = scaled
    return canvas
