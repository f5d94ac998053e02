"""``kaiku-registry <ini> <command>``: the registry's console commands.

- ``sites``: every site as a tab-separated line (id, kind, municipality, name).
- ``token <site-id> [--revoke]``: print a new API token for a site, or revoke the site's tokens.
- ``import partners|sites|cards <file.csv>``: all rows or none; every bad row is reported with its line.
  Each row goes through the same colander schema as the form (``PartnerSchema``, ``SiteSchema``,
  ``IssueCardSchema``), so an import takes exactly what the forms take; the issue date of a card follows
  the forms' date rule (not after today in Finnish time, not before the first pilot).
- ``demo``: fill a development database with demo partners, sites, cards and visits in two regions.
- ``retention``: delete visits and closed cards older than the retention period.
- ``keygen``: create the QR signing key named by ``kaiku_registry.signing_key`` if it is missing, and say
  where it and the session secret are kept.
- ``erase-pack``: the steps after erasing a card (see :mod:`kaiku_registry.erasure`): pack the content
  and audit databases with no history, delete the files a pack leaves (rewrite PostgreSQL's tables on
  RelStorage), make a new full backup and delete the older backup points.  A FileStorage is locked by the
  running site, and a rewritten table while it is rewritten: stop the site first.
- ``check [--repair]``: recount every index, list, counter and tally from the cards and visits, print
  each difference, and with ``--repair`` fix them (see :mod:`kaiku_registry.check`); the exit status is
  1 when a difference was found and not repaired.
"""

import argparse
import csv
import datetime
import os
import random
import re
import sys

import colander

from kaiku_registry import codes, today
from kaiku_registry.models import LIFE_SITUATIONS, SECTORS, RuleError
from kaiku_registry.privacy import KIND_WORDS, find_identifier
from kaiku_registry.schemas import (
    IssueCardSchema,
    PartnerSchema,
    SiteSchema,
    day_problem,
    settled_site,
    venue_finder,
)
from portal.forms import prepare_single_line, single_line_text
from portal.scripts import ini_settings, site_from_ini, storage_lock_explained

PROGRESS_EVERY = 1000
COLUMNS = {
    'partners': ('name', 'kind', 'municipality', 'region', 'contact_title', 'contact_email'),
    'sites': ('partner', 'name', 'kind', 'municipality', 'region'),
    'cards': ('site_id', 'issued', 'birth_year', 'postcode', 'children', 'gender', 'life_situation'),
}


class ImportFailed(Exception):
    """The import found bad rows; nothing was changed."""

    def __init__(self, errors):
        super().__init__(f'{len(errors)} bad rows')
        self.errors = errors


def _text(row, name, names_allowed=True, guard=True):
    """A cell the schemas do not read (a reference to another record, the region of a place), under the
    forms' single-line rule (surrounding spaces stripped, NFC, no control or invisible characters) and the
    identifier guard (:func:`kaiku_registry.privacy.find_identifier`)."""
    value = prepare_single_line(row.get(name) or '') or ''
    try:
        single_line_text(None, value)
    except colander.Invalid as e:
        raise ValueError(f'{name}: {e.msg.interpolate()}') from e
    found = find_identifier(value, names_allowed=names_allowed) if guard else None
    if found:
        raise ValueError(f'{name} looks like it holds {KIND_WORDS[found]}: identifying data is never stored')
    return value


def _int(row, name):
    value = _text(row, name, guard=False)
    if not re.fullmatch(r'-?[0-9]{1,19}', value):
        raise ValueError(f'{name} must be a whole number')
    return int(value)


def _day(row, name):
    """A date written as 2025-03-31 that the forms would take too (:func:`schemas.day_problem`)."""
    text = _text(row, name, guard=False)
    try:
        if not re.fullmatch(r'[0-9]{4}-[0-9]{2}-[0-9]{2}', text):
            raise ValueError(text)
        value = datetime.date.fromisoformat(text)
    except ValueError as e:
        raise ValueError(f'{name} must be a date like 2025-03-31') from e
    problem = day_problem(value)
    if problem is not None:
        raise ValueError(f'{name}: {problem.interpolate()}')
    return value


