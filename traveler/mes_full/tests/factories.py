"""Step control test factories (each part of the module keeps its own in a file of its own)."""

from traveler.core.tests.factories import record_factory

# Lot acceptance and rollbacks.
from traveler.mes_full.tests import lots_factories  # noqa: E402

lots_factories.register(record_factory)
