"""The appliance's one config file: TOML mapped to typed settings, with every problem reported.

`load_config` is what start-up, `appliance config check` and `appliance config show` all call,
so a file that passes the check is exactly a file the appliance will run with.
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from appliance.effects import EFFECTS
from appliance.errors import ConfigError
from appliance.outputs import parse_output_spec
from appliance.settings_schema import build, setting, to_plain
from appliance.sources import parse_source_spec

EXAMPLE_CONFIG = Path(__file__).parent / "data" / "appliance.example.toml"


def _spec_check(parse):
    """Adapt a spec parser that raises ValueError into a settings `check` returning the message."""
    def check(value: str) -> str | None:
        try:
            parse(value)
        except ValueError as exc:
            return str(exc)
        return None
    return check


@dataclass
class SourceSettings:
    spec: str = setting("auto", check=_spec_check(parse_source_spec),
                        expected="auto, picamera2, camera:N, sample, synthetic or a file path",
                        help="where frames come from")
    width: int = setting(640, min=16, max=4096, help="capture width for cameras and synthetic")
    height: int = setting(480, min=16, max=4096, help="capture height for cameras and synthetic")
    fps: float = setting(30.0, min=1.0, max=240.0, help="capture rate for cameras and synthetic")
    loop: bool = setting(False, help="start a video file again when it ends")
    realtime: bool = setting(True, help="play files at their own frame rate, like a camera")


@dataclass
class OutputSettings:
    spec: str = setting("auto", check=_spec_check(parse_output_spec),
                        expected="auto, window, hdmi, null, file:PATH.mp4 or file:PATH.png",
                        help="where frames go")
    title: str = setting("appliance", help="window title")
    rotation: int = setting(0, choices=(0, 90, 180, 270), help="turn the picture clockwise")
    fit: str = setting("fit", choices=("fit", "fill", "stretch"),
                       help="fit: whole picture, black bars; fill: cover the screen, crop; stretch")


@dataclass
class RunSettings:
    mode: str = setting("passthrough", help="the mode shown at start")
    frames: int = setting(0, min=0, help="stop after this many output frames (0: never)")


@dataclass
class LoggingSettings:
    level: str = setting("info", choices=("debug", "info", "warning", "error"))
    stats_every_s: float = setting(60.0, min=0.0, max=86400.0,
                                   help="log a stats line this often (0: never)")


@dataclass
class ModelSettings:
    dir: str = setting("", help="models folder with manifest.toml (empty: models_tflite/ of the install)")
    runtime: str = setting("auto", choices=("auto", "ai_edge_litert", "tflite_runtime"),
                           help="TFLite runtime (auto: ai-edge-litert, else tflite-runtime)")
    threads: int = setting(0, min=0, max=16,
                           help="CPU threads per model (0: one fewer than the cores, leaving one "
                                "to the display loop)")
    edgetpu: str = setting("auto", choices=("auto", "off"),
                           help="use NAME_edgetpu.tflite beside a model when a Coral is present")
    pose: str = setting("movenet_multipose", help="pose model (see `appliance models list`)")
    low_memory: str = setting("auto", choices=("auto", "on", "off"),
                              help="on: the style networks run without XNNPACK (about 200 MB less "
                                   "with a style mode shown, keyframes about 2x slower); auto: on "
                                   "when the board has under 1.5 GB of RAM (a 1 GB Pi 4)")


@dataclass
class GpioSettings:
    enabled: bool = setting(False, help="read buttons and drive the status LED")
    next_pin: int = setting(17, min=0, max=27, help="BCM pin of the next-mode button (to ground)")
    previous_pin: int = setting(0, min=0, max=27, help="BCM pin of the previous-mode button (0: none)")
    led_pin: int = setting(0, min=0, max=27, help="BCM pin of the status LED (0: none)")
    long_press_s: float = setting(2.0, min=0.5, max=30.0, help="hold this long to teach a pose")
    shutdown_press_s: float = setting(0.0, min=0.0, max=60.0,
                                      help="hold this long to shut down safely (0: off)")
    bounce_s: float = setting(0.05, min=0.0, max=1.0, help="debounce time")


@dataclass
class OscSettings:
    enabled: bool = setting(False, help="send pose events over OSC (UDP)")
    host: str = setting("127.0.0.1", help="the sound or light desk's address")
    port: int = setting(9000, min=1, max=65535)
    keypoints_hz: float = setting(0.0, min=0.0, max=60.0,
                                  help="also send /pose/<id>/keypoints this often (0: never)")


@dataclass
class ReactionSettings:
    pose: str = setting("", help="a named or taught pose")
    people: int = setting(1, min=1, max=6, help="how many people must hold it at once")
    action: str = setting("", help="next_mode, previous_mode, mode:NAME or effect:EVENT")


@dataclass
class PoseSettings:
    enabled: bool = setting(False, help="watch for poses (runs the [models] pose model)")
    rules: str = setting("", help="named poses file (empty: the built-in poses.toml)")
    mirror: bool = setting(True, help="visitors see a mirror: their left is the screen's left")
    examples: str = setting("", help="taught poses file (empty: taught-poses.json in the state dir)")
    osc: OscSettings = field(default_factory=OscSettings)
    reactions: list[ReactionSettings] = field(default_factory=list)


@dataclass
class EffectSettings:
    """One step of a mode: an effect name and its typed parameters."""

    effect: str
    params: Any


@dataclass
class ModeSettings:
    description: str = ""
    effects: list[EffectSettings] = field(default_factory=list)


def default_modes() -> dict[str, ModeSettings]:
    return {
        "passthrough": ModeSettings("The picture as the camera sees it.", []),
        "mirror": ModeSettings("The picture flipped left-right, like a mirror.",
                               [EffectSettings("mirror", EFFECTS["mirror"].Params())]),
        "aged-film": ModeSettings("The room turns into old film that falls apart and heals.",
                                  [EffectSettings("film", EFFECTS["film"].Params()), _mirror()]),
        "kandinsky": ModeSettings("Everything painted in Kandinsky's colours and strokes.",
                                  [_effect("style"), _mirror()]),
        "kandinsky-people": ModeSettings("Only the visitors are painted; the room stays real.",
                                         [_effect("style"), _effect("mask", keep="room"), _mirror()]),
        "kandinsky-room": ModeSettings("The room is painted around the visitors, who stay real.",
                                       [_effect("style"), _effect("mask", keep="people"), _mirror()]),
        "motion-painting": ModeSettings("Dancers leave painted strokes behind their hands and feet.",
                                        [_effect("trails"), _effect("skeleton"), _mirror()]),
        "skeleton": ModeSettings("Visitors replaced by their bright skeletons on black.",
                                 [_effect("skeleton", background="black"), _mirror()]),
        "anonymizer": ModeSettings("Privacy: the empty room, visitors as silhouettes and skeletons.",
                                   [_effect("anonymizer", show="both"), _mirror()]),
    }


def _effect(name: str, **params: Any) -> EffectSettings:
    return EffectSettings(name, EFFECTS[name].Params(**params))


def _mirror() -> EffectSettings:
    """Last in a mode, so analysis sees the camera's picture and everything drawn flips with it."""
    return _effect("mirror")


