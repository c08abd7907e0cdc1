"""Every shell script under deploy/ passes shellcheck (apt install shellcheck) with no findings."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from conftest import ROOT

SHELLCHECK = shutil.which("shellcheck")
SCRIPTS = sorted((ROOT / "deploy").rglob("*.sh"))


def _param(script):
    return pytest.param(script, id=script.relative_to(ROOT).as_posix())


def test_there_are_scripts_to_check():
    names = {p.relative_to(ROOT).as_posix() for p in SCRIPTS}
    assert {"deploy/install.sh", "deploy/checks/chroot-install.sh"} <= names


@pytest.mark.skipif(SHELLCHECK is None, reason="shellcheck is not installed (apt install shellcheck)")
@pytest.mark.parametrize("script", [_param(s) for s in SCRIPTS])
def test_shellcheck_clean(script):
    result = subprocess.run([SHELLCHECK, "--external-sources", str(script)], capture_output=True,
                            text=True, cwd=script.parent, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
