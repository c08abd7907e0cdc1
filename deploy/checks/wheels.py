"""Does every runtime dependency resolve to a binary wheel for the Raspberry Pi?

    python deploy/checks/wheels.py            resolve (wheel metadata only: seconds)
    python deploy/checks/wheels.py --download also download every wheel into a temp dir
    python deploy/checks/wheels.py --json     one JSON line per target: {"target", "ok", "wheels"}

Targets are what install.sh builds the venv on: Raspberry Pi OS Bookworm (Python 3.11, glibc
2.36, apt numpy 1.24 so numpy < 2) and Trixie (Python 3.13, glibc 2.41, apt numpy 2.2), arm64.
pip does not infer older manylinux tags from a newer one when --platform is given, so every tag
from manylinux2014 / manylinux_2_17 up to the target's glibc is passed explicitly (tflite-runtime
2.14 ships only manylinux_2_34). Everything resolves with its dependencies, in one pip run per
target, with pip's own config ignored (so no local wheel cache can hide a missing wheel).

Not from PyPI, from apt: picamera2 and libcamera (python3-picamera2; no usable wheel: libcamera
is a system library), lgpio (python3-lgpio: with --only-binary pip picks an empty lgpio 0.0.0.2
for Python 3.13). tflite-runtime only for 3.11: it has no 3.13 wheel; ai-edge-litert covers both.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

RUNTIME = ["opencv-python-headless", "pygame-ce", "ai-edge-litert", "gpiozero", "python-osc", "paho-mqtt"]
FROM_APT = {"picamera2": "python3-picamera2", "libcamera": "python3-libcamera",
            "lgpio": "python3-lgpio", "systemd-python": "python3-systemd"}
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")


@dataclass(frozen=True)
class Target:
    name: str
    python: str
    glibc_minor: int
    numpy: str
    extra: tuple[str, ...] = ()

    def platforms(self) -> list[str]:
        tags = ["manylinux2014_aarch64"]
        tags += [f"manylinux_2_{minor}_aarch64" for minor in range(17, self.glibc_minor + 1)]
        return tags


TARGETS = [
    Target("bookworm-py3.11", "3.11", 36, "numpy>=1.24,<2", ("tflite-runtime",)),
    Target("trixie-py3.13", "3.13", 41, "numpy>=2,<3"),
]


def pip_args(target: Target) -> list[str]:
    args = ["--only-binary=:all:", "--python-version", target.python, "--implementation", "cp",
            "--abi", f"cp{target.python.replace('.', '')}", "--abi", "abi3", "--abi", "none"]
    for tag in target.platforms():
        args += ["--platform", tag]
    if CA_BUNDLE.is_file():
        args += ["--cert", str(CA_BUNDLE)]
    return args + ["--disable-pip-version-check", "--quiet"]


def pip_env() -> dict[str, str]:
    return {**os.environ, "PIP_CONFIG_FILE": os.devnull}


def requirements(target: Target) -> list[str]:
    return [target.numpy, *RUNTIME, *target.extra]


def resolve(target: Target, workdir: Path) -> tuple[bool, list[str], str]:
    """Resolve the whole set for the target; return ok, the chosen wheel file names, pip's error."""
    report = workdir / f"{target.name}.json"
    cmd = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed",
           "--target", str(workdir / "unused"), "--report", str(report), *pip_args(target),
           *requirements(target)]
    done = subprocess.run(cmd, capture_output=True, text=True, env=pip_env(), timeout=300)
    if done.returncode != 0:
        return False, [], done.stderr.strip()
    items = json.loads(report.read_text())["install"]
    return True, sorted(i["download_info"]["url"].rsplit("/", 1)[-1] for i in items), ""


def download(target: Target, workdir: Path) -> tuple[bool, str]:
    dest = workdir / f"{target.name}-wheels"
    cmd = [sys.executable, "-m", "pip", "download", "--dest", str(dest), *pip_args(target),
           *requirements(target)]
    done = subprocess.run(cmd, capture_output=True, text=True, env=pip_env(), timeout=900)
    return done.returncode == 0, done.stderr.strip()


def main(argv: list[str]) -> int:
    as_json = "--json" in argv
    failed = False
    with tempfile.TemporaryDirectory(prefix="appliance-wheels-") as tmp:
        for target in TARGETS:
            ok, wheels, err = resolve(target, Path(tmp))
            if ok and "--download" in argv:
                ok, err = download(target, Path(tmp))
            failed |= not ok
            if as_json:
                print(json.dumps({"target": target.name, "ok": ok, "wheels": wheels, "error": err}))
                continue
            print(f"{target.name}: {'OK' if ok else 'FAIL'} ({len(target.platforms())} manylinux tags)")
            for wheel in wheels:
                print(f"    {wheel}")
            if err:
                print(f"    {err}")
    if not as_json:
        print("from apt, not PyPI: " + ", ".join(f"{k} ({v})" for k, v in FROM_APT.items()))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
