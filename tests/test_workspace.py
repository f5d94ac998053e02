"""The onboarding workspace: progress, overdue steps, who may see and edit it, its forms, history and audit,
the public summary, search and sitemap, the figures extension point and the evolve step that adds it."""

import dataclasses
import datetime
import re

import colander
import pytest
import transaction

from portal.testing import TEST_PASSWORD, add_user, browser, edit_site, form_with

pytestmark = pytest.mark.usefixtures('english_interface')

PATH = '/tyotilat/jyvaskyla/'
NOTE = 'Salainen muistiinpano kokouksesta'
OWNER = 'Kulttuurituottaja'
DAY = datetime.date(2026, 3, 15)


def _module():
    from portal.resources import workspace

    return workspace


# Progress and overdue ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ('statuses', 'done', 'total', 'percent'),
    [
        (['done', 'done', 'in_progress', 'not_started'], 2, 4, 50),
        (['done', 'not_needed', 'not_needed', 'not_started'], 1, 2, 50),
        (['not_needed', 'not_needed'], 0, 0, 0),
        ([], 0, 0, 0),
        (['done', 'done', 'done'], 3, 3, 100),
        (['done', 'not_started', 'not_started'], 1, 3, 33),
    ],
)
def test_progress_counts_done_of_the_steps_that_are_needed(statuses, done, total, percent):
    progress = _module().progress_of([{'status': s} for s in statuses])
    assert (progress.done, progress.total, progress.percent) == (done, total, percent)
    assert progress.not_needed == statuses.count('not_needed')


@pytest.mark.parametrize(
    ('status', 'due', 'overdue'),
    [
        ('in_progress', datetime.date(2026, 3, 14), True),
        ('not_started', datetime.date(2025, 1, 1), True),
        ('done', datetime.date(2026, 3, 14), False),
        ('not_needed', datetime.date(2026, 3, 14), False),
        ('in_progress', DAY, False),  # due today is not yet late
        ('in_progress', datetime.date(2026, 3, 16), False),
        ('in_progress', None, False),
    ],
)
def test_overdue_with_a_fixed_today(status, due, overdue):
    task = {'status': status, **({'due': due} if due else {})}
    assert _module().is_overdue(task, DAY) is overdue


@pytest.mark.parametrize(
    ('text', 'value'),
    [
        ('31.12.2026', datetime.date(2026, 12, 31)),
        ('2026-12-31', datetime.date(2026, 12, 31)),
        (' 1.2.2027 ', datetime.date(2027, 2, 1)),
        (datetime.date(2026, 5, 1), datetime.date(2026, 5, 1)),
        ('', colander.null),
    ],
)
def test_day_reads_finnish_and_iso_dates(text, value):
    node = colander.SchemaNode(_module().Day())
    assert node.typ.deserialize(node, text) == value


@pytest.mark.parametrize(
    'text', ['31.13.2026', '30.2.2026', 'tomorrow', '2026/12/31', '1.1.1999', 12, '9' * 40]
)
def test_day_refuses_what_is_not_a_date(text):
    node = colander.SchemaNode(_module().Day())
    with pytest.raises(colander.Invalid):
        node.typ.deserialize(node, text)


def _workspace(steps):
    ws = _module().Workspace()
    ws.steps = tuple(steps)
    return ws


def test_set_step_clears_emptied_fields_and_keeps_the_copied_texts():
    ws = _workspace(
        [
            {
                'step': 'a',
                'title': 'A',
                'status': 'not_started',
                'owner': 'X',
                'items': [{'text': 'i', 'status': 'done'}],
            },
            {'step': 'b', 'title': 'B', 'status': 'not_started'},
        ]
    )
    changed = ws.set_step('a', {'status': 'in_progress', 'due': DAY, 'item-0': {'status': 'not_needed'}})
    assert changed
    assert ws.steps[0] == {
        'step': 'a',
        'title': 'A',
        'status': 'in_progress',
        'due': DAY,
        'items': [{'text': 'i', 'status': 'not_needed'}],
    }
    assert (
        ws.set_step('a', {'status': 'in_progress', 'due': DAY, 'item-0': {'status': 'not_needed'}}) is False
    )
    with pytest.raises(_module().WorkspaceError):
        ws.set_step('nope', {'status': 'done'})