def _validated(schema, row, defaults=None):
    """The row's cells read by ``schema``, the same schema the form uses, so the import accepts what the
    form accepts and refuses what it refuses.  A cell left out of the file is an empty field."""
    cstruct = {node.name: row.get(node.name) or '' for node in schema.children}
    for name, value in (defaults or {}).items():
        if not cstruct.get(name, '').strip():
            cstruct[name] = value
    try:
        return schema.deserialize(cstruct)
    except colander.Invalid as e:
        problems = e.asdict()
        raise ValueError('; '.join(f'{name}: {problems[name]}' for name in sorted(problems))) from e


def _import_row(registry, kind, row, partners_by_name):
    if kind == 'partners':
        values = _validated(PartnerSchema(), row)
        partner = registry.add_partner(
            values['name'], values['kind'], values['municipality'], _text(row, 'region')
        )
        registry.update_partner(partner, **values)
        partners_by_name[partner.name] = partner
    elif kind == 'sites':
        partner = partners_by_name.get(_text(row, 'partner', names_allowed=True))
        if partner is None:
            raise ValueError('partner names no known partner')
        find_venue = venue_finder(registry)
        schema = SiteSchema().bind(find_venue=find_venue)
        defaults = {'municipality': partner.municipality, 'active': 'true'}
        values = settled_site(_validated(schema, row, defaults), find_venue)
        site = registry.add_site(
            partner, values['name'], values['kind'], values['municipality'], _text(row, 'region')
        )
        registry.update_site(site, **values)
    else:
        site_id = _int(row, 'site_id')
        site = registry.site(site_id)
        if site is None:
            raise ValueError('site_id names no known site')
        issued = _day(row, 'issued')
        values = _validated(IssueCardSchema(), row)
        registry.issue_card(
            site,
            issued,
            values['birth_year'],
            values['postcode'],
            values['children'],
            gender=values['gender'],
            life_situation=values['life_situation'],
        )


def import_csv(registry, kind, stream, progress=None):
    """Import rows of ``kind`` from a CSV stream; raise :class:`ImportFailed` listing every bad row.

    Rows are applied as they are read; the caller's transaction is aborted when any row is bad, so the
    registry ends with all rows or none.
    """
    reader = csv.DictReader(stream)
    missing = [name for name in COLUMNS[kind] if name not in (reader.fieldnames or ())]
    if missing:
        raise ImportFailed([(1, f'missing columns: {", ".join(missing)}')])
    partners_by_name = {partner.name: partner for partner in registry.all_partners()}
    errors = []
    count = 0
    end = reader.line_num
    for count, row in enumerate(reader, start=1):
        line, end = end + 1, reader.line_num  # a row's first line: a quoted cell may span lines
        try:
            if None in row:
                raise ValueError('the row has more cells than the header')
            _import_row(registry, kind, row, partners_by_name)
        except RuleError as e:
            errors.append((line, e.message))
        except ValueError as e:
            errors.append((line, str(e)))
        if progress and count % PROGRESS_EVERY == 0:
            progress(count)
    if errors:
        raise ImportFailed(errors)
    return count


DEMO_REGIONS = (
    ('Keski-Suomi', 'Keski-Suomen hyvinvointialue', ('Jyväskylä', 'Äänekoski', 'Jämsä')),
    ('Pirkanmaa', 'Pirkanmaan hyvinvointialue', ('Tampere', 'Nokia')),
)
#: The genitive of each demo municipality's name, for "Äänekosken kaupunki": Finnish place names inflect
#: with consonant gradation and stem changes (Äänekoski → Äänekosken, Tampere → Tampereen), which no
#: suffix rule gets right, so each is written out.
DEMO_GENITIVES = {
    'Jyväskylä': 'Jyväskylän',
    'Äänekoski': 'Äänekosken',
    'Jämsä': 'Jämsän',
    'Tampere': 'Tampereen',
    'Nokia': 'Nokian',
}


