"""Collections for everyone who may read them; users, grants and keys for admins."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from assistant.access import ROLES, Access, Role
from assistant.accounts import AccountError, AccountNotFound, Grant, KeyInfo, UserInfo
from assistant.engine import Engine
from ui.api.callers import CallerAccess
from ui.api.errors import FORBIDDEN, NOT_FOUND, ApiError


class CollectionList(BaseModel):
    """The collections the caller may read, and which of them they may write."""

    collections: list[str]
    writable: list[str]


class NewUser(BaseModel):
    """A user to create."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="Letters (a-z, A-Z), digits, '.', '_' or '-' (1-64).")
    role: Role = Field(description=f"One of {', '.join(ROLES)}.")
    password: str = Field(min_length=8, max_length=1024)


class UserChange(BaseModel):
    """A change to a user."""

    model_config = ConfigDict(extra="forbid")

    disabled: bool


class NewGrant(BaseModel):
    """A right to give."""

    model_config = ConfigDict(extra="forbid")

    user: str
    permission: Literal["read", "write"]


class NewKey(BaseModel):
    """A key, shown this once."""

    key: KeyInfo
    secret: str = Field(description="The bearer secret: store it now, it is not shown again.")


def check_writable(collection: str, access: Access) -> None:
    """403 unless the caller may write the collection (readers never may)."""
    if not access.can_write(collection):
        raise ApiError(403, "forbidden", f"no write access to collection {collection}")


def admin_routes(api: APIRouter, engine: Engine) -> None:
    """GET /api/collections, and the admin routes under /api/admin."""
    accounts = engine.accounts

    async def accounting(fn: Callable[[], Any]) -> Any:
        """Run an accounts call; an unknown name is a 404, other bad input a 422."""
        try:
            return await run_in_threadpool(fn)
        except AccountNotFound as exc:
            raise ApiError(404, "not_found", str(exc)) from exc
        except AccountError as exc:
            raise ApiError(422, "invalid_request", str(exc)) from exc

    @api.get("/collections", response_model=CollectionList)
    async def collections(access: CallerAccess) -> CollectionList:
        """The collections the caller may read (and write)."""
        names = await run_in_threadpool(accounts.collections)
        readable = [c for c in names if access.can_read(c)]
        return CollectionList(
            collections=readable, writable=[c for c in readable if access.can_write(c)]
        )

    async def admin(access: CallerAccess) -> Access:
        """403 unless the caller is an admin."""
        if not access.is_admin:
            raise ApiError(403, "forbidden", "only an admin may manage users and grants")
        return access

    router = APIRouter(prefix="/admin", dependencies=[Depends(admin)], responses=FORBIDDEN)

    @router.get("/users", response_model=list[UserInfo])
    async def users() -> list[UserInfo]:
        """Every user."""
        return await accounting(accounts.users)

    @router.post("/users", response_model=UserInfo)
    async def add_user(body: NewUser) -> UserInfo:
        """Create a user."""
        return await accounting(lambda: accounts.add_user(body.name, body.role, body.password))

    @router.patch("/users/{name}", response_model=UserInfo, responses=NOT_FOUND)
    async def change_user(name: str, body: UserChange) -> UserInfo:
        """Disable or enable a user."""
        return await accounting(lambda: accounts.set_disabled(name, body.disabled))

    @router.post("/users/{name}/keys", response_model=NewKey, responses=NOT_FOUND)
    async def create_key(name: str) -> NewKey:
        """A new API key for the user (its secret is in this answer only)."""
        key, secret = await accounting(lambda: accounts.create_key(name))
        return NewKey(key=key, secret=secret)

    @router.post("/collections/{name}", response_model=CollectionList)
    async def add_collection(name: str) -> CollectionList:
        """Create a collection."""
        await accounting(lambda: accounts.add_collection(name))
        names = await run_in_threadpool(accounts.collections)
        return CollectionList(collections=names, writable=names)

    @router.get("/grants", response_model=list[Grant])
    async def grants() -> list[Grant]:
        """Every grant."""
        return await accounting(accounts.grants)

    @router.put("/collections/{collection}/grants", response_model=Grant, responses=NOT_FOUND)
    async def grant(collection: str, body: NewGrant) -> Grant:
        """Give a user read or write on a collection."""
        return await accounting(lambda: accounts.grant(collection, body.user, body.permission))

    @router.delete("/collections/{collection}/grants/{user}", status_code=204, responses=NOT_FOUND)
    async def revoke(collection: str, user: str) -> None:
        """Take a user's right on a collection away."""
        await accounting(lambda: accounts.revoke_grant(collection, user))

    api.include_router(router)