def test_set_statuses_changes_only_the_chosen_steps_and_refuses_unknown_ones():
    ws = _workspace([{'step': n, 'title': n, 'status': 'not_started'} for n in 'abc'])
    assert ws.set_statuses(['a', 'c'], 'done') == ['a', 'c']
    assert [s['status'] for s in ws.steps] == ['done', 'not_started', 'done']
    assert ws.set_statuses(['a'], 'done') == []
    with pytest.raises(_module().WorkspaceError):
        ws.set_statuses(['a'], 'finished')
    with pytest.raises(_module().WorkspaceError):
        ws.set_statuses(['a', 'zzz'], 'done')
    assert ws.progress().done == 2


# The application ---------------------------------------------------------------------------------------
@pytest.fixture
def app(make_app):
    app = make_app()
    add_user(app, 'admin', TEST_PASSWORD, roles=['Administrator'])
    add_user(app, 'editor', TEST_PASSWORD, roles=['Editor', 'Publisher'])
    add_user(app, 'jkl', TEST_PASSWORD, local_roles={PATH: ['WorkspaceCoordinator']})
    with edit_site(app) as site:
        workspaces = site['tyotilat']
        tampere = app.registry.content_types['Workspace'].create(
            {'title': 'Tampere', 'municipality': 'Tampere', 'guide': 'guides/kaikukortti-jyvaskyla'}
        )
        workspaces.add('tampere', tampere, registry=app.registry)
    add_user(app, 'tre', TEST_PASSWORD, local_roles={'/tyotilat/tampere': ['WorkspaceCoordinator']})
    return app


def workspace_of(app):
    with edit_site(app) as site:
        ws = site['tyotilat']['jyvaskyla']
        return [dict(step) for step in ws.steps], ws.status, ws.state


def step_form(client, name='03-tyopari'):
    return client.get(f'{PATH}@@step/{name}').forms['step-form']


def fill_step(client, name='03-tyopari', **fields):
    form = step_form(client, name)
    for key, value in fields.items():
        form.set(key, value, index=0)
    return form


def test_the_add_form_copies_the_guide_into_a_new_workspace(app):
    with edit_site(app) as site:
        steps = site['tyotilat']['tampere'].steps
        guide = site['guides']['kaikukortti-jyvaskyla']
        assert [s['step'] for s in steps] == [step.__name__ for step in guide.steps()]
        assert all(s['status'] == 'not_started' for s in steps)
        assert len(steps[2]['items']) == len(guide['03-tyopari'].text('checklist'))


def test_coordinator_of_the_municipality_edits_a_step(app):
    jkl = browser(app, 'jkl')
    page = jkl.get(PATH)
    assert '0</strong> of <strong>12</strong> steps done' in page.text
    form = fill_step(jkl, status='done', owner=OWNER, due='1.2.2026', notes=NOTE)
    form.submit('save', status=303)
    steps, _status, _state = workspace_of(app)
    step = steps[2]
    assert (step['status'], step['owner'], step['due'], step['notes']) == (
        'done',
        OWNER,
        datetime.date(2026, 2, 1),
        NOTE,
    )
    page = jkl.get(PATH)
    assert '1</strong> of <strong>12</strong> steps done' in page.text
    assert '<progress id="progress-bar" value="1" max="12"' in page.text
    assert NOTE in page.text and OWNER in page.text


def test_checklist_items_have_their_own_status_owner_due_and_notes(app):
    admin = browser(app, 'admin')
    form = fill_step(admin, status='in_progress')
    assert len(form.fields['status']) == 5, 'the step and its four items'
    form.set('status', 'done', index=1)
    form.set('owner', 'Hyte-koordinaattori', index=1)
    form.set('due', '2026-01-31', index=1)
    form.set('notes', 'Sovittu', index=1)
    form.submit('save', status=303)
    item = workspace_of(app)[0][2]['items'][0]
    assert item['status'] == 'done' and item['owner'] == 'Hyte-koordinaattori'
    assert item['due'] == datetime.date(2026, 1, 31) and item['notes'] == 'Sovittu'
    assert 'Checklist: 1 of 4 done' in admin.get(PATH).text


