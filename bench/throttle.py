"""Benchmark of the throttles kept in the database, and of an issuer's card search by kind of code.

    .venv/bin/python bench/throttle.py [--rounds 300]

Prints, each as median and p95 over ``--rounds`` tries:

* what the throttle costs a failed login (``retry_after`` then ``failed`` on the three keys a login try
  counts against) and a successful one (``retry_after`` then ``forget``, which only reads when there was
  no failure), on a FileStorage and on a ZEO server (the production set-up: every write is a round trip
  and a commit);
* a whole failed login through the app (WebTest, in process), whose password check dominates;
* an issuer's card search (``POST /registry/cards``) for an unknown code, for another site's card and for
  the site's own card: the first two must take the same time, since they do the same work.

Figures, not assertions: the tests check behaviour.  The machine may be shared: the load average is
printed with the figures.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), 'tests'))

import servers  # noqa: E402  tests/servers.py
import webtest  # noqa: E402

from portal.testing import add_user, build_app, close_app, edit_site, form_with  # noqa: E402

PASSWORD = 'kaiku bench passphrase 42'


def figures(samples):
    samples = sorted(samples)
    p95 = samples[int(len(samples) * 0.95) - 1]
    return f'median {statistics.median(samples) * 1000:7.3f} ms   p95 {p95 * 1000:7.3f} ms'


def timed(func, rounds):
    samples = []
    for n in range(rounds):
        start = time.perf_counter()
        func(n)
        samples.append(time.perf_counter() - start)
    return samples


class FakeRequest:
    def __init__(self, addr):
        self.client_addr = addr


def throttle_costs(app, label, rounds):
    from portal.security import login_address_key, login_limits

    throttle = app.registry.login_throttle
    throttle.clear()

    def failed_login(n):
        limits = login_limits(FakeRequest(f'10.0.{n // 250}.{n % 250}'), f'user{n % 50}', 10)
        throttle.retry_after(limits)
        throttle.failed(limits)

    def successful_login(n):
        request = FakeRequest(f'10.1.{n // 250}.{n % 250}')
        throttle.retry_after(login_limits(request, 'admin', 10))
        throttle.forget([login_address_key('admin', request)])

    print(f'{label:10} failed login     {figures(timed(failed_login, rounds))}')
    print(f'{label:10} successful login {figures(timed(successful_login, rounds))}')


def login_request_cost(app, rounds):
    browser = webtest.TestApp(app, extra_environ={'HTTP_HOST': 'example.com', 'REMOTE_ADDR': '192.0.2.1'})
    form = form_with(browser.get('/login'), 'login')

    def failed(n):
        app.registry.login_throttle.clear() if n % 9 == 8 else None
        form['login'] = 'admin'
        form['password'] = 'wrong password here'
        form.submit(status=400)

    samples = timed(failed, min(rounds, 60))
    print(f'{"app":10} failed login     {figures(samples)}  (whole request, argon2 included)')


def search_costs(app, rounds):
    from kaiku_registry import today
    from kaiku_registry.codes import new_code

    with edit_site(app) as site:
        registry = site['registry']
        own_partner = registry.add_partner('Tampereen kaupunki', 'municipality', 'Tampere', 'Pirkanmaa')
        other_partner = registry.add_partner('Nokian kaupunki', 'municipality', 'Nokia', 'Pirkanmaa')
        own_site = registry.add_site(own_partner, 'Sosiaalitoimi Tampere', 'issuer')
        other_site = registry.add_site(other_partner, 'Sosiaalitoimi Nokia', 'issuer')
        registry.set_member('bench_issuer', own_site)
        own = registry.issue_card(own_site, today(), 1980, '33100', 1).code
        other = registry.issue_card(other_site, today(), 1980, '37100', 1).code
    add_user(app, 'bench_issuer', PASSWORD, roles=['IssuerStaff'])
    browser = webtest.TestApp(app, extra_environ={'HTTP_HOST': 'example.com'})
    form = form_with(browser.get('/login'), 'login')
    form['login'], form['password'] = 'bench_issuer', PASSWORD
    form.submit(status=303)
    form = browser.get('/registry/cards').forms[2]
    kinds = {'unknown': None, "other site's": other, 'own': own}
    samples = {kind: [] for kind in kinds}
    for n in range(rounds):
        if n % 8 == 0:
            app.registry.lookup_throttle.clear()  # stay under the limit of 20 failures
        for kind, code in kinds.items():
            form['code'] = code or new_code()
            start = time.perf_counter()
            form.submit(status=200)
            samples[kind].append(time.perf_counter() - start)
    for kind, values in samples.items():
        print(f'{"search":10} {kind + " code":16} {figures(values)}')


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--rounds', type=int, default=300)
    args = parser.parse_args()
    print(f'load average {os.getloadavg()[0]:.2f}; {args.rounds} rounds')
    with tempfile.TemporaryDirectory() as directory:
        app = build_app(os.path.join(directory), **{'portal.load_on_start': 'false'})
        try:
            add_user(app, 'admin', PASSWORD, roles=['Administrator'])
            throttle_costs(app, 'FileStorage', args.rounds)
            login_request_cost(app, args.rounds)
            search_costs(app, args.rounds // 3)
        finally:
            close_app(app)
        zeo, port = servers.start_zeo(os.path.join(directory, 'zeo'))
        try:
            uri = servers.zeo_uri(port, os.path.join(directory, 'zeo-blobs'))
            app = build_app(
                os.path.join(directory, 'zeo'), **{'portal.load_on_start': 'false', 'zodbconn.uri': uri}
            )
            try:
                throttle_costs(app, 'ZEO', args.rounds)
            finally:
                close_app(app)
        finally:
            servers.stop(zeo)


if __name__ == '__main__':
    main()
