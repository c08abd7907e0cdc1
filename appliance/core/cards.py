"""Full-screen message cards: what a visitor sees when something is wrong, instead of a frozen
picture or a black screen. Large, calm, readable from across a room."""

from __future__ import annotations

import cv2
import numpy as np


def message_card(width: int, height: int, title: str, detail: str = "") -> np.ndarray:
    """A dark card with a centred title and a smaller detail line, as a BGR image."""
    card = np.full((height, width, 3), (32, 24, 20), np.uint8)
    font = cv2.FONT_HERSHEY_SIMPLEX
    _put_centred(card, title, font, width / 640 * 1.2, (235, 235, 235), 0.45, 2)
    if detail:
        _put_centred(card, detail[:90], font, width / 640 * 0.5, (170, 170, 170), 0.6, 1)
    return card


def _put_centred(card: np.ndarray, text: str, font: int, scale: float, colour, at: float, weight: int) -> None:
    scale = max(scale, 0.3)
    thickness = max(1, round(weight * scale))
    (tw, th), _ = cv2.getTextSize(text, font, scale, thickness)
    while tw > card.shape[1] * 0.92 and scale > 0.3:
        scale *= 0.9
        (tw, th), _ = cv2.getTextSize(text, font, scale, thickness)
    x = (card.shape[1] - tw) // 2
    y = int(card.shape[0] * at + th / 2)
    cv2.putText(card, text, (x, y), font, scale, colour, thickness, cv2.LINE_AA)
