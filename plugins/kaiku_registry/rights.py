"""A card holder's rights in the registry: the complete export of what it holds about them and the erasure
of their card (:class:`HolderRights`, mixed into :class:`~kaiku_registry.registry.CardRegistry`).

The steps after an erasure that remove the old copies the databases and backups keep are in
:mod:`kaiku_registry.erasure`.  Nothing here sees a request.
"""

from kaiku_registry.records import ERASED_CARD, month_of
from kaiku_registry.statistics import Tally


class HolderRights:
    """Export and erasure of one holder's cards (mixed into the registry)."""

    def holder_cards(self, card):
        """The card and the cards linked to it by replacement (one holder's), oldest first."""
        first = card
        while first.replaces is not None and first.replaces in self.cards:
            first = self.cards[first.replaces]
        chain = [first]
        while chain[-1].replaced_by is not None and chain[-1].replaced_by in self.cards:
            chain.append(self.cards[chain[-1].replaced_by])
        return chain

    def erase_card(self, card):
        """Erase the card and the cards linked to it by replacement: each record, its code in the code
        index and its visits' link to it.  The visits stay as anonymous records (their card is
        :data:`ERASED_CARD`) and the statistics keep every count, the erased cards' issues and
        activations included (:meth:`erased_counts`), so no published figure changes.  Returns the
        internal ids erased.  Older revisions stay in the database until it is packed (see
        ``kaiku-registry <ini> erase-pack``)."""
        chain = self.holder_cards(card)
        replacements = {each.replaced_by for each in chain if each.replaced_by}
        for each in chain:
            issuer = self.sites.get(each.site_id)
            place = (each.municipality, issuer.region if issuer else '', each.site_id, '')
            if each.id not in replacements:
                self._keep_erased(('cards', month_of(each.valid_from), *place))
            if each.first_use is not None:
                self._keep_erased(self._activation_key(each, each.first_use))
            for visit_id in list(self.visit_ids_by_card.get(each.id, ())):
                visit = self.visits[visit_id]
                visit.card_id = ERASED_CARD
                self.visits[visit_id] = visit
            self.visit_ids_by_card.pop(each.id, None)
            if not each.closed_reason:
                self._track_expiry(each, -1)
            del self.cards[each.id]
            del self.card_ids_by_code[each.code]
            self.card_ids_by_site[each.site_id].remove(each.id)
            self.card_count.change(-1)
        return [each.id for each in chain]

    def _keep_erased(self, key):
        if self.erased_tally is None:
            self.erased_tally = Tally()
        self.erased_tally.add(key, 1)

    def erased_counts(self):
        """``(key, count)`` of the statistics counts whose cards were erased (keys as
        :meth:`~kaiku_registry.statistics.Statistics._count` takes them), for the registry's check."""
        return self.erased_tally.items() if self.erased_tally is not None else ()

    def card_export(self, card):
        """Everything the registry holds about the card's holder, for a data subject's request: the
        card and the cards linked to it by replacement, each with its visits (date, venue site, its
        municipality, sector, tickets and event)."""
        cards = []
        for each in self.holder_cards(card):
            record = each.export()
            issuer = self.sites.get(each.site_id)
            record['issuing_site_name'] = issuer.name if issuer else ''
            record['replaced_by'] = each.replaced_by
            visits = [self.visits.get(visit_id) for visit_id in self.visit_ids_by_card.get(each.id, ())]
            visits = sorted((v for v in visits if v is not None), key=lambda v: (v.date, v.recorded_at))
            record['visits'] = [self._visit_export(visit) for visit in visits]
            cards.append(record)
        return {'cards': cards}

    def _visit_export(self, visit):
        site = self.sites.get(visit.site_id)
        return {
            'id': visit.id,
            'date': visit.date.isoformat(),
            'site': visit.site_id,
            'site_name': site.name if site else '',
            'municipality': site.municipality if site else '',
            'sector': visit.sector,
            'adult_tickets': visit.adults,
            'child_tickets': visit.children,
            'assistant': visit.assistant,
            'course': visit.course,
            'event': visit.event,
            'undone': visit.undone,
        }
