from traveler.spc.models.characteristics import Characteristic, SPCBaseline
from traveler.spc.models.signals import ReactionPlan, SPCSettings, SPCSignal

__all__ = ["Characteristic", "ReactionPlan", "SPCBaseline", "SPCSettings", "SPCSignal"]
