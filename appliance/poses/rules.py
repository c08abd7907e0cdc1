"""Named poses as data: conditions on body geometry, read from poses.toml, judged tri-state.

Curators should add or tune a pose without touching code, so each pose is a tree of `all`/`any`
groups over a handful of measures in body units (see `Body`):

    above    = [A, B]     how far A is above B                       (torso lengths)
    leftward = [A, B]     how far A is left of B on the screen       (torso lengths)
    apart    = [A, B]     horizontal distance between A and B        (torso lengths)
    distance = [A, B]     straight-line distance between A and B     (torso lengths)
    angle    = [A, B, C]  the angle at B between B->A and B->C        (degrees)

each with `min` and/or `max`. A measure on an unseen keypoint is unknown (None), never False:
`all` is False if any part is False, else None if any part is unknown; `any` is True if any
part is True, else None if any part is unknown. Events treat unknown as "keep what you had".
"""

from __future__ import annotations

import functools
import math
import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from appliance import paths
from appliance.errors import ConfigError
from appliance.poses.body import INDEX, Body
from appliance.poses.checks import Say, is_number, seconds
from appliance.poses.motions import Motion, MotionHistory, parse_motion

ARITY = {"above": 2, "leftward": 2, "apart": 2, "distance": 2, "angle": 3}
Verdict = bool | None


def _measure(kind: str, body: Body, p: tuple[int, ...]) -> float:
    xy, unit = body.xy, body.unit or 1.0
    if kind == "above":
        return (xy[p[1], 1] - xy[p[0], 1]) / unit
    if kind == "leftward":
        return (xy[p[1], 0] - xy[p[0], 0]) / unit
    if kind == "apart":
        return abs(xy[p[0], 0] - xy[p[1], 0]) / unit
    if kind == "distance":
        return float(np.hypot(*(xy[p[0]] - xy[p[1]]))) / unit
    u, v = xy[p[0]] - xy[p[1]], xy[p[2]] - xy[p[1]]
    return math.degrees(math.atan2(abs(u[0] * v[1] - u[1] * v[0]), float(u @ v)))


@dataclass(frozen=True)
class Measure:
    kind: str
    points: tuple[int, ...]
    low: float | None
    high: float | None

    def judge(self, body: Body) -> Verdict:
        if not body.known(*self.points):
            return None
        value = _measure(self.kind, body, self.points)
        return (self.low is None or value >= self.low) and (self.high is None or value <= self.high)


@dataclass(frozen=True)
class Group:
    mode: str  # "all" | "any"
    parts: tuple[Measure | Group, ...]

    def judge(self, body: Body) -> Verdict:
        verdicts = [part.judge(body) for part in self.parts]
        decisive = self.mode == "any"  # True decides `any`; False decides `all`
        if decisive in verdicts:
            return decisive
        return None if None in verdicts else not decisive


KINDS = tuple(ARITY)


class CompiledPoses:
    """Every named pose judged at once: all their measures computed for a body in a few array
    operations, then each pose's all/any tree read off the verdicts. The trees of `Measure` and
    `Group` say what a pose means; this is how a room of visitors is judged in a frame (tens of
    measures a person: one Python call each was the pose stage's largest cost after the model).
    """

    def __init__(self, poses: dict[str, PoseRule]):
        measures: dict[Measure, int] = {}
        self.trees = {name: self._compile(rule.condition, measures) for name, rule in poses.items()}
        listed = list(measures)
        self.kind = np.array([KINDS.index(m.kind) for m in listed], np.int64)
        self.column = np.arange(len(listed))
        self.points = np.array([(m.points * 3)[:3] for m in listed], np.int64).reshape(-1, 3)
        self.low = np.array([-np.inf if m.low is None else m.low for m in listed], np.float64)
        self.high = np.array([np.inf if m.high is None else m.high for m in listed], np.float64)

    def _compile(self, node: Measure | Group, measures: dict[Measure, int]):
        if isinstance(node, Measure):
            return measures.setdefault(node, len(measures))
        return node.mode == "any", tuple(self._compile(part, measures) for part in node.parts)

    def judge(self, body: Body) -> dict[str, Verdict]:
        verdicts = self.verdicts(body)
        return {name: _read(tree, verdicts) for name, tree in self.trees.items()}

    def verdicts(self, body: Body) -> list[Verdict]:
        """Each measure's verdict for `body`: True, False, or None where a point is unseen."""
        if body.unit is None or not len(self.kind):
            return [None] * len(self.kind)
        xy, (a, b, c) = body.xy, self.points.T
        dx, dy = xy[b, 0] - xy[a, 0], xy[b, 1] - xy[a, 1]
        u, v = xy[a] - xy[b], xy[c] - xy[b]
        angle = np.degrees(np.arctan2(np.abs(u[:, 0] * v[:, 1] - u[:, 1] * v[:, 0]), (u * v).sum(axis=1)))
        every = np.stack((dy / body.unit, dx / body.unit, np.abs(dx) / body.unit,
                          np.hypot(dx, dy) / body.unit, angle))  # (kinds, measures): np.choose
        value = every[self.kind, self.column]                      # allocates ~20x more
        passed = ((value >= self.low) & (value <= self.high)).tolist()
        known = body.seen[self.points].all(axis=1).tolist()
        return [p if k else None for p, k in zip(passed, known)]


