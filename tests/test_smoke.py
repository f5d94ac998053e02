def test_home_renders(testapp):
    res = testapp.get('/', status=200)
    assert '<html' in res.text
    assert 'lang="fi"' in res.text


def test_not_found_page_is_themed(testapp):
    """The 404 page's context is the error itself; the page frame must still render."""
    res = testapp.get('/no-such-page', status=404)
    assert 'lang="fi"' in res.text
    assert '<main' in res.text
