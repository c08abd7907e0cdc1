"""The Raspberry Pi camera through picamera2 (libcamera), imported only when chosen.

picamera2 and libcamera come from Raspberry Pi OS's apt archive, not from PyPI: a venv sees
them only when made with --system-site-packages. The import lives inside `open` so machines
without them (a laptop, CI) never touch it, and `camera_factory` is the seam tests use to
drive this code with a fake camera.
"""

from __future__ import annotations

import logging
from typing import Any, Callable

import numpy as np

from appliance.errors import SourceError

log = logging.getLogger(__name__)

MISSING_HINT = ("install it with 'sudo apt install python3-picamera2 --no-install-recommends' "
                "(a venv needs --system-site-packages to see it)")


def _import_picamera2() -> Callable[[], Any]:
    try:
        from picamera2 import Picamera2  # type: ignore[import-not-found]
    except ImportError as exc:
        missing = "libcamera" if "libcamera" in str(exc) else "picamera2"
        raise SourceError(f"picamera2: the {missing} Python module is not available ({exc}); "
                          f"{MISSING_HINT}") from None
    return Picamera2


def picamera2_available() -> tuple[bool, str]:
    """Whether a Pi camera can be used here, and why not (for `auto` and `appliance doctor`)."""
    try:
        picamera2 = _import_picamera2()
    except SourceError as exc:
        return False, str(exc).split(";")[0]
    try:
        cameras = picamera2.global_camera_info()
    except Exception as exc:  # libcamera raises many kinds when the stack is unhappy
        return False, f"libcamera could not list cameras ({exc})"
    return (True, "") if cameras else (False, "libcamera found no camera")


class Picamera2Source:
    live = True

    def __init__(self, width: int, height: int, fps: float,
                 camera_factory: Callable[[], Any] | None = None):
        self.size = (width, height)
        self.fps = fps
        self.description = f"picamera2 {width}x{height} @ {fps:g} fps"
        self._factory = camera_factory
        self._camera: Any = None

    def open(self) -> None:
        factory = self._factory or _import_picamera2()
        try:
            self._camera = factory()
        except (IndexError, RuntimeError) as exc:
            raise SourceError(f"picamera2: no camera found ({exc}); check the ribbon cable and "
                              "'rpicam-hello --list-cameras'") from None
        # libcamera's RGB888 is B,G,R in memory: exactly OpenCV's order, no conversion needed.
        config = self._camera.create_video_configuration(
            main={"size": self.size, "format": "RGB888"},
            controls={"FrameRate": self.fps},
            buffer_count=4,
        )
        self._camera.configure(config)
        self._camera.start()
        log.info("picamera2 started: %s", self.description)

    def read(self) -> np.ndarray:
        try:
            image = self._camera.capture_array("main")
        except Exception as exc:
            raise SourceError(f"picamera2: capture failed ({exc})") from exc
        return image[:, :, :3] if image.ndim == 3 and image.shape[2] == 4 else image

    def close(self) -> None:
        if self._camera is not None:
            try:
                self._camera.stop()
            finally:
                self._camera.close()
                self._camera = None
