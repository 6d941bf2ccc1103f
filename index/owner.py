"""One process at a time owns an embedded data directory's Chroma.

Embedded Chroma keeps the vector index in each process's memory and writes it back into the
data directory. Two processes on one directory each miss the other's writes (searches then
fail with "Error finding id") and overwrite each other's index files. So a process that opens
the embedded store first takes an exclusive lock, `<data dir>/owner.lock` (released by the
system when the process ends, however it ends): `sanad serve` for its lifetime, a CLI command
for its run.

A server announces itself in `<data dir>/server.json` (its URL and a key, readable by the
data directory's user only). Another sanad process that finds the lock held by a server sends
its work there instead (ui/remote.py); held by another command, it waits. A Chroma server
(SANAD_CHROMA_URL) is shared by design: no lock is taken.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from index.store import OWNER_FILES, check_data_dir

LOCK_FILE, SERVER_FILE, WRITE_LOCK_FILE = OWNER_FILES
_POLL_S = 0.5


@dataclass(frozen=True)
class ServerAddress:
    """Where the server owning a data directory answers, and the key it accepts from us."""

    url: str
    key: str
    pid: int


class DataDirLock:
    """An exclusive lock in a data directory (flock: gone with the process). `owner.lock` is
    held while a process has the embedded store open; `write.lock` while it writes, which
    matters where processes share a Chroma server (SANAD_CHROMA_URL)."""

    def __init__(self, data_dir: Path, name: str = LOCK_FILE) -> None:
        self.data_dir = Path(data_dir)
        self.name = name
        self._fd: int | None = None

    def acquire(self, wait: bool = True) -> bool:
        """Take the lock (waiting for it, or not); False when another process holds it."""
        check_data_dir(self.data_dir)  # never write a lock file into someone else's folder
        fd = os.open(self.data_dir / self.name, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def take(self, waiting: Callable[[], None]) -> ServerAddress | None:
        """Own the data directory, or name the server that owns it. While another command
        has it, `waiting` is called once and the lock polled: that owner may turn out to be a
        server that announces itself."""
        told = False
        while not self.acquire(wait=False):
            server = running_server(self.data_dir)
            if server is not None:
                return server
            if not told:
                waiting()
                told = True
            time.sleep(_POLL_S)
        return None

    def release(self) -> None:
        """Let the next process have the data directory."""
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None


def announce(data_dir: Path, address: ServerAddress) -> None:
    """Record the server that owns the data directory (readable by its user only)."""
    path = Path(data_dir) / SERVER_FILE
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump({"url": address.url, "key": address.key, "pid": address.pid}, out)
    os.replace(tmp, path)


def running_server(data_dir: Path) -> ServerAddress | None:
    """The server announced for the data directory, if its process still runs."""
    try:
        found = json.loads((Path(data_dir) / SERVER_FILE).read_text(encoding="utf-8"))
        address = ServerAddress(str(found["url"]), str(found["key"]), int(found["pid"]))
        os.kill(address.pid, 0)
    except (OSError, ValueError, KeyError, TypeError):
        return None  # none announced, unreadable, or its process is gone
    return address
