"""The users file of the LAN deployment (``make serve``): who may log in at the reverse proxy.

The file lives in the data dir (``POSTURE_DATA_DIR``, see :func:`posture.store.default_data_dir`) as
``users.htpasswd``: one ``name:hash`` line per user, the format nginx's ``auth_basic_user_file`` reads.
It is written atomically (a temporary file in the same directory, then ``os.replace``) with mode 0600.

Hashes are bcrypt (``$2b$``), salted and slow, made and checked by the system's ``crypt(3)`` library
(libxcrypt on Debian) through :mod:`ctypes` -- the very library nginx's ``auth_basic`` calls, so a hash
this module writes is a hash nginx accepts. No new Python dependency: the stdlib ``crypt`` module is
deprecated and removed in Python 3.13, and the ``bcrypt`` package would be one more wheel to pin.

    add_user("reception", "a long passphrase")    # or replace that user's password
    remove_user("reception")
    verify_password("a long passphrase", read_users()["reception"])
"""

from __future__ import annotations

import base64
import binascii
import collections
import ctypes
import ctypes.util
import enum
import hashlib
import hmac
import os
import re
import secrets
import tempfile
import threading
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from posture.errors import PostureError
from posture.store.engine import default_data_dir

USERS_FILENAME = "users.htpasswd"
# "$2b$" = bcrypt. Cost 10 (2^10 rounds) is OWASP's minimum for bcrypt; nginx checks the hash on
# EVERY request (no session), so a page load's asset requests each pay it (~0.1 s on a small box).
HASH_PREFIX = b"$2b$"
BCRYPT_COST = 10
# A name nginx and a log can hold safely: no ':' (the field separator), no spaces or control chars.
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
MIN_PASSWORD_CHARS = 10
# bcrypt reads only the first 72 bytes; longer passwords are refused instead of silently truncated.
MAX_PASSWORD_BYTES = 72
FILE_MODE = 0o600
DIR_MODE = 0o700
# sizeof(struct crypt_data) in libxcrypt is 32 768 bytes; crypt_rn is told the size we give.
_CRYPT_DATA_SIZE = 32768
_SETTING_SIZE = 128


class UsersError(PostureError):
    """The users file or a user's name or password is not usable."""

    code = "users"
    default_hint = "Run `posture users add NAME` and type the password on standard input."


@dataclass(frozen=True)
class User:
    name: str
    password_hash: str


def users_path(data_dir: Path | None = None) -> Path:
    """``<data dir>/users.htpasswd`` (the data dir of :func:`posture.store.default_data_dir`)."""
    return (data_dir or default_data_dir()) / USERS_FILENAME


# -- hashing ---------------------------------------------------------------------------------------


@cache
def _libcrypt() -> ctypes.CDLL:
    name = ctypes.util.find_library("crypt") or "libcrypt.so.1"
    try:
        lib = ctypes.CDLL(name)
        lib.crypt_gensalt_rn.restype = ctypes.c_char_p
        lib.crypt_gensalt_rn.argtypes = [
            ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_int,
        ]
        lib.crypt_rn.restype = ctypes.c_char_p
        lib.crypt_rn.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_int]
    except (OSError, AttributeError):
        raise UsersError(
            "The system's crypt library (libxcrypt, libcrypt.so.1) was not found.",
            "Install it (Debian: apt-get install libcrypt1); nginx needs it to check passwords too.",
        ) from None
    return lib


def _crypt(password: bytes, setting: bytes) -> str | None:
    data = ctypes.create_string_buffer(_CRYPT_DATA_SIZE)
    out: bytes | None = _libcrypt().crypt_rn(password, setting, data, _CRYPT_DATA_SIZE)
    if not out or out.startswith(b"*"):
        return None
    return out.decode("ascii")


