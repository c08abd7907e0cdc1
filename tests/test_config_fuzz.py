"""The config checker against thousands of mutated configs (seeded): whatever it is given, it
answers with settings or one-line problems naming the file, never a traceback or a hang; and
configs it accepts start."""

from __future__ import annotations

import copy
import math
import random
import signal
import sys
import time

import pytest

from appliance.config import Settings, load_config
from appliance.config.load import _toml_key, _toml_string
from appliance.config.schema import to_plain
from appliance.errors import ConfigError

CASES = 2500
SEED = 20261130

STRANGE = [0, -1, 1, 2**31, 2**63, -(2**63) - 1, 10**30, 10**400, -(10**5000), 1e308, -1e-308, 0.5, -0.0,
           math.inf, -math.inf, math.nan, True, False, "", " ", "x" * 5000, "\x00", "\x07bell", "line\nbreak",
           "日本語", "café", "../../etc/passwd", "camera:99", "camera:-1", "file:/nonexistent.mp4", "hdmi", "null",
           "sample", "synthetic", "kandinsky", "builtin:99", "blend:5=1,5=1", "mode:nowhere", "effect:",
           [], [1, 2], ["left_wrist"], [[[]]], {}, {"effect": "mirror"}, {"a": {"b": {}}}]


def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return "{ " + ", ".join(f"{_toml_key(str(k))} = {toml_value(v)}" for k, v in value.items()) + " }"


def as_toml(table: dict) -> str:
    return "\n".join(f"{_toml_key(k)} = {toml_value(v)}" for k, v in table.items()) + "\n"


