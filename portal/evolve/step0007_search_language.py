"""Rebuild the text indexes: Finnish by lemma and compound part, choice values searchable in three languages.

The text indexes now hold, for each Finnish word, its lemmas and its compound parts (Voikko), for each
Swedish word its stem and common compound parts, the title and description weighted, and the words of a
venue's categories and accessibility features in fi, sv and en.  Tokens made by the old analysis would not
match queries made by the new, so each text index is replaced by an empty one and filled again.
"""

from portal.catalog.indexes import SiteCatalog, declared_indexes

SITE_KEY = 'site'


def evolve(root, registry):
    catalog = getattr(root.get(SITE_KEY), 'catalog', None)
    if not isinstance(catalog, SiteCatalog):
        return
    for name, declaration in declared_indexes(registry).items():
        if declaration.kind == 'text' and name in catalog:
            index = catalog[name] = declaration.make()
            for docid, item in catalog.objects.items():
                index.index_doc(docid, item)
    catalog.note_change()
