from traveler.spc.models.characteristics import Characteristic, SPCBaseline

__all__ = ["Characteristic", "SPCBaseline"]
