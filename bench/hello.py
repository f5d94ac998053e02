"""A Pyramid hello-world served with waitress, the yardstick that ``bench/registry.py`` measures the
registry API against: the same server and threads, no database, no templates.

    .venv/bin/python bench/hello.py --port PORT [--threads 4]

It answers every path and method with a short JSON body and listens on 127.0.0.1 only.
"""

import argparse

import waitress
from pyramid.config import Configurator
from pyramid.response import Response


def hello(request):
    return Response(json_body={'status': 'valid'})


def make_app():
    with Configurator() as config:
        config.add_route('hello', '/*subpath')
        config.add_view(hello, route_name='hello')
        return config.make_wsgi_app()


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument('--port', type=int, required=True)
    parser.add_argument('--threads', type=int, default=4)
    args = parser.parse_args(argv)
    waitress.serve(make_app(), host='127.0.0.1', port=args.port, threads=args.threads, _quiet=True)


if __name__ == '__main__':
    main()
