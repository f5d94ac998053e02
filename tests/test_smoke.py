def test_home_renders(testapp):
    res = testapp.get('/', status=200)
    assert '<html' in res.text
    assert 'lang="fi"' in res.text
