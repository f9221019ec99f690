"""Quality's demo data: each part in a file of its own, registered with ``demo_loader`` when imported
(in this order: the maps demo creates the defect codes the reports demo uses)."""

from traveler.qms import demo_capa, demo_maps, demo_ncr, demo_reports  # noqa: F401
