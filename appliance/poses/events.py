"""Pose verdicts in, clean "start"/"end" events out, per track and pose.

Rules flicker: a keypoint crosses a threshold for one frame, or drops below its score and
becomes unknown. An installation must not retrigger a sound or effect on every flicker, so a
pose must hold for `hold` seconds before "start", must be false for `release` seconds before
"end" (hysteresis in time), and an unknown verdict keeps the current state: it pauses the hold
and release timers (an ankle flickering out of confidence during a held crouch neither restarts
nor advances them) and ends a held pose only after `grace` seconds of nothing but unknown.
Each frame's verdict stands for the time since the previous frame. Times are the frames'
timestamps, so the same stream gives the same events live and replayed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

HOLD = 0.3     # seconds true before "start"
RELEASE = 0.4  # seconds false before "end"
GRACE = 1.0    # seconds of unknown before a held pose ends


@dataclass(frozen=True)
class PoseEvent:
    t: float
    frame: int
    track: int
    pose: str
    event: str  # "start" | "end"

    def to_json(self) -> dict:
        return {"t": round(self.t, 4), "frame": self.frame, "track": self.track,
                "pose": self.pose, "event": self.event}


@dataclass
class _State:
    active: bool = False
    streak: bool | None = None   # the last known verdict
    streak_s: float = 0.0        # seconds of known frames with that verdict, unknown ones paused
    last_t: float | None = None  # the previous frame's time
    unknown_since: float | None = None


@dataclass
class PoseEvents:
    """Debounces verdicts per (track, pose); `timing` holds per-pose (hold, release) overrides
    (None keeps the default), as `PoseRules.timing()` gives them from poses.toml."""

    hold: float = HOLD
    release: float = RELEASE
    grace: float = GRACE
    timing: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)
    states: dict[tuple[int, str], _State] = field(default_factory=dict, init=False, repr=False)

    def update(self, t: float, frame: int, track: int, verdicts: dict[str, bool | None]) -> list[PoseEvent]:
        """Feed one track's verdicts for one frame; return the events they cause."""
        events = []
        for pose, verdict in verdicts.items():
            state = self.states.setdefault((track, pose), _State())
            if self._step(state, pose, verdict, t):
                events.append(PoseEvent(t, frame, track, pose, "start" if state.active else "end"))
        return events

    def end_track(self, t: float, frame: int, track: int) -> list[PoseEvent]:
        """The track is gone: end its held poses now and forget it."""
        keys = [key for key in self.states if key[0] == track]
        events = [PoseEvent(t, frame, track, key[1], "end") for key in keys if self.states[key].active]
        for key in keys:
            del self.states[key]
        return events

    def active(self, track: int) -> list[str]:
        return [pose for (tr, pose), s in self.states.items() if tr == track and s.active]

    def _times(self, pose: str) -> tuple[float, float]:
        hold, release = self.timing.get(pose, (None, None))
        return (self.hold if hold is None else hold, self.release if release is None else release)

    def _step(self, s: _State, pose: str, verdict: bool | None, t: float) -> bool:
        """Advance one state; True when it flipped."""
        dt = t - s.last_t if s.last_t is not None and t > s.last_t else 0.0
        s.last_t = t
        if verdict is None:
            s.unknown_since = t if s.unknown_since is None else s.unknown_since
            if s.active and t - s.unknown_since >= self.grace:
                s.active, s.streak, s.streak_s = False, None, 0.0
                return True
            return False
        s.unknown_since = None
        if verdict == s.streak:
            s.streak_s += dt
        else:
            s.streak, s.streak_s = verdict, 0.0
        hold, release = self._times(pose)
        flips = verdict != s.active and s.streak_s >= (hold if verdict else release) - 1e-9
        s.active ^= flips
        return flips
