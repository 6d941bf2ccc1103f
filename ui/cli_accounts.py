"""`sanad users`, `sanad keys` and `sanad collections`: the accounts database, from a shell.

Passwords are read from standard input (`--password-stdin`), never from the command line,
where other users of the machine could see them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from assistant.access import ROLES
from assistant.accounts import Accounts
from assistant.engine import Engine


def _password(args: argparse.Namespace) -> str:
    """The password on standard input (its first line), or ValueError without the flag."""
    if not args.password_stdin:
        raise ValueError("give the password on standard input with --password-stdin")
    return sys.stdin.readline().rstrip("\r\n")


def cmd_users(engine: Engine, args: argparse.Namespace) -> int:
    """users add | list | disable | enable | passwd."""
    accounts: Accounts = engine.accounts
    if args.action == "add":
        user = accounts.add_user(args.name, args.role, _password(args))
        print(f"added {user.name} ({user.role})")
    elif args.action == "list":
        for user in accounts.users():
            state = " (disabled)" if user.disabled else ""
            print(f"{user.name}\t{user.role}{state}")
    elif args.action in ("disable", "enable"):
        user = accounts.set_disabled(args.name, args.action == "disable")
        print(f"{user.name} {'disabled' if user.disabled else 'enabled'}")
    else:
        accounts.set_password(args.name, _password(args))
        print(f"password of {args.name} changed")
    return 0


def cmd_keys(engine: Engine, args: argparse.Namespace) -> int:
    """keys create | list | revoke."""
    accounts: Accounts = engine.accounts
    if args.action == "create":
        key, secret = accounts.create_key(args.user)
        print(f"key {key.id} for {key.user}; it is shown this once:")
        print(secret)
    elif args.action == "list":
        for key in accounts.keys():
            created = dt.datetime.fromtimestamp(key.created, dt.UTC).isoformat(timespec="seconds")
            state = "revoked" if key.revoked else "active"
            print(f"{key.id}\t{key.user}\t{created}\t{state}")
    else:
        key = accounts.revoke_key(args.id)
        print(f"key {key.id} of {key.user} revoked")
    return 0


def cmd_collections(engine: Engine, args: argparse.Namespace) -> int:
    """collections add | list | grant | revoke."""
    accounts: Accounts = engine.accounts
    if args.action == "add":
        print(f"added collection {accounts.add_collection(args.name)}")
    elif args.action == "list":
        grants = accounts.grants()
        for name in accounts.collections():
            who = ", ".join(f"{g.user}:{g.permission}" for g in grants if g.collection == name)
            print(f"{name}\t{who}" if who else name)
    elif args.action == "grant":
        grant = accounts.grant(args.collection, args.user, args.permission)
        print(f"{grant.user} may {grant.permission} {grant.collection}")
    else:
        accounts.revoke_grant(args.collection, args.user)
        print(f"{args.user} has no access to {args.collection} now")
    return 0


def add_account_commands(sub: argparse._SubParsersAction) -> None:
    """Add `users`, `keys` and `collections` to the CLI's sub-commands."""
    users = sub.add_parser("users", help="accounts: add, list, disable, enable, passwd")
    users.set_defaults(func=cmd_users)
    actions = users.add_subparsers(dest="action", required=True)
    p = actions.add_parser("add", help="create a user")
    p.add_argument("name")
    p.add_argument("--role", choices=ROLES, required=True)
    p.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    actions.add_parser("list", help="every user and role")
    for action in ("disable", "enable"):
        actions.add_parser(action, help=f"{action} a user").add_argument("name")
    p = actions.add_parser("passwd", help="change a user's password")
    p.add_argument("name")
    p.add_argument("--password-stdin", action="store_true", help="read the password from stdin")

    keys = sub.add_parser("keys", help="API keys: create, list, revoke")
    keys.set_defaults(func=cmd_keys)
    actions = keys.add_subparsers(dest="action", required=True)
    actions.add_parser("create", help="a new key (printed last, once)").add_argument("user")
    actions.add_parser("list", help="every key (never the secrets)")
    actions.add_parser("revoke", help="revoke a key by id").add_argument("id")

    collections = sub.add_parser("collections", help="collections and grants")
    collections.set_defaults(func=cmd_collections)
    actions = collections.add_subparsers(dest="action", required=True)
    actions.add_parser("add", help="create a collection").add_argument("name")
    actions.add_parser("list", help="every collection with its grants")
    p = actions.add_parser("grant", help="give a user read or write on a collection")
    p.add_argument("collection")
    p.add_argument("user")
    p.add_argument("permission", choices=("read", "write"))
    p = actions.add_parser("revoke", help="take a user's right on a collection away")
    p.add_argument("collection")
    p.add_argument("user")
