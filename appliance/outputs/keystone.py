"""The corner pin (keystone) for a projector aimed at a wall at an angle.

`[output] corners` names where the picture's four corners go on the screen, top-left,
top-right, bottom-right, bottom-left, each as [x, y] fractions of the screen (0-1). The picture
is warped into that quadrilateral with one perspective warp, which does the scaling too, and
everything outside it is black (the projector's light falls only where the picture should be).
A projector that throws a trapezoid onto the wall then draws a true rectangle. `appliance
test-pattern` shows a card to set the corners by.
"""

from __future__ import annotations

import numpy as np

from appliance.core.lazy import cv2

CORNER_NAMES = ("top-left", "top-right", "bottom-right", "bottom-left")


def corners_problem(corners: list) -> str | None:
    """Why `corners` cannot pin a picture (None if they can): four [x, y] pairs within the
    screen, in order round a convex quadrilateral."""
    if not corners:
        return None
    if len(corners) != 4 or any(len(c) != 2 for c in corners):
        return f"{len(corners)} corner(s) given; expected 4 [x, y] pairs ({', '.join(CORNER_NAMES)})"
    if any(not 0.0 <= v <= 1.0 for c in corners for v in c):
        return "a corner lies off the screen (x and y are fractions of the screen, 0-1)"
    points = np.array(corners, np.float64)
    edges = np.roll(points, -1, axis=0) - points
    after = np.roll(edges, -1, axis=0)
    turns = edges[:, 0] * after[:, 1] - edges[:, 1] * after[:, 0]
    if not np.all(turns > 1e-6):  # y grows downwards: clockwise on the screen turns positive
        return "the corners do not go round a convex shape clockwise from the top-left"
    return None


class CornerPin:
    """Warps pictures into the configured quadrilateral of a canvas; the matrix is made once per size."""

    def __init__(self, corners: list[list[float]]):
        self.corners = np.array(corners, np.float32)
        self._made_for: tuple[int, int, int, int] | None = None
        self._matrix: np.ndarray | None = None

    def matrix(self, w: int, h: int, width: int, height: int) -> np.ndarray:
        """The perspective matrix from a w x h picture to its place on a width x height canvas.
        Pixel centres sit at whole coordinates in OpenCV, so the picture's outer edges are at -0.5."""
        if self._made_for != (w, h, width, height):
            source = np.float32([[-0.5, -0.5], [w - 0.5, -0.5], [w - 0.5, h - 0.5], [-0.5, h - 0.5]])
            target = self.corners * np.float32([width, height]) - 0.5
            self._matrix = cv2.getPerspectiveTransform(source, target)
            self._made_for = (w, h, width, height)
        return self._matrix

    def apply(self, image: np.ndarray, width: int, height: int, out: np.ndarray | None = None) -> np.ndarray:
        """`image` warped onto a black width x height canvas."""
        h, w = image.shape[:2]
        return cv2.warpPerspective(image, self.matrix(w, h, width, height), (width, height), dst=out,
                                   flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)

    def place(self, point: tuple[float, float], w: int, h: int, width: int, height: int) -> tuple[float, float]:
        """Where the picture's pixel `point` lands on the canvas."""
        moved = cv2.perspectiveTransform(np.float32([[point]]), self.matrix(w, h, width, height))
        return float(moved[0, 0, 0]), float(moved[0, 0, 1])


def test_card(width: int, height: int) -> np.ndarray:
    """A card to set the corners by: a white frame at the picture's edge, a grid every tenth,
    the centre cross and a circle (a circle that looks round on the wall means the pin is true),
    and the corners named."""
    card = np.full((height, width, 3), 40, np.uint8)
    for i in range(1, 10):
        x, y = round(i * width / 10), round(i * height / 10)
        cv2.line(card, (x, 0), (x, height - 1), (110, 110, 110), 1)
        cv2.line(card, (0, y), (width - 1, y), (110, 110, 110), 1)
    cv2.line(card, (width // 2, 0), (width // 2, height - 1), (255, 255, 255), 2)
    cv2.line(card, (0, height // 2), (width - 1, height // 2), (255, 255, 255), 2)
    cv2.circle(card, (width // 2, height // 2), min(width, height) * 4 // 10, (0, 200, 255), 3, cv2.LINE_AA)
    cv2.rectangle(card, (0, 0), (width - 1, height - 1), (255, 255, 255), max(2, height // 120))
    scale = max(0.4, height / 900)
    for name, (x, y) in zip(CORNER_NAMES, ((0.03, 0.08), (0.75, 0.08), (0.75, 0.95), (0.03, 0.95))):
        cv2.putText(card, name, (round(x * width), round(y * height)), cv2.FONT_HERSHEY_SIMPLEX, scale,
                    (255, 255, 255), 1, cv2.LINE_AA)
    return card
