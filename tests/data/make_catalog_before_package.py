"""Made with main's code (7362c56) before portal.catalog became a package."""

import transaction
import ZODB
import ZODB.FileStorage
from pyramid import testing

from portal.catalog import SiteCatalog
from portal.resources.folder import Folder
from portal.resources.site import Site
from portal.resources.venue import Venue

with testing.testConfig() as config:
    config.include('portal.catalog')
    db = ZODB.DB(ZODB.FileStorage.FileStorage('tests/data/catalog-before-package.fs'))
    conn = db.open()
    root = conn.root()
    site = Site()
    site.state = 'published'
    site.catalog = SiteCatalog()
    root['site'] = site
    root['evolve_generation'] = 4
    venues = Folder()
    venues.state = 'published'
    site.add('venues', venues)
    for name, title, cats in (
        ('uimahalli', 'Hietasarkan uimahalli', ('swimming',)),
        ('museo', 'Kalastajakylän museo', ('museum',)),
    ):
        v = Venue()
        v.state = 'published'
        v.update(
            {
                'title': title,
                'description': 'Kaikukortilla sisään',
                'body': '',
                'card_benefit': 'Ilmainen sisäänpääsy uimahalliin',
                'categories': cats,
                'municipality': 'Jyväskylä',
                'region': 'Keski-Suomi',
            }
        )
        venues.add(name, v)
    transaction.commit()
    print(len(site.catalog.objects), sorted(site.catalog))
    db.pack()
    db.close()
