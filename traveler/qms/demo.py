"""Quality's demo data: each part in a file of its own, registered with ``demo_loader`` when imported."""

from traveler.qms import demo_capa, demo_maps, demo_ncr  # noqa: F401
