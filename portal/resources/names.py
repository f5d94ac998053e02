"""Names in the address for new items, made from their titles (the add form and the venue import)."""

import re
import unicodedata


def slugify(title, fallback='item'):
    """A URL name from a title: ASCII letters and digits joined by dashes, at most 60 characters."""
    name = unicodedata.normalize('NFKD', title or '').encode('ascii', 'ignore').decode('ascii').lower()
    name = re.sub(r'[^a-z0-9]+', '-', name).strip('-')[:60].strip('-')
    return name or fallback


def free_name(container, title, fallback, taken=()):
    """A name for a new item titled ``title`` that neither ``container`` nor ``taken`` uses yet."""
    base = slugify(title, fallback)
    name, n = base, 1
    while name in container or name in taken:
        n += 1
        name = f'{base}-{n}'
    return name
