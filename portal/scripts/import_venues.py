"""``portal-import-venues <ini> FILE``: import venues from a CSV or JSON file into the venues folder.

The same import as the venues folder's ``@@import`` page (:mod:`portal.venue_files`): every row is checked
first, and a file with any bad row changes nothing; each problem is printed with its line, in the language
``--lang`` names (Finnish by default).
"""

import argparse
import sys

from pyramid.i18n import make_localizer

from portal import venue_files
from portal.i18n import LANGUAGES
from portal.scripts import site_from_ini
from portal.views.catalogue import VENUES_FOLDER


def localizer_for(registry, lang):
    from pyramid.interfaces import ITranslationDirectories

    return make_localizer(lang, registry.queryUtility(ITranslationDirectories) or [])


def main(argv=None):
    parser = argparse.ArgumentParser(prog='portal-import-venues', description=__doc__)
    parser.add_argument('config_uri', help='the ini file, e.g. development.ini')
    parser.add_argument('file', help='a .csv (semicolons or commas, UTF-8) or .json file')
    parser.add_argument('--lang', choices=LANGUAGES, default='fi', help='the language of the messages')
    args = parser.parse_args(argv)
    try:
        with open(args.file, 'rb') as f:
            data = f.read()
    except OSError as e:
        print(f'{args.file}: {e.strerror}', file=sys.stderr)
        return 2
    try:
        with site_from_ini(args.config_uri) as (site, registry):
            translate = localizer_for(registry, args.lang).translate
            folder = site.get(VENUES_FOLDER)
            if folder is None:
                print(f'The site has no /{VENUES_FOLDER} folder.', file=sys.stderr)
                return 2
            outcome = venue_files.import_venues(
                folder, data, args.file, registry.content_types['Venue'], registry
            )
    except venue_files.ImportRefused as refused:
        for line, title, message in refused.problems:
            where = f'{args.file}:{line}: ' if line else f'{args.file}: '
            field = f'{translate(title)}: ' if title else ''
            print(f'{where}{field}{translate(message)}', file=sys.stderr)
        print(f'{len(refused.problems)} problems: nothing was imported', file=sys.stderr)
        return 1
    print(f'{len(outcome.added)} added, {len(outcome.updated)} updated, {len(outcome.unchanged)} unchanged')
    return 0


if __name__ == '__main__':
    sys.exit(main())
