"""Users, API keys, collections, grants and browser sessions, in sqlite in the data directory.

Passwords are hashed with argon2 (pwdlib). API keys and session tokens are random 256-bit
secrets: only their SHA-256 is stored, and a key is shown once, when it is created.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
import threading
import time
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Literal

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from pydantic import BaseModel

from assistant.access import ROLES, Access, Role
from assistant.sqlite_tx import locked_transaction
from index.provenance import DEFAULT_COLLECTION, checked_name

Permission = Literal["read", "write"]
_KEY_PREFIX = "sanad_"
_HASHER = PasswordHash((Argon2Hasher(),))
_MIN_PASSWORD = 8


class AccountError(ValueError):
    """A bad name, role or password, or a taken name."""


class AccountNotFound(AccountError):
    """An unknown user, key, collection or grant."""


class UserInfo(BaseModel):
    """A user as listed (never the password hash)."""

    name: str
    role: Role
    disabled: bool


class KeyInfo(BaseModel):
    """An API key as listed (never the secret)."""

    id: str
    user: str
    created: float
    revoked: bool


class Grant(BaseModel):
    """A user's right on a collection."""

    collection: str
    user: str
    permission: Permission


class Session(BaseModel):
    """A signed-in browser: who, and the token its state-changing requests must echo."""

    user: str
    csrf: str

    def echoed_by(self, given: str | None) -> bool:
        """Whether a request echoed this session's CSRF token (compared in constant time)."""
        return hmac.compare_digest((given or "").encode(), self.csrf.encode())


def _digest(secret: str) -> str:
    """SHA-256 of a random secret (keys and session tokens have 256 bits: no slow hash)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def check_name(name: str, what: str) -> str:
    """A user or collection name (index.provenance.checked_name); AccountError otherwise."""
    try:
        return checked_name(name, what)
    except ValueError as exc:
        raise AccountError(str(exc)) from exc


_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY, role TEXT NOT NULL, hash TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS collections (name TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS grants (
    collection TEXT NOT NULL REFERENCES collections(name),
    user TEXT NOT NULL REFERENCES users(name),
    permission TEXT NOT NULL, PRIMARY KEY (collection, user));
CREATE TABLE IF NOT EXISTS keys (
    id TEXT PRIMARY KEY, user TEXT NOT NULL REFERENCES users(name),
    digest TEXT NOT NULL UNIQUE, created REAL NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS sessions (
    digest TEXT PRIMARY KEY, user TEXT NOT NULL REFERENCES users(name),
    csrf TEXT NOT NULL, expires REAL NOT NULL);
"""


