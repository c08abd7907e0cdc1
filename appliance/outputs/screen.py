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
import warnings

import cv2
import numpy as np

from appliance.errors import OutputError
from appliance.outputs.geometry import ROTATIONS
from appliance.outputs.gpu_pin import QuadGrid
from appliance.outputs.keystone import CornerPin

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


class ScreenPicture:
    """A frame as SDL's renderer takes it: rotated, RGB, at about the frame's own size.

    The screen is opened with SDL's SCALED flag, so SDL's renderer scales this picture to the
    screen: on a Pi the GPU does it (kmsdrm with OpenGL ES), where scaling a 640x480 frame to
    1080p on the CPU costs more than most effects. "fit" is SDL's letterbox, "fill" its overscan
    (set by hint before the window opens); "stretch" is done here, at the frame's scale, by
    giving the picture the screen's aspect.
    """

    def __init__(self, fit: str = "fit", rotation: int = 0, screen: tuple[int, int] | None = None,
                 corners: list | None = None):
        self.fit, self.rotation, self.screen = fit, rotation, screen
        self.pin = CornerPin(corners) if corners else None
        self.gpu_pinned = False  # the screen's renderer pins it (appliance.outputs.gpu_pin): not warped here

    def size(self, width: int, height: int) -> tuple[int, int]:
        """The picture's size for a width x height frame."""
        return self._stretched(*((height, width) if self.rotation in (90, 270) else (width, height)))

    def _stretched(self, width: int, height: int) -> tuple[int, int]:
        """The screen's aspect at the frame's height when the picture must fill the whole screen:
        stretched, or pinned by its corners (which are fractions of the screen)."""
        if self.gpu_pinned:
            return width, height
        if (self.fit == "stretch" or self.pin) and self.screen:
            width = max(1, round(height * self.screen[0] / self.screen[1]))
        return width, height

    def convert(self, image: np.ndarray) -> np.ndarray:
        rotation = ROTATIONS.get(self.rotation)
        if rotation is not None:
            image = cv2.rotate(image, rotation)
        h, w = image.shape[:2]
        size = self._stretched(w, h)
        if self.pin and not self.gpu_pinned:  # one warp scales and pins
            image = self.pin.apply(image, *size)
        elif size != (w, h):
            image = cv2.resize(image, size, interpolation=cv2.INTER_LINEAR)
        return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


