"""Colours shared by the pose effects: a Kandinsky-like palette of vivid primaries and black.

Each visitor keeps one colour for as long as they are tracked, so the colour is chosen from
the track id alone (no state): the same id gives the same colour in every effect and every
frame, and neighbouring ids (people who arrived one after the other) get far-apart colours.
Colours are BGR, OpenCV's order.
"""

from __future__ import annotations

BLACK = (0, 0, 0)
DARK = (18, 16, 14)  # the "empty gallery" dark: not pure black, so the screen reads as on

# Ordered so that consecutive entries contrast strongly (primary, then its opposite, ...).
PALETTE: dict[str, tuple[int, int, int]] = {
    "red": (40, 30, 215),        # cadmium red
    "blue": (170, 70, 20),       # ultramarine
    "yellow": (20, 205, 250),    # chrome yellow
    "violet": (140, 40, 120),
    "orange": (10, 120, 245),    # vermilion orange
    "green": (80, 150, 20),
    "magenta": (130, 20, 210),
    "sky": (225, 160, 50),       # cerulean
}
COLOURS: tuple[tuple[int, int, int], ...] = tuple(PALETTE.values())


def track_colour(track_id: int) -> tuple[int, int, int]:
    """The colour of a track: stable for its lifetime, different from the next few ids."""
    return COLOURS[int(track_id) % len(COLOURS)]


def named_colour(name: str) -> tuple[int, int, int]:
    """A palette colour by name ("red", "blue" ...); unknown names get the first colour."""
    return PALETTE.get(name, COLOURS[0])