@dataclass
class Settings:
    source: SourceSettings = field(default_factory=SourceSettings)
    output: OutputSettings = field(default_factory=OutputSettings)
    run: RunSettings = field(default_factory=RunSettings)
    logging: LoggingSettings = field(default_factory=LoggingSettings)
    models: ModelSettings = field(default_factory=ModelSettings)
    gpio: GpioSettings = field(default_factory=GpioSettings)
    poses: PoseSettings = field(default_factory=PoseSettings)
    modes: dict[str, ModeSettings] = field(default_factory=default_modes)


_SECTIONS = {"source": SourceSettings, "output": OutputSettings, "run": RunSettings,
             "logging": LoggingSettings, "models": ModelSettings, "gpio": GpioSettings,
             "poses": PoseSettings}


def load_config(path: str | Path | None) -> Settings:
    """Read and validate a config file (None: the built-in defaults). Raises ConfigError."""
    if path is None:
        return Settings()
    label = str(path)
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError([f"{label}: file not found"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{label}: cannot read file ({exc})"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{label}: not valid TOML: {exc}"]) from None
    problems: list[str] = []
    settings = settings_from_table(raw, problems)
    if problems:
        raise ConfigError([f"{label}: {p}" for p in problems])
    return settings


def settings_from_table(raw: dict, problems: list[str]) -> Settings:
    """Build Settings from a parsed TOML table; append problems (without the file name)."""
    settings = Settings()
    for key, value in raw.items():
        if key in _SECTIONS:
            setattr(settings, key, build(_SECTIONS[key], value, key, problems))
        elif key == "modes":
            settings.modes.update(_build_modes(value, problems))
        else:
            expected = ", ".join([*_SECTIONS, "modes"])
            problems.append(f"{key}: unknown section (expected one of: {expected})")
    check_cross_fields(settings, problems)
    return settings


