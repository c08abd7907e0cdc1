"""deploy/ansible without a box: the playbooks parse (`ansible-playbook --syntax-check`), every
box of the example inventory gets an appliance.toml that `appliance config check` accepts, and
the role's TOML template writes exactly the inventory's values, awkward ones included.

Needs ansible-core on the controller (`pip install ansible-core==2.19.14`): ansible-playbook is
looked for in $ANSIBLE_PLAYBOOK, beside this Python, then on PATH; without it these tests skip.
The real run against two Debian roots is `sudo deploy/checks/ansible-chroot.sh`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from conftest import ROOT

ANSIBLE_DIR = ROOT / "deploy" / "ansible"
EXAMPLE = ANSIBLE_DIR / "inventory.example.yml"
ROLE_DEFAULTS = {"output": {"spec": "hdmi"}}  # roles/appliance/defaults/main.yml


def _find(tool: str) -> str | None:
    given = os.environ.get(tool.upper().replace("-", "_"))
    if given:
        return given
    beside = Path(sys.executable).parent / tool
    return str(beside) if beside.exists() else shutil.which(tool)


PLAYBOOK = _find("ansible-playbook")
pytestmark = pytest.mark.skipif(PLAYBOOK is None,
                                reason="ansible-core is not installed (pip install ansible-core==2.19.14)")


def ansible(tool: str, *args: str) -> subprocess.CompletedProcess:
    exe = PLAYBOOK if tool == "ansible-playbook" else str(Path(PLAYBOOK).with_name(tool))
    env = {**os.environ, "ANSIBLE_CONFIG": str(ANSIBLE_DIR / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1",
           "ANSIBLE_LOCAL_TEMP": os.environ.get("TMPDIR", "/tmp")}
    result = subprocess.run([exe, *args], capture_output=True, text=True, cwd=ANSIBLE_DIR, env=env,
                            timeout=120)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


def render(inventory: Path, out: Path) -> dict[str, Path]:
    ansible("ansible-playbook", "-i", str(inventory), "render.yml", "-e", f"appliance_render_dir={out}")
    return {p.stem: p for p in sorted(out.glob("*.toml"))}


def merged(*layers: dict) -> dict:
    """Ansible's combine(recursive=True): tables merged key by key, anything else replaced."""
    out: dict = {}
    for layer in layers:
        for key, value in layer.items():
            if isinstance(value, dict) and isinstance(out.get(key), dict):
                out[key] = merged(out[key], value)
            else:
                out[key] = value
    return out


@pytest.mark.parametrize("playbook", ["show.yml", "render.yml"])
def test_playbooks_pass_the_syntax_check(playbook):
    ansible("ansible-playbook", "-i", str(EXAMPLE), "--syntax-check", playbook)


@pytest.fixture(scope="module")
def example_configs(tmp_path_factory) -> dict[str, Path]:
    return render(EXAMPLE, tmp_path_factory.mktemp("show"))


def test_every_example_box_gets_a_config_that_appliance_config_check_accepts(example_configs):
    assert set(example_configs) == {"entrance", "hall", "window"}
    for path in example_configs.values():
        result = subprocess.run([sys.executable, "-m", "appliance", "config", "check", str(path)],
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stdout + result.stderr + path.read_text()
    modes = {name: tomllib.loads(p.read_text())["run"]["mode"] for name, p in example_configs.items()}
    assert modes == {"entrance": "aged-film", "hall": "kandinsky-people", "window": "painted-visitors"}


def test_example_configs_hold_the_show_and_box_settings_and_nothing_else(example_configs):
    hostvars = json.loads(ansible("ansible-inventory", "-i", str(EXAMPLE), "--list").stdout)["_meta"]["hostvars"]
    for name, path in example_configs.items():
        box = hostvars[name]
        text = path.read_text()
        assert text.startswith(f"# {name}: written by Ansible"), text[:200]
        show = json.loads(json.dumps(box["appliance_show_config"]).replace("{{ inventory_hostname }}", name))
        assert tomllib.loads(text) == merged(ROLE_DEFAULTS, show, box["appliance_config"])
        assert tomllib.loads(text)["show"]["box"] == name  # templated per box


AWKWARD_SHOW = {"logging": {"level": "warning"}, "output": {"spec": "hdmi", "rotation": 90},
                "dotted.key": {"with space": 1, "ünï": "ok"}}
AWKWARD_BOX = {
    "output": {"rotation": 270, "corners": [[0.05, 0.0], [0.95, 0.0], [1.0, 1.0], [0.0, 1.0]]},
    "run": {"mode": "mine", "frames": -1},
    "text": {"quote": 'say "hi"\\ there', "newline": "a\nb\tc", "accents": "Café – 画", "empty": "",
             "list": [], "flags": [True, False], "big": 12345678901, "small": 1e-05, "half": 0.5},
    "modes": {"mine": {"description": "two effects", "idle_after_s": 60.0,
                       "effects": [{"effect": "film", "seed": 3, "inner": {"deep": [1, 2]}},
                                   {"effect": "mirror"}]},
              "only": {"nested": {"x": 1}}},
    "poses": {"reactions": [{"pose": "arms_up", "people": 1, "action": "next_mode"}],
              "osc": {"enabled": True}},
}


def test_the_template_writes_any_value_as_toml_that_reads_back_the_same(tmp_path):
    inventory = tmp_path / "inventory.json"
    inventory.write_text(json.dumps({"show": {
        "vars": {"appliance_show_config": AWKWARD_SHOW},
        "hosts": {"odd": {"appliance_config": AWKWARD_BOX}, "plain": {}}}}))
    configs = render(inventory, tmp_path / "out")
    assert tomllib.loads(configs["odd"].read_text()) == merged(ROLE_DEFAULTS, AWKWARD_SHOW, AWKWARD_BOX)
    assert tomllib.loads(configs["plain"].read_text()) == merged(ROLE_DEFAULTS, AWKWARD_SHOW)
    text = configs["odd"].read_text()
    assert '\n[[modes.mine.effects]]\neffect = "film"\n' in text  # readable: tables, not inline JSON
    assert '\n[output]\nspec = "hdmi"\nrotation = 270\n' in text


def test_the_config_is_checked_on_the_box_before_it_replaces_the_old_one():
    tasks = (ANSIBLE_DIR / "roles" / "appliance" / "tasks" / "main.yml").read_text()
    block = tasks[tasks.index("ansible.builtin.template:"):]
    block = block[:block.index("\n- name:")]
    assert "validate: \"{{ appliance_prefix }}/venv/bin/appliance config check %s\"" in block
    assert "dest: \"{{ appliance_boot }}/appliance.toml\"" in block
    assert "notify: restart appliance" in block
