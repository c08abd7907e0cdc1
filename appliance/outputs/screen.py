"""A window on a laptop, or the whole HDMI screen on a device, through SDL2 (pygame-ce).

One class, two setups: `for_window` lets SDL pick the desktop's driver (X11/Wayland) and opens
a resizable window; `for_hdmi` asks for SDL's `kmsdrm` driver, which drives the screen
directly with no desktop, full screen, cursor hidden. pygame-ce's aarch64 wheels ship an SDL2
built with kmsdrm (PyPI's `pygame` wheels do not), which is why the project depends on
pygame-ce. Tests use SDL's `dummy` driver and read the pixels back with `pixels()`.

Frames are placed by `geometry.place`: rotated, then fitted (letterbox), filled or stretched.
"""

from __future__ import annotations

import logging
import os

import cv2
import numpy as np

from appliance.errors import OutputError
from appliance.outputs.geometry import place

log = logging.getLogger(__name__)

QUIT_KEYS = ("escape", "q")
NEXT_KEYS = ("right", "space", "n")
PREVIOUS_KEYS = ("left", "p")


def _pygame():
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    try:
        import pygame
    except ImportError as exc:
        raise OutputError(f"screen output needs pygame-ce ({exc}); pip install pygame-ce") from None
    return pygame


class ScreenOutput:
    def __init__(self, title: str, driver: str | None, fullscreen: bool, fit: str = "fit",
                 rotation: int = 0):
        self.title = title
        self.fit, self.rotation = fit, rotation
        self.driver = driver
        self.fullscreen = fullscreen
        self.description = f"{'hdmi' if fullscreen else 'window'} ({driver or 'SDL default driver'})"
        self._pg = None
        self._screen = None
        self._canvas: np.ndarray | None = None

    @classmethod
    def for_window(cls, title: str = "appliance", driver: str | None = None, **placement) -> "ScreenOutput":
        return cls(title, driver, fullscreen=False, **placement)

    @classmethod
    def for_hdmi(cls, title: str = "appliance", driver: str = "kmsdrm", **placement) -> "ScreenOutput":
        return cls(title, driver, fullscreen=True, **placement)

    def open(self, width: int, height: int, fps: float) -> None:
        pg = self._pg = _pygame()
        if self.driver:
            os.environ["SDL_VIDEODRIVER"] = self.driver
        try:
            pg.display.init()
            if self.fullscreen:
                self._screen = pg.display.set_mode((0, 0), pg.FULLSCREEN)
                pg.mouse.set_visible(False)
            else:
                if self.rotation in (90, 270):
                    width, height = height, width
                self._screen = pg.display.set_mode((width, height), pg.RESIZABLE)
        except pg.error as exc:
            pg.display.quit()
            raise OutputError(f"{self.description}: cannot open the display ({exc})") from None
        pg.display.set_caption(self.title)
        log.info("screen open: %s, %dx%d, SDL driver %s", self.description,
                 *self._screen.get_size(), pg.display.get_driver())

    def show(self, image: np.ndarray) -> None:
        pg = self._pg
        screen = self._screen
        sw, sh = screen.get_size()
        if self._canvas is None or self._canvas.shape[:2] != (sh, sw):
            self._canvas = np.zeros((sh, sw, 3), np.uint8)
        rgb = cv2.cvtColor(place(image, sw, sh, self.fit, self.rotation, out=self._canvas),
                           cv2.COLOR_BGR2RGB)
        screen.blit(pg.image.frombuffer(rgb.data, (sw, sh), "RGB"), (0, 0))
        pg.display.flip()

    def commands(self) -> list[str]:
        pg = self._pg
        found = []
        for event in pg.event.get():
            if event.type == pg.QUIT:
                found.append("quit")
            elif event.type == pg.KEYDOWN:
                key = pg.key.name(event.key)
                if key in QUIT_KEYS:
                    found.append("quit")
                elif key in NEXT_KEYS:
                    found.append("next_mode")
                elif key in PREVIOUS_KEYS:
                    found.append("previous_mode")
        return found

    def pixels(self) -> np.ndarray:
        """What the screen shows now, as a BGR image (for tests and screenshots)."""
        rgb = self._pg.surfarray.array3d(self._screen).transpose(1, 0, 2)
        return cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2BGR)

    def close(self) -> None:
        if self._pg is not None:
            self._pg.display.quit()
            self._screen = None