def test_due_dates_are_written_as_the_reader_writes_them(app):
    jkl = browser(app, 'jkl')
    form = fill_step(jkl, due='1.2.2026')
    form.set('due', '2026-01-31', index=1)
    form.submit('save', status=303)
    for lang, step, item in (('fi', '1.2.2026', '31.1.2026'), ('en', '01/02/2026', '31/01/2026')):
        page = jkl.get(PATH, params={'lang': lang})
        times = {time['datetime']: time.text for time in page.html.select('time[datetime]')}
        assert (times['2026-02-01'], times['2026-01-31']) == (step, item), lang


@pytest.mark.parametrize('login', ['tre', 'editor'])
def test_others_can_neither_see_nor_edit(app, login):
    client = browser(app, login)
    client.get(PATH, status=403)
    client.get(f'{PATH}@@step/03-tyopari', status=403)
    client.get(f'{PATH}@@edit', status=403)
    client.get(f'{PATH}@@history', status=403)
    # A post with a valid token of their own session is still refused.
    page = client.get('/@@accessibility-feedback')
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    client.post(
        f'{PATH}@@statuses', {'csrf_token': token, 'names': '03-tyopari', 'status': 'done'}, status=403
    )
    assert workspace_of(app)[0][2]['status'] == 'not_started'


def test_coordinator_of_another_municipality_edits_only_their_own(app):
    tre = browser(app, 'tre')
    tre.get('/tyotilat/tampere/', status=200)
    form = tre.get('/tyotilat/tampere/@@step/03-tyopari').forms['step-form']
    form.set('status', 'done', index=0)
    form.submit('save', status=303)
    tre.get(f'{PATH}@@step/03-tyopari', status=403)
    browser(app, 'jkl').get('/tyotilat/tampere/', status=403)


def test_anonymous_sees_nothing_until_the_summary_is_published(app):
    jkl = browser(app, 'jkl')
    fill_step(jkl, status='done', owner=OWNER, notes=NOTE).submit('save', status=303)
    form = form_with(jkl.get(f'{PATH}@@edit'), 'culture_title')
    form['culture_title'] = 'Kulttuurituottaja'
    form['culture_contact'] = 'kulttuuri@jyvaskyla.example'
    form['status'] = 'preparing_pilot'
    form.submit('save', status=303)
    anonymous = browser(app)
    for path in (PATH, f'{PATH}@@summary', f'{PATH}@@step/03-tyopari', '/tyotilat/'):
        anonymous.get(path, status=403)
    # The coordinator publishes the summary through the workflow.
    jkl.get(f'{PATH}@@state').forms['state-form'].submit('transition', value='publish', status=303)
    for path in (PATH, f'{PATH}@@summary'):
        page = anonymous.get(path)
        assert 'Preparing a pilot' in page.text
        assert '1</strong> of <strong>12</strong> steps done' in page.text
        assert NOTE not in page.text and OWNER not in page.text
        assert 'kulttuuri@jyvaskyla.example' not in page.text
        assert 'csrf_token' not in page.text.split('<main', 1)[1]
        assert 'The checklist of this workspace is copied' not in page.text, 'the body is working text too'
    anonymous.get(f'{PATH}@@step/03-tyopari', status=403)
    anonymous.get(f'{PATH}@@history', status=403)
    # The private workspaces folder is named in the breadcrumbs but not linked for those who cannot open it.
    crumbs = anonymous.get(PATH).html.select_one('nav.breadcrumbs')
    assert (len(crumbs.select('li')), len(crumbs.select('a'))) == (2, 1), 'the site linked, the folder not'
    assert crumbs.select('a[href$="/tyotilat/"]') == []
    assert jkl.get(PATH).html.select_one('nav.breadcrumbs').select('a[href$="/tyotilat/"]')
    # The coordinator still sees the whole workspace.
    assert NOTE in jkl.get(PATH).text
    assert 'The checklist of this workspace is copied' in jkl.get(PATH).text