def hash_password(password: str) -> str:
    """A salted bcrypt hash (``$2b$10$...``) of ``password``; the salt comes from the OS's random
    source (``crypt_gensalt`` is given no random bytes, so libxcrypt draws them itself)."""
    raw = _check_password(password)
    buf = ctypes.create_string_buffer(_SETTING_SIZE)
    setting = _libcrypt().crypt_gensalt_rn(HASH_PREFIX, BCRYPT_COST, None, 0, buf, _SETTING_SIZE)
    if not setting:
        raise UsersError("The crypt library could not make a bcrypt salt.", "Check libxcrypt is installed.")
    hashed = _crypt(raw, setting)
    if hashed is None or not hashed.startswith(HASH_PREFIX.decode()):
        raise UsersError("The crypt library could not hash the password with bcrypt.")
    return hashed


def verify_password(password: str, password_hash: str) -> bool:
    """True when ``password`` matches ``password_hash`` (constant-time comparison of the hashes)."""
    raw = password.encode("utf-8")
    if len(raw) > MAX_PASSWORD_BYTES:
        return False
    hashed = _crypt(raw, password_hash.encode("ascii"))
    return hashed is not None and hmac.compare_digest(hashed.encode(), password_hash.encode())


def _check_password(password: str) -> bytes:
    if any(ch in password for ch in "\r\n\x00"):
        raise UsersError("The password contains a line break or NUL character.", "Type it on one line.")
    if len(password) < MIN_PASSWORD_CHARS:
        raise UsersError(
            f"The password is shorter than {MIN_PASSWORD_CHARS} characters.",
            "Use a passphrase of several words.",
        )
    raw = password.encode("utf-8")
    if len(raw) > MAX_PASSWORD_BYTES:
        raise UsersError(
            f"The password is longer than {MAX_PASSWORD_BYTES} bytes (bcrypt ignores the rest).",
            "Use a shorter passphrase.",
        )
    return raw


def check_name(name: str) -> str:
    if not NAME_PATTERN.fullmatch(name):
        raise UsersError(
            "A user name is 1-64 letters, digits, '.', '_' or '-' and starts with a letter or digit.",
            "Choose another name, e.g. `reception` or `a.smith`.",
        )
    return name


# -- the file --------------------------------------------------------------------------------------


def read_users(path: Path | None = None) -> dict[str, str]:
    """``{name: hash}`` from the users file; empty when it does not exist yet."""
    p = path or users_path()
    try:
        text = p.read_text(encoding="ascii")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise UsersError(f"The users file {p} could not be read ({type(exc).__name__}).") from None
    users: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, hashed = line.partition(":")
        if not sep or not NAME_PATTERN.fullmatch(name) or not hashed:
            raise UsersError(f"The users file {p} has a malformed line.", "Fix or delete that line.")
        users[name] = hashed
    return users


def list_users(path: Path | None = None) -> list[User]:
    return [User(n, h) for n, h in sorted(read_users(path).items())]


def add_user(name: str, password: str, path: Path | None = None) -> bool:
    """Add ``name`` or replace its password. True when the user is new."""
    p = path or users_path()
    check_name(name)
    hashed = hash_password(password)
    users = read_users(p)
    is_new = name not in users
    users[name] = hashed
    _write(p, users)
    return is_new


def remove_user(name: str, path: Path | None = None) -> None:
    p = path or users_path()
    users = read_users(p)
    if name not in users:
        raise UsersError(f"There is no user {name!r} in {p}.", "`posture users list` shows the users.")
    del users[name]
    _write(p, users)


def _write(path: Path, users: dict[str, str]) -> None:
    """Atomic replace, mode 0600 from the first byte (the temporary file is created 0600)."""
    path.parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    body = "".join(f"{n}:{h}\n" for n, h in sorted(users.items()))
    fd, tmp = tempfile.mkstemp(prefix=".users-", dir=path.parent)  # mkstemp creates it 0600
    try:
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            os.fchmod(fh.fileno(), FILE_MODE)
            fh.write(body)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# -- the login check of the proxy ------------------------------------------------------------------

# An address with LOCK_FAILURES failed logins within the last LOCK_WINDOW_S seconds is refused (429 at
# the proxy) BEFORE its password is looked at, until its oldest failure in the window ages out.
LOCK_FAILURES = 10
LOCK_WINDOW_S = 300.0
# A verified Authorization header is remembered this long, so that a page's many asset requests
# do not each pay the slow hash; the entry is dropped when that user's hash changes or is removed.
VERIFIED_TTL_S = 300.0
MAX_TRACKED = 10_000  # memory bound of both tables (oldest entries dropped first)


