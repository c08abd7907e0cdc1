"""What the boxes of a show say to each other over MQTT: topics and JSON payloads, checked.

Every message is a JSON object naming the box that sent it (`box`) and the sender's wall-clock
time (`t`, seconds since 1970 UTC; boxes keep their clocks by NTP), under one show's topics:

| topic | payload | when |
|---|---|---|
| `show/NAME/action` | `box`, `t`, `action` | a show-wide reaction fired on `box`: every box does `action` |
| `show/NAME/mode` | `box`, `t`, `mode` | `box` switched to `mode`, or joined showing it |
| `show/NAME/pose` | `box`, `t`, `track`, `pose`, `event` | a visitor at `box` started or stopped holding a pose |
| `show/NAME/presence/BOX` | `box`, `t`, `online` | retained: the box joined, or left (the broker says so for a box that vanished) |

What comes from the network is untrusted: `decode` takes only these shapes, small
(MAX_PAYLOAD bytes), with finite numbers and names as the config allows them, and raises
BadMessage saying why for anything else. Nothing here needs the MQTT library (`config check`
uses `name_problem`).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

MAX_PAYLOAD = 2048  # bytes: the largest message is a pose event of about 120
MAX_TEXT = 100  # characters of an action, a mode or a pose name
NAME = re.compile(r"[A-Za-z0-9._-]{1,64}")
KINDS = ("action", "mode", "pose", "presence")
FIELDS = {"action": {"action": str}, "mode": {"mode": str},
          "pose": {"track": int, "pose": str, "event": str},
          "presence": {"online": bool}}


class BadMessage(ValueError):
    """A message that is not one of the show's: why, in a few words."""


@dataclass(frozen=True)
class Message:
    kind: str  # one of KINDS
    box: str
    t: float
    fields: dict[str, Any] = field(default_factory=dict)
    retained: bool = False  # kept by the broker from earlier (a presence), not said just now

    def __getitem__(self, key: str) -> Any:
        return self.fields[key]


def name_problem(name: str) -> str | None:
    """None when `name` can be a show's or a box's name: one MQTT topic level, no wildcards."""
    if NAME.fullmatch(name):
        return None
    return f"{name[:40]!r} is not a name for a show or a box"


def topic(show: str, kind: str, box: str = "") -> str:
    return f"show/{show}/presence/{box}" if kind == "presence" else f"show/{show}/{kind}"


def encode(box: str, t: float, **fields: Any) -> bytes:
    return json.dumps({"box": box, "t": round(t, 3), **fields}, separators=(",", ":")).encode()


def decode(show: str, topic_name: str, payload: bytes, retained: bool = False) -> Message:
    """The message on `topic_name` (under show/`show`/), checked; BadMessage says why not."""
    kind = _kind(show, topic_name)
    if len(payload) > MAX_PAYLOAD:
        raise BadMessage(f"{len(payload)} bytes (at most {MAX_PAYLOAD})")
    try:
        data = json.loads(payload.decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise BadMessage(f"not JSON ({str(exc)[:60]})") from None
    if not isinstance(data, dict):
        raise BadMessage("not a JSON object")
    box, t = data.get("box"), data.get("t")
    if not isinstance(box, str) or name_problem(box):
        raise BadMessage("no valid box name")
    if not _is_number(t):
        raise BadMessage(f"from {box}: no time t")
    if kind == "presence" and topic_name.rsplit("/", 1)[1] != box:
        raise BadMessage(f"from {box}: presence under another box's name")
    fields = {}
    for key, kind_of in FIELDS[kind].items():
        value = data.get(key)
        if not _is(value, kind_of):
            raise BadMessage(f"from {box}: {key} missing or not a {kind_of.__name__}")
        fields[key] = value
    return Message(kind, box, float(t), fields, retained)


def _kind(show: str, topic_name: str) -> str:
    prefix = f"show/{show}/"
    rest = topic_name[len(prefix):] if topic_name.startswith(prefix) else ""
    kind = rest.split("/", 1)[0]
    if kind not in KINDS or (kind == "presence") != ("/" in rest):
        raise BadMessage(f"not a topic of the show ({topic_name[:80]!r})")
    return kind


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not a number")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is(value: Any, kind: type) -> bool:
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2**31
    if kind is str:
        return isinstance(value, str) and 0 < len(value) <= MAX_TEXT and value.isprintable()
    return isinstance(value, kind)


def action_problem(action: str, modes: Any) -> str | None:
    """None when `action` is one a box can do: next_mode, previous_mode, effect:EVENT, or
    mode:NAME with NAME one of `modes` (this box's own)."""
    if action in ("next_mode", "previous_mode") or (action.startswith("effect:") and len(action) > 7):
        return None
    if action.startswith("mode:"):
        return None if action[5:] in modes else f"no mode {action[5:]!r} on this box"
    return f"{action[:40]!r} is not an action"
