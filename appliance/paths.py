"""Every default path the appliance uses, by one rule: an environment variable, else a default.

- data shipped with the package (sample clip, named poses, style pictures, example config);
- the models folder: `$APPLIANCE_MODELS`, else `models_tflite/` beside the package (a checkout
  or the device install), unless `[models] dir` names one;
- the state folder, the only place the appliance writes: `$APPLIANCE_STATE_DIR`, else systemd's
  `$STATE_DIRECTORY` (/var/lib/appliance for the service), else `~/.local/state/appliance`.
  Everything written lives under it: the last good config, taught poses, the style-vector
  cache, the status file `appliance doctor` reads, the service's PID (for `appliance
  snapshot`), the evening's canvas and the paintings saved from it, the technician's page's
  password hash and the config edited on it.
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
DATA = PACKAGE / "data"
SAMPLE_CLIP = DATA / "sample" / "vtest-520-670.mp4"
EXAMPLE_CONFIG = DATA / "appliance.example.toml"
NAMED_POSES = DATA / "poses.toml"
SHIPPED_STYLES = DATA / "styles"
CONTACT_SHEET = DATA / "readme" / "modes.png"

LAST_GOOD = "last-good.toml"
TAUGHT_POSES = "taught-poses.json"
STYLE_CACHE = "style-cache"
STATUS = "status.json"
SERVICE_PID = "service.pid"
EVENING_CANVAS = "evening-canvas.png"
PAINTINGS = "paintings"
EDITED_CONFIG = "appliance.toml"  # the config as edited on the technician's page
PASSWORD = "technician-password"  # the page's salted password hash


def models_dir(configured: str = "") -> Path:
    """`[models] dir` when set, else $APPLIANCE_MODELS, else models_tflite/ beside the package."""
    if configured:
        return Path(configured).expanduser()
    env = os.environ.get("APPLIANCE_MODELS")
    return Path(env) if env else PACKAGE.parent / "models_tflite"


def state_dir(given: Path | str | None = None) -> Path:
    """The writable folder: `given` (e.g. --state-dir), else the environment, else the home."""
    if given:
        return Path(given)
    env = os.environ.get("APPLIANCE_STATE_DIR") or os.environ.get("STATE_DIRECTORY")
    return Path(env) if env else Path.home() / ".local" / "state" / "appliance"


def style_cache_dir(given_state_dir: Path | str | None = None) -> Path:
    return state_dir(given_state_dir) / STYLE_CACHE


def taught_poses(configured: str = "", given_state_dir: Path | str | None = None) -> Path:
    """`[poses] examples` when set, else taught-poses.json in the state folder."""
    return Path(configured).expanduser() if configured else state_dir(given_state_dir) / TAUGHT_POSES


def status_file(given_state_dir: Path | str | None = None) -> Path:
    return state_dir(given_state_dir) / STATUS


def paintings_dir(given_state_dir: Path | str | None = None) -> Path:
    """Where saved paintings go, each named by the time it was saved."""
    return state_dir(given_state_dir) / PAINTINGS


def expanded(text: str) -> Path:
    """`text` as a path with ~ expanded (as written, when ~user names nobody)."""
    try:
        return Path(text).expanduser()
    except RuntimeError:
        return Path(text)


def is_file(path: Path) -> bool:
    """False, not an exception, for what cannot be a file name here (too long, a NUL byte)."""
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except (OSError, ValueError):
        return False
