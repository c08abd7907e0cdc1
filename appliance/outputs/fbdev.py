"""The Linux framebuffer (/dev/fb0): the plainest way onto an HDMI screen without a desktop.

It is the fallback when SDL's kmsdrm cannot open the screen: a CPU copy into memory the kernel
scans out, with no vsync (tearing is possible). The geometry and pixel format come from sysfs
(/sys/class/graphics/fbN), so a test can point both the device and the sysfs folder at
regular files and read the pixels back.
"""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np

from appliance.errors import OutputError
from appliance.outputs.geometry import place

log = logging.getLogger(__name__)


def read_geometry(sysfs: Path) -> tuple[int, int, int, int]:
    """(width, height, bits_per_pixel, stride_bytes) of a framebuffer from its sysfs folder."""
    try:
        width, height = (int(v) for v in (sysfs / "virtual_size").read_text().strip().split(","))
        bpp = int((sysfs / "bits_per_pixel").read_text())
        stride_file = sysfs / "stride"
        stride = int(stride_file.read_text()) if stride_file.exists() else width * bpp // 8
    except (OSError, ValueError) as exc:
        raise OutputError(f"{sysfs}: cannot read the framebuffer geometry ({exc})") from None
    if bpp not in (16, 24, 32):
        raise OutputError(f"{sysfs}: {bpp} bits per pixel is not supported (expected 16, 24 or 32)")
    return width, height, bpp, stride


def to_framebuffer_pixels(bgr: np.ndarray, bpp: int) -> np.ndarray:
    """BGR -> the framebuffer's byte layout: RGB565, BGR888 or BGRX8888 (little-endian)."""
    if bpp == 32:
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2BGRA)
    if bpp == 16:
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2BGR565)
    return bgr


class FbdevOutput:
    def __init__(self, device: str | Path = "/dev/fb0", sysfs: str | Path | None = None,
                 fit: str = "fit", rotation: int = 0, corners: list | None = None):
        from appliance.outputs.keystone import CornerPin
        self.device = Path(device)
        self.pin = CornerPin(corners) if corners else None
        self.sysfs = Path(sysfs) if sysfs else Path("/sys/class/graphics") / self.device.name
        self.fit, self.rotation = fit, rotation
        self.description = f"fbdev {self.device}"
        self._fb = None
        self._canvas: np.ndarray | None = None

    def open(self, width: int, height: int, fps: float) -> None:
        self.width, self.height, self.bpp, self.stride = read_geometry(self.sysfs)
        try:
            self._fb = open(self.device, "r+b", buffering=0)
        except OSError as exc:
            raise OutputError(f"{self.description}: cannot open ({exc.strerror}; is the user in "
                              "the video group?)") from None
        self._canvas = np.zeros((self.height, self.width, 3), np.uint8)
        self._row_bytes = self.width * self.bpp // 8
        log.info("%s: %dx%d, %d bpp", self.description, self.width, self.height, self.bpp)

    def show(self, image: np.ndarray) -> None:
        place(image, self.width, self.height, self.fit, self.rotation, out=self._canvas, pin=self.pin)
        pixels = to_framebuffer_pixels(self._canvas, self.bpp).reshape(self.height, -1)
        self._fb.seek(0)
        if self.stride == self._row_bytes:
            self._fb.write(pixels.tobytes())
        else:
            for row in pixels:
                self._fb.write(row.tobytes() + b"\0" * (self.stride - self._row_bytes))

    def commands(self) -> list[str]:
        return []

    def close(self) -> None:
        if self._fb is not None:
            self._fb.close()
            self._fb = None
