"""Made with main's code (fbd7271) before ``kaiku_registry.models`` was split into records, statistics,
bulk loading and the registry: run from the repository root as
``.venv/bin/python tests/data/make_registry_before_split.py``.

The database's pickles name the registry's classes as ``kaiku_registry.models.<Class>``
(``tests/test_registry_compat.py`` checks that they do and that the database still opens and serves).
"""

import datetime
import json
import os
import shutil
import tempfile

from portal.testing import TEST_PASSWORD, add_user, build_app, close_app, edit_site

HERE = os.path.dirname(os.path.abspath(__file__))
#: Far enough ahead that the card is valid whenever the test runs.
VALID_UNTIL = datetime.date(2099, 12, 31)

directory = tempfile.mkdtemp()
app = build_app(directory, **{'portal.load_on_start': 'false'})
try:
    with edit_site(app) as site:
        registry = site['registry']
        city = registry.add_partner('Tampereen kaupunki', 'municipality', 'Tampere')
        issuer = registry.add_site(city, 'Sosiaalitoimi', 'issuer')
        venue = registry.add_site(city, 'Museo', 'venue')
        day = datetime.date(2026, 12, 5)
        card = registry.issue_card(issuer, day, 1980, '33100', 2)
        registry._track_expiry(card, -1)  # a card valid whenever the test runs
        card.valid_until = VALID_UNTIL
        registry._track_expiry(card, 1)
        other = registry.issue_card(issuer, day, 1990, '33200', 0)
        registry.record_visit(card, venue, day, 'culture', children=1)
        registry.record_visit(other, venue, day, 'sport')
        token = registry.new_token(venue)
        registry.set_member('ovi', venue)
        registry.set_member('myynti', issuer)
        registry.set_area('koordinaattori', 'municipality', 'Tampere')
        facts = {
            'card': card.code,
            'card_id': card.id,
            'token': token,
            'venue': venue.id,
            'issuer': issuer.id,
            'password': TEST_PASSWORD,
        }
    add_user(app, 'ovi', TEST_PASSWORD, roles=('VenueStaff',))
    add_user(app, 'myynti', TEST_PASSWORD, roles=('IssuerStaff',))
    add_user(app, 'koordinaattori', TEST_PASSWORD, roles=('Coordinator',))
    app.registry._zodb_databases[''].pack()
finally:
    close_app(app)
shutil.copy(os.path.join(directory, 'Data.fs'), os.path.join(HERE, 'registry-before-split.fs'))
with open(os.path.join(HERE, 'registry-before-split.json'), 'w', encoding='utf-8') as f:
    json.dump(facts, f, indent=2)
    f.write('\n')
shutil.rmtree(directory)
print(facts)
