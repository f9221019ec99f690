"""Step control test factories (each area keeps its own in factories_<area>.py; the generic API
contract tests import this module to find the record factories)."""

# Training and calibration
from traveler.mes_full.tests.factories_training import *  # noqa: E402,F401,F403
