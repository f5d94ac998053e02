"""Schema evolution: named steps that bring an existing database up to what the code expects.

A step is declared with the Configurator directive ``config.add_evolve_step(name, func, after=...,
needs=...)``, as Substance D declares its evolution steps: ``func(root, registry)`` gets the ZODB root and
the application registry, and its docstring's first line says what it does.  The declaration is a
configuration action with the discriminator ``('portal.evolve_step', name)``, so two steps of one name fail
at start-up with a ``ConfigurationConflictError``, and every step shows in the introspector.  The portal
declares its own steps in :func:`includeme`; a plugin declares its own the same way, named after itself
(``kaiku_registry.…``).

Steps run in the order their ``after`` (ordering only: a step named there runs first when it is declared)
and ``needs`` (a step that must be declared and run first) give; otherwise in the order declared.  The
database remembers the names of the steps it went through in the ZODB root under :data:`DONE_KEY`.
Databases from before steps had names remember a number instead (:data:`GENERATION_KEY`): the portal's
first steps keep their place as :data:`NUMBERED_STEPS`, so such a database never runs them again.

:func:`evolve` runs the steps a database has not had, each in a transaction of its own with the step's
first docstring line as the transaction note, and records the step in the same transaction, so a crash
between two steps leaves a database that resumes at the next one.  Two processes starting at once may
both try a step: the second one's commit conflicts, is retried, and then finds the step done.  A new
database is marked as having had every declared step (:func:`mark_current`), because the code that made
it already has every step's shape.

Steps run when the application starts (:func:`portal.ensure_site`) and by ``portal-evolve <ini>``.  A step
must be safe to run on any database that has had the steps before it, must not lose data, and must not
import view code.  Never rename or remove a released step; add a new one.
"""

import logging
from dataclasses import dataclass

import transaction
from BTrees.OOBTree import OOTreeSet
from pyramid.exceptions import ConfigurationError
from pyramid.threadlocal import manager
from pyramid.util import TopologicalSorter

log = logging.getLogger(__name__)

#: Where a database remembers the names of the steps it went through.
DONE_KEY = 'evolve_done'
#: Where a database from before named steps remembers how many of the numbered steps it went through.
GENERATION_KEY = 'evolve_generation'
#: The portal's steps that were numbered modules, in their numbers' order: a database at generation N
#: has had the first N.
NUMBERED_STEPS = (
    'portal.step0001_item_attributes',
    'portal.step0002_catalog',
    'portal.step0003_catalog_public',
    'portal.step0004_workspaces',
)


@dataclass(frozen=True)
class EvolveStep:
    name: str
    func: object
    title: str
    after: tuple = ()
    needs: tuple = ()


def add_evolve_step(config, name, func, title=None, after=(), needs=()):
    """Configurator directive: declare the evolve step ``name`` (see the module docstring)."""
    func = config.maybe_dotted(func)
    after, needs = (after,) if isinstance(after, str) else tuple(after), tuple(needs)
    title = title or ((func.__doc__ or name).strip().splitlines() or [name])[0]
    step = EvolveStep(name, func, title, after, needs)
    intr = config.introspectable('evolve steps', name, name, 'evolve step')
    intr['title'] = title
    intr['after'] = after
    intr['needs'] = needs

    def register():
        config.registry.evolve_steps[name] = step

    config.action(('portal.evolve_step', name), register, introspectables=(intr,))


def steps(registry):
    """The declared steps in the order they run."""
    declared = getattr(registry, 'evolve_steps', {})
    sorter = TopologicalSorter(default_before=None, default_after=None)
    for step in declared.values():
        missing = [name for name in step.needs if name not in declared]
        if missing:
            raise ConfigurationError(f'evolve step {step.name} needs undeclared steps: {", ".join(missing)}')
        after = [name for name in step.after + step.needs if name in declared]
        sorter.add(step.name, step, after=after or None)
    return [step for _name, step in sorter.sorted()]


def check_steps(registry):
    """Fail at start-up when the steps cannot be ordered or one needs a step nobody declared."""
    steps(registry)


def done_steps(zodb_root):
    """The names of the steps a database has had: the numbered ones up to its generation, and the
    named ones it recorded."""
    done = {name for name in zodb_root.get(DONE_KEY, ()) if name not in NUMBERED_STEPS}
    done.update(NUMBERED_STEPS[: zodb_root.get(GENERATION_KEY, 0)])
    return done


def pending(zodb_root, registry):
    """The declared steps a database has not had, in the order they run."""
    done = done_steps(zodb_root)
    return [step for step in steps(registry) if step.name not in done]


def _record(zodb_root, name):
    if name in NUMBERED_STEPS:  # their record stays the generation, as older code reads it
        number = NUMBERED_STEPS.index(name) + 1
        zodb_root[GENERATION_KEY] = max(number, zodb_root.get(GENERATION_KEY, 0))
        return
    done = zodb_root.get(DONE_KEY)
    if done is None:
        done = zodb_root[DONE_KEY] = OOTreeSet()
    done.add(name)


def mark_current(zodb_root, registry=None):
    """Record that a database made by this code needs no step (called when a new site is created)."""
    from pyramid.threadlocal import get_current_registry

    registry = registry if registry is not None else get_current_registry()
    for step in steps(registry):
        _record(zodb_root, step.name)


def note(step):
    return f'evolve step {step.name}: {step.title}'


def evolve(db, registry, attempts=5):
    """Run every declared step the database ``db`` has not had yet; return the names of the steps run.
    ``registry`` is the current registry while the steps run, so that what they index finds its views."""
    done = []
    tm = transaction.TransactionManager(explicit=True)
    manager.push({'registry': registry, 'request': None})
    try:
        for step in steps(registry):
            for attempt in tm.attempts(attempts):
                conn = None
                try:
                    with attempt:
                        conn = db.open(transaction_manager=tm)
                        root = conn.root()
                        ran = step.name not in done_steps(root)
                        if ran:
                            step.func(root, registry)
                            _record(root, step.name)
                            tm.get().note(note(step))
                finally:
                    if conn is not None:
                        conn.close()
            if ran:
                log.info('%s done', note(step))
                done.append(step.name)
    finally:
        manager.pop()
    return done


def includeme(config):
    from portal.evolve import (
        step0001_item_attributes,
        step0002_catalog,
        step0003_catalog_public,
        step0004_workspaces,
        step0005_session_trees,
        step0006_local_roles_in_search,
        step0007_search_language,
    )

    if not hasattr(config.registry, 'evolve_steps'):
        config.registry.evolve_steps = {}
        config.add_directive('add_evolve_step', add_evolve_step)
        # After every part has declared its steps: a step that needs an undeclared one fails the start.
        config.action(None, lambda: check_steps(config.registry), order=10_000)
    previous = ()
    for name, module in zip(
        NUMBERED_STEPS,
        (step0001_item_attributes, step0002_catalog, step0003_catalog_public, step0004_workspaces),
        strict=True,
    ):
        config.add_evolve_step(name, module.evolve, title=note_of(module), after=previous)
        previous = (name,)
    # Steps added since are known by their names only (a database records each in DONE_KEY).
    for module in (step0005_session_trees, step0006_local_roles_in_search, step0007_search_language):
        name = f'portal.{module.__name__.rpartition(".")[2]}'
        config.add_evolve_step(name, module.evolve, title=note_of(module), after=previous)
        previous = (name,)


def note_of(module):
    """The first line of a step module's docstring."""
    return (module.__doc__ or module.__name__).strip().splitlines()[0]
