"""The world of the issuer's and the door's paths through WebTest (``test_registry_issuer_paths``,
``test_registry_door_paths``): two issuing sites in two municipalities, a venue, a coordinator of
Tampere and a national administrator, and the steps those tests share."""

import webtest

from portal.testing import add_user, edit_site, form_with, log_in

PASSWORD = 'kaiku issuer paths passphrase 17'


def build_world(directory):
    """The application of the paths' tests, in ``directory``; close it with ``close_app``."""
    from portal.testing import build_app

    app = build_app(directory)
    with edit_site(app) as site:
        registry = site['registry']
        tampere = registry.add_partner('Tampereen kaupunki', 'municipality', 'Tampere', 'Pirkanmaa')
        nokia = registry.add_partner('Nokian kaupunki', 'municipality', 'Nokia', 'Pirkanmaa')
        sites = {
            'issuer_a': registry.add_site(tampere, 'Sosiaalitoimi Tampere', 'issuer'),
            'issuer_b': registry.add_site(nokia, 'Sosiaalitoimi Nokia', 'issuer'),
            'venue_a': registry.add_site(tampere, 'Museo Tampere', 'venue'),
        }
        for login, partner_site in sites.items():
            registry.set_member(login, partner_site)
        registry.set_area('coord_tampere', 'municipality', 'Tampere')
        app.site_ids = {login: partner_site.id for login, partner_site in sites.items()}
    roles = {
        'issuer_a': ['IssuerStaff'],
        'issuer_b': ['IssuerStaff'],
        'venue_a': ['VenueStaff'],
        'coord_tampere': ['Coordinator'],
        'national': ['NationalAdmin'],
    }
    for login, user_roles in roles.items():
        add_user(app, login, PASSWORD, roles=user_roles)
    return app


def client(world, login=None):
    world.registry.lookup_throttle.clear()
    app = webtest.TestApp(world, extra_environ={'HTTP_HOST': 'example.com'})
    if login:
        log_in(app, login, PASSWORD)
    return app


def registry_of(world):
    """A read of the registry: ``with registry_of(world) as registry``."""
    return _Reading(world)


class _Reading:
    def __init__(self, world):
        self.edit = edit_site(world)

    def __enter__(self):
        return self.edit.__enter__()['registry']

    def __exit__(self, *exc):
        return self.edit.__exit__(*exc)


def make_batch(world, login='coord_tampere', size='6'):
    app = client(world, login)
    form = form_with(app.get('/registry/stock'), 'size')
    form['size'] = size
    res = form.submit(status=303).follow(status=200)
    return app, res


def allocated_batch(world, to='issuer_a', size='6'):
    """A new batch allocated to ``to``'s site (by Tampere's coordinator, or nationally for Nokia); its
    codes."""
    _app, res = make_batch(world, login='coord_tampere' if to == 'issuer_a' else 'national', size=size)
    form = form_with(res, 'site_id')
    form['site_id'] = str(world.site_ids[to])
    res = form.submit(status=200)
    return [row.select_one('th').text.replace('-', '') for row in res.html.select('table.records tbody tr')]


def audit_entries(world, action):
    from portal.audit import LOG_KEY

    conn = world.registry._zodb_databases['audit'].open()
    try:
        log = conn.root().get(LOG_KEY)
        return [dict(e) for e in log.entries.values() if e['action'] == action] if log else []
    finally:
        conn.close()


def today():
    from kaiku_registry import today as clock_today

    return clock_today()


def finnish(day):
    """A day as a form takes it (dd.mm.yyyy)."""
    return day.strftime('%d.%m.%Y')


def shown(day, lang='fi'):
    """A day as the pages show it to a reader of ``lang`` (portal.clock)."""
    from portal.clock import show_day

    return show_day(day, lang)