def paths_in(node, prefix=()):
    """Every (path) to a value in a plain config, tables and lists included."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
    for key, value in items:
        yield prefix + (key,)
        yield from paths_in(value, prefix + (key,))


def mutate(base: dict, rng: random.Random) -> dict:
    table = copy.deepcopy(base)
    for _ in range(rng.randint(1, 4)):
        path = rng.choice(list(paths_in(table)))
        parent = table
        for key in path[:-1]:
            parent = parent[key]
        last = path[-1]
        kind = rng.random()
        if kind < 0.15 and isinstance(parent, dict):
            del parent[last]
        elif kind < 0.25 and isinstance(parent, dict):
            parent[rng.choice(["extra", "Width", "fps ", "ünknown", "a.b"])] = rng.choice(STRANGE)
        elif kind < 0.35:
            depth = rng.choice([10, 200, 3000])
            parent[last] = "[" * depth + "]" * depth if rng.random() < 0.5 else {"x": {"y": [1]}}
        else:
            parent[last] = copy.deepcopy(rng.choice(STRANGE))
    return table


def text_of(table: dict) -> str:
    """The table as TOML; a value that is a nesting string (see mutate) is written bare."""
    text = as_toml(table)
    return text.replace('"[', "[").replace(']"', "]")


class Hang(Exception):
    pass


def _alarm(*_):
    raise Hang()


def test_thousands_of_mutated_configs_give_settings_or_one_line_problems(tmp_path):
    sys.set_int_max_str_digits(0)  # to write the 5000-digit integers; the checker reads them at the default
    rng = random.Random(SEED)
    base = to_plain(Settings())
    base["modes"] = {name: {"description": m["description"],
                            "effects": [{"effect": e["effect"], **e["params"]} for e in m["effects"]]}
                     for name, m in base["modes"].items()}
    accepted, slowest = 0, 0.0
    path = tmp_path / "fuzz.toml"
    previous = signal.signal(signal.SIGALRM, _alarm)
    try:
        for case in range(CASES):
            text = text_of(mutate(base, rng))
            path.write_text(text, encoding="utf-8")
            sys.set_int_max_str_digits(4300)
            started = time.perf_counter()
            signal.alarm(10)
            try:
                load_config(path)
                accepted += 1
            except ConfigError as exc:
                assert exc.problems, text[:500]
                for problem in exc.problems:
                    assert problem.startswith(f"{path}: ") and "\n" not in problem and len(problem) < 2000, problem
            except Hang:
                pytest.fail(f"case {case} hung: {text[:500]}")
            except Exception as exc:
                pytest.fail(f"case {case}: {type(exc).__name__}: {exc} for {text[:500]}")
            finally:
                signal.alarm(0)
                sys.set_int_max_str_digits(0)
            slowest = max(slowest, time.perf_counter() - started)
    finally:
        signal.signal(signal.SIGALRM, previous)
        sys.set_int_max_str_digits(4300)
    assert 50 < accepted < CASES - 500, accepted  # both answers are exercised


@pytest.mark.parametrize("text", [
    "a = " + "[" * 5000 + "]" * 5000,
    "a = " + "{b = " * 3000 + "1" + "}" * 3000,
    "[source]\nfps = " + "9" * 5000,
    "[source]\nfps = 1" + "0" * 400,
    "[modes.\"line\\nbreak\"]\neffects = [{ effect = \"nope\" }]",
])
def test_the_config_checks_worst_inputs_are_one_line(tmp_path, text):
    path = tmp_path / "worst.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert all(p.startswith(f"{path}: ") and "\n" not in p for p in caught.value.problems), caught.value.problems


def test_a_config_file_that_is_not_utf8_or_far_too_big_is_one_line(tmp_path):
    bad = tmp_path / "latin1.toml"
    bad.write_bytes("[run]\nmode = \"caf\xe9\"\n".encode("latin-1"))
    huge = tmp_path / "huge.toml"
    huge.write_text("# " + "x" * (2 << 20))
    for path in (bad, huge):
        with pytest.raises(ConfigError) as caught:
            load_config(path)
        [problem] = caught.value.problems
        assert problem.startswith(f"{path}: ")


def test_mutated_configs_the_check_accepts_start_and_show_frames(tmp_path):
    """The check's promise: what it accepts runs. Accepted mutants (the first 20 of the same
    seeded stream) are started with every mode they changed, three frames each, analysed
    inline; cameras and missing files become the synthetic source (no hardware here) and the
    screen a null output."""
    from appliance.app.runner import build_pipeline
    from appliance.core.pipeline import PipelineOptions
    rng = random.Random(SEED + 1)
    base = to_plain(Settings())
    base["modes"] = {name: {"description": m["description"],
                            "effects": [{"effect": e["effect"], **e["params"]} for e in m["effects"]]}
                     for name, m in base["modes"].items()}
    defaults = to_plain(Settings())["modes"]
    path, started = tmp_path / "fuzz.toml", 0
    sys.set_int_max_str_digits(0)
    try:
        for case in range(3000):
            if started >= 20:
                break
            path.write_text(text_of(mutate(base, rng)), encoding="utf-8")
            sys.set_int_max_str_digits(4300)
            try:
                settings = load_config(path)
            except ConfigError:
                continue
            finally:
                sys.set_int_max_str_digits(0)
            changed = [m for m, v in to_plain(settings)["modes"].items() if v != defaults.get(m)]
            for mode in dict.fromkeys([settings.run.mode, *changed]):
                settings.run.mode = mode
                if not settings.source.spec.startswith(("sample", "synthetic")):
                    settings.source.spec = "synthetic"
                options = PipelineOptions(realtime=False, inline_analysis=True, max_frames=3)
                pipeline = build_pipeline(settings, options, output_spec="null", state_dir=tmp_path / "state")
                summary = pipeline.run()
                assert summary.error == "" and summary.frames_out == 3, (case, mode, summary.error)
                assert pipeline.mode is None or not pipeline.mode.error, (case, mode)
            started += 1
    finally:
        sys.set_int_max_str_digits(4300)
    assert started == 20


@pytest.mark.parametrize("width, height", [(16, 16), (32, 32), (4096, 16), (16, 4096)])
def test_every_mode_starts_at_the_extreme_frame_sizes_the_check_accepts(tmp_path, width, height):
    """[source] width and height go from 16 to 4096: a 32x32 frame once crashed the style
    network (a segfault in all three kandinsky modes)."""
    from appliance.app.runner import build_pipeline
    from appliance.core.pipeline import PipelineOptions
    settings = Settings()
    settings.source.spec, settings.source.width, settings.source.height = "synthetic", width, height
    for mode in settings.modes:
        settings.run.mode = mode
        pipeline = build_pipeline(settings, PipelineOptions(realtime=False, inline_analysis=True, max_frames=2),
                                  output_spec="null", state_dir=tmp_path)
        summary = pipeline.run()
        assert summary.error == "" and summary.frames_out == 2 and not pipeline.mode.error, (mode, summary.error)
