"""The areas coordinators answer for: a municipality or a region of the portal's municipality table."""

from portal import places

#: The kinds of area a coordinator may answer for.
AREA_KINDS = ('municipality', 'region')


def area_place(kind, name):
    """The table's municipality or region an area ``(kind, name)`` names, or None."""
    if kind == 'municipality':
        return places.find_municipality(name)
    if kind == 'region':
        return places.region_named(name)
    return None


def in_area(area, municipality):
    """True when ``municipality`` (a stored name) lies in ``area`` ``(kind, name)``; an unknown place or
    area lies in none."""
    place = places.municipality_named(municipality)
    found = area_place(*area) if area else None
    if place is None or found is None:
        return False
    return found == (place if area[0] == 'municipality' else place.region)
