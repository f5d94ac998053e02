"""The registry's data, by its old name: every class and name that lived here before the module was split.

Databases made before the split name the stored classes ``kaiku_registry.models.<Class>`` (ZODB pickles a
persistent class, and a visit inside its bucket, by module path), so this module must keep naming each of
them as long as such records may exist; other code imports from here too.  The code lives in
:mod:`kaiku_registry.records` (partners, sites, cards, visits, tokens), :mod:`kaiku_registry.cards` (the
card's rules), :mod:`kaiku_registry.statistics` (tallies and counting), :mod:`kaiku_registry.bulk` (bulk
loading), :mod:`kaiku_registry.shapes` (upgrades of older shapes) and :mod:`kaiku_registry.registry` (the
:class:`CardRegistry` container).
"""

from kaiku_registry.bulk import Bulk
from kaiku_registry.cards import CardLife
from kaiku_registry.records import (
    AREA_KINDS,
    ASCII_DIGITS,
    CLOSE_REASONS,
    CLOSED,
    EXPIRED,
    GENDERS,
    LIFE_SITUATIONS,
    MAX_CHILDREN,
    MAXIMUM_AGE,
    MINIMUM_AGE,
    PARTNER_KINDS,
    SECTORS,
    SITE_KINDS,
    TRAINING_STATUSES,
    TRAINING_VALID,
    TRAINING_WARNING,
    UNDO_WINDOW,
    UNKNOWN,
    VALID,
    ApiToken,
    Card,
    Partner,
    PartnerSite,
    RuleError,
    SiteTimeSet,
    Verification,
    Visit,
    VisitTree,
    area_place,
    in_area,
    month_of,
    new_id,
    one_year_on,
    place_of,
    site_time_key,
)
from kaiku_registry.registry import CardRegistry, Registry  # Registry: the old name, kept for stored pickles
from kaiku_registry.shapes import SHAPE, Shapes
from kaiku_registry.statistics import (
    DIMENSIONS,
    HIGHEST,
    SLICES,
    Statistics,
    Tally,
    slice_family,
    slice_keys,
    with_prefix,
)

__all__ = [
    'AREA_KINDS',
    'ASCII_DIGITS',
    'CLOSED',
    'CLOSE_REASONS',
    'DIMENSIONS',
    'EXPIRED',
    'GENDERS',
    'HIGHEST',
    'LIFE_SITUATIONS',
    'MAXIMUM_AGE',
    'MAX_CHILDREN',
    'MINIMUM_AGE',
    'PARTNER_KINDS',
    'SECTORS',
    'SHAPE',
    'SITE_KINDS',
    'SLICES',
    'TRAINING_STATUSES',
    'TRAINING_VALID',
    'TRAINING_WARNING',
    'UNDO_WINDOW',
    'UNKNOWN',
    'VALID',
    'ApiToken',
    'Bulk',
    'Card',
    'CardLife',
    'CardRegistry',
    'Partner',
    'PartnerSite',
    'Registry',
    'RuleError',
    'Shapes',
    'SiteTimeSet',
    'Statistics',
    'Tally',
    'Verification',
    'Visit',
    'VisitTree',
    'area_place',
    'in_area',
    'month_of',
    'new_id',
    'one_year_on',
    'place_of',
    'site_time_key',
    'slice_family',
    'slice_keys',
    'with_prefix',
]
