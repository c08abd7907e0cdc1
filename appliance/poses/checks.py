"""Small validators for poses.toml: each reports "key.path: what is wrong (expected ...)".

Rules and motions share them so every problem in the file reads the same way, and all
problems are collected (through `say`) before one ConfigError lists them.
"""

from __future__ import annotations

from typing import Callable

from appliance.poses.body import INDEX

Say = Callable[[str, str], None]  # say(key path, what is wrong (expected ...))


def is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def bounded(table: dict, key: str, path: str, say: Say, low: float, high: float,
            default: float | None = None) -> float:
    """table[key] as a float in [low, high]; reports and returns `low` when it is not."""
    value = table.get(key, default)
    if not (is_number(value) and low <= value <= high):  # type: ignore[operator]
        say(f"{path}.{key}", f"{value!r} is not allowed (expected a number from {low} to {high})")
        return low
    return float(value)  # type: ignore[arg-type]


def seconds(table: dict, key: str, path: str, say: Say) -> float | None:
    """An optional duration in seconds (0 to 10); None when absent or wrong."""
    value = table.get(key)
    if value is not None and (not is_number(value) or not 0 <= value <= 10):
        say(f"{path}.{key}", f"{value!r} is not allowed (expected seconds from 0 to 10)")
        return None
    return None if value is None else float(value)


def points(table: dict, key: str, path: str, say: Say) -> tuple[int, ...]:
    """A non-empty list of keypoint names, as indices into `Body.xy`."""
    names = table.get(key)
    if not (isinstance(names, list) and names and all(n in INDEX for n in names)):
        say(f"{path}.{key}", f"{names!r} is not a list of keypoint names (expected names from: "
            f"{', '.join(INDEX)})")
        return ()
    return tuple(INDEX[n] for n in names)
