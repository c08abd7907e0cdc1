"""The systemd unit is linted by systemd itself: verify (any printed warning fails) and the
offline security score that the README states."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

UNIT = ROOT / "systemd" / "appliance.service"
ANALYZE = shutil.which("systemd-analyze")
pytestmark = pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze is not installed")


def installed_unit(tmp_path: Path) -> Path:
    """The unit as install.sh writes it, pointing at this machine's appliance command."""
    command = Path(sys.executable).with_name("appliance")
    assert command.is_file(), "the appliance command is not installed in this environment"
    text = UNIT.read_text().replace("/opt/appliance/venv/bin/appliance", str(command))
    path = tmp_path / "appliance.service"
    path.write_text(text)
    return path


def test_unit_verifies_without_a_single_warning(tmp_path):
    result = subprocess.run([ANALYZE, "verify", str(installed_unit(tmp_path))],
                            capture_output=True, text=True)
    assert result.returncode == 0
    assert result.stdout + result.stderr == ""


def test_unit_security_exposure_is_low_and_matches_the_readme(tmp_path):
    result = subprocess.run([ANALYZE, "security", "--offline=true", "--no-pager",
                             str(installed_unit(tmp_path))], capture_output=True, text=True)
    match = re.search(r"Overall exposure level for appliance.service: (\d+\.\d)", result.stdout)
    assert match, result.stdout[-500:]
    score = float(match.group(1))
    assert score <= 2.0
    assert f"exposure level {score}" in (ROOT / "README.md").read_text()


def test_unit_has_the_supervision_the_appliance_relies_on():
    text = UNIT.read_text()
    for line in ("Type=notify", "WatchdogSec=30", "Restart=always", "StartLimitIntervalSec=0",
                 "ProtectSystem=strict", "StateDirectory=appliance", "NoNewPrivileges=yes",
                 "SupplementaryGroups=video render gpio input"):
        assert line in text.splitlines(), line
