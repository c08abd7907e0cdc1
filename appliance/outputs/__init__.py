"""Outputs: where the finished pictures go.

An output has a tiny interface: `open(width, height, fps)`, `show(image)`, `commands()` (what
a viewer asked for since the last call: "quit", "next_mode", "previous_mode") and `close()`.
Specs, as written in config or after `--output`:

    auto            a window when a desktop is present, else null (with a warning)
    window          a window for rehearsing on a laptop (SDL2 through pygame-ce)
    hdmi            full screen with no desktop (SDL2's kmsdrm video driver)
    null            discard the pictures (benchmarks, tests)
    file:PATH.mp4   record a video (.mp4 or .avi)
    file:PATH.png   save one frame (.png or .jpg): the last one shown
"""

from __future__ import annotations

import logging
import os
from typing import Protocol

import numpy as np

from appliance.outputs.specs import OutputSpec, parse_output_spec

log = logging.getLogger(__name__)



class Output(Protocol):
    description: str

    def open(self, width: int, height: int, fps: float) -> None: ...

    def show(self, image: np.ndarray) -> None: ...

    def commands(self) -> list[str]: ...

    def close(self) -> None: ...


def desktop_present() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def create_output(spec: str, title: str = "appliance", fit: str = "fit", rotation: int = 0,
                  corners: list | None = None) -> Output:
    """Build the output a spec names (not yet opened); `corners` pin the screen's picture."""
    parsed = parse_output_spec(spec)
    if parsed.kind == "auto":
        parsed = OutputSpec("window" if desktop_present() else "null")
        if parsed.kind == "null":
            log.warning("output auto: no desktop found, pictures are not shown "
                        "(use --output hdmi on a device, or --output file:out.mp4 to record)")
    if parsed.kind == "window":
        from appliance.outputs.screen import ScreenOutput
        return ScreenOutput.for_window(title, fit=fit, rotation=rotation, corners=corners)
    if parsed.kind == "hdmi":
        return create_hdmi_output(title, fit=fit, rotation=rotation, corners=corners)
    if parsed.kind == "video":
        from appliance.outputs.files import VideoFileOutput
        return VideoFileOutput(parsed.path)
    if parsed.kind == "still":
        from appliance.outputs.files import StillFileOutput
        return StillFileOutput(parsed.path)
    from appliance.outputs.null import NullOutput
    return NullOutput()


def create_hdmi_output(title: str = "appliance", fbdev: str = "/dev/fb0", sysfs: str | None = None,
                       fit: str = "fit", rotation: int = 0, corners: list | None = None):
    """Full screen without a desktop: SDL kmsdrm, else /dev/fb0, else keep retrying."""
    from appliance.outputs.fallback import FallbackOutput
    from appliance.outputs.fbdev import FbdevOutput
    from appliance.outputs.screen import ScreenOutput
    return FallbackOutput([lambda: ScreenOutput.for_hdmi(title, fit=fit, rotation=rotation, corners=corners),
                           lambda: FbdevOutput(fbdev, sysfs, fit, rotation, corners)])
