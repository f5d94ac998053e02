"""Card stock: codes printed ahead on cards, in batches, handed to issuing sites (:class:`CardStock`, mixed
into :class:`~kaiku_registry.registry.CardRegistry`).

Cards are printed centrally and handed out by issuers.  A national administrator, or the coordinator of an
area, makes a :class:`StockBatch` of new registry codes (each with its check character; the print house
gets them as a spreadsheet, or prints the sheets of signed QR codes), and allocates the batch to an
issuing site.  A code of the stock is no card: the door answers "not registered" for it until the site
issues a card with it (:meth:`CardStock.issue_stock_card`), on the day the card is given or, for a card
given on the network's paper form while the registry could not be reached, afterwards with the day it was
given (at most :data:`~kaiku_registry.records.LATE_ENTRY` back).  A code's state is derived: *issued* when
a card has it (or had it: the mark stays when retention deletes the card), *spoiled* or *lost* when staff
marked it so, *unused* otherwise.

The stock keeps three trees of its own: the batches by id, the batch of each code, and the marks.  Nothing
here sees a request.
"""

from BTrees.LOBTree import LOBTree
from BTrees.OLBTree import OLBTree
from BTrees.OOBTree import OOBTree
from persistent import Persistent

from kaiku_registry import codes
from kaiku_registry.cards import late_day_check
from kaiku_registry.i18n import _
from kaiku_registry.records import RuleError, in_area

#: The states of a code of the stock, in the order they are shown.
STOCK_STATES = ('unused', 'issued', 'spoiled', 'lost')
#: What staff may mark a code of the stock that has not been issued.
STOCK_MARKS = ('spoiled', 'lost')
#: Why a code marked spoiled or lost cannot be issued.
MARKED_ERRORS = {
    'spoiled': _('This code has been marked spoiled.'),
    'lost': _('This code has been marked lost.'),
}
#: The most codes one batch holds (a print run of a few sheets to a box of cards).
MAX_BATCH = 1000


class StockBatch(Persistent):
    """A print run of card codes: made on ``created`` for ``area`` (a coordinator's ``(kind, name)``,
    None when made nationally), allocated to an issuing site (``site_id``) or not yet."""

    site_id = None
    allocated_on = None

    def __init__(self, id, created, area, codes):
        self.id = id
        self.created = created
        self.area = area
        self.codes = tuple(codes)

    @property
    def size(self):
        return len(self.codes)