def _catalogued(app, text=None):
    """Who the catalog lets view the workspace, and whether ``text`` finds it."""
    from portal.catalog import _postings, query_words

    with edit_site(app) as site:
        catalog = site.catalog
        (docid,) = catalog['path'].applyEq('/tyotilat/jyvaskyla')
        allowed = set(catalog['allowed']._rev_index[docid])
        found = text is not None and all(
            any(docid in docs for _index, docs in _postings(catalog, word)) for word in query_words(text)
        )
        return allowed, found


def test_search_and_sitemap_list_the_workspace_only_when_published_and_never_by_its_notes(app):
    admin = browser(app, 'admin')
    fill_step(admin, notes='Zebrakokous pidetty').submit('save', status=303)
    anonymous = browser(app)
    allowed, found = _catalogued(app, 'zebrakokous')
    assert 'system.Everyone' not in allowed and not found
    assert _catalogued(app, 'käyttöönoton työtila')[1], 'the title is indexed, for those allowed'
    assert 'tyotilat' not in anonymous.get('/sitemap.xml').text
    assert 'tyotilat' not in anonymous.get('/search', params={'q': 'työtila'}).text
    admin.get(f'{PATH}@@state').forms['state-form'].submit('transition', value='publish', status=303)
    allowed, found = _catalogued(app, 'zebrakokous')
    assert 'system.Everyone' in allowed and not found
    assert 'tyotilat/jyvaskyla' in anonymous.get('/sitemap.xml').text
    admin.get(f'{PATH}@@state').forms['state-form'].submit('transition', value='retract', status=303)
    assert 'system.Everyone' not in _catalogued(app)[0]
    assert 'tyotilat' not in anonymous.get('/sitemap.xml').text


@pytest.mark.parametrize(
    ('field', 'value', 'message'),
    [
        ('due', '31.13.2026', 'There is no such day.'),
        ('due', 'ensi viikolla', 'Enter a date as 31.12.2026 or 2026-12-31.'),
        ('notes', 'x' * 2001, 'Longer than maximum length 2000'),
        ('owner', 'x' * 201, 'Longer than maximum length 200'),
    ],
)
def test_bad_input_gets_a_message_beside_the_field(app, field, value, message):
    jkl = browser(app, 'jkl')
    form = fill_step(jkl, status='done', **{field: value})
    res = form.submit('save', status=400)
    assert message in res.text
    assert res.forms['step-form'].get(field, index=0).value == value
    assert workspace_of(app)[0][2]['status'] == 'not_started'


def test_unknown_status_is_refused_beside_the_field(app):
    jkl = browser(app, 'jkl')
    form = step_form(jkl)
    form.get('status', index=0).force_value('finished')
    res = form.submit('save', status=400)
    assert 'Choose one of the listed values.' in res.text
    form = form_with(jkl.get(f'{PATH}@@edit'), 'culture_title')
    form['status'].force_value('abandoned')
    form['culture_title'] = 'x' * 201
    res = form.submit('save', status=400)
    assert 'Choose one of the listed values.' in res.text
    assert 'Longer than maximum length 200' in res.text
    assert workspace_of(app)[1] == 'considering'


def test_many_steps_change_status_in_one_submit(app):
    jkl = browser(app, 'jkl')
    form = jkl.get(PATH).forms['statuses-form']
    for checkbox in form.fields['names'][:3]:
        checkbox.checked = True
    form['status'] = 'not_needed'
    form.submit(status=303)
    form = jkl.get(PATH).forms['statuses-form']
    form.fields['names'][3].checked = True
    form['status'] = 'done'
    page = form.submit(status=303).follow()
    assert 'Status changed for 1 of 1 steps.' in page.text
    assert '1</strong> of <strong>9</strong> steps done' in page.text
    assert 'Steps marked not needed (3) are not counted.' in page.text
    statuses = [step['status'] for step in workspace_of(app)[0]]
    assert statuses[:4] == ['not_needed'] * 3 + ['done']
    assert set(statuses[4:]) == {'not_started'}


