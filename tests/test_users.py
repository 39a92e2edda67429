"""posture.users: the LAN proxy's users file (bcrypt via libxcrypt) and the login check with lockout."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from posture.users import (
    BCRYPT_COST,
    LOCK_FAILURES,
    MAX_PASSWORD_BYTES,
    Authenticator,
    UsersError,
    Verdict,
    add_user,
    hash_password,
    read_users,
    remove_user,
    verify_password,
)

PASSWORD = "a long clinic passphrase"


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_hash_is_salted_slow_bcrypt_and_verifies() -> None:
    a, b = hash_password(PASSWORD), hash_password(PASSWORD)
    assert a.startswith(f"$2b${BCRYPT_COST:02d}$") and len(a) == 60
    assert a != b  # salted
    assert verify_password(PASSWORD, a) and verify_password(PASSWORD, b)
    assert not verify_password(PASSWORD + "x", a)
    assert not verify_password(PASSWORD[:-1], a)


def test_passwords_bcrypt_would_truncate_or_that_are_short_are_refused() -> None:
    with pytest.raises(UsersError, match="shorter"):
        hash_password("short")
    with pytest.raises(UsersError, match="longer"):
        hash_password("x" * (MAX_PASSWORD_BYTES + 1))
    with pytest.raises(UsersError, match="line break"):
        hash_password("a long pass\nphrase")


def test_file_is_0600_atomic_and_nginx_htpasswd_format(tmp_path: Path) -> None:
    path = tmp_path / "data" / "users.htpasswd"
    assert add_user("reception", PASSWORD, path) is True
    assert add_user("a.smith", PASSWORD + "2", path) is True
    assert add_user("reception", PASSWORD + "3", path) is False  # a new password, same user
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert oct(path.parent.stat().st_mode & 0o777) == "0o700"
    assert sorted(p.name for p in path.parent.iterdir()) == ["users.htpasswd"]  # no temp file left
    lines = path.read_text().splitlines()
    assert [line.split(":", 1)[0] for line in lines] == ["a.smith", "reception"]
    users = read_users(path)
    assert verify_password(PASSWORD + "3", users["reception"])
    assert not verify_password(PASSWORD, users["reception"])
    remove_user("a.smith", path)
    assert list(read_users(path)) == ["reception"]
    with pytest.raises(UsersError, match="no user"):
        remove_user("a.smith", path)


@pytest.mark.parametrize("name", ["", "a:b", "with space", "-dash", "x" * 65, "tab\tname", "ünï"])
def test_names_that_would_break_the_file_or_a_log_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(UsersError, match="user name"):
        add_user(name, PASSWORD, tmp_path / "users.htpasswd")
    assert not (tmp_path / "users.htpasswd").exists()


def test_cli_reads_the_password_from_stdin(tmp_path: Path) -> None:
    env = dict(os.environ, POSTURE_DATA_DIR=str(tmp_path))
    run = [sys.executable, "-m", "posture.cli", "users"]
    res = subprocess.run([*run, "add", "reception"], input=PASSWORD + "\n", text=True, env=env,
                         capture_output=True)
    assert res.returncode == 0, res.stderr
    assert PASSWORD not in res.stdout + res.stderr
    assert verify_password(PASSWORD, read_users(tmp_path / "users.htpasswd")["reception"])
    listed = subprocess.run([*run, "list"], text=True, env=env, capture_output=True)
    assert listed.stdout.split() == ["reception"]
    short = subprocess.run([*run, "add", "locum"], input="short\n", text=True, env=env, capture_output=True)
    assert short.returncode == 2 and "shorter" in short.stderr
    gone = subprocess.run([*run, "remove", "reception"], text=True, env=env, capture_output=True)
    assert gone.returncode == 0 and read_users(tmp_path / "users.htpasswd") == {}


def test_authenticator_locks_an_address_before_checking_its_password(tmp_path: Path) -> None:
    path = tmp_path / "users.htpasswd"
    add_user("reception", PASSWORD, path)
    auth = Authenticator(path)
    right = _basic("reception", PASSWORD)
    assert auth.check(None, "10.0.0.5") is Verdict.NO_CREDENTIALS
    assert auth.check(right, "10.0.0.5") is Verdict.ALLOW
    verdicts = [auth.check(_basic("reception", f"guess {i}"), "10.0.0.5") for i in range(LOCK_FAILURES + 5)]
    assert verdicts[:LOCK_FAILURES] == [Verdict.DENY] * LOCK_FAILURES
    assert set(verdicts[LOCK_FAILURES:]) == {Verdict.LOCKED}
    assert auth.check(right, "10.0.0.5") is Verdict.LOCKED  # even the right one: no oracle
    assert auth.check(right, "10.0.0.6") is Verdict.ALLOW  # another address is not affected
    no_colon = "Basic " + base64.b64encode(b"x").decode()
    for bad in ("Basic !!!", "Bearer x", _basic("nobody", PASSWORD), no_colon):
        assert auth.check(bad, "10.0.0.7") is Verdict.DENY


def test_authenticator_lock_expires_with_the_window(tmp_path: Path) -> None:
    path = tmp_path / "users.htpasswd"
    add_user("reception", PASSWORD, path)
    auth = Authenticator(path, lock_failures=2, lock_window_s=0.5)
    for i in range(2):
        assert auth.check(_basic("reception", f"guess {i}"), "10.0.0.5") is Verdict.DENY
    assert auth.check(_basic("reception", PASSWORD), "10.0.0.5") is Verdict.LOCKED
    time.sleep(0.6)
    assert auth.check(_basic("reception", PASSWORD), "10.0.0.5") is Verdict.ALLOW


def test_authenticator_forgets_a_removed_user_or_changed_password_at_once(tmp_path: Path) -> None:
    path = tmp_path / "users.htpasswd"
    add_user("reception", PASSWORD, path)
    add_user("locum", PASSWORD + " two", path)
    auth = Authenticator(path)
    old = _basic("reception", PASSWORD)
    assert auth.check(old, "10.0.0.5") is Verdict.ALLOW  # verified, now cached
    add_user("reception", PASSWORD + " new", path)
    assert auth.check(old, "10.0.0.5") is Verdict.DENY
    assert auth.check(_basic("reception", PASSWORD + " new"), "10.0.0.5") is Verdict.ALLOW
    locum = _basic("locum", PASSWORD + " two")
    assert auth.check(locum, "10.0.0.5") is Verdict.ALLOW
    remove_user("locum", path)
    assert auth.check(locum, "10.0.0.5") is Verdict.DENY