class CardStock:
    """The registry's card stock (see the module docstring)."""

    #: batch id → :class:`StockBatch`
    stock_batches = None
    #: code → batch id
    stock_codes = None
    #: code → 'spoiled' | 'lost' | 'issued'
    stock_marks = None

    def _make_stock(self):
        self.stock_batches = LOBTree()
        self.stock_codes = OLBTree()
        self.stock_marks = OOBTree()

    def new_batch(self, size, today, area=None):
        """A batch of ``size`` new codes, none of them a card's or another batch's."""
        if not isinstance(size, int) or not 1 <= size <= MAX_BATCH:
            raise RuleError('bad_size', _('A batch holds 1 to ${n} codes.', mapping={'n': MAX_BATCH}))
        batch = StockBatch(self._new_id(self.stock_batches), today, area, ())
        made = []
        taken = set()
        while len(made) < size:
            code = self._new_code()
            if code not in self.stock_codes and code not in taken:
                taken.add(code)
                made.append(code)
        batch.codes = tuple(made)
        self.stock_batches[batch.id] = batch
        for code in made:
            self.stock_codes[code] = batch.id
        return batch

    def stock_batch(self, batch_id):
        """The batch with ``batch_id``, or None."""
        return self.stock_batches.get(batch_id)

    def batches_in(self, area):
        """The batches a coordinator of ``area`` looks after (made for the area, or allocated to a site
        in it), newest first; every batch for ``area`` None (a national administrator)."""
        found = []
        for batch in self.stock_batches.values():
            site = self.sites.get(batch.site_id) if batch.site_id is not None else None
            if area is None or batch.area == area or (site is not None and in_area(area, site.municipality)):
                found.append(batch)
        return sorted(found, key=lambda batch: (batch.created, batch.id), reverse=True)

    def batches_of_site(self, site):
        """The batches allocated to ``site``, newest first."""
        found = [batch for batch in self.stock_batches.values() if batch.site_id == site.id]
        return sorted(found, key=lambda batch: (batch.created, batch.id), reverse=True)

    def allocate_batch(self, batch, site, today, area=None):
        """Hand ``batch`` to the issuing ``site`` (which must lie in ``area`` when one is given, and in
        the batch's own area).  A batch from which cards have been issued stays where it is."""
        if site.kind != 'issuer' or not site.active:
            raise RuleError('not_issuer', _('A batch goes to an active issuing site.'))
        for must in (area, batch.area):
            if must is not None and not in_area(must, site.municipality):
                raise RuleError('other_area', _('The site lies outside the area of the batch.'))
        if batch.site_id not in (None, site.id) and self.stock_counts(batch)['issued']:
            raise RuleError('batch_in_use', _('Cards have been issued from this batch already.'))
        batch.site_id = site.id
        batch.allocated_on = today
        return batch

    def stock_state(self, code):
        """The state of a code of the stock (see :data:`STOCK_STATES`), None for any other code."""
        if code not in self.stock_codes:
            return None
        if code in self.card_ids_by_code:
            return 'issued'
        return self.stock_marks.get(code, 'unused')  # 'issued' stays when retention deleted the card

    def stock_rows(self, batch):
        """``(code, state)`` of every code of ``batch``, in print order."""
        return [(code, self.stock_state(code)) for code in batch.codes]

    def stock_counts(self, batch):
        """``{state: how many codes of the batch}`` for every state of :data:`STOCK_STATES`."""
        counts = dict.fromkeys(STOCK_STATES, 0)
        for _code, state in self.stock_rows(batch):
            counts[state] += 1
        return counts

    def mark_stock_code(self, code, mark, site=None):
        """Mark an unused code of the stock spoiled or lost (staff of ``site`` only its own batches')."""
        if mark not in STOCK_MARKS:
            raise RuleError('bad_mark', _('A code is marked spoiled or lost.'))
        batch = self._stock_batch_of(code, site)
        if self.stock_state(code) == 'issued':
            raise RuleError('code_issued', _('A card has been issued with this code.'))
        self.stock_marks[code] = mark
        return batch

    def _stock_batch_of(self, code, site):
        batch_id = self.stock_codes.get(code) if code else None
        batch = self.stock_batches.get(batch_id) if batch_id is not None else None
        if batch is None or (site is not None and batch.site_id != site.id):
            raise RuleError('not_in_stock', _('This code is not in the card stock of your site.'))
        return batch

    def issue_stock_card(self, site, code, issued_on, today, **holder):
        """Register the card that carries the pre-printed ``code`` of ``site``'s stock, given on
        ``issued_on`` (today, or a day of the last :data:`~kaiku_registry.records.LATE_ENTRY` for a card
        given on the paper form); its validity counts from that day.  ``holder`` is what
        :meth:`~kaiku_registry.cards.CardLife.issue_card` takes."""
        if not codes.is_valid(code):
            raise RuleError('bad_code', _('This is not a card code.'))
        late_day_check(issued_on, today)
        self._stock_batch_of(code, site)
        state = self.stock_state(code)
        if state == 'issued':
            raise RuleError('code_issued', _('A card has been issued with this code already.'))
        if state in STOCK_MARKS:
            raise RuleError(f'code_{state}', MARKED_ERRORS[state])
        card = self.issue_card(site, issued_on, code=code, **holder)
        # Kept apart from the card, so that a code whose card retention or erasure deletes is never
        # issued again.
        self.stock_marks[code] = 'issued'
        return card