class Verdict(enum.Enum):
    """What :meth:`Authenticator.check` decided (the guard maps it to an HTTP status)."""

    ALLOW = "allow"
    NO_CREDENTIALS = "no_credentials"  # ask for a login; not a failure
    DENY = "deny"  # wrong name or password: counted
    LOCKED = "locked"  # too many recent failures from this address: not checked at all


class Authenticator:
    """Checks ``Authorization: Basic`` headers against the users file, with a per-address lockout.

    Thread-safe. The users file is re-read when its size or mtime changes, so ``posture users add``
    and ``remove`` take effect on the next request without a restart."""

    def __init__(self, path: Path, *, lock_failures: int = LOCK_FAILURES,
                 lock_window_s: float = LOCK_WINDOW_S, verified_ttl_s: float = VERIFIED_TTL_S) -> None:
        self.path = path
        self.lock_failures = lock_failures
        self.lock_window_s = lock_window_s
        self.verified_ttl_s = verified_ttl_s
        self._lock = threading.Lock()
        self._fails: collections.OrderedDict[str, collections.deque[float]] = collections.OrderedDict()
        self._verified: collections.OrderedDict[bytes, tuple[str, str, float]] = collections.OrderedDict()
        self._key = secrets.token_bytes(32)  # the cache holds HMACs of headers, never the headers
        self._users: dict[str, str] = {}
        self._stamp: tuple[int, int, int] | None = None  # os.replace gives every write a new inode

    def _current_users(self) -> dict[str, str]:
        try:
            st = self.path.stat()
            stamp: tuple[int, int, int] | None = (st.st_ino, st.st_mtime_ns, st.st_size)
        except FileNotFoundError:
            stamp = None
        with self._lock:
            if stamp != self._stamp:
                self._users = read_users(self.path) if stamp else {}
                self._stamp = stamp
            return self._users

    def _recent_failures(self, addr: str, now: float) -> int:
        q = self._fails.get(addr)
        if q is None:
            return 0
        while q and now - q[0] > self.lock_window_s:
            q.popleft()
        if not q:
            del self._fails[addr]
        return len(q)

    def locked(self, addr: str) -> bool:
        with self._lock:
            return self._recent_failures(addr, time.monotonic()) >= self.lock_failures

    def record_failure(self, addr: str) -> None:
        with self._lock:
            now = time.monotonic()
            self._recent_failures(addr, now)
            q = self._fails.setdefault(addr, collections.deque(maxlen=self.lock_failures))
            q.append(now)
            self._fails.move_to_end(addr)
            while len(self._fails) > MAX_TRACKED:
                self._fails.popitem(last=False)

    def check(self, authorization: str | None, addr: str) -> Verdict:
        if self.locked(addr):
            return Verdict.LOCKED
        if not authorization:
            return Verdict.NO_CREDENTIALS
        users = self._current_users()
        digest = hmac.new(self._key, authorization.encode("utf-8", "replace"), hashlib.sha256).digest()
        now = time.monotonic()
        with self._lock:
            hit = self._verified.get(digest)
            if hit is not None and hit[2] > now and users.get(hit[0]) == hit[1]:
                return Verdict.ALLOW
        name, password = _parse_basic(authorization)
        hashed = users.get(name) if name is not None else None
        if hashed is None or password is None or not verify_password(password, hashed):
            self.record_failure(addr)
            return Verdict.DENY
        with self._lock:
            self._verified[digest] = (name or "", hashed, now + self.verified_ttl_s)
            self._verified.move_to_end(digest)
            while len(self._verified) > MAX_TRACKED:
                self._verified.popitem(last=False)
        return Verdict.ALLOW


def _parse_basic(header: str) -> tuple[str | None, str | None]:
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return None, None
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None, None
    name, sep, password = decoded.partition(":")
    return (name, password) if sep else (None, None)
