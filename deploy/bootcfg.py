"""Boot-partition edits for deploy/install.sh: the kernel command line and the gallery's config.

Kept in Python (stdlib only, runs on the system python3 before any venv exists) so the rules are
tested on a sample cmdline.txt instead of trusted to sed. Every write is temp file -> fsync ->
rename -> fsync of the directory, so a power cut leaves the old file or the new one, never half.

    python3 deploy/bootcfg.py cmdline FILE [--dry-run] [--remove]
    python3 deploy/bootcfg.py config EXAMPLE DEST [--dry-run]

Each prints one line saying what it did (or would do) and exits 0; "unchanged" when nothing was
needed, so install.sh can count changes.
"""
from __future__ import annotations

import os
import re
import sys
import tempfile
from pathlib import Path

# What the screen needs on a gallery box: no console blanking, no blinking cursor, and HDMI
# forced on so a projector switched on after boot still gets a picture (KMS ignores
# hdmi_force_hotplug in config.txt; the "D" suffix forces the connector on for the digital output).
SCREEN_PARAMS = ("consoleblank=0", "vt.global_cursor_default=0", "video=HDMI-A-1:1920x1080@60D")


def _key(token: str) -> str:
    """The part of a kernel parameter that names it: `video=HDMI-A-1:...` -> `video=HDMI-A-1`."""
    name, sep, value = token.partition("=")
    if name == "video" and ":" in value:
        return f"video={value.split(':', 1)[0]}"
    return name


def edit_cmdline(text: str, params: tuple[str, ...] = SCREEN_PARAMS, remove: bool = False) -> str:
    """Return cmdline.txt with `params` set (or removed): one line, other parameters untouched.

    A parameter already there with another value is replaced in place; the firmware reads only
    the first line, so any further lines are folded into it.
    """
    tokens = text.split()
    keys = {_key(p): p for p in params}
    out: list[str] = []
    seen: set[str] = set()
    for token in tokens:
        key = _key(token)
        if key in keys:
            if remove or key in seen:
                continue
            seen.add(key)
            out.append(keys[key])
        else:
            out.append(token)
    if not remove:
        out.extend(p for k, p in keys.items() if k not in seen)
    return " ".join(out) + "\n"


def set_output_hdmi(example: str) -> str:
    """The example config with `[output] spec = "hdmi"`: the device has a screen and no desktop."""
    section = re.search(r"(?m)^\[output\]\s*$", example)
    if section is None:
        raise ValueError("example config has no [output] section")
    pattern = re.compile(r'(?m)^spec\s*=\s*"[^"]*"')
    match = pattern.search(example, section.end())
    if match is None:
        raise ValueError("example config has no spec key under [output]")
    return example[:match.start()] + 'spec = "hdmi"' + example[match.end():]


def atomic_write(path: Path, text: str) -> None:
    """temp file -> fsync -> rename -> fsync the directory (FAT keeps this as safe as it can)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o7777)
        else:
            os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    except OSError:
        pass  # some filesystems (vfat on older kernels) refuse fsync on a directory
    finally:
        os.close(dir_fd)


def cmd_cmdline(path: Path, dry_run: bool, remove: bool) -> str:
    if not path.is_file():
        return f"skipped: {path} not found (not a Raspberry Pi OS boot partition)"
    old = path.read_text(encoding="utf-8")
    new = edit_cmdline(old, remove=remove)
    if new == old:
        return f"unchanged: {path}"
    what = "remove" if remove else "set"
    if dry_run:
        return f"would {what} on {path}: {' '.join(SCREEN_PARAMS)}"
    atomic_write(path, new)
    return f"changed: {path}: {what} {' '.join(SCREEN_PARAMS)}"


def cmd_config(example: Path, dest: Path, dry_run: bool) -> str:
    if dest.exists():
        return f"unchanged: {dest} exists (never overwritten)"
    if not dest.parent.is_dir():
        return f"skipped: {dest.parent} not found (not a Raspberry Pi OS boot partition)"
    text = set_output_hdmi(example.read_text(encoding="utf-8"))
    if dry_run:
        return f"would create {dest} from {example} with [output] spec = \"hdmi\""
    atomic_write(dest, text)
    return f"changed: created {dest} ([output] spec = \"hdmi\")"


def main(argv: list[str]) -> int:
    dry_run = "--dry-run" in argv
    remove = "--remove" in argv
    args = [a for a in argv if not a.startswith("--")]
    if len(args) == 2 and args[0] == "cmdline":
        print(cmd_cmdline(Path(args[1]), dry_run, remove))
        return 0
    if len(args) == 3 and args[0] == "config":
        print(cmd_config(Path(args[1]), Path(args[2]), dry_run))
        return 0
    print("usage: bootcfg.py cmdline FILE [--dry-run] [--remove] | config EXAMPLE DEST [--dry-run]",
          file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