class ScreenOutput:
    def __init__(self, title: str, driver: str | None, fullscreen: bool, fit: str = "fit",
                 rotation: int = 0, corners: list | None = None):
        self.title = title
        self.fit, self.rotation = fit, rotation
        self.driver = driver
        self.fullscreen = fullscreen
        self.description = f"{'hdmi' if fullscreen else 'window'} ({driver or 'SDL default driver'})"
        self._pg = None
        self._screen = None
        self._picture = ScreenPicture(fit, rotation, corners=corners)
        self.scaled_by = ""  # "GPU" or "CPU (SDL's software renderer)", once open
        self._pinned: PinnedScreen | None = None  # with corners: SDL's renderer draws the pin

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
        overscan = self.fit == "fill" and not self._picture.pin  # a pinned picture has the screen's aspect
        os.environ["SDL_RENDER_LOGICAL_SIZE_MODE"] = "overscan" if overscan else "letterbox"
        os.environ.setdefault("SDL_RENDER_SCALE_QUALITY", "linear")  # pygame's default is nearest
        try:
            pg.display.init()
            self._pinned = PinnedScreen.open(pg, self, width, height) if self._picture.pin else None
            self._picture.gpu_pinned = self._pinned is not None  # else warped here (also after a reopen)
            if self._pinned is None:
                self._open_scaled(pg, width, height)
        except pg.error as exc:
            pg.display.quit()
            raise OutputError(f"{self.description}: cannot open the display ({exc})") from None
        if self._pinned is None:
            pg.display.set_caption(self.title)
            log.info("screen open: %s, %dx%d picture scaled to the screen by the %s, SDL driver %s",
                     self.description, *self._screen.get_size(), self.scaled_by, pg.display.get_driver())

    def _open_scaled(self, pg, width: int, height: int) -> None:
        """The window (or the whole screen) at the picture's size, scaled by SDL's renderer."""
        desktop = pg.display.get_desktop_sizes()
        self._picture.screen = desktop[0] if self.fullscreen and desktop else None
        flags = pg.SCALED | (pg.FULLSCREEN if self.fullscreen else pg.RESIZABLE)
        with warnings.catch_warnings(record=True) as warned:
            warnings.simplefilter("always")
            self._screen = pg.display.set_mode(self._picture.size(width, height), flags)
        slow = any("no fast renderer" in str(w.message) for w in warned)
        self.scaled_by = "CPU (SDL's software renderer)" if slow else "GPU"
        if self.fullscreen:
            pg.mouse.set_visible(False)

    def show(self, image: np.ndarray) -> None:
        pg = self._pg
        screen = self._screen
        rgb = self._picture.convert(image)
        if self._pinned is not None:
            self._pinned.show(rgb)
            return
        h, w = rgb.shape[:2]
        if (w, h) != screen.get_size():  # a frame of another size than at open: fit it in
            rgb = cv2.resize(rgb, screen.get_size(), interpolation=cv2.INTER_AREA)
            w, h = screen.get_size()
        screen.blit(pg.image.frombuffer(rgb.data, (w, h), "RGB"), (0, 0))
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
        surface = self._pinned.renderer.to_surface() if self._pinned is not None else self._screen
        rgb = self._pg.surfarray.array3d(surface).transpose(1, 0, 2)
        return cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2BGR)

    def close(self) -> None:
        if self._pinned is not None:
            self._pinned.close()
            self._pinned = None
        if self._pg is not None:
            self._pg.display.quit()
            self._screen = None


class PinnedScreen:
    """The screen when `[output] corners` are set: an SDL window and renderer of the screen's
    own size, the picture uploaded as a texture and drawn as the corner pin's grid of quads
    (appliance.outputs.gpu_pin), black around it. The CPU warps nothing."""

    def __init__(self, pg, video, window, renderer, pin: CornerPin):
        self.pg, self.video, self.window, self.renderer = pg, video, window, renderer
        self.grid = QuadGrid(pin)
        self.texture = None

    @classmethod
    def open(cls, pg, screen: "ScreenOutput", width: int, height: int) -> "PinnedScreen | None":
        """None where SDL cannot give it (the picture is then warped on the CPU), said once."""
        picture = screen._picture
        try:
            from pygame._sdl2 import video
            desktop = pg.display.get_desktop_sizes()
            size = desktop[0] if screen.fullscreen and desktop else picture.size(width, height)
            window = video.Window(screen.title, size=size, fullscreen_desktop=screen.fullscreen)
            renderer = video.Renderer(window)
        except Exception as exc:  # an SDL without the render API or this driver's window
            log.warning("screen: [output] corners warped on the CPU (SDL's renderer: %s)", exc)
            return None
        if screen.fullscreen:
            pg.mouse.set_visible(False)
        screen.scaled_by = "GPU (corner pin)"
        log.info("screen open: %s, %dx%d, the picture pinned by its corners by SDL's renderer, SDL driver %s",
                 screen.description, *window.size, pg.display.get_driver())
        return cls(pg, video, window, renderer, picture.pin)

    def show(self, rgb: np.ndarray) -> None:
        h, w = rgb.shape[:2]
        if self.texture is None or (self.texture.width, self.texture.height) != (w, h):
            self.texture = self.video.Texture(self.renderer, (w, h), streaming=True, scale_quality=1)  # linear
        self.texture.update(self.pg.image.frombuffer(rgb.data, (w, h), "RGB"))
        self.renderer.draw_color = (0, 0, 0, 255)
        self.renderer.clear()
        self.grid.draw(self.texture, w, h, *self.window.size)
        self.renderer.present()

    def close(self) -> None:
        self.texture = None
        self.renderer = None
        self.window.destroy()