def _read(tree, verdicts: list[Verdict]) -> Verdict:
    """A compiled all/any tree's verdict, with `Group.judge`'s tri-state rules."""
    if isinstance(tree, int):
        return verdicts[tree]
    decisive, parts = tree
    seen = [_read(part, verdicts) for part in parts]
    if decisive in seen:
        return decisive
    return None if None in seen else not decisive


@dataclass(frozen=True)
class PoseRule:
    name: str
    condition: Group
    hold: float | None = None     # seconds before "start"; None: the events default
    release: float | None = None  # seconds before "end"; None: the events default


@dataclass(frozen=True)
class PoseRules:
    poses: dict[str, PoseRule]
    motions: dict[str, Motion]
    min_score: float = 0.3

    @property
    def names(self) -> list[str]:
        return [*self.poses, *self.motions]

    def timing(self) -> dict[str, tuple[float | None, float | None]]:
        """Per-name (hold, release) overrides for `PoseEvents`."""
        rules = [*self.poses.values(), *self.motions.values()]
        return {r.name: (r.hold, r.release) for r in rules if (r.hold, r.release) != (None, None)}

    @functools.cached_property
    def compiled(self) -> CompiledPoses:
        return CompiledPoses(self.poses)

    def evaluate(self, keypoints: np.ndarray, mirror: bool = False) -> dict[str, Verdict]:
        """Every still pose (no motions) for one set of keypoints."""
        return self.compiled.judge(Body.of(keypoints, mirror, self.min_score))


class PoseJudge:
    """Poses and motions for each track over time (motions need each track's recent past)."""

    def __init__(self, rules: PoseRules, mirror: bool = False):
        self.rules, self.mirror = rules, mirror
        self.compiled = rules.compiled  # built now, not on the first visitor's frame
        self.histories: dict[int, MotionHistory] = {}

    def update(self, track_id: int, keypoints: np.ndarray, t: float) -> dict[str, Verdict]:
        body = Body.of(keypoints, self.mirror, self.rules.min_score)
        verdicts = self.compiled.judge(body)
        history = self.histories.setdefault(track_id, MotionHistory())
        history.add(t, body)
        for name, motion in self.rules.motions.items():
            verdicts[name] = motion.judge(history)
        return verdicts

    def forget(self, track_id: int) -> None:
        self.histories.pop(track_id, None)


# ---- parsing: every problem is one line "FILE: key.path: what is wrong (expected ...)" ----

def load_rules(path: str | Path = "") -> PoseRules:
    """The named poses in `path` (empty: the shipped poses.toml)."""
    path = Path(path or paths.NAMED_POSES)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError([f"{path}: cannot be read ({exc.strerror})"]) from None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError) as exc:
        raise ConfigError([f"{path}: not valid TOML ({type(exc).__name__}: {exc})"]) from None
    return parse_rules(data, str(path))


