"""Work done when the application starts, each piece in a transaction of its own.

Creating the site, the registry, the audit log or a missing catalog index at start-up, rather than in the
first request that needs it, keeps two first requests from both creating it (one of them would fail with a
conflict).  Each piece runs on a connection of its own, committed, and again on a conflict with another
process starting at the same moment.
"""

import transaction


def in_own_transaction(db, work, attempts=3):
    """Run ``work(root)`` on a connection of ``db`` in a transaction of its own and commit it, running it
    again on a conflict up to ``attempts`` times; return what the last run of ``work`` returned."""
    tm = transaction.TransactionManager()
    conn = db.open(transaction_manager=tm)
    result = None
    try:
        for attempt in tm.attempts(attempts):
            with attempt:
                result = work(conn.root())
    finally:
        conn.close()
    return result


def note(root, text):
    """Write ``text`` into the note of the transaction that ``root``'s connection is in."""
    root._p_jar.transaction_manager.get().note(text)