def fill_demo(registry, day, seed=2026, cards_per_issuer=40):
    """Demo partners, sites, cards and visits over the past year; every name is marked (demo)."""
    rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
    for region, county_name, municipalities in DEMO_REGIONS:
        county = registry.add_partner(f'{county_name} (demo)', 'wellbeing_county', municipalities[0], region)
        for municipality in municipalities:
            city = registry.add_partner(
                f'{DEMO_GENITIVES[municipality]} kaupunki (demo)',
                'municipality',
                municipality,
                region,
                contact_title='Kulttuurituottaja',
                contact_email='kaikukortti@example.fi',
            )
            city.commitment_signed = day - datetime.timedelta(days=300)
            city.trained = day - datetime.timedelta(days=rng.randrange(30, 500))
            issuers = [
                registry.add_site(county, f'Sosiaalityö, {municipality} (demo)', 'issuer', municipality),
                registry.add_site(city, f'Nuorisopalvelut, {municipality} (demo)', 'issuer', municipality),
            ]
            venues = [
                registry.add_site(city, f'{name}, {municipality} (demo)', 'venue', municipality)
                for name in ('Uimahalli', 'Kaupunginmuseo', 'Kaupunginteatteri', 'Kansalaisopisto')
            ]
            for issuer in issuers:
                for _ in range(cards_per_issuer):
                    issued = day - datetime.timedelta(days=rng.randrange(0, 360))
                    card = registry.issue_card(
                        issuer,
                        issued,
                        rng.randrange(1940, day.year - 16),
                        f'{rng.randrange(100, 999):03d}00',
                        rng.choice((0, 0, 0, 1, 2, 3)),
                        life_situation=rng.choice(LIFE_SITUATIONS),
                    )
                    for _ in range(rng.choice((0, 0, 1, 3, 6, 12))):
                        visited = issued + datetime.timedelta(
                            days=rng.randrange(0, max(1, (day - issued).days))
                        )
                        venue = rng.choice(venues)
                        course = venue.name.startswith('Kansalaisopisto')
                        sector = 'education' if course else rng.choice(SECTORS)
                        children = 0 if course else rng.randrange(0, card.children + 1)
                        at = datetime.datetime.combine(visited, datetime.time(12), datetime.UTC)
                        registry.record_visit(
                            card, venue, visited, sector, children=children, course=course, now=at
                        )
    return registry


def _registry(site):
    from kaiku_registry import REGISTRY_NAME

    registry = site.get(REGISTRY_NAME)
    if registry is None:
        raise SystemExit('this site has no registry: is kaiku_registry in pyramid.includes?')
    return registry


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog='kaiku-registry', description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument('config_uri')
    commands = parser.add_subparsers(dest='command', required=True)
    commands.add_parser('sites')
    token = commands.add_parser('token')
    token.add_argument('site_id', type=int)
    token.add_argument('--revoke', action='store_true')
    importer = commands.add_parser('import')
    importer.add_argument('kind', choices=sorted(COLUMNS))
    importer.add_argument('file')
    commands.add_parser('demo')
    commands.add_parser('retention')
    commands.add_parser('keygen')
    commands.add_parser('erase-pack')
    checker = commands.add_parser('check')
    checker.add_argument('--repair', action='store_true')
    args = parser.parse_args(argv)

    if args.command == 'keygen':
        return keygen(args.config_uri)
    if args.command == 'erase-pack':
        from kaiku_registry.erasure import after_erasure

        with storage_lock_explained():
            after_erasure(args.config_uri, ini_settings(args.config_uri))
        return 0
    try:
        with site_from_ini(args.config_uri) as (site, app_registry):
            registry = _registry(site)
            return _run(args, registry, app_registry)
    except ImportFailed as e:
        for line, reason in e.errors:
            print(f'line {line}: {reason}', file=sys.stderr)
        print(f'{len(e.errors)} bad rows: nothing was imported', file=sys.stderr)
        return 1


