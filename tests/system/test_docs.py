"""Docs that run: the README's config snippets and commands are real."""

from __future__ import annotations

import re

from appliance.config import load_config

from conftest import ROOT, run_cli


def readme() -> str:
    return (ROOT / "README.md").read_text()


def test_readme_toml_snippets_are_valid_config(tmp_path):
    snippets = re.findall(r"```toml\n(.*?)```", readme(), re.S)
    assert snippets
    for i, text in enumerate(snippets):
        path = tmp_path / f"snippet{i}.toml"
        path.write_text(text)
        load_config(path)  # raises ConfigError naming the problem


def test_readme_first_screen_has_the_two_commands():
    first_screen = readme().split("---")[0]
    assert "sh deploy/dev.sh demo" in first_screen and "sh deploy/dev.sh test" in first_screen
    assert "sh deploy/dev.sh test" in (ROOT / ".ci" / "run").read_text()


def test_readme_picture_exists():
    (picture,) = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", readme().split("---")[0])
    assert (ROOT / picture).is_file()


def test_every_source_and_output_in_the_readme_tables_is_accepted():
    from appliance.outputs import parse_output_spec
    from appliance.sources import parse_source_spec
    text = readme()
    sources = re.findall(r"^\| `([a-zA-Z0-9:]+)`", text.split("| `--source` |")[1].split("\n\n")[0], re.M)
    outputs = re.findall(r"^\| `([a-zA-Z0-9:.]+)", text.split("| `--output` |")[1].split("\n\n")[0], re.M)
    assert {"picamera2", "sample", "synthetic", "camera:N"} <= set(sources)
    for spec in sources:
        parse_source_spec(spec.replace(":N", ":0"))
    assert {"window", "hdmi", "null", "file:PATH.mp4", "file:PATH.png"} <= set(outputs)
    for spec in outputs:
        parse_output_spec(spec.replace("PATH", "x"))


def test_help_lists_the_commands():
    result = run_cli("--help")
    for command in ("run", "bench", "config"):
        assert command in result.stdout


def test_every_shipped_model_is_in_the_readme_table():
    from appliance.models.manifest import load_manifest
    from appliance.paths import models_dir as default_models_dir
    text = readme()
    for name in load_manifest(default_models_dir()):
        assert f"| `{name}` |" in text, f"{name} is shipped but not described in the README"
