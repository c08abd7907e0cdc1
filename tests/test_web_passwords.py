"""The technician's password: a salted scrypt hash in the state folder, and `appliance password`."""

from __future__ import annotations

import stat

import pytest

from appliance.app.password import read_new_password
from appliance.errors import ConfigError
from appliance.web.passwords import hash_password, password_file, read_hash, store_password, verify_password

from conftest import run_cli


def test_a_hash_verifies_its_password_and_no_other():
    stored = hash_password("correct horse")
    assert verify_password("correct horse", stored)
    assert not verify_password("correct hors", stored)
    assert not verify_password("", stored)
    assert "correct horse" not in stored


def test_the_same_password_hashes_differently_each_time():
    first, second = hash_password("correct horse"), hash_password("correct horse")
    assert first != second
    assert first.split("$")[4] != second.split("$")[4]  # the salt
    assert verify_password("correct horse", first) and verify_password("correct horse", second)


@pytest.mark.parametrize("line", ["", "plain", "scrypt$16384$8$1$!!$??", "md5$1$1$1$AAAA$AAAA",
                                  "scrypt$1099511627776$8$1$AAAA$AAAA"])
def test_a_malformed_or_hostile_stored_line_matches_nothing(line):
    assert not verify_password("anything", line)


def test_stored_once_readable_only_by_its_owner(tmp_path):
    path = store_password(tmp_path / "state", "correct horse")
    assert path == password_file(tmp_path / "state")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert verify_password("correct horse", read_hash(tmp_path / "state"))
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp file left


def test_a_short_password_is_refused_and_nothing_is_written(tmp_path):
    with pytest.raises(ConfigError, match="shorter than 8"):
        store_password(tmp_path, "short")
    assert read_hash(tmp_path) is None


def test_typed_twice_and_the_two_must_agree():
    answers = iter(["correct horse", "correct horse"])
    assert read_new_password(False, ask=lambda _: next(answers)) == "correct horse"
    answers = iter(["correct horse", "correct house"])
    with pytest.raises(ConfigError, match="differ"):
        read_new_password(False, ask=lambda _: next(answers))


def test_the_password_command_reads_stdin_and_never_prints_the_password(tmp_path):
    result = run_cli("password", "--stdin", "--state-dir", str(tmp_path), input="correct horse\n")
    assert result.returncode == 0, result.stderr
    assert "correct horse" not in result.stdout + result.stderr
    assert verify_password("correct horse", read_hash(tmp_path))
    result = run_cli("password", "--stdin", "--state-dir", str(tmp_path), input="short\n")
    assert result.returncode != 0
    assert result.stderr.strip() == "appliance password: the password is shorter than 8 characters"
    assert verify_password("correct horse", read_hash(tmp_path))  # the old one stays
