"""Config: every problem named by file and key path, unknown keys rejected, docs that run."""

from __future__ import annotations

import json
import textwrap

import pytest

from appliance.config import Settings, apply_overrides, dump_toml, load_config, settings_equal
from appliance.paths import EXAMPLE_CONFIG
from appliance.config.sections import default_modes
from appliance.errors import ConfigError

from conftest import run_cli


def write(tmp_path, text: str):
    path = tmp_path / "appliance.toml"
    path.write_text(textwrap.dedent(text))
    return path


def problems_of(path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return caught.value.problems


def test_example_config_is_valid_and_states_the_defaults():
    assert settings_equal(load_config(EXAMPLE_CONFIG), Settings())


def test_unknown_key_is_an_error_naming_file_and_path(tmp_path):
    path = write(tmp_path, """
        [source]
        fsp = 30
    """)
    (problem,) = problems_of(path)
    assert problem.startswith(f"{path}: source.fsp: unknown key (expected one of: spec, width,")


def test_wrong_type_and_out_of_range_are_all_reported_at_once(tmp_path):
    path = write(tmp_path, """
        [source]
        width = "wide"
        fps = 500
        [logging]
        level = "loud"
        [run]
        frames = -1
    """)
    problems = problems_of(path)
    assert f"{path}: source.width: expected an integer, got a string 'wide'" in problems
    assert f"{path}: source.fps: 500 is out of range (expected a value from 1.0 to 240.0)" in problems
    assert any(p.startswith(f"{path}: logging.level: 'loud' is not allowed (expected one of: debug")
               for p in problems)
    assert f"{path}: run.frames: -1 is out of range (expected a value >= 0)" in problems
    assert len(problems) == 4


def test_a_boolean_is_not_a_number(tmp_path):
    path = write(tmp_path, "[source]\nfps = true\n")
    assert problems_of(path) == [f"{path}: source.fps: expected a number, got a boolean True"]


def test_unknown_section_effect_and_mode(tmp_path):
    path = write(tmp_path, """
        [sorce]
        spec = "sample"
        [run]
        mode = "kandinsky-disco"
        [modes.dance]
        effects = [{ effect = "mirror", axis = "diagonal" }, { effect = "sparkle" }]
    """)
    problems = problems_of(path)
    assert any(p.startswith(f"{path}: sorce: unknown section") for p in problems)
    assert any(p.startswith(f"{path}: modes.dance.effects[0].axis: 'diagonal' is not allowed")
               for p in problems)
    assert any(p.startswith(f"{path}: modes.dance.effects[1].effect: unknown effect 'sparkle'")
               for p in problems)
    known = ", ".join([*default_modes(), "dance"])
    assert any(p.startswith(f"{path}: run.mode: unknown mode 'kandinsky-disco' (expected one of: "
                            f"{known})") for p in problems)


def test_source_and_output_specs_are_checked(tmp_path):
    path = write(tmp_path, """
        [source]
        spec = "camera:front"
        [output]
        spec = "file:/no/such/folder/out.mp4"
    """)
    problems = problems_of(path)
    assert any("source.spec: camera number 'front' is not a number" in p for p in problems)
    assert any("output.spec: folder '/no/such/folder' does not exist" in p for p in problems)


def test_not_toml_is_one_clear_line(tmp_path):
    path = write(tmp_path, "[source\nspec=")
    (problem,) = problems_of(path)
    assert problem.startswith(f"{path}: not valid TOML:")


def test_user_modes_join_the_built_in_ones(tmp_path):
    path = write(tmp_path, """
        [run]
        mode = "upside-down"
        [modes.upside-down]
        description = "The room on its head."
        effects = [{ effect = "mirror", axis = "vertical" }]
    """)
    settings = load_config(path)
    assert list(settings.modes) == [*default_modes(), "upside-down"]
    assert settings.modes["upside-down"].effects[0].params.axis == "vertical"


def test_show_writes_toml_that_loads_back_to_the_same_settings(tmp_path):
    path = write(tmp_path, """
        [source]
        spec = "synthetic"
        fps = 12.5
        [modes.upside-down]
        effects = [{ effect = "mirror", axis = "both" }]
    """)
    settings = load_config(path)
    again = write(tmp_path, dump_toml(settings))
    assert settings_equal(load_config(again), settings)


def test_command_line_overrides_name_the_argument():
    with pytest.raises(ConfigError) as caught:
        apply_overrides(Settings(), {"--frames": -5, "--mode": "nope", "--source": "missing.mp4"})
    problems = caught.value.problems
    assert "--frames: -5 is out of range (expected a value >= 0)" in problems
    assert any(p.startswith("--mode: unknown mode 'nope'") for p in problems)
    assert any(p.startswith("--source: no such file 'missing.mp4'") for p in problems)


def test_config_check_command(tmp_path):
    good = run_cli("config", "check", str(EXAMPLE_CONFIG))
    assert good.returncode == 0 and good.stdout.strip().endswith(": ok")
    path = write(tmp_path, "[source]\nfps = 0\nwidht = 3\n")
    bad = run_cli("config", "check", str(path))
    assert bad.returncode == 2
    assert bad.stderr.splitlines() == [
        f"{path}: source.widht: unknown key (expected one of: spec, width, height, fps, loop, realtime)",
        f"{path}: source.fps: 0 is out of range (expected a value from 1.0 to 240.0)",
    ]
    assert "Traceback" not in bad.stderr


def test_config_show_command_prints_the_effective_config(tmp_path):
    path = write(tmp_path, "[source]\nspec = \"synthetic\"\n")
    shown = run_cli("config", "show", "--config", str(path))
    assert shown.returncode == 0
    assert 'spec = "synthetic"' in shown.stdout
    assert "[modes.passthrough]" in shown.stdout


@pytest.mark.parametrize("host, ok", [("", False), ("desk local", False), ("a" * 64 + ".local", False),
                                      ("desk\x07", False), ("desk.local", True), ("192.168.1.255", True),
                                      ("fe80::1", True), ("täsch.example", True)])
def test_an_osc_host_must_be_something_that_could_be_looked_up(tmp_path, host, ok):
    """Whether it resolves is known only at run time (the sender retries); what can never be a
    host is refused by the check, naming the key."""
    path = tmp_path / "osc.toml"
    path.write_text(f'[poses.osc]\nenabled = true\nhost = {json.dumps(host)}\n', encoding="utf-8")
    if ok:
        assert load_config(path).poses.osc.host == host
    else:
        [problem] = problems_of(path)
        assert problem.startswith(f"{path}: poses.osc.host: ") and "expected an address or a host name" in problem


def test_show_writes_toml_that_loads_back_for_any_text_a_valid_config_holds(tmp_path):
    """Mode names beyond ASCII, multi-line descriptions, tabs, control characters, quotes and
    backslashes: the last good config is written with the same code, and must read back."""
    from appliance.config import ModeSettings
    settings = Settings()
    texts = ["Kandinsky für alle", "a\nsecond line", "tab\there", "bell\x07 and del\x7f", 'quote " and \\ back',
             "日本語の説明", ""]
    for i, text in enumerate(texts):
        name = ["café", "mode.with.dots", "日本", "space name", "plain-name_1", "q\"uote", "x"][i]
        settings.modes[name] = ModeSettings(text, list(settings.modes["kandinsky"].effects))
    settings.poses.osc.host = "täsch.example"
    path = tmp_path / "again.toml"
    path.write_text(dump_toml(settings), encoding="utf-8")
    again = load_config(path)
    assert settings_equal(again, settings)
    assert again.modes["café"].description == "Kandinsky für alle" and again.modes["x"].description == ""
