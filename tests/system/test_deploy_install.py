"""deploy/install.sh without installing anything: the --dry-run plan, and the boot-partition
editor (deploy/bootcfg.py) it calls for cmdline.txt and appliance.toml.

The real install runs in a debootstrapped root: `sudo deploy/checks/chroot-install.sh`."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import tomllib
from pathlib import Path

import pytest

from appliance.config import load_config
from conftest import ROOT

INSTALL = ROOT / "deploy" / "install.sh"
EXAMPLE = ROOT / "appliance" / "data" / "appliance.example.toml"
PI_CMDLINE = ("console=serial0,115200 console=tty1 root=PARTUUID=0a1b2c3d-02 rootfstype=ext4 "
              "fsck.repair=yes rootwait quiet splash plymouth.ignore-serial-consoles\n")
SCREEN = ("consoleblank=0", "vt.global_cursor_default=0", "video=HDMI-A-1:1920x1080@60D")


def _load_bootcfg():
    spec = importlib.util.spec_from_file_location("bootcfg", ROOT / "deploy" / "bootcfg.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bootcfg = _load_bootcfg()


@pytest.fixture
def fake_pi(tmp_path: Path) -> dict[str, str]:
    """An environment pointing every path install.sh touches into tmp_path."""
    boot = tmp_path / "boot" / "firmware"
    boot.mkdir(parents=True)
    (boot / "cmdline.txt").write_text(PI_CMDLINE)
    return {**os.environ, "APPLIANCE_ROOT": str(tmp_path / "root"),
            "APPLIANCE_PREFIX": str(tmp_path / "opt" / "appliance"),
            "APPLIANCE_BOOT": str(boot), "APPLIANCE_STATE": str(tmp_path / "state")}


def run_install(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(INSTALL), *args], capture_output=True, text=True, env=env,
                          timeout=60)


def tree(path: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def test_dry_run_prints_the_whole_plan_and_changes_nothing(fake_pi, tmp_path):
    before = tree(tmp_path)
    result = run_install(fake_pi, "--dry-run")
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    assert tree(tmp_path) == before
    assert not (tmp_path / "opt").exists() and not (tmp_path / "state").exists()
    for expected in ("python3-picamera2", "python3-lgpio", "useradd --system",
                     "video,render,gpio,input", "-m venv --system-site-packages",
                     "--constraint", "numpy", "enable appliance.service",
                     'spec = "hdmi"', *SCREEN, "nothing changed"):
        assert expected in out, f"{expected!r} missing from the plan:\n{out}"
    assert "would run: " in out
    pip_line = next(line for line in out.splitlines() if "pip install" in line and "would run" in line)
    # the app alone, no [test] or [device] extras; editable, so models_tflite/ is found beside it
    assert pip_line.endswith("--editable " + fake_pi["APPLIANCE_PREFIX"])


def test_dry_run_reports_raspberry_pi_packages_it_cannot_find_instead_of_assuming_them(fake_pi):
    out = run_install(fake_pi, "--dry-run").stderr
    if "NOT AVAILABLE" not in out:
        pytest.skip("this machine has Raspberry Pi's archive configured")
    assert "python3-picamera2" in out and "Raspberry Pi's archive" in out


def test_coral_needs_its_repository_named_and_says_where_to_look(fake_pi):
    fake_pi.pop("CORAL_APT_LINE", None)
    result = run_install(fake_pi, "--dry-run", "--coral")
    if "coral: ok" in result.stdout:
        pytest.skip("libedgetpu1-std is installed here")
    assert result.returncode == 1
    assert "CORAL_APT_LINE" in result.stderr and "deploy/README.md" in result.stderr


def test_overlay_toggle_reports_a_missing_raspi_config(fake_pi):
    fake_pi["PATH"] = "/usr/bin:/bin"
    result = run_install(fake_pi, "--dry-run", "--overlay", "on")
    if result.returncode == 0:
        assert "would run: raspi-config nonint do_overlayfs 0" in result.stdout
    else:
        assert "raspi-config not found" in result.stderr


def test_unknown_option_is_refused(fake_pi):
    assert run_install(fake_pi, "--frobnicate").returncode == 2


def test_cmdline_gains_the_screen_parameters_once_and_stays_one_line():
    once = bootcfg.edit_cmdline(PI_CMDLINE)
    assert once.count("\n") == 1 and once.endswith("\n")
    assert once.split()[:len(PI_CMDLINE.split())] == PI_CMDLINE.split()
    for param in SCREEN:
        assert once.split().count(param) == 1
    assert bootcfg.edit_cmdline(once) == once


def test_cmdline_replaces_other_values_in_place_and_keeps_other_connectors():
    text = "console=tty1 consoleblank=600 root=/dev/mmcblk0p2 video=HDMI-A-1:1280x720@60 video=HDMI-A-2:800x600\n"
    edited = bootcfg.edit_cmdline(text).split()
    assert edited[:4] == ["console=tty1", "consoleblank=0", "root=/dev/mmcblk0p2",
                          "video=HDMI-A-1:1920x1080@60D"]
    assert "video=HDMI-A-2:800x600" in edited and "consoleblank=600" not in edited


def test_cmdline_folds_stray_lines_into_the_one_the_firmware_reads():
    edited = bootcfg.edit_cmdline("console=tty1 rootwait\n\nquiet\n")
    assert edited.count("\n") == 1 and "quiet" in edited


def test_cmdline_remove_gives_back_the_original():
    assert bootcfg.edit_cmdline(bootcfg.edit_cmdline(PI_CMDLINE), remove=True) == PI_CMDLINE


def test_cmdline_command_is_idempotent_on_a_file(tmp_path):
    path = tmp_path / "cmdline.txt"
    path.write_text(PI_CMDLINE)
    assert bootcfg.cmd_cmdline(path, dry_run=True, remove=False).startswith("would")
    assert path.read_text() == PI_CMDLINE
    assert bootcfg.cmd_cmdline(path, dry_run=False, remove=False).startswith("changed")
    first = path.read_text()
    assert bootcfg.cmd_cmdline(path, dry_run=False, remove=False).startswith("unchanged")
    assert path.read_text() == first
    assert list(tmp_path.iterdir()) == [path]  # no temp file left behind


def test_boot_config_is_created_for_hdmi_and_is_a_valid_config(tmp_path):
    dest = tmp_path / "appliance.toml"
    assert bootcfg.cmd_config(EXAMPLE, dest, dry_run=False).startswith("changed")
    assert tomllib.loads(dest.read_text())["output"]["spec"] == "hdmi"
    assert load_config(dest).output.spec == "hdmi"
    new, old = dest.read_text().splitlines(), EXAMPLE.read_text().splitlines()
    assert len(new) == len(old)
    assert [(a, b) for a, b in zip(old, new) if a != b] == [('spec = "auto"', 'spec = "hdmi"')]


def test_boot_config_is_never_overwritten(tmp_path):
    dest = tmp_path / "appliance.toml"
    dest.write_text("[run]\nmode = \"mirror\"  # the gallery's own\n")
    before = dest.read_bytes()
    for dry_run in (True, False):
        assert bootcfg.cmd_config(EXAMPLE, dest, dry_run=dry_run).startswith("unchanged")
    assert dest.read_bytes() == before


def test_boot_config_skipped_without_a_boot_partition(tmp_path):
    out = bootcfg.cmd_config(EXAMPLE, tmp_path / "missing" / "appliance.toml", dry_run=False)
    assert out.startswith("skipped")


def test_coral_plan_adds_repository_key_package_and_usb_access(fake_pi):
    fake_pi["CORAL_APT_LINE"] = "deb [signed-by=/usr/share/keyrings/coral-edgetpu.gpg] URL coral-edgetpu-stable main"
    fake_pi["CORAL_KEY_URL"] = "KEY_URL"
    result = run_install(fake_pi, "--dry-run", "--coral")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "appliance.service.d/coral.conf" in out and "DeviceAllow=char-usb_device rw" in out
    if "coral: ok, libedgetpu1-std installed" not in out:
        assert "gpg --dearmor" in out and "coral-edgetpu.list" in out
        assert "apt-get install -y -q libedgetpu1-std" in out
