"""Working copies: editing a published page keeps the published text live until the copy is submitted and
published; the copy has its own history entry; cancelling discards it."""

import pytest

from portal.testing import TEST_PASSWORD, add_user, browser, edit_site

pytestmark = pytest.mark.usefixtures('english_interface')


@pytest.fixture
def app(make_app):
    app = make_app(**{'portal.load_on_start': 'false'})
    add_user(app, 'editor', TEST_PASSWORD, roles=['Editor'])
    add_user(app, 'publisher', TEST_PASSWORD, roles=['Publisher'])
    editor = browser(app, 'editor')
    form = editor.get('/@@add', params={'type': 'Page'}).forms['edit-form']
    form['title'] = 'Aukioloajat'
    form['body'] = 'Avoinna arkisin.'
    form.submit('save', status=303)
    browser(app, 'publisher').get('/aukioloajat/@@state').forms['state-form'].submit(
        'transition', value='publish', status=303
    )
    return app


@pytest.fixture
def editor(app):
    return browser(app, 'editor')


@pytest.fixture
def publisher(app):
    return browser(app, 'publisher')


def published_body(app):
    with edit_site(app) as site:
        return site['aukioloajat'].texts['fi']['body']


def edit_copy(editor, body='Avoinna joka päivä.'):
    form = editor.get('/aukioloajat/@@edit').forms['edit-form']
    form['body'] = body
    return form.submit('save', status=303)


def found(app, words):
    """The titles the site search lists for anyone."""
    res = browser(app).get('/search', params={'q': words})
    return [a.text.strip() for a in res.html.select('ol.listing li a')]


def step(client, name, status=303):
    form = client.get('/aukioloajat/@@working-copy').forms['working-copy-form']
    return form.submit('step', value=name, status=status)


def test_an_edit_of_a_published_page_is_a_working_copy_until_it_is_published(app, editor, publisher):
    edit_copy(editor)
    assert published_body(app) == 'Avoinna arkisin.'
    assert 'Avoinna arkisin.' in browser(app).get('/aukioloajat').text  # the public sees the published
    page = editor.get('/aukioloajat')
    notice = page.html.select_one('.working-copy-notice')
    assert 'editor' in notice.text and notice.a['href'].endswith('/aukioloajat/@@working-copy')
    assert not browser(app).get('/aukioloajat').html.select('.working-copy-notice')
    # Editing again starts from the copy, not from the published text.
    assert editor.get('/aukioloajat/@@edit').forms['edit-form']['body'].value == 'Avoinna joka päivä.'
    res = editor.get('/aukioloajat/@@working-copy')
    assert [i.text for i in res.html.select('.diff ins')] == ['joka päivä.']
    assert [b['value'] for b in res.html.select('button[name=step]')] == ['submit', 'cancel']
    step(editor, 'submit')
    with edit_site(app) as site:
        assert site['aukioloajat'].working_copy.state == 'pending'
    assert [
        b['value'] for b in publisher.get('/aukioloajat/@@working-copy').html.select('button[name=step]')
    ] == [
        'publish',
        'send_back',
    ]
    step(publisher, 'publish')
    assert published_body(app) == 'Avoinna joka päivä.'
    assert 'Avoinna joka päivä.' in browser(app).get('/aukioloajat').text
    with edit_site(app) as site:
        item = site['aukioloajat']
        assert item.working_copy is None and item.state == 'published'
        notes = [rev['note'] for rev in item.history.revisions]
    assert notes[-2:] == ['working copy', 'working copy published']
    editor.get('/aukioloajat/@@working-copy', status=404)
    # The search index follows the published text only when it is published.
    assert found(app, 'päivä') == ['Aukioloajat']


def test_the_search_does_not_find_the_unpublished_copy(app, editor):
    edit_copy(editor, body='Suljettu heinäkuussa.')
    assert found(app, 'heinäkuussa') == []
    assert found(app, 'arkisin') == ['Aukioloajat']


def test_a_save_that_changes_nothing_makes_no_copy(app, editor):
    editor.get('/aukioloajat/@@edit').forms['edit-form'].submit('save', status=303)
    with edit_site(app) as site:
        assert site['aukioloajat'].working_copy is None


@pytest.mark.parametrize('ending', ['\r\n', '\r'])
def test_a_save_of_the_same_lines_sent_with_a_browsers_line_endings_makes_no_copy(app, editor, ending):
    """A browser sends a textarea's lines ending in CR LF: the same text is no change."""
    with edit_site(app) as site:
        site['aukioloajat'].texts['fi']['body'] = 'Avoinna arkisin.\n\nSuljettu pyhinä.'
    form = editor.get('/aukioloajat/@@edit').forms['edit-form']
    form['body'] = form['body'].value.replace('\n', ending)
    form.submit('save', status=303)
    with edit_site(app) as site:
        assert site['aukioloajat'].working_copy is None
    edit_copy(editor, 'Avoinna arkisin.\r\nSuljettu pyhinä.')
    with edit_site(app) as site:
        assert site['aukioloajat'].working_copy.values['body'] == 'Avoinna arkisin.\nSuljettu pyhinä.'


def test_cancelling_discards_the_copy(app, editor):
    edit_copy(editor)
    step(editor, 'cancel')
    assert published_body(app) == 'Avoinna arkisin.'
    with edit_site(app) as site:
        assert site['aukioloajat'].working_copy is None
    assert editor.get('/aukioloajat/@@edit').forms['edit-form']['body'].value == 'Avoinna arkisin.'


def test_sending_back_returns_the_copy_to_draft(app, editor, publisher):
    edit_copy(editor)
    step(editor, 'submit')
    step(publisher, 'send_back')
    with edit_site(app) as site:
        assert site['aukioloajat'].working_copy.state == 'draft'
    assert published_body(app) == 'Avoinna arkisin.'


def test_steps_the_requester_may_not_take_are_refused_and_change_nothing(app, editor, publisher):
    editor.get('/aukioloajat/@@working-copy', status=404)  # no copy yet
    edit_copy(editor)
    token = editor.get('/aukioloajat/@@working-copy').forms['working-copy-form']['csrf_token'].value
    url = '/aukioloajat/@@working-copy'
    editor.post(url, {'csrf_token': token, 'step': 'publish'}, status=403)  # an Editor may not publish
    editor.post(url, {'csrf_token': token, 'step': 'send_back'}, status=403)
    editor.post(url, {'csrf_token': token, 'step': 'explode'}, status=400)
    editor.post(url, {'csrf_token': 'forged', 'step': 'submit'}, status=400)
    step(editor, 'submit')
    editor.post(url, {'csrf_token': token, 'step': 'submit'}, status=400)  # already pending
    publisher.get('/aukioloajat/@@edit', status=403)
    anonymous = browser(app).get(url, expect_errors=True)
    assert anonymous.status_int in (302, 303, 403)
    assert published_body(app) == 'Avoinna arkisin.'


def test_a_private_page_is_edited_directly(app, editor, publisher):
    publisher.get('/aukioloajat/@@state').forms['state-form'].submit(
        'transition', value='retract', status=303
    )
    edit_copy(editor)
    assert published_body(app) == 'Avoinna joka päivä.'
    with edit_site(app) as site:
        assert site['aukioloajat'].working_copy is None
