"""`appliance doctor` against a fake device tree: sysfs, procfs, /dev and vcgencmd."""

from __future__ import annotations

import stat


from appliance.app.doctor import (check_camera, check_display, check_gpio, check_root,
                              check_temperature, run_doctor)
from appliance.config import Settings, GpioSettings


def tree(tmp_path, files: dict[str, str]):
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def fake_vcgencmd(tmp_path, value: str) -> str:
    script = tmp_path / "vcgencmd"
    script.write_text(f"#!/bin/sh\necho throttled={value}\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(script)


def test_a_healthy_pi(tmp_path):
    root = tree(tmp_path, {
        "sys/class/drm/card1-HDMI-A-1/status": "connected\n",
        "sys/class/drm/card1-HDMI-A-1/modes": "1920x1080\n1280x720\n",
        "sys/class/drm/card1-HDMI-A-2/status": "disconnected\n",
        "sys/class/thermal/thermal_zone0/temp": "52123\n",
        "proc/mounts": "overlay / overlay rw,relatime 0 0\n/dev/mmcblk0p1 /boot/firmware vfat rw 0 0\n",
        "dev/gpiochip0": "", "dev/gpiochip4": "",
    })
    assert check_display(root).line() == "OK   display      connected: card1-HDMI-A-1 1920x1080"
    assert check_temperature(root, fake_vcgencmd(tmp_path, "0x0")).line() == "OK   power/heat   52.1 °C"
    assert check_root(root).status == "OK"
    settings = Settings(gpio=GpioSettings(enabled=True, next_pin=17, led_pin=22))
    assert check_gpio(root, settings).line() == (
        "OK   gpio         next GPIO17, previous GPIO-, LED GPIO22 on gpiochip0, gpiochip4")
    assert check_camera(root, lambda: (True, "")).status == "OK"


def test_a_box_in_trouble_says_what_to_do(tmp_path):
    root = tree(tmp_path, {
        "sys/class/drm/card0-HDMI-A-1/status": "disconnected\n",
        "sys/class/thermal/thermal_zone0/temp": "83000\n",
        "proc/mounts": "/dev/root / ext4 rw,noatime 0 0\n",
        "dev/video0": "",
    })
    assert check_display(root).status == "WARN"
    heat = check_temperature(root, fake_vcgencmd(tmp_path, "0x50005"))
    assert heat.status == "FAIL" and "under-voltage" in heat.text and "power supply" in heat.text
    past = check_temperature(root, fake_vcgencmd(tmp_path, "0x50000"))
    assert past.status == "WARN" and "since boot" in past.text
    root_fs = check_root(root)
    assert root_fs.status == "WARN" and "power cut" in root_fs.text
    camera = check_camera(root, lambda: (False, "libcamera found no camera"))
    assert camera.status == "WARN" and "video0" in camera.text and "camera:N" in camera.text
    gpio = check_gpio(root, Settings(gpio=GpioSettings(enabled=True)))
    assert gpio.status == "FAIL" and "no /dev/gpiochip" in gpio.text


def test_doctor_reports_a_bad_config_and_a_corrupt_model(tmp_path, monkeypatch):
    import shutil
    from appliance.models.manifest import load_manifest
    from appliance.paths import models_dir as default_models_dir
    models = tmp_path / "models"
    shutil.copytree(default_models_dir(), models)
    broken = models / load_manifest(models)["movenet_thunder"].file
    broken.write_bytes(broken.read_bytes()[:-10])
    config = tmp_path / "appliance.toml"
    config.write_text(f'[models]\ndir = "{models}"\nthreads = 99\n')
    findings = run_doctor(config, root=tmp_path, picamera2_probe=lambda: (False, "none"), vcgencmd="")
    lines = [f.line() for f in findings]
    assert lines[0].startswith(f"FAIL config       {config}: models.threads: 99 is out of range")
    # the bad config falls back to defaults, so the default models dir is checked: use a good one
    config.write_text(f'[models]\ndir = "{models}"\n')
    lines = [f.line() for f in run_doctor(config, root=tmp_path, picamera2_probe=lambda: (False, "none"),
                                          vcgencmd="")]
    assert any(line.startswith("FAIL models ") and "verified" in line for line in lines)
    assert any("movenet_thunder" in line and "corrupt or replaced" in line for line in lines)
