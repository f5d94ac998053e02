"""A database made before ``kaiku_registry.models`` was split still opens, upgrades and serves.

ZODB names each stored class by its module path: the registry, its partners, sites, cards, visits, tallies
and tokens were pickled as ``kaiku_registry.models.<Class>``.  ``tests/data/registry-before-split.fs`` was
made by that code (``tests/data/make_registry_before_split.py`` at commit fbd7271, facts in the ``.json``
beside it); with the classes living in other modules now, ``kaiku_registry.models`` must still name them.
"""

import json
import os
import re
import shutil

import pytest
import webtest

from portal.testing import build_app, close_app, edit_site, log_in

DATA = os.path.join(os.path.dirname(__file__), 'data', 'registry-before-split.fs')
with open(
    os.path.join(os.path.dirname(__file__), 'data', 'registry-before-split.json'), encoding='utf-8'
) as f:
    FACTS = json.load(f)
STORED_CLASSES = {'ApiToken', 'Card', 'Partner', 'PartnerSite', 'Registry', 'SiteTimeSet', 'Tally', 'Visit',
                  'VisitTree'}  # fmt: skip
API = '/registry/api/v1'


@pytest.fixture
def old_app(tmp_path):
    shutil.copy(DATA, tmp_path / 'Data.fs')
    app = build_app(str(tmp_path), **{'portal.load_on_start': 'false'})
    yield app
    close_app(app)


def client(app, login=None):
    browser = webtest.TestApp(app, extra_environ={'HTTP_HOST': 'example.com'})
    if login:
        log_in(browser, login, FACTS['password'])
    return browser


def test_the_stored_pickles_name_the_old_module():
    with open(DATA, 'rb') as f:
        data = f.read()
    assert set(re.findall(rb'ckaiku_registry\.models\n(\w+)\n', data)) == {n.encode() for n in STORED_CLASSES}


def test_the_old_module_still_names_every_stored_class():
    from kaiku_registry import models

    for name in STORED_CLASSES:
        assert isinstance(getattr(models, name), type), name


def test_old_database_opens_with_its_records(old_app):
    from kaiku_registry.check import check
    from kaiku_registry.models import SHAPE, Card, CardRegistry, Tally
    from kaiku_registry.sharded_visits import ShardedVisits
    from kaiku_registry.site_days import SiteDays
    from kaiku_registry.statistics import ShardedTally

    with edit_site(old_app) as site:
        registry = site['registry']
        assert isinstance(registry, CardRegistry) and registry.shape == SHAPE and not registry.needs_upgrade()
        card = registry.card_by_code(FACTS['card'])
        assert isinstance(card, Card) and card.id == FACTS['card_id'] and card.uses == 1
        # shape 6 keeps each stored Tally as the first shard of its slice
        tallies = [tally for _key, tally in registry.counts(by=('month',))]
        assert tallies and all(isinstance(tally, ShardedTally) for tally in tallies)
        assert all(type(tally.shards[0]) is Tally and tally.shards[0].counts for tally in tallies)
        assert isinstance(registry.visits_by_site_time, SiteDays) and len(registry.visits_by_site_time) == 2
        # shape 7: the visits in their shards' trees, and every card's visit set
        assert isinstance(registry.visits, ShardedVisits) and len(registry.visits) == 2
        assert all(len(registry.visit_ids_by_card[card.id]) == 1 for card in registry.cards.values())
        assert check(registry) == []
        assert registry.visit_count() == 2
        assert registry.totals('cards') == 2 and registry.totals('adult_uses') == 2
        assert registry.totals('child_uses') == 1


def test_old_card_verifies_and_records_a_visit_through_the_api(old_app):
    api = client(old_app)
    headers = {'Authorization': f'Bearer {FACTS["token"]}'}
    res = api.post_json(f'{API}/verify', {'code': FACTS['card']}, headers=headers, status=200)
    assert (res.json['status'], res.json['children_allowed']) == ('valid', 2)
    res = api.post_json(
        f'{API}/visits', {'code': FACTS['card'], 'sector': 'sport'}, headers=headers, status=201
    )
    api.post_json(f'{API}/visits/undo', {'visit_id': res.json['visit_id']}, headers=headers, status=200)
    res = api.get(f'{API}/statistics', headers=headers, status=200)
    assert res.json['site']


def test_old_card_verifies_at_the_door_and_the_visit_counts(old_app):
    door = client(old_app, 'ovi')
    form = door.get('/registry/door').forms[2]
    form['code'] = FACTS['card']
    res = form.submit(status=200)
    record = next(f for f in res.forms.values() if f.action.endswith('door-record'))
    record['sector'] = 'science'
    record.submit(status=200)
    with edit_site(old_app) as site:
        registry = site['registry']
        assert registry.card_by_code(FACTS['card']).uses == 2
        assert registry.totals('adult_uses') == 3 and registry.totals('adult_uses', sector='science') == 1


def test_old_statistics_read_on_the_coordinators_page(old_app):
    stats = client(old_app, 'koordinaattori')
    res = stats.get('/registry/stats', status=200)
    assert 'Museo' in res.text
    csv = stats.get('/registry/stats.csv', status=200)
    assert ';Tampere;' in csv.text


def test_old_issuer_renews_an_old_card(old_app):
    issuer = client(old_app, 'myynti')
    token = issuer.get('/registry/cards').forms[2]['csrf_token'].value
    fields = {'csrf_token': token, 'card_id': str(FACTS['card_id'])}
    res = issuer.post('/registry/card-renew', fields, status=200)
    assert res.html.select_one('.kaiku-card') is not None  # renewed, and printed again
    with edit_site(old_app) as site:
        card = site['registry'].card(FACTS['card_id'])
        assert card.renewed_on is not None and [event.what for event in card.history] == ['renewal']
