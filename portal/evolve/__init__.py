"""Schema evolution: numbered steps that bring an existing database up to what the code expects.

Each step is a module of this package named ``stepNNNN_what_it_does`` with a function
``evolve(root, registry)`` and a docstring whose first line says what it does.  The database remembers the
number of the last step it went through (its *generation*) in the ZODB root under :data:`GENERATION_KEY`.
:func:`evolve` runs the steps above that number in order, each in a transaction of its own with the step's
first docstring line as the transaction note, and moves the generation in the same transaction, so a
crash between two steps leaves a database that resumes at the next one.  Two processes starting at once
may both try a step: the second one's commit conflicts, is retried, and then finds the step done.

A new database starts at the latest generation: :func:`portal.appmaker` marks it so when it creates the
site, because the code that made it already has every step's shape.

Steps run when the application starts (:func:`portal.ensure_site`) and by ``portal-evolve <ini>``.  A
step must be safe to run on any database of the generation before it, must not lose data, and must not
import view code.  Never renumber or remove a released step; add a new one.
"""

import importlib
import logging
import pkgutil
import re

import transaction

log = logging.getLogger(__name__)

GENERATION_KEY = 'evolve_generation'
STEP_RE = re.compile(r'^step(\d{4})_\w+$')


def steps():
    """The step modules as ``[(number, module), ...]`` in order."""
    found = []
    for info in pkgutil.iter_modules(__path__):
        match = STEP_RE.match(info.name)
        if match:
            found.append((int(match.group(1)), importlib.import_module(f'{__name__}.{info.name}')))
    found.sort(key=lambda pair: pair[0])
    numbers = [number for number, _ in found]
    if numbers != list(range(1, len(numbers) + 1)):
        raise RuntimeError(f'evolve steps must be numbered 1, 2, 3, ... without gaps: {numbers}')
    return found


def latest_generation():
    return len(steps())


def generation(zodb_root):
    """The generation a database is at; a database from before evolve steps existed is at 0."""
    return zodb_root.get(GENERATION_KEY, 0)


def mark_current(zodb_root):
    """Record that a database made by this code needs no step (called when a new site is created)."""
    zodb_root[GENERATION_KEY] = latest_generation()


def note(module):
    doc = (module.__doc__ or module.__name__).strip().splitlines()[0]
    return f'evolve step {module.__name__.rsplit(".", 1)[-1]}: {doc}'


def evolve(db, registry, attempts=5):
    """Run every step the database ``db`` has not had yet; return the numbers of the steps run."""
    done = []
    tm = transaction.TransactionManager(explicit=True)
    for number, module in steps():
        for attempt in tm.attempts(attempts):
            conn = None
            try:
                with attempt:
                    conn = db.open(transaction_manager=tm)
                    root = conn.root()
                    ran = generation(root) < number
                    if ran:
                        module.evolve(root, registry)
                        root[GENERATION_KEY] = number
                        tm.get().note(note(module))
            finally:
                if conn is not None:
                    conn.close()
        if ran:
            log.info('%s done', note(module))
            done.append(number)
    return done
