"""``posture users ...``: who may log in at the LAN proxy (``make serve``, README "Security").

    posture users add NAME        password from standard input (typed twice at a terminal)
    posture users remove NAME
    posture users list

The users file is ``<POSTURE_DATA_DIR>/users.htpasswd`` (bcrypt hashes, mode 0600); a running
``make serve`` picks up a change on the next request.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from posture.users import UsersError, add_user, list_users, remove_user, users_path


def register(subparsers: Any) -> None:
    users = subparsers.add_parser("users", help="log-ins of the LAN proxy (make serve)")
    usub = users.add_subparsers(dest="users_command", required=True)

    add = usub.add_parser("add", help="add a user or change a password (password read from stdin)")
    add.add_argument("name")
    add.set_defaults(handler=cmd_add)

    rm = usub.add_parser("remove", help="remove a user")
    rm.add_argument("name")
    rm.set_defaults(handler=cmd_remove)

    ls = usub.add_parser("list", help="list the user names")
    ls.set_defaults(handler=cmd_list)


def _read_password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != first:
            raise UsersError("The two passwords differ.", "Run the command again.")
        return first
    line = sys.stdin.readline()
    return line[:-1] if line.endswith("\n") else line


def cmd_add(args: argparse.Namespace) -> int:
    is_new = add_user(args.name, _read_password())
    print(f"{'added' if is_new else 'changed the password of'} user {args.name} in {users_path()}")
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    remove_user(args.name)
    print(f"removed user {args.name} from {users_path()}")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    for user in list_users():
        print(user.name)
    return 0
