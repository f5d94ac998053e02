"""Erasing a card (its record, its code, its visits' link to it, its replaced cards) and the data
subject's complete export, on the model; the whole erasure through the pages and the pack is in
test_registry_erasure_pack.py."""

import datetime

import pytest

TODAY = datetime.date(2026, 11, 29)
NOW = datetime.datetime(2026, 11, 29, 10, 0, tzinfo=datetime.UTC)


def _makeRegistry():
    from kaiku_registry.models import CardRegistry

    registry = CardRegistry()
    city = registry.add_partner('Tampereen kaupunki', 'municipality', 'Tampere', 'Pirkanmaa')
    issuer = registry.add_site(city, 'Sosiaalitoimi, keskusta', 'issuer')
    venue = registry.add_site(city, 'Uimahalli', 'venue')
    return registry, issuer, venue


def _tallies(registry):
    return {key: dict(tally.items()) for key, tally in registry.tallies.items()}


@pytest.fixture
def reg():
    registry, issuer, venue = _makeRegistry()
    card = registry.issue_card(issuer, TODAY, 1980, '33100', 2)
    registry.record_visit(card, venue, TODAY, 'sport', children=2, event='Uintikoulu', now=NOW)
    registry.record_visit(card, venue, TODAY, 'culture', now=NOW)
    other = registry.issue_card(issuer, TODAY, 1990, '33200', 0)
    registry.record_visit(other, venue, TODAY, 'sport', now=NOW)
    return registry, issuer, venue, card, other


def test_erasure_removes_the_card_its_code_and_its_visits_link_but_no_count(reg):
    from kaiku_registry.check import check
    from kaiku_registry.records import ERASED_CARD

    registry, issuer, _venue, card, other = reg
    before = _tallies(registry)
    visit_ids = set(registry.visit_ids_by_card[card.id])
    assert registry.erase_card(card) == [card.id]
    assert registry.card(card.id) is None
    assert registry.card_by_code(card.code) is None
    assert card.id not in registry.visit_ids_by_card
    assert card.id not in registry.card_ids_by_site[issuer.id]
    assert registry.verify(card.code, TODAY).status == 'unknown'
    assert {registry.visit(i).card_id for i in visit_ids} == {ERASED_CARD}
    assert _tallies(registry) == before
    assert registry.totals('adult_uses') == 3
    assert registry.card_count() == 1
    assert registry.open_cards(TODAY) == 1  # only the other card is still open
    assert registry.card_by_code(other.code) is other
    assert check(registry) == []


def test_an_erased_cards_visit_can_still_be_undone_at_the_door(reg):
    registry, _issuer, venue, card, _other = reg
    visit = registry.visit(next(iter(registry.visit_ids_by_card[card.id])))
    registry.erase_card(card)
    registry.undo_visit(visit, venue, now=NOW)
    assert registry.totals('adult_uses') == 2


def test_erasure_takes_the_cards_of_a_replacement_chain(reg):
    from kaiku_registry.check import check

    registry, issuer, _venue, card, other = reg
    new = registry.replace_card(card, issuer, TODAY)
    newest = registry.replace_card(new, issuer, TODAY)
    assert [each.id for each in registry.holder_cards(new)] == [card.id, new.id, newest.id]
    before = _tallies(registry)
    assert sorted(registry.erase_card(new)) == sorted([card.id, new.id, newest.id])
    assert registry.record_counts()['cards'] == 1
    assert _tallies(registry) == before
    assert check(registry) == []
    assert registry.card_by_code(other.code) is other


def test_the_export_holds_every_card_of_the_holder_and_every_visit(reg):
    registry, issuer, venue, card, _other = reg
    new = registry.replace_card(card, issuer, TODAY)
    exported = registry.card_export(new)
    assert [each['id'] for each in exported['cards']] == [card.id, new.id]
    visits = exported['cards'][0]['visits']
    assert sorted((v['date'], v['site_name'], v['sector'], v['child_tickets']) for v in visits) == [
        ('2026-11-29', 'Uimahalli', 'culture', 0),
        ('2026-11-29', 'Uimahalli', 'sport', 2),
    ]
    assert {v['event'] for v in visits} == {'Uintikoulu', ''}
    assert {v['municipality'] for v in visits} == {venue.municipality}
    assert exported['cards'][0]['replaced_by'] == new.id
    assert exported['cards'][1]['visits'] == []


def test_cards_replaced_before_the_back_link_existed_get_it_from_the_evolve_step(reg):
    from kaiku_registry import REGISTRY_NAME, link_replacements_back
    from portal import SITE_KEY

    registry, issuer, _venue, card, _other = reg
    new = registry.replace_card(card, issuer, TODAY)
    del new.replaces  # as stored by older code
    assert [each.id for each in registry.holder_cards(new)] == [new.id]
    link_replacements_back({SITE_KEY: {REGISTRY_NAME: registry}}, None)
    assert new.replaces == card.id
    assert [each.id for each in registry.holder_cards(new)] == [card.id, new.id]