class Accounts:
    """The accounts database (`accounts.sqlite3`); safe across threads and processes."""

    def __init__(self, path: Path, session_hours: float = 12.0) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.session_seconds = session_hours * 3600
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._lock = threading.Lock()
        with self._write() as db:
            for table in _SCHEMA.split(";")[:-1]:  # executescript would commit midway
                db.execute(table)
            db.execute("INSERT OR IGNORE INTO collections VALUES (?)", (DEFAULT_COLLECTION,))

    def _write(self) -> AbstractContextManager[sqlite3.Connection]:
        """One write transaction under the lock (rolled back on error)."""
        return locked_transaction(self._db, self._lock)

    def _one(self, sql: str, args: tuple = ()) -> tuple | None:
        with self._lock:
            return self._db.execute(sql, args).fetchone()

    def _all(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    # --- users ------------------------------------------------------------------------
    def has_users(self) -> bool:
        """Whether any user exists (none: the single-user mode)."""
        return self._one("SELECT 1 FROM users LIMIT 1") is not None

    def add_user(self, name: str, role: str, password: str) -> UserInfo:
        """Create a user; AccountError for a bad name, role or password, or a taken name."""
        check_name(name, "user")
        if role not in ROLES:
            raise AccountError(f"bad role {role!r}: one of {', '.join(ROLES)}")
        digest = _HASHER.hash(_checked_password(password))
        try:
            with self._write() as db:
                db.execute(
                    "INSERT INTO users (name, role, hash) VALUES (?, ?, ?)", (name, role, digest)
                )
        except sqlite3.IntegrityError as exc:
            raise AccountError(f"user {name} exists") from exc
        return UserInfo(name=name, role=role, disabled=False)  # type: ignore[arg-type]

    def users(self) -> list[UserInfo]:
        """Every user, by name."""
        rows = self._all("SELECT name, role, disabled FROM users ORDER BY name")
        return [UserInfo(name=n, role=r, disabled=bool(d)) for n, r, d in rows]

    def user(self, name: str) -> UserInfo:
        """One user; AccountError when unknown."""
        row = self._one("SELECT name, role, disabled FROM users WHERE name = ?", (name,))
        if row is None:
            raise AccountNotFound(f"no user {name}")
        return UserInfo(name=row[0], role=row[1], disabled=bool(row[2]))

    def set_disabled(self, name: str, disabled: bool = True) -> UserInfo:
        """Disable (or enable) a user: their sessions end and their keys stop working."""
        self.user(name)
        with self._write() as db:
            db.execute("UPDATE users SET disabled = ? WHERE name = ?", (int(disabled), name))
            db.execute("DELETE FROM sessions WHERE user = ?", (name,))
        return self.user(name)

    def set_password(self, name: str, password: str) -> None:
        """Replace a user's password; their browser sessions end."""
        self.user(name)
        digest = _HASHER.hash(_checked_password(password))
        with self._write() as db:
            db.execute("UPDATE users SET hash = ? WHERE name = ?", (digest, name))
            db.execute("DELETE FROM sessions WHERE user = ?", (name,))

    def login(self, name: str, password: str) -> Access | None:
        """The user's rights when the password is theirs and they are enabled, else None."""
        row = self._one("SELECT hash, disabled FROM users WHERE name = ?", (name or "",))
        if row is None:
            _HASHER.verify(password or "", _DUMMY)  # the same work whether the name exists
            return None
        if not _HASHER.verify(password or "", row[0]) or row[1]:
            return None
        return self.access(name)

    def access(self, name: str) -> Access:
        """The rights of an enabled user: an admin reads and writes everything; an editor
        reads their read and write grants and writes the latter; a reader only reads."""
        info = self.user(name)
        if info.disabled:
            raise AccountError(f"user {name} is disabled")
        if info.role == "admin":
            return Access(user=name, role="admin", readable=None, writable=None)
        rows = self._all("SELECT collection, permission FROM grants WHERE user = ?", (name,))
        readable = frozenset(c for c, _ in rows)
        writable = frozenset(c for c, p in rows if p == "write" and info.role == "editor")
        return Access(user=name, role=info.role, readable=readable, writable=writable)

    # --- API keys ---------------------------------------------------------------------
    def create_key(self, user: str) -> tuple[KeyInfo, str]:
        """A new key for the user: its listing and the secret (shown this once only)."""
        self.user(user)
        key_id = secrets.token_hex(4)
        secret = f"{_KEY_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
        now = time.time()
        with self._write() as db:
            db.execute(
                "INSERT INTO keys (id, user, digest, created) VALUES (?, ?, ?, ?)",
                (key_id, user, _digest(secret), now),
            )
        return KeyInfo(id=key_id, user=user, created=now, revoked=False), secret

    def keys(self) -> list[KeyInfo]:
        """Every key (revoked ones too), oldest first."""
        rows = self._all("SELECT id, user, created, revoked FROM keys ORDER BY created")
        return [KeyInfo(id=i, user=u, created=c, revoked=bool(r)) for i, u, c, r in rows]

    def revoke_key(self, key_id: str) -> KeyInfo:
        """Revoke a key for good; AccountError when unknown."""
        with self._write() as db:
            if not db.execute("UPDATE keys SET revoked = 1 WHERE id = ?", (key_id,)).rowcount:
                raise AccountNotFound(f"no key {key_id}")
        return next(k for k in self.keys() if k.id == key_id)

    def key_access(self, secret: str) -> Access | None:
        """The rights of a key's user, or None for an unknown, revoked or disabled one."""
        if not secret.startswith(_KEY_PREFIX):
            return None
        row = self._one(
            "SELECT k.user FROM keys k JOIN users u ON u.name = k.user "
            "WHERE k.digest = ? AND NOT k.revoked AND NOT u.disabled",
            (_digest(secret),),
        )
        return self.access(row[0]) if row else None

    # --- collections and grants -------------------------------------------------------
    def add_collection(self, name: str) -> str:
        """Create a collection; AccountError for a bad or taken name."""
        check_name(name, "collection")
        try:
            with self._write() as db:
                db.execute("INSERT INTO collections VALUES (?)", (name,))
        except sqlite3.IntegrityError as exc:
            raise AccountError(f"collection {name} exists") from exc
        return name

    def collections(self) -> list[str]:
        """Every collection, by name."""
        return [row[0] for row in self._all("SELECT name FROM collections ORDER BY name")]

    def check_collection(self, name: str) -> str:
        """The name of an existing collection; AccountError otherwise."""
        if self._one("SELECT 1 FROM collections WHERE name = ?", (name,)) is None:
            raise AccountNotFound(f"no collection {name} (create it with `sanad collections add`)")
        return name

    def grant(self, collection: str, user: str, permission: str) -> Grant:
        """Give a user read or write on a collection (replacing an earlier grant)."""
        self.check_collection(collection)
        self.user(user)
        if permission not in ("read", "write"):
            raise AccountError(f"bad permission {permission!r}: read or write")
        with self._write() as db:
            db.execute(
                "INSERT OR REPLACE INTO grants VALUES (?, ?, ?)", (collection, user, permission)
            )
        return Grant(collection=collection, user=user, permission=permission)  # type: ignore[arg-type]

    def revoke_grant(self, collection: str, user: str) -> None:
        """Take a user's right on a collection away; AccountError when there was none."""
        with self._write() as db:
            gone = db.execute(
                "DELETE FROM grants WHERE collection = ? AND user = ?", (collection, user)
            ).rowcount
        if not gone:
            raise AccountNotFound(f"{user} has no grant on {collection}")

    def grants(self) -> list[Grant]:
        """Every grant, by collection and user."""
        rows = self._all("SELECT collection, user, permission FROM grants ORDER BY 1, 2")
        return [Grant(collection=c, user=u, permission=p) for c, u, p in rows]

    # --- browser sessions -------------------------------------------------------------
    def open_session(self, user: str) -> tuple[str, Session]:
        """A new session for a signed-in user: the cookie's token and the session."""
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        now = time.time()
        with self._write() as db:
            db.execute("DELETE FROM sessions WHERE expires < ?", (now,))
            db.execute(
                "INSERT INTO sessions VALUES (?, ?, ?, ?)",
                (_digest(token), user, csrf, now + self.session_seconds),
            )
        return token, Session(user=user, csrf=csrf)

    def session(self, token: str) -> Session | None:
        """The live session of a cookie's token (None: unknown, expired or user disabled)."""
        row = self._one(
            "SELECT s.user, s.csrf FROM sessions s JOIN users u ON u.name = s.user "
            "WHERE s.digest = ? AND s.expires > ? AND NOT u.disabled",
            (_digest(token or ""), time.time()),
        )
        return Session(user=row[0], csrf=row[1]) if row else None

    def close_session(self, token: str) -> None:
        """Sign a browser out."""
        with self._write() as db:
            db.execute("DELETE FROM sessions WHERE digest = ?", (_digest(token or ""),))


def _checked_password(password: str) -> str:
    """The password, or AccountError when it is too short."""
    if len(password or "") < _MIN_PASSWORD:
        raise AccountError(f"a password needs at least {_MIN_PASSWORD} characters")
    return password


_DUMMY = _HASHER.hash("not a password of anyone")
