"""``portal-adduser <ini> <login> --role <role>``: create a user, or update one, with a password from stdin.

The password is read from standard input (the first line), so the command can be scripted::

    echo 'a long passphrase here' | portal-adduser development.ini admin --role Administrator

Roles given replace the user's roles; with no ``--role`` an existing user keeps its roles.  A role held
only on a folder (``WorkspaceCoordinator``) is refused: it is given on that folder's sharing page.  The
password must follow the site's rules (:func:`portal.security.password_problem`);
nothing is changed otherwise.
"""

import argparse
import getpass
import sys

from portal.audit import record
from portal.scripts import ini_bootstrap, ini_logging
from portal.security import LOGIN_RE, get_principals, normalize_login, password_problem, site_wide_roles


def read_password(stdin):
    if stdin.isatty():
        first = getpass.getpass('Password: ')
        if getpass.getpass('Again: ') != first:
            raise SystemExit('the passwords differ')
        return first
    return stdin.readline().rstrip('\r\n')


def main(argv=None, stdin=None):
    parser = argparse.ArgumentParser(prog='portal-adduser', description=__doc__.split('\n')[0])
    parser.add_argument('config_uri', help='the ini file, e.g. development.ini')
    parser.add_argument('login', help='the login name (lower-case letters, digits, . _ @ -)')
    parser.add_argument('--role', action='append', default=None, help='a role; repeat for several')
    parser.add_argument('--title', default=None, help="the user's full name")
    args = parser.parse_args(argv)
    login = normalize_login(args.login)
    if not LOGIN_RE.match(login):
        print(f'not a valid login name: {args.login!r}', file=sys.stderr)
        return 2
    password = read_password(stdin or sys.stdin)
    ini_logging(args.config_uri)
    with ini_bootstrap(args.config_uri) as env:
        registry = env['registry']
        status = _add_or_update(env['request'], registry, args, login, password)
    for db in registry._zodb_databases.values():
        db.close()
    return status


def _add_or_update(request, registry, args, login, password):
    unknown = [role for role in args.role or () if role not in registry.roles]
    if unknown:
        known = ', '.join(site_wide_roles(registry))
        print(f'unknown role: {", ".join(unknown)}; roles: {known}', file=sys.stderr)
        return 2
    local = [role for role in args.role or () if role not in site_wide_roles(registry)]
    if local:
        print(
            f'{", ".join(local)} is given on one folder (its sharing page), not site-wide',
            file=sys.stderr,
        )
        return 2
    problem = password_problem(password, login)
    if problem is not None:
        print(request.localizer.translate(problem), file=sys.stderr)
        return 2
    with request.tm:
        principals = get_principals(request)
        user = principals.get_user(login)
        created = user is None
        if created:
            user = principals.add_user(login)
        if args.role is not None:
            user.roles = tuple(dict.fromkeys(args.role))
        if args.title is not None:
            user.title = args.title
        user.set_password(password)
        user.set_disabled(False)
        roles = ', '.join(user.roles) or 'no roles'
        record(
            request,
            'user-add' if created else 'user-edit',
            path=f'/users/{login}',
            actor='portal-adduser',
            detail={'roles': user.roles, 'changed': ('password', 'roles') if args.role else ('password',)},
        )
    print(f'{"created" if created else "updated"} {login} ({roles})')
    return 0


if __name__ == '__main__':
    sys.exit(main())