def test_bulk_change_refuses_an_unknown_status_or_step(app):
    jkl = browser(app, 'jkl')
    form = jkl.get(PATH).forms['statuses-form']
    form.fields['names'][0].checked = True
    form['status'].force_value('finished')
    form.submit(status=400)
    form = jkl.get(PATH).forms['statuses-form']
    form.fields['names'][0].force_value('99-no-such-step')
    form.fields['names'][0].checked = True
    form.submit(status=400)
    form = jkl.get(PATH).forms['statuses-form']
    assert 'Choose at least one step.' in form.submit(status=303).follow().text
    jkl.get(f'{PATH}@@statuses', status=404)  # writes only on POST
    assert {step['status'] for step in workspace_of(app)[0]} == {'not_started'}


def test_posts_without_the_csrf_token_are_refused(app):
    jkl = browser(app, 'jkl')
    form = fill_step(jkl, status='done')
    form['csrf_token'] = 'forged'
    form.submit('save', status=400)
    jkl.post(f'{PATH}@@statuses', {'names': '03-tyopari', 'status': 'done'}, status=400)
    jkl.post(f'{PATH}@@step/03-tyopari', {'status': 'done', 'save': 'save'}, status=400)
    assert {step['status'] for step in workspace_of(app)[0]} == {'not_started'}


def test_overdue_steps_stand_out_in_words(app):
    jkl = browser(app, 'jkl')
    fill_step(jkl, due='1.1.2020').submit('save', status=303)
    fill_step(jkl, '04-yhteys-kaikukeskukseen', due='1.1.2020', status='done').submit('save', status=303)
    page = jkl.get(PATH)
    overdue = page.html.select('li.workspace-step.overdue')
    assert [li['id'] for li in overdue] == ['step-03-tyopari']
    assert 'Overdue' in overdue[0].get_text()
    assert 'Overdue steps' in page.text
    assert page.html.select_one('.overdue-list a')['href'] == '#step-03-tyopari'


def test_changes_are_in_the_history_and_the_audit_log(app):
    from portal.audit import LOG_KEY

    jkl = browser(app, 'jkl')
    fill_step(jkl, status='in_progress').submit('save', status=303)
    form = jkl.get(PATH).forms['statuses-form']
    form.fields['names'][0].checked = True
    form['status'] = 'done'
    form.submit(status=303)
    history = jkl.get(f'{PATH}@@history')
    assert 'step 03-tyopari' in history.text
    assert 'status Done: 01-valtuustoaloite' in history.text  # the stored note, its status by its title
    db = app.registry._zodb_databases['audit']
    conn = db.open()
    try:
        entries = [e for e in conn.root()[LOG_KEY].newest() if e['path'] == '/tyotilat/jyvaskyla']
    finally:
        conn.close()
        transaction.abort()
    assert [(e['action'], e['actor']) for e in entries][:2] == [('edit', 'jkl'), ('edit', 'jkl')]
    assert entries[0]['detail'] == {'fields': ('steps',)}


def test_sharing_makes_a_coordinator_of_this_municipality_only(app):
    add_user(app, 'uusi', TEST_PASSWORD)
    admin = browser(app, 'admin')
    form = admin.get(f'{PATH}@@sharing').forms['sharing-form']
    form['login'] = 'uusi'
    form['role'] = 'WorkspaceCoordinator'
    form.submit(status=303)
    uusi = browser(app, 'uusi')
    assert uusi.get(PATH).status_int == 200
    uusi.get('/tyotilat/tampere/', status=403)
    uusi.get('/kaikukortti/@@edit', status=403)


def test_the_page_works_without_the_registry_plugin(make_app):
    app = make_app(**{'pyramid.includes': ''})
    add_user(app, 'admin', TEST_PASSWORD, roles=['Administrator'])
    page = browser(app, 'admin').get(PATH)
    assert '0</strong> of <strong>12</strong> steps done' in page.text
    assert 'figures-heading' not in page.text
    assert not app.registry.workspace_figures.providers


def test_figures_come_from_registered_providers(app):
    assert 'figures-heading' in browser(app, 'admin').get(PATH).text
    with edit_site(app) as site:
        figures = app.registry.workspace_figures.figures(site['tyotilat']['jyvaskyla'], DAY)
    assert [figure.value for figure in figures] == [0, 0, 0, 0, 0]