def check_cross_fields(settings: Settings, problems: list[str], mode_key: str = "run.mode") -> None:
    gpio = settings.gpio
    pins = [p for p in (gpio.next_pin, gpio.previous_pin, gpio.led_pin) if p]
    if len(pins) != len(set(pins)):
        problems.append(f"gpio: two functions share a pin ({', '.join(map(str, pins))}) "
                        "(expected different pins for next, previous and led)")
    if gpio.shutdown_press_s and gpio.shutdown_press_s <= gpio.long_press_s:
        problems.append(f"gpio.shutdown_press_s: {gpio.shutdown_press_s} must be longer than "
                        f"long_press_s ({gpio.long_press_s}) (expected 0 or a longer hold)")
    for i, reaction in enumerate(settings.poses.reactions):
        where = f"poses.reactions[{i}]"
        if not reaction.pose:
            problems.append(f"{where}.pose: missing (expected the name of a named or taught pose)")
        target = reaction.action.removeprefix("mode:")
        is_effect_event = reaction.action.startswith("effect:") and len(reaction.action) > 7
        if reaction.action not in ("next_mode", "previous_mode") and not is_effect_event and (
                not reaction.action.startswith("mode:") or target not in settings.modes):
            problems.append(f"{where}.action: {reaction.action!r} is not an action (expected "
                            f"next_mode, previous_mode, effect:EVENT or mode:NAME with NAME one of: "
                            f"{', '.join(settings.modes)})")
    if settings.run.mode not in settings.modes:
        problems.append(f"{mode_key}: unknown mode {settings.run.mode!r} "
                        f"(expected one of: {', '.join(settings.modes)})")


def _build_modes(raw: Any, problems: list[str]) -> dict[str, ModeSettings]:
    if not isinstance(raw, dict):
        problems.append("modes: expected a table of modes, e.g. [modes.NAME]")
        return {}
    modes = {}
    for name, table in raw.items():
        path = f"modes.{name}"
        if not isinstance(table, dict):
            problems.append(f"{path}: expected a table with 'effects = [...]'")
            continue
        for key in table.keys() - {"description", "effects"}:
            problems.append(f"{path}.{key}: unknown key (expected one of: description, effects)")
        description = table.get("description", "")
        if not isinstance(description, str):
            problems.append(f"{path}.description: expected a string")
            description = ""
        modes[name] = ModeSettings(description, _build_effects(table.get("effects", []), path,
                                                               problems))
    return modes


def _build_effects(raw: Any, path: str, problems: list[str]) -> list[EffectSettings]:
    if not isinstance(raw, list):
        problems.append(f"{path}.effects: expected a list of effects, e.g. [{{ effect = \"mirror\" }}]")
        return []
    steps = []
    for i, item in enumerate(raw):
        where = f"{path}.effects[{i}]"
        if not isinstance(item, dict) or not isinstance(item.get("effect"), str):
            problems.append(f"{where}: expected a table with effect = \"NAME\"")
            continue
        params = dict(item)
        name = params.pop("effect")
        if name not in EFFECTS:
            problems.append(f"{where}.effect: unknown effect {name!r} "
                            f"(expected one of: {', '.join(sorted(EFFECTS))})")
            continue
        steps.append(EffectSettings(name, build(EFFECTS[name].Params, params, where, problems)))
    return steps


def apply_overrides(settings: Settings, overrides: dict[str, Any]) -> Settings:
    """Apply command-line values such as {"--source": "sample"}; problems name the argument."""
    targets = {"--source": ("source", "spec"), "--output": ("output", "spec"),
               "--mode": ("run", "mode"), "--frames": ("run", "frames")}
    problems: list[str] = []
    for arg, value in overrides.items():
        if value is None:
            continue
        section, name = targets[arg]
        table = to_plain(getattr(settings, section))
        table[name] = value
        sub: list[str] = []
        new = build(type(getattr(settings, section)), table, section, sub)
        problems += [f"{arg}: {p.split(': ', 1)[1]}" for p in sub]
        if not sub:
            setattr(settings, section, new)
    check_cross_fields(settings, problems, "--mode" if overrides.get("--mode") else "run.mode")
    if problems:
        raise ConfigError(problems)
    return settings


def dump_toml(settings: Settings) -> str:
    """The effective settings as TOML that `load_config` reads back to the same settings."""
    plain = to_plain(settings)
    lines: list[str] = []
    for section in _SECTIONS:
        _dump_table(lines, section, plain[section])
    for name, mode in plain["modes"].items():
        lines.append(f"[modes.{_toml_key(name)}]")
        lines.append(f"description = {_toml_value(mode['description'])}")
        effects = [{"effect": e["effect"], **e["params"]} for e in mode["effects"]]
        lines.append(f"effects = {_toml_value(effects)}")
        lines.append("")
    return "\n".join(lines)


def _dump_table(lines: list[str], name: str, table: dict) -> None:
    """[name] with its scalars and lists, then its sub-tables as [name.sub]."""
    lines.append(f"[{name}]")
    lines += [f"{k} = {_toml_value(v)}" for k, v in table.items() if not isinstance(v, dict)]
    lines.append("")
    for key, value in table.items():
        if isinstance(value, dict):
            _dump_table(lines, f"{name}.{key}", value)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def _toml_key(key: str) -> str:
    bare = key.replace("-", "").replace("_", "").isalnum()
    return key if bare else _toml_value(key)


def settings_equal(a: Settings, b: Settings) -> bool:
    return dataclasses.asdict(a) == dataclasses.asdict(b)
