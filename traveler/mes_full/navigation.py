from traveler.core.registry import MenuItem, add_menu_item, declare_menu_section

declare_menu_section("Step control", 25)

add_menu_item(MenuItem("mes_full", "Inspect a part", "mes_full:inspect", "mes_full.inspect_part", "Step control", 10,
                       "check"))

# Training and calibration
add_menu_item(MenuItem("mes_full", "Training matrix", "mes_full:training-matrix", "mes_full.view_trainingrecord",
                       "Step control", 60, "users"))
add_menu_item(MenuItem("mes_full", "Calibration schedule", "mes_full:calibration-schedule",
                       "mes_full.view_calibrationrecord", "Step control", 70, "check"))
# Lot acceptance and rollbacks.
from traveler.core.registry import MenuItem, add_menu_item  # noqa: E402

add_menu_item(MenuItem("mes_full", "Lot inspections", "mes_full:lotinspection-list", "mes_full.view_lotinspection",
                       "Step control", 40, "sampling"))
add_menu_item(MenuItem("mes_full", "Z1.4 switching", "mes_full:z14switchingstate-list", "mes_full.view_lotinspection",
                       "Step control", 41, "sampling"))
add_menu_item(MenuItem("mes_full", "Rollbacks", "mes_full:steprollback-list", "mes_full.view_steprollback",
                       "Step control", 60, ""))

# First-piece inspection and overrides
from traveler.core.registry import MenuItem, add_menu_item  # noqa: E402

add_menu_item(MenuItem("mes_full", "First-piece inspections", "mes_full:fpi-board", "mes_full.view_fpirecord",
                       "Step control", 40, "check"))
add_menu_item(MenuItem("mes_full", "Overrides", "mes_full:override-inbox", "mes_full.view_stepoverride",
                       "Step control", 45, "alert"))

# Per-part sampling.
from traveler.core.registry import MenuItem, add_menu_item  # noqa: E402

add_menu_item(MenuItem("mes_full", "Sampling rule sets", "mes_full:samplingruleset-list", "mes_full.view_samplingruleset",
                       "Step control", 30, "sampling"))

# A part's sampling decisions, on its page (kept here with the module's other additions to pages).
from traveler.core.registry import Panel, add_panel  # noqa: E402


def _part_sampling(request, part) -> str:
    from traveler.mes_full.ui.sampling import part_panel

    return part_panel(request, part)


add_panel(Panel("mes_full", "mes_lite.part.detail", "Sampling", _part_sampling,
                permission="mes_full.view_samplingruleset", order=45))