def test_evolve_adds_the_workspace_to_a_site_made_before_it(make_app):
    from portal.evolve import GENERATION_KEY, evolve

    app = make_app()
    db = app.registry._zodb_databases['']
    with edit_site(app) as site:
        site.remove('tyotilat', send_events=False)
        site.remove('tietosuojaseloste', send_events=False)
        site['kaikukortti'].update({'title': 'Toimittajan otsikko'})
        site._p_jar.root()[GENERATION_KEY] = 3
    assert evolve(db, app.registry) == ['portal.step0004_workspaces']
    with edit_site(app) as site:
        ws = site['tyotilat']['jyvaskyla']
        assert len(ws.steps) == 12 and ws.state == 'private'
        assert site['tyotilat'].state == 'private'
        assert 'tietosuojaseloste' not in site, 'other content an editor deleted stays deleted'
        assert site['kaikukortti'].title == 'Toimittajan otsikko'
        assert site._p_jar.root()[GENERATION_KEY] == 4
        assert site.catalog['path'].applyEq('/tyotilat/jyvaskyla')
    assert evolve(db, app.registry) == []
    add_user(app, 'admin', TEST_PASSWORD, roles=['Administrator'])
    assert browser(app, 'admin').get(PATH).status_int == 200


def test_a_revision_shows_which_step_field_changed_in_words(app):
    jkl = browser(app, 'jkl')
    fill_step(jkl, status='in_progress', owner=OWNER).submit('save', status=303)
    page = jkl.get(f'{PATH}@@history', params={'rev': '2'})
    text = page.html.select_one('main').get_text(' ')
    assert 'step: 03-tyopari' in text and 'in_progress' in text and OWNER in text
    assert "{'step'" not in text


PAYLOAD = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'


def test_text_comes_back_escaped_on_every_workspace_page(app):
    admin = browser(app, 'admin')
    fill_step(admin, owner=PAYLOAD, notes=PAYLOAD).submit('save', status=303)
    form = form_with(admin.get(f'{PATH}@@edit'), 'culture_title')
    form['culture_title'] = PAYLOAD
    form['culture_contact'] = PAYLOAD
    form.submit('save', status=303)
    for path in (
        PATH,
        f'{PATH}@@summary',
        f'{PATH}@@step/03-tyopari',
        f'{PATH}@@edit',
        f'{PATH}@@history?rev=2',
    ):
        page = admin.get(path)
        assert '<script>alert(1)' not in page.text, path
        assert not page.html.select('[onerror]'), path
    assert '&lt;script&gt;alert(1)&lt;/script&gt;' in admin.get(PATH).text


def test_an_administrator_adds_a_workspace_that_copies_its_guide(app):
    admin = browser(app, 'admin')
    form = admin.get('/tyotilat/@@add', params={'type': 'Workspace'}).forms['edit-form']
    form['title'] = 'Kuopion työtila'
    form['municipality'] = 'Kuopio'
    form['guide'] = 'guides/kaikukortti-jyvaskyla'
    res = form.submit('save', status=303)
    assert res.location == 'http://example.com/tyotilat/kuopion-tyotila/'
    page = admin.get('/tyotilat/kuopion-tyotila/')
    assert '0</strong> of <strong>12</strong> steps done' in page.text
    browser(app).get('/tyotilat/kuopion-tyotila/', status=403)
    browser(app, 'jkl').get('/tyotilat/kuopion-tyotila/', status=403)
    admin.get('/@@add', params={'type': 'Workspace'}, status=404)  # only inside the workspaces folder


def test_evolve_leaves_a_site_without_workspace_content_as_it_is(make_app, tmp_path):
    from portal.evolve import GENERATION_KEY, evolve

    app = make_app()
    db = app.registry._zodb_databases['']
    with edit_site(app) as site:
        site.remove('tyotilat', send_events=False)
        site._p_jar.root()[GENERATION_KEY] = 3
    (tmp_path / 'empty-content').mkdir()
    settings = app.registry.portal_settings
    app.registry.portal_settings = dataclasses.replace(settings, content_dir=str(tmp_path / 'empty-content'))
    assert evolve(db, app.registry) == ['portal.step0004_workspaces']
    with edit_site(app) as site:
        assert 'tyotilat' not in site
