"""The folder listing asks the catalog: it shows what each requester may view (local roles included), in
the folder's order, and loads only the page shown rather than every child."""

import pytest

from portal.events import StateChanged, notify
from portal.resources.base import Container
from portal.testing import TEST_PASSWORD, add_user, browser, edit_site

CHILDREN = 45


@pytest.fixture
def app(make_app):
    app = make_app(**{'portal.load_on_start': 'false'})
    types = app.registry.content_types
    with edit_site(app) as site:
        folder = types['Folder'].create({'title': 'Turku'}, state='published')
        site.add('turku', folder, registry=app.registry)
        for number in range(CHILDREN):
            page = types['Page'].create({'title': f'Sivu {number:02d}', 'body': 'Teksti.'}, state='published')
            folder.add(f'sivu-{number:02d}', page, registry=app.registry)
        secret = types['Page'].create({'title': 'Salainen muistio', 'body': 'Luonnos.'})
        folder.add('muistio', secret, registry=app.registry)
        notify(StateChanged(secret, 'private', 'private'), app.registry)
        folder.set_order(['sivu-44', 'muistio'])
    add_user(app, 'turkulainen', TEST_PASSWORD, local_roles={'/turku': ('Editor',)})
    add_user(app, 'muu', TEST_PASSWORD)
    return app


def titles(res):
    return [a.text.strip() for a in res.html.select('ul.listing .listing-title a')]


def test_listing_follows_the_folder_order_and_each_requester_s_view(app):
    anonymous = titles(browser(app).get('/turku/'))
    assert anonymous[:2] == ['Sivu 44', 'Sivu 00'] and 'Salainen muistio' not in anonymous
    assert len(anonymous) == 20  # a page of the listing
    assert 'Salainen muistio' not in titles(browser(app, 'muu').get('/turku/'))
    editor = titles(browser(app, 'turkulainen').get('/turku/'))
    assert editor[:3] == ['Sivu 44', 'Salainen muistio', 'Sivu 00']
    last = titles(browser(app).get('/turku/', params={'page': 3}))
    assert len(last) == CHILDREN - 40


def test_listing_does_not_load_every_child(app, monkeypatch):
    def refuse(self):
        raise AssertionError('the listing loaded every child instead of asking the catalog')

    monkeypatch.setattr(Container, 'values', refuse)
    res = browser(app).get('/turku/')
    assert 'Sivu 44' in res.text


def test_a_retracted_child_leaves_the_listing_at_once(app):
    from portal.workflow import transition

    with edit_site(app) as site:
        transition(site['turku']['sivu-44'], 'retract', app.registry)
    assert 'Sivu 44' not in titles(browser(app).get('/turku/'))
