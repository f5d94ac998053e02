"""The coordinators' pages (being split into rooms: see the next commit)."""

from kaiku_registry.partners.common import Scope, scope_of

__all__ = ['Scope', 'scope_of']
