"""`appliance doctor`: one screen for the installer, every line OK / WARN / FAIL with what to do.

Every probe reads through `root` (sysfs, procfs, /dev) so the tests can hand it a fake tree.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from appliance.app.status import read_status
from appliance.config import Settings, load_config
from appliance.errors import ApplianceError, ConfigError


@dataclass
class Finding:
    status: str  # OK | WARN | FAIL
    topic: str
    text: str

    def line(self) -> str:
        return f"{self.status:<4} {self.topic:<12} {self.text}"


def check_config(path: Path | None) -> tuple[Finding, Settings]:
    if path is None:
        return Finding("OK", "config", "built-in defaults (no --config given)"), Settings()
    try:
        return Finding("OK", "config", f"{path} is valid"), load_config(path)
    except ConfigError as exc:
        first = exc.problems[0]
        more = f" (+{len(exc.problems) - 1} more)" if len(exc.problems) > 1 else ""
        return Finding("FAIL", "config", f"{first}{more}; run `appliance config check`"), Settings()


def check_config_in_force(config: Path | None, state_dir: Path | None) -> tuple[Finding, Settings]:
    """The config the service loads: `config`, or the copy edited on the technician's page
    when that is newer (said so)."""
    from appliance import paths
    from appliance.config.files import config_in_force, describe
    path = config_in_force(config, paths.state_dir(state_dir))
    finding, settings = check_config(path)
    if path != config:
        finding.text += f"; in force: {describe(path, config)}"
    return finding, settings


def check_camera(root: Path, picamera2_probe: Callable[[], tuple[bool, str]]) -> Finding:
    found, reason = picamera2_probe()
    if found:
        return Finding("OK", "camera", "Pi camera found by libcamera")
    usb = sorted(p.name for p in (root / "dev").glob("video*"))
    if usb:
        return Finding("WARN", "camera", f"no Pi camera ({reason}); V4L2 devices: {', '.join(usb)} "
                       "(use source camera:N for a USB camera)")
    return Finding("FAIL", "camera", f"no camera: {reason}; check the ribbon cable or plug in a USB camera")


def check_display(root: Path) -> Finding:
    connected = []
    for status in sorted((root / "sys" / "class" / "drm").glob("card*-*/status")):
        if status.read_text().strip() == "connected":
            modes = (status.parent / "modes")
            first = modes.read_text().split()[0] if modes.exists() and modes.read_text().split() else "?"
            connected.append(f"{status.parent.name} {first}")
    if connected:
        return Finding("OK", "display", "connected: " + ", ".join(connected))
    if (root / "dev" / "fb0").exists():
        size = root / "sys" / "class" / "graphics" / "fb0" / "virtual_size"
        text = size.read_text().strip().replace(",", "x") if size.exists() else "?"
        return Finding("WARN", "display", f"no connected DRM connector; framebuffer /dev/fb0 {text} "
                       "(is the screen on? the appliance retries every 10 s)")
    return Finding("WARN", "display", "no screen found (switch the screen on; the appliance keeps "
                   "running and retries)")


def check_models(settings: Settings, load_models: bool = True) -> list[Finding]:
    """Every model's file and (when `load_models`) its tensor shapes, loading it; without,
    only the files' sha256 (the technician's page, beside the running artwork)."""
    from appliance.models.manifest import ModelStore, check_file
    try:
        store = ModelStore.from_settings(settings.models)
        problems = (store.verify_all() if load_models else
                    {name: check_file(entry, store.dir) for name, entry in store.entries.items()})
        runtime = store.runtime.label
    except ApplianceError as exc:
        return [Finding("FAIL", "models", f"{exc}")]
    bad = {n: p for n, p in problems.items() if p}
    findings = [Finding("OK" if not bad else "FAIL", "models",
                        f"{len(problems) - len(bad)} of {len(problems)} verified ({runtime})"
                        + ("" if not bad else "; run `appliance models verify`"))]
    findings += [Finding("FAIL", "models", p) for p in bad.values()]
    compiled = list(store.dir.glob("*_edgetpu.tflite"))
    findings.append(check_edgetpu(store.runtime, bool(compiled)))
    return findings


def check_edgetpu(runtime, have_compiled: bool) -> Finding:
    from appliance.models.runtime import load_edgetpu_delegate
    try:
        load_edgetpu_delegate(runtime)
    except (OSError, ValueError) as exc:
        status = "WARN" if have_compiled else "OK"
        return Finding(status, "edge tpu", f"not in use ({type(exc).__name__}: {str(exc)[:80]}); "
                       "models run on the CPU")
    return Finding("OK", "edge tpu", "Coral found" + ("" if have_compiled else
                   ", but no *_edgetpu.tflite models beside the CPU ones"))


def check_gpio(root: Path, settings: Settings) -> Finding:
    g = settings.gpio
    if not g.enabled:
        return Finding("OK", "gpio", "buttons and LED off ([gpio] enabled = false)")
    chips = sorted(p.name for p in (root / "dev").glob("gpiochip*"))
    pins = f"next GPIO{g.next_pin}, previous GPIO{g.previous_pin or '-'}, LED GPIO{g.led_pin or '-'}"
    if not chips:
        return Finding("FAIL", "gpio", f"{pins}, but no /dev/gpiochip*: not a Raspberry Pi?")
    return Finding("OK", "gpio", f"{pins} on {', '.join(chips)}")


def check_temperature(root: Path, vcgencmd: str | None) -> Finding:
    zone = root / "sys" / "class" / "thermal" / "thermal_zone0" / "temp"
    celsius = int(zone.read_text()) / 1000 if zone.exists() else None
    throttled = _throttled(vcgencmd)
    text = f"{celsius:.1f} °C" if celsius is not None else "temperature unknown"
    if throttled:
        return Finding("FAIL" if throttled[0] else "WARN", "power/heat", f"{text}; {throttled[1]}")
    if celsius is not None and celsius >= 80:
        return Finding("FAIL", "power/heat", f"{text}: throttling; add a heatsink or fan")
    if celsius is not None and celsius >= 70:
        return Finding("WARN", "power/heat", f"{text}: hot; give the box air")
    return Finding("OK", "power/heat", text)


THROTTLE_BITS = {0: "under-voltage", 1: "ARM frequency capped", 2: "throttled", 3: "soft temperature limit"}


def _throttled(vcgencmd: str | None) -> tuple[bool, str] | None:
    """(happening now?, description) from `vcgencmd get_throttled`, or None if all is well."""
    if not vcgencmd:
        return None
    try:
        out = subprocess.run([vcgencmd, "get_throttled"], capture_output=True, text=True, timeout=5).stdout
        value = int(out.strip().split("=")[1], 16)
    except (OSError, subprocess.SubprocessError, IndexError, ValueError):
        return None
    now = [name for bit, name in THROTTLE_BITS.items() if value & (1 << bit)]
    past = [name for bit, name in THROTTLE_BITS.items() if value & (1 << (bit + 16))]
    if now:
        return True, f"now: {', '.join(now)} (use the official power supply)"
    if past:
        return False, f"since boot: {', '.join(past)} (check the power supply and cooling)"
    return None


def check_root(root: Path) -> Finding:
    mounts = root / "proc" / "mounts"
    for line in mounts.read_text().splitlines() if mounts.exists() else []:
        fields = line.split()
        if len(fields) >= 4 and fields[1] == "/":
            options = fields[3].split(",")
            if fields[2] == "overlay" or "ro" in options:
                return Finding("OK", "root fs", f"read-only ({fields[2]}): safe against power cuts")
            return Finding("WARN", "root fs", "writable: a power cut can corrupt it; enable the "
                           "overlay once installed (see the deploy section of the README)")
    return Finding("WARN", "root fs", "cannot tell (no /proc/mounts entry for /)")


def check_stages(state_dir: Path | None) -> Finding:
    """The running service's analysis stages, from its status file: any restarted is a WARN."""
    status, problem = read_status(state_dir)
    if status is None:
        return Finding("OK", "analysis", f"not running: {problem}")
    if status.get("asleep"):  # outside [schedule] hours: no camera, no models, by design
        return Finding("OK", "analysis", f"asleep (gallery closed) until {status.get('until')}, "
                       f"screen {status.get('screen')}" + (f"; {problem}" if problem else ""))
    stages = status.get("stages", {})
    restarted = {k: v for k, v in stages.items() if v.get("restarts")}
    where = f"mode {status.get('mode')}, {status.get('fps')} fps" + (f"; {problem}" if problem else "")
    if not restarted:
        return Finding("OK", "analysis", f"{', '.join(stages) or 'no stages'} running ({where})")
    text = "; ".join(f"{k} restarted {v['restarts']}x (last: {v.get('last_restart', '?')})"
                     for k, v in restarted.items())
    return Finding("WARN", "analysis", f"{text} ({where}); see `journalctl -u appliance`")


def run_doctor(config: Path | None, root: Path = Path("/"),
               picamera2_probe: Callable[[], tuple[bool, str]] | None = None,
               vcgencmd: str | None = None, state_dir: Path | None = None,
               load_models: bool = True) -> list[Finding]:
    if picamera2_probe is None:
        from appliance.sources.picamera2 import picamera2_available
        picamera2_probe = picamera2_available
    config_finding, settings = check_config_in_force(config, state_dir)
    return [config_finding, check_camera(root, picamera2_probe), check_display(root),
            *check_models(settings, load_models), check_gpio(root, settings),
            check_temperature(root, vcgencmd if vcgencmd is not None else shutil.which("vcgencmd")),
            check_root(root), check_stages(state_dir)]