def parse_rules(data: dict, source: str = "poses.toml") -> PoseRules:
    problems: list[str] = []

    def say(key: str, what: str) -> None:
        problems.append(f"{source}: {key}: {what}")

    for key in set(data) - {"min_score", "poses", "motions"}:
        say(key, "unknown key (expected min_score, poses or motions)")
    min_score = data.get("min_score", 0.3)
    if not is_number(min_score) or not 0 <= min_score <= 1:
        say("min_score", f"{min_score!r} is not allowed (expected a number from 0 to 1)")
    poses = {name: _pose(name, table, f"poses.{name}", say)
             for name, table in _tables(data, "poses", say).items()}
    motions = {name: parse_motion(name, table, f"motions.{name}", say)
               for name, table in _tables(data, "motions", say).items()}
    for name in set(poses) & set(motions):
        say(f"motions.{name}", "also defined under poses (expected each name once)")
    if problems:
        raise ConfigError(problems)
    return PoseRules(poses, motions, float(min_score))  # type: ignore[arg-type]


def _tables(data: dict, key: str, say: Say) -> dict:
    tables = data.get(key, {})
    if not isinstance(tables, dict) or not all(isinstance(t, dict) for t in tables.values()):
        say(key, "must hold one table per name (expected [" + key + ".NAME])")
        return {}
    return tables


def _pose(name: str, table: dict, path: str, say: Say) -> PoseRule:
    for key in set(table) - {"all", "any", "hold", "release", "description"}:
        say(f"{path}.{key}", "unknown key (expected all, any, hold, release or description)")
    groups = [key for key in ("all", "any") if key in table]
    if len(groups) != 1:
        say(path, "needs exactly one of all or any (expected a list of conditions)")
        return PoseRule(name, Group("all", ()))
    condition = _condition({groups[0]: table[groups[0]]}, path, say)
    hold, release = (seconds(table, k, path, say) for k in ("hold", "release"))
    return PoseRule(name, condition, hold, release)  # type: ignore[arg-type]


def _condition(table: object, path: str, say: Say) -> Measure | Group:
    if not isinstance(table, dict):
        say(path, f"{table!r} is not a condition (expected a table such as {{above = [A, B], min = 0.5}})")
        return Group("all", ())
    kinds = [k for k in table if k in ARITY or k in ("all", "any")]
    for key in set(table) - set(kinds) - {"min", "max"}:
        say(f"{path}.{key}", f"unknown key (expected one of {', '.join([*ARITY, 'all', 'any'])}, min, max)")
    if len(kinds) != 1:
        say(path, f"has {len(kinds)} measures (expected exactly one)")
        return Group("all", ())
    kind = kinds[0]
    if kind in ("all", "any"):
        return _group(kind, table[kind], f"{path}.{kind}", say)
    return _measure_spec(kind, table, path, say)


def _group(mode: str, items: object, path: str, say: Say) -> Group:
    if not isinstance(items, list) or not items:
        say(path, "must be a non-empty list (expected [{...}, {...}])")
        return Group(mode, ())
    return Group(mode, tuple(_condition(item, f"{path}[{i}]", say) for i, item in enumerate(items)))


def _measure_spec(kind: str, table: dict, path: str, say: Say) -> Measure:
    names = table[kind]
    arity = ARITY[kind]
    if not (isinstance(names, list) and len(names) == arity and all(n in INDEX for n in names)):
        say(f"{path}.{kind}", f"{names!r} is not {arity} keypoint names (expected names from: "
            f"{', '.join(INDEX)})")
        return Measure(kind, (0,) * arity, None, None)
    low, high = table.get("min"), table.get("max")
    if low is None and high is None:
        say(path, "has no bound (expected min, max or both)")
    for key, value in (("min", low), ("max", high)):
        if value is not None and not is_number(value):
            say(f"{path}.{key}", f"{value!r} is not a number (expected e.g. 0.5)")
            return Measure(kind, (0,) * arity, None, None)
    if low is not None and high is not None and low > high:
        say(path, f"min {low} is above max {high} (expected min <= max)")
    return Measure(kind, tuple(INDEX[n] for n in names), low, high)
