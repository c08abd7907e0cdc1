"""`appliance test-pattern`: the card an installer sets a projector's corners by.

The card goes through the configured output exactly as the artwork's frames do, so on a screen
it is pinned by `[output] corners`, rotated and fitted the same way. Edit the corners, run the
command again, and repeat until the frame on the wall is a true rectangle and the circle round.
A file output gets the card pinned at the picture's own size, to see the warp without a screen.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

from appliance.config import Settings, apply_overrides, load_config
from appliance.errors import ConfigError
from appliance.outputs import create_output, parse_output_spec
from appliance.outputs.keystone import CornerPin, test_card

SCREENS = ("auto", "window", "hdmi")
SHOW_EVERY_S = 0.1


def show_test_pattern(settings: Settings, seconds: float, clock: Callable[[], float] = time.monotonic,
                      sleep: Callable[[float], None] = time.sleep) -> int:
    """Show the card for `seconds` (or until the window is closed); the frames shown."""
    o, s = settings.output, settings.source
    on_screen = parse_output_spec(o.spec).kind in SCREENS
    output = create_output(o.spec, o.title, o.fit, o.rotation, o.corners if on_screen else None)
    card = test_card(s.width, s.height)
    if o.corners and not on_screen:
        card = CornerPin(o.corners).apply(card, s.width, s.height)
    output.open(s.width, s.height, 1.0 / SHOW_EVERY_S)
    shown, until = 0, clock() + seconds
    try:
        while True:
            output.show(card)
            shown += 1
            if "quit" in output.commands() or clock() >= until:
                return shown
            sleep(SHOW_EVERY_S)
    finally:
        output.close()


def test_pattern_command(config: Path | None, output: str | None, seconds: float) -> int:
    """`appliance test-pattern`: the config's output (or `output`), the card for `seconds`."""
    if not 0 < seconds <= 86400:
        raise ConfigError([f"--seconds: {seconds:g} is out of range (expected 0 < seconds <= 86400)"])
    settings = apply_overrides(load_config(config), {"--output": output})
    shown = show_test_pattern(settings, seconds)
    corners = settings.output.corners
    print(f"showed the test pattern {shown} times on {settings.output.spec}"
          + (f", corners {corners}" if corners else ", no corner pin"))
    return 0
