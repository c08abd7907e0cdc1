"""Turn plain TOML tables into typed, validated dataclasses, collecting every problem.

Settings classes are ordinary dataclasses whose fields carry bounds in their metadata (see
`setting`). `build` walks a table against such a class: unknown keys, wrong types and
out-of-range values each become one problem line naming the key path and what was expected,
so `appliance config check` can report all of them at once instead of stopping at the first.
"""

from __future__ import annotations

import dataclasses
import math
import typing
from typing import Any, Callable

Validator = Callable[[Any], str | None]


def setting(default: Any = dataclasses.MISSING, *, min: float | None = None, max: float | None = None,
            choices: tuple | None = None, check: Validator | None = None,
            expected: str = "", help: str = "", default_factory: Any = dataclasses.MISSING) -> Any:
    """A dataclass field with the bounds `build` enforces and the help `config show` prints."""
    meta = {"min": min, "max": max, "choices": choices, "check": check, "expected": expected,
            "help": help}
    if default_factory is not dataclasses.MISSING:
        return dataclasses.field(default_factory=default_factory, metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def build(cls: type, table: Any, path: str, problems: list[str]) -> Any:
    """Build `cls` from `table`; append `path.key: problem (expected ...)` lines to `problems`.

    Missing keys take the field default. The returned object is always complete (bad values
    fall back to the default) so one pass can keep checking the rest of the file.
    """
    if not isinstance(table, dict):
        problems.append(f"{path or '(top level)'}: expected a table, got {_describe(table)}")
        table = {}
    hints = typing.get_type_hints(cls)
    known = {f.name: f for f in dataclasses.fields(cls)}
    for key in table:
        if key not in known:
            problems.append(f"{_join(path, key)}: unknown key (expected one of: {', '.join(known)})")
    values = {}
    for name, f in known.items():
        if name in table:
            value = _convert(hints[name], table[name], _join(path, name), f.metadata, problems)
            if value is not _INVALID:
                values[name] = value
    return cls(**values)


_INVALID = object()


def _convert(hint: Any, raw: Any, path: str, meta: Any, problems: list[str]) -> Any:
    origin = typing.get_origin(hint)
    if dataclasses.is_dataclass(hint):
        return build(hint, raw, path, problems)
    if origin is dict:
        return _convert_dict(typing.get_args(hint)[1], raw, path, problems)
    if origin is list:
        return _convert_list(typing.get_args(hint)[0], raw, path, meta, problems)
    value = _scalar(hint, raw)
    if value is _INVALID:
        problems.append(f"{path}: expected {_type_word(hint)}, got {_describe(raw)}")
        return _INVALID
    problem = _check_bounds(value, meta, shown=raw)
    if problem:
        problems.append(f"{path}: {problem}")
        return _INVALID
    return value


def _convert_dict(value_hint: Any, raw: Any, path: str, problems: list[str]) -> Any:
    if not isinstance(raw, dict):
        problems.append(f"{path}: expected a table, got {_describe(raw)}")
        return _INVALID
    out = {}
    for key, item in raw.items():
        value = _convert(value_hint, item, _join(path, key), {}, problems)
        if value is not _INVALID:
            out[key] = value
    return out


def _convert_list(item_hint: Any, raw: Any, path: str, meta: Any, problems: list[str]) -> Any:
    if not isinstance(raw, list):
        problems.append(f"{path}: expected a list, got {_describe(raw)}")
        return _INVALID
    out = []
    for i, item in enumerate(raw):
        value = _convert(item_hint, item, f"{path}[{i}]", {}, problems)
        if value is not _INVALID:
            out.append(value)
    problem = _check_bounds(out, meta)
    if problem:
        problems.append(f"{path}: {problem}")
        return _INVALID
    return out


def _scalar(hint: Any, raw: Any) -> Any:
    """Coerce `raw` to `hint` where TOML allows no doubt (an int is a fine float); else _INVALID."""
    if hint is Any:
        return raw
    if hint is bool:
        return raw if isinstance(raw, bool) else _INVALID
    if hint is int:
        return raw if isinstance(raw, int) and not isinstance(raw, bool) else _INVALID
    if hint is float:
        if isinstance(raw, (int, float)) and not isinstance(raw, bool):
            try:
                value = float(raw)
            except OverflowError:  # an integer too large for a float
                return _INVALID
            return value if math.isfinite(value) else _INVALID
        return _INVALID
    if hint is str:
        return raw if isinstance(raw, str) else _INVALID
    raise TypeError(f"settings_schema: unsupported field type {hint!r}")


def _check_bounds(value: Any, meta: Any, shown: Any = None) -> str | None:
    """None if `value` is within its field's bounds, else why not (quoting `shown`, as written)."""
    lo, hi, choices, check = (meta.get(k) for k in ("min", "max", "choices", "check"))
    shown = _quoted(value if shown is None else shown)
    if choices is not None and value not in choices:
        return f"{shown} is not allowed (expected one of: {', '.join(map(str, choices))})"
    if lo is not None and value < lo or hi is not None and value > hi:
        return f"{shown} is out of range (expected {_range_word(lo, hi)})"
    if check is not None:
        problem = check(value)
        if problem:
            expected = meta.get("expected")
            return f"{problem} (expected {expected})" if expected else problem
    return None


def _range_word(lo: float | None, hi: float | None) -> str:
    if lo is not None and hi is not None:
        return f"a value from {lo} to {hi}"
    return f"a value >= {lo}" if lo is not None else f"a value <= {hi}"


def _type_word(hint: Any) -> str:
    return {bool: "true or false", int: "an integer", float: "a number", str: "a string"}.get(
        hint, str(hint))


def _describe(raw: Any) -> str:
    kind = {bool: "a boolean", int: "an integer", float: "a number", str: "a string",
            list: "a list", dict: "a table"}.get(type(raw), type(raw).__name__)
    if isinstance(raw, (dict, list)):
        return kind  # never repr'd: it may be nested thousands deep
    text = _quoted(raw)
    return f"{kind} {text}" if len(text) <= 40 else kind


def _quoted(value: Any) -> str:
    """repr for a problem line, bounded: an integer of thousands of digits is described (its
    repr is refused past 4300 digits), a long string is cut."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        return f"an integer of about {int(value.bit_length() * 0.30103) + 1} digits"
    if isinstance(value, str) and len(value) > 60:
        return repr(value[:60]) + "..."
    return repr(value)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else str(key)


def to_plain(obj: Any) -> Any:
    """Dataclasses -> plain dicts/lists, for `config show` and JSON output."""
    if dataclasses.is_dataclass(obj):
        return {f.name: to_plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, dict):
        return {k: to_plain(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [to_plain(v) for v in obj]
    return obj
