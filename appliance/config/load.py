"""The appliance's one config file: TOML mapped to typed settings, with every problem reported.

`load_config` is what start-up, `appliance config check` and `appliance config show` all call,
so a file that passes the check is exactly a file the appliance will run with.
"""

from __future__ import annotations

import dataclasses
import tomllib
import typing
from pathlib import Path
from typing import Any

from appliance.config.schema import build, to_plain
from appliance.config.sections import (
    EffectSettings,
    ModeSettings,
    Settings,
    default_modes,
)
from appliance.core import registry
from appliance.errors import ConfigError
from appliance.schedule.hours import DAYS

MAX_CONFIG_BYTES = 1 << 20  # a config is a few KiB; a bigger file is a mistake (a video, a log)
# every table of Settings but [modes], whose tables are named by the user
_SECTIONS = {name: hint for name, hint in typing.get_type_hints(Settings).items() if name != "modes"}


def load_config(path: str | Path | None) -> Settings:
    """Read and validate a config file (None: the built-in defaults). Raises ConfigError."""
    if path is None:
        return Settings()
    label = str(path)
    try:
        if Path(path).stat().st_size > MAX_CONFIG_BYTES:
            raise ConfigError([f"{label}: larger than {MAX_CONFIG_BYTES // 1024} KiB (expected an appliance config)"])
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"{label}: file not found"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{label}: cannot read file ({exc})"]) from None
    return config_from_text(text, label)


def config_from_text(text: str, label: str) -> Settings:
    """Validate a config's text as `load_config` does a file's (the technician's page checks
    an edit with it before writing); problems start with `label`. Raises ConfigError."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_CONFIG_BYTES:
        raise ConfigError([f"{label}: larger than {MAX_CONFIG_BYTES // 1024} KiB (expected an appliance config)"])
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{label}: not valid TOML: {exc}"]) from None
    except RecursionError:
        raise ConfigError([f"{label}: tables or lists nested too deeply (expected an appliance config)"]) from None
    except ValueError as exc:  # tomllib's own: an integer of more than 4300 digits
        raise ConfigError([one_line(f"{label}: not valid TOML: {exc}")]) from None
    problems: list[str] = []
    settings = settings_from_table(raw, problems)
    if problems:
        raise ConfigError([one_line(f"{label}: {p}") for p in problems])
    return settings


MAX_PROBLEM = 400  # characters: a 5000-character key is quoted by its start


def one_line(text: str) -> str:
    """A problem as one short line: a key or value holding a newline or a control character is
    written with escapes, as in TOML, and a line made long by a long name is cut."""
    line = "".join(c if c.isprintable() or c == " " else c.encode("unicode_escape").decode("ascii") for c in text)
    return line if len(line) <= MAX_PROBLEM else line[:MAX_PROBLEM - 3] + "..."


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
    schedule = settings.schedule
    if schedule.enabled and not any(getattr(schedule.hours, day).strip() for day in DAYS):
        problems.append("schedule.hours: no day has opening hours, so the box would never wake "
                        "(expected ranges like \"10:00-18:00\" on at least one day)")
    for name, mode in settings.modes.items():
        if mode.idle_after_s and (mode.attract == name or mode.attract not in settings.modes):
            problems.append(f"modes.{name}.attract: {mode.attract!r} is not another mode (expected one "
                            f"of: {', '.join(m for m in settings.modes if m != name)})")
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
        keys = build(ModeSettings, {k: v for k, v in table.items() if k != "effects"}, path, problems)
        built_in = default_modes().get(name) if "effects" not in table else None
        if built_in is None:
            keys.effects = _build_effects(table.get("effects", []), path, problems)
            modes[name] = keys
        else:  # a built-in mode given only other keys (idle_after_s = 60) keeps its effects
            modes[name] = dataclasses.replace(built_in, **{k: getattr(keys, k) for k in table if hasattr(keys, k)})
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
        effect = registry.effect(name)
        if effect is None:
            problems.append(f"{where}.effect: unknown effect {name!r} "
                            f"(expected one of: {', '.join(registry.effect_names())})")
            continue
        built = build(effect.Params, params, where, problems)
        check = getattr(built, "problems", None)  # an effect's checks across its keys, if any
        problems += [f"{where}.{p}" for p in (check() if callable(check) else [])]
        steps.append(EffectSettings(name, built))
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
        if mode["idle_after_s"] or mode["attract"] != ModeSettings.attract:
            lines.append(f"idle_after_s = {_toml_value(mode['idle_after_s'])}")
            lines.append(f"attract = {_toml_value(mode['attract'])}")
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
        return _toml_string(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r", "\b": "\\b", "\f": "\\f"}


def _toml_string(text: str) -> str:
    """A TOML basic string: quotes, backslashes and every control character escaped (a
    multi-line description or a stray control character must not break the file)."""
    return '"' + "".join(_ESCAPES.get(c) or (f"\\u{ord(c):04x}" if ord(c) < 32 or ord(c) == 127 else c)
                         for c in text) + '"'


def _toml_key(key: str) -> str:
    """Bare where TOML allows it (ASCII letters, digits, - and _), quoted otherwise."""
    bare = bool(key) and key.isascii() and key.replace("-", "").replace("_", "").isalnum()
    return key if bare else _toml_string(key)


def settings_equal(a: Settings, b: Settings) -> bool:
    return dataclasses.asdict(a) == dataclasses.asdict(b)