def _run(args, registry, app_registry):
    day = today()
    if args.command == 'sites':
        for site in registry.all_sites():
            print(f'{site.id}\t{site.kind}\t{site.municipality}\t{site.name}')
    elif args.command == 'token':
        site = registry.site(args.site_id)
        if site is None:
            raise SystemExit(f'no site {args.site_id}')
        if args.revoke:
            print(f'{registry.revoke_tokens(site)} tokens revoked')
        else:
            print(registry.new_token(site))
    elif args.command == 'import':
        with open(args.file, encoding='utf-8-sig', newline='') as stream:
            count = import_csv(
                registry, args.kind, stream, progress=lambda n: print(f'{n} rows read…', file=sys.stderr)
            )
        print(f'{count} rows imported')
    elif args.command == 'demo':
        fill_demo(registry, day)
        counts = registry.record_counts()
        print(f'{counts["sites"]} sites, {counts["cards"]} cards, {counts["visits"]} visits')
    elif args.command == 'retention':
        years = app_registry.registry_settings.retention_years
        visits, cards = registry.apply_retention(day, years)
        print(f'{visits} visits and {cards} cards deleted (retention {years} years)')
    elif args.command == 'check':
        return run_check(registry, day, app_registry.registry_settings.retention_years, args.repair)
    return 0


def run_check(registry, today, retention_years, repair):
    from kaiku_registry.check import check

    since = datetime.date(today.year - retention_years, 1, 1)
    found = check(registry, since=since, repair=repair)
    for difference in found:
        print(difference)
    verb = 'repaired' if repair else 'found'
    counts = registry.record_counts()
    print(
        f'registry check: {len(found)} differences {verb} ({counts["cards"]} cards, '
        f'{counts["visits"]} visits; statistics recounted from {since.isoformat()})'
    )
    return 1 if found and not repair else 0


def keygen(config_uri):
    """Create the QR signing key named by ``kaiku_registry.signing_key`` when it is missing, and say where
    it is and where the session secret is kept, and which of them lie outside the ini file's directory."""
    from kaiku_registry import RegistrySettings

    settings = ini_settings(config_uri)
    path = RegistrySettings.from_settings(settings).signing_key
    if not path:
        raise SystemExit('kaiku_registry.signing_key is not set')
    path = os.path.abspath(path)
    if os.path.exists(path):
        print(f'QR signing key: {path} (exists)')
    else:
        write_key(path)
        print(f'QR signing key: {path} (created, readable by its owner only)')
    print(f'session secret: {session_secret_location(settings)}')
    checkout = os.path.dirname(os.path.abspath(config_uri.partition('#')[0]))
    outside = [p for p in (path, settings.get('portal.session_secret_file')) if p and _outside(p, checkout)]
    for each in outside:
        print(f'note: {each} is outside {checkout}: back it up, readable by the app user only')
    return 0


def _outside(path, directory):
    return os.path.commonpath([os.path.abspath(path), directory]) != directory


def session_secret_location(settings):
    """Where the session signing secret is kept, in words for the operator."""
    if settings.get('portal.session_secret'):
        return 'set in the ini file (portal.session_secret)'
    path = settings.get('portal.session_secret_file')
    if not path:
        return 'not set: set portal.session_secret_file in the ini file'
    path = os.path.abspath(path)
    return f'{path} ({"exists" if os.path.exists(path) else "made when the site first starts"})'


def write_key(path):
    """Write a new Ed25519 signing key to ``path``, readable by its owner only; never over a file."""
    os.makedirs(os.path.dirname(path) or '.', exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, 'wb') as f:
        f.write(codes.private_key_pem(codes.generate_key()))


if __name__ == '__main__':
    sys.exit(main())
