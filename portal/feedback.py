"""Feedback on the site's accessibility, which the law on digital services (306/2019) requires.

The accessibility statement links to a form (``/@@accessibility-feedback``) that anyone may send; the
messages are kept in ZODB under ``root['feedback']`` (:class:`FeedbackBox`), beside the site and not in
it, so they never appear in content dumps, searches or the content tree.  The box is created by the first
message sent, never by a page view.  The law asks for an answer within 14 days: the administrators' list
(``/@@feedback``) shows each message's age and marks those older than that and not yet answered.

Sending is limited per client address (:data:`MAX_SENDS` within :data:`SEND_WINDOW` seconds, counted in
the database and so shared by every process, with :class:`portal.security.Throttle`) so that the form
cannot be used to fill the database.
"""

import datetime
import secrets

from BTrees.Length import Length
from BTrees.LOBTree import LOBTree
from persistent import Persistent
from pyramid_zodbconn import get_connection

from portal.security import Throttle, client_network

FEEDBACK_KEY = 'feedback'
ANSWER_DAYS = 14
MAX_MESSAGE = 5000
MAX_NAME = 200
MAX_SENDS = 5
SEND_WINDOW = 600


def utcnow():
    return datetime.datetime.now(datetime.UTC)


class Feedback(Persistent):
    """One message: who sent it (both optional), what they wrote, when, and when it was answered."""

    answered = None
    answered_by = ''

    def __init__(self, key, name, email, message, sent):
        self.key = key
        self.name = name
        self.email = email
        self.message = message
        self.sent = sent

    def age_days(self, now=None):
        return ((now or utcnow()) - self.sent).days

    def overdue(self, now=None):
        """True when the message waits for an answer longer than the law allows."""
        return self.answered is None and self.age_days(now) > ANSWER_DAYS


class FeedbackBox(Persistent):
    """The messages, keyed by microseconds since the epoch (times 1,000 plus a random tail, as in the
    audit log), so the newest come first cheaply and two processes do not collide."""

    def __init__(self):
        self.messages = LOBTree()
        self.count = Length()

    def __len__(self):
        return self.count()

    def add(self, name, email, message, sent=None):
        sent = sent or utcnow()
        key = int(sent.timestamp() * 1_000_000) * 1000 + secrets.randbelow(1000)
        while key in self.messages:
            key += 1
        item = self.messages[key] = Feedback(key, name, email, message, sent)
        self.count.change(1)
        return item

    def get(self, key):
        return self.messages.get(key)

    def newest(self):
        """The messages, newest first."""
        return [self.messages[key] for key in reversed(self.messages.keys())]

    def mark_answered(self, key, by, when=None):
        """Mark the message ``key`` answered by ``by``; return it, or None when there is no such message."""
        item = self.messages.get(key)
        if item is not None and item.answered is None:
            item.answered = when or utcnow()
            item.answered_by = by or ''
        return item


def feedback_box(request, create=False):
    """The site's feedback box; created only when ``create`` (when a message is sent), else maybe None."""
    root = get_connection(request).root()
    box = root.get(FEEDBACK_KEY)
    if box is None and create:
        box = root[FEEDBACK_KEY] = FeedbackBox()
    return box


def send_limits(request):
    """The key a message sent from ``request`` counts against, with its limit."""
    return ((f'feedback:{client_network(request)}', MAX_SENDS),)


def includeme(config):
    config.registry.feedback_throttle = Throttle(config.registry, 'feedback', SEND_WINDOW)
