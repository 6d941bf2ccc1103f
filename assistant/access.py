"""What a caller may read and write: roles and per-collection grants, applied to filters."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Literal

from index.filters import Filters

Role = Literal["admin", "editor", "reader"]
ROLES: tuple[Role, ...] = ("admin", "editor", "reader")


class Forbidden(PermissionError):
    """The caller may see the thing but not change it (HTTP 403)."""


@dataclass(frozen=True)
class Access:
    """A caller's rights. `readable`/`writable` None: every collection (an admin)."""

    user: str | None  # None: the owner of a local, single-user Sanad or the admin token
    role: Role
    readable: frozenset[str] | None
    writable: frozenset[str] | None

    @property
    def is_admin(self) -> bool:
        """Whether the caller manages users, collections and server-side ingest."""
        return self.role == "admin"

    def can_read(self, collection: str) -> bool:
        """Whether the caller may read the collection's documents."""
        return self.readable is None or collection in self.readable

    def can_write(self, collection: str) -> bool:
        """Whether the caller may upload to, delete from and re-index the collection."""
        return self.writable is None or collection in self.writable

    def restrict(self, filters: Filters | None) -> Filters:
        """The filters narrowed to what the caller may read (never widened)."""
        filters = filters or Filters()
        if self.readable is None:
            return filters
        mine = self.readable
        if filters.collections is not None:
            mine = mine & filters.collections
        return dataclasses.replace(filters, collections=frozenset(mine))


OWNER = Access(user=None, role="admin", readable=None, writable=None)
# No one signed in: reads and writes nothing, and its history is no one's ("-" is no user name).
NOBODY = Access(user="-", role="reader", readable=frozenset(), writable=frozenset())
